/* train.c: the commands of an artifact compiled with `frost compile
 * --train` (part of libfrost_rt: no IR, no LLVM, no protobuf).
 *
 *   OUT train DATA [--epochs N] [--lr X] [--seed N] [--val DIR |
 *       --val-split F] [--patience N] [--checkpoint-dir DIR [--resume]]
 *       [--log-json FILE] [--plot FILE.svg] [-o DIR]
 *   OUT export OUT.onnx [--weights DIR]
 *   OUT run ... --weights DIR       (main.c)
 *
 * Training is frost train's loop (runtime/trainloop.c) with the compiled
 * step: the data conventions (class folders or a CSV manifest of .npy or
 * WAV samples; images need frost), the epoch lines, JSON log, plot and
 * checkpoints are the same, and a checkpoint of one resumes in the other.
 * The compiled-in options are the defaults; the flags above override
 * them. Learned weights are kept as a checkpoint (-o DIR), which `OUT run`
 * and `OUT export` read with --weights DIR.
 *
 * Memory: one activation buffer for the largest of the step, the
 * evaluation and the backbone; the gradient and optimizer blocks; the
 * batch. Nothing is allocated per step. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"

static void write_classes(const char *dir, const fr_dataset *d);

/* Image decoding (runtime/image.c), linked only into executables compiled
 * for images (aot.c): NULL in the others. */
extern fr_status fr_image_decode(const char *path, const uint8_t *buf,
                                 size_t len, fr_image *out) __attribute__((weak));

/* The data options compiled in: images decoded and preprocessed as frost
 * train did (--resize, --channels, --mean, --std, --layout). */
static fr_data_opts data_opts(const frost_model_info *m) {
  fr_data_opts o = {0};
  const frost_train_info *t = m->train;
  if (!t || !t->ints[FROST_I_IMAGES]) return o;
  const int64_t *n = t->ints;
  o.resize_h = (int)n[FROST_I_RESIZE_H];
  o.resize_w = (int)n[FROST_I_RESIZE_W];
  o.channels = (int)n[FROST_I_CHANNELS];
  o.nhwc = n[FROST_I_NHWC] != 0;
  o.n_mean = (int)n[FROST_I_N_MEAN];
  o.n_std = (int)n[FROST_I_N_STD];
  for (int i = 0; i < 4; i++) {
    o.mean[i] = (float)t->hyper[FROST_H_MEAN + i];
    o.std[i] = (float)t->hyper[FROST_H_STD + i];
  }
  o.decode_image = fr_image_decode;
  return o;
}

/* ---- the parameters as the loop and checkpoints see them ------------- */

/* Every parameter of the trainable block, by offset (frost train's order). */
static fr_status ckpt_params(const frost_model_info *m, fr_ckpt_param **out) {
  fr_ckpt_param *ps = fr_calloc((size_t)m->n_trainable + 1, sizeof *ps);
  if (!ps) return fr_err_nomem(NULL);
  for (int i = 0; i < m->n_trainable; i++) {
    const frost_tensor_info *t = &m->trainable[i];
    ps[i] = (fr_ckpt_param){.name = t->name, .dtype = (fr_dtype)t->dtype,
                            .rank = t->rank, .offset = (int64_t)t->offset};
    for (int k = 0; k < t->rank && k < FR_MAX_RANK; k++) ps[i].dims[k] = t->dims[k];
  }
  fr_ckpt_sort(ps, m->n_trainable);
  *out = ps;
  return FR_OK;
}

static const char *const optimizers[] = {"sgd", "adam", "adamw"};
static const char *const schedules[] = {"constant", "step", "cosine"};

/* The checkpoint's identity of this artifact's model and layout. */
static void ckpt_identity(const frost_model_info *m, fr_ckpt *ck,
                          const fr_ckpt_param *ps, int slots) {
  const frost_train_info *tr = m->train;
  ck->model = m->model;
  snprintf(ck->model_sha256, sizeof ck->model_sha256, "%s", tr->model_sha256);
  ck->trainable_bytes = (int64_t)m->trainable_block_bytes;
  ck->state_slots = slots + 1;
  ck->n_params = m->n_trainable;
  ck->params = ps;
}

fr_status frt_load_weights(const frost_model_info *m, const char *dir) {
  const frost_train_info *tr = m->train;
  if (!tr)
    return fr_err(FR_ERR_USAGE, "--weights: this artifact was compiled without "
                  "--train: it has no weights to load");
  if (!fr_ckpt_exists(dir))
    return fr_err(FR_ERR_IO, "%s: no checkpoint there", dir);
  int slots = (int)tr->ints[FROST_I_SLOTS];
  fr_ckpt_param *ps = NULL;
  FR_TRY(ckpt_params(m, &ps));
  fr_ckpt ck = {0};
  ckpt_identity(m, &ck, ps, slots);
  /* Into a copy first: a bad checkpoint leaves the weights as they were. */
  size_t tb = (size_t)m->trainable_block_bytes;
  uint8_t *w = fr_malloc(tb + 64);
  uint8_t *state = fr_malloc((size_t)(slots + 1) * tb + 64);
  fr_status st = w && state ? FR_OK : fr_err_nomem(NULL);
  if (st == FR_OK) st = fr_ckpt_load(dir, &ck, w, state);
  if (st == FR_OK) memcpy(m->trainable_block, w, tb);
  fr_ckpt_release(&ck);
  fr_free(w);
  fr_free(state);
  fr_free(ps);
  return st;
}

/* ---- OUT train ------------------------------------------------------- */

uint64_t frt_train_activation_bytes(const frost_train_info *t) {
  uint64_t b[4] = {t->step_bytes, t->eval_bytes, t->features_bytes, t->frontend_bytes};
  uint64_t act = 0;
  for (int i = 0; i < 4; i++) act = b[i] > act ? b[i] : act;
  return act;
}

typedef struct art {
  const frost_model_info *m;
  const frost_train_info *tr;
  int64_t B, C;
  void *arena;    /* the largest of the step, eval, backbone, front end */
  uint64_t arena_bytes;
  int x_slot, t_slot, w_slot;
  const void *ins[3];
  void **outs; /* loss, logits, --bn-train's statistics, then the
                  gradients in the grad block */
  float loss;
  float *x, *targets, *weights, *logits; /* the batch (one allocation) */
  int64_t xnumel;
  float *xin;     /* the backbone's input at the batch, or NULL */
  uint8_t *grad;  /* the gradient block */
  uint8_t *stats; /* the statistics' new values */
} art;

static fr_status step(void *ctx, bool train, double *loss, const float **logits) {
  art *a = ctx;
  frost_fn f = train || !a->tr->eval ? a->tr->step : a->tr->eval;
  f(a->ins, a->outs, a->arena);
  *loss = a->loss;
  *logits = a->logits;
  int64_t ns = a->tr->ints[FROST_I_N_STATS];
  for (int64_t i = 0; train && i < ns; i++)
    memcpy((uint8_t *)a->m->trainable_block + a->tr->stats[i].offset, a->outs[2 + i],
           (size_t)a->tr->stats[i].bytes);
  return FR_OK;
}

/* The buffers of the compiled training's functions: the step's inputs
 * (samples or features, targets, weights; found by name), its outputs
 * (loss, logits, the statistics' new values, the gradients at their
 * places in the gradient block), one activation buffer for them all. */
static fr_status art_open(art *a, const frost_model_info *m) {
  const frost_train_info *tr = m->train;
  *a = (art){.m = m, .tr = tr, .B = tr->ints[FROST_I_BATCH],
             .C = tr->ints[FROST_I_CLASSES]};
  for (int i = 0; i < 3; i++) {
    const char *nm = tr->step_inputs[i].name;
    if (!strcmp(nm, "frost.targets")) a->t_slot = i;
    else if (!strcmp(nm, "frost.weights")) a->w_slot = i;
    else a->x_slot = i;
  }
  a->arena_bytes = frt_train_activation_bytes(tr);
  a->xnumel = (int64_t)(tr->step_inputs[a->x_slot].bytes / sizeof(float));
  int64_t B = a->B, C = a->C, ns = tr->ints[FROST_I_N_STATS];
  uint64_t sb = 0;
  for (int64_t i = 0; i < ns; i++) sb += tr->stats[i].bytes;
  a->arena = aligned_alloc(64, (a->arena_bytes + 63) / 64 * 64 + 64);
  a->grad = fr_calloc((size_t)m->grad_block_bytes + 64, 1);
  a->x = fr_calloc((size_t)(a->xnumel + 2 * B * C + B + 64), sizeof(float));
  a->outs = fr_calloc((size_t)(2 + ns + tr->n_grads), sizeof *a->outs);
  a->stats = fr_malloc((size_t)sb + 64);
  if (tr->features) {
    const frost_tensor_info *in = &m->inputs[0];
    int64_t per = (int64_t)(in->bytes / sizeof(float)) / (in->dims[0] > 0 ? in->dims[0] : 1);
    a->xin = fr_calloc((size_t)(per * B) + 16, sizeof(float));
  }
  if (!a->arena || !a->grad || !a->x || !a->outs || !a->stats ||
      (tr->features && !a->xin))
    return fr_err_nomem(NULL);
  a->targets = a->x + a->xnumel;
  a->weights = a->targets + B * C;
  a->logits = a->weights + B;
  a->ins[a->x_slot] = a->x;
  a->ins[a->t_slot] = a->targets;
  a->ins[a->w_slot] = a->weights;
  a->outs[0] = &a->loss;
  a->outs[1] = a->logits;
  uint64_t at = 0;
  for (int64_t i = 0; i < ns; i++) {
    a->outs[2 + i] = a->stats + at;
    at += tr->stats[i].bytes;
  }
  for (int k = 0; k < tr->n_grads; k++)
    a->outs[2 + ns + k] = a->grad + tr->grads[k].offset;
  return FR_OK;
}

static void art_close(art *a) {
  free(a->arena);
  fr_free(a->grad);
  fr_free(a->x);
  fr_free(a->outs);
  fr_free(a->stats);
  fr_free(a->xin);
}

/* The samples of d through the compiled backbone, B at a time: d then
 * holds the features the step starts from (frost train's feature cache). */
static fr_status features(art *a, fr_dataset *d) {
  float *xin = a->xin;
  int64_t B = a->B;
  const frost_train_info *tr = a->tr;
  int64_t F = (int64_t)tr->features_numel;
  float *feat = fr_malloc(sizeof(float) * (size_t)(d->n * F + 1));
  float *out = fr_malloc(sizeof(float) * (size_t)(B * F + 1));
  int *order = fr_malloc(sizeof(int) * (size_t)(d->n + 1));
  if (!feat || !out || !order) {
    fr_free(feat), fr_free(out), fr_free(order);
    return fr_err_nomem(NULL);
  }
  for (int i = 0; i < d->n; i++) order[i] = i;
  for (int s = 0; s < d->n; s += (int)B) {
    int n = d->n - s < B ? d->n - s : (int)B;
    memset(xin, 0, sizeof(float) * (size_t)(B * d->numel));
    fr_dataset_gather(d, order, s, n, xin, NULL, NULL);
    const void *in[1] = {xin};
    void *o[1] = {out};
    tr->features(in, o, a->arena);
    memcpy(feat + (int64_t)s * F, out, sizeof(float) * (size_t)(n * F));
  }
  fr_free(out);
  fr_free(order);
  fr_free(d->x);
  d->x = feat;
  d->numel = F;
  const frost_tensor_info *fi = &tr->step_inputs[a->x_slot];
  d->rank = fi->rank - 1;
  for (int i = 1; i < fi->rank; i++) d->dims[i - 1] = fi->dims[i];
  return FR_OK;
}

/* The samples' shape must be the model's input without its batch. */
static fr_status check_samples(const frost_model_info *m, const fr_dataset *d,
                               const char *path) {
  const frost_tensor_info *x = &m->inputs[0];
  bool same = d->rank == x->rank - 1;
  for (int i = 0; same && i < d->rank; i++) same = d->dims[i] == x->dims[i + 1];
  if (same) return FR_OK;
  char a[128] = "", b[128] = "";
  size_t k = 0, j = 0;
  for (int i = 0; i < d->rank && k < 100; i++)
    k += (size_t)snprintf(a + k, sizeof a - k, "%s%lld", i ? "," : "", (long long)d->dims[i]);
  for (int i = 1; i < x->rank && j < 100; i++)
    j += (size_t)snprintf(b + j, sizeof b - j, "%s%lld", i > 1 ? "," : "", (long long)x->dims[i]);
  return fr_err(FR_ERR_SHAPE, "%s: its samples are [%s], the model was compiled "
                "for samples of [%s]", path, a, b);
}

static fr_status parse_num(const char *opt, const char *v, double lo, double hi,
                           double *out) {
  char *end;
  errno = 0;
  double x = v ? strtod(v, &end) : 0;
  if (!v || !*v || *end || errno || !(x >= lo && x <= hi))
    return fr_err(FR_ERR_USAGE, "%s: expects a number in [%g, %g], got '%s'", opt,
                  lo, hi, v ? v : "");
  *out = x;
  return FR_OK;
}

/* The compiled-in options, then the command line's. */
static fr_status train_options(const frost_model_info *m, int argc, char **argv,
                               fr_train_opts *o, const char **data,
                               const char **out_dir) {
  const frost_train_info *tr = m->train;
  const double *h = tr->hyper;
  const int64_t *n = tr->ints;
  *o = (fr_train_opts){
      .loss_kind = (int)n[FROST_I_LOSS],
      .label_smoothing = h[FROST_H_LABEL_SMOOTHING],
      .optimizer = optimizers[n[FROST_I_OPTIMIZER] % 3],
      .lr = h[FROST_H_LR], .lr_backbone = h[FROST_H_LR_BACKBONE],
      .momentum = h[FROST_H_MOMENTUM], .weight_decay = h[FROST_H_WEIGHT_DECAY],
      .beta1 = h[FROST_H_BETA1], .beta2 = h[FROST_H_BETA2], .eps = h[FROST_H_EPS],
      .clip_norm = h[FROST_H_CLIP_NORM], .nesterov = n[FROST_I_NESTEROV] != 0,
      .schedule = schedules[n[FROST_I_SCHEDULE] % 3], .warmup = n[FROST_I_WARMUP],
      .step_epochs = (int)n[FROST_I_STEP_EPOCHS], .gamma = h[FROST_H_GAMMA],
      .batch = n[FROST_I_BATCH], .max_steps = n[FROST_I_MAX_STEPS],
      .epochs = (int)n[FROST_I_EPOCHS], .patience = (int)n[FROST_I_PATIENCE],
      .seed = (uint64_t)n[FROST_I_SEED], .val_split = h[FROST_H_VAL_SPLIT],
      .no_shuffle = n[FROST_I_NO_SHUFFLE] != 0,
      .augment = {.crop_pad = (int)n[FROST_I_AUG_CROP_PAD],
                  .hflip = n[FROST_I_AUG_HFLIP] != 0,
                  .rotate_deg = (float)h[FROST_H_AUG_ROTATE],
                  .scale_min = (float)h[FROST_H_AUG_SCALE_MIN],
                  .scale_max = (float)h[FROST_H_AUG_SCALE_MAX],
                  .noise = (float)h[FROST_H_AUG_NOISE]}};
  int ncw = (int)n[FROST_I_N_CLASS_WEIGHTS];
  for (int i = 0; tr->class_weights && i < ncw && i < 256; i++)
    o->class_weights[i] = tr->class_weights[i];
  o->n_class_weights = tr->class_weights ? (ncw < 256 ? ncw : 256) : 0;
  o->data = data_opts(m);
  *data = NULL;
  *out_dir = NULL;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
    double v;
    bool takes = strcmp(a, "--resume") != 0 && a[0] == '-';
    if (takes && !next) return fr_err(FR_ERR_USAGE, "%s needs an argument", a);
    if (!strcmp(a, "--epochs")) {
      FR_TRY(parse_num(a, next, 1, 1e6, &v));
      o->epochs = (int)v;
    } else if (!strcmp(a, "--lr")) {
      FR_TRY(parse_num(a, next, 0, 1e6, &v));
      o->lr = v;
    } else if (!strcmp(a, "--seed")) {
      FR_TRY(parse_num(a, next, 0, 9007199254740992.0, &v));
      o->seed = (uint64_t)v;
    } else if (!strcmp(a, "--patience")) {
      FR_TRY(parse_num(a, next, 0, 1e6, &v));
      o->patience = (int)v;
    } else if (!strcmp(a, "--val-split")) {
      FR_TRY(parse_num(a, next, 0, 0.99, &v));
      o->val_split = v;
    } else if (!strcmp(a, "--val")) {
      o->val_dir = next;
    } else if (!strcmp(a, "--checkpoint-dir")) {
      o->checkpoint_dir = next;
    } else if (!strcmp(a, "--log-json")) {
      o->log_json = next;
    } else if (!strcmp(a, "--plot")) {
      o->plot = next;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      *out_dir = next;
    } else if (!strcmp(a, "--resume")) {
      o->resume = true;
      continue;
    } else if (a[0] == '-' && a[1]) {
      return fr_err(FR_ERR_USAGE, "unknown option '%s' of train (the batch, "
                    "the head and the optimizer are compiled in; see --help)", a);
    } else if (!*data) {
      *data = a;
      continue;
    } else {
      return fr_err(FR_ERR_USAGE, "unexpected argument '%s'", a);
    }
    i++;
  }
  if (!*data) return fr_err(FR_ERR_USAGE, "train DATA: no DATA");
  if (o->val_dir && o->val_split > 0)
    return fr_err(FR_ERR_USAGE, "--val and --val-split: one or the other");
  return FR_OK;
}

/* Clips for a front end: WAV of the compiled length. */
static fr_status check_clips(const frost_model_info *m, const fr_dataset *d,
                             const char *path) {
  int64_t L = m->train->ints[FROST_I_CLIP_SAMPLES];
  if (d->rank != 1 || !d->sample_rate)
    return fr_err(FR_ERR_SHAPE, "%s: the artifact takes WAV clips (its front "
                  "end is compiled in), not samples of rank %d", path, d->rank);
  if (d->numel != L)
    return fr_err(FR_ERR_SHAPE, "%s: its clips have %lld samples, the artifact "
                  "was compiled for %lld (--clip-samples)", path,
                  (long long)d->numel, (long long)L);
  return FR_OK;
}

static fr_status check_set(const frost_model_info *m, const fr_dataset *d,
                           const char *path) {
  return m->train->frontend ? check_clips(m, d, path) : check_samples(m, d, path);
}

static fr_status load_sets(const frost_model_info *m, const fr_train_opts *o,
                           const char *data, fr_dataset *train, fr_dataset *val) {
  fr_data_opts dop = data_opts(m);
  fr_dataset all = {0};
  FR_TRY(fr_dataset_load(data, &dop, &all));
  fr_status st = check_set(m, &all, data);
  if (st == FR_OK && o->val_dir) {
    *train = all;
    all = (fr_dataset){0};
    st = fr_dataset_load(o->val_dir, &dop, val);
    if (st == FR_OK) st = check_set(m, val, o->val_dir);
  } else if (st == FR_OK && o->val_split > 0) {
    st = fr_dataset_split(&all, o->val_split, o->seed, train, val);
  } else if (st == FR_OK) {
    *train = all;
    all = (fr_dataset){0};
  }
  fr_dataset_free(&all);
  if (st == FR_OK && train->n == 0) st = fr_err(FR_ERR_INVALID, "%s: no samples", data);
  return st;
}

/* The compiled front end (fr_frontend_fn). */
typedef struct fe {
  const frost_train_info *tr;
  void *arena;
  float *out;
} fe;

static fr_status frontend_run(void *ctx, const float *in, const float **out,
                              int64_t *n, int64_t *last) {
  fe *f = ctx;
  const void *i[1] = {in};
  void *o[1] = {f->out};
  f->tr->frontend(i, o, f->arena);
  *out = f->out;
  *n = f->tr->ints[FROST_I_FRONTEND_OUT];
  *last = f->tr->ints[FROST_I_FRONTEND_LAST];
  return FR_OK;
}

/* Every clip of d through the front end into windows, as frost train
 * --frontend makes them (runtime/clips.c). */
static fr_status clips_to_windows(const frost_model_info *m, art *a,
                                  fr_dataset *d, int **group, int *clips) {
  const frost_train_info *tr = m->train;
  const int64_t *n = tr->ints;
  fr_window_opts wo = {.scale = {(float)tr->hyper[FROST_H_FRONTEND_A],
                                 (float)tr->hyper[FROST_H_FRONTEND_B]},
                       .window = n[FROST_I_WINDOW], .hop = n[FROST_I_HOP],
                       .rank = m->inputs[0].rank - 1, .numel = 1};
  for (int i = 1; i < m->inputs[0].rank; i++) {
    wo.dims[i - 1] = m->inputs[0].dims[i];
    wo.numel *= m->inputs[0].dims[i];
  }
  fe f = {.tr = tr, .arena = a->arena};
  float *in = fr_malloc(sizeof(float) * (size_t)(n[FROST_I_CLIP_SAMPLES] + 1));
  f.out = fr_malloc(sizeof(float) * (size_t)(n[FROST_I_FRONTEND_OUT] + 1));
  fr_status st = in && f.out ? FR_OK : fr_err_nomem(NULL);
  if (st == FR_OK) st = fr_clips_to_windows(d, frontend_run, &f, in, &wo, group, clips);
  fr_free(in);
  fr_free(f.out);
  return st;
}

/* The classes (or number columns) of d must be the compiled head's. */
static fr_status check_targets(const fr_dataset *d, const char *path, int64_t C,
                               int loss_kind, bool *classify) {
  *classify = d->label != NULL;
  if (*classify && d->n_classes != C)
    return fr_err(FR_ERR_INVALID, "%s has %d classes, the artifact's head %lld",
                  path, d->n_classes, (long long)C);
  if (!*classify && d->n_targets != C)
    return fr_err(FR_ERR_INVALID, "%s has %d number columns, the artifact's "
                  "head %lld outputs", path, d->n_targets, (long long)C);
  if (!*classify && loss_kind == FR_LOSS_CE)
    return fr_err(FR_ERR_INVALID, "%s has number columns, not classes: the "
                  "artifact was compiled for the cross-entropy", path);
  return FR_OK;
}

fr_status frt_train(const frost_model_info *m, int argc, char **argv) {
  const frost_train_info *tr = m->train;
  if (!tr)
    return fr_err(FR_ERR_UNSUPPORTED, "train: this artifact was compiled "
                  "without --train (frost compile MODEL --train --head ...)");
  fr_train_opts o;
  const char *data, *out_dir;
  FR_TRY(train_options(m, argc, argv, &o, &data, &out_dir));
  if (out_dir) FR_TRY(fr_file_check_target(out_dir));
  fr_dataset train = {0}, val = {0};
  art a = {0};
  int slots = (int)tr->ints[FROST_I_SLOTS];
  size_t tb = (size_t)m->trainable_block_bytes;
  uint8_t *state = NULL;
  fr_ckpt_param *ps = NULL;
  fr_tl_param *tp = NULL;
  bool classify = false;
  int64_t C = tr->ints[FROST_I_CLASSES];
  fr_status st = load_sets(m, &o, data, &train, &val);
  if (st == FR_OK) st = check_targets(&train, data, C, o.loss_kind, &classify);
  if (st == FR_OK && val.n) st = check_targets(&val, o.val_dir ? o.val_dir : data,
                                               C, o.loss_kind, &(bool){0});
  if (st == FR_OK) st = art_open(&a, m);
  if (st == FR_OK) {
    state = fr_calloc((size_t)(slots + 1) * tb + 64, 1);
    tp = fr_calloc((size_t)tr->n_grads + 1, sizeof *tp);
    if (!state || !tp) st = fr_err_nomem(NULL);
  }
  if (st == FR_OK) st = ckpt_params(m, &ps);
  int *group[2] = {NULL, NULL}, clips[2] = {0, 0};
  if (st == FR_OK && tr->frontend) {
    st = clips_to_windows(m, &a, &train, &group[0], &clips[0]);
    if (st == FR_OK && val.n) st = clips_to_windows(m, &a, &val, &group[1], &clips[1]);
    if (st == FR_OK)
      printf("front end: %d clips into %d windows\n", clips[0] + clips[1],
             train.n + val.n);
  }
  if (st == FR_OK && tr->features) {
    st = features(&a, &train);
    if (st == FR_OK && val.n) st = features(&a, &val);
    if (st == FR_OK)
      printf("feature cache: %d samples through the frozen backbone, %lld "
             "floats each\n", train.n + val.n, (long long)tr->features_numel);
  }
  int pool = (int)tr->ints[FROST_I_POOL];
  if (st == FR_OK && pool && group[0]) {
    st = fr_pool_windows(&train, group[0], clips[0], pool);
    if (st == FR_OK && val.n) st = fr_pool_windows(&val, group[1], clips[1], pool);
  }
  fr_free(group[0]);
  fr_free(group[1]);
  for (int k = 0; st == FR_OK && k < tr->n_grads; k++) {
    const frost_tensor_info *g = &tr->grads[k];
    tp[k] = (fr_tl_param){.name = g->name, .offset = (int64_t)g->offset,
                          .numel = (int64_t)(g->bytes / sizeof(float)),
                          .backbone = strncmp(g->name, "frost.head.", 11) != 0};
  }
  if (st == FR_OK) {
    fr_trainloop tl = {.o = &o, .step = step, .ctx = &a, .train = &train,
                       .val = &val, .B = a.B, .C = C, .classify = classify,
                       .x = a.x, .targets = a.targets, .weights = a.weights,
                       .trainable = m->trainable_block, .grad = a.grad,
                       .state = state, .tbytes = (int64_t)tb, .slots = slots,
                       .params = tp, .n_params = tr->n_grads, .model = m->model,
                       .ck_params = ps, .n_ck_params = m->n_trainable,
                       .out = stdout, .title = m->model, .final_dir = out_dir};
    snprintf(tl.model_sha256, sizeof tl.model_sha256, "%s", tr->model_sha256);
    printf("data: %s: %d samples", data, train.n);
    if (classify) printf(", %d classes", train.n_classes);
    if (val.n) printf("; validation: %d samples", val.n);
    printf("\ntrain step: batch %lld, %llu bytes of activations, parameters "
           "%zu + gradients %zu + optimizer %zu bytes\n", (long long)a.B,
           (unsigned long long)a.arena_bytes, tb, tb, (size_t)slots * tb);
    st = fr_trainloop_run(&tl);
  }
  /* -o DIR: the trainloop wrote the checkpoint; the class names beside. */
  if (st == FR_OK && out_dir) {
    write_classes(out_dir, &train);
    printf("wrote %s (the learned weights: --weights %s)\n", out_dir, out_dir);
  }
  art_close(&a);
  fr_free(state);
  fr_free(tp);
  fr_free(ps);
  fr_dataset_free(&train);
  fr_dataset_free(&val);
  return st;
}

/* ---- OUT export ------------------------------------------------------ */

fr_status frt_export(const frost_model_info *m, const char *path) {
  const frost_train_info *tr = m->train;
  if (!tr)
    return fr_err(FR_ERR_UNSUPPORTED, "export: this artifact was compiled "
                  "without --train: it holds no ONNX model to write");
  if (!tr->onnx)
    return fr_err(FR_ERR_UNSUPPORTED, "export: this artifact holds no ONNX "
                  "model (frost compile warned why)");
  FR_TRY(fr_file_check_target(path));
  size_t n = (size_t)tr->onnx_bytes;
  uint8_t *buf = fr_malloc(n + 1);
  if (!buf) return fr_err_nomem(NULL);
  memcpy(buf, tr->onnx, n);
  for (int i = 0; i < m->n_trainable; i++) {
    const frost_tensor_info *t = &m->trainable[i];
    uint64_t at = tr->onnx_offsets[i];
    if (at == UINT64_MAX || at > n || t->bytes > n - at) {
      fr_free(buf);
      return fr_err(FR_ERR_INVALID, "export: the parameter '%s' has no place "
                    "in the embedded model", t->name);
    }
    memcpy(buf + at, (const uint8_t *)m->trainable_block + t->offset, t->bytes);
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  fr_status st = FR_OK;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) st = fr_err(FR_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
  size_t off = 0;
  while (st == FR_OK && off < n) {
    ssize_t w = write(fd, buf + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) st = fr_err(FR_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
    else off += (size_t)w;
  }
  if (fd >= 0 && close(fd) != 0 && st == FR_OK)
    st = fr_err(FR_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
  if (st == FR_OK && rename(tmp, path) != 0)
    st = fr_err(FR_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
  if (st != FR_OK && fd >= 0) unlink(tmp);
  fr_free(buf);
  if (st == FR_OK) printf("wrote %s (%zu bytes)\n", path, n);
  return st;
}

/* ---- OUT run --wav ----------------------------------------------------- */

/* DIR/classes.txt, written by OUT train -o DIR: one class name a line. */
static void write_classes(const char *dir, const fr_dataset *d) {
  if (!d->class_names) return;
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/classes.txt", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  for (int i = 0; i < d->n_classes; i++) fprintf(f, "%s\n", d->class_names[i]);
  if (fclose(f) == 0) rename(tmp, path);
  else unlink(tmp);
}

/* Class c's name from DIR/classes.txt, or its number. */
static void class_name(const char *dir, int c, char *out, size_t n) {
  snprintf(out, n, "class %d", c);
  if (!dir) return;
  char path[4200], line[256];
  snprintf(path, sizeof path, "%s/classes.txt", dir);
  FILE *f = fopen(path, "r");
  if (!f) return;
  for (int i = 0; fgets(line, sizeof line, f); i++)
    if (i == c) {
      line[strcspn(line, "\r\n")] = 0;
      snprintf(out, n, "%s", line);
      break;
    }
  fclose(f);
}

/* Prints the top classes of the probabilities p (C of them; p is spent). */
static void print_top(double *p, int64_t C, const char *classes_dir) {
  for (int r = 0; r < C && r < 5; r++) {
    int best = 0;
    for (int64_t c = 1; c < C; c++)
      if (p[c] > p[best]) best = (int)c;
    char name[256];
    class_name(classes_dir, best, name, sizeof name);
    printf("  %-20s %.4f\n", name, p[best]);
    p[best] = -1;
  }
}

/* p[c] += softmax(z)[c] * w, C scores. */
static void add_softmax(const float *z, int64_t C, double w, double *p) {
  float mx = z[0];
  for (int64_t c = 1; c < C; c++) mx = z[c] > mx ? z[c] : mx;
  double sum = 0;
  for (int64_t c = 0; c < C; c++) sum += exp((double)(z[c] - mx));
  for (int64_t c = 0; c < C; c++) p[c] += exp((double)(z[c] - mx)) / sum * w;
}

fr_status frt_run_wav(const frost_model_info *m, const char *path,
                      const char *classes_dir) {
  const frost_train_info *tr = m->train;
  if (!tr || !tr->frontend)
    return fr_err(FR_ERR_USAGE, "--wav: this artifact has no audio front end "
                  "(frost compile --train --frontend MODEL)");
  float *x = NULL;
  int64_t n = 0;
  int rate = 0;
  FR_TRY(fr_wav_read(path, &x, &n, &rate));
  int64_t L = tr->ints[FROST_I_CLIP_SAMPLES];
  /* The clip at the compiled length: cut, or padded with silence. */
  fr_dataset d = {.n = 1, .rank = 1, .dims = {L}, .numel = L, .sample_rate = rate};
  d.x = fr_calloc((size_t)L + 1, sizeof(float));
  art a = {0};
  fr_status st = d.x ? art_open(&a, m) : fr_err_nomem(NULL);
  int64_t B = a.B, C = a.C;
  double *prob = fr_calloc((size_t)C + 1, sizeof(double));
  int *group = NULL, clips = 0;
  if (st == FR_OK && !prob) st = fr_err_nomem(NULL);
  if (st == FR_OK) {
    memcpy(d.x, x, sizeof(float) * (size_t)(n < L ? n : L));
    st = clips_to_windows(m, &a, &d, &group, &clips);
  }
  if (st == FR_OK && tr->features) st = features(&a, &d);
  int pool = (int)tr->ints[FROST_I_POOL];
  if (st == FR_OK && pool && tr->features) st = fr_pool_windows(&d, group, clips, pool);
  /* Each row (the clip, or each window) through the evaluation graph:
   * softmax of its logits, averaged over the rows. */
  int *idx = st == FR_OK ? fr_malloc(sizeof(int) * (size_t)(d.n + 1)) : NULL;
  if (st == FR_OK && !idx) st = fr_err_nomem(NULL);
  for (int i = 0; st == FR_OK && i < d.n; i++) idx[i] = i;
  for (int s = 0; st == FR_OK && s < d.n; s += (int)B) {
    int k = d.n - s < B ? d.n - s : (int)B;
    memset(a.x, 0, sizeof(float) * (size_t)a.xnumel);
    fr_dataset_gather(&d, idx, s, k, a.x, NULL, NULL);
    double loss;
    const float *z;
    st = step(&a, false, &loss, &z);
    for (int i = 0; st == FR_OK && i < k; i++) add_softmax(z + (int64_t)i * C, C, 1.0 / d.n, prob);
  }
  if (st == FR_OK) {
    printf("%s: %d window%s%s\n", path, d.n, d.n == 1 ? "" : "s",
           pool && tr->features ? " (pooled)" : "");
    print_top(prob, C, classes_dir);
  }
  fr_free(idx);
  fr_free(x);
  fr_free(group);
  art_close(&a);
  fr_free(prob);
  fr_dataset_free(&d);
  return st;
}

/* ---- OUT run --image / --sample ---------------------------------------- */

fr_status frt_run_sample(const frost_model_info *m, const char *path,
                         const char *classes_dir) {
  fr_data_opts dop = data_opts(m);
  float *x = NULL;
  int rank = 0;
  int64_t dims[FR_MAX_RANK];
  FR_TRY(fr_sample_load(path, &dop, &x, &rank, dims));
  fr_dataset d = {.n = 1, .rank = rank, .x = x, .numel = 1};
  for (int i = 0; i < rank; i++) d.dims[i] = dims[i], d.numel *= dims[i];
  fr_status st = check_samples(m, &d, path);
  const frost_tensor_info *in = &m->inputs[0], *out = &m->outputs[0];
  int64_t C = out->rank >= 2 ? out->dims[out->rank - 1] : 0;
  if (st == FR_OK && (m->n_inputs != 1 || in->dtype != 1 || out->dtype != 1 ||
                      out->rank != 2 || C <= 0))
    st = fr_err(FR_ERR_UNSUPPORTED, "--image: the model is not one float "
                "input to [batch, classes] scores");
  /* The sample in row 0 of the compiled batch. */
  float *xb = fr_calloc((size_t)(in->bytes / 4) + 1, sizeof(float));
  float *y = fr_calloc((size_t)(out->bytes / 4) + 1, sizeof(float));
  double *p = fr_calloc((size_t)C + 1, sizeof(double));
  if (st == FR_OK && (!xb || !y || !p)) st = fr_err_nomem(NULL);
  if (st == FR_OK) {
    memcpy(xb, x, sizeof(float) * (size_t)d.numel);
    const void *ins[1] = {xb};
    void *outs[1] = {y};
    st = frt_run_model(ins, outs);
  }
  if (st == FR_OK) {
    add_softmax(y, C, 1, p);
    printf("%s:\n", path);
    print_top(p, C, classes_dir);
  }
  fr_free(xb);
  fr_free(y);
  fr_free(p);
  fr_dataset_free(&d);
  return st;
}
