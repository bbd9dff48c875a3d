/* transfer.c: transfer learning without training a head by gradient
 * descent, on the features of a frozen backbone:
 *
 *   frost fewshot MODEL --cut VALUE --support DIR --query DIR
 *   frost fewshot MODEL --cut VALUE DATA --episodes E --shots K
 *       prototypes (the mean embedding of each class's support samples),
 *       queries by the nearest prototype; -o OUT.onnx writes the
 *       prototype classifier (the model with a linear head);
 *   frost cluster MODEL --cut VALUE DATA --k K
 *       k-means++ on the features; purity, ARI and NMI against the
 *       class folders when DATA has them.
 *
 * The features come from fr_extract_features: the model up to --cut
 * (or its first output), compiled once, run over every sample B at a
 * time. docs/transfer-learning.md shows them on the real models. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* ---- features ---------------------------------------------------------- */

fr_status fr_features_run(fr_engine *e, fr_model *m, fr_tensor *in, int64_t batch,
                          int64_t F, fr_dataset *d, const char *what,
                          int64_t *done, int64_t all) {
  if (!d->n) return FR_OK;
  float *feat = fr_malloc(sizeof(float) * (size_t)(d->n * F + 1));
  int *order = fr_malloc(sizeof(int) * (size_t)(d->n + 1));
  fr_status st = feat && order ? FR_OK : fr_err_nomem(NULL);
  for (int i = 0; st == FR_OK && i < d->n; i++) order[i] = i;
  fr_tensor out = {0};
  for (int s = 0; st == FR_OK && s < d->n; s += (int)batch) {
    int n = d->n - s < batch ? d->n - s : (int)batch;
    memset(in->data, 0, fr_tensor_nbytes(in));
    fr_dataset_gather(d, order, s, n, in->data, NULL, NULL);
    st = fr_engine_run(e, m, &in, &out);
    if (st == FR_OK) memcpy(feat + (int64_t)s * F, out.data, sizeof(float) * (size_t)(n * F));
    fr_tensor_release(&out);
    fr_progress(what, *done += n, all, "samples");
  }
  fr_free(order);
  if (st != FR_OK) {
    fr_free(feat);
    return st;
  }
  fr_free(d->x);
  d->x = feat;
  d->numel = F;
  return FR_OK;
}

fr_status fr_extract_features(fr_cli *c, const char *cut, int64_t batch,
                              fr_dataset *const *sets, int n_sets, double *seconds) {
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
  fr_model *m = NULL;
  FR_TRY(fr_onnx_load(c->model, &lo, &m));
  fr_graph *g = m->graph;
  const fr_dataset *d0 = sets[0];
  fr_status st = fr_cli_feed(m, c->model, c->second ? c->second : "the data",
                             batch, d0->rank, d0->dims);
  fr_value *x = st == FR_OK ? g->inputs[0] : NULL;
  for (int k = 1; st == FR_OK && k < n_sets; k++) {
    bool same = sets[k]->rank == d0->rank;
    for (int i = 0; same && i < d0->rank; i++) same = sets[k]->dims[i] == d0->dims[i];
    if (!same) st = fr_err(FR_ERR_SHAPE, "the data sets' samples differ in shape");
  }
  fr_value *y = NULL;
  if (st == FR_OK) {
    y = cut ? fr_graph_find(g, cut) : g->n_outputs ? g->outputs[0] : NULL;
    if (!y || (y->flags & FR_V_CONST))
      st = fr_err(FR_ERR_USAGE, "--cut: the model '%s' computes no value named "
                  "'%s'", c->model, cut ? cut : "(its output)");
  }
  if (st == FR_OK) {
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i]->flags &= ~(uint32_t)FR_V_OUTPUT;
    g->outputs[0] = y;
    g->n_outputs = 1;
    y->flags |= FR_V_OUTPUT;
  }
  fr_engine e = {0};
  fr_pipeline_opts po = {0};
  bool interp = c->engine && !strcmp(c->engine, "interp");
  e = (fr_engine){.name = interp ? "opt" : "jit", .pipe = &po,
                  .jit = c->jit};
  double t0 = fr_now_ms();
  int64_t n_all = 0, n_done = 0;
  for (int k = 0; k < n_sets; k++) n_all += sets[k]->n;
  fr_progress("features", 0, n_all, "compiling the backbone");
  if (st == FR_OK) st = fr_engine_prepare(&e, m);
  if (st != FR_OK) fr_err_prefix(c->model);
  int64_t F = 0;
  if (st == FR_OK) {
    F = fr_tensor_numel(&y->t) / batch;
    if (y->t.rank < 1 || y->t.dims[0] != batch || y->t.dtype != FR_F32 || F < 1)
      st = fr_err(FR_ERR_SHAPE, "--cut: '%s' is not float features with the "
                  "batch as its first dim", y->name);
  }
  fr_tensor in = {0};
  if (st == FR_OK) {
    in = x->t;
    in.data = NULL;
    st = fr_tensor_alloc(&in);
  }
  for (int k = 0; st == FR_OK && k < n_sets; k++) {
    st = fr_features_run(&e, m, &in, batch, F, sets[k], "features", &n_done, n_all);
    sets[k]->rank = 1;
    sets[k]->dims[0] = F;
  }
  fr_progress_done();
  if (seconds) *seconds = (fr_now_ms() - t0) / 1e3;
  fr_tensor_release(&in);
  fr_engine_free(&e);
  fr_model_free(m);
  return st;
}

/* --frontend: the clips of the sets become windows of the model's sample
 * shape, their features are extracted, then pooled back into one row per
 * clip (--pool, mean by default). Without it, plain extraction. */
static fr_status features_of(fr_cli *c, const char *cut, int64_t batch,
                             fr_dataset *const *sets, int n_sets, double *seconds) {
  const fr_train_opts *o = &c->train;
  if (!o->frontend) return fr_extract_features(c, cut, batch, sets, n_sets, seconds);
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
  fr_model *m = NULL;
  FR_TRY(fr_onnx_load(c->model, &lo, &m));
  const fr_tensor *x = m->graph->n_inputs == 1 ? &m->graph->inputs[0]->t : NULL;
  int rank = x && x->rank >= 2 ? x->rank - 1 : 0;
  int64_t dims[FR_MAX_RANK], numel = 1;
  for (int i = 0; i < rank; i++) dims[i] = x->dims[i + 1], numel *= dims[i];
  fr_model_free(m);
  if (!rank) return fr_err(FR_ERR_SHAPE, "%s: its input has no sample dims", c->model);
  int *groups[4] = {0}, clips[4] = {0};
  char **paths[4];
  for (int k = 0; k < n_sets && k < 4; k++) paths[k] = sets[k]->paths;
  fr_status st = fr_frontend_apply(c, rank, dims, numel, sets, n_sets, groups, clips);
  if (st == FR_OK) st = fr_extract_features(c, cut, batch, sets, n_sets, seconds);
  for (int k = 0; st == FR_OK && k < n_sets && k < 4; k++) {
    if (!groups[k]) continue;
    st = fr_pool_windows(sets[k], groups[k], clips[k], o->pool ? o->pool : FR_POOL_MEAN);
    sets[k]->paths = paths[k];
  }
  for (int k = 0; k < 4; k++) fr_free(groups[k]);
  return st;
}

static fr_status load_set(fr_cli *c, const char *path, fr_dataset *d) {
  fr_data_opts dop = c->train.data;
  dop.decode_image = fr_image_decode;
  FR_TRY(fr_dataset_load(path, &dop, d));
  if (!d->label) {
    fr_dataset_free(d);
    return fr_err(FR_ERR_USAGE, "%s has number columns, not classes", path);
  }
  return FR_OK;
}

/* ---- prototypes -------------------------------------------------------- */

static void normalize(float *v, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)v[i] * v[i];
  s = sqrt(s);
  if (s > 0)
    for (int64_t i = 0; i < n; i++) v[i] = (float)(v[i] / s);
}

/* The mean of each class's samples idx[0..n) of d (features F wide),
 * normalized first with cosine; a class without a sample is an error. */
static fr_status prototypes(const fr_dataset *d, const int *idx, int n, int C,
                            bool cosine, float *proto) {
  int64_t F = d->numel;
  int *cnt = fr_calloc((size_t)C + 1, sizeof(int));
  float *v = fr_malloc(sizeof(float) * (size_t)(F + 1));
  if (!cnt || !v) {
    fr_free(cnt);
    fr_free(v);
    return fr_err_nomem(NULL);
  }
  memset(proto, 0, sizeof(float) * (size_t)(C * F));
  for (int i = 0; i < n; i++) {
    int y = d->label[idx[i]];
    memcpy(v, d->x + (int64_t)idx[i] * F, sizeof(float) * (size_t)F);
    if (cosine) normalize(v, F);
    for (int64_t f = 0; f < F; f++) proto[(int64_t)y * F + f] += v[f];
    cnt[y]++;
  }
  fr_status st = FR_OK;
  for (int k = 0; k < C && st == FR_OK; k++) {
    if (!cnt[k])
      st = fr_err(FR_ERR_INVALID, "the support set has no sample of class '%s'",
                  d->class_names[k]);
    for (int64_t f = 0; f < F && st == FR_OK; f++) proto[(int64_t)k * F + f] /= (float)cnt[k];
    if (st == FR_OK && cosine) normalize(proto + (int64_t)k * F, F);
  }
  fr_free(cnt);
  fr_free(v);
  return st;
}

/* The nearest prototype of feature vector x. */
static int nearest(const float *x, const float *proto, int C, int64_t F, bool cosine) {
  int best = 0;
  double best_s = -INFINITY;
  double xn = 0;
  for (int64_t f = 0; cosine && f < F; f++) xn += (double)x[f] * x[f];
  xn = xn > 0 ? sqrt(xn) : 1;
  for (int k = 0; k < C; k++) {
    const float *p = proto + (int64_t)k * F;
    double s = 0;
    if (cosine) {
      for (int64_t f = 0; f < F; f++) s += (double)x[f] * p[f];
      s /= xn;
    } else {
      for (int64_t f = 0; f < F; f++) s -= ((double)x[f] - p[f]) * ((double)x[f] - p[f]);
    }
    if (s > best_s) best_s = s, best = k;
  }
  return best;
}

/* The prototype classifier as ONNX: the model up to --cut with a linear
 * head whose scores rank the classes as the metric does (cosine: the
 * normalized prototypes, bias 0; euclidean: 2p and -|p|^2, since
 * -|x - p|^2 = 2 x.p - |p|^2 - |x|^2). */
static fr_status export_prototypes(fr_cli *c, const float *proto, int C, int64_t F,
                                   bool cosine, const char *out) {
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory,
                     .shapes = c->shapes, .n_shapes = c->n_shapes};
  fr_model *m = NULL;
  FR_TRY(fr_onnx_load(c->model, &lo, &m));
  fr_value *x = m->graph->inputs[0];
  if (x->t.rank > 0 && x->t.dims[0] <= 0) x->t.dims[0] = 1;
  char head[32];
  snprintf(head, sizeof head, "linear:%d", C);
  fr_train_spec sp = {.cut = c->train.cut, .head = head, .batch = x->t.dims[0],
                      .n_classes = C, .infer_only = true};
  fr_status st = fr_train_build(m, &sp);
  fr_value *w = st == FR_OK ? fr_graph_find(m->graph, "frost.head.0.weight") : NULL;
  fr_value *b = st == FR_OK ? fr_graph_find(m->graph, "frost.head.0.bias") : NULL;
  if (st == FR_OK && (!w || !b || fr_tensor_numel(&w->t) != C * F))
    st = fr_err(FR_ERR_SHAPE, "the prototype head does not fit the features "
                "(%lld wide)", (long long)F);
  if (st == FR_OK) {
    float *wd = w->t.data, *bd = b->t.data;
    for (int k = 0; k < C; k++) {
      double n2 = 0;
      for (int64_t f = 0; f < F; f++) {
        float p = proto[(int64_t)k * F + f];
        wd[(int64_t)k * F + f] = cosine ? p : 2 * p;
        n2 += (double)p * p;
      }
      bd[k] = cosine ? 0.0f : (float)-n2;
    }
    st = fr_onnx_export(c->model, m, c->train.cut, out);
  }
  fr_model_free(m);
  return st;
}

/* --finetune: the prototype classifier as the initial head, trained on
 * the support set by frost train (its options: --epochs, --lr, ...), the
 * backbone frozen; c->out receives the trained model. */
static fr_status finetune(fr_cli *c, const float *proto, int C, int64_t F,
                          bool cosine, bool *reported) {
  const char *tdir = getenv("TMPDIR");
  char path[4200];
  snprintf(path, sizeof path, "%s/frost-proto-XXXXXX", tdir && *tdir ? tdir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) return fr_err(FR_ERR_IO, "cannot make a temporary file (%s)", strerror(errno));
  close(fd);
  fr_status st = export_prototypes(c, proto, C, F, cosine, path);
  if (st == FR_OK && c->freeze.n_rules == FR_MAX_FREEZE)
    st = fr_err(FR_ERR_USAGE, "too many --trainable/--frozen rules");
  if (st == FR_OK) {
    printf("fine-tuning the prototype head on %s\n", c->train.support);
    fr_cli t = *c;
    t.model = path;
    t.second = c->train.support;
    t.train.cut = NULL;
    t.train.head = NULL;
    t.train.n_heads = t.train.n_task_weights = 0;
    t.freeze.rules[t.freeze.n_rules++] = (fr_freeze_rule){true, "^frost\\.head\\."};
    t.pipe.freeze = &t.freeze;
    if (fr_cmd_train(&t) != 0) {
      st = FR_ERR_INVALID;
      *reported = true; /* frost train printed the error line */
    }
  }
  unlink(path);
  return st;
}

/* After --finetune: the trained classifier (c->out, the model with its
 * head) on the query set, as prototypes were measured: the top class of
 * its scores (pooled per clip with --frontend) against the label. */
static fr_status query_accuracy(fr_cli *c, int64_t B, const int *qmap) {
  fr_cli e = *c;
  e.model = c->out;
  e.train.cut = NULL;
  fr_dataset q = {0};
  fr_dataset *sets[1] = {&q};
  double secs = 0;
  fr_status st = load_set(&e, c->train.query, &q);
  if (st == FR_OK) st = features_of(&e, NULL, B, sets, 1, &secs);
  int64_t right = 0, C = q.numel;
  for (int i = 0; st == FR_OK && i < q.n; i++) {
    const float *s = q.x + (int64_t)i * C;
    int64_t k = 0;
    for (int64_t j = 1; j < C; j++)
      if (s[j] > s[k]) k = j;
    right += k == qmap[q.label[i]];
  }
  if (st == FR_OK)
    printf("after fine-tuning: accuracy %.2f%% (%lld of %d queries)\n",
           q.n ? 100.0 * (double)right / q.n : 0.0, (long long)right, q.n);
  fr_dataset_free(&q);
  return st;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int fr_cmd_fewshot(fr_cli *c) {
  fr_train_opts *o = &c->train;
  bool cosine = !o->metric || !strcmp(o->metric, "cosine");
  if (o->metric && strcmp(o->metric, "cosine") && strcmp(o->metric, "euclidean")) {
    fr_err(FR_ERR_USAGE, "--metric is cosine or euclidean, not '%s'", o->metric);
    return fr_cli_fail();
  }
  bool episodes = o->episodes > 0;
  if (episodes ? !c->second || o->support || o->query : !o->support || !o->query) {
    fr_err(FR_ERR_USAGE, "frost fewshot MODEL --support DIR --query DIR, or "
           "frost fewshot MODEL DATA --episodes E --shots K");
    return fr_cli_fail();
  }
  int64_t B = o->batch > 0 ? o->batch : 32;
  bool reported = false;
  fr_dataset sup = {0}, qry = {0};
  fr_status st = load_set(c, episodes ? c->second : o->support, &sup);
  if (st == FR_OK && !episodes) st = load_set(c, o->query, &qry);
  if (st != FR_OK) {
    fr_dataset_free(&sup);
    return fr_cli_fail();
  }
  int C = sup.n_classes;
  /* Query classes by name: the support's. */
  int *qmap = NULL;
  if (!episodes) {
    qmap = fr_malloc(sizeof(int) * (size_t)(qry.n_classes + 1));
    for (int q = 0; qmap && q < qry.n_classes && st == FR_OK; q++) {
      qmap[q] = -1;
      for (int k = 0; k < C; k++)
        if (!strcmp(qry.class_names[q], sup.class_names[k])) qmap[q] = k;
      if (qmap[q] < 0)
        st = fr_err(FR_ERR_INVALID, "%s: class '%s' has no support in %s", o->query,
                    qry.class_names[q], o->support);
    }
    if (!qmap) st = fr_err_nomem(NULL);
  }
  double secs = 0;
  fr_dataset *sets[2] = {&sup, &qry};
  if (st == FR_OK) st = features_of(c, o->cut, B, sets, episodes ? 1 : 2, &secs);
  int64_t F = sup.numel;
  float *proto = st == FR_OK ? fr_malloc(sizeof(float) * (size_t)(C * F + 1)) : NULL;
  int *idx = st == FR_OK ? fr_malloc(sizeof(int) * (size_t)(sup.n + 1)) : NULL;
  if (st == FR_OK && (!proto || !idx)) st = fr_err_nomem(NULL);
  if (st == FR_OK)
    printf("features: %d samples through %s up to '%s' in %.2f s, %lld floats each\n",
           sup.n + qry.n, c->model, o->cut ? o->cut : "its output", secs, (long long)F);
  if (st == FR_OK && !episodes) {
    for (int i = 0; i < sup.n; i++) idx[i] = i;
    st = prototypes(&sup, idx, sup.n, C, cosine, proto);
    int64_t right = 0;
    for (int i = 0; st == FR_OK && i < qry.n; i++)
      right += nearest(qry.x + (int64_t)i * F, proto, C, F, cosine) == qmap[qry.label[i]];
    if (st == FR_OK) {
      printf("%d-way, %d support samples (%s): accuracy %.2f%% (%lld of %d queries)\n",
             C, sup.n, cosine ? "cosine" : "euclidean", 100.0 * (double)right / qry.n,
             (long long)right, qry.n);
      if (c->out && !o->finetune) {
        st = export_prototypes(c, proto, C, F, cosine, c->out);
        if (st == FR_OK) printf("wrote %s (the prototype classifier)\n", c->out);
      } else if (c->out) {
        st = finetune(c, proto, C, F, cosine, &reported);
        if (st == FR_OK) st = query_accuracy(c, B, qmap);
      }
    }
  } else if (st == FR_OK) {
    /* Episodes: per class, K support and Q query samples drawn without
     * replacement from DATA; ways classes per episode (all by default). */
    int K = o->shots > 0 ? o->shots : 1, Q = o->queries > 0 ? o->queries : 5;
    int W = o->ways > 0 && o->ways < C ? o->ways : C;
    int **by = fr_calloc((size_t)C + 1, sizeof *by);
    int *cnt = fr_calloc((size_t)C + 1, sizeof(int));
    double *acc = fr_calloc((size_t)o->episodes + 1, sizeof(double));
    int *classes = fr_malloc(sizeof(int) * (size_t)(C + 1));
    float *wproto = fr_malloc(sizeof(float) * (size_t)(W * F + 1));
    if (!by || !cnt || !acc || !classes || !wproto) st = fr_err_nomem(NULL);
    for (int i = 0; st == FR_OK && i < sup.n; i++) cnt[sup.label[i]]++;
    for (int k = 0; st == FR_OK && k < C; k++) {
      if (cnt[k] < K + 1)
        st = fr_err(FR_ERR_INVALID, "%s: class '%s' has %d samples; %d shots "
                    "and a query need %d", c->second, sup.class_names[k], cnt[k],
                    K, K + 1);
      by[k] = fr_malloc(sizeof(int) * (size_t)(cnt[k] + 1));
      if (!by[k]) st = fr_err_nomem(NULL);
      cnt[k] = 0;
    }
    for (int i = 0; st == FR_OK && i < sup.n; i++) by[sup.label[i]][cnt[sup.label[i]]++] = i;
    fr_rng r;
    fr_rng_seed(&r, o->seed);
    int32_t *save = fr_malloc(sizeof(int32_t) * (size_t)(sup.n + 1));
    if (st == FR_OK && !save) st = fr_err_nomem(NULL);
    if (st == FR_OK) memcpy(save, sup.label, sizeof(int32_t) * (size_t)sup.n);
    for (int e = 0; st == FR_OK && e < o->episodes; e++) {
      for (int k = 0; k < C; k++) classes[k] = k;
      fr_rng_shuffle(&r, classes, C);
      int ns = 0, right = 0, total = 0;
      /* The episode's classes relabelled 0..W-1 for prototypes(). */
      for (int w = 0; w < W; w++) {
        int k = classes[w];
        fr_rng_shuffle(&r, by[k], cnt[k]);
        for (int s = 0; s < K; s++) {
          idx[ns++] = by[k][s];
          sup.label[by[k][s]] = w;
        }
      }
      int savedC = sup.n_classes;
      sup.n_classes = W;
      st = prototypes(&sup, idx, ns, W, cosine, wproto);
      sup.n_classes = savedC;
      for (int w = 0; st == FR_OK && w < W; w++) {
        int k = classes[w];
        int nq = cnt[k] - K < Q ? cnt[k] - K : Q;
        for (int q = 0; q < nq; q++, total++)
          right += nearest(sup.x + (int64_t)by[k][K + q] * F, wproto, W, F, cosine) == w;
      }
      memcpy(sup.label, save, sizeof(int32_t) * (size_t)sup.n);
      acc[e] = total ? (double)right / total : 0;
    }
    if (st == FR_OK) {
      double mean = 0, var = 0;
      for (int e = 0; e < o->episodes; e++) mean += acc[e] / o->episodes;
      for (int e = 0; e < o->episodes; e++) var += (acc[e] - mean) * (acc[e] - mean);
      var = o->episodes > 1 ? var / (o->episodes - 1) : 0;
      double ci = 1.96 * sqrt(var / o->episodes);
      qsort(acc, (size_t)o->episodes, sizeof *acc, cmp_double);
      printf("%d-way %d-shot, %d queries per class, %d episodes (%s): accuracy "
             "%.2f%% +- %.2f (95%% interval), min %.1f%%, max %.1f%%\n", W, K, Q,
             o->episodes, cosine ? "cosine" : "euclidean", 100 * mean, 100 * ci,
             100 * acc[0], 100 * acc[o->episodes - 1]);
    }
    for (int k = 0; by && k < C; k++) fr_free(by[k]);
    fr_free(by);
    fr_free(cnt);
    fr_free(acc);
    fr_free(classes);
    fr_free(wproto);
    fr_free(save);
  }
  fr_free(proto);
  fr_free(idx);
  fr_free(qmap);
  fr_dataset_free(&sup);
  fr_dataset_free(&qry);
  return st == FR_OK ? 0 : reported ? 1 : fr_cli_fail();
}

/* ---- clustering -------------------------------------------------------- */

static double sqdist(const float *a, const float *b, int64_t F) {
  double s = 0;
  for (int64_t f = 0; f < F; f++) s += ((double)a[f] - b[f]) * ((double)a[f] - b[f]);
  return s;
}

/* k-means++ seeding, then Lloyd's iterations until no sample moves (at
 * most 300). */
static fr_status kmeans(const float *x, int n, int64_t F, int K, uint64_t seed,
                        int *assign, double *inertia) {
  float *cen = fr_malloc(sizeof(float) * (size_t)(K * F + 1));
  double *d2 = fr_malloc(sizeof(double) * (size_t)(n + 1));
  int *cnt = fr_malloc(sizeof(int) * (size_t)(K + 1));
  if (!cen || !d2 || !cnt) {
    fr_free(cen), fr_free(d2), fr_free(cnt);
    return fr_err_nomem(NULL);
  }
  fr_rng r;
  fr_rng_seed(&r, seed);
  int first = (int)fr_rng_below(&r, (uint64_t)n);
  memcpy(cen, x + (int64_t)first * F, sizeof(float) * (size_t)F);
  for (int i = 0; i < n; i++) d2[i] = sqdist(x + (int64_t)i * F, cen, F);
  for (int k = 1; k < K; k++) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += d2[i];
    double u = fr_rng_uniform(&r) * sum;
    int pick = n - 1;
    for (int i = 0; i < n; i++) {
      u -= d2[i];
      if (u <= 0 && d2[i] > 0) {
        pick = i;
        break;
      }
    }
    memcpy(cen + (int64_t)k * F, x + (int64_t)pick * F, sizeof(float) * (size_t)F);
    for (int i = 0; i < n; i++) {
      double d = sqdist(x + (int64_t)i * F, cen + (int64_t)k * F, F);
      if (d < d2[i]) d2[i] = d;
    }
  }
  for (int i = 0; i < n; i++) assign[i] = -1;
  for (int it = 0; it < 300; it++) {
    int moved = 0;
    *inertia = 0;
    for (int i = 0; i < n; i++) {
      int best = 0;
      double bd = INFINITY;
      for (int k = 0; k < K; k++) {
        double d = sqdist(x + (int64_t)i * F, cen + (int64_t)k * F, F);
        if (d < bd) bd = d, best = k;
      }
      moved += assign[i] != best;
      assign[i] = best;
      *inertia += bd;
    }
    if (!moved) break;
    memset(cnt, 0, sizeof(int) * (size_t)K);
    for (int i = 0; i < n; i++) cnt[assign[i]]++;
    for (int k = 0; k < K; k++)
      if (cnt[k]) memset(cen + (int64_t)k * F, 0, sizeof(float) * (size_t)F);
    for (int i = 0; i < n; i++)
      for (int64_t f = 0; f < F; f++)
        cen[(int64_t)assign[i] * F + f] += x[(int64_t)i * F + f] / (float)cnt[assign[i]];
  }
  fr_free(cen), fr_free(d2), fr_free(cnt);
  return FR_OK;
}

static double comb2(double n) { return n * (n - 1) / 2; }

/* Purity, adjusted Rand index and normalized mutual information (the
 * arithmetic mean normalization, as scikit-learn's default) of the
 * clusters a against the classes y. */
static void agreement(const int *a, const int32_t *y, int n, int K, int C,
                      double *purity, double *ari, double *nmi) {
  double *t = fr_calloc((size_t)(K * C) + 1, sizeof(double));
  double *ra = fr_calloc((size_t)K + 1, sizeof(double)), *cb = fr_calloc((size_t)C + 1, sizeof(double));
  if (!t || !ra || !cb) {
    fr_free(t), fr_free(ra), fr_free(cb);
    *purity = *ari = *nmi = NAN;
    return;
  }
  for (int i = 0; i < n; i++) t[a[i] * C + y[i]]++, ra[a[i]]++, cb[y[i]]++;
  double pur = 0, sij = 0, sa = 0, sb = 0, mi = 0, ha = 0, hb = 0;
  for (int k = 0; k < K; k++) {
    double mx = 0;
    for (int c = 0; c < C; c++) {
      double v = t[k * C + c];
      mx = v > mx ? v : mx;
      sij += comb2(v);
      if (v > 0) mi += v / n * log(v * n / (ra[k] * cb[c]));
    }
    pur += mx;
    sa += comb2(ra[k]);
    if (ra[k] > 0) ha -= ra[k] / n * log(ra[k] / n);
  }
  for (int c = 0; c < C; c++) {
    sb += comb2(cb[c]);
    if (cb[c] > 0) hb -= cb[c] / n * log(cb[c] / n);
  }
  double expect = sa * sb / comb2(n), mean = (sa + sb) / 2;
  *purity = pur / n;
  *ari = mean - expect != 0 ? (sij - expect) / (mean - expect) : 1;
  *nmi = ha + hb > 0 ? 2 * mi / (ha + hb) : 1;
  fr_free(t), fr_free(ra), fr_free(cb);
}

int fr_cmd_cluster(fr_cli *c) {
  fr_train_opts *o = &c->train;
  if (!c->second || o->k <= 0) {
    fr_err(FR_ERR_USAGE, "frost cluster MODEL DATA --k K [--cut VALUE] [-o FILE.csv]");
    return fr_cli_fail();
  }
  fr_dataset d = {0};
  fr_data_opts dop = o->data;
  dop.decode_image = fr_image_decode;
  if (fr_dataset_load(c->second, &dop, &d) != FR_OK) return fr_cli_fail();
  fr_status st = FR_OK;
  if (o->k > d.n)
    st = fr_err(FR_ERR_USAGE, "--k %d: more clusters than the %d samples of %s",
                o->k, d.n, c->second);
  double secs = 0;
  fr_dataset *sets[1] = {&d};
  if (st == FR_OK)
    st = features_of(c, o->cut, o->batch > 0 ? o->batch : 32, sets, 1, &secs);
  int *assign = st == FR_OK ? fr_malloc(sizeof(int) * (size_t)(d.n + 1)) : NULL;
  if (st == FR_OK && !assign) st = fr_err_nomem(NULL);
  double inertia = 0;
  if (st == FR_OK) st = kmeans(d.x, d.n, d.numel, o->k, o->seed, assign, &inertia);
  if (st == FR_OK) {
    printf("features: %d samples through %s up to '%s' in %.2f s, %lld floats each\n",
           d.n, c->model, o->cut ? o->cut : "its output", secs, (long long)d.numel);
    printf("k-means++: %d clusters, inertia %.6g\n", o->k, inertia);
    int *size = fr_calloc((size_t)o->k + 1, sizeof(int));
    for (int i = 0; size && i < d.n; i++) size[assign[i]]++;
    printf("cluster sizes:");
    for (int k = 0; size && k < o->k; k++) printf(" %d", size[k]);
    printf("\n");
    fr_free(size);
    if (d.label) {
      double pur, ari, nmi;
      agreement(assign, d.label, d.n, o->k, d.n_classes, &pur, &ari, &nmi);
      printf("against the %d classes: purity %.4f, adjusted Rand index %.4f, "
             "normalized mutual information %.4f\n", d.n_classes, pur, ari, nmi);
    }
  }
  if (st == FR_OK && c->out) {
    st = fr_file_check_target(c->out);
    FILE *f = st == FR_OK ? fopen(c->out, "w") : NULL;
    if (st == FR_OK && !f) st = fr_err(FR_ERR_IO, "%s: cannot create", c->out);
    if (f) {
      fprintf(f, "path,cluster\n");
      for (int i = 0; i < d.n; i++)
        fprintf(f, "%s,%d\n", d.paths ? d.paths[i] : "", assign[i]);
      if (fclose(f) != 0) st = fr_err(FR_ERR_IO, "%s: write failed", c->out);
      else printf("wrote %s\n", c->out);
    }
  }
  fr_free(assign);
  fr_dataset_free(&d);
  return st == FR_OK ? 0 : fr_cli_fail();
}

/* ---- domain adaptation: AdaBN ----------------------------------------- */

/* frost adapt-bn MODEL TARGET_DATA -o OUT.onnx: every BatchNormalization's
 * running mean and variance re-estimated on unlabelled target-domain data
 * (AdaBN): the model runs in training mode (each BatchNormalization
 * normalizes with its batch's statistics, as PyTorch's model.train()), and
 * the statistics are the mean of the full batches' (a short last batch is
 * left out: its zero padding would bias them). The model keeps everything
 * else; the result is the original file with the new statistics. */
int fr_cmd_adapt_bn(fr_cli *c) {
  if (!c->second || !c->out) {
    fr_err(FR_ERR_USAGE, "frost adapt-bn MODEL TARGET_DATA -o OUT.onnx");
    return fr_cli_fail();
  }
  return fr_adapt_bn(c, c->model, c->second, c->out) == FR_OK ? 0 : fr_cli_fail();
}

fr_status fr_adapt_bn(fr_cli *c, const char *model, const char *data, const char *out_path) {
  fr_train_opts *o = &c->train;
  fr_data_opts dop = o->data;
  dop.decode_image = fr_image_decode;
  fr_dataset d = {0};
  FR_TRY(fr_dataset_load(data, &dop, &d));
  int64_t B = o->batch > 0 ? o->batch : 32;
  if (B > d.n) B = d.n;
  fr_model *m = NULL;
  fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
  fr_status st = fr_onnx_load(model, &lo, &m);
  if (st != FR_OK) fr_err_prefix(model);
  if (st == FR_OK) st = fr_cli_feed(m, model, data, B, d.rank, d.dims);
  fr_value *stats[512], *outs[512];
  int ns = 0;
  fr_freeze_opts fo = {.bn_adapt = true};
  if (st == FR_OK) st = fr_freeze_apply(m, &fo);
  if (st == FR_OK) st = fr_train_bn_mode(m, stats, outs, 512, &ns);
  if (st == FR_OK && ns == 0)
    st = fr_err(FR_ERR_INVALID, "no BatchNormalization with running "
                "statistics to adapt");
  /* momentum 0: each output is the batch's own statistic */
  const fr_graph *g = m ? m->graph : NULL;
  for (int k = 0; st == FR_OK && k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    if (n->op != FR_OP_BATCH_NORMALIZATION || n->n_out != 3) continue;
    bool set = false;
    for (int a = 0; a < n->n_attr; a++)
      if (!strcmp(n->attrs[a].name, "momentum")) {
        n->attrs[a].type = FR_ATTR_FLOAT;
        n->attrs[a].f = 0;
        set = true;
      }
    if (!set) {
      fr_attr *at = fr_arena_alloc(&m->arena, sizeof(fr_attr) * (size_t)(n->n_attr + 1));
      if (!at) {
        st = fr_err_nomem(n);
        break;
      }
      memcpy(at, n->attrs, sizeof(fr_attr) * (size_t)n->n_attr);
      at[n->n_attr++] = (fr_attr){.name = "momentum", .type = FR_ATTR_FLOAT, .f = 0};
      n->attrs = at;
    }
  }
  fr_pipeline_opts po = {.freeze = &fo};
  bool interp = c->engine && !strcmp(c->engine, "interp");
  fr_engine e = {.name = interp ? "opt" : "jit", .pipe = &po,
                 .jit = c->jit};
  fr_progress("adapt-bn", 0, 0, "compiling");
  if (st == FR_OK) st = fr_engine_prepare(&e, m);
  if (st != FR_OK) fr_err_prefix(model);
  int slot[512];
  for (int k = 0; st == FR_OK && k < ns; k++) {
    slot[k] = -1;
    for (int i = 0; i < g->n_outputs; i++)
      if (g->outputs[i] == outs[k]) slot[k] = i;
    if (slot[k] < 0 || !stats[k]->t.data)
      st = fr_err(FR_ERR_INVALID, "the statistic '%s' lost its place in the "
                  "compiled graph", stats[k]->name);
  }
  /* The mean of the full batches' statistics, in double. */
  int64_t total = 0;
  for (int k = 0; st == FR_OK && k < ns; k++) total += fr_tensor_numel(&stats[k]->t);
  double *acc = st == FR_OK ? fr_calloc((size_t)total + 1, sizeof(double)) : NULL;
  int *order = st == FR_OK ? fr_malloc(sizeof(int) * (size_t)(d.n + 1)) : NULL;
  fr_tensor in = {0};
  fr_tensor *out = st == FR_OK ? fr_calloc((size_t)g->n_outputs + 1, sizeof *out) : NULL;
  if (st == FR_OK && (!acc || !order || !out)) st = fr_err_nomem(NULL);
  if (st == FR_OK) {
    in = g->inputs[0]->t;
    in.data = NULL;
    st = fr_tensor_alloc(&in);
  }
  for (int i = 0; st == FR_OK && i < d.n; i++) order[i] = i;
  int batches = 0;
  fr_tensor *inp = &in;
  for (int s = 0; st == FR_OK && s + B <= d.n; s += (int)B) {
    fr_dataset_gather(&d, order, s, (int)B, in.data, NULL, NULL);
    st = fr_engine_run(&e, m, &inp, out);
    int64_t at = 0;
    for (int k = 0; st == FR_OK && k < ns; k++) {
      const float *v = out[slot[k]].data;
      int64_t n = fr_tensor_numel(&stats[k]->t);
      for (int64_t i = 0; i < n; i++) acc[at + i] += v[i];
      at += n;
    }
    for (int i = 0; st == FR_OK && i < g->n_outputs; i++) fr_tensor_release(&out[i]);
    batches++;
    fr_progress("adapt-bn", batches, d.n / B, "batches");
  }
  fr_progress_done();
  if (st == FR_OK) {
    int64_t at = 0;
    for (int k = 0; k < ns; k++) {
      float *v = stats[k]->t.data;
      int64_t n = fr_tensor_numel(&stats[k]->t);
      for (int64_t i = 0; i < n; i++) v[i] = (float)(acc[at + i] / batches);
      at += n;
    }
    printf("adapt-bn: %d statistics of %d BatchNormalization nodes re-estimated "
           "on %d samples of %s (%d batches of %lld)\n", ns, ns / 2,
           batches * (int)B, data, batches, (long long)B);
    st = fr_onnx_export(model, m, NULL, out_path);
    if (st == FR_OK) printf("wrote %s\n", out_path);
  }
  fr_free(acc);
  fr_free(order);
  fr_free(out);
  fr_tensor_release(&in);
  fr_engine_free(&e);
  if (m) fr_model_free(m);
  fr_dataset_free(&d);
  return st;
}
