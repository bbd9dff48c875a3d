/* engine.c: one way to run a model for every command - the JIT (pipeline,
 * codegen, native code), the reference interpreter, or "opt": the
 * interpreter on the optimized graph (to tell pass bugs from codegen bugs). A graph the JIT cannot
 * take (shapes known only at run time, control flow, strings) runs with the
 * interpreter, and the engine says why. */
#include <string.h>
#include <time.h>

#include "llvm.h"

fr_status fr_engine_prepare(fr_engine *e, fr_model *m) {
  e->interpreted = false;
  e->why[0] = 0;
  if (e->name && !strcmp(e->name, "interp")) return fr_expand_gradients(m);
  fr_pipeline_opts dflt = {0};
  fr_pipeline_opts *po = e->pipe ? e->pipe : &dflt;
  po->partial = true;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  FR_TRY(fr_pipeline_run(m, po));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  e->ms_pipeline = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  if (e->name && !strcmp(e->name, "opt")) return FR_OK; /* passes only */
  fr_status st = fr_compile_jit(m, e->cpu, e->specialize, &e->compiled);
  if (st == FR_ERR_UNSUPPORTED) {
    e->interpreted = true;
    snprintf(e->why, sizeof e->why, "%s", fr_err_msg());
    return FR_OK;
  }
  if (st == FR_OK) fr_compiled_stats(e->compiled, &e->stats);
  return st;
}

fr_status fr_engine_run(fr_engine *e, fr_model *m, fr_tensor *const *in,
                        fr_tensor *out) {
  if (!e->compiled) return fr_run_model(m, in, out);
  FR_TRY(fr_check_inputs(m, in));
  return fr_compiled_run(e->compiled, in, out);
}

void fr_engine_free(fr_engine *e) {
  fr_compiled_free(e->compiled);
  e->compiled = NULL;
}
