/* engine.c: one way to run a model for every command - the JIT (pipeline,
 * codegen, native code), the reference interpreter, or "opt": the
 * interpreter on the optimized graph (to tell pass bugs from codegen bugs). A graph the JIT cannot
 * take (shapes known only at run time, control flow, strings) runs with the
 * interpreter, and the engine says why. */
#include <stdio.h>
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
  fr_status st = fr_compile_jit(m, &e->jit, &e->compiled);
  if (st == FR_ERR_UNSUPPORTED) {
    e->interpreted = true;
    snprintf(e->why, sizeof e->why, "%s", fr_err_msg());
    return FR_OK;
  }
  if (st == FR_OK) fr_compiled_stats(e->compiled, &e->stats);
  if (st == FR_OK && po->time_passes) fr_engine_print_times(stderr, &e->stats);
  return st;
}

void fr_print_stage_times(FILE *f, const char *title, const fr_stage_time *rows,
                          int n) {
  double total = 0;
  for (int i = 0; i < n; i++) total += rows[i].ms;
  fprintf(f, "===- %s -===\n", title);
  fprintf(f, "  %10s  %6s  %s\n", "ms", "%", "stage");
  for (int i = 0; i < n; i++)
    fprintf(f, "  %10.3f  %5.1f%%  %s\n", rows[i].ms,
            total > 0 ? 100 * rows[i].ms / total : 0, rows[i].what);
  fprintf(f, "  %10.3f  100.0%%  total\n", total);
}

void fr_engine_print_times(FILE *f, const fr_compile_stats *s) {
  static const char *use[] = {"off", "miss", "hit"};
  const fr_stage_time rows[] = {
      {s->ms_target, "target machine"},
      {s->ms_codegen, "codegen (the graph's LLVM IR)"},
      {s->ms_cache, "code cache (key, lookup, load or store)"},
      {s->ms_kernels, "kernels (bitcode linked in)"},
      {s->ms_optimize, "LLVM optimization"},
      {s->ms_emit, "machine code"},
      {s->ms_shared, "shared kernel code (cache or compiled)"},
      {s->ms_jit, "JIT (object loaded and linked)"},
  };
  fr_print_stage_times(f, "JIT times", rows, (int)(sizeof rows / sizeof rows[0]));
  fprintf(f, "code cache: %s", use[s->cache]);
  if (s->cache_file[0]) fprintf(f, " (%s, %zu bytes)", s->cache_file, s->object_bytes);
  fprintf(f, "\nshared kernel code: %d functions, %d compiled\n", s->n_shared,
          s->n_shared_built);
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
