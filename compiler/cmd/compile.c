/* compile.c: `frost compile`, a model through the pipeline into a native
 * artifact (llvm/aot.c). */
#include <string.h>

#include "../../runtime/rt/abi.h"
#include "cmd.h"

/* The training options as the descriptor's numbers (abi.h). */
static void train_numbers(const fr_train_opts *o, const fr_train_artifact *a,
                          fr_aot_train *t) {
  double *h = t->hyper;
  h[FROST_H_LR] = o->lr;
  h[FROST_H_LR_BACKBONE] = o->lr_backbone;
  h[FROST_H_MOMENTUM] = o->momentum;
  h[FROST_H_WEIGHT_DECAY] = o->weight_decay;
  h[FROST_H_BETA1] = o->beta1;
  h[FROST_H_BETA2] = o->beta2;
  h[FROST_H_EPS] = o->eps;
  h[FROST_H_CLIP_NORM] = o->clip_norm;
  h[FROST_H_GAMMA] = o->gamma;
  h[FROST_H_LABEL_SMOOTHING] = o->label_smoothing;
  h[FROST_H_VAL_SPLIT] = o->val_split;
  int64_t *n = t->ints;
  n[FROST_I_OPTIMIZER] = !strcmp(o->optimizer, "sgd") ? 0 : !strcmp(o->optimizer, "adam") ? 1 : 2;
  n[FROST_I_SCHEDULE] = !strcmp(o->schedule, "step") ? 1 : !strcmp(o->schedule, "cosine") ? 2 : 0;
  n[FROST_I_NESTEROV] = o->nesterov;
  n[FROST_I_WARMUP] = o->warmup;
  n[FROST_I_STEP_EPOCHS] = o->step_epochs;
  n[FROST_I_EPOCHS] = o->epochs;
  n[FROST_I_PATIENCE] = o->patience;
  n[FROST_I_LOSS] = o->loss_kind;
  n[FROST_I_NO_SHUFFLE] = o->no_shuffle;
  n[FROST_I_SEED] = (int64_t)o->seed;
  n[FROST_I_MAX_STEPS] = o->max_steps;
  n[FROST_I_BATCH] = a->batch;
  n[FROST_I_CLASSES] = a->classes;
  n[FROST_I_SLOTS] = a->slots;
  n[FROST_I_N_CLASS_WEIGHTS] = o->n_class_weights;
  n[FROST_I_N_STATS] = a->n_stats;
  t->stats = a->stats;
  t->n_stats = a->n_stats;
  t->class_weights = o->n_class_weights ? o->class_weights : NULL;
  n[FROST_I_AUG_CROP_PAD] = o->augment.crop_pad;
  n[FROST_I_AUG_HFLIP] = o->augment.hflip;
  h[FROST_H_AUG_ROTATE] = o->augment.rotate_deg;
  h[FROST_H_AUG_SCALE_MIN] = o->augment.scale_min;
  h[FROST_H_AUG_SCALE_MAX] = o->augment.scale_max;
  h[FROST_H_AUG_NOISE] = o->augment.noise;
  /* Images: a sample of (C, H, W), or (H, W, C) with --layout nhwc, of 1
   * or 3 channels; the executable decodes them as frost train does. */
  const fr_tensor *x = &a->run->graph->inputs[0]->t;
  const fr_data_opts *d = &o->data;
  int64_t ch = x->rank == 4 ? x->dims[d->nhwc ? 3 : 1] : 0;
  t->images = !a->frontend && (ch == 1 || ch == 3);
  if (t->images) {
    n[FROST_I_IMAGES] = 1;
    n[FROST_I_RESIZE_H] = d->resize_h;
    n[FROST_I_RESIZE_W] = d->resize_w;
    n[FROST_I_CHANNELS] = d->channels;
    n[FROST_I_NHWC] = d->nhwc;
    n[FROST_I_N_MEAN] = d->n_mean;
    n[FROST_I_N_STD] = d->n_std;
    for (int i = 0; i < 4; i++) {
      h[FROST_H_MEAN + i] = d->mean[i];
      h[FROST_H_STD + i] = d->std[i];
    }
  }
  if (a->frontend) {
    h[FROST_H_FRONTEND_A] = o->frontend_scale[0];
    h[FROST_H_FRONTEND_B] = o->frontend_scale[1];
    n[FROST_I_CLIP_SAMPLES] = o->clip_samples;
    n[FROST_I_FRONTEND_OUT] = a->frontend_out;
    n[FROST_I_FRONTEND_LAST] = a->frontend_last;
    n[FROST_I_WINDOW] = o->window;
    n[FROST_I_HOP] = o->hop;
    n[FROST_I_POOL] = o->pool;
  }
}

static void report(const fr_aot_opts *o, const fr_aot_result *r, double t0,
                   bool times) {
  static const char *const kinds[] = {"executable", "shared library", "object",
                                      "LLVM IR", "assembly"};
  printf("%s: %s, %zu bytes\n", r->files[0], kinds[o->emit], r->sizes[0]);
  if (r->n_files > 1)
    printf("%s: C header (prefix %s), %zu bytes\n", r->files[1], r->prefix, r->sizes[1]);
  printf("compiled in %.0f ms: %d kernel calls, activations %zu bytes, "
         "%lld frozen and %lld trainable parameters\n",
         fr_now_ms() - t0, r->stats.n_native, r->stats.arena_bytes,
         (long long)o->params.frozen, (long long)o->params.trainable);
  if (times) {
    const fr_stage_time rows[] = {
        {r->ms_module, "module (graphs, kernels, C API, descriptor)"},
        {r->ms_optimize, "LLVM optimization"},
        {r->ms_emit, "machine code"},
        {r->ms_shared, "shared kernel code (cache or compiled)"},
        {r->ms_link, "linking and writing the files"},
    };
    fr_print_stage_times(stderr, "artifact times", rows,
                         (int)(sizeof rows / sizeof rows[0]));
  }
  if (r->stats.n_shared)
    printf("shared kernel code: %d functions, %d from the code cache, %d compiled "
           "(%.0f ms)\n", r->stats.n_shared, r->stats.n_shared - r->stats.n_shared_built,
           r->stats.n_shared_built, r->stats.ms_shared);
  if (o->train)
    printf("train step: %d kernel calls, activations %zu bytes%s; %s\n",
           r->train_stats[0].n_native, r->train_stats[0].arena_bytes,
           o->train->features ? " (on cached features of the frozen backbone)" : "",
           o->train->onnx ? "exports ONNX" : "no ONNX export");
}

/* frost compile --train: the graphs of training (train.c) in the
 * artifact beside the inference graph with the head. */
/* The progress line: the passes are step 0, the artifact's stages follow. */
static void compile_progress(int step, int steps, const char *stage) {
  fr_progress("compile", step + 1, steps + 1, stage);
}

static int compile_train(fr_cli *c, fr_aot_opts *o, double t0) {
  fr_train_artifact a;
  if (!c->pipe.time_passes && !c->pipe.print_before && !c->pipe.print_after)
    fr_progress("compile", 0, 0, "the training graphs");
  fr_status st = fr_train_artifact_build(c, &a);
  if (st != FR_OK) return fr_cli_fail();
  fr_aot_train t = {.step = a.step, .eval = a.eval, .features = a.features,
                    .frontend = a.frontend};
  _Static_assert(sizeof t.ints / sizeof t.ints[0] == FROST_I_COUNT &&
                 sizeof t.hyper / sizeof t.hyper[0] == FROST_H_COUNT,
                 "fr_aot_train's arrays are abi.h's");
  train_numbers(&c->train, &a, &t);
  st = fr_sha256_file(c->model, t.model_sha256);
  /* OUT export: the model as frost train -o writes it, and where each
   * weight's bytes are in it. Without it the artifact still trains. */
  uint8_t *onnx = NULL;
  size_t onnx_len = 0;
  const char **names = NULL;
  int64_t *offs = NULL, *sizes = NULL;
  int n = 0;
  if (st == FR_OK) {
    const fr_graph *g = a.run->graph;
    names = fr_calloc((size_t)g->n_inits + 1, sizeof *names);
    offs = fr_calloc((size_t)g->n_inits + 1, sizeof *offs);
    sizes = fr_calloc((size_t)g->n_inits + 1, sizeof *sizes);
    if (!names || !offs || !sizes) st = fr_err_nomem(NULL);
    for (int i = 0; st == FR_OK && i < g->n_inits; i++)
      if ((g->inits[i]->flags & FR_V_WRITABLE) && g->inits[i]->param_off >= 0)
        names[n++] = g->inits[i]->name;
  }
  if (st == FR_OK) {
    fr_status es = fr_onnx_export_mem(c->model, a.run, c->train.cut, &onnx, &onnx_len);
    if (es == FR_OK) es = fr_onnx_raw_offsets(onnx, onnx_len, names, n, offs, sizes);
    if (es == FR_ERR_NOMEM) st = es;
    else if (es != FR_OK) {
      fprintf(stderr, "frost: warning: the artifact cannot export ONNX: %s\n", fr_err_msg());
      fr_free(onnx);
      onnx = NULL;
    }
    t.onnx = onnx;
    t.onnx_bytes = onnx_len;
    t.onnx_names = names;
    t.onnx_offsets = offs;
    t.n_onnx = n;
  }
  fr_freeze_count(a.run, &o->params);
  o->train = &t;
  fr_aot_result r = {0};
  if (st == FR_OK) st = fr_aot_compile(a.run, o, &r);
  fr_progress_done();
  if (st == FR_OK) report(o, &r, t0, c->pipe.time_passes);
  else fr_err_prefix(c->model);
  fr_free(onnx);
  fr_free(names);
  fr_free(offs);
  fr_free(sizes);
  fr_train_artifact_free(&a);
  return st == FR_OK ? 0 : fr_cli_fail();
}

/* frost compile: the pipeline, then an artifact (compiler/aot.c). */
int fr_cmd_compile(fr_cli *c) {
  fr_aot_opts o = {.cpu = c->cpu, .prefix = c->name, .model_name = c->model,
                   .cache_dir = c->jit.cache_dir};
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
  o.progress = compile_progress;
  fr_model *m;
  double t0 = fr_now_ms();
  c->static_shapes = true;
  if (c->compile_train) return compile_train(c, &o, t0);
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
  if (!c->pipe.time_passes && !c->pipe.print_before && !c->pipe.print_after)
    fr_progress("compile", 0, 0, "passes"); /* not over their prints */
  if (st == FR_OK) st = fr_pipeline_run(m, &c->pipe);
  fr_aot_result r = {0};
  if (st == FR_OK) st = fr_aot_compile(m, &o, &r);
  fr_progress_done();
  if (st != FR_OK) {
    fr_err_prefix(c->model);
    fr_model_free(m);
    return fr_cli_fail();
  }
  report(&o, &r, t0, c->pipe.time_passes);
  fr_model_free(m);
  return 0;
}

