/* extract.c: `frost extract MODEL DATA --cut VALUE -o DIR`: the features
 * of a data set (the model up to VALUE, run over every sample) written as
 * shards that `frost train MODEL --features DIR` trains a head on.
 *
 * Under mpirun each rank reads its block of the samples (dist.c's
 * fr_dist_block: contiguous, in rank order), runs the backbone over it and
 * writes its shard; rank 0 writes the labels and, once every shard is on
 * disk, the manifest, so a folder with a manifest is complete:
 *
 *   DIR/features.json    format, model and its SHA-256, cut, the model
 *                        input's sample shape, floats per sample, samples,
 *                        classes (or target names), the shards in order
 *   DIR/shard-NNNNN.npy  float32 [count, features]: samples first..
 *   DIR/labels.npy       int32 [samples]: class indices (or targets.npy,
 *                        float32 [samples, targets])
 *
 * fr_features_load reads them back with any number of ranks: each reads
 * the rows of its block from the shards holding them, and the ranks
 * share them (features are small: a few hundred floats a sample). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

#define FEATURES_FORMAT "frost-features-1"

/* DIR/name into out (PATH_MAX). */
static fr_status path_in(char *out, const char *dir, const char *name) {
  if (snprintf(out, 4096, "%s/%s", dir, name) >= 4096)
    return fr_err(FR_ERR_IO, "%s/%s: path too long", dir, name);
  return FR_OK;
}

static void shard_name(char *out, size_t n, int k) {
  snprintf(out, n, "shard-%05d.npy", k);
}

/* ---- writing ------------------------------------------------------------ */

/* Rank 0: DIR ready for a new extraction: made when missing; an earlier
 * extraction's files (those its manifest lists) removed; anything else in
 * it is an error (frost does not write into someone's folder). *made:
 * DIR did not exist. */
static fr_status prepare_dir(const char *dir, bool *made) {
  *made = false;
  struct stat sb;
  if (stat(dir, &sb) != 0) {
    if (mkdir(dir, 0777) != 0)
      return fr_err(FR_ERR_IO, "%s: cannot create the folder: %s", dir, strerror(errno));
    *made = true;
    return FR_OK;
  }
  if (!S_ISDIR(sb.st_mode)) return fr_err(FR_ERR_IO, "%s: exists and is not a folder", dir);
  DIR *dp = opendir(dir);
  if (!dp) return fr_err(FR_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
  fr_status st = FR_OK;
  struct dirent *e;
  char p[4096];
  /* frost extract's own names only */
  while (st == FR_OK && (e = readdir(dp))) {
    const char *n = e->d_name;
    int k;
    char tail[8];
    if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
    bool ours = !strcmp(n, "features.json") || !strcmp(n, "labels.npy") ||
                !strcmp(n, "targets.npy") ||
                (sscanf(n, "shard-%5d%7s", &k, tail) == 2 && !strcmp(tail, ".npy"));
    if (!ours)
      st = fr_err(FR_ERR_IO, "%s: holds '%s': -o takes a new folder or one "
                  "frost extract wrote", dir, n);
  }
  closedir(dp);
  if (st != FR_OK) return st;
  if (!(dp = opendir(dir))) return fr_err(FR_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
  while (st == FR_OK && (e = readdir(dp))) {
    if (e->d_name[0] == '.') continue;
    st = path_in(p, dir, e->d_name);
    if (st == FR_OK && unlink(p) != 0)
      st = fr_err(FR_ERR_IO, "%s: cannot remove: %s", p, strerror(errno));
  }
  closedir(dp);
  return st;
}

/* Rank 0: the labels (or targets) and, last, the manifest. */
static fr_status write_manifest(fr_cli *c, const char *dir, const fr_dataset *d,
                                int in_rank, const int64_t *in_dims, int64_t F) {
  char p[4096], tmp[4200];
  fr_tensor lab = {.dtype = d->label ? FR_I32 : FR_F32, .rank = d->label ? 1 : 2,
                   .dims = {d->n, d->n_targets},
                   .data = d->label ? (void *)d->label : (void *)d->y};
  FR_TRY(path_in(p, dir, d->label ? "labels.npy" : "targets.npy"));
  if (d->n) FR_TRY(fr_npy_write(p, &lab));
  char sha[65];
  FR_TRY(fr_sha256_file(c->model, sha));
  FR_TRY(path_in(p, dir, "features.json"));
  snprintf(tmp, sizeof tmp, "%s.tmp", p);
  FILE *f = fopen(tmp, "w");
  if (!f) return fr_err(FR_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
  fprintf(f, "{\n  \"format\": \"%s\",\n  \"model\": ", FEATURES_FORMAT);
  fr_json_put_string(f, c->model);
  fprintf(f, ",\n  \"model_sha256\": \"%s\",\n  \"cut\": ", sha);
  fr_json_put_string(f, c->train.cut);
  fputs(",\n  \"input\": [", f);
  for (int i = 0; i < in_rank; i++) fprintf(f, "%s%lld", i ? ", " : "", (long long)in_dims[i]);
  fprintf(f, "],\n  \"features\": %lld,\n  \"samples\": %d,\n  \"%s\": [",
          (long long)F, d->n, d->label ? "classes" : "targets");
  int k = d->label ? d->n_classes : d->n_targets;
  for (int i = 0; i < k; i++) {
    fputs(i ? ", " : "", f);
    fr_json_put_string(f, d->label ? d->class_names[i] : d->target_names[i]);
  }
  fputs("],\n  \"shards\": [", f);
  int N = fr_dist_size();
  for (int r = 0; r < N; r++) {
    int64_t first, count;
    fr_dist_block(d->n, r, N, &first, &count);
    char name[32];
    shard_name(name, sizeof name, r);
    fprintf(f, "%s\n    {\"file\": \"%s\", \"first\": %lld, \"count\": %lld}", r ? "," : "",
            name, (long long)first, (long long)count);
  }
  fputs("\n  ]\n}\n", f);
  bool bad = ferror(f) != 0;
  if (fclose(f) != 0 || bad || rename(tmp, p) != 0) {
    unlink(tmp);
    return fr_err(FR_ERR_IO, "%s: cannot write: %s", p, strerror(errno));
  }
  return FR_OK;
}

int fr_cmd_extract(fr_cli *c) {
  const fr_train_opts *o = &c->train;
  fr_status st = FR_OK;
  if (!c->second)
    st = fr_err(FR_ERR_USAGE, "frost extract MODEL DATA --cut VALUE -o DIR: no DATA");
  else if (!o->cut)
    st = fr_err(FR_ERR_USAGE, "frost extract: give --cut VALUE, the value whose "
                "features to write");
  else if (!c->out)
    st = fr_err(FR_ERR_USAGE, "frost extract: give -o DIR, the folder of the features");
  if (st != FR_OK) return fr_cli_fail();
  int64_t B = o->batch > 0 ? o->batch : 32;
  int rank = fr_dist_rank(), N = fr_dist_size();
  double t0 = fr_now_ms(), secs = 0;
  /* the listing and sample 0 (the samples' shape) on every rank */
  fr_data_opts dop = o->data;
  dop.decode_image = fr_image_decode;
  dop.index_only = true;
  fr_dataset d = {0}, v = {0};
  st = fr_dataset_load(c->second, &dop, &d);
  int in_rank = d.rank;
  int64_t in_dims[FR_MAX_RANK], first = 0, count = 0;
  memcpy(in_dims, d.dims, sizeof in_dims);
  if (st == FR_OK && !d.n) st = fr_err(FR_ERR_INVALID, "%s: no samples", c->second);
  /* this rank's block through the model up to --cut */
  if (st == FR_OK) {
    fr_dist_block(d.n, rank, N, &first, &count);
    v = d;
    v.n = (int)count;
    st = fr_dataset_read(&d, &dop, (int)first, (int)count, &v.x);
  }
  fr_dataset *sets[1] = {&v};
  if (st == FR_OK) st = fr_extract_features(c, o->cut, B, sets, 1, &secs);
  int64_t F = v.dims[0];
  bool made = false;
  if (rank == 0 && (st = fr_dist_agree(st)) == FR_OK) st = prepare_dir(c->out, &made);
  else if (rank != 0) st = fr_dist_agree(st);
  /* every shard, then (rank 0) the labels and the manifest */
  st = fr_dist_agree(st);
  char shard[4096] = "", name[32];
  if (st == FR_OK) {
    shard_name(name, sizeof name, rank);
    st = path_in(shard, c->out, name);
    fr_tensor y = {.dtype = FR_F32, .rank = 2, .dims = {count, F}, .data = v.x};
    if (st == FR_OK) st = fr_npy_write(shard, &y);
    if (st != FR_OK) shard[0] = 0;
  }
  st = fr_dist_agree(st);
  if (st == FR_OK && rank == 0) st = write_manifest(c, c->out, &d, in_rank, in_dims, F);
  st = fr_dist_agree(st);
  if (st != FR_OK) { /* all or nothing */
    if (shard[0]) unlink(shard);
    if (rank == 0 && made) {
      char p[4096];
      const char *ours[2] = {"labels.npy", "targets.npy"};
      for (int i = 0; i < 2; i++)
        if (path_in(p, c->out, ours[i]) == FR_OK) unlink(p);
    }
    fr_dist_agree(FR_OK); /* the shards removed before the folder */
    if (rank == 0 && made) rmdir(c->out);
  } else {
    char on[32] = "";
    if (N > 1) snprintf(on, sizeof on, " on %d ranks", N);
    printf("features: %d samples of %s through %s up to '%s' in %.2f s%s, "
           "%lld floats each\nwrote %s (%d shard%s, the manifest features.json)\n",
           d.n, c->second, c->model, o->cut, (fr_now_ms() - t0) / 1e3, on,
           (long long)F, c->out, N, N > 1 ? "s" : "");
  }
  fr_free(v.x);
  fr_dataset_free(&d);
  return st == FR_OK ? 0 : fr_cli_fail();
}

/* ---- reading ------------------------------------------------------------ */

/* The integer member key of object o, in [lo, hi]. */
static fr_status get_int(const char *what, const fr_json *o, const char *key,
                         int64_t lo, int64_t hi, int64_t *out) {
  const fr_json *v = fr_json_get(o, key);
  if (!v || !fr_json_int(v, out) || *out < lo || *out > hi)
    return fr_err(FR_ERR_PARSE, "%s: \"%s\" is not an integer in [%lld, %lld]", what,
                  key, (long long)lo, (long long)hi);
  return FR_OK;
}

static fr_status get_str(const char *what, const fr_json *o, const char *key,
                         const char **out) {
  const fr_json *v = fr_json_get(o, key);
  if (!v || v->type != FR_JSON_STRING)
    return fr_err(FR_ERR_PARSE, "%s: \"%s\" is not a string", what, key);
  *out = v->str;
  return FR_OK;
}

/* Rows [first, first + count) of the features (F floats each) from the
 * shards of the manifest's list holding them, into x. */
static fr_status read_rows(const char *dir, const fr_json *shards, int64_t F,
                           int64_t first, int64_t count, float *x) {
  const char *man = "features.json";
  int64_t at = 0;
  fr_status st = FR_OK;
  for (int k = 0; st == FR_OK && k < shards->n; k++) {
    const fr_json *s = fr_json_at(shards, k);
    int64_t f, n;
    const char *file = NULL;
    FR_TRY(get_int(man, s, "first", 0, INT32_MAX, &f));
    FR_TRY(get_int(man, s, "count", 0, INT32_MAX, &n));
    FR_TRY(get_str(man, s, "file", &file));
    if (f != at || strchr(file, '/'))
      return fr_err(FR_ERR_PARSE, "%s/%s: shard %d does not follow the one before", dir,
                    man, k);
    at = f + n;
    int64_t lo = first > f ? first : f, hi = first + count < f + n ? first + count : f + n;
    if (lo >= hi) continue;
    char p[4096];
    FR_TRY(path_in(p, dir, file));
    fr_tensor t = {0};
    st = fr_npy_read(p, &t);
    if (st == FR_OK && (t.dtype != FR_F32 || t.rank != 2 || t.dims[0] != n || t.dims[1] != F))
      st = fr_err(FR_ERR_SHAPE, "%s: not float32 [%lld, %lld] as features.json says", p,
                  (long long)n, (long long)F);
    if (st == FR_OK)
      memcpy(x + (lo - first) * F, (const float *)t.data + (lo - f) * F,
             sizeof(float) * (size_t)((hi - lo) * F));
    fr_tensor_release(&t);
  }
  return st;
}

/* The labels (or targets) of the manifest's samples into d. */
static fr_status read_labels(const char *dir, const fr_json *root, fr_dataset *d) {
  const fr_json *cl = fr_json_get(root, "classes"), *tg = fr_json_get(root, "targets");
  const fr_json *names = cl ? cl : tg;
  if (!names || names->type != FR_JSON_ARRAY || names->n < 1 || names->n > 1 << 20)
    return fr_err(FR_ERR_PARSE, "%s/features.json: no \"classes\" or \"targets\"", dir);
  char **nm = fr_arena_alloc(&d->arena, sizeof(char *) * (size_t)(names->n + 1));
  if (!nm) return fr_err_nomem(NULL);
  for (int i = 0; i < names->n; i++) {
    const fr_json *v = fr_json_at(names, i);
    if (v->type != FR_JSON_STRING)
      return fr_err(FR_ERR_PARSE, "%s/features.json: a class name is not a string", dir);
    if (!(nm[i] = fr_arena_strdup(&d->arena, v->str))) return fr_err_nomem(NULL);
  }
  char p[4096];
  FR_TRY(path_in(p, dir, cl ? "labels.npy" : "targets.npy"));
  fr_tensor t = {0};
  if (d->n) FR_TRY(fr_npy_read(p, &t));
  fr_status st = FR_OK;
  if (d->n && cl && (t.dtype != FR_I32 || t.rank != 1 || t.dims[0] != d->n))
    st = fr_err(FR_ERR_SHAPE, "%s: not int32 [%d]", p, d->n);
  if (d->n && !cl && (t.dtype != FR_F32 || t.rank != 2 || t.dims[0] != d->n ||
                      t.dims[1] != names->n))
    st = fr_err(FR_ERR_SHAPE, "%s: not float32 [%d, %d]", p, d->n, names->n);
  for (int i = 0; st == FR_OK && cl && i < d->n; i++) {
    int32_t y = ((const int32_t *)t.data)[i];
    if (y < 0 || y >= names->n)
      st = fr_err(FR_ERR_INVALID, "%s: label %d of sample %d is not one of the %d "
                  "classes", p, (int)y, i, names->n);
  }
  if (st != FR_OK) {
    fr_tensor_release(&t);
    return st;
  }
  if (cl) {
    d->label = d->n ? t.data : fr_malloc(1);
    d->n_classes = names->n;
    d->class_names = nm;
  } else {
    d->y = d->n ? t.data : fr_malloc(1);
    d->n_targets = names->n;
    d->target_names = nm;
  }
  return (d->label || d->y) ? FR_OK : fr_err_nomem(NULL);
}

/* The manifest and labels into fi and d, this rank's block of the rows
 * into *rows (fr_malloc'd). */
static fr_status load(const char *dir, fr_feature_info *fi, fr_dataset *d,
                      fr_json_doc *doc, float **rows) {
  char p[4096];
  FR_TRY(path_in(p, dir, "features.json"));
  uint8_t *buf;
  size_t len;
  fr_status st = fr_read_file(p, &buf, &len);
  if (st != FR_OK)
    return fr_err(st, "%s: not features frost extract wrote (%s)", dir, fr_err_msg());
  st = fr_json_parse(doc, (const char *)buf, len, p);
  fr_free(buf);
  FR_TRY(st);
  const fr_json *root = doc->root, *in = fr_json_get(root, "input");
  const fr_json *shards = fr_json_get(root, "shards");
  const char *format = NULL, *cut = NULL, *sha = NULL;
  int64_t F, n;
  FR_TRY(get_str(p, root, "format", &format));
  if (strcmp(format, FEATURES_FORMAT))
    return fr_err(FR_ERR_UNSUPPORTED, "%s: format '%s', frost reads %s", p, format,
                  FEATURES_FORMAT);
  FR_TRY(get_str(p, root, "cut", &cut));
  FR_TRY(get_str(p, root, "model_sha256", &sha));
  FR_TRY(get_int(p, root, "features", 1, (int64_t)1 << 30, &F));
  FR_TRY(get_int(p, root, "samples", 0, INT32_MAX, &n));
  if (!in || in->type != FR_JSON_ARRAY || in->n < 1 || in->n > FR_MAX_RANK - 1 ||
      !shards || shards->type != FR_JSON_ARRAY)
    return fr_err(FR_ERR_PARSE, "%s: no \"input\" shape or \"shards\" list", p);
  snprintf(fi->cut, sizeof fi->cut, "%s", cut);
  snprintf(fi->model_sha256, sizeof fi->model_sha256, "%s", sha);
  fi->in_rank = in->n;
  for (int i = 0; i < in->n; i++) {
    const fr_json *v = fr_json_at(in, i);
    if (!fr_json_int(v, &fi->in_dims[i]) || fi->in_dims[i] < 1)
      return fr_err(FR_ERR_PARSE, "%s: \"input\" is not a shape", p);
  }
  d->n = (int)n;
  d->rank = 1;
  d->dims[0] = F;
  d->numel = F;
  FR_TRY(read_labels(dir, root, d));
  int64_t first, count, total = 0;
  fr_dist_block(n, fr_dist_rank(), fr_dist_size(), &first, &count);
  *rows = fr_malloc(sizeof(float) * (size_t)(count * F) + 1);
  st = *rows ? read_rows(dir, shards, F, first, count, *rows) : fr_err_nomem(NULL);
  for (int k = 0; st == FR_OK && k < shards->n; k++) {
    int64_t c;
    st = get_int(p, fr_json_at(shards, k), "count", 0, INT32_MAX, &c);
    total += c;
  }
  if (st == FR_OK && total != n)
    st = fr_err(FR_ERR_PARSE, "%s: the shards hold %lld samples, not %lld", p,
                (long long)total, (long long)n);
  return st;
}

fr_status fr_features_load(const char *dir, fr_feature_info *fi, fr_dataset *d) {
  *d = (fr_dataset){0};
  *fi = (fr_feature_info){0};
  fr_json_doc doc = {0};
  float *rows = NULL;
  fr_status st = load(dir, fi, d, &doc, &rows);
  fr_json_free(&doc);
  /* every rank's rows (every rank gets here: the agreement inside) */
  st = fr_dist_share_rows(st, rows, d->n, d->numel, &d->x);
  if (st != FR_OK) fr_dataset_free(d);
  return st;
}
