/* checkpoint.c: training checkpoints, as docs/checkpoints.md describes them.
 *
 *   DIR/current/state.json           format, model hash, layout, counters,
 *                                    rng, optimizer and its numbers
 *   DIR/current/params/NAME.npy      each trainable parameter
 *   DIR/current/state/S/NAME.npy     its optimizer slot S (0, 1, ...)
 *   DIR/previous/...                 the checkpoint before, kept
 *
 * Saving writes everything into a fresh DIR/.tmp-PID-K, fsyncs each file
 * and folder, then moves DIR/previous aside, renames DIR/current to
 * DIR/previous and the new folder to DIR/current (fsyncing DIR after each
 * step), and only then deletes the one moved aside. A rename is atomic, so
 * a process killed at any moment leaves DIR/current complete, or no
 * DIR/current and DIR/previous complete; leftovers named .tmp-* and .old-*
 * are deleted by the next save. Loading takes DIR/current, or DIR/previous
 * when current is missing or cannot be read; a checkpoint of another model,
 * format or layout is an error, never a reason to fall back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

enum { PATH = 4096, FILE_NAME = 200 };

/* ---- paths and folders -------------------------------------------------- */

static fr_status join(char *out, const char *a, const char *b) {
  if (snprintf(out, PATH, "%s/%s", a, b) >= PATH)
    return fr_err(FR_ERR_IO, "%s/%s: path too long", a, b);
  return FR_OK;
}

/* fsync of a file or folder by name: its data, or its entries, are on
 * disk when this returns. */
static fr_status sync_path(const char *path, bool dir) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
  if (fd < 0)
    return fr_err(FR_ERR_IO, "%s: cannot open to sync (%s)", path,
                  strerror(errno));
  int r;
  do r = fsync(fd);
  while (r != 0 && errno == EINTR);
  int e = errno;
  close(fd);
  if (r != 0)
    return fr_err(FR_ERR_IO, "%s: fsync failed (%s)", path, strerror(e));
  return FR_OK;
}

static fr_status make_dir(const char *path) {
  if (mkdir(path, 0777) != 0)
    return fr_err(FR_ERR_IO, "%s: cannot create the folder (%s)", path,
                  strerror(errno));
  return FR_OK;
}

/* Deletes a folder tree that a save made (no links are followed: a link is
 * removed, not its target). Best effort: what remains is deleted by the
 * next save. */
static void remove_tree(const char *path, int depth) {
  DIR *d = depth < 8 ? opendir(path) : NULL;
  if (d) {
    struct dirent *e;
    char sub[PATH];
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      if (join(sub, path, e->d_name) != FR_OK) continue;
      struct stat st;
      if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
        remove_tree(sub, depth + 1);
      else
        unlink(sub);
    }
    closedir(d);
  }
  rmdir(path);
}

/* The leftovers of saves that were killed: DIR/.tmp-* and DIR/.old-*. */
static void remove_leftovers(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char sub[PATH];
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, ".tmp-", 5) && strncmp(e->d_name, ".old-", 5))
      continue;
    if (join(sub, dir, e->d_name) == FR_OK) remove_tree(sub, 0);
  }
  closedir(d);
}

/* A new folder DIR/PREFIX-PID-K (mode 0777 less the umask, as the rest). */
static fr_status make_unique_dir(const char *dir, const char *prefix,
                                 char *out) {
  for (int k = 0; k < 1000; k++) {
    if (snprintf(out, PATH, "%s/%s-%d-%d", dir, prefix, (int)getpid(), k) >=
        PATH)
      return fr_err(FR_ERR_IO, "%s: path too long", dir);
    if (mkdir(out, 0777) == 0) return FR_OK;
    if (errno != EEXIST) break;
  }
  return fr_err(FR_ERR_IO, "%s: cannot create a folder in it (%s)", dir,
                strerror(errno));
}

static bool exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* ---- the file of each parameter ----------------------------------------- */

/* NAME.npy, the name made file-safe (fr_npy_file_name) and cut at 200
 * bytes; the k-th parameter whose name maps to a file already taken gets
 * NAME~k.npy ('~' is never in a file-safe name, so these cannot collide
 * with another parameter's). files: n_params x FILE_NAME bytes. */
static void file_names(const fr_ckpt *c, char *files) {
  for (int i = 0; i < c->n_params; i++) {
    char *f = files + (size_t)i * FILE_NAME, base[FILE_NAME - 24];
    fr_npy_file_name(c->params[i].name, base, sizeof base);
    snprintf(f, FILE_NAME, "%s.npy", base);
    for (int k = 2;; k++) {
      int j = 0;
      while (j < i && strcmp(files + (size_t)j * FILE_NAME, f)) j++;
      if (j == i) break;
      snprintf(f, FILE_NAME, "%s~%d.npy", base, k);
    }
  }
}

/* The tensor a parameter's file holds: its dtype and dims (bf16, which
 * .npy has no code for, as u16 of the same bits). */
static fr_tensor param_tensor(const fr_ckpt_param *p, void *data) {
  fr_tensor t = {.kind = FR_KIND_TENSOR,
                 .dtype = p->dtype == FR_BF16 ? FR_U16 : p->dtype,
                 .rank = p->rank,
                 .data = data};
  for (int i = 0; i < p->rank; i++) t.dims[i] = p->dims[i];
  return t;
}

/* The layout the caller gives is sound: each parameter named once, of a
 * known fixed-size dtype, inside the block. */
static fr_status check_layout(const fr_ckpt *c) {
  if (c->trainable_bytes < 0 || c->state_slots < 0 || c->state_slots > 8 ||
      c->n_params < 0 || (c->n_params && !c->params))
    return fr_err(FR_ERR_INVALID, "checkpoint: bad layout (%lld bytes, %d "
                  "slots, %d parameters)", (long long)c->trainable_bytes,
                  c->state_slots, c->n_params);
  for (int i = 0; i < c->n_params; i++) {
    const fr_ckpt_param *p = &c->params[i];
    size_t es = fr_dtype_size(p->dtype);
    int64_t numel;
    if (!p->name || !p->name[0] || !es || p->dtype == FR_STRING ||
        p->rank < 0 || p->rank > FR_MAX_RANK ||
        fr_shape_numel(p->rank, p->dims, &numel) != FR_OK || p->offset < 0 ||
        p->offset > c->trainable_bytes ||
        (uint64_t)numel > (uint64_t)(c->trainable_bytes - p->offset) / es)
      return fr_err(FR_ERR_INVALID, "checkpoint: parameter %d ('%s') does "
                    "not fit the %lld-byte trainable block", i,
                    p->name ? p->name : "", (long long)c->trainable_bytes);
    for (int j = 0; j < i; j++)
      if (!strcmp(c->params[j].name, p->name))
        return fr_err(FR_ERR_INVALID, "checkpoint: two parameters named '%s'",
                      p->name);
  }
  return FR_OK;
}

/* ---- save --------------------------------------------------------------- */

static void put_kvs(FILE *f, const fr_ckpt_kv *kv, int n) {
  fputc('{', f);
  for (int i = 0; i < n; i++) {
    fputs(i ? ", " : "", f);
    fr_json_put_string(f, kv[i].key);
    fputs(": ", f);
    fr_json_put_number(f, kv[i].value);
  }
  fputc('}', f);
}

static void put_state_json(FILE *f, const fr_ckpt *c, const char *files) {
  fprintf(f, "{\n  \"format\": %d,\n  \"model\": ", FR_CKPT_FORMAT);
  fr_json_put_string(f, c->model ? c->model : "");
  fprintf(f, ",\n  \"model_sha256\": \"%s\",\n", c->model_sha256);
  fprintf(f, "  \"layout\": {\n    \"align\": %d,\n"
          "    \"trainable_bytes\": %lld,\n    \"state_slots\": %d,\n"
          "    \"params\": [",
          FR_PARAM_ALIGN, (long long)c->trainable_bytes, c->state_slots);
  for (int i = 0; i < c->n_params; i++) {
    const fr_ckpt_param *p = &c->params[i];
    fputs(i ? ",\n      {\"name\": " : "\n      {\"name\": ", f);
    fr_json_put_string(f, p->name);
    fprintf(f, ", \"file\": ");
    fr_json_put_string(f, files + (size_t)i * FILE_NAME);
    fprintf(f, ", \"dtype\": \"%s\", \"dims\": [", fr_dtype_name(p->dtype));
    for (int d = 0; d < p->rank; d++)
      fprintf(f, d ? ", %lld" : "%lld", (long long)p->dims[d]);
    fprintf(f, "], \"offset\": %lld}", (long long)p->offset);
  }
  fprintf(f, "%s]\n  },\n", c->n_params ? "\n    " : "");
  fprintf(f, "  \"epoch\": %lld,\n  \"step\": %lld,\n",
          (long long)c->epoch, (long long)c->step);
  fprintf(f, "  \"rng\": [\"%llu\", \"%llu\", \"%llu\", \"%llu\"],\n",
          (unsigned long long)c->rng[0], (unsigned long long)c->rng[1],
          (unsigned long long)c->rng[2], (unsigned long long)c->rng[3]);
  fputs("  \"optimizer\": ", f);
  fr_json_put_string(f, c->optimizer ? c->optimizer : "");
  fputs(",\n  \"hyper\": ", f);
  put_kvs(f, c->hyper, c->n_hyper);
  fprintf(f, ",\n  \"best\": {\"epoch\": %lld, \"metric\": ",
          (long long)c->best_epoch);
  fr_json_put_number(f, c->best_metric);
  fputs("},\n  \"extra\": ", f);
  put_kvs(f, c->extra, c->n_extra);
  fputs("\n}\n", f);
}

static fr_status write_state_json(const char *path, const fr_ckpt *c,
                                  const char *files) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (!f) {
    if (fd >= 0) close(fd);
    return fr_err(FR_ERR_IO, "%s: cannot create (%s)", path, strerror(errno));
  }
  put_state_json(f, c, files);
  bool ok = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
  ok = fclose(f) == 0 && ok;
  if (!ok) return fr_err(FR_ERR_IO, "%s: write failed", path);
  return FR_OK;
}

/* One block's parameters into folder sub (params or state/S) of tmp. */
static fr_status write_block(const char *tmp, const char *sub,
                             const fr_ckpt *c, const char *block,
                             const char *files) {
  char folder[PATH], path[PATH];
  FR_TRY(join(folder, tmp, sub));
  FR_TRY(make_dir(folder));
  for (int i = 0; i < c->n_params; i++) {
    const fr_ckpt_param *p = &c->params[i];
    fr_tensor t = param_tensor(p, (void *)(block + p->offset));
    FR_TRY(join(path, folder, files + (size_t)i * FILE_NAME));
    FR_TRY(fr_npy_write(path, &t));
    FR_TRY(sync_path(path, false));
  }
  return sync_path(folder, true);
}

static fr_status save_into(const char *tmp, const fr_ckpt *c,
                           const void *trainable, const void *state,
                           const char *files) {
  char sub[64], folder[PATH];
  FR_TRY(write_block(tmp, "params", c, trainable, files));
  if (c->state_slots) {
    FR_TRY(join(folder, tmp, "state"));
    FR_TRY(make_dir(folder));
    for (int s = 0; s < c->state_slots; s++) {
      snprintf(sub, sizeof sub, "state/%d", s);
      FR_TRY(write_block(tmp, sub, c,
                         (const char *)state + (size_t)s * (size_t)c->trainable_bytes,
                         files));
    }
    FR_TRY(sync_path(folder, true));
  }
  /* state.json last: a folder with it has everything. */
  char path[PATH];
  FR_TRY(join(path, tmp, "state.json"));
  FR_TRY(write_state_json(path, c, files));
  return sync_path(tmp, true);
}

static fr_status rename_synced(const char *from, const char *to,
                               const char *dir) {
  if (rename(from, to) != 0)
    return fr_err(FR_ERR_IO, "%s: cannot rename to %s (%s)", from, to,
                  strerror(errno));
  return sync_path(dir, true);
}

fr_status fr_ckpt_save(const char *dir, const fr_ckpt *c, const void *trainable,
                       const void *state) {
  FR_TRY(check_layout(c));
  if ((c->n_params && !trainable) || (c->state_slots && c->n_params && !state))
    return fr_err(FR_ERR_INVALID, "checkpoint: no %s block to save",
                  !trainable ? "trainable" : "optimizer state");
  if (strlen(c->model_sha256) != 64)
    return fr_err(FR_ERR_INVALID, "checkpoint: no model hash");
  FR_TRY(fr_file_make_dir(dir));
  remove_leftovers(dir);
  char *files = fr_malloc((size_t)(c->n_params ? c->n_params : 1) * FILE_NAME);
  if (!files) return fr_err_nomem(NULL);
  file_names(c, files);
  char tmp[PATH], cur[PATH], prev[PATH], old[PATH];
  bool moved_aside = false;
  fr_status st = join(cur, dir, "current");
  if (st == FR_OK) st = join(prev, dir, "previous");
  if (st == FR_OK) st = make_unique_dir(dir, ".tmp", tmp);
  if (st != FR_OK) {
    fr_free(files);
    return st;
  }
  st = save_into(tmp, c, trainable, state, files);
  fr_free(files);
  /* The new checkpoint is complete on disk. DIR/previous goes aside (onto
   * an empty .old-PID-K, which rename replaces), DIR/current becomes
   * DIR/previous, the new one DIR/current. A DIR/current missing after a
   * killed save leaves DIR/previous in place: it is the last complete one. */
  if (st == FR_OK && exists(cur)) {
    if (exists(prev)) {
      st = make_unique_dir(dir, ".old", old);
      if (st == FR_OK) st = rename_synced(prev, old, dir);
      moved_aside = st == FR_OK;
    }
    if (st == FR_OK) st = rename_synced(cur, prev, dir);
  }
  if (st == FR_OK) st = rename_synced(tmp, cur, dir);
  if (st != FR_OK) remove_tree(tmp, 0);
  if (moved_aside) remove_tree(old, 0);
  return st;
}

/* ---- load --------------------------------------------------------------- */

/* What a failed read of one checkpoint folder means: a damaged or
 * incomplete folder (the other may serve), or a checkpoint that does not
 * belong to this run (an error whatever the other holds). */
typedef enum { BAD_FILES, NOT_OURS } failure;

typedef struct reader {
  const char *path; /* DIR/current/state.json, for messages */
  failure why;
} reader;

static fr_status bad(reader *r, const char *what) {
  r->why = BAD_FILES;
  return fr_err(FR_ERR_PARSE, "%s: %s", r->path, what);
}

static fr_status get_int(reader *r, const fr_json *obj, const char *key,
                         int64_t *out) {
  if (!fr_json_int(fr_json_get(obj, key), out)) {
    char msg[128];
    snprintf(msg, sizeof msg, "'%s' is missing or not an integer", key);
    return bad(r, msg);
  }
  return FR_OK;
}

/* A flat object of numbers (null: NaN) into arena memory. */
static fr_status get_kvs(reader *r, fr_arena *a, const fr_json *obj,
                         const char *key, const fr_ckpt_kv **out, int *n) {
  const fr_json *o = fr_json_get(obj, key);
  char msg[128];
  snprintf(msg, sizeof msg, "'%s' is missing or not an object of numbers",
           key);
  if (!o || o->type != FR_JSON_OBJECT) return bad(r, msg);
  fr_ckpt_kv *kv = fr_arena_alloc(a, sizeof *kv * (size_t)(o->n + 1));
  if (!kv) return fr_err_nomem(NULL);
  int k = 0;
  for (const fr_json *m = o->child; m; m = m->next, k++) {
    if (m->type != FR_JSON_NUMBER && m->type != FR_JSON_NULL)
      return bad(r, msg);
    kv[k].key = fr_arena_strdup(a, m->key);
    if (!kv[k].key) return fr_err_nomem(NULL);
    kv[k].value = m->type == FR_JSON_NULL ? NAN : m->num;
  }
  *out = kv;
  *n = k;
  return FR_OK;
}

static fr_dtype dtype_named(const char *s) {
  for (int t = 1; t < FR_DTYPE_COUNT; t++)
    if (!strcmp(fr_dtype_name((fr_dtype)t), s)) return (fr_dtype)t;
  return FR_UNDEFINED;
}

static void shape_text(fr_dtype t, int rank, const int64_t *dims, char *buf,
                       size_t n) {
  fr_tensor x = {.dtype = t, .rank = rank};
  for (int i = 0; i < rank && i < FR_MAX_RANK; i++) x.dims[i] = dims[i];
  fr_shape_str(&x, buf, n);
}

/* The layout of state.json equals the caller's. */
static fr_status check_saved_layout(reader *r, const fr_json *root,
                                    const fr_ckpt *c, bool with_state,
                                    const char *files) {
  const fr_json *L = fr_json_get(root, "layout");
  if (!L || L->type != FR_JSON_OBJECT) return bad(r, "no 'layout' object");
  int64_t bytes, slots;
  FR_TRY(get_int(r, L, "trainable_bytes", &bytes));
  FR_TRY(get_int(r, L, "state_slots", &slots));
  const fr_json *ps = fr_json_get(L, "params");
  if (!ps || ps->type != FR_JSON_ARRAY)
    return bad(r, "'layout' has no 'params' array");
  r->why = NOT_OURS;
  if (bytes != c->trainable_bytes)
    return fr_err(FR_ERR_INVALID, "%s: a trainable block of %lld bytes, this "
                  "model's has %lld", r->path, (long long)bytes,
                  (long long)c->trainable_bytes);
  if (with_state && slots != c->state_slots)
    return fr_err(FR_ERR_INVALID, "%s: %lld optimizer state slots, this run "
                  "has %d", r->path, (long long)slots, c->state_slots);
  if (ps->n != c->n_params)
    return fr_err(FR_ERR_INVALID, "%s: %d trainable parameters, this model "
                  "has %d", r->path, ps->n, c->n_params);
  int i = 0;
  for (const fr_json *e = ps->child; e; e = e->next, i++) {
    const fr_ckpt_param *p = &c->params[i];
    const fr_json *name = fr_json_get(e, "name"), *file = fr_json_get(e, "file"),
                  *dt = fr_json_get(e, "dtype"), *dims = fr_json_get(e, "dims");
    int64_t off, d[FR_MAX_RANK];
    r->why = BAD_FILES;
    if (!name || name->type != FR_JSON_STRING || !file ||
        file->type != FR_JSON_STRING || !dt || dt->type != FR_JSON_STRING ||
        !dims || dims->type != FR_JSON_ARRAY || dims->n > FR_MAX_RANK ||
        !fr_json_int(fr_json_get(e, "offset"), &off)) {
      char msg[96];
      snprintf(msg, sizeof msg, "parameter %d of 'layout' is malformed", i);
      return bad(r, msg);
    }
    int k = 0;
    for (const fr_json *x = dims->child; x; x = x->next, k++)
      if (!fr_json_int(x, &d[k]) || d[k] < 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "parameter %d of 'layout' has bad dims", i);
        return bad(r, msg);
      }
    r->why = NOT_OURS;
    fr_dtype t = dtype_named(dt->str);
    bool same = !strcmp(name->str, p->name) && t == p->dtype &&
                k == p->rank && off == p->offset;
    for (int j = 0; same && j < k; j++) same = d[j] == p->dims[j];
    if (!same) {
      char a[128], b[128];
      shape_text(t, k, d, a, sizeof a);
      shape_text(p->dtype, p->rank, p->dims, b, sizeof b);
      return fr_err(FR_ERR_INVALID, "%s: trainable parameter %d is '%.300s' "
                    "%s at offset %lld, this model's is '%.300s' %s at offset "
                    "%lld", r->path, i, name->str, a, (long long)off, p->name,
                    b, (long long)p->offset);
    }
    if (strcmp(file->str, files + (size_t)i * FILE_NAME)) {
      r->why = BAD_FILES;
      return fr_err(FR_ERR_PARSE, "%s: parameter '%.300s' is in file '%.300s',"
                    " not '%s'", r->path, p->name, file->str,
                    files + (size_t)i * FILE_NAME);
    }
  }
  return FR_OK;
}

/* state.json of folder into c (the checks, then the training fields). */
static fr_status read_state(reader *r, const fr_json *root, fr_ckpt *c,
                            bool with_state, const char *files) {
  if (!root || root->type != FR_JSON_OBJECT) return bad(r, "not a JSON object");
  int64_t format;
  FR_TRY(get_int(r, root, "format", &format));
  if (format != FR_CKPT_FORMAT) {
    r->why = NOT_OURS;
    return fr_err(FR_ERR_INVALID, "%s: checkpoint format %lld, this frost "
                  "reads format %d", r->path, (long long)format,
                  FR_CKPT_FORMAT);
  }
  const fr_json *hash = fr_json_get(root, "model_sha256"),
                *model = fr_json_get(root, "model");
  if (!hash || hash->type != FR_JSON_STRING || strlen(hash->str) != 64)
    return bad(r, "'model_sha256' is missing or not 64 hex digits");
  if (strcmp(hash->str, c->model_sha256)) {
    r->why = NOT_OURS;
    return fr_err(FR_ERR_INVALID, "%s: a checkpoint of model '%.300s' (sha256 "
                  "%s), not of '%.300s' (sha256 %s)", r->path,
                  model && model->type == FR_JSON_STRING ? model->str : "?",
                  hash->str, c->model ? c->model : "?", c->model_sha256);
  }
  FR_TRY(check_saved_layout(r, root, c, with_state, files));
  r->why = BAD_FILES;
  const fr_json *opt = fr_json_get(root, "optimizer");
  if (!opt || opt->type != FR_JSON_STRING)
    return bad(r, "'optimizer' is missing or not a string");
  if (with_state && c->optimizer && strcmp(c->optimizer, opt->str)) {
    r->why = NOT_OURS;
    return fr_err(FR_ERR_INVALID, "%s: optimizer state of '%.100s', this run "
                  "uses '%.100s'", r->path, opt->str, c->optimizer);
  }
  int64_t epoch, step, best_epoch;
  FR_TRY(get_int(r, root, "epoch", &epoch));
  FR_TRY(get_int(r, root, "step", &step));
  if (epoch < 0 || step < 0) return bad(r, "negative 'epoch' or 'step'");
  const fr_json *rng = fr_json_get(root, "rng"), *best = fr_json_get(root, "best");
  uint64_t words[4];
  if (!rng || rng->type != FR_JSON_ARRAY || rng->n != 4)
    return bad(r, "'rng' is not an array of 4 decimal strings");
  for (int i = 0; i < 4; i++) {
    const fr_json *w = fr_json_at(rng, i);
    char *end;
    errno = 0;
    if (w->type != FR_JSON_STRING || w->str[0] < '0' || w->str[0] > '9' ||
        (words[i] = strtoull(w->str, &end, 10), errno == ERANGE) || *end)
      return bad(r, "'rng' is not an array of 4 decimal strings");
  }
  const fr_json *metric = fr_json_get(best, "metric");
  if (!best || best->type != FR_JSON_OBJECT ||
      !fr_json_int(fr_json_get(best, "epoch"), &best_epoch) || !metric ||
      (metric->type != FR_JSON_NUMBER && metric->type != FR_JSON_NULL))
    return bad(r, "'best' is not {\"epoch\": integer, \"metric\": number}");
  const fr_ckpt_kv *hyper, *extra;
  int n_hyper, n_extra;
  FR_TRY(get_kvs(r, &c->arena, root, "hyper", &hyper, &n_hyper));
  FR_TRY(get_kvs(r, &c->arena, root, "extra", &extra, &n_extra));
  const char *name = fr_arena_strdup(&c->arena, opt->str);
  if (!name) return fr_err_nomem(NULL);
  c->epoch = epoch;
  c->step = step;
  memcpy(c->rng, words, sizeof words);
  c->optimizer = name;
  c->hyper = hyper;
  c->n_hyper = n_hyper;
  c->extra = extra;
  c->n_extra = n_extra;
  c->best_epoch = best_epoch;
  c->best_metric = metric->type == FR_JSON_NULL ? NAN : metric->num;
  return FR_OK;
}

/* One block's files from folder sub into block. */
static fr_status read_block(const char *folder, const char *sub,
                            const fr_ckpt *c, char *block, const char *files) {
  char dir[PATH], path[PATH];
  FR_TRY(join(dir, folder, sub));
  for (int i = 0; i < c->n_params; i++) {
    const fr_ckpt_param *p = &c->params[i];
    FR_TRY(join(path, dir, files + (size_t)i * FILE_NAME));
    fr_tensor got;
    FR_TRY(fr_npy_read(path, &got));
    fr_tensor want = param_tensor(p, NULL);
    bool same = got.dtype == want.dtype && got.rank == want.rank;
    for (int d = 0; same && d < got.rank; d++) same = got.dims[d] == want.dims[d];
    if (!same) {
      char a[128], b[128];
      fr_shape_str(&got, a, sizeof a);
      fr_shape_str(&want, b, sizeof b);
      fr_tensor_release(&got);
      return fr_err(FR_ERR_PARSE, "%s: holds %s, parameter '%.300s' is %s",
                    path, a, p->name, b);
    }
    size_t n = fr_tensor_nbytes(&got);
    if (n) memcpy(block + p->offset, got.data, n);
    fr_tensor_release(&got);
  }
  return FR_OK;
}

/* Loads one checkpoint folder; *why says what a failure means. */
static fr_status load_folder(const char *folder, fr_ckpt *c, void *trainable,
                             void *state, const char *files, failure *why) {
  char path[PATH];
  reader r = {.path = path, .why = BAD_FILES};
  *why = BAD_FILES;
  FR_TRY(join(path, folder, "state.json"));
  uint8_t *text;
  size_t len;
  FR_TRY(fr_read_file(path, &text, &len));
  fr_json_doc doc;
  fr_status st = fr_json_parse(&doc, (const char *)text, len, path);
  fr_free(text);
  if (st != FR_OK) return st;
  st = read_state(&r, doc.root, c, state != NULL, files);
  fr_json_free(&doc);
  *why = r.why;
  if (st != FR_OK) return st;
  *why = BAD_FILES;
  FR_TRY(read_block(folder, "params", c, trainable, files));
  for (int s = 0; state && s < c->state_slots; s++) {
    char sub[32];
    snprintf(sub, sizeof sub, "state/%d", s);
    FR_TRY(read_block(folder, sub, c,
                      (char *)state + (size_t)s * (size_t)c->trainable_bytes,
                      files));
  }
  return FR_OK;
}

fr_status fr_ckpt_load(const char *dir, fr_ckpt *c, void *trainable,
                       void *state) {
  c->from_previous = false;
  c->current_error[0] = 0;
  c->arena = (fr_arena){0};
  FR_TRY(check_layout(c));
  if (c->n_params && !trainable)
    return fr_err(FR_ERR_INVALID, "checkpoint: no trainable block to load");
  char cur[PATH], prev[PATH];
  FR_TRY(join(cur, dir, "current"));
  FR_TRY(join(prev, dir, "previous"));
  char *files = fr_malloc((size_t)(c->n_params ? c->n_params : 1) * FILE_NAME);
  if (!files) return fr_err_nomem(NULL);
  file_names(c, files);
  fr_ckpt in = *c; /* what load_folder overwrites, for the second try */
  failure why = BAD_FILES;
  fr_status st;
  if (exists(cur)) {
    st = load_folder(cur, c, trainable, state, files, &why);
    if (st == FR_OK || why == NOT_OURS || st == FR_ERR_NOMEM || !exists(prev))
      goto done;
    snprintf(c->current_error, sizeof c->current_error, "%s", fr_err_msg());
  } else if (!exists(prev)) {
    st = fr_err(FR_ERR_IO, "%s: no checkpoint (neither %s nor %s)", dir, cur,
                prev);
    goto done;
  }
  /* DIR/current is missing (a save was killed between its renames) or
   * damaged: DIR/previous is the last complete checkpoint. */
  char kept[sizeof c->current_error];
  memcpy(kept, c->current_error, sizeof kept);
  fr_arena_free(&c->arena);
  *c = in;
  memcpy(c->current_error, kept, sizeof kept);
  c->from_previous = true;
  st = load_folder(prev, c, trainable, state, files, &why);
  if (st != FR_OK && kept[0])
    st = fr_err(st, "%s (and %s)", kept, fr_err_msg());
done:
  fr_free(files);
  if (st != FR_OK) {
    fr_arena_free(&c->arena);
    fr_arena arena = c->arena;
    *c = in;
    c->arena = arena;
  }
  return st;
}

bool fr_ckpt_exists(const char *dir) {
  char path[PATH];
  return (join(path, dir, "current") == FR_OK && exists(path)) ||
         (join(path, dir, "previous") == FR_OK && exists(path));
}

void fr_ckpt_release(fr_ckpt *c) {
  fr_arena_free(&c->arena);
  c->optimizer = NULL;
  c->hyper = c->extra = NULL;
  c->n_hyper = c->n_extra = 0;
}

static int by_offset(const void *a, const void *b) {
  const fr_ckpt_param *x = a, *y = b;
  return (x->offset > y->offset) - (x->offset < y->offset);
}

void fr_ckpt_sort(fr_ckpt_param *ps, int n) {
  if (n > 1) qsort(ps, (size_t)n, sizeof *ps, by_offset);
}
