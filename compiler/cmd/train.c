/* train.c: `frost train MODEL DATA`: trains the unfrozen layers.
 *
 * The model becomes a training graph (compiler/passes/train_graph.c: --cut,
 * --head, the loss over the inputs frost.targets and frost.weights), the
 * pipeline freezes, folds and differentiates it (the autodiff pass), and
 * the engine runs one train step per batch: forward, loss and backward in
 * one graph, compiled by the JIT or interpreted (--engine interp). The
 * gradients land in the gradient block of the parameter layout, and the
 * optimizer (runtime/kernels/optim.c) updates the trainable block in place,
 * which the graph reads on the next step.
 *
 * Batches: the data set in a seeded random order each epoch (--no-shuffle:
 * as listed); a short last batch is padded with zero samples of weight 0,
 * so the loss is the mean over the real ones (PyTorch's with
 * drop_last=False). Validation runs the same graph (its gradients unused).
 *
 * Multi-task: several named heads (--head NAME:linear:N, repeated) on the
 * same cut value, one backbone pass (and one feature cache) for all; each
 * head's labels are the CSV manifest's column of its name, and the loss is
 * the sum of each task's loss times its --task-weight.
 *
 * Under mpirun (dist.c, docs/distributed.md) every rank builds the same
 * graphs at its share of the batch, reads its block of the samples (and
 * runs the backbone over it for the feature cache), the ranks share the
 * samples or features, and the loop sums the gradients over the ranks.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

typedef struct trainer {
  fr_cli *c;
  const fr_train_opts *o;
  fr_model *m;
  fr_engine e;
  fr_dataset train, val;
  int64_t B, C, numel;    /* batch, classes/targets, sample size */
  int64_t G;              /* several ranks: the global batch (B is one
                             rank's share) */
  bool classify;          /* labels (ce, bce on labels) vs numeric targets */
  fr_tensor in[1 + 2 * FR_MAX_TASKS]; /* x, then targets and weights (of
                                         each task) in the graph's order */
  fr_tensor *inp[1 + 2 * FR_MAX_TASKS];
  int x_slot, t_slot, w_slot;
  /* Multi-task (named heads): the tasks, their heads; n_tasks 0: one
   * head as before (t_slot, w_slot). */
  fr_tl_task tasks[FR_MAX_TASKS];
  fr_head_spec heads[FR_MAX_TASKS];
  const char *task_names[FR_MAX_TASKS];
  double task_weights[FR_MAX_TASKS];
  int n_tasks;
  uint8_t *grad, *state;  /* the gradient block and the optimizer slots
                             (then the best epoch's weights) */
  int64_t tbytes;
  fr_tensor *out;         /* the step's outputs, kept until the next */
  int n_out;
  double backbone_s;   /* the feature cache's time */
  bool augment;        /* image augmentation of training batches */
  fr_train_spec spec;  /* how the training graph was built */
  fr_tensor x_t;       /* the model input's type at the batch */
  bool cached;         /* the training graph starts at the cached features */
  fr_model *em;        /* the evaluation graph: forward and loss only, or
                          NULL (validation then runs the training graph) */
  fr_compiled *ecomp;  /* em JIT-compiled, or NULL: interpreted */
  fr_value *stats[64], *stat_outs[64]; /* --bn-train: statistics and their
                                          updated values (graph outputs) */
  int stat_slot[64], n_stats;
  int *group[2];       /* --frontend: each window's clip (train, val) */
  int clips[2];
  int model_rank;      /* the model's sample shape (no batch) */
  int64_t model_dims[FR_MAX_RANK], model_numel;
  fr_feature_info fi;  /* --features DIR: what frost extract wrote */
} trainer;

static void release_outputs(trainer *t) {
  for (int i = 0; i < t->n_out; i++) fr_tensor_release(&t->out[i]);
  t->n_out = 0;
}

/* The loop's step (fr_tl_step): the training graph, or the evaluation
 * graph when not training and there is one. The gradients go into the
 * gradient block, --bn-train's statistics into the trainable block. */
static fr_status step(void *ctx, bool train, double *loss, const float **logits) {
  trainer *t = ctx;
  const fr_graph *g = t->m->graph;
  const fr_train_graph *tg = g->train;
  release_outputs(t);
  fr_status st;
  if (!train && t->em) {
    st = t->ecomp ? fr_compiled_run(t->ecomp, t->inp, t->out)
                  : fr_run_model(t->em, t->inp, t->out);
    if (st == FR_OK) t->n_out = t->em->graph->n_outputs;
  } else {
    st = fr_engine_run(&t->e, t->m, t->inp, t->out);
    if (st == FR_OK) t->n_out = g->n_outputs;
  }
  if (st != FR_OK) return st;
  *loss = ((const float *)t->out[0].data)[0];
  *logits = t->out[1].data;
  /* multi-task: [loss, logits of each task, loss of each task, ...] */
  for (int k = 0; k < t->n_tasks; k++) {
    t->tasks[k].logits = t->out[1 + k].data;
    t->tasks[k].loss = ((const float *)t->out[1 + t->n_tasks + k].data)[0];
  }
  if (!train) return FR_OK;
  for (int k = 0; k < tg->n_params; k++) {
    const fr_value *p = tg->params[k];
    const fr_tensor *gr = &t->out[g->n_outputs - tg->n_params + k];
    memcpy(t->grad + p->param_off, gr->data, fr_tensor_nbytes(gr));
  }
  for (int k = 0; k < t->n_stats; k++)
    memcpy(t->stats[k]->t.data, t->out[t->stat_slot[k]].data,
           fr_tensor_nbytes(&t->stats[k]->t));
  return FR_OK;
}

/* The slot of the graph's input named prefix (+ "." + name when name). */
static int input_slot(const fr_graph *g, const char *prefix, const char *name) {
  char want[128];
  snprintf(want, sizeof want, "%s%s%s", prefix, name ? "." : "", name ? name : "");
  for (int i = 0; i < g->n_inputs; i++)
    if (!strcmp(g->inputs[i]->name, want)) return i;
  return -1;
}

static fr_status alloc_inputs(trainer *t) {
  const fr_graph *g = t->m->graph;
  int n_train = 2 * (t->n_tasks ? t->n_tasks : 1); /* targets, weights */
  if (g->n_inputs != 1 + n_train)
    return fr_err(FR_ERR_UNSUPPORTED, "the model takes %d inputs; frost "
                  "train feeds models of one input", g->n_inputs - n_train);
  t->x_slot = -1;
  for (int i = 0; i < g->n_inputs; i++) {
    const fr_value *v = g->inputs[i];
    if (strncmp(v->name, "frost.targets", 13) && strncmp(v->name, "frost.weights", 13))
      t->x_slot = i;
    t->in[i] = v->t;
    t->in[i].data = NULL;
    FR_TRY(fr_tensor_alloc(&t->in[i]));
    t->inp[i] = &t->in[i];
  }
  t->t_slot = input_slot(g, "frost.targets", NULL);
  t->w_slot = input_slot(g, "frost.weights", NULL);
  for (int k = 0; k < t->n_tasks; k++) {
    int ts = input_slot(g, "frost.targets", t->task_names[k]);
    int ws = input_slot(g, "frost.weights", t->task_names[k]);
    FR_ASSERT(ts >= 0 && ws >= 0);
    t->tasks[k].targets = t->in[ts].data;
    t->tasks[k].weights = t->in[ws].data;
  }
  FR_ASSERT(t->x_slot >= 0 && (t->n_tasks || (t->t_slot >= 0 && t->w_slot >= 0)));
  if (t->in[t->x_slot].dtype != FR_F32)
    return fr_err(FR_ERR_UNSUPPORTED, "the model's input '%s' is %s, not "
                  "float", g->inputs[t->x_slot]->name,
                  fr_dtype_name(t->in[t->x_slot].dtype));
  return FR_OK;
}

/* Writes every trainable parameter to DIR/<name>.npy. */
static fr_status save_params(trainer *t, const char *dir) {
  if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    return fr_err(FR_ERR_IO, "%s: cannot create the folder: %s", dir,
                  strerror(errno));
  /* The trainable parameters and the statistics --bn-train updates. */
  const fr_graph *g = t->m->graph;
  for (int i = 0; i < g->n_inits; i++) {
    const fr_value *p = g->inits[i];
    if (!(p->flags & FR_V_WRITABLE) || p->param_off < 0) continue;
    char file[512], path[1200];
    fr_npy_file_name(p->name, file, sizeof file);
    snprintf(path, sizeof path, "%s/%s.npy", dir, file);
    FR_TRY(fr_npy_write(path, &p->t));
  }
  return FR_OK;
}

/* The frozen backbone up to b: the model loaded again, its input at the
 * batch, b's value (or the input of the Flatten that made b) its only
 * output. *bm is NULL when the model does not compute it. */
static fr_status backbone_of(trainer *t, const fr_value *b, fr_model **bm,
                             fr_value **srcp) {
  fr_cli *c = t->c;
  *bm = NULL;
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
  fr_model *m = NULL;
  FR_TRY(fr_onnx_load(c->model, &lo, &m));
  fr_graph *g = m->graph;
  fr_value *src = fr_graph_find(g, b->name);
  if (!src && b->producer && b->producer->op == FR_OP_FLATTEN && b->producer->in[0])
    src = fr_graph_find(g, b->producer->in[0]->name);
  if (!src || (src->flags & FR_V_CONST) || g->n_inputs != 1) {
    fr_model_free(m);
    return FR_OK;
  }
  fr_status st = fr_cli_feed(m, c->model, c->second, t->B, t->train.rank, t->train.dims);
  if (st != FR_OK) {
    fr_model_free(m);
    return st;
  }
  for (int i = 0; i < g->n_outputs; i++) g->outputs[i]->flags &= ~(uint32_t)FR_V_OUTPUT;
  g->outputs[0] = src;
  g->n_outputs = 1;
  src->flags |= FR_V_OUTPUT;
  *bm = m;
  *srcp = src;
  return FR_OK;
}

/* ---- several ranks (dist.c) ------------------------------------------ */

static fr_data_opts data_opts(const trainer *t) {
  fr_data_opts dop = t->o->data;
  dop.decode_image = fr_image_decode;
  dop.index_only = fr_dist_size() > 1; /* each rank reads its block */
  return dop;
}

/* Reads this rank's block of d's samples (d loaded index-only) into
 * *rows; *first, *count: the block. */
static fr_status read_block(const trainer *t, const fr_dataset *d, float **rows,
                            int64_t *first, int64_t *count) {
  fr_dist_block(d->n, fr_dist_rank(), fr_dist_size(), first, count);
  fr_data_opts dop = data_opts(t);
  return fr_dataset_read(d, &dop, (int)*first, (int)*count, rows);
}

/* rows (this rank's block of d's samples, width floats each, taken):
 * every rank then holds all of them, as d's samples. */
static fr_status share_rows(fr_dataset *d, fr_status st, float *rows, int64_t width) {
  float *all;
  FR_TRY(fr_dist_share_rows(st, rows, d->n, width, &all));
  fr_free(d->x);
  d->x = all;
  d->numel = width;
  return FR_OK;
}

/* The samples of the sets, when loaded index-only: each rank reads its
 * block, then they share them all (--no-cache, augmentation, --frontend:
 * every rank needs every sample). */
static fr_status read_samples(trainer *t) {
  fr_dataset *sets[2] = {&t->train, &t->val};
  fr_status st = FR_OK;
  for (int k = 0; k < 2 && st == FR_OK; k++) {
    fr_dataset *d = sets[k];
    if (d->x || (!d->n && k)) continue;
    float *rows = NULL;
    int64_t first, count;
    st = read_block(t, d, &rows, &first, &count);
    st = share_rows(d, st, rows, d->numel);
  }
  return st;
}

/* The feature cache of set d: one process runs the backbone over every
 * sample; several ranks each over their block (d loaded index-only), and
 * the ranks share the features. */
static fr_status cache_set(trainer *t, fr_engine *e, fr_model *bm, fr_tensor *in,
                           int64_t F, fr_dataset *d, int64_t *done, int64_t all) {
  if (d->x) return fr_features_run(e, bm, in, t->B, F, d, "feature cache", done, all);
  fr_dataset v = *d;
  int64_t first, count;
  fr_status st = read_block(t, d, &v.x, &first, &count);
  v.n = (int)count;
  if (st == FR_OK) st = fr_features_run(e, bm, in, t->B, F, &v, "feature cache", done, all);
  *done += d->n - count;
  return share_rows(d, st, v.x, F);
}

/* Several ranks: each compiles the graphs at its share of the batch. */
static fr_status dist_setup(trainer *t) {
  const fr_train_opts *o = t->o;
  int n = fr_dist_size();
  if (o->ssl)
    return fr_err(FR_ERR_UNSUPPORTED, "--ssl contrasts every pair of a batch: "
                  "not on %d ranks yet (run it as one process)", n);
  if (t->c->freeze.bn_train)
    return fr_err(FR_ERR_UNSUPPORTED, "--bn-train: batch statistics would be "
                  "each rank's own: not on %d ranks (run it as one process)", n);
  if (t->n_tasks)
    return fr_err(FR_ERR_UNSUPPORTED, "several heads: not on %d ranks yet (run "
                  "them as one process)", n);
  t->G = t->B;
  t->B = (t->G + n - 1) / n;
  return FR_OK;
}

/* ---- --features DIR: frost extract's shards (extract.c) ---------------- */

/* The features as the data sets (--val: another folder of them), from
 * this model, at --cut (taken from them when not given). */
static fr_status load_features(trainer *t) {
  fr_cli *c = t->c;
  const fr_train_opts *o = t->o;
  if (o->no_cache || fr_augment_images(&o->augment) || o->augment.noise > 0 ||
      o->frontend || o->ssl)
    return fr_err(FR_ERR_USAGE, "--features: the samples are features already: "
                  "not with --no-cache, augmentation, --frontend or --ssl");
  if (t->n_tasks)
    return fr_err(FR_ERR_USAGE, "--features: one head (named heads read their "
                  "labels from a manifest's columns)");
  fr_dataset all = {0};
  FR_TRY(fr_features_load(o->features, &t->fi, &all));
  char sha[65];
  fr_status st = fr_sha256_file(c->model, sha);
  if (st == FR_OK && strcmp(sha, t->fi.model_sha256))
    st = fr_err(FR_ERR_INVALID, "%s: features of another model than %s (its "
                "SHA-256 differs)", o->features, c->model);
  if (st == FR_OK && o->cut && strcmp(o->cut, t->fi.cut))
    st = fr_err(FR_ERR_USAGE, "--cut %s: the features in %s are '%s'", o->cut,
                o->features, t->fi.cut);
  c->train.cut = t->fi.cut;
  if (st != FR_OK) {
    fr_dataset_free(&all);
    return st;
  }
  if (o->val_dir) {
    fr_feature_info vi;
    t->train = all;
    st = fr_features_load(o->val_dir, &vi, &t->val);
    if (st == FR_OK && (strcmp(vi.cut, t->fi.cut) || strcmp(vi.model_sha256, sha) ||
                        t->val.numel != all.numel))
      st = fr_err(FR_ERR_INVALID, "%s: not features of %s at '%s' as %s holds",
                  o->val_dir, c->model, t->fi.cut, o->features);
  } else if (o->val_split > 0) {
    st = fr_dataset_split(&all, o->val_split, o->seed, &t->train, &t->val);
    fr_dataset_free(&all);
  } else {
    t->train = all;
  }
  if (st == FR_OK && !t->train.n)
    st = fr_err(FR_ERR_INVALID, "%s: no samples", o->features);
  return st;
}

/* The cache is given: the features must be b, the value the trainable
 * layers read (or the input of the Flatten that made b). */
static fr_status features_given(trainer *t, const fr_value *b, bool *done) {
  const fr_value *src = b;
  if (strcmp(b->name, t->fi.cut) && b->producer && b->producer->op == FR_OP_FLATTEN &&
      b->producer->in[0])
    src = b->producer->in[0];
  int64_t F = fr_tensor_numel(&b->t) / t->B;
  if (strcmp(src->name, t->fi.cut))
    return fr_err(FR_ERR_USAGE, "--features %s: features of '%s', but the trained "
                  "layers start at '%s' (extract there, or train fewer layers)",
                  t->o->features, t->fi.cut, src->name);
  if (F != t->train.numel)
    return fr_err(FR_ERR_SHAPE, "--features %s: %lld floats a sample, '%s' has %lld",
                  t->o->features, (long long)t->train.numel, src->name, (long long)F);
  fr_dataset *sets[2] = {&t->train, &t->val};
  for (int k = 0; k < 2; k++) {
    sets[k]->rank = b->t.rank - 1;
    for (int i = 1; i < b->t.rank; i++) sets[k]->dims[i - 1] = b->t.dims[i];
  }
  printf("features: %d samples from %s (frost extract up to '%s'), %lld floats "
         "each\n", t->train.n + t->val.n, t->o->features, t->fi.cut, (long long)F);
  *done = true;
  return FR_OK;
}

/* The feature cache: the frozen backbone (the model up to the boundary b,
 * the one frozen value the trainable nodes read) runs once over every
 * sample, and the samples become its outputs. The backbone is the model
 * loaded again with b as its output (b made by the head's Flatten: its
 * input, the same bytes). */
static fr_status cache_features(trainer *t, const fr_value *b, bool *done) {
  fr_cli *c = t->c;
  *done = false;
  if (t->o->features) return features_given(t, b, done);
  fr_model *bm = NULL;
  fr_value *src = NULL;
  FR_TRY(backbone_of(t, b, &bm, &src));
  fr_status st = FR_OK;
  fr_engine e = {0};
  fr_pipeline_opts po = {0};
  int64_t F = fr_tensor_numel(&b->t) / t->B;
  if (!bm) goto out;
  fr_value *x = bm->graph->inputs[0];
  bool interp = c->engine && !strcmp(c->engine, "interp");
  e = (fr_engine){.name = interp ? "opt" : "jit", .pipe = &po,
                  .jit = c->jit};
  double t0 = fr_now_ms();
  int64_t n_all = t->train.n + t->val.n, n_prog = 0;
  fr_progress("feature cache", 0, n_all, "compiling the backbone");
  st = fr_engine_prepare(&e, bm);
  if (st == FR_OK && (src->t.rank < 1 || fr_tensor_numel(&src->t) / t->B != F))
    goto out; /* not the same bytes: no cache */
  fr_tensor in = x->t;
  in.data = NULL;
  if (st == FR_OK) st = fr_tensor_alloc(&in);
  fr_dataset *sets[2] = {&t->train, &t->val};
  for (int k = 0; k < 2 && st == FR_OK; k++) {
    fr_dataset *d = sets[k];
    if (!d->n) continue;
    st = cache_set(t, &e, bm, &in, F, d, &n_prog, n_all);
    if (st != FR_OK) break;
    d->rank = b->t.rank - 1;
    for (int i = 1; i < b->t.rank; i++) d->dims[i - 1] = b->t.dims[i];
    if (t->o->pool && t->group[k]) /* windows to clips */
      st = fr_pool_windows(d, t->group[k], t->clips[k], t->o->pool);
  }
  fr_tensor_release(&in);
  fr_progress_done();
  if (st == FR_OK) {
    *done = true;
    t->backbone_s = (fr_now_ms() - t0) / 1e3;
    char on[32] = "";
    if (fr_dist_size() > 1) snprintf(on, sizeof on, " on %d ranks", fr_dist_size());
    printf("feature cache: %lld samples through the frozen backbone up to "
           "'%s' in %.2f s%s, %lld floats each\n", (long long)n_prog, src->name,
           t->backbone_s, on, (long long)F);
  }
out:
  fr_progress_done();
  fr_engine_free(&e);
  fr_model_free(bm);
  return st;
}

/* ---- audio through a front end --------------------------------------- */

/* The front end through the engine (fr_frontend_fn). */
typedef struct fe_run {
  fr_engine *e;
  fr_model *fm;
  fr_tensor *in, out;
} fe_run;

static fr_status frontend_run(void *ctx, const float *in, const float **out,
                              int64_t *n, int64_t *last) {
  fe_run *r = ctx;
  (void)in; /* r->in's data */
  fr_tensor_release(&r->out);
  FR_TRY(fr_engine_run(r->e, r->fm, &r->in, &r->out));
  if (r->out.rank < 2 || r->out.dtype != FR_F32)
    return fr_err(FR_ERR_SHAPE, "the front end's output is not float frames");
  *out = r->out.data;
  *n = fr_tensor_numel(&r->out);
  *last = r->out.dims[r->out.rank - 1];
  return FR_OK;
}

/* --frontend MODEL: every clip of each set through it, then windows of
 * the model's sample shape (rank, dims, numel); groups[k][i] is window i's
 * clip in set k, clips[k] the number of clips. */
fr_status fr_frontend_apply(fr_cli *c, int rank, const int64_t *dims, int64_t numel,
                            fr_dataset *const *sets, int n_sets, int **groups,
                            int *clips) {
  const fr_train_opts *o = &c->train;
  const fr_dataset *d0 = sets[0];
  if (d0->rank != 1 || !d0->sample_rate)
    return fr_err(FR_ERR_USAGE, "--frontend takes WAV clips; %s holds "
                  "samples of rank %d", c->second ? c->second : "the data", d0->rank);
  fr_model *fm = NULL;
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
  FR_TRY(fr_onnx_load(o->frontend, &lo, &fm));
  fr_status st = FR_OK;
  fr_engine e = {0};
  fr_pipeline_opts po = {0};
  fr_tensor in = {0};
  if (fm->graph->n_inputs != 1 || fm->graph->inputs[0]->t.rank != 2) {
    st = fr_err(FR_ERR_UNSUPPORTED, "%s: a front end takes one input of "
                "[1, samples]", o->frontend);
  } else {
    fr_value *x = fm->graph->inputs[0];
    x->t.dims[0] = 1;
    x->t.dims[1] = d0->numel;
    x->t.kind = FR_KIND_TENSOR;
    bool interp = c->engine && !strcmp(c->engine, "interp");
    e = (fr_engine){.name = interp ? "opt" : "jit", .pipe = &po,
                    .jit = c->jit};
    st = fr_engine_prepare(&e, fm);
    if (st != FR_OK) fr_err_prefix(o->frontend);
    in = x->t;
    in.data = NULL;
    if (st == FR_OK) st = fr_tensor_alloc(&in);
  }
  double t0 = fr_now_ms();
  int n_clips = 0, n_windows = 0;
  int64_t L = d0->numel; /* sets[0] becomes windows first */
  fe_run r = {.e = &e, .fm = fm, .in = &in};
  fr_window_opts wo = {.scale = {o->frontend_scale[0], o->frontend_scale[1]},
                       .window = o->window, .hop = o->hop, .rank = rank,
                       .numel = numel};
  memcpy(wo.dims, dims, sizeof(int64_t) * (size_t)rank);
  for (int k = 0; st == FR_OK && k < n_sets; k++) {
    if (!sets[k]->n) continue;
    if (sets[k]->numel != L)
      st = fr_err(FR_ERR_SHAPE, "the clips of the data sets differ in length");
    n_clips += sets[k]->n;
    if (st == FR_OK)
      st = fr_clips_to_windows(sets[k], frontend_run, &r, in.data, &wo, &groups[k],
                               &clips[k]);
    n_windows += sets[k]->n;
  }
  fr_tensor_release(&r.out);
  if (st == FR_OK)
    printf("front end: %d clips into %d windows through %s in %.2f s\n", n_clips,
           n_windows, o->frontend, (fr_now_ms() - t0) / 1e3);
  fr_tensor_release(&in);
  fr_engine_free(&e);
  fr_model_free(fm);
  return st;
}

/* frost train --frontend: the training and validation clips. */
static fr_status apply_frontend(trainer *t) {
  fr_dataset *sets[2] = {&t->train, &t->val};
  return fr_frontend_apply(t->c, t->model_rank, t->model_dims, t->model_numel, sets,
                           2, t->group, t->clips);
}

/* The evaluation graph: the model built as the training graph but without
 * backward nodes (the autodiff pass has no g->train to act on), whose
 * trainable parameters read the training graph's trainable block: the same
 * layout, so the same offsets (checked). Validation runs it: no gradient
 * computed, and later BatchNormalization in inference form. When the
 * layouts differ, validation keeps running the training graph. */
/* Whether b's writable parameters are a's, at the same offsets of a
 * trainable block of the same size. */
static bool same_layout(const fr_graph *a, const fr_graph *b) {
  const fr_param_layout *L = a->layout, *BL = b->layout;
  if (!L || !BL || BL->bytes[FR_PB_TRAINABLE] != L->bytes[FR_PB_TRAINABLE]) return false;
  int n = 0, want = 0;
  for (int i = 0; i < a->n_inits; i++)
    want += (a->inits[i]->flags & FR_V_WRITABLE) && a->inits[i]->param_off >= 0;
  for (int i = 0; i < b->n_inits; i++) {
    const fr_value *v = b->inits[i];
    if (!(v->flags & FR_V_WRITABLE)) continue;
    int k;
    for (k = 0; k < a->n_inits; k++)
      if (!strcmp(a->inits[k]->name, v->name)) break;
    if (k == a->n_inits || a->inits[k]->param_off != v->param_off) return false;
    n++;
  }
  return n == want;
}

/* b's writable parameters read a's trainable block. */
static void share_block(const fr_graph *a, fr_graph *b) {
  for (int i = 0; i < b->n_inits; i++) {
    fr_value *v = b->inits[i];
    if (v->flags & FR_V_WRITABLE)
      v->t.data = a->layout->block[FR_PB_TRAINABLE] + v->param_off;
  }
}

static fr_status prepare_eval(trainer *t, bool compile) {
  fr_cli *c = t->c;
  fr_model *em = NULL;
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
  FR_TRY(fr_onnx_load(c->model, &lo, &em));
  fr_status st = FR_OK;
  fr_graph *g = em->graph;
  if (g->n_inputs != 1) goto give_up;
  g->inputs[0]->t = t->x_t;
  g->inputs[0]->t.data = NULL;
  st = fr_train_build(em, &t->spec);
  if (st == FR_OK) g->train = NULL; /* no backward */
  if (st == FR_OK && t->cached) {
    fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
    st = fr_freeze_apply(em, &c->freeze);
    if (st == FR_OK) st = fr_graph_infer(g, &io);
    fr_value *b = st == FR_OK ? fr_train_boundary(g) : NULL;
    if (st == FR_OK && !b) goto give_up;
    if (st == FR_OK) st = fr_train_cut_input(em, b);
  }
  fr_pipeline_opts po = {.freeze = &c->freeze};
  if (st == FR_OK) st = fr_pipeline_run(em, &po);
  if (st != FR_OK) goto out;
  /* The same trainable parameters at the same offsets: share the block. */
  if (!same_layout(t->m->graph, g)) goto give_up;
  share_block(t->m->graph, g);
  bool interp = !compile || (c->engine && !strcmp(c->engine, "interp"));
  if (!interp) {
    st = fr_compile_jit(em, &c->jit, &t->ecomp);
    if (st == FR_ERR_UNSUPPORTED) st = FR_OK; /* interpreted */
  }
  if (st == FR_OK) {
    t->em = em;
    return FR_OK;
  }
  goto out;
give_up:
  st = FR_OK;
out:
  fr_model_free(em);
  return st;
}

/* Multi-task: the heads named on the command line (two or more --head,
 * or one with a name) become t's tasks, weighed by --task-weight. */
static fr_status setup_tasks(trainer *t) {
  const fr_train_opts *o = t->o;
  fr_head_spec h0;
  if (o->n_heads) FR_TRY(fr_head_parse(o->heads[0], &h0));
  bool named = o->n_heads && h0.name[0];
  if (!named && o->n_heads <= 1) {
    if (o->n_task_weights)
      return fr_err(FR_ERR_USAGE, "--task-weight '%s': no head is named so "
                    "(name the heads: --head NAME:linear:N)", o->task_weight_names[0]);
    return FR_OK;
  }
  int K = o->n_heads;
  for (int k = 0; k < K; k++) {
    fr_head_spec *h = &t->heads[k];
    FR_TRY(fr_head_parse(o->heads[k], h));
    if (!h->name[0])
      return fr_err(FR_ERR_USAGE, "--head '%s': with several heads each has a "
                    "name (NAME:linear:N)", o->heads[k]);
    for (int j = 0; j < k; j++)
      if (!strcmp(t->heads[j].name, h->name))
        return fr_err(FR_ERR_USAGE, "--head: two heads are named '%s'", h->name);
    t->task_names[k] = h->name;
    t->task_weights[k] = 1;
  }
  for (int i = 0; i < o->n_task_weights; i++) {
    const char *name = o->task_weight_names[i];
    int k = 0;
    while (k < K && strcmp(t->task_names[k], name)) k++;
    if (k == K)
      return fr_err(FR_ERR_USAGE, "--task-weight '%s': no head is named '%s'",
                    name, name);
    for (int j = 0; j < i; j++)
      if (!strcmp(o->task_weight_names[j], name))
        return fr_err(FR_ERR_USAGE, "--task-weight: '%s' is given twice", name);
    t->task_weights[k] = o->task_weights[i];
  }
  double sum = 0;
  for (int k = 0; k < K; k++) sum += t->task_weights[k];
  if (sum <= 0) return fr_err(FR_ERR_USAGE, "--task-weight: every task weighs 0");
  if (o->loss_kind != FR_LOSS_CE)
    return fr_err(FR_ERR_USAGE, "several heads are classifiers: they train "
                  "with --loss ce");
  if (o->n_class_weights)
    return fr_err(FR_ERR_USAGE, "--class-weights weighs the classes of one "
                  "head, not of several");
  t->n_tasks = K;
  for (int k = 0; k < K; k++)
    t->tasks[k] = (fr_tl_task){.name = t->task_names[k], .column = k,
                               .weight = t->task_weights[k],
                               .C = t->heads[k].widths[t->heads[k].n - 1]};
  return FR_OK;
}

/* Multi-task: each head ends with as many outputs as its column has
 * classes; validation data (--val) takes the training data's class
 * indices (a class training lacks is an error). */
static fr_status check_tasks(trainer *t) {
  fr_dataset *tr = &t->train, *va = &t->val;
  for (int k = 0; k < t->n_tasks; k++) {
    const fr_label_column *col = &tr->columns[k];
    if (col->n_classes != t->tasks[k].C)
      return fr_err(FR_ERR_USAGE, "--head '%s' ends with %lld outputs, the "
                    "column '%s' of %s has %d classes", t->o->heads[k],
                    (long long)t->tasks[k].C, col->name, t->c->second, col->n_classes);
    if (!t->o->val_dir || !va->n) continue;
    fr_label_column *vc = &va->columns[k];
    int map[4096];
    if (vc->n_classes > 4096) return fr_err(FR_ERR_USAGE, "too many classes");
    for (int c = 0; c < vc->n_classes; c++) {
      map[c] = -1;
      for (int j = 0; j < col->n_classes; j++)
        if (!strcmp(vc->class_names[c], col->class_names[j])) map[c] = j;
      if (map[c] < 0)
        return fr_err(FR_ERR_INVALID, "%s: the class '%s' of the column '%s' "
                      "is not in %s", t->o->val_dir, vc->class_names[c], col->name,
                      t->c->second);
    }
    for (int i = 0; i < va->n; i++)
      if (vc->label[i] >= 0) vc->label[i] = map[vc->label[i]];
    vc->n_classes = col->n_classes;
    vc->class_names = col->class_names;
  }
  return FR_OK;
}

static fr_status load_data(trainer *t) {
  const fr_train_opts *o = t->o;
  if (o->features) return load_features(t);
  fr_data_opts dop = data_opts(t);
  dop.label_columns = t->task_names;
  dop.n_label_columns = t->n_tasks;
  fr_dataset all = {0};
  FR_TRY(fr_dataset_load(t->c->second, &dop, &all));
  fr_status st = FR_OK;
  if (o->val_dir) {
    t->train = all;
    st = fr_dataset_load(o->val_dir, &dop, &t->val);
  } else if (o->val_split > 0) {
    st = fr_dataset_split(&all, o->val_split, o->seed, &t->train, &t->val);
    fr_dataset_free(&all);
  } else {
    t->train = all;
  }
  if (st != FR_OK) return st;
  if (t->train.n == 0) return fr_err(FR_ERR_INVALID, "%s: no samples", t->c->second);
  return FR_OK;
}

/* The head (or --ssl's projection) trains: a first freeze rule, before
 * the user's. */
static fr_status head_rule(fr_cli *c) {
  if (c->freeze.n_rules == FR_MAX_FREEZE)
    return fr_err(FR_ERR_USAGE, "too many --trainable/--frozen rules");
  memmove(&c->freeze.rules[1], &c->freeze.rules[0],
          sizeof(fr_freeze_rule) * (size_t)c->freeze.n_rules);
  c->freeze.rules[0] = (fr_freeze_rule){true, "^frost\\.(head|proj)\\."};
  c->freeze.n_rules++;
  return FR_OK;
}

/* --ssl: the batch holds two views of each of --batch samples, the
 * classes are the batch's rows, the data's labels go unused. */
static fr_status ssl_setup(trainer *t, bool dump) {
  const fr_train_opts *o = t->o;
  int64_t P = o->batch > 0 ? o->batch : 32;
  if (!dump) {
    if (o->val_dir || o->val_split > 0)
      return fr_err(FR_ERR_USAGE, "--ssl trains without labels: no --val or "
                    "--val-split");
    if (o->loss_kind != FR_LOSS_CE || o->n_class_weights || o->label_smoothing > 0)
      return fr_err(FR_ERR_USAGE, "--ssl has its own loss (InfoNCE): no --loss, "
                    "--class-weights or --label-smoothing");
    if (!fr_augment_images(&o->augment) && !(o->augment.noise > 0))
      return fr_err(FR_ERR_USAGE, "--ssl contrasts two augmented views of each "
                    "sample: give an augmentation (--noise, --crop-pad, "
                    "--hflip, --rotate, --scale)");
    if (t->train.n < 2)
      return fr_err(FR_ERR_INVALID, "%s: --ssl needs at least 2 samples",
                    t->c->second);
    if (P > t->train.n) P = t->train.n;
  }
  if (P < 2 || P > 2048)
    return fr_err(FR_ERR_USAGE, "--ssl: --batch %lld: from 2 to 2048 samples "
                  "(two views each)", (long long)P);
  t->B = 2 * P;
  t->C = t->B;
  t->classify = true;
  return FR_OK;
}

/* frost dump --stage train: the samples' shape from the model's input,
 * the classes from --head or the model's output. */
static fr_status dump_shapes(trainer *t) {
  fr_model *m = NULL;
  fr_onnx_opts lo = {.quiet = true, .max_bytes = t->c->max_memory,
                    .shapes = t->c->shapes, .n_shapes = t->c->n_shapes};
  FR_TRY(fr_onnx_load(t->c->model, &lo, &m));
  fr_status st = FR_OK;
  fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
  if (m->graph->n_inputs != 1 || m->graph->inputs[0]->t.rank < 1) {
    st = fr_err(FR_ERR_UNSUPPORTED, "%s: frost trains models of one input "
                "of known rank", t->c->model);
  } else {
    const fr_tensor *x = &m->graph->inputs[0]->t;
    t->train.rank = x->rank - 1;
    for (int i = 1; i < x->rank && st == FR_OK; i++) {
      t->train.dims[i - 1] = x->dims[i];
      if (x->dims[i] <= 0)
        st = fr_err(FR_ERR_USAGE, "%s: dim %d of the input '%s' is not known: "
                    "give --shape %s=DIMS", t->c->model, i,
                    m->graph->inputs[0]->name, m->graph->inputs[0]->name);
    }
    t->train.numel = 1;
    for (int i = 0; i < t->train.rank; i++) t->train.numel *= t->train.dims[i];
    const char *h = t->o->head;
    fr_head_spec hs;
    if (h) {
      st = fr_head_parse(h, &hs);
      t->train.n_classes = st == FR_OK ? (int)hs.widths[hs.n - 1] : 0;
    } else {
      st = fr_graph_infer(m->graph, &io);
      const fr_tensor *y = m->graph->n_outputs ? &m->graph->outputs[0]->t : NULL;
      t->train.n_classes = st == FR_OK && y && y->rank == 2 ? (int)y->dims[1] : 0;
      if (st == FR_OK && t->train.n_classes <= 0)
        st = fr_err(FR_ERR_USAGE, "%s: its output is not [batch, classes]: "
                    "give --head", t->c->model);
    }
    t->train.n = (int)(t->o->batch > 0 ? t->o->batch : 32);
  }
  fr_model_free(m);
  return st;
}

/* frost train --adapt DATA: the model with its BatchNormalization
 * statistics re-estimated on DATA (AdaBN, transfer.c) replaces c->model
 * for the run; the file is removed at the end. */
static int train_adapted(fr_cli *c) {
  const char *tdir = getenv("TMPDIR");
  char path[4200];
  snprintf(path, sizeof path, "%s/frost-adapt-XXXXXX", tdir && *tdir ? tdir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) {
    fr_err(FR_ERR_IO, "cannot make a temporary file (%s)", strerror(errno));
    return fr_cli_fail();
  }
  close(fd);
  const char *orig = c->model;
  fr_status st = fr_adapt_bn(c, orig, c->train.adapt, path);
  int rc;
  if (st != FR_OK) {
    rc = fr_cli_fail();
  } else {
    c->train.adapt = NULL;
    c->model = path;
    rc = fr_cmd_train(c);
    c->model = orig;
  }
  unlink(path);
  return rc;
}

int fr_cmd_train(fr_cli *c) {
  fr_train_opts *o = &c->train;
  if (o->adapt && !(c->stage && !strcmp(c->stage, "train"))) return train_adapted(c);
  trainer t = {.c = c, .o = o};
  bool dump = c->stage && !strcmp(c->stage, "train");
  if (!c->second && !dump && !o->features) {
    fr_err(FR_ERR_USAGE, "frost train MODEL DATA: no DATA");
    return fr_cli_fail();
  }
  if (o->features && !dump) {
    if (c->second) {
      fr_err(FR_ERR_USAGE, "frost train: DATA or --features DIR, not both");
      return fr_cli_fail();
    }
    c->second = o->features; /* the data's name in messages */
  }
  fr_status st = setup_tasks(&t);
  if (st == FR_OK) st = dump ? dump_shapes(&t) : load_data(&t);
  if (st == FR_OK && t.n_tasks && !dump) st = check_tasks(&t);
  st = fr_dist_agree(st); /* several ranks: all loaded, or all stop */
  if (st != FR_OK) {
    fr_dataset_free(&t.train);
    fr_dataset_free(&t.val);
    return fr_cli_fail();
  }
  t.classify = dump || t.train.label != NULL || t.n_tasks; /* dump: classes */
  if (t.val.n && !t.n_tasks && (t.val.label != NULL) != t.classify) {
    fr_err(FR_ERR_INVALID, "%s: its labels are not those of %s", o->val_dir,
           c->second);
    st = FR_ERR_INVALID;
  }
  if (st == FR_OK && t.val.n && t.classify && t.val.n_classes != t.train.n_classes)
    st = fr_err(FR_ERR_INVALID, "%s has %d classes, %s %d", o->val_dir,
                t.val.n_classes, c->second, t.train.n_classes);
  t.C = t.classify ? t.train.n_classes : t.train.n_targets;
  if (dump) t.C = t.train.n_classes;
  if (t.n_tasks) t.C = t.tasks[0].C;
  t.numel = t.train.numel;
  t.B = o->batch > 0 ? o->batch : 32;
  if (t.B > t.train.n && !t.val.n) t.B = t.train.n;
  if (t.B > 4096) st = fr_err(FR_ERR_USAGE, "--batch %lld: at most 4096", (long long)t.B);
  if (st == FR_OK && fr_dist_size() > 1 && !dump) st = dist_setup(&t);
  if (st == FR_OK && o->ssl) st = ssl_setup(&t, dump);
  if (st == FR_OK && !t.classify && o->loss_kind == FR_LOSS_CE)
    st = fr_err(FR_ERR_USAGE, "%s has number columns, not classes: use --loss mse "
                "or bce", c->second);
  /* The model, its input at the batch and the samples' shape. */
  if (st == FR_OK) {
    fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
    st = fr_onnx_load(c->model, &lo, &t.m);
    if (st != FR_OK) fr_err_prefix(c->model);
  }
  if (st == FR_OK && t.m->graph->n_inputs != 1)
    st = fr_err(FR_ERR_UNSUPPORTED, "%s takes %d inputs; frost feeds models of "
                "one input", c->model, t.m->graph->n_inputs);
  if (st == FR_OK && o->frontend && !dump) {
    /* The windows take the model's sample shape. */
    const fr_tensor *x = &t.m->graph->inputs[0]->t;
    t.model_rank = x->rank - 1;
    t.model_numel = 1;
    for (int i = 1; i < x->rank; i++) {
      t.model_dims[i - 1] = x->dims[i];
      t.model_numel *= x->dims[i];
    }
    if (x->rank < 2) st = fr_err(FR_ERR_SHAPE, "%s: its input has no sample dims", c->model);
    if (st == FR_OK) st = read_samples(&t);
    if (st == FR_OK) st = apply_frontend(&t);
  }
  if (st == FR_OK) /* --features: the model's input is the extraction's */
    st = fr_cli_feed(t.m, c->model, c->second, t.B,
                     o->features ? t.fi.in_rank : t.train.rank,
                     o->features ? t.fi.in_dims : t.train.dims);
  if (st == FR_OK) {
    fr_train_spec sp = {.cut = o->cut, .head = o->head, .seed = o->seed,
                        .loss_kind = o->loss_kind,
                        .probabilities = o->probabilities, .batch = t.B,
                        .n_classes = t.C, .ssl = o->ssl,
                        .temperature = o->temperature,
                        .heads = t.n_tasks ? o->heads : NULL,
                        .n_heads = t.n_tasks, .task_weights = t.task_weights};
    t.spec = sp;
    t.x_t = t.m->graph->inputs[0]->t;
    st = fr_train_build(t.m, &sp);
  }
  /* The head trains, then the user's rules in order. */
  if (st == FR_OK && o->head) st = head_rule(c);
  /* The feature cache, when the trainable part reads one frozen value. */
  if (st == FR_OK && c->freeze.bn_train && !dump) {
    st = fr_freeze_apply(t.m, &c->freeze);
    if (st == FR_OK)
      st = fr_train_bn_mode(t.m, t.stats, t.stat_outs, 64, &t.n_stats);
  }
  const fr_augment_opts *au = &o->augment;
  t.augment = fr_augment_images(au) || au->noise > 0;
  int64_t ch = t.train.rank == 3 ? t.train.dims[o->data.nhwc ? 2 : 0] : 0;
  if (st == FR_OK && fr_augment_images(au) && ch != 1 && ch != 3)
    st = fr_err(FR_ERR_USAGE, "augmentation is for images (%s with 1 or 3 "
                "channels); the samples of %s are not", o->data.nhwc ? "H, W, C" : "C, H, W",
                c->second);
  /* Augmented samples change every epoch: nothing to cache. */
  if (st == FR_OK && !o->no_cache && !dump && !t.augment) {
    fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
    st = fr_freeze_apply(t.m, &c->freeze);
    if (st == FR_OK) st = fr_graph_infer(t.m->graph, &io);
    fr_value *b = st == FR_OK ? fr_train_boundary(t.m->graph) : NULL;
    bool done = false;
    if (b) st = cache_features(&t, b, &done);
    if (st == FR_OK && done) {
      st = fr_train_cut_input(t.m, b);
      t.numel = t.train.numel;
      t.cached = true;
    }
    if (st == FR_OK && o->pool && !done)
      st = fr_err(FR_ERR_USAGE, "--pool pools the frozen backbone's outputs "
                  "of a clip's windows: it needs the feature cache (a frozen "
                  "backbone, one value into the trainable layers)");
  } else if (st == FR_OK && o->pool && !dump) {
    st = fr_err(FR_ERR_USAGE, "--pool needs the feature cache (not with "
                "--no-cache or augmentation)");
  }
  /* several ranks without the cache: every rank needs every sample */
  if (st == FR_OK && !dump) st = read_samples(&t);
  if (st == FR_OK && o->features && !dump && !t.cached)
    st = fr_err(FR_ERR_USAGE, "--features: the trained layers do not start at "
                "one frozen value ('%s')", t.fi.cut);
  int slots = fr_tl_slots(o);
  if (st == FR_OK) {
    c->pipe.state_slots = slots;
    c->pipe.freeze = &c->freeze;
    bool interp = dump || (c->engine && !strcmp(c->engine, "interp"));
    t.e = (fr_engine){.name = interp ? "opt" : "jit",
                      .pipe = &c->pipe, .jit = c->jit};
    double t0 = fr_now_ms();
    st = fr_engine_prepare(&t.e, t.m);
    if (st != FR_OK) fr_err_prefix(c->model);
    else fr_freeze_warn(&c->freeze, stderr);
    if (st != FR_OK) {
    } else if (dump) {
      if (c->dot) fr_print_dot(stdout, t.m->graph);
      else fr_cli_print_ir(c, t.m);
      fr_engine_free(&t.e);
      fr_model_free(t.m);
      return 0;
    } else
      printf("train step %s in %.0f ms%s%s\n",
              t.e.compiled ? "compiled" : "ready", fr_now_ms() - t0,
              t.e.interpreted ? " (interpreted: " : "",
              t.e.interpreted ? t.e.why : "");
    if (t.e.interpreted) puts(")");
  }
  const fr_param_layout *L = st == FR_OK ? t.m->graph->layout : NULL;
  if (st == FR_OK) {
    t.tbytes = L->bytes[FR_PB_TRAINABLE];
    t.grad = fr_calloc((size_t)t.tbytes + 64, 1);
    /* The optimizer's slots, then the best epoch's weights (kept in
     * checkpoints with them). */
    t.state = fr_calloc((size_t)(slots + 1) * (size_t)t.tbytes + 64, 1);
    t.out = fr_calloc((size_t)t.m->graph->n_outputs + 1, sizeof *t.out);
    if (!t.grad || !t.state || !t.out) st = fr_err_nomem(NULL);
  }
  for (int k = 0; st == FR_OK && k < t.n_stats; k++) {
    const fr_graph *g = t.m->graph;
    t.stat_slot[k] = -1;
    for (int i = 0; i < g->n_outputs; i++)
      if (g->outputs[i] == t.stat_outs[k]) t.stat_slot[k] = i;
    if (t.stat_slot[k] < 0 || t.stats[k]->param_off < 0 ||
        !(t.stats[k]->flags & FR_V_STATE))
      st = fr_err(FR_ERR_INVALID, "--bn-train: the statistic '%s' lost its "
                  "place in the compiled graph", t.stats[k]->name);
  }
  if (st == FR_OK && c->freeze.bn_train && !dump)
    printf("--bn-train: %d running statistics updated each step\n", t.n_stats);
  if (st == FR_OK) st = alloc_inputs(&t);
  if (st == FR_OK && t.val.n) st = prepare_eval(&t, true);
  if (st == FR_OK && o->n_class_weights) {
    if (o->loss_kind != FR_LOSS_CE)
      st = fr_err(FR_ERR_USAGE, "--class-weights weighs the cross-entropy "
                  "(--loss ce)");
    else if (!t.classify || o->n_class_weights != t.C)
      st = fr_err(FR_ERR_USAGE, "--class-weights gives %d weights, the data "
                  "has %lld classes", o->n_class_weights, (long long)t.C);
  }
  if (st == FR_OK) {
    fr_param_count pc;
    fr_freeze_count(t.m, &pc);
    printf("model: %s\ndata: %s: %d samples", c->model, c->second, t.train.n);
    if (o->ssl)
      printf(" without labels, two views each (InfoNCE, temperature %g)", o->temperature);
    else if (t.classify && !t.n_tasks) printf(", %d classes", t.train.n_classes);
    for (int k = 0; k < t.n_tasks; k++) {
      int n = 0;
      for (int i = 0; i < t.train.n; i++) n += t.train.columns[k].label[i] >= 0;
      printf("%s%s %lld classes (%d labelled, weight %g)", k ? ", " : "; tasks: ",
             t.tasks[k].name, (long long)t.tasks[k].C, n, t.tasks[k].weight);
    }
    if (t.val.n)
      printf("; validation: %d samples (%s)", t.val.n,
             t.em ? "a forward-only graph" : "the training graph");
    printf("\nparameters: %lld trainable (%lld bytes), gradients %lld bytes, "
           "optimizer state %lld bytes\n",
           (long long)pc.trainable, (long long)L->bytes[FR_PB_TRAINABLE],
           (long long)L->bytes[FR_PB_GRAD], (long long)L->bytes[FR_PB_STATE]);
  }
  /* The loop's view of the parameters: what the optimizer updates (in
   * the order of the training graph's gradients) and, for checkpoints,
   * every parameter of the trainable block. */
  fr_tl_param *tp = NULL;
  fr_ckpt_param *cp = NULL;
  int n_cp = 0;
  bool model_trains = false;
  if (st == FR_OK) {
    const fr_graph *g = t.m->graph;
    const fr_train_graph *tg = g->train;
    tp = fr_calloc((size_t)tg->n_params + 1, sizeof *tp);
    cp = fr_calloc((size_t)g->n_inits + 1, sizeof *cp);
    if (!tp || !cp) st = fr_err_nomem(NULL);
    for (int k = 0; st == FR_OK && k < tg->n_params; k++) {
      const fr_value *p = tg->params[k];
      tp[k] = (fr_tl_param){.name = p->name, .offset = p->param_off,
                            .numel = fr_tensor_numel(&p->t),
                            .backbone = strncmp(p->name, "frost.head.", 11) != 0 &&
                                        strncmp(p->name, "frost.proj.", 11) != 0};
      model_trains |= tp[k].backbone;
    }
    if (st == FR_OK && o->ssl && !model_trains)
      st = fr_err(FR_ERR_USAGE, "--ssl: none of the model's layers trains, and "
                  "the projection head is not kept: give --train-from or "
                  "--trainable");
    for (int i = 0; st == FR_OK && i < g->n_inits; i++) {
      const fr_value *p = g->inits[i];
      if (!(p->flags & FR_V_WRITABLE) || p->param_off < 0) continue;
      cp[n_cp] = (fr_ckpt_param){.name = p->name, .dtype = p->t.dtype,
                                 .rank = p->t.rank, .offset = p->param_off};
      memcpy(cp[n_cp++].dims, p->t.dims, sizeof(int64_t) * (size_t)p->t.rank);
    }
    fr_ckpt_sort(cp, n_cp);
  }
  fr_trainloop tl = {0};
  if (st == FR_OK) {
    tl = (fr_trainloop){.o = o, .step = step, .ctx = &t, .train = &t.train,
                        .val = &t.val, .B = t.B, .C = t.C, .classify = t.classify,
                        .ssl = o->ssl, .x = t.in[t.x_slot].data,
                        .targets = t.t_slot >= 0 ? t.in[t.t_slot].data : NULL,
                        .weights = t.w_slot >= 0 ? t.in[t.w_slot].data : NULL,
                        .tasks = t.n_tasks ? t.tasks : NULL, .n_tasks = t.n_tasks,
                        .trainable = (uint8_t *)L->block[FR_PB_TRAINABLE], .grad = t.grad,
                        .state = t.state, .tbytes = t.tbytes, .slots = slots,
                        .params = tp, .n_params = t.m->graph->train->n_params,
                        .model = c->model, .ck_params = cp, .n_ck_params = n_cp,
                        .out = stdout, .title = c->model,
                        .dist = fr_dist_loop(), .G = t.G};
    if (o->checkpoint_dir) st = fr_sha256_file(c->model, tl.model_sha256);
  }
  if (st == FR_OK) st = fr_trainloop_run(&tl);
  if (st == FR_OK && c->jit.profile) fr_cli_print_profile(&t.e, t.m, "the train step");
  release_outputs(&t);
  fr_free(t.out);
  fr_free(tp);
  fr_free(cp);
  /* rank 0 writes what the job made */
  bool rank0 = fr_dist_rank() == 0;
  if (st == FR_OK && o->save_params && rank0) st = save_params(&t, o->save_params);
  if (st == FR_OK && c->out && rank0) {
    st = fr_onnx_export(c->model, t.m, o->cut, c->out);
    if (st == FR_OK) printf("wrote %s\n", c->out);
  }
  for (int i = 0; i < 1 + 2 * FR_MAX_TASKS; i++) fr_tensor_release(&t.in[i]);
  fr_free(t.grad);
  fr_free(t.state);
  fr_compiled_free(t.ecomp);
  if (t.em) fr_model_free(t.em);
  fr_engine_free(&t.e);
  if (t.m) fr_model_free(t.m);
  fr_dataset_free(&t.train);
  fr_dataset_free(&t.val);
  fr_free(t.group[0]);
  fr_free(t.group[1]);
  return st == FR_OK ? 0 : fr_cli_fail();
}

/* ---- frost compile --train ------------------------------------------------ */

void fr_train_artifact_free(fr_train_artifact *a) {
  fr_model *ms[5] = {a->step, a->eval, a->features, a->run, a->frontend};
  for (int i = 0; i < 5; i++)
    if (ms[i]) fr_model_free(ms[i]);
  *a = (fr_train_artifact){0};
}

/* The inference graph with the head: the model at its own input shape
 * (its file's, or --shape's; a symbolic batch becomes B). */
static fr_status run_model_of(trainer *t, fr_model **out) {
  fr_cli *c = t->c;
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory,
                     .shapes = c->shapes, .n_shapes = c->n_shapes};
  fr_model *m = NULL;
  FR_TRY(fr_onnx_load(c->model, &lo, &m));
  fr_value *x = m->graph->inputs[0];
  if (x->t.dims[0] <= 0) x->t.dims[0] = t->B;
  x->t.kind = FR_KIND_TENSOR;
  fr_train_spec sp = t->spec;
  sp.batch = x->t.dims[0];
  sp.infer_only = true;
  fr_pipeline_opts po = {.freeze = &c->freeze, .state_slots = fr_tl_slots(t->o)};
  fr_status st = fr_train_build(m, &sp);
  if (st == FR_OK) st = fr_pipeline_run(m, &po);
  if (st == FR_OK && !same_layout(t->m->graph, m->graph))
    st = fr_err(FR_ERR_INVALID, "the inference graph's trainable parameters "
                "are not the training graph's");
  if (st != FR_OK) {
    fr_model_free(m);
    return st;
  }
  share_block(t->m->graph, m->graph);
  *out = m;
  return FR_OK;
}

/* --frontend for an artifact: the front end at one clip of --clip-samples,
 * whose frames must make windows of the model's sample size. */
static fr_status frontend_of(trainer *t, fr_train_artifact *a) {
  const fr_train_opts *o = t->o;
  if (o->clip_samples <= 0)
    return fr_err(FR_ERR_USAGE, "compile --train --frontend: give the clips' "
                  "length with --clip-samples N");
  fr_onnx_opts lo = {.quiet = true, .max_bytes = t->c->max_memory};
  FR_TRY(fr_onnx_load(o->frontend, &lo, &a->frontend));
  fr_graph *g = a->frontend->graph;
  if (g->n_inputs != 1 || g->inputs[0]->t.rank != 2 || g->n_outputs < 1)
    return fr_err(FR_ERR_UNSUPPORTED, "%s: a front end takes one input of "
                  "[1, samples]", o->frontend);
  fr_value *x = g->inputs[0];
  x->t.dims[0] = 1;
  x->t.dims[1] = o->clip_samples;
  x->t.kind = FR_KIND_TENSOR;
  fr_pipeline_opts po = {0};
  fr_status st = fr_pipeline_run(a->frontend, &po);
  if (st != FR_OK) {
    fr_err_prefix(o->frontend);
    return st;
  }
  const fr_tensor *y = &g->outputs[0]->t;
  if (y->rank < 2 || y->dtype != FR_F32)
    return fr_err(FR_ERR_SHAPE, "%s: its output is not float frames", o->frontend);
  a->frontend_last = y->dims[y->rank - 1];
  a->frontend_out = fr_tensor_numel(y);
  int64_t T = a->frontend_out / a->frontend_last;
  int64_t N = o->window ? o->window : T;
  if (N * a->frontend_last != t->train.numel)
    return fr_err(FR_ERR_SHAPE, "windows of %lld frames of %lld values do not "
                  "fit the model's input of %lld values per sample (see "
                  "--window)", (long long)N, (long long)a->frontend_last,
                  (long long)t->train.numel);
  return FR_OK;
}

fr_status fr_train_artifact_build(fr_cli *c, fr_train_artifact *a) {
  fr_train_opts *o = &c->train;
  *a = (fr_train_artifact){0};
  if (o->ssl)
    return fr_err(FR_ERR_UNSUPPORTED, "compile --train: --ssl is not compiled "
                  "into artifacts (adapt with frost train --ssl -o, then "
                  "compile that model)");
  const fr_augment_opts *au = &o->augment;
  /* Augmented samples change every epoch: nothing to cache. */
  bool augment = fr_augment_images(au) || au->noise > 0;
  trainer t = {.c = c, .o = o};
  FR_TRY(setup_tasks(&t));
  if (t.n_tasks)
    return fr_err(FR_ERR_UNSUPPORTED, "compile --train: artifacts train one "
                  "head; several (--head NAME:...) train with frost train");
  FR_TRY(dump_shapes(&t));
  t.B = o->batch > 0 ? o->batch : 32;
  t.C = t.train.n_classes;
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory,
                     .shapes = c->shapes, .n_shapes = c->n_shapes};
  FR_TRY(fr_onnx_load(c->model, &lo, &t.m));
  /* (dump_shapes took the samples' shape from this input: it fits) */
  fr_status st = fr_cli_feed(t.m, c->model, "the model's input", t.B, t.train.rank,
                             t.train.dims);
  t.x_t = t.m->graph->inputs[0]->t;
  t.spec = (fr_train_spec){.cut = o->cut, .head = o->head, .seed = o->seed,
                           .loss_kind = o->loss_kind,
                           .probabilities = o->probabilities, .batch = t.B,
                           .n_classes = t.C};
  if (st == FR_OK) st = fr_train_build(t.m, &t.spec);
  if (st == FR_OK && o->head) st = head_rule(c);
  /* --bn-train: BatchNormalization in training mode, its statistics
   * updated by the step (the cache stops before the first such node). */
  fr_value *stat_outs[64];
  if (st == FR_OK && c->freeze.bn_train) {
    st = fr_freeze_apply(t.m, &c->freeze);
    if (st == FR_OK)
      st = fr_train_bn_mode(t.m, a->stats, stat_outs, 64, &a->n_stats);
  }
  if (st == FR_OK && fr_augment_images(au) && (t.train.rank != 3 ||
                                 (t.train.dims[o->data.nhwc ? 2 : 0] != 1 &&
                                  t.train.dims[o->data.nhwc ? 2 : 0] != 3)))
    st = fr_err(FR_ERR_USAGE, "augmentation is for images (%s with 1 or 3 "
                "channels); the model's samples are not",
                o->data.nhwc ? "H, W, C" : "C, H, W");
  if (st == FR_OK && o->n_class_weights &&
      (o->loss_kind != FR_LOSS_CE || o->n_class_weights != t.C))
    st = fr_err(FR_ERR_USAGE, "--class-weights: %d weights for the "
                "cross-entropy over %lld classes", o->n_class_weights,
                (long long)t.C);
  /* The frozen backbone, compiled on its own, makes the feature cache. */
  if (st == FR_OK && !o->no_cache && !augment) {
    fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
    st = fr_freeze_apply(t.m, &c->freeze);
    if (st == FR_OK) st = fr_graph_infer(t.m->graph, &io);
    fr_value *b = st == FR_OK ? fr_train_boundary(t.m->graph) : NULL;
    fr_value *src = NULL;
    if (b) st = backbone_of(&t, b, &a->features, &src);
    if (st == FR_OK && a->features) {
      fr_pipeline_opts po = {0};
      st = fr_pipeline_run(a->features, &po);
      if (st == FR_OK && fr_tensor_nbytes(&src->t) != fr_tensor_nbytes(&b->t)) {
        fr_model_free(a->features); /* not the same bytes: no cache */
        a->features = NULL;
      }
    }
    if (st == FR_OK && a->features) {
      st = fr_train_cut_input(t.m, b);
      t.cached = true;
    }
  }
  a->slots = fr_tl_slots(o);
  if (st == FR_OK) {
    c->pipe.state_slots = a->slots;
    c->pipe.freeze = &c->freeze;
    st = fr_pipeline_run(t.m, &c->pipe);
    if (st == FR_OK) fr_freeze_warn(&c->freeze, stderr);
  }
  if (st == FR_OK && (!t.m->graph->train || !t.m->graph->train->n_params))
    st = fr_err(FR_ERR_USAGE, "compile --train: nothing trains (give --head, "
                "--train-from or --trainable)");
  if (st == FR_OK &&
      t.m->graph->n_outputs != 2 + a->n_stats + t.m->graph->train->n_params)
    st = fr_err(FR_ERR_INVALID, "the training graph has %d outputs, not "
                "the loss, the logits, %d statistics and %d gradients",
                t.m->graph->n_outputs, a->n_stats, t.m->graph->train->n_params);
  for (int k = 0; st == FR_OK && k < a->n_stats; k++)
    if (t.m->graph->outputs[2 + k] != stat_outs[k] || a->stats[k]->param_off < 0 ||
        !(a->stats[k]->flags & FR_V_STATE))
      st = fr_err(FR_ERR_INVALID, "--bn-train: the statistic '%s' lost its "
                  "place in the compiled graph", a->stats[k]->name);
  if (st == FR_OK) st = prepare_eval(&t, false);
  if (st == FR_OK) st = run_model_of(&t, &a->run);
  if (st == FR_OK && o->pool && !a->features)
    st = fr_err(FR_ERR_USAGE, "--pool pools the frozen backbone's outputs: "
                "it needs the feature cache (a frozen backbone, one value into "
                "the trainable layers; not --no-cache)");
  if (st == FR_OK && o->frontend) st = frontend_of(&t, a);
  a->step = t.m;
  a->eval = t.em;
  a->batch = t.B;
  a->classes = t.C;
  fr_dataset_free(&t.train);
  if (st != FR_OK) {
    if (st == FR_ERR_USAGE || st == FR_ERR_UNSUPPORTED) fr_err_prefix(c->model);
    fr_train_artifact_free(a);
  }
  return st;
}
