/* layout_params.c: the last pass: every parameter of the main graph gets
 * its place in the frozen or the trainable block (ir/layout.c), which the
 * interpreter, the JIT and artifacts share. `frost dump --stage optimized`
 * prints the blocks. */
#include "passes.h"

fr_status fr_pass_layout_params(fr_model *m, const fr_pipeline_opts *o) {
  return fr_graph_layout(m->graph, o->state_slots);
}
