/* trainloop.c: the epochs of training (runtime.h). frost train
 * (compiler/cmd/train.c) and the train command of compiled artifacts
 * (runtime/rt/main.c) both run this loop; only the step differs (the JIT,
 * the interpreter, or the artifact's compiled train step).
 *
 * Batches: the data set in a seeded random order each epoch (--no-shuffle:
 * as listed); a short last batch is padded with zero samples of weight 0,
 * so the loss is the mean over the real ones (PyTorch's with
 * drop_last=False). Validation runs the step without training, with the
 * sample weights summing to 1 over the whole set.
 *
 * --ssl: a batch is two augmented views of B / 2 samples (rows i and
 * i + B / 2), each row's target the other view's row; a short last batch
 * is dropped (its padding would be negatives of the real samples).
 *
 * Multi-task (several heads, n_tasks > 0): each task has its own targets
 * and sample weights from its label column, a sample without a label
 * weighing 0 for that task; the step's loss is the task-weighted sum, and
 * the accuracy that picks the best epoch the task-weighted mean.
 *
 * Several processes (t->dist, runtime.h's fr_tl_dist): each fills its
 * share of every global batch; after each step one sum over the ranks
 * carries the gradients, the batch's loss and correct rows, and a flag
 * per failed rank, so a rank whose batch failed stops every rank at the
 * same step with its error. Augmentation draws for the whole global
 * batch on every rank, as one process does, so the random numbers (and
 * the next epoch's order) stay the same on every rank. Several heads are
 * not shared between ranks yet (frost train refuses them). */
#include <math.h>
#include <string.h>
#include <time.h>

#include "runtime.h"

int fr_tl_slots(const fr_train_opts *o) {
  return !strcmp(o->optimizer, "sgd") ? (o->momentum != 0) : 2;
}

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

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct loop {
  fr_trainloop *t;
  const fr_train_opts *o;
  fr_k_optim opt;
  fr_rng rng;
  fr_trainlog *log;
  int epoch;
  bool augment;
  float *gx;  /* dist, augmenting: the whole global batch (G x numel) */
  float *red; /* dist: what a step sums over the ranks (the gradients,
                 loss, correct rows, failed ranks, each rank's time) */
} loop;

/* Fills the batch with rows [lo, lo + cnt) (cnt <= B) of the global batch
 * order[start..start+n) of d: one process takes them all (lo 0, cnt n);
 * the loss is the mean over n_total samples. */
static fr_status fill_batch(loop *l, const fr_dataset *d, const int *order,
                            int start, int n, int lo, int cnt, int n_total,
                            int32_t *label) {
  fr_trainloop *t = l->t;
  const fr_train_opts *o = l->o;
  int64_t C = t->C;
  float *x = t->x, *tg = t->targets, *w = t->weights;
  memset(x, 0, sizeof(float) * (size_t)(t->B * d->numel));
  memset(tg, 0, sizeof(float) * (size_t)(t->B * C));
  memset(w, 0, sizeof(float) * (size_t)t->B);
  bool augment = l->augment && d == t->train;
  bool share = augment && (lo != 0 || cnt != n);
  fr_dataset_gather(d, order, start + lo, cnt, share ? NULL : x,
                    t->classify ? label : NULL, t->classify ? NULL : tg);
  if (t->classify)
    for (int i = 0; i < cnt; i++)
      if (label[i] < 0 || label[i] >= C)
        return fr_err(FR_ERR_INVALID, "%s: label %d is outside the %lld classes",
                      d->paths ? d->paths[order[start + lo + i]] : "a sample",
                      (int)label[i], (long long)C);
  if (share) { /* a rank's share: the global batch augmented, as one process does */
    size_t row = (size_t)d->numel;
    if (!l->gx && !(l->gx = fr_malloc(sizeof(float) * row * (size_t)t->G + 1)))
      return fr_err_nomem(NULL);
    fr_dataset_gather(d, order, start, n, l->gx, NULL, NULL);
    FR_TRY(fr_augment(l->gx, n, d->rank, d->dims, o->data.nhwc, &l->rng, &o->augment));
    memcpy(x, l->gx + (size_t)lo * row, sizeof(float) * row * (size_t)cnt);
  } else if (augment) {
    FR_TRY(fr_augment(x, n, d->rank, d->dims, o->data.nhwc, &l->rng, &o->augment));
  }
  float eps = (float)o->label_smoothing;
  for (int i = 0; i < cnt; i++) {
    if (t->classify) {
      for (int64_t c = 0; c < C; c++) tg[i * C + c] = eps / (float)C;
      tg[i * C + label[i]] += 1 - eps;
    }
    /* ce: the mean over samples; bce, mse: over samples and columns */
    w[i] = 1.0f / (float)n_total;
    if (o->loss_kind != FR_LOSS_CE) w[i] /= (float)C;
  }
  /* Class weights, as PyTorch weighs: the loss is
   *   sum_i [(1 - e) w[y_i] nll_i + e / C sum_c w[c] (-log p_ic)] / sum_i w[y_i]
   * over the batch (training) or the whole set (validation): the targets
   * carry the weights, the sample weight the division. */
  const float *cw = o->class_weights;
  if (o->n_class_weights && t->classify) {
    double den = 0;
    if (n_total == n) { /* the global batch's labels (another rank checks its own) */
      for (int i = 0; i < n; i++) {
        int32_t y = d->label[order[start + i]];
        if (y >= 0 && y < C) den += cw[y];
      }
    } else if (d->label) { /* the whole set: its class counts, once */
      for (int i = 0; i < d->n; i++) den += cw[d->label[i]];
    }
    for (int i = 0; i < cnt; i++) {
      for (int64_t c = 0; c < C; c++) tg[i * C + c] = eps / (float)C * cw[c];
      tg[i * C + label[i]] += (1 - eps) * cw[label[i]];
      w[i] = den > 0 ? (float)(1.0 / den) : 0;
    }
  }
  return FR_OK;
}

/* --ssl: samples order[start..start+n) twice, each copy augmented on its
 * own; row i's class is its other view. */
static fr_status fill_views(loop *l, const fr_dataset *d, const int *order,
                            int start, int n, int32_t *label) {
  fr_trainloop *t = l->t;
  int64_t B = t->B, P = B / 2;
  float *x = t->x;
  memset(t->targets, 0, sizeof(float) * (size_t)(B * B));
  fr_dataset_gather(d, order, start, n, x, NULL, NULL);
  memcpy(x + P * d->numel, x, sizeof(float) * (size_t)(P * d->numel));
  FR_TRY(fr_augment(x, (int)B, d->rank, d->dims, l->o->data.nhwc, &l->rng,
                    &l->o->augment));
  for (int64_t i = 0; i < B; i++) {
    label[i] = (int32_t)((i + P) % B);
    t->targets[i * B + label[i]] = 1;
    t->weights[i] = 1.0f / (float)B;
  }
  return FR_OK;
}

/* Multi-task: the batch and every task's targets and weights (task k's
 * labels at label + k B). A task's loss is the mean over its labelled
 * samples: those of the batch (training), or all of_set[k] of the set
 * (validation, of_set not NULL); an unlabelled sample weighs 0. */
static fr_status fill_tasks(loop *l, const fr_dataset *d, const int *order,
                            int start, int n, const int *of_set, int32_t *label) {
  fr_trainloop *t = l->t;
  const fr_train_opts *o = l->o;
  memset(t->x, 0, sizeof(float) * (size_t)(t->B * d->numel));
  fr_dataset_gather(d, order, start, n, t->x, NULL, NULL);
  if (l->augment && d == t->train)
    FR_TRY(fr_augment(t->x, n, d->rank, d->dims, o->data.nhwc, &l->rng, &o->augment));
  float eps = (float)o->label_smoothing;
  for (int k = 0; k < t->n_tasks; k++) {
    fr_tl_task *tk = &t->tasks[k];
    int64_t C = tk->C;
    int32_t *lb = label + k * t->B;
    float *tg = tk->targets, *w = tk->weights;
    memset(tg, 0, sizeof(float) * (size_t)(t->B * C));
    memset(w, 0, sizeof(float) * (size_t)t->B);
    fr_dataset_gather_column(d, tk->column, order, start, n, lb);
    int m = of_set ? of_set[k] : 0;
    for (int i = 0; !of_set && i < n; i++) m += lb[i] >= 0;
    for (int i = 0; i < n; i++) {
      if (lb[i] < 0) continue;
      if (lb[i] >= C)
        return fr_err(FR_ERR_INVALID, "%s: label %d of the task '%s' is outside "
                      "its %lld classes", d->paths ? d->paths[order[start + i]] : "a sample",
                      (int)lb[i], tk->name, (long long)C);
      for (int64_t c = 0; c < C; c++) tg[i * C + c] = eps / (float)C;
      tg[i * C + lb[i]] += 1 - eps;
      w[i] = 1.0f / (float)m;
    }
  }
  return FR_OK;
}

static int argmax(const float *v, int64_t n) {
  int k = 0;
  for (int64_t i = 1; i < n; i++)
    if (v[i] > v[k]) k = (int)i;
  return k;
}

/* Clips the gradients (PyTorch's clip_grad_norm_: scale by min(1, max /
 * (norm + 1e-6))) and updates every parameter. */
static void update(loop *l, double lr) {
  fr_trainloop *t = l->t;
  const fr_train_opts *o = l->o;
  double sq = 0;
  for (int k = 0; o->clip_norm > 0 && k < t->n_params; k++)
    sq += fr_k_sum_squares(t->params[k].numel,
                           (const float *)(t->grad + t->params[k].offset));
  double norm = sqrt(sq), scale = 1;
  if (o->clip_norm > 0 && o->clip_norm / (norm + 1e-6) < 1)
    scale = o->clip_norm / (norm + 1e-6);
  l->opt.step = t->steps;
  for (int k = 0; k < t->n_params; k++) {
    const fr_tl_param *p = &t->params[k];
    float *gd = (float *)(t->grad + p->offset);
    if (scale != 1) fr_k_scale(p->numel, gd, (float)scale);
    fr_k_optim op = l->opt;
    op.lr = (float)(lr * (p->backbone && o->lr_backbone >= 0 ? o->lr_backbone / o->lr : 1));
    float *s0 = (float *)(t->state + p->offset);
    float *s1 = (float *)(t->state + t->tbytes + p->offset);
    fr_k_optim_step(&op, p->numel, (float *)(t->trainable + p->offset), gd,
                    t->slots > 0 ? s0 : NULL, t->slots > 1 ? s1 : NULL);
  }
}

/* dist: the batch's loss, correct rows and (training) gradients summed
 * over the ranks in one call, with a flag per failed rank: when one
 * failed, every rank returns its error. Each rank's time for the batch
 * (ms) rides along for rank 0's progress bar. */
static fr_status share_batch(loop *l, fr_status st, bool train, double *bl,
                             int64_t *hit, double ms) {
  fr_trainloop *t = l->t;
  const fr_tl_dist *ds = t->dist;
  int64_t ng = train ? t->tbytes / (int64_t)sizeof(float) : 0;
  float *r = l->red;
  if (ng) memcpy(r, t->grad, sizeof(float) * (size_t)ng);
  r[ng] = (float)*bl;
  r[ng + 1] = (float)*hit;
  r[ng + 2] = st != FR_OK;
  for (int k = 0; k < ds->size; k++) r[ng + 3 + k] = k == ds->rank ? (float)ms : 0;
  FR_TRY(ds->sum(ds->ctx, r, ng + 3 + ds->size, false));
  if (r[ng + 2] > 0) return ds->agree(ds->ctx, st);
  if (ng) memcpy(t->grad, r, sizeof(float) * (size_t)ng);
  *bl = r[ng];
  *hit = (int64_t)r[ng + 1];
  if (train && ds->tty) { /* "2 ranks: 31 33 ms/step" */
    char d[96];
    int n = snprintf(d, sizeof d, "%d ranks:", ds->size);
    for (int k = 0; k < ds->size && k <= 8; k++) /* the first 8 */
      n += snprintf(d + n, sizeof d - (size_t)n, k < 8 ? " %.0f" : " ...",
                    (double)r[ng + 3 + k]);
    snprintf(d + n, sizeof d - (size_t)n, " ms/step");
    fr_trainlog_detail(l->log, d);
  }
  return FR_OK;
}

/* What one pass over a data set measured (NaN: not measured). */
typedef struct pass_stats {
  double loss, acc, lr;
  double task_loss[FR_MAX_TASKS], task_acc[FR_MAX_TASKS]; /* multi-task */
} pass_stats;

/* Multi-task: the task-weighted mean of the accuracies measured (NaN when
 * no task of weight > 0 has one). */
static double weighted_acc(const fr_trainloop *t, const double *acc) {
  double num = 0, den = 0;
  for (int k = 0; k < t->n_tasks; k++)
    if (!isnan(acc[k]) && t->tasks[k].weight > 0) {
      num += t->tasks[k].weight * acc[k];
      den += t->tasks[k].weight;
    }
  return den > 0 ? num / den : NAN;
}

/* One pass over d: trains when train, else only measures. */
static fr_status run_epoch(loop *l, const fr_dataset *d, bool train,
                           int64_t total_steps, int64_t steps_per_epoch,
                           pass_stats *ps) {
  fr_trainloop *t = l->t;
  const fr_train_opts *o = l->o;
  const fr_tl_dist *ds = t->dist;
  int K = t->n_tasks;
  int *order = fr_malloc(sizeof(int) * (size_t)(d->n + 1));
  int32_t *label = fr_malloc(sizeof(int32_t) * (size_t)(t->B * (K ? K : 1) + 1));
  fr_status st = order && label ? FR_OK : fr_err_nomem(NULL);
  if (ds) st = ds->agree(ds->ctx, st);
  if (st != FR_OK) {
    fr_free(order);
    fr_free(label);
    return st;
  }
  for (int i = 0; i < d->n; i++) order[i] = i;
  if (train && !o->no_shuffle) fr_rng_shuffle(&l->rng, order, d->n);
  double loss = 0, lr = 0;
  int64_t correct = 0;
  /* multi-task: each task's labelled samples in d, loss and hits */
  int of_set[FR_MAX_TASKS] = {0};
  double tloss[FR_MAX_TASKS] = {0};
  int64_t tcorrect[FR_MAX_TASKS] = {0};
  for (int k = 0; k < K; k++)
    for (int i = 0; i < d->n; i++) of_set[k] += d->columns[t->tasks[k].column].label[i] >= 0;
  /* samples per batch, and those a pass uses (--ssl drops a short batch) */
  int B = (int)t->B, per = t->ssl ? B / 2 : ds ? (int)t->G : B;
  int used = t->ssl ? d->n / per * per : d->n;
  for (int s = 0; s < used && st == FR_OK; s += per) {
    int n = used - s < per ? used - s : per;
    if (o->max_steps && train && t->steps >= o->max_steps) break;
    /* this rank's rows of the batch */
    double t0 = ds ? now_s() : 0;
    int lo = ds ? ds->rank * B : 0;
    int cnt = n - lo < 0 ? 0 : n - lo < B ? n - lo : B;
    /* The loss is the mean over a train batch, but over the whole set for
     * validation (the weights then sum to 1 over all batches). */
    if (t->ssl) st = fill_views(l, d, order, s, n, label);
    else if (K) st = fill_tasks(l, d, order, s, n, train ? NULL : of_set, label);
    else st = fill_batch(l, d, order, s, n, lo, cnt, train ? n : d->n, label);
    double bl = 0;
    const float *z = NULL;
    if (st == FR_OK && cnt > 0) st = t->step(t->ctx, train, &bl, &z);
    else if (st == FR_OK && train) memset(t->grad, 0, (size_t)t->tbytes);
    int64_t hit = 0;
    int rows = t->ssl ? B : cnt;
    if (st == FR_OK && t->classify && !K && z)
      for (int i = 0; i < rows; i++) hit += argmax(z + i * t->C, t->C) == label[i];
    if (ds) st = share_batch(l, st, train, &bl, &hit, (now_s() - t0) * 1e3);
    if (st != FR_OK) break;
    if (!isfinite(bl)) {
      st = fr_err(FR_ERR_INVALID, "the loss is %g at epoch %d, batch %d "
                  "(lower --lr, or clip with --clip-norm)", bl, l->epoch,
                  s / per + 1);
      break;
    }
    loss += train || t->ssl ? bl * n / used : bl;
    correct += hit;
    for (int k = 0; k < K; k++) {
      const fr_tl_task *tk = &t->tasks[k];
      const int32_t *lb = label + k * t->B;
      int m = 0;
      for (int i = 0; i < n; i++)
        if (lb[i] >= 0) {
          m++;
          tcorrect[k] += argmax(tk->logits + i * tk->C, tk->C) == lb[i];
        }
      tloss[k] += !train ? tk->loss : m ? tk->loss * m / of_set[k] : 0;
    }
    if (train) {
      t->steps++;
      lr = schedule_lr(o, t->steps - 1, total_steps, steps_per_epoch);
      update(l, lr);
      fr_trainlog_progress(l->log, s / per + 1, (used + per - 1) / per, bl);
    }
  }
  fr_free(order);
  fr_free(label);
  ps->loss = loss;
  /* --ssl: the share of views whose nearest other view is their pair */
  int64_t rows = t->ssl ? 2 * (int64_t)used : d->n;
  ps->acc = t->classify && rows ? (double)correct / (double)rows : NAN;
  ps->lr = lr;
  for (int k = 0; k < K; k++) {
    ps->task_loss[k] = of_set[k] ? tloss[k] : NAN;
    ps->task_acc[k] = of_set[k] ? (double)tcorrect[k] / of_set[k] : NAN;
  }
  if (K) ps->acc = weighted_acc(t, ps->task_acc);
  return st;
}

/* A checkpoint in dir of where training stands after epoch: ck holds the
 * model and layout (and, after a resume, what the file said). */
static fr_status save(const char *dir, fr_ckpt *ck, const fr_trainloop *t,
                      const loop *l, int epoch, double best_metric, int since_best) {
  fr_ckpt_kv extra[1] = {{"since_best", since_best}};
  ck->epoch = epoch;
  ck->step = t->steps;
  memcpy(ck->rng, l->rng.s, sizeof ck->rng);
  ck->best_epoch = t->best_epoch ? t->best_epoch : -1;
  ck->best_metric = t->best_epoch ? best_metric : NAN;
  ck->n_extra = 1;
  ck->extra = extra;
  fr_status st = fr_ckpt_save(dir, ck, t->trainable, t->state);
  ck->extra = NULL;
  ck->n_extra = 0;
  return st;
}

/* dist: every rank starts where rank 0 does, with its weights, optimizer
 * state and counters (a checkpoint's, when rank 0 resumed from one; only
 * rank 0 reads checkpoints, so they need not be on a shared disk). */
static fr_status share_start(loop *l, fr_status st, int *first, double *best_metric,
                             int *since_best) {
  fr_trainloop *t = l->t;
  const fr_tl_dist *ds = t->dist;
  FR_TRY(ds->agree(ds->ctx, st));
  struct {
    int64_t steps;
    double best_metric;
    uint64_t rng[4];
    int32_t first, best_epoch, since_best, pad;
  } c;
  memset(&c, 0, sizeof c);
  c.steps = t->steps;
  c.best_metric = *best_metric;
  memcpy(c.rng, l->rng.s, sizeof c.rng);
  c.first = *first;
  c.best_epoch = t->best_epoch;
  c.since_best = *since_best;
  FR_TRY(ds->bcast(ds->ctx, &c, (int64_t)sizeof c));
  FR_TRY(ds->bcast(ds->ctx, t->trainable, t->tbytes));
  FR_TRY(ds->bcast(ds->ctx, t->state, (int64_t)(t->slots + 1) * t->tbytes));
  t->steps = c.steps;
  *best_metric = c.best_metric;
  memcpy(l->rng.s, c.rng, sizeof c.rng);
  *first = c.first;
  t->best_epoch = c.best_epoch;
  *since_best = c.since_best;
  return FR_OK;
}

fr_status fr_trainloop_run(fr_trainloop *t) {
  const fr_train_opts *o = t->o;
  loop l = {.t = t, .o = o};
  const fr_augment_opts *au = &o->augment;
  l.augment = fr_augment_images(au) || au->noise > 0;
  int kind = !strcmp(o->optimizer, "sgd")    ? FR_K_OPT_SGD
             : !strcmp(o->optimizer, "adam") ? FR_K_OPT_ADAM
                                             : FR_K_OPT_ADAMW;
  l.opt = (fr_k_optim){.kind = kind, .lr = (float)o->lr,
                       .weight_decay = (float)o->weight_decay,
                       .momentum = (float)o->momentum, .nesterov = o->nesterov,
                       .beta1 = (float)o->beta1, .beta2 = (float)o->beta2,
                       .eps = (float)o->eps};
  fr_rng_seed(&l.rng, o->seed);
  uint8_t *best = t->state + (size_t)t->slots * (size_t)t->tbytes;
  const fr_tl_dist *ds = t->dist;
  bool rank0 = !ds || ds->rank == 0; /* writes checkpoints and logs */
  int64_t G = ds ? t->G : t->B;
  int64_t spe = t->ssl ? t->train->n / (t->B / 2) : (t->train->n + G - 1) / G;
  int64_t total = o->max_steps ? o->max_steps : spe * o->epochs;
  double best_metric = -INFINITY;
  int since_best = 0, first = 1;
  bool val = t->val && t->val->n;
  t->best_epoch = 0;
  t->steps = 0;
  /* Checkpoints: the trainable block, then the optimizer slots and the
   * best epoch's weights as state. */
  fr_ckpt ck = {0};
  fr_ckpt_kv hyper[6] = {{"lr", o->lr}, {"momentum", o->momentum},
                         {"weight_decay", o->weight_decay}, {"beta1", o->beta1},
                         {"beta2", o->beta2}, {"eps", o->eps}};
  fr_status st = FR_OK;
  ck.model = t->model;
  memcpy(ck.model_sha256, t->model_sha256, sizeof ck.model_sha256);
  ck.trainable_bytes = t->tbytes;
  ck.state_slots = t->slots + 1;
  ck.n_params = t->n_ck_params;
  ck.params = t->ck_params;
  ck.optimizer = o->optimizer;
  ck.n_hyper = 6;
  ck.hyper = hyper;
  if (ds && (ds->size < 2 || t->ssl || t->n_tasks || G > t->B * ds->size))
    st = fr_err(FR_ERR_INVALID, "the train loop's share of a batch does not fit");
  if (st == FR_OK && ds &&
      !(l.red = fr_malloc(sizeof(float) * (size_t)(t->tbytes / 4 + 3 + ds->size))))
    st = fr_err_nomem(NULL);
  if (st == FR_OK && o->checkpoint_dir && rank0) {
    if (o->resume && fr_ckpt_exists(o->checkpoint_dir)) {
      st = fr_ckpt_load(o->checkpoint_dir, &ck, t->trainable, t->state);
      if (st == FR_OK) {
        memcpy(l.rng.s, ck.rng, sizeof l.rng.s);
        t->steps = ck.step;
        first = (int)ck.epoch + 1;
        t->best_epoch = (int)ck.best_epoch > 0 ? (int)ck.best_epoch : 0;
        best_metric = isnan(ck.best_metric) ? -INFINITY : ck.best_metric;
        for (int i = 0; i < ck.n_extra; i++)
          if (!strcmp(ck.extra[i].key, "since_best")) since_best = (int)ck.extra[i].value;
        /* Without validation now, nothing picks a best epoch: this run
         * keeps its last weights, not those of an earlier run's best
         * epoch (resuming on new data would otherwise discard it). */
        if (!val) t->best_epoch = 0, best_metric = -INFINITY, since_best = 0;
        fprintf(t->out, "resumed from %s%s: epoch %d, step %lld\n",
                o->checkpoint_dir, ck.from_previous ? " (previous)" : "",
                first - 1, (long long)t->steps);
        if (ck.from_previous && ck.current_error[0])
          fprintf(stderr, "frost: note: %s\n", ck.current_error);
      }
    } else if (o->resume) {
      fprintf(t->out, "no checkpoint in %s: starting\n", o->checkpoint_dir);
    }
  } else if (st == FR_OK && o->resume && !o->checkpoint_dir) {
    st = fr_err(FR_ERR_USAGE, "--resume needs --checkpoint-dir");
  }
  if (ds) st = share_start(&l, st, &first, &best_metric, &since_best);
  if (st == FR_OK) {
    fr_trainlog_opts lo = {.out = t->out, .progress = stderr,
                           .json_path = rank0 ? o->log_json : NULL,
                           .plot_path = rank0 ? o->plot : NULL,
                           .title = t->title, .tty = ds && ds->tty};
    st = fr_trainlog_open(&l.log, &lo);
    if (ds) st = ds->agree(ds->ctx, st);
  }
  int last = first - 1;
  for (int ep = first; ep <= o->epochs && st == FR_OK; ep++) {
    if (o->max_steps && t->steps >= o->max_steps) break;
    l.epoch = ep;
    double t0 = now_s();
    fr_epoch_stats es = fr_epoch_stats_none();
    es.epoch = ep;
    es.epochs = o->epochs;
    pass_stats tr, va;
    st = run_epoch(&l, t->train, true, total, spe, &tr);
    if (st == FR_OK && val) st = run_epoch(&l, t->val, false, total, spe, &va);
    if (st != FR_OK) break;
    es.train_loss = tr.loss;
    es.train_acc = tr.acc;
    es.lr = tr.lr;
    if (val) es.val_loss = va.loss, es.val_acc = va.acc;
    es.n_tasks = t->n_tasks;
    for (int k = 0; k < t->n_tasks; k++) {
      es.task_names[k] = t->tasks[k].name;
      es.task_train_loss[k] = tr.task_loss[k];
      es.task_train_acc[k] = tr.task_acc[k];
      es.task_val_loss[k] = val ? va.task_loss[k] : NAN;
      es.task_val_acc[k] = val ? va.task_acc[k] : NAN;
    }
    es.step = t->steps;
    es.seconds = now_s() - t0;
    st = fr_trainlog_epoch(l.log, &es);
    bool stop = false;
    if (st == FR_OK && val) {
      double metric = t->classify || t->n_tasks ? es.val_acc - 1e-9 * es.val_loss
                                                  : -es.val_loss;
      if (metric > best_metric) {
        best_metric = metric;
        t->best_epoch = ep;
        since_best = 0;
        memcpy(best, t->trainable, (size_t)t->tbytes);
      } else if (o->patience && ++since_best >= o->patience) {
        fprintf(t->out, "no better validation for %d epochs: stopping\n", o->patience);
        stop = true;
      }
    }
    last = ep;
    if (st == FR_OK && o->checkpoint_dir && rank0)
      st = save(o->checkpoint_dir, &ck, t, &l, ep, best_metric, since_best);
    if (ds) st = ds->agree(ds->ctx, st); /* rank 0's log and checkpoint */
    if (stop) break;
  }
  fr_trainlog_close(l.log);
  if (st == FR_OK && t->best_epoch) {
    memcpy(t->trainable, best, (size_t)t->tbytes);
    fprintf(t->out, "kept epoch %d (best validation)\n", t->best_epoch);
  }
  /* The weights kept, with the optimizer's state: a checkpoint. */
  if (st == FR_OK && t->final_dir && rank0)
    st = save(t->final_dir, &ck, t, &l, last, best_metric, since_best);
  fr_free(l.gx);
  fr_free(l.red);
  /* load set these from the file; save's were ours */
  if (ck.hyper == hyper) ck.hyper = NULL, ck.n_hyper = 0;
  fr_ckpt_release(&ck);
  return st;
}
