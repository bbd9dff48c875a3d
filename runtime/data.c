/* data.c: the data sets `frost train` reads. A folder of class folders or a
 * CSV manifest becomes one float array of samples with their class labels
 * or numeric targets; then the stratified train/validation split, batches
 * gathered by index, image augmentation, and WAV files.
 *
 * One of the objects frost_rt shares (compiled artifacts will train too),
 * so it uses only the base layer (memory, errors, the one file reader, the
 * rng) and npy.c. Images are decoded by a function the caller passes
 * (fr_image_decode of image.c in frost, with libpng and libjpeg); without
 * one an image is an error naming the file. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "runtime.h"

/* ---- small helpers ------------------------------------------------------ */

/* "[3,32,32]" */
static const char *shape_text(int rank, const int64_t *dims, char *buf,
                              size_t n) {
  size_t k = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < rank && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "",
                          (long long)dims[i]);
  if (k < n) snprintf(buf + k, n - k, "]");
  return buf;
}

/* name ends with ext, ignoring case. */
static bool has_ext(const char *name, const char *ext) {
  size_t n = strlen(name), e = strlen(ext);
  return n > e && !strcasecmp(name + n - e, ext);
}

/* dir/name in arena a (name as given when it is absolute, or dir is ""). */
static char *join(fr_arena *a, const char *dir, const char *name) {
  if (name[0] == '/' || !dir[0]) return fr_arena_strdup(a, name);
  size_t d = strlen(dir), n = strlen(name);
  bool slash = dir[d - 1] == '/';
  char *s = fr_arena_alloc(a, d + n + 2);
  if (!s) return NULL;
  memcpy(s, dir, d);
  if (!slash) s[d++] = '/';
  memcpy(s + d, name, n + 1);
  return s;
}

/* A growing array of strings (the strings live elsewhere: an arena). */
typedef struct strlist {
  char **v;
  int n, cap;
} strlist;

static fr_status strlist_push(strlist *l, char *s) {
  if (!s) return fr_err_nomem(NULL);
  if (l->n == l->cap) {
    if (l->cap > (1 << 28)) return fr_err(FR_ERR_NOMEM, "too many samples");
    int cap = l->cap ? 2 * l->cap : 64;
    char **v = fr_realloc(l->v, sizeof *v * (size_t)cap);
    if (!v) return fr_err_nomem(NULL);
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = s;
  return FR_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An arena copy of l's pointers (NULL-safe for an empty list). */
static char **strlist_keep(fr_arena *a, const strlist *l) {
  char **v = fr_arena_alloc(a, sizeof *v * (size_t)(l->n + 1));
  if (v && l->n) memcpy(v, l->v, sizeof *v * (size_t)l->n);
  return v;
}

/* ---- the index: which files, which labels -------------------------------- */

/* What the folder or the manifest says, before any sample is read: one
 * row per sample, with its class name or its numbers. */
typedef struct sample_index {
  strlist paths;  /* arena strings */
  strlist labels; /* class name per row (arena strings), or empty */
  float *y;       /* numeric manifest: (rows, n_targets), fr_malloc'd */
  int cap_y;      /* rows y has room for */
  strlist targets; /* numeric manifest: column names */
  strlist cols[FR_MAX_TASKS]; /* label columns: each row's cell */
} sample_index;

static void index_free(sample_index *ix) {
  fr_free(ix->paths.v);
  fr_free(ix->labels.v);
  for (int k = 0; k < FR_MAX_TASKS; k++) fr_free(ix->cols[k].v);
  fr_free(ix->targets.v);
  fr_free(ix->y);
}

/* The entries of folder dir whose names do not start with '.', sorted
 * bytewise, as arena strings. */
static fr_status list_dir(fr_arena *a, const char *dir, strlist *out) {
  DIR *d = opendir(dir);
  if (!d)
    return fr_err(FR_ERR_IO, "%s: cannot read the folder (%s)", dir,
                  strerror(errno));
  fr_status st = FR_OK;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno)
        st = fr_err(FR_ERR_IO, "%s: cannot read the folder (%s)", dir,
                    strerror(errno));
      break;
    }
    if (e->d_name[0] == '.') continue;
    if ((st = strlist_push(out, fr_arena_strdup(a, e->d_name))) != FR_OK)
      break;
  }
  closedir(d);
  if (st == FR_OK && out->n) qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
  return st;
}

/* DIR/CLASS/FILE: the class folders sorted, the files in each sorted. */
static fr_status index_folder(fr_arena *a, const char *dir, sample_index *ix) {
  strlist top = {0}, files = {0};
  fr_status st = list_dir(a, dir, &top);
  int n_classes = 0;
  for (int i = 0; st == FR_OK && i < top.n; i++) {
    char *cdir = join(a, dir, top.v[i]);
    struct stat sb;
    if (!cdir) {
      st = fr_err_nomem(NULL);
    } else if (stat(cdir, &sb) != 0) {
      st = fr_err(FR_ERR_IO, "%s: cannot open (%s)", cdir, strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
      /* a class folder */
      n_classes++;
      files.n = 0;
      if ((st = list_dir(a, cdir, &files)) != FR_OK) break;
      if (!files.n) {
        st = fr_err(FR_ERR_INVALID,
                    "%s: empty class folder (every class needs samples)",
                    cdir);
        break;
      }
      for (int k = 0; st == FR_OK && k < files.n; k++) {
        char *p = join(a, cdir, files.v[k]);
        if (p && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
          st = fr_err(FR_ERR_INVALID,
                      "%s: a folder inside a class folder (samples are the "
                      "files of DIR/CLASS/)",
                      p);
        else if ((st = strlist_push(&ix->paths, p)) == FR_OK)
          st = strlist_push(&ix->labels, top.v[i]);
      }
    }
    /* other files beside the class folders (a README) are not samples */
  }
  if (st == FR_OK && !n_classes)
    st = fr_err(FR_ERR_INVALID,
                "%s: no class folders in it (the layout is DIR/CLASS/FILE, "
                "or give a CSV manifest)",
                dir);
  fr_free(top.v);
  fr_free(files.v);
  return st;
}

/* A CSV file in memory, parsed record by record in place: fields are
 * unquoted and NUL-terminated inside the buffer. */
typedef struct csv {
  char *s;
  size_t len, pos;
  int line;         /* of the record last read */
  int next_line;    /* of the next character */
  const char *path;
  char **f;         /* the fields of the record last read */
  int nf, cap;
} csv;

static fr_status csv_push(csv *c, char *field) {
  if (c->nf == c->cap) {
    int cap = c->cap ? 2 * c->cap : 16;
    if (cap > 1 << 20)
      return fr_err(FR_ERR_INVALID, "%s:%d: too many fields", c->path,
                    c->line);
    char **f = fr_realloc(c->f, sizeof *f * (size_t)cap);
    if (!f) return fr_err_nomem(NULL);
    c->f = f;
    c->cap = cap;
  }
  c->f[c->nf++] = field;
  return FR_OK;
}

static bool is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* Reads the next record into c->f (blank lines skipped); *got is false at
 * the end. Fields may be quoted ("a, b" and "" for a quote); spaces around
 * fields are dropped; lines end with LF or CRLF. */
static fr_status csv_next(csv *c, bool *got) {
  char *s = c->s;
  size_t len = c->len, r = c->pos;
  c->nf = 0;
  for (;;) { /* skip blank lines */
    size_t q = r;
    while (q < len && (is_blank(s[q]) || s[q] == '\r')) q++;
    if (q >= len) {
      c->pos = len;
      *got = false;
      return FR_OK;
    }
    if (s[q] != '\n') break;
    r = q + 1;
    c->next_line++;
  }
  c->line = c->next_line;
  for (;;) {
    while (r < len && is_blank(s[r])) r++;
    char *field;
    if (r < len && s[r] == '"') {
      size_t w = r++;
      field = s + w;
      for (;;) {
        if (r >= len)
          return fr_err(FR_ERR_PARSE, "%s:%d: a quoted field does not end",
                        c->path, c->line);
        if (s[r] == '"') {
          if (r + 1 < len && s[r + 1] == '"') {
            s[w++] = '"';
            r += 2;
            continue;
          }
          r++;
          break;
        }
        if (s[r] == '\n') c->next_line++;
        s[w++] = s[r++];
      }
      while (r < len && (is_blank(s[r]) || (s[r] == '\r' && r + 1 < len &&
                                             s[r + 1] == '\n')))
        r++;
      if (r < len && s[r] == '\r' && r + 1 == len) r++;
      if (r < len && s[r] != ',' && s[r] != '\n')
        return fr_err(FR_ERR_PARSE, "%s:%d: text after a closing quote",
                      c->path, c->line);
      s[w] = 0; /* w < r: the delimiter at r is still there */
    } else {
      size_t b = r;
      while (r < len && s[r] != ',' && s[r] != '\n') r++;
      size_t e = r;
      while (e > b && (is_blank(s[e - 1]) || s[e - 1] == '\r')) e--;
      field = s + b;
      char delim = r < len ? s[r] : 0;
      s[e] = 0; /* may overwrite the delimiter, kept in delim */
      FR_TRY(csv_push(c, field));
      if (r >= len || delim == '\n') {
        c->pos = r + 1;
        c->next_line++;
        *got = true;
        return FR_OK;
      }
      r++;
      continue;
    }
    FR_TRY(csv_push(c, field));
    if (r >= len || s[r] == '\n') {
      c->pos = r + 1;
      c->next_line++;
      *got = true;
      return FR_OK;
    }
    r++; /* the comma */
  }
}

/* The header's second column names classes when it is called label or
 * class (and is the only one after the path). */
static bool is_label_column(const char *name) {
  return !strcasecmp(name, "label") || !strcasecmp(name, "class");
}

static fr_status parse_number(const csv *c, const char *column,
                              const char *txt, float *v) {
  if (!txt[0])
    return fr_err(FR_ERR_PARSE, "%s:%d: column '%s' is empty", c->path,
                  c->line, column);
  char *end;
  double d = strtod(txt, &end);
  if (*end || !isfinite(d) || fabs(d) > 3.4e38)
    return fr_err(FR_ERR_PARSE, "%s:%d: column '%s': '%.40s' is not a number",
                  c->path, c->line, column, txt);
  *v = (float)d;
  return FR_OK;
}

/* Multi-task: where each of o's label columns is in the header (at[k]). */
static fr_status find_label_columns(const csv *c, const fr_data_opts *o, int *at) {
  if (o->n_label_columns > FR_MAX_TASKS)
    return fr_err(FR_ERR_USAGE, "%d label columns: at most %d", o->n_label_columns,
                  FR_MAX_TASKS);
  for (int k = 0; k < o->n_label_columns; k++) {
    at[k] = -1;
    for (int j = 1; j < c->nf; j++) {
      if (strcmp(c->f[j], o->label_columns[k])) continue;
      if (at[k] >= 0)
        return fr_err(FR_ERR_PARSE, "%s:%d: two columns are named '%s'", c->path,
                      c->line, c->f[j]);
      at[k] = j;
    }
    if (at[k] < 0) {
      char names[256];
      size_t n = 0;
      names[0] = 0;
      for (int j = 0; j < c->nf && n < sizeof names; j++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", j ? "," : "", c->f[j]);
      return fr_err(FR_ERR_INVALID, "%s: no column '%s' (the header is %s)",
                    c->path, o->label_columns[k], names);
    }
  }
  return FR_OK;
}

static fr_status index_manifest(fr_arena *a, const char *path,
                                const fr_data_opts *o, sample_index *ix) {
  uint8_t *buf = NULL;
  size_t len = 0;
  FR_TRY(fr_read_file(path, &buf, &len));
  csv c = {.s = (char *)buf, .len = len, .path = path, .next_line = 1};
  fr_status st = FR_OK;
  /* the manifest's folder: sample paths are relative to it */
  const char *slash = strrchr(path, '/');
  char *dir = slash ? fr_arena_alloc(a, (size_t)(slash - path) + 2)
                    : fr_arena_strdup(a, "");
  if (!dir) {
    st = fr_err_nomem(NULL);
    goto done;
  }
  if (slash) memcpy(dir, path, (size_t)(slash - path) + (slash == path));
  if (memchr(buf, 0, len)) {
    st = fr_err(FR_ERR_PARSE, "%s: not a CSV manifest (a NUL byte in it)",
                path);
    goto done;
  }
  if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) c.pos = 3; /* BOM */
  bool got;
  if ((st = csv_next(&c, &got)) != FR_OK) goto done;
  if (!got || c.nf < 2) {
    st = fr_err(FR_ERR_PARSE,
                "%s: the header needs two columns or more: path,label (class "
                "names) or path,NAME,... (numbers)",
                path);
    goto done;
  }
  int cols = c.nf;
  bool labels = cols == 2 && is_label_column(c.f[1]);
  int at[FR_MAX_TASKS];
  int n_tasks = o->n_label_columns;
  if (n_tasks && (st = find_label_columns(&c, o, at)) != FR_OK) goto done;
  if (n_tasks) labels = false;
  for (int k = 0; k < cols; k++)
    if (!c.f[k][0]) {
      st = fr_err(FR_ERR_PARSE, "%s:%d: header column %d has no name", path,
                  c.line, k + 1);
      goto done;
    }
  if (!labels && !n_tasks)
    for (int k = 1; k < cols && st == FR_OK; k++)
      st = strlist_push(&ix->targets, fr_arena_strdup(a, c.f[k]));
  while (st == FR_OK) {
    if ((st = csv_next(&c, &got)) != FR_OK || !got) break;
    if (c.nf != cols) {
      st = fr_err(FR_ERR_PARSE, "%s:%d: %d field%s, the header has %d", path,
                  c.line, c.nf, c.nf == 1 ? "" : "s", cols);
      break;
    }
    if (!c.f[0][0]) {
      st = fr_err(FR_ERR_PARSE, "%s:%d: the path is empty", path, c.line);
      break;
    }
    if ((st = strlist_push(&ix->paths, join(a, dir, c.f[0]))) != FR_OK) break;
    if (n_tasks) { /* an empty cell: no label for that task */
      for (int k = 0; k < n_tasks && st == FR_OK; k++)
        st = strlist_push(&ix->cols[k], fr_arena_strdup(a, c.f[at[k]]));
      continue;
    }
    if (labels) {
      if (!c.f[1][0]) {
        st = fr_err(FR_ERR_PARSE, "%s:%d: the label is empty", path, c.line);
        break;
      }
      st = strlist_push(&ix->labels, fr_arena_strdup(a, c.f[1]));
      continue;
    }
    int nt = cols - 1, row = ix->paths.n - 1;
    if (row == ix->cap_y) {
      int cap = ix->cap_y ? 2 * ix->cap_y : 64;
      float *y = fr_realloc(ix->y, sizeof *y * (size_t)cap * (size_t)nt);
      if (!y) {
        st = fr_err_nomem(NULL);
        break;
      }
      ix->y = y;
      ix->cap_y = cap;
    }
    for (int k = 1; k <= nt && st == FR_OK; k++)
      st = parse_number(&c, ix->targets.v[k - 1], c.f[k],
                        &ix->y[(size_t)row * nt + k - 1]);
  }
  if (st == FR_OK && !ix->paths.n)
    st = fr_err(FR_ERR_INVALID, "%s: no samples (a header and no rows)",
                path);
done:
  fr_free(c.f);
  fr_free(buf);
  return st;
}

/* ---- samples -------------------------------------------------------------- */

/* What loading learns from the first samples and holds the others to. */
typedef struct loader {
  const fr_data_opts *o;
  int channels;     /* images: o->channels, or the first image's */
  int sample_rate;  /* WAV: the first file's */
  const char *rate_from;
} loader;

void fr_image_free(fr_image *im) {
  fr_free(im->px);
  im->px = NULL;
}

/* A .npy sample: float32, float64 or uint8, its shape as stored. */
static fr_status load_npy(const char *path, float **out, int *rank,
                          int64_t *dims) {
  fr_tensor t = {0};
  FR_TRY(fr_npy_read(path, &t));
  fr_status st = FR_OK;
  int64_t n = fr_tensor_numel(&t);
  float *x = NULL;
  if (t.dtype != FR_F32 && t.dtype != FR_F64 && t.dtype != FR_U8) {
    st = fr_err(FR_ERR_UNSUPPORTED,
                "%s: a .npy of %s; samples are float32, float64 or uint8",
                path, fr_dtype_name(t.dtype));
  } else if (t.dtype == FR_F32) {
    x = t.data; /* taken over */
    t.data = NULL;
  } else if (!(x = fr_malloc(sizeof *x * (size_t)(n ? n : 1)))) {
    st = fr_err_nomem(NULL);
  } else {
    for (int64_t i = 0; i < n; i++)
      x[i] = t.dtype == FR_F64 ? (float)((const double *)t.data)[i]
                               : (float)((const uint8_t *)t.data)[i];
  }
  if (st == FR_OK) {
    *rank = t.rank;
    memcpy(dims, t.dims, sizeof t.dims);
    *out = x;
  }
  fr_free(t.data);
  return st;
}

/* Bilinear resize of (h, w, c) floats to (oh, ow, c), pixel centres
 * aligned (half-pixel), no antialiasing. */
static void resize_bilinear(const float *src, int h, int w, int c, float *dst,
                            int oh, int ow) {
  for (int oy = 0; oy < oh; oy++) {
    float sy = ((float)oy + 0.5f) * (float)h / (float)oh - 0.5f;
    if (sy < 0) sy = 0;
    int y0 = (int)sy;
    if (y0 > h - 1) y0 = h - 1;
    int y1 = y0 + 1 < h ? y0 + 1 : h - 1;
    float fy = sy - (float)y0;
    if (fy > 1) fy = 1;
    for (int ox = 0; ox < ow; ox++) {
      float sx = ((float)ox + 0.5f) * (float)w / (float)ow - 0.5f;
      if (sx < 0) sx = 0;
      int x0 = (int)sx;
      if (x0 > w - 1) x0 = w - 1;
      int x1 = x0 + 1 < w ? x0 + 1 : w - 1;
      float fx = sx - (float)x0;
      if (fx > 1) fx = 1;
      for (int k = 0; k < c; k++) {
        float a = src[((size_t)y0 * w + x0) * c + k],
              b = src[((size_t)y0 * w + x1) * c + k],
              d = src[((size_t)y1 * w + x0) * c + k],
              e = src[((size_t)y1 * w + x1) * c + k];
        float top = a + (b - a) * fx, bot = d + (e - d) * fx;
        dst[((size_t)oy * ow + ox) * c + k] = top + (bot - top) * fy;
      }
    }
  }
}

/* A decoded image as a sample: channels converted, values scaled to
 * [0, 1], resized, normalized, laid out as (C, H, W) or (H, W, C). */
static fr_status image_sample(loader *L, const char *path, const fr_image *im,
                              float **out, int *rank, int64_t *dims) {
  const fr_data_opts *o = L->o;
  if (im->c != 1 && im->c != 3)
    return fr_err(FR_ERR_UNSUPPORTED, "%s: an image of %d channels", path,
                  im->c);
  if (im->h <= 0 || im->w <= 0)
    return fr_err(FR_ERR_INVALID, "%s: an image of %dx%d pixels", path,
                  im->w, im->h);
  if (!L->channels) L->channels = im->c;
  int c = L->channels, h = im->h, w = im->w;
  int oh = o->resize_h ? o->resize_h : h, ow = o->resize_w ? o->resize_w : w;
  if ((o->n_mean > 1 && o->n_mean != c) || (o->n_std > 1 && o->n_std != c))
    return fr_err(FR_ERR_USAGE,
                  "%s: %d mean and %d std values for images of %d "
                  "channel%s (give one value, or one per channel)",
                  path, o->n_mean, o->n_std, c, c == 1 ? "" : "s");
  size_t px = (size_t)h * (size_t)w, opx = (size_t)oh * (size_t)ow;
  float *f = fr_malloc(sizeof *f * px * (size_t)c);
  float *r = NULL, *y = fr_malloc(sizeof *y * opx * (size_t)c);
  if (!f || !y) {
    fr_free(f);
    fr_free(y);
    return fr_err_nomem(NULL);
  }
  /* (h, w, c) in [0, 1], converted to c channels: gray to RGB copies,
   * RGB to gray weighs by luma (ITU-R BT.601) */
  for (size_t i = 0; i < px; i++) {
    const uint8_t *p = im->px + i * (size_t)im->c;
    if (im->c == c) {
      for (int k = 0; k < c; k++) f[i * (size_t)c + k] = p[k] / 255.0f;
    } else if (c == 3) {
      for (int k = 0; k < 3; k++) f[i * 3 + k] = p[0] / 255.0f;
    } else {
      f[i] = (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) / 255.0f;
    }
  }
  const float *src = f;
  if (oh != h || ow != w) {
    if (!(r = fr_malloc(sizeof *r * opx * (size_t)c))) {
      fr_free(f);
      fr_free(y);
      return fr_err_nomem(NULL);
    }
    resize_bilinear(f, h, w, c, r, oh, ow);
    src = r;
  }
  for (int k = 0; k < c; k++) {
    float mean = o->n_mean ? o->mean[o->n_mean == 1 ? 0 : k] : 0.0f;
    float std = o->n_std ? o->std[o->n_std == 1 ? 0 : k] : 1.0f;
    for (size_t i = 0; i < opx; i++) {
      float v = (src[i * (size_t)c + k] - mean) / std;
      if (o->nhwc) y[i * (size_t)c + k] = v;
      else y[(size_t)k * opx + i] = v;
    }
  }
  fr_free(f);
  fr_free(r);
  *rank = 3;
  if (o->nhwc) {
    dims[0] = oh;
    dims[1] = ow;
    dims[2] = c;
  } else {
    dims[0] = c;
    dims[1] = oh;
    dims[2] = ow;
  }
  *out = y;
  return FR_OK;
}

static fr_status load_image(loader *L, const char *path, float **out,
                            int *rank, int64_t *dims) {
  if (!L->o->decode_image)
    return fr_err(FR_ERR_UNSUPPORTED,
                  "%s: images are not supported here (give .npy samples)",
                  path);
  uint8_t *buf;
  size_t len;
  FR_TRY(fr_read_file(path, &buf, &len));
  fr_image im = {0};
  fr_status st = L->o->decode_image(path, buf, len, &im);
  fr_free(buf);
  if (st != FR_OK) {
    fr_image_free(&im);
    return st;
  }
  st = image_sample(L, path, &im, out, rank, dims);
  fr_image_free(&im);
  return st;
}

static fr_status load_wav(loader *L, const char *path, float **out, int *rank,
                          int64_t *dims) {
  int64_t n;
  int rate;
  FR_TRY(fr_wav_read(path, out, &n, &rate));
  if (L->sample_rate && rate != L->sample_rate) {
    fr_free(*out);
    *out = NULL;
    return fr_err(FR_ERR_SHAPE, "%s: %d Hz, the first sample (%s) has %d Hz",
                  path, rate, L->rate_from, L->sample_rate);
  }
  L->sample_rate = rate;
  L->rate_from = path;
  *rank = 1;
  dims[0] = n;
  return FR_OK;
}

/* One sample file as fr_malloc'd floats, its type told by its extension. */
static fr_status load_sample(loader *L, const char *path, float **out,
                             int *rank, int64_t *dims) {
  *out = NULL;
  if (has_ext(path, ".npy")) return load_npy(path, out, rank, dims);
  if (has_ext(path, ".png") || has_ext(path, ".jpg") ||
      has_ext(path, ".jpeg"))
    return load_image(L, path, out, rank, dims);
  if (has_ext(path, ".wav")) return load_wav(L, path, out, rank, dims);
  return fr_err(FR_ERR_UNSUPPORTED,
                "%s: not a sample file frost reads (.npy, .png, .jpg, .jpeg, "
                ".wav)",
                path);
}

static fr_status check_opts(const fr_data_opts *o) {
  if (o->resize_h < 0 || o->resize_w < 0 || o->resize_h > FR_IMAGE_MAX_SIDE ||
      o->resize_w > FR_IMAGE_MAX_SIDE)
    return fr_err(FR_ERR_USAGE, "resize %dx%d: each side is 0 (keep) to %d",
                  o->resize_h, o->resize_w, FR_IMAGE_MAX_SIDE);
  if (o->channels != 0 && o->channels != 1 && o->channels != 3)
    return fr_err(FR_ERR_USAGE, "channels %d: 1 (gray), 3 (RGB) or 0 (as "
                  "the first image)", o->channels);
  if (o->n_mean < 0 || o->n_mean > 4 || o->n_std < 0 || o->n_std > 4)
    return fr_err(FR_ERR_USAGE, "mean and std take 1 to 4 values");
  for (int k = 0; k < o->n_std; k++)
    if (!(o->std[k] > 0) || !isfinite(o->std[k]))
      return fr_err(FR_ERR_USAGE, "std %g: not a positive number",
                    (double)o->std[k]);
  for (int k = 0; k < o->n_mean; k++)
    if (!isfinite(o->mean[k]))
      return fr_err(FR_ERR_USAGE, "mean %g: not a number", (double)o->mean[k]);
  return FR_OK;
}

/* Class names: the distinct non-empty labels sorted; each row's index
 * into them (-1 for an empty one). */
static fr_status assign_classes(fr_arena *a, const strlist *labels, int *n_classes,
                                char ***class_names, int32_t **label) {
  strlist u = {0};
  fr_status st = FR_OK;
  for (int i = 0; i < labels->n && st == FR_OK; i++)
    if (labels->v[i][0]) st = strlist_push(&u, labels->v[i]);
  if (st == FR_OK) {
    if (u.n) qsort(u.v, (size_t)u.n, sizeof *u.v, cmp_str);
    int k = 0;
    for (int i = 0; i < u.n; i++)
      if (!k || strcmp(u.v[k - 1], u.v[i])) u.v[k++] = u.v[i];
    u.n = k;
    *n_classes = k;
    *class_names = strlist_keep(a, &u);
    *label = fr_malloc(sizeof **label * (size_t)(labels->n + 1));
    if (!*class_names || !*label) st = fr_err_nomem(NULL);
  }
  for (int i = 0; st == FR_OK && i < labels->n; i++) {
    char **hit = labels->v[i][0] ? bsearch(&labels->v[i], u.v, (size_t)u.n,
                                           sizeof *u.v, cmp_str) : NULL;
    (*label)[i] = hit ? (int32_t)(hit - u.v) : -1;
  }
  fr_free(u.v);
  return st;
}

/* The label columns of a multi-task manifest. */
static fr_status assign_columns(fr_dataset *d, const fr_data_opts *o,
                                const sample_index *ix) {
  int n = o->n_label_columns;
  d->columns = fr_arena_alloc(&d->arena, sizeof *d->columns * (size_t)n);
  if (!d->columns) return fr_err_nomem(NULL);
  memset(d->columns, 0, sizeof *d->columns * (size_t)n);
  d->n_columns = n;
  for (int k = 0; k < n; k++) {
    fr_label_column *col = &d->columns[k];
    if (!(col->name = fr_arena_strdup(&d->arena, o->label_columns[k])))
      return fr_err_nomem(NULL);
    FR_TRY(assign_classes(&d->arena, &ix->cols[k], &col->n_classes,
                          &col->class_names, &col->label));
  }
  return FR_OK;
}

static fr_status read_rows(fr_dataset *d, loader *L, const char *path, int first,
                           int count, float *x);

static fr_status load(const char *path, const fr_data_opts *o, fr_dataset *d,
                      sample_index *ix) {
  FR_TRY(check_opts(o));
  struct stat sb;
  if (stat(path, &sb) != 0)
    return fr_err(FR_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
  if (S_ISDIR(sb.st_mode) && o->n_label_columns) {
    return fr_err(FR_ERR_USAGE, "%s: a folder; labels by column name (named "
                  "heads, eval --task) come from a CSV manifest", path);
  } else if (S_ISDIR(sb.st_mode)) {
    FR_TRY(index_folder(&d->arena, path, ix));
  } else if (S_ISREG(sb.st_mode)) {
    FR_TRY(index_manifest(&d->arena, path, o, ix));
  } else {
    return fr_err(FR_ERR_IO, "%s: is %s, not a folder or a CSV manifest",
                  path, fr_file_kind(sb.st_mode));
  }
  d->n = ix->paths.n;
  if (!(d->paths = strlist_keep(&d->arena, &ix->paths))) return fr_err_nomem(NULL);
  if (o->n_label_columns) {
    FR_TRY(assign_columns(d, o, ix));
  } else if (ix->labels.n) {
    FR_TRY(assign_classes(&d->arena, &ix->labels, &d->n_classes, &d->class_names,
                          &d->label));
  } else {
    d->n_targets = ix->targets.n;
    if (!(d->target_names = strlist_keep(&d->arena, &ix->targets)))
      return fr_err_nomem(NULL);
    d->y = ix->y; /* taken over */
    ix->y = NULL;
  }
  loader L = {.o = o, .channels = o->channels};
  return read_rows(d, &L, path, 0, o->index_only && d->n ? 1 : d->n, NULL);
}

/* Samples [first, first + count) of d into x (count rows), each held to
 * the shape of sample 0; with x NULL (and first 0), into d->x, sample 0
 * setting the shape and sizing d->x for the whole set. */
static fr_status read_rows(fr_dataset *d, loader *L, const char *path, int first,
                           int count, float *x) {
  const fr_data_opts *o = L->o;
  for (int i = first; i < first + count; i++) {
    const char *p = d->paths[i];
    float *s;
    int rank = 0;
    int64_t dims[FR_MAX_RANK] = {0};
    FR_TRY(load_sample(L, p, &s, &rank, dims));
    fr_status st = FR_OK;
    int64_t numel;
    if ((st = fr_shape_numel(rank, dims, &numel)) != FR_OK) {
      fr_err_prefix(p);
    } else if (i == 0 && !x) {
      d->rank = rank;
      memcpy(d->dims, dims, sizeof dims);
      d->numel = numel;
      char sh[160];
      if (numel && (uint64_t)numel > SIZE_MAX / sizeof(float) / (size_t)d->n)
        st = fr_err(FR_ERR_NOMEM, "%s: %d samples of shape %s do not fit",
                    path, d->n, shape_text(rank, dims, sh, sizeof sh));
      else if (!o->index_only &&
               !(d->x = fr_malloc(sizeof(float) * (size_t)numel * (size_t)d->n + 1)))
        st = fr_err(FR_ERR_NOMEM,
                    "%s: out of memory for %d samples of shape %s (%zu bytes)",
                    path, d->n, shape_text(rank, dims, sh, sizeof sh),
                    sizeof(float) * (size_t)numel * (size_t)d->n);
    } else if (rank != d->rank ||
               memcmp(dims, d->dims, sizeof(int64_t) * (size_t)rank)) {
      char a[160], b[160];
      st = fr_err(FR_ERR_SHAPE,
                  "%s: sample shape %s, the first sample (%s) has %s%s", p,
                  shape_text(rank, dims, a, sizeof a), d->paths[0],
                  shape_text(d->rank, d->dims, b, sizeof b),
                  rank == 3 && (!o->resize_h || !o->resize_w) &&
                          (has_ext(p, ".png") || has_ext(p, ".jpg") ||
                           has_ext(p, ".jpeg"))
                      ? " (resize images of different sizes)"
                      : "");
    }
    float *row = x ? x + (size_t)(i - first) * (size_t)numel
                   : d->x ? d->x + (size_t)i * (size_t)numel : NULL;
    if (st == FR_OK && numel && row) memcpy(row, s, sizeof *s * (size_t)numel);
    fr_free(s);
    FR_TRY(st);
  }
  if (!x) d->sample_rate = L->sample_rate;
  return FR_OK;
}

fr_status fr_dataset_read(const fr_dataset *d, const fr_data_opts *o, int first,
                          int count, float **x) {
  *x = NULL;
  FR_ASSERT(first >= 0 && count >= 0 && first + count <= d->n);
  /* Images take the first sample's channels, as fr_dataset_load does. */
  loader L = {.o = o, .sample_rate = d->sample_rate,
              .rate_from = d->n ? d->paths[0] : NULL,
              .channels = o->channels ? o->channels
                          : d->rank == 3 ? (int)d->dims[o->nhwc ? 2 : 0] : 0};
  size_t bytes = sizeof(float) * (size_t)d->numel * (size_t)count + 1;
  if (count && (uint64_t)d->numel > SIZE_MAX / sizeof(float) / (size_t)count)
    return fr_err(FR_ERR_NOMEM, "%d samples do not fit", count);
  if (!(*x = fr_malloc(bytes))) return fr_err_nomem(NULL);
  /* read_rows holds each sample to d's shape (rank, dims) */
  fr_dataset v = *d;
  v.x = NULL;
  fr_status st = read_rows(&v, &L, NULL, first, count, *x);
  if (st != FR_OK) {
    fr_free(*x);
    *x = NULL;
  }
  return st;
}

fr_status fr_dataset_load(const char *path, const fr_data_opts *o,
                          fr_dataset *out) {
  static const fr_data_opts defaults = {0};
  *out = (fr_dataset){0};
  sample_index ix = {0};
  fr_status st = load(path, o ? o : &defaults, out, &ix);
  index_free(&ix);
  if (st != FR_OK) fr_dataset_free(out);
  return st;
}

void fr_dataset_free(fr_dataset *d) {
  fr_free(d->x);
  fr_free(d->label);
  for (int k = 0; k < d->n_columns; k++) fr_free(d->columns[k].label);
  fr_free(d->y);
  fr_arena_free(&d->arena);
  *d = (fr_dataset){0};
}

/* ---- split and batches ---------------------------------------------------- */

/* out: the samples of d with pick[i] == want, in d's order. */
static fr_status subset(const fr_dataset *d, const bool *pick, bool want,
                        fr_dataset *out) {
  *out = (fr_dataset){0};
  int m = 0;
  for (int i = 0; i < d->n; i++) m += pick[i] == want;
  out->n = m;
  out->rank = d->rank;
  memcpy(out->dims, d->dims, sizeof d->dims);
  out->numel = d->numel;
  out->n_classes = d->n_classes;
  out->n_targets = d->n_targets;
  out->sample_rate = d->sample_rate;
  size_t numel = (size_t)d->numel;
  /* an index-only set (no samples read) stays one */
  out->x = d->x ? fr_malloc(sizeof(float) * numel * (size_t)m + 1) : NULL;
  out->paths = d->paths ? fr_arena_alloc(&out->arena, sizeof(char *) * (size_t)(m + 1))
                        : NULL;
  if ((d->x && !out->x) || (d->paths && !out->paths)) goto nomem;
  if (d->label && !(out->label = fr_malloc(sizeof(int32_t) * (size_t)m + 1)))
    goto nomem;
  if (d->y && !(out->y = fr_malloc(sizeof(float) * (size_t)d->n_targets *
                                       (size_t)m + 1)))
    goto nomem;
  if (d->class_names) {
    out->class_names = fr_arena_alloc(&out->arena,
                                      sizeof(char *) * (size_t)(d->n_classes + 1));
    if (!out->class_names) goto nomem;
    for (int k = 0; k < d->n_classes; k++)
      if (!(out->class_names[k] = fr_arena_strdup(&out->arena, d->class_names[k])))
        goto nomem;
  }
  if (d->n_columns) {
    out->columns = fr_arena_alloc(&out->arena, sizeof *out->columns * (size_t)d->n_columns);
    if (!out->columns) goto nomem;
    memset(out->columns, 0, sizeof *out->columns * (size_t)d->n_columns);
    out->n_columns = d->n_columns;
    for (int k = 0; k < d->n_columns; k++) {
      const fr_label_column *a = &d->columns[k];
      fr_label_column *b = &out->columns[k];
      b->n_classes = a->n_classes;
      b->name = fr_arena_strdup(&out->arena, a->name);
      b->class_names = fr_arena_alloc(&out->arena, sizeof(char *) * (size_t)(a->n_classes + 1));
      b->label = fr_malloc(sizeof(int32_t) * (size_t)m + 1);
      if (!b->name || !b->class_names || !b->label) goto nomem;
      for (int c = 0; c < a->n_classes; c++)
        if (!(b->class_names[c] = fr_arena_strdup(&out->arena, a->class_names[c])))
          goto nomem;
    }
  }
  if (d->target_names) {
    out->target_names = fr_arena_alloc(&out->arena,
                                       sizeof(char *) * (size_t)(d->n_targets + 1));
    if (!out->target_names) goto nomem;
    for (int k = 0; k < d->n_targets; k++)
      if (!(out->target_names[k] = fr_arena_strdup(&out->arena, d->target_names[k])))
        goto nomem;
  }
  for (int i = 0, j = 0; i < d->n; i++) {
    if (pick[i] != want) continue;
    if (d->paths && !(out->paths[j] = fr_arena_strdup(&out->arena, d->paths[i])))
      goto nomem;
    fr_dataset_gather(d, &i, 0, 1, out->x ? out->x + (size_t)j * numel : NULL,
                      out->label ? out->label + j : NULL,
                      out->y ? out->y + (size_t)j * (size_t)d->n_targets : NULL);
    for (int k = 0; k < d->n_columns; k++) out->columns[k].label[j] = d->columns[k].label[i];
    j++;
  }
  return FR_OK;
nomem:
  fr_dataset_free(out);
  return fr_err_nomem(NULL);
}

fr_status fr_dataset_split(const fr_dataset *d, double val_frac,
                           uint64_t seed, fr_dataset *train, fr_dataset *val) {
  *train = (fr_dataset){0};
  *val = (fr_dataset){0};
  if (!(val_frac >= 0 && val_frac < 1))
    return fr_err(FR_ERR_USAGE, "validation fraction %g: not in [0, 1)",
                  val_frac);
  /* the groups: the classes (of the first label column), and its
   * unlabelled samples one more */
  const int32_t *label = d->n_columns ? d->columns[0].label : d->label;
  int groups = d->n_columns ? d->columns[0].n_classes + 1 : d->label ? d->n_classes : 1;
  bool *is_val = fr_calloc((size_t)d->n + 1, sizeof *is_val);
  int *idx = fr_malloc(sizeof *idx * ((size_t)d->n + 1));
  if (!is_val || !idx) {
    fr_free(is_val);
    fr_free(idx);
    return fr_err_nomem(NULL);
  }
  fr_rng r;
  fr_rng_seed(&r, seed);
  for (int g = 0; g < groups; g++) {
    int m = 0;
    int want = d->n_columns && g == groups - 1 ? -1 : g;
    for (int i = 0; i < d->n; i++)
      if (!label || label[i] == want) idx[m++] = i;
    fr_rng_shuffle(&r, idx, m);
    int k = (int)floor(m * val_frac + 0.5);
    if (k > m - 1) k = m > 0 ? m - 1 : 0; /* one stays in train */
    for (int j = 0; j < k; j++) is_val[idx[j]] = true;
  }
  fr_free(idx);
  fr_status st = subset(d, is_val, false, train);
  if (st == FR_OK && (st = subset(d, is_val, true, val)) != FR_OK)
    fr_dataset_free(train);
  fr_free(is_val);
  return st;
}

void fr_dataset_gather(const fr_dataset *d, const int *order, int start,
                       int count, float *x, int32_t *label, float *y) {
  size_t numel = (size_t)d->numel, nt = (size_t)d->n_targets;
  for (int j = 0; j < count; j++) {
    int i = order[start + j];
    FR_ASSERT(i >= 0 && i < d->n);
    if (x && numel)
      memcpy(x + (size_t)j * numel, d->x + (size_t)i * numel,
             sizeof *x * numel);
    if (label) label[j] = d->label ? d->label[i] : -1;
    if (y && d->y && nt)
      memcpy(y + (size_t)j * nt, d->y + (size_t)i * nt, sizeof *y * nt);
  }
}

void fr_dataset_gather_column(const fr_dataset *d, int col, const int *order,
                              int start, int count, int32_t *label) {
  FR_ASSERT(col >= 0 && col < d->n_columns);
  for (int j = 0; j < count; j++) label[j] = d->columns[col].label[order[start + j]];
}

/* *label's rows[0..n), fr_malloc'd, in place of *label (NULL stays). */
static fr_status pick_rows(int32_t **label, const int *rows, int n) {
  if (!*label) return FR_OK;
  int32_t *l = fr_malloc(sizeof *l * (size_t)(n + 1));
  if (!l) return fr_err_nomem(NULL);
  for (int i = 0; i < n; i++) l[i] = (*label)[rows[i]];
  fr_free(*label);
  *label = l;
  return FR_OK;
}

fr_status fr_dataset_relabel(fr_dataset *d, const int *rows, int n) {
  FR_TRY(pick_rows(&d->label, rows, n));
  for (int k = 0; k < d->n_columns; k++) FR_TRY(pick_rows(&d->columns[k].label, rows, n));
  return FR_OK;
}

void fr_dataset_use_column(fr_dataset *d, int col) {
  FR_ASSERT(col >= 0 && col < d->n_columns);
  fr_label_column *c = &d->columns[col];
  fr_free(d->label);
  d->label = c->label;
  c->label = NULL;
  d->n_classes = c->n_classes;
  d->class_names = c->class_names;
}

/* ---- augmentation --------------------------------------------------------- */

typedef struct img_view {
  int c, h, w;
  bool nhwc;
} img_view;

static size_t at(const img_view *v, int k, int y, int x) {
  return v->nhwc ? ((size_t)y * v->w + x) * v->c + k
                 : ((size_t)k * v->h + y) * v->w + x;
}

/* Channel k at (sy, sx), bilinear, 0 outside. */
static float sample_bilinear(const float *s, const img_view *v, int k,
                             float sy, float sx) {
  float fy = floorf(sy), fx = floorf(sx);
  int y0 = (int)fy, x0 = (int)fx;
  float wy = sy - fy, wx = sx - fx, acc = 0;
  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++) {
      int y = y0 + dy, x = x0 + dx;
      if (y < 0 || y >= v->h || x < 0 || x >= v->w) continue;
      float wgt = (dy ? wy : 1 - wy) * (dx ? wx : 1 - wx);
      acc += wgt * s[at(v, k, y, x)];
    }
  return acc;
}

/* Standard normal (Box-Muller; one of the pair). */
static float rng_normal(fr_rng *r) {
  double u = fr_rng_uniform(r), v = fr_rng_uniform(r);
  return (float)(sqrt(-2 * log(1 - u)) * cos(2 * 3.14159265358979323846 * v));
}

/* The image transforms of one sample s (v's shape) through tmp. */
static void augment_image(float *s, float *tmp, const img_view *vp, fr_rng *r,
                          const fr_augment_opts *a) {
  img_view v = *vp;
  size_t numel = (size_t)v.c * v.h * v.w;
  if (a->crop_pad > 0) {
    int64_t p = a->crop_pad;
    int64_t oy = (int64_t)fr_rng_below(r, (uint64_t)(2 * p + 1)) - p;
    int64_t ox = (int64_t)fr_rng_below(r, (uint64_t)(2 * p + 1)) - p;
    memcpy(tmp, s, sizeof *s * numel);
    for (int k = 0; k < v.c; k++)
      for (int y = 0; y < v.h; y++)
        for (int xx = 0; xx < v.w; xx++) {
          int64_t sy = y + oy, sx = xx + ox;
          bool in = sy >= 0 && sy < v.h && sx >= 0 && sx < v.w;
          s[at(&v, k, y, xx)] = in ? tmp[at(&v, k, (int)sy, (int)sx)] : 0.0f;
        }
  }
  if (a->hflip && (fr_rng_u64(r) >> 63))
    for (int k = 0; k < v.c; k++)
      for (int y = 0; y < v.h; y++)
        for (int xx = 0; xx < v.w / 2; xx++) {
          size_t i = at(&v, k, y, xx), j = at(&v, k, y, v.w - 1 - xx);
          float t = s[i];
          s[i] = s[j];
          s[j] = t;
        }
  if (a->rotate_deg > 0 || a->scale_max > 0) {
    double deg = a->rotate_deg > 0
                     ? (2 * fr_rng_uniform(r) - 1) * a->rotate_deg : 0;
    double scale = a->scale_max > 0
                       ? a->scale_min + fr_rng_uniform(r) *
                                            (a->scale_max - a->scale_min)
                       : 1;
    double th = deg * 3.14159265358979323846 / 180;
    float cs = (float)(cos(th) / scale), sn = (float)(sin(th) / scale);
    float cy = (v.h - 1) * 0.5f, cx = (v.w - 1) * 0.5f;
    memcpy(tmp, s, sizeof *s * numel);
    /* each output pixel takes the source point that the inverse
     * rotation and scale about the centre maps it to */
    for (int y = 0; y < v.h; y++)
      for (int xx = 0; xx < v.w; xx++) {
        float dy = y - cy, dx = xx - cx;
        float sx = cs * dx + sn * dy + cx, sy = -sn * dx + cs * dy + cy;
        for (int k = 0; k < v.c; k++)
          s[at(&v, k, y, xx)] = sample_bilinear(tmp, &v, k, sy, sx);
      }
  }
}

bool fr_augment_images(const fr_augment_opts *a) {
  return a->crop_pad || a->hflip || a->rotate_deg > 0 || a->scale_max > 0;
}

fr_status fr_augment(float *x, int count, int rank, const int64_t *dims,
                     bool nhwc, fr_rng *r, const fr_augment_opts *a) {
  img_view v = {.nhwc = nhwc};
  bool image = fr_augment_images(a);
  if (!(a->noise >= 0 && a->noise < 1e6))
    return fr_err(FR_ERR_USAGE, "augmentation: the noise is >= 0");
  size_t numel = 1;
  for (int i = 0; i < rank; i++) numel *= (size_t)dims[i];
  if (image) {
    if (rank != 3)
      return fr_err(FR_ERR_SHAPE, "augmentation needs image samples (rank 3, "
                    "not %d)", rank);
    v.c = (int)(nhwc ? dims[2] : dims[0]);
    v.h = (int)(nhwc ? dims[0] : dims[1]);
    v.w = (int)(nhwc ? dims[1] : dims[2]);
    if (v.c <= 0 || v.h <= 0 || v.w <= 0)
      return fr_err(FR_ERR_SHAPE, "augmentation needs image samples");
    if (a->crop_pad < 0 || a->rotate_deg < 0 || a->scale_min < 0 ||
        a->scale_max < a->scale_min || (a->scale_max > 0 && a->scale_min <= 0))
      return fr_err(FR_ERR_USAGE,
                    "augmentation: crop padding and rotation are >= 0, the "
                    "scale range is 0 < min <= max");
  }
  float *tmp = image ? fr_malloc(sizeof *tmp * numel) : NULL;
  if (image && !tmp) return fr_err_nomem(NULL);
  for (int n = 0; n < count; n++) {
    float *s = x + (size_t)n * numel;
    if (image) augment_image(s, tmp, &v, r, a);
    if (a->noise > 0)
      for (size_t i = 0; i < numel; i++) s[i] += a->noise * rng_normal(r);
  }
  fr_free(tmp);
  return FR_OK;
}

/* ---- WAV ------------------------------------------------------------------ */

static uint32_t rd32(const uint8_t *p) {
  return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

fr_status fr_wav_parse(const uint8_t *buf, size_t len, float **samples,
                       int64_t *n, int *rate) {
  *samples = NULL;
  *n = 0;
  *rate = 0;
  if (len < 12 || memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WAVE", 4))
    return fr_err(FR_ERR_PARSE, "not a WAV file (no RIFF/WAVE header)");
  bool have_fmt = false;
  unsigned fmt = 0, ch = 0, bits = 0;
  uint32_t hz = 0;
  size_t off = 12;
  while (len - off >= 8) {
    const uint8_t *c = buf + off;
    uint32_t size = rd32(c + 4);
    size_t avail = len - off - 8;
    if (size > avail)
      return fr_err(FR_ERR_PARSE,
                    "truncated: its '%.4s' chunk announces %u bytes, %zu are "
                    "there",
                    (const char *)c, size, avail);
    if (!memcmp(c, "fmt ", 4)) {
      if (size < 16)
        return fr_err(FR_ERR_PARSE, "a 'fmt ' chunk of %u bytes", size);
      fmt = rd16(c + 8);
      ch = rd16(c + 10);
      hz = rd32(c + 12);
      bits = rd16(c + 22);
      if (fmt == 0xFFFE && size >= 40) fmt = rd16(c + 8 + 24); /* extensible */
      have_fmt = true;
    } else if (!memcmp(c, "data", 4)) {
      if (!have_fmt)
        return fr_err(FR_ERR_PARSE, "its data chunk comes before 'fmt '");
      if (fmt != 1 || bits != 16 || ch != 1) {
        char chs[32], kind[32];
        if (ch == 1) snprintf(chs, sizeof chs, "mono");
        else if (ch == 2) snprintf(chs, sizeof chs, "stereo");
        else snprintf(chs, sizeof chs, "%u-channel", ch);
        if (fmt == 1) snprintf(kind, sizeof kind, "PCM");
        else if (fmt == 3) snprintf(kind, sizeof kind, "float");
        else if (fmt == 6) snprintf(kind, sizeof kind, "A-law");
        else if (fmt == 7) snprintf(kind, sizeof kind, "mu-law");
        else snprintf(kind, sizeof kind, "format 0x%x", fmt);
        return fr_err(FR_ERR_UNSUPPORTED,
                      "%u-bit %s %s, frost reads 16-bit mono PCM", bits, chs,
                      kind);
      }
      if (hz == 0 || hz > 1000000)
        return fr_err(FR_ERR_PARSE, "a sample rate of %u Hz", hz);
      int64_t m = size / 2;
      if (!m) return fr_err(FR_ERR_INVALID, "no audio samples");
      float *s = fr_malloc(sizeof *s * (size_t)m);
      if (!s) return fr_err_nomem(NULL);
      for (int64_t i = 0; i < m; i++)
        s[i] = (float)(int16_t)rd16(c + 8 + 2 * i) / 32768.0f;
      *samples = s;
      *n = m;
      *rate = (int)hz;
      return FR_OK;
    }
    off += 8 + (size_t)size + (size & 1);
    if (off > len) break;
  }
  return fr_err(FR_ERR_PARSE, "truncated: no data chunk");
}

fr_status fr_wav_read(const char *path, float **samples, int64_t *n,
                      int *rate) {
  uint8_t *buf;
  size_t len;
  *samples = NULL;
  FR_TRY(fr_read_file(path, &buf, &len));
  fr_status st = fr_wav_parse(buf, len, samples, n, rate);
  fr_free(buf);
  if (st != FR_OK) fr_err_prefix(path);
  return st;
}

fr_status fr_sample_load(const char *path, const fr_data_opts *o, float **x,
                         int *rank, int64_t *dims) {
  FR_TRY(check_opts(o));
  loader L = {.o = o, .channels = o->channels};
  return load_sample(&L, path, x, rank, dims);
}
