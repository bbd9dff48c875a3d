/* main.c: the frost command: frost COMMAND [options], one file of cmd/
 * per command (cmd/help.c lists them with their options and prints the
 * help: frost help [COMMAND], frost COMMAND --help, frost --version).
 *
 * Every failure prints one line "frost: error: ..." and exits 1. Options are
 * parsed and models loaded in cmd/cli.c. */
#include <string.h>

#include "cmd/cmd.h"

static int frost_main(int argc, char **argv) {
  static fr_cli c;
  c.conf.timeout_s = 20;
  c.max_memory = (int64_t)4 << 30;
  c.rtol = 1e-3;
  c.atol = 1e-5;
  c.pipe.freeze = &c.freeze; /* the pipeline's first pass applies them */
  c.train = (fr_train_opts){.optimizer = "adamw", .lr = 1e-3, .lr_backbone = -1,
                            .weight_decay = 0.01, .beta1 = 0.9, .beta2 = 0.999,
                            .eps = 1e-8, .schedule = "constant", .gamma = 0.1,
                            .step_epochs = 10, .epochs = 10, .batch = 32, .temperature = 0.1,
                            .frontend_scale = {1, 0}};
  if (argc < 2 || fr_cli_is_help(argv[1])) {
    fr_cli_help(argc < 2 ? stderr : stdout, NULL);
    return argc < 2;
  }
  if (!strcmp(argv[1], "help")) {
    if (argc > 3) {
      fr_err(FR_ERR_USAGE, "frost help takes one command, not '%s'", argv[3]);
      return fr_cli_fail();
    }
    return fr_cli_help(stdout, argc > 2 ? argv[2] : NULL);
  }
  if (!strcmp(argv[1], "--version")) {
    fr_cli_version(stdout);
    return 0;
  }
  const char *cmd = argv[1];
  if (fr_cli_command(cmd) < 0) {
    fr_cli_unknown_command(cmd);
    return fr_cli_fail();
  }
  for (int i = 2; i < argc; i++)
    if (fr_cli_is_help(argv[i])) return fr_cli_help(stdout, cmd);
  bool want_model = strcmp(cmd, "conformance") != 0;
  if (fr_cli_parse(argc, argv, &c, want_model) != FR_OK) return fr_cli_fail();
  fr_mem_set_limit((size_t)c.max_memory);
  int rc;
  if (!strcmp(cmd, "dump")) rc = fr_cmd_dump(&c);
  else if (!strcmp(cmd, "run")) rc = fr_cmd_run(&c);
  else if (!strcmp(cmd, "conformance")) rc = fr_cmd_conformance(&c);
  else if (!strcmp(cmd, "compare")) rc = fr_cmd_compare(&c);
  else if (!strcmp(cmd, "bench")) rc = fr_cmd_bench(&c);
  else if (!strcmp(cmd, "compile")) rc = fr_cmd_compile(&c);
  else if (!strcmp(cmd, "train")) rc = fr_cmd_train(&c);
  else if (!strcmp(cmd, "eval")) rc = fr_cmd_eval(&c);
  else if (!strcmp(cmd, "fewshot")) rc = fr_cmd_fewshot(&c);
  else if (!strcmp(cmd, "cluster")) rc = fr_cmd_cluster(&c);
  else if (!strcmp(cmd, "adapt-bn")) rc = fr_cmd_adapt_bn(&c);
  else if (!strcmp(cmd, "extract")) rc = fr_cmd_extract(&c);
  else {
    fr_err(FR_ERR_USAGE, "unknown command '%s' (see frost --help)", cmd);
    rc = fr_cli_fail();
  }
  return rc;
}

/* Under mpirun every rank runs the command (cmd/dist.c): train and
 * extract share the work, the job's status is agreed at the end. */
int main(int argc, char **argv) {
  if (fr_dist_init(&argc, &argv) != FR_OK) return fr_cli_fail();
  return fr_dist_finish(frost_main(argc, argv));
}
