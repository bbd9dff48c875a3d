/* compile.c: `frost compile`, a model through the pipeline into a native
 * artifact (llvm/aot.c). */
#include <string.h>

#include "cmd.h"

/* frost compile: the pipeline, then an artifact (compiler/aot.c). */
int fr_cmd_compile(fr_cli *c) {
  fr_aot_opts o = {.cpu = c->cpu, .prefix = c->name, .model_name = c->model};
  if (c->emit && fr_aot_parse_emit(c->emit, &o.emit) != FR_OK) return fr_cli_fail();
  /* Default: the model's file name without .onnx, in the current folder. */
  char dflt[1024];
  if (!c->out) {
    const char *base = strrchr(c->model, '/');
    base = base ? base + 1 : c->model;
    snprintf(dflt, sizeof dflt, "%s", base);
    size_t n = strlen(dflt);
    if (n > 5 && !strcmp(dflt + n - 5, ".onnx")) dflt[n - 5] = 0;
  }
  o.out = c->out ? c->out : dflt;
  fr_model *m;
  double t0 = fr_cli_now_ms();
  c->static_shapes = true;
  if (fr_cli_load(c, &m, false) != FR_OK) return fr_cli_fail();
  fr_freeze_count(m, &o.params);
  const fr_graph *g = m->graph;
  fr_status st = FR_OK;
  for (int i = 0; i < g->n_inputs && st == FR_OK; i++) {
    const fr_tensor *t = &g->inputs[i]->t;
    if (t->kind == FR_KIND_TENSOR && t->rank < 0)
      st = fr_err(FR_ERR_USAGE,
                  "input '%s' has no static shape: give it with --shape %s=DIMS",
                  g->inputs[i]->name, g->inputs[i]->name);
  }
  c->pipe.partial = true;
  if (st == FR_OK) st = fr_pipeline_run(m, &c->pipe);
  fr_aot_result r = {0};
  if (st == FR_OK) st = fr_aot_compile(m, &o, &r);
  if (st != FR_OK) {
    fr_err_prefix(c->model);
    fr_model_free(m);
    return fr_cli_fail();
  }
  static const char *const kinds[] = {"executable", "shared library", "object",
                                      "LLVM IR", "assembly"};
  printf("%s: %s, %zu bytes\n", r.files[0], kinds[o.emit], r.sizes[0]);
  if (r.n_files > 1)
    printf("%s: C header (prefix %s), %zu bytes\n", r.files[1], r.prefix, r.sizes[1]);
  printf("compiled in %.0f ms: %d kernel calls, activations %zu bytes, "
         "%lld frozen and %lld trainable parameters\n",
         fr_cli_now_ms() - t0, r.stats.n_native, r.stats.arena_bytes,
         (long long)o.params.frozen, (long long)o.params.trainable);
  fr_model_free(m);
  return 0;
}

