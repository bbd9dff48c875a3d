/* dump.c: `frost dump`, the IR as text (with what its marks mean) or DOT,
 * at the imported or the optimized stage, or around the passes
 * (--print-after/--print-before, --time-passes). */
#include <string.h>

#include "cmd.h"

int fr_cmd_dump(fr_cli *c) {
  fr_model *m;
  /* The training graph: built as frost train builds it (train.c). */
  if (c->stage && !strcmp(c->stage, "train")) return fr_cmd_train(c);
  bool opt = c->stage && !strcmp(c->stage, "optimized");
  bool passes = opt || c->pipe.print_after || c->pipe.print_before ||
                c->pipe.time_passes;
  if (fr_cli_load_stage(c, &m, false, passes, true) != FR_OK)
    return fr_cli_fail();
  if (c->dot) {
    fr_print_dot(stdout, m->graph);
  } else {
    fr_cli_print_ir(c, m);
  }
  fr_model_free(m);
  return 0;
}

