/* main.c: the frost command.
 *
 *   frost dump [--dot] [--shape NAME=DIMS]... MODEL
 *   frost run MODEL --input NAME=FILE... [--output-dir DIR] [--engine E]
 *   frost bench MODEL [--shape NAME=DIMS]... [--iters N] [--threads T]
 *   (every command also takes --max-memory BYTES, default 4G)
 *   frost compile MODEL [-o OUT] [--emit exe|shared|obj|llvm|asm] [--name C]
 *                 [--target-cpu CPU] [--shape NAME=DIMS]...
 *   frost conformance [DIR] [--engine E] [-v] [--filter S]
 *                     [--expect FILE] [--only FILE] [--write-passing FILE]
 *                     [--expect-native FILE] [--write-native FILE]
 *
 * Every failure prints one line "frost: error: ..." and exits 1. Options are
 * parsed and models loaded in cmd/cli.c; each command is a file of cmd/. */
#include <string.h>

#include "cmd/cmd.h"

#define USAGE                                                                 \
  "usage: frost <command> [options]\n"                                        \
  "commands:\n"                                                               \
  "  dump MODEL [--dot] [--shape NAME=DIMS]... [--stage imported|optimized]\n" \
  "      [--print-after PASS|all] [--print-before PASS|all] [--time-passes]\n" \
  "                                              print the IR\n"              \
  "  run MODEL --input NAME=FILE.npy|.pb... [--output-dir DIR]\n"             \
  "      [--engine jit|interp] [--shape NAME=DIMS]...  run a model\n"       \
  "  bench MODEL [--shape NAME=DIMS]... [--iters N] [--threads T] [--engine E]\n" \
  "                                  compile once, time N runs on random inputs\n" \
  "  conformance [DIR] [--engine jit|interp] [-v] [--filter S] [--expect FILE]\n" \
  "      [--only FILE] [--write-passing FILE] [--timeout S]\n"               \
  "      [--expect-native FILE] [--write-native FILE]  (jit: compiled tests)\n" \
  "                                              ONNX backend tests\n"       \
  "  compile MODEL [-o OUT] [--emit exe|shared|obj|llvm|asm] [--name C]\n"    \
  "      [--target-cpu CPU] [--shape NAME=DIMS]...   a native artifact\n"     \
  "  compare GOT.npy WANT.npy [--rtol R] [--atol A]   compare two tensors\n"  \
  "  train MODEL DATA [-o OUT.onnx] [--head linear:N|mlp:H,..,N] [--cut VALUE]\n" \
  "      [--loss ce|bce|mse] [--optimizer sgd|adam|adamw] [--lr F] [--epochs N]\n" \
  "      [--batch N] [--val DIR | --val-split F] [--engine jit|interp] ...\n" \
  "                       train the unfrozen layers (docs/user-guide.md)\n"  \
  "  eval MODEL DATA [--batch N] [--json FILE]  accuracy, per-class recall,\n" \
  "                       confusion matrix of a classifier on a data set\n" \
  "freeze options (every command taking a model):\n"                         \
  "  --train-from NAME[,NAME]  unfreeze everything downstream of a value or node\n" \
  "  --trainable REGEX         parameters matching REGEX become trainable\n"    \
  "  --frozen REGEX            parameters matching REGEX become frozen\n" \
  "options of every command:\n"                                                \
  "  --max-memory BYTES   memory cap, e.g. 512M or 16G (default 4G, 0: none)\n"

int main(int argc, char **argv) {
  static fr_cli c;
  c.conf.timeout_s = 20;
  c.max_memory = (int64_t)4 << 30;
  c.rtol = 1e-3;
  c.atol = 1e-5;
  c.pipe.freeze = &c.freeze; /* the pipeline's first pass applies them */
  c.train = (fr_train_opts){.optimizer = "adamw", .lr = 1e-3, .lr_backbone = -1,
                            .weight_decay = 0.01, .beta1 = 0.9, .beta2 = 0.999,
                            .eps = 1e-8, .schedule = "constant", .gamma = 0.1,
                            .step_epochs = 10, .epochs = 10, .batch = 32,
                            .frontend_scale = {1, 0}};
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
      !strcmp(argv[1], "help")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2;
  }
  const char *cmd = argv[1];
  static const char *const cmds[] = {"dump", "run", "bench", "conformance",
                                     "compare", "compile", "train", "eval",
                                     "fewshot", "cluster", "adapt-bn"};
  bool known = false;
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (!strcmp(cmd, cmds[i])) known = true;
  if (!known) {
    fr_err(FR_ERR_USAGE, "unknown command '%s' (see frost --help)", cmd);
    return fr_cli_fail();
  }
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
  else {
    fr_err(FR_ERR_USAGE, "unknown command '%s' (see frost --help)", cmd);
    rc = fr_cli_fail();
  }
  return rc;
}
