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
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"

/* The learning rate of step k (0-based) of total. */
static double schedule_lr(const fr_train_opts *o, int64_t k, int64_t total,
                          int64_t steps_per_epoch) {
  double base = o->lr;
  if (k < o->warmup) return base * (double)(k + 1) / (double)o->warmup;
  if (!strcmp(o->schedule, "cosine")) {
    int64_t span = total - o->warmup;
    double p = span > 0 ? (double)(k - o->warmup) / (double)span : 0;
    return base * 0.5 * (1 + cos(M_PI * p));
  }
  if (!strcmp(o->schedule, "step")) {
    int64_t epoch = steps_per_epoch ? k / steps_per_epoch : 0;
    return base * pow(o->gamma, (double)(epoch / (o->step_epochs ? o->step_epochs : 1)));
  }
  return base;
}

typedef struct trainer {
  fr_cli *c;
  const fr_train_opts *o;
  fr_model *m;
  fr_engine e;
  fr_dataset train, val;
  int64_t B, C, numel;    /* batch, classes/targets, sample size */
  bool classify;          /* labels (ce, bce on labels) vs numeric targets */
  fr_tensor in[3];        /* x, targets, weights */
  fr_tensor *inp[3];
  int x_slot, t_slot, w_slot;
  float *grad, *state;    /* the gradient block and the optimizer slots */
  float *best;            /* the trainable block of the best epoch */
  int64_t tbytes;
  fr_k_optim opt;
  int64_t step;
  int epoch;
  fr_rng rng;
  fr_trainlog *log;
  fr_ckpt_kv hyper[6]; /* the optimizer's, for checkpoints */
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
  fr_status aug_status;
} trainer;

static fr_status alloc_inputs(trainer *t) {
  const fr_graph *g = t->m->graph;
  if (g->n_inputs != 3)
    return fr_err(FR_ERR_UNSUPPORTED, "the model takes %d inputs; frost "
                  "train feeds models of one input", g->n_inputs - 2);
  t->x_slot = -1;
  for (int i = 0; i < 3; i++) {
    const fr_value *v = g->inputs[i];
    if (!strcmp(v->name, "frost.targets")) t->t_slot = i;
    else if (!strcmp(v->name, "frost.weights")) t->w_slot = i;
    else t->x_slot = i;
    t->in[i] = v->t;
    t->in[i].data = NULL;
    FR_TRY(fr_tensor_alloc(&t->in[i]));
    t->inp[i] = &t->in[i];
  }
  if (t->in[t->x_slot].dtype != FR_F32)
    return fr_err(FR_ERR_UNSUPPORTED, "the model's input '%s' is %s, not "
                  "float", g->inputs[t->x_slot]->name,
                  fr_dtype_name(t->in[t->x_slot].dtype));
  return FR_OK;
}

/* Fills the inputs with samples order[start..start+n) of d (n <= B). */
static void fill_batch(trainer *t, const fr_dataset *d, const int *order,
                       int start, int n, int n_total, int32_t *label) {
  float *x = t->in[t->x_slot].data, *tg = t->in[t->t_slot].data,
        *w = t->in[t->w_slot].data;
  memset(x, 0, sizeof(float) * (size_t)(t->B * t->numel));
  memset(tg, 0, sizeof(float) * (size_t)(t->B * t->C));
  memset(w, 0, sizeof(float) * (size_t)t->B);
  fr_dataset_gather(d, order, start, n, x, t->classify ? label : NULL,
                    t->classify ? NULL : tg);
  if (t->augment && d == &t->train)
    t->aug_status = fr_augment(x, n, d->rank, d->dims, t->o->data.nhwc, &t->rng,
                               &t->o->augment);
  float eps = t->o->label_smoothing;
  for (int i = 0; i < n; i++) {
    if (t->classify) {
      for (int64_t c = 0; c < t->C; c++) tg[i * t->C + c] = eps / (float)t->C;
      tg[i * t->C + label[i]] += 1 - eps;
    }
    /* ce: the mean over samples; bce, mse: over samples and columns */
    w[i] = 1.0f / (float)n_total;
    if (t->o->loss_kind != FR_LOSS_CE) w[i] /= (float)t->C;
  }
  /* Class weights, as PyTorch weighs: the loss is
   *   sum_i [(1 - e) w[y_i] nll_i + e / C sum_c w[c] (-log p_ic)] / sum_i w[y_i]
   * over the batch (training) or the whole set (validation): the targets
   * carry the weights, the sample weight the division. */
  const float *cw = t->o->class_weights;
  if (t->o->n_class_weights && t->classify) {
    double den = 0;
    if (n_total == n) {
      for (int i = 0; i < n; i++) den += cw[label[i]];
    } else if (d->label) { /* the whole set: its class counts, once */
      for (int i = 0; i < d->n; i++) den += cw[d->label[i]];
    }
    for (int i = 0; i < n; i++) {
      for (int64_t c = 0; c < t->C; c++) tg[i * t->C + c] = eps / (float)t->C * cw[c];
      tg[i * t->C + label[i]] += (1 - eps) * cw[label[i]];
      w[i] = den > 0 ? (float)(1.0 / den) : 0;
    }
  }
}

static int argmax(const float *v, int64_t n) {
  int k = 0;
  for (int64_t i = 1; i < n; i++)
    if (v[i] > v[k]) k = (int)i;
  return k;
}

/* One pass over d: trains when train, else only measures. */
static fr_status run_epoch(trainer *t, const fr_dataset *d, bool train,
                           int64_t total_steps, int64_t steps_per_epoch,
                           double *loss_out, double *acc_out, double *lr_out) {
  const fr_graph *g = t->m->graph;
  const fr_train_graph *tg = g->train;
  int *order = fr_malloc(sizeof(int) * (size_t)(d->n + 1));
  fr_tensor *out = fr_calloc((size_t)g->n_outputs, sizeof *out);
  if (!order || !out) {
    fr_free(order);
    fr_free(out);
    return fr_err_nomem(NULL);
  }
  int n_out = !train && t->em ? t->em->graph->n_outputs : g->n_outputs;
  for (int i = 0; i < d->n; i++) order[i] = i;
  if (train && !t->o->no_shuffle) fr_rng_shuffle(&t->rng, order, d->n);
  double loss = 0, lr = 0;
  int64_t correct = 0;
  fr_status st = FR_OK;
  int32_t label[4096];
  for (int s = 0; s < d->n && st == FR_OK; s += (int)t->B) {
    int n = d->n - s < t->B ? d->n - s : (int)t->B;
    if (t->o->max_steps && train && t->step >= t->o->max_steps) break;
    /* The loss is the mean over a train batch, but over the whole set for
     * validation (the weights then sum to 1 over all batches). */
    fill_batch(t, d, order, s, n, train ? n : d->n, label);
    if ((st = t->aug_status) != FR_OK) break;
    if (!train && t->em)
      st = t->ecomp ? fr_compiled_run(t->ecomp, t->inp, out)
                    : fr_run_model(t->em, t->inp, out);
    else
      st = fr_engine_run(&t->e, t->m, t->inp, out);
    if (st != FR_OK) break;
    double l = ((const float *)out[0].data)[0];
    if (!isfinite(l)) {
      st = fr_err(FR_ERR_INVALID, "the loss is %g at epoch %d, batch %d "
                  "(lower --lr, or clip with --clip-norm)", l, t->epoch,
                  s / (int)t->B + 1);
      break;
    }
    loss += train ? l * n / d->n : l;
    if (t->classify) {
      const float *z = out[1].data;
      for (int i = 0; i < n; i++) correct += argmax(z + i * t->C, t->C) == label[i];
    }
    if (train) {
      /* Gradients into their block, clipped, then the update. */
      double sq = 0;
      for (int k = 0; k < tg->n_params; k++) {
        const fr_value *p = tg->params[k];
        const fr_tensor *gr = &out[g->n_outputs - tg->n_params + k];
        int64_t ne = fr_tensor_numel(&p->t);
        float *gd = (float *)((char *)t->grad + p->param_off);
        memcpy(gd, gr->data, sizeof(float) * (size_t)ne);
        if (t->o->clip_norm > 0) sq += fr_k_sum_squares(ne, gd);
      }
      /* PyTorch's clip_grad_norm_: scale min(1, max / (norm + 1e-6)) */
      double norm = sqrt(sq), scale = 1;
      if (t->o->clip_norm > 0 && t->o->clip_norm / (norm + 1e-6) < 1)
        scale = t->o->clip_norm / (norm + 1e-6);
      t->step++;
      lr = schedule_lr(t->o, t->step - 1, total_steps, steps_per_epoch);
      t->opt.step = t->step;
      for (int k = 0; k < tg->n_params; k++) {
        const fr_value *p = tg->params[k];
        int64_t ne = fr_tensor_numel(&p->t);
        float *gd = (float *)((char *)t->grad + p->param_off);
        if (scale != 1) fr_k_scale(ne, gd, (float)scale);
        fr_k_optim o = t->opt;
        bool head = !strncmp(p->name, "frost.head.", 11);
        o.lr = (float)(lr * (!head && t->o->lr_backbone >= 0
                                 ? t->o->lr_backbone / t->o->lr : 1));
        float *s0 = (float *)((char *)t->state + p->param_off);
        float *s1 = (float *)((char *)t->state + t->tbytes + p->param_off);
        fr_k_optim_step(&o, ne, p->t.data, gd, s0, s1);
      }
    }
    for (int k = 0; train && k < t->n_stats; k++)
      memcpy(t->stats[k]->t.data, out[t->stat_slot[k]].data,
             fr_tensor_nbytes(&t->stats[k]->t));
    for (int i = 0; i < n_out; i++) fr_tensor_release(&out[i]);
    if (train) fr_trainlog_progress(t->log, s / t->B + 1, (d->n + t->B - 1) / t->B, l);
  }
  if (st != FR_OK)
    for (int i = 0; i < n_out; i++) fr_tensor_release(&out[i]);
  fr_free(out);
  fr_free(order);
  *loss_out = loss;
  *acc_out = t->classify && d->n ? (double)correct / d->n : NAN;
  *lr_out = lr;
  return st;
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

/* The checkpoint's description of the model and its layout. */
static fr_status describe(trainer *t, fr_ckpt *ck, fr_ckpt_param **out,
                          int slots) {
  /* Every parameter of the trainable block: the trainable ones and the
   * statistics --bn-train updates. */
  const fr_graph *g = t->m->graph;
  fr_ckpt_param *ps = fr_calloc((size_t)g->n_inits + 1, sizeof *ps);
  if (!ps) return fr_err_nomem(NULL);
  int np = 0;
  for (int i = 0; i < g->n_inits; i++) {
    const fr_value *p = g->inits[i];
    if (!(p->flags & FR_V_WRITABLE) || p->param_off < 0) continue;
    ps[np] = (fr_ckpt_param){.name = p->name, .dtype = p->t.dtype,
                             .rank = p->t.rank, .offset = p->param_off};
    memcpy(ps[np++].dims, p->t.dims, sizeof(int64_t) * (size_t)p->t.rank);
  }
  *out = ps;
  ck->model = t->c->model;
  FR_TRY(fr_sha256_file(t->c->model, ck->model_sha256));
  ck->trainable_bytes = t->tbytes;
  ck->state_slots = slots + 1; /* the optimizer's, then the best weights */
  ck->n_params = np;
  ck->params = ps;
  ck->optimizer = t->o->optimizer;
  const fr_train_opts *o = t->o;
  fr_ckpt_kv h[6] = {{"lr", o->lr}, {"momentum", o->momentum},
                     {"weight_decay", o->weight_decay}, {"beta1", o->beta1},
                     {"beta2", o->beta2}, {"eps", o->eps}};
  memcpy(t->hyper, h, sizeof h);
  ck->n_hyper = 6;
  ck->hyper = t->hyper;
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
  fr_model *bm = NULL;
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
  FR_TRY(fr_onnx_load(c->model, &lo, &bm));
  fr_graph *g = bm->graph;
  fr_value *src = fr_graph_find(g, b->name);
  if (!src && b->producer && b->producer->op == FR_OP_FLATTEN && b->producer->in[0])
    src = fr_graph_find(g, b->producer->in[0]->name);
  fr_status st = FR_OK;
  fr_engine e = {0};
  fr_pipeline_opts po = {0};
  int64_t F = fr_tensor_numel(&b->t) / t->B;
  if (!src || (src->flags & FR_V_CONST) || g->n_inputs != 1) goto out;
  fr_value *x = g->inputs[0];
  x->t.rank = t->train.rank + 1;
  x->t.dims[0] = t->B;
  for (int i = 0; i < t->train.rank; i++) x->t.dims[i + 1] = t->train.dims[i];
  x->t.kind = FR_KIND_TENSOR;
  for (int i = 0; i < g->n_outputs; i++) g->outputs[i]->flags &= ~(uint32_t)FR_V_OUTPUT;
  g->outputs[0] = src;
  g->n_outputs = 1;
  src->flags |= FR_V_OUTPUT;
  bool interp = c->engine && !strcmp(c->engine, "interp");
  e = (fr_engine){.name = interp ? "opt" : "jit", .cpu = c->cpu, .pipe = &po};
  double t0 = fr_cli_now_ms();
  st = fr_engine_prepare(&e, bm);
  if (st == FR_OK && (src->t.rank < 1 || fr_tensor_numel(&src->t) / t->B != F))
    goto out; /* not the same bytes: no cache */
  fr_tensor in = x->t, out = {0};
  in.data = NULL;
  if (st == FR_OK) st = fr_tensor_alloc(&in);
  fr_tensor *inp = &in;
  fr_dataset *sets[2] = {&t->train, &t->val};
  int64_t n_done = 0;
  for (int k = 0; k < 2 && st == FR_OK; k++) {
    fr_dataset *d = sets[k];
    if (!d->n) continue;
    float *feat = fr_malloc(sizeof(float) * (size_t)(d->n * F + 1));
    int *order = fr_malloc(sizeof(int) * (size_t)(d->n + 1));
    if (!feat || !order) st = fr_err_nomem(NULL);
    for (int i = 0; st == FR_OK && i < d->n; i++) order[i] = i;
    for (int s = 0; st == FR_OK && s < d->n; s += (int)t->B) {
      int n = d->n - s < t->B ? d->n - s : (int)t->B;
      memset(in.data, 0, fr_tensor_nbytes(&in));
      fr_dataset_gather(d, order, s, n, in.data, NULL, NULL);
      st = fr_engine_run(&e, bm, &inp, &out);
      if (st == FR_OK) memcpy(feat + (int64_t)s * F, out.data, sizeof(float) * (size_t)(n * F));
      fr_tensor_release(&out);
    }
    fr_free(order);
    if (st != FR_OK) {
      fr_free(feat);
      break;
    }
    n_done += d->n;
    if (t->o->pool && t->group[k]) { /* windows to clips */
      int nc = t->clips[k];
      float *pf = fr_calloc((size_t)(nc * F + 1), sizeof(float));
      int32_t *pl = fr_malloc(sizeof(int32_t) * (size_t)(nc + 1));
      int *cnt = fr_calloc((size_t)nc + 1, sizeof(int));
      if (!pf || !pl || !cnt) {
        fr_free(pf), fr_free(pl), fr_free(cnt), fr_free(feat);
        st = fr_err_nomem(NULL);
        break;
      }
      for (int w = 0; w < d->n; w++) {
        int g = t->group[k][w];
        float *dst = pf + (int64_t)g * F;
        const float *src = feat + (int64_t)w * F;
        for (int64_t f = 0; f < F; f++)
          dst[f] = t->o->pool == 2 && cnt[g] ? (src[f] > dst[f] ? src[f] : dst[f])
                   : t->o->pool == 2         ? src[f]
                                             : dst[f] + src[f];
        cnt[g]++;
        pl[g] = d->label ? d->label[w] : -1;
      }
      if (t->o->pool == 1)
        for (int g = 0; g < nc; g++)
          for (int64_t f = 0; f < F; f++) pf[(int64_t)g * F + f] /= (float)(cnt[g] ? cnt[g] : 1);
      fr_free(feat);
      fr_free(cnt);
      feat = pf;
      if (d->label) {
        fr_free(d->label);
        d->label = pl;
      } else {
        fr_free(pl);
      }
      d->n = nc;
    }
    fr_free(d->x);
    d->x = feat;
    d->numel = F;
    d->rank = b->t.rank - 1;
    for (int i = 1; i < b->t.rank; i++) d->dims[i - 1] = b->t.dims[i];
  }
  fr_tensor_release(&in);
  if (st == FR_OK) {
    *done = true;
    t->backbone_s = (fr_cli_now_ms() - t0) / 1e3;
    printf("feature cache: %lld samples through the frozen backbone up to "
           "'%s' in %.2f s, %lld floats each\n", (long long)n_done, src->name,
           t->backbone_s, (long long)F);
  }
out:
  fr_engine_free(&e);
  fr_model_free(bm);
  return st;
}

/* ---- audio through a front end --------------------------------------- */

/* One clip x (L samples in [-1, 1)) through the front end: PCM16 units
 * in (as openWakeWord feeds its melspectrogram), frames (T, F) out, each
 * value scaled by A and shifted by B. */
static fr_status frontend_clip(fr_engine *e, fr_model *fm, fr_tensor *in,
                               const float *x, int64_t L, float A, float B,
                               float **frames, int64_t *T, int64_t *F) {
  float *d = in->data;
  for (int64_t i = 0; i < L; i++) d[i] = x[i] * 32768.0f;
  fr_tensor out = {0};
  fr_tensor *inp = in;
  FR_TRY(fr_engine_run(e, fm, &inp, &out));
  fr_status st = FR_OK;
  if (out.rank < 2 || out.dtype != FR_F32) {
    st = fr_err(FR_ERR_SHAPE, "the front end's output is not float frames");
  } else {
    *F = out.dims[out.rank - 1];
    *T = fr_tensor_numel(&out) / (*F ? *F : 1);
    *frames = fr_malloc(sizeof(float) * (size_t)(*T * *F + 1));
    if (!*frames) st = fr_err_nomem(NULL);
    for (int64_t i = 0; st == FR_OK && i < *T * *F; i++)
      (*frames)[i] = ((const float *)out.data)[i] * A + B;
  }
  fr_tensor_release(&out);
  return st;
}

/* Replaces the clips of d by windows of N frames, H apart (a clip shorter
 * than N: one window, zero-padded; N 0: the whole clip), shaped as the
 * model's samples (dims, numel of a window). group[i] is window i's clip
 * (NULL: not wanted). */
static fr_status windows_of(trainer *t, fr_dataset *d, fr_engine *e,
                            fr_model *fm, fr_tensor *in, int **group) {
  const fr_train_opts *o = t->o;
  float *all = NULL;
  int32_t *labels = NULL;
  int *grp = NULL;
  int64_t n_win = 0, cap = 0, wsize = 0, F0 = -1;
  fr_status st = FR_OK;
  for (int c = 0; c < d->n && st == FR_OK; c++) {
    float *fr = NULL;
    int64_t T = 0, F = 0;
    st = frontend_clip(e, fm, in, d->x + (int64_t)c * d->numel, d->numel,
                       o->frontend_scale[0], o->frontend_scale[1], &fr, &T, &F);
    if (st != FR_OK) break;
    if (F0 < 0) F0 = F;
    int64_t N = o->window ? o->window : T, H = o->hop ? o->hop : N;
    wsize = N * F;
    int64_t k = T < N ? 1 : (T - N) / H + 1;
    if (n_win + k > cap) {
      cap = 2 * (n_win + k) + 16;
      float *na = fr_realloc(all, sizeof(float) * (size_t)(cap * wsize));
      int32_t *nl = fr_realloc(labels, sizeof(int32_t) * (size_t)cap);
      int *ng = fr_realloc(grp, sizeof(int) * (size_t)cap);
      if (na) all = na;
      if (nl) labels = nl;
      if (ng) grp = ng;
      if (!na || !nl || !ng) st = fr_err_nomem(NULL);
    }
    for (int64_t w = 0; w < k && st == FR_OK; w++) {
      float *dst = all + n_win * wsize;
      memset(dst, 0, sizeof(float) * (size_t)wsize);
      int64_t start = w * H, len = T - start < N ? T - start : N;
      memcpy(dst, fr + start * F, sizeof(float) * (size_t)(len * F));
      labels[n_win] = d->label ? d->label[c] : -1;
      grp[n_win++] = c;
    }
    fr_free(fr);
  }
  if (st == FR_OK && wsize != t->model_numel)
    st = fr_err(FR_ERR_SHAPE, "windows of %lld values (%lld frames of %lld) "
                "do not fit the model's input of %lld values per sample "
                "(see --window)", (long long)wsize,
                (long long)(F0 > 0 ? wsize / F0 : 0), (long long)F0,
                (long long)t->model_numel);
  if (st != FR_OK) {
    fr_free(all), fr_free(labels), fr_free(grp);
    return st;
  }
  fr_free(d->x);
  fr_free(d->label);
  d->x = all;
  d->label = d->label ? labels : (fr_free(labels), NULL);
  d->n = (int)n_win;
  d->numel = wsize;
  d->rank = t->model_rank;
  memcpy(d->dims, t->model_dims, sizeof d->dims);
  d->paths = NULL;
  if (group) *group = grp;
  else fr_free(grp);
  return FR_OK;
}

/* --frontend MODEL: every clip of the data through it, then windows. */
static fr_status apply_frontend(trainer *t) {
  fr_cli *c = t->c;
  const fr_train_opts *o = t->o;
  if (t->train.rank != 1 || !t->train.sample_rate)
    return fr_err(FR_ERR_USAGE, "--frontend takes WAV clips; %s holds "
                  "samples of rank %d", c->second, t->train.rank);
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
    x->t.dims[1] = t->train.numel;
    x->t.kind = FR_KIND_TENSOR;
    bool interp = c->engine && !strcmp(c->engine, "interp");
    e = (fr_engine){.name = interp ? "opt" : "jit", .cpu = c->cpu, .pipe = &po};
    st = fr_engine_prepare(&e, fm);
    if (st != FR_OK) fr_err_prefix(o->frontend);
    in = x->t;
    in.data = NULL;
    if (st == FR_OK) st = fr_tensor_alloc(&in);
  }
  double t0 = fr_cli_now_ms();
  int clips = t->train.n + t->val.n;
  if (st == FR_OK) st = windows_of(t, &t->train, &e, fm, &in, &t->group[0]);
  if (st == FR_OK && t->val.n) st = windows_of(t, &t->val, &e, fm, &in, &t->group[1]);
  if (st == FR_OK) {
    t->clips[0] = t->group[0] ? t->group[0][t->train.n - 1] + 1 : 0;
    t->clips[1] = t->group[1] && t->val.n ? t->group[1][t->val.n - 1] + 1 : 0;
    printf("front end: %d clips into %d windows through %s in %.2f s\n",
           clips, t->train.n + t->val.n, o->frontend,
           (fr_cli_now_ms() - t0) / 1e3);
  }
  fr_tensor_release(&in);
  fr_engine_free(&e);
  fr_model_free(fm);
  return st;
}

/* The evaluation graph: the model built as the training graph but without
 * backward nodes (the autodiff pass has no g->train to act on), whose
 * trainable parameters read the training graph's trainable block: the same
 * layout, so the same offsets (checked). Validation runs it: no gradient
 * computed, and later BatchNormalization in inference form. When the
 * layouts differ, validation keeps running the training graph. */
static fr_status prepare_eval(trainer *t) {
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
  const fr_graph *tgr = t->m->graph;
  const fr_param_layout *L = tgr->layout, *EL = g->layout;
  if (!EL || EL->bytes[FR_PB_TRAINABLE] != L->bytes[FR_PB_TRAINABLE]) goto give_up;
  int n = 0, want = 0;
  for (int i = 0; i < tgr->n_inits; i++)
    want += (tgr->inits[i]->flags & FR_V_WRITABLE) && tgr->inits[i]->param_off >= 0;
  for (int i = 0; i < g->n_inits; i++) {
    fr_value *v = g->inits[i];
    if (!(v->flags & FR_V_WRITABLE)) continue;
    int k;
    for (k = 0; k < tgr->n_inits; k++)
      if (!strcmp(tgr->inits[k]->name, v->name)) break;
    if (k == tgr->n_inits || tgr->inits[k]->param_off != v->param_off) goto give_up;
    n++;
  }
  if (n != want) goto give_up;
  for (int i = 0; i < g->n_inits; i++) {
    fr_value *v = g->inits[i];
    if (v->flags & FR_V_WRITABLE)
      v->t.data = L->block[FR_PB_TRAINABLE] + v->param_off;
  }
  bool interp = c->engine && !strcmp(c->engine, "interp");
  if (!interp) {
    st = fr_compile_jit(em, c->cpu, c->specialize, &t->ecomp);
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

static fr_status load_data(trainer *t) {
  const fr_train_opts *o = t->o;
  fr_data_opts dop = o->data;
  dop.decode_image = fr_image_decode;
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
    if (h) {
      const char *last = strrchr(h, ',') ? strrchr(h, ',') + 1 : strchr(h, ':') ? strchr(h, ':') + 1 : h;
      t->train.n_classes = atoi(last);
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

int fr_cmd_train(fr_cli *c) {
  fr_train_opts *o = &c->train;
  trainer t = {.c = c, .o = o};
  bool dump = c->stage && !strcmp(c->stage, "train");
  if (!c->second && !dump) {
    fr_err(FR_ERR_USAGE, "frost train MODEL DATA: no DATA");
    return fr_cli_fail();
  }
  fr_status st = dump ? dump_shapes(&t) : load_data(&t);
  if (st != FR_OK) return fr_cli_fail();
  t.classify = dump || t.train.label != NULL; /* dump: classes */
  if (t.val.n && (t.val.label != NULL) != t.classify) {
    fr_err(FR_ERR_INVALID, "%s: its labels are not those of %s", o->val_dir,
           c->second);
    st = FR_ERR_INVALID;
  }
  if (st == FR_OK && t.val.n && t.classify && t.val.n_classes != t.train.n_classes)
    st = fr_err(FR_ERR_INVALID, "%s has %d classes, %s %d", o->val_dir,
                t.val.n_classes, c->second, t.train.n_classes);
  t.C = t.classify ? t.train.n_classes : t.train.n_targets;
  if (dump) t.C = t.train.n_classes;
  t.numel = t.train.numel;
  t.B = o->batch > 0 ? o->batch : 32;
  if (t.B > t.train.n && !t.val.n) t.B = t.train.n;
  if (t.B > 4096) st = fr_err(FR_ERR_USAGE, "--batch %lld: at most 4096", (long long)t.B);
  if (st == FR_OK && !t.classify && o->loss_kind == FR_LOSS_CE)
    st = fr_err(FR_ERR_USAGE, "%s has number columns, not classes: use --loss mse "
                "or bce", c->second);
  /* The model, its input at the batch and the samples' shape. */
  if (st == FR_OK) {
    fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
    st = fr_onnx_load(c->model, &lo, &t.m);
    if (st != FR_OK) fr_err_prefix(c->model);
  }
  if (st == FR_OK) {
    fr_graph *g = t.m->graph;
    if (g->n_inputs != 1)
      st = fr_err(FR_ERR_UNSUPPORTED, "%s takes %d inputs; frost train feeds "
                  "models of one input", c->model, g->n_inputs);
    else {
      fr_value *x = g->inputs[0];
      if (o->frontend && !dump) {
        /* The windows take the model's sample shape. */
        t.model_rank = x->t.rank - 1;
        t.model_numel = 1;
        for (int i = 1; i < x->t.rank; i++) {
          t.model_dims[i - 1] = x->t.dims[i];
          t.model_numel *= x->t.dims[i];
        }
        if (x->t.rank < 2) st = fr_err(FR_ERR_SHAPE, "%s: its input has no sample dims", c->model);
        if (st == FR_OK) st = apply_frontend(&t);
      }
      if (st == FR_OK && x->t.rank >= 0 && x->t.rank != t.train.rank + 1)
        st = fr_err(FR_ERR_SHAPE, "%s: its input '%s' has rank %d, the "
                    "samples of %s rank %d (plus the batch)", c->model,
                    x->name, x->t.rank, c->second, t.train.rank);
      if (st == FR_OK) {
        x->t.rank = t.train.rank + 1;
        x->t.dims[0] = t.B;
        for (int i = 0; i < t.train.rank; i++) x->t.dims[i + 1] = t.train.dims[i];
        x->t.kind = FR_KIND_TENSOR;
      }
    }
  }
  if (st == FR_OK) {
    fr_train_spec sp = {.cut = o->cut, .head = o->head, .seed = o->seed,
                        .loss_kind = o->loss_kind,
                        .probabilities = o->probabilities, .batch = t.B,
                        .n_classes = t.C};
    t.spec = sp;
    t.x_t = t.m->graph->inputs[0]->t;
    st = fr_train_build(t.m, &sp);
  }
  /* The head trains, then the user's rules in order. */
  if (st == FR_OK && o->head) {
    if (c->freeze.n_rules == FR_MAX_FREEZE)
      st = fr_err(FR_ERR_USAGE, "too many --trainable/--frozen rules");
    else {
      memmove(&c->freeze.rules[1], &c->freeze.rules[0],
              sizeof(fr_freeze_rule) * (size_t)c->freeze.n_rules);
      c->freeze.rules[0] = (fr_freeze_rule){true, "^frost\\.head\\."};
      c->freeze.n_rules++;
    }
  }
  /* The feature cache, when the trainable part reads one frozen value. */
  if (st == FR_OK && c->freeze.bn_train && !dump) {
    st = fr_freeze_apply(t.m, &c->freeze);
    if (st == FR_OK)
      st = fr_train_bn_mode(t.m, t.stats, t.stat_outs, 64, &t.n_stats);
  }
  const fr_augment_opts *au = &o->augment;
  t.augment = au->crop_pad || au->hflip || au->rotate_deg > 0 || au->scale_max > 0;
  int64_t ch = t.train.rank == 3 ? t.train.dims[o->data.nhwc ? 2 : 0] : 0;
  if (st == FR_OK && t.augment && ch != 1 && ch != 3)
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
  int slots = !strcmp(o->optimizer, "sgd") ? (o->momentum != 0) : 2;
  if (st == FR_OK) {
    c->pipe.state_slots = slots;
    c->pipe.freeze = &c->freeze;
    bool interp = dump || (c->engine && !strcmp(c->engine, "interp"));
    t.e = (fr_engine){.name = interp ? "opt" : "jit", .cpu = c->cpu,
                      .pipe = &c->pipe, .specialize = c->specialize};
    double t0 = fr_cli_now_ms();
    st = fr_engine_prepare(&t.e, t.m);
    if (st != FR_OK) fr_err_prefix(c->model);
    else fr_freeze_warn(&c->freeze, stderr);
    if (st != FR_OK) {
    } else if (dump) {
      if (c->dot) fr_print_dot(stdout, t.m->graph);
      else {
        fr_print_graph(stdout, t.m->graph);
        fr_print_summary(stdout, t.m);
      }
      fr_engine_free(&t.e);
      fr_model_free(t.m);
      return 0;
    } else
      printf("train step %s in %.0f ms%s%s\n",
              t.e.compiled ? "compiled" : "ready", fr_cli_now_ms() - t0,
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
    if (!t.grad || !t.state) st = fr_err_nomem(NULL);
    else t.best = (float *)((char *)t.state + (size_t)slots * (size_t)t.tbytes);
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
  if (st == FR_OK && t.val.n) st = prepare_eval(&t);
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
    if (t.classify) printf(", %d classes", t.train.n_classes);
    if (t.val.n)
      printf("; validation: %d samples (%s)", t.val.n,
             t.em ? "a forward-only graph" : "the training graph");
    printf("\nparameters: %lld trainable (%lld bytes), gradients %lld bytes, "
           "optimizer state %lld bytes\n",
           (long long)pc.trainable, (long long)L->bytes[FR_PB_TRAINABLE],
           (long long)L->bytes[FR_PB_GRAD], (long long)L->bytes[FR_PB_STATE]);
    int kind = !strcmp(o->optimizer, "sgd")    ? FR_K_OPT_SGD
               : !strcmp(o->optimizer, "adam") ? FR_K_OPT_ADAM
                                               : FR_K_OPT_ADAMW;
    t.opt = (fr_k_optim){.kind = kind, .lr = (float)o->lr,
                         .weight_decay = (float)o->weight_decay,
                         .momentum = (float)o->momentum, .nesterov = o->nesterov,
                         .beta1 = (float)o->beta1, .beta2 = (float)o->beta2,
                         .eps = (float)o->eps};
    fr_rng_seed(&t.rng, o->seed);
  }
  int64_t spe = (t.train.n + t.B - 1) / t.B;
  int64_t total = o->max_steps ? o->max_steps : spe * o->epochs;
  double best_metric = -INFINITY;
  int best_epoch = 0, since_best = 0, first = 1;
  /* Checkpoints: the trainable block, then the optimizer slots and the
   * best epoch's weights as state. */
  fr_ckpt ck = {0};
  fr_ckpt_param *cparams = NULL;
  if (st == FR_OK && o->checkpoint_dir) {
    st = describe(&t, &ck, &cparams, slots);
    if (st == FR_OK && o->resume && fr_ckpt_exists(o->checkpoint_dir)) {
      st = fr_ckpt_load(o->checkpoint_dir, &ck, L->block[FR_PB_TRAINABLE], t.state);
      if (st == FR_OK) {
        memcpy(t.rng.s, ck.rng, sizeof t.rng.s);
        t.step = ck.step;
        first = (int)ck.epoch + 1;
        best_epoch = (int)ck.best_epoch > 0 ? (int)ck.best_epoch : 0;
        best_metric = isnan(ck.best_metric) ? -INFINITY : ck.best_metric;
        for (int i = 0; i < ck.n_extra; i++)
          if (!strcmp(ck.extra[i].key, "since_best")) since_best = (int)ck.extra[i].value;
        printf("resumed from %s%s: epoch %d, step %lld\n", o->checkpoint_dir,
               ck.from_previous ? " (previous)" : "", first - 1,
               (long long)t.step);
        if (ck.from_previous && ck.current_error[0])
          fprintf(stderr, "frost: note: %s\n", ck.current_error);
      }
    } else if (st == FR_OK && o->resume) {
      printf("no checkpoint in %s: starting\n", o->checkpoint_dir);
    }
  } else if (st == FR_OK && o->resume) {
    st = fr_err(FR_ERR_USAGE, "--resume needs --checkpoint-dir");
  }
  fr_trainlog *lg = NULL;
  if (st == FR_OK) {
    fr_trainlog_opts lo = {.out = stdout, .progress = stderr,
                           .json_path = o->log_json, .plot_path = o->plot,
                           .title = c->model};
    st = fr_trainlog_open(&lg, &lo);
  }
  t.log = lg;
  for (int ep = first; ep <= o->epochs && st == FR_OK; ep++) {
    if (o->max_steps && t.step >= o->max_steps) break;
    t.epoch = ep;
    double t0 = fr_cli_now_ms();
    fr_epoch_stats es = fr_epoch_stats_none();
    es.epoch = ep;
    es.epochs = o->epochs;
    st = run_epoch(&t, &t.train, true, total, spe, &es.train_loss, &es.train_acc, &es.lr);
    if (st == FR_OK && t.val.n)
      st = run_epoch(&t, &t.val, false, total, spe, &es.val_loss, &es.val_acc, &(double){0});
    if (st != FR_OK) break;
    es.step = t.step;
    es.seconds = (fr_cli_now_ms() - t0) / 1e3;
    st = fr_trainlog_epoch(lg, &es);
    bool stop = false;
    if (st == FR_OK && t.val.n) {
      double metric = t.classify ? es.val_acc - 1e-9 * es.val_loss : -es.val_loss;
      if (metric > best_metric) {
        best_metric = metric;
        best_epoch = ep;
        since_best = 0;
        memcpy(t.best, L->block[FR_PB_TRAINABLE], (size_t)t.tbytes);
      } else if (o->patience && ++since_best >= o->patience) {
        printf("no better validation for %d epochs: stopping\n", o->patience);
        stop = true;
      }
    }
    if (st == FR_OK && o->checkpoint_dir) {
      fr_ckpt_kv extra[1] = {{"since_best", since_best}};
      ck.epoch = ep;
      ck.step = t.step;
      memcpy(ck.rng, t.rng.s, sizeof ck.rng);
      ck.best_epoch = best_epoch ? best_epoch : -1;
      ck.best_metric = best_epoch ? best_metric : NAN;
      ck.n_extra = 1;
      ck.extra = extra;
      st = fr_ckpt_save(o->checkpoint_dir, &ck, L->block[FR_PB_TRAINABLE], t.state);
      ck.extra = NULL;
      ck.n_extra = 0;
    }
    if (stop) break;
  }
  fr_trainlog_close(lg);
  fr_ckpt_release(&ck);
  fr_free(cparams);
  if (st == FR_OK && best_epoch) {
    memcpy(L->block[FR_PB_TRAINABLE], t.best, (size_t)t.tbytes);
    printf("kept epoch %d (best validation)\n", best_epoch);
  }
  if (st == FR_OK && o->save_params) st = save_params(&t, o->save_params);
  if (st == FR_OK && c->out) {
    st = fr_onnx_export(c->model, t.m, o->cut, c->out);
    if (st == FR_OK) printf("wrote %s\n", c->out);
  }
  for (int i = 0; i < 3; i++) fr_tensor_release(&t.in[i]);
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
