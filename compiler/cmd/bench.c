/* bench.c: `frost bench`, a model compiled once and timed over N runs on
 * seeded random inputs. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* A seeded random tensor of v's type: floats uniform in [-1, 1], integers
 * in [0, 4), booleans. */
static fr_status random_input(const fr_value *v, uint64_t *seed, fr_tensor *t) {
  *t = v->t;
  t->data = NULL;
  if (t->kind != FR_KIND_TENSOR || t->rank < 0 || t->dtype == FR_STRING)
    return fr_err(FR_ERR_UNSUPPORTED, "input '%s': cannot make a random %s",
                  v->name, fr_dtype_name(t->dtype));
  FR_TRY(fr_tensor_alloc(t));
  fr_tensor_fill_random(t, seed);
  return FR_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int fr_cmd_bench(fr_cli *c) {
  int iters = c->iters ? c->iters : 100;
  fr_model *m;
  double t0 = fr_now_ms();
  if (fr_cli_load(c, &m, false) != FR_OK) return fr_cli_fail();
  const fr_graph *g = m->graph;
  fr_tensor in[FR_CLI_MAX_ARGS] = {0}, *inp[FR_CLI_MAX_ARGS];
  fr_tensor *out = fr_calloc((size_t)g->n_outputs + 1, sizeof *out);
  fr_status st = out ? FR_OK : fr_err_nomem(NULL);
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  if (g->n_inputs > FR_CLI_MAX_ARGS) st = fr_err(FR_ERR_UNSUPPORTED, "too many inputs");
  for (int i = 0; i < g->n_inputs && st == FR_OK; i++) {
    st = random_input(g->inputs[i], &seed, &in[i]);
    inp[i] = &in[i];
  }
  fr_engine e = {.name = c->engine, .pipe = &c->pipe,
                  .jit = c->jit};
  if (st == FR_OK) st = fr_engine_prepare(&e, m);
  double t1 = fr_now_ms();
  double *times = fr_calloc((size_t)iters, sizeof(double));
  if (st == FR_OK && !times) st = fr_err_nomem(NULL);
  if (st == FR_OK) {
    printf("model: %s\n", c->model);
    printf("engine: %s%s%s, %d thread%s\n",
           e.interpreted ? "interp (the JIT declined: " : c->engine,
           e.interpreted ? e.why : "", e.interpreted ? ")" : "", fr_k_threads(),
           fr_k_threads() > 1 ? "s" : "");
    if (e.compiled) {
      const fr_compile_stats *s = &e.stats;
      double llvm = s->ms_target + s->ms_codegen + s->ms_cache + s->ms_kernels +
                    s->ms_optimize + s->ms_emit + s->ms_shared + s->ms_jit;
      static const char *use[] = {"off", "miss", "hit"};
      printf("compile: %.1f ms (load and passes %.1f, target %.1f, codegen %.1f, code cache %s "
             "%.1f, kernels %.1f, optimization %.1f, machine code %.1f, shared kernel "
             "code %.1f (%d, %d compiled), JIT %.1f); "
             "nodes: %d kernel calls, %d interpreter calls, %d views; "
             "activations %zu bytes\n",
             t1 - t0, t1 - t0 - llvm, s->ms_target, s->ms_codegen, use[s->cache], s->ms_cache,
             s->ms_kernels, s->ms_optimize, s->ms_emit, s->ms_shared, s->n_shared,
             s->n_shared_built, s->ms_jit, s->n_native,
             s->n_fallback, s->n_skipped, s->arena_bytes);
    }
    else
      printf("compile: %.1f ms (load)\n", t1 - t0);
  }
  /* Warm-up, then the timed runs. */
  for (int w = 0; w < 3 && st == FR_OK; w++) {
    st = fr_engine_run(&e, m, inp, out);
    for (int i = 0; i < g->n_outputs; i++) fr_tensor_release(&out[i]);
  }
  for (int it = 0; it < iters && st == FR_OK; it++) {
    double a = fr_now_ms();
    st = fr_engine_run(&e, m, inp, out);
    times[it] = fr_now_ms() - a;
    for (int i = 0; i < g->n_outputs; i++) fr_tensor_release(&out[i]);
  }
  if (st == FR_OK && c->jit.profile) fr_cli_print_profile(&e, m, "the model");
  if (st == FR_OK) {
    qsort(times, (size_t)iters, sizeof(double), cmp_double);
    printf("runs: %d, min %.3f ms, median %.3f ms\n", iters, times[0],
           times[iters / 2]);
    printf("median_ms=%.4f\n", times[iters / 2]);
  } else {
    fr_err_prefix(c->model);
  }
  fr_free(times);
  fr_engine_free(&e);
  for (int i = 0; i < g->n_inputs; i++) fr_tensor_release(&in[i]);
  fr_free(out);
  fr_model_free(m);
  return st == FR_OK ? 0 : fr_cli_fail();
}

