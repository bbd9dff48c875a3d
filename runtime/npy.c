/* npy.c: NumPy .npy files (format versions 1-3), little-endian, C order. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"

static const struct {
  const char *descr;
  fr_dtype dtype;
} descrs[] = {
    {"<f4", FR_F32}, {"<f8", FR_F64}, {"<f2", FR_F16}, {"|i1", FR_I8},
    {"|u1", FR_U8},  {"<i2", FR_I16}, {"<u2", FR_U16}, {"<i4", FR_I32},
    {"<u4", FR_U32}, {"<i8", FR_I64}, {"<u8", FR_U64}, {"|b1", FR_BOOL},
    {"<c8", FR_C64}, {"<c16", FR_C128},
};

/* Finds 'key': in the header dict and returns what follows the colon. */
static const char *dict_get(const char *h, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(h, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

fr_status fr_npy_parse(const uint8_t *buf, size_t len, fr_tensor *out) {
  memset(out, 0, sizeof *out);
  fr_status st = FR_OK;
  char *h = NULL;
  if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
    return fr_err(FR_ERR_PARSE, "not a .npy file");
  size_t hlen, off;
  if (buf[6] == 1) {
    hlen = buf[8] | (size_t)buf[9] << 8;
    off = 10;
  } else if ((buf[6] == 2 || buf[6] == 3) && len >= 12) {
    hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
           (size_t)buf[11] << 24;
    off = 12;
  } else {
    return fr_err(FR_ERR_PARSE, "unsupported .npy version %d", buf[6]);
  }
  /* The header length is checked against the file before anything is
   * allocated: a lying length costs nothing. */
  if (hlen > len - off)
    return fr_err(FR_ERR_PARSE, "truncated .npy header (%zu bytes announced)",
                  hlen);
  h = fr_malloc(hlen + 1);
  if (!h) return fr_err_nomem(NULL);
  memcpy(h, buf + off, hlen);
  h[hlen] = 0;
  const char *d = dict_get(h, "descr"), *fo = dict_get(h, "fortran_order"),
             *sh = dict_get(h, "shape");
  if (!d || !fo || !sh || *d != '\'' || *sh != '(') {
    st = fr_err(FR_ERR_PARSE, "malformed .npy header");
    goto done;
  }
  if (!strncmp(fo, "True", 4)) {
    st = fr_err(FR_ERR_UNSUPPORTED, "Fortran-order .npy is not supported");
    goto done;
  }
  out->dtype = FR_UNDEFINED;
  for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++) {
    size_t n = strlen(descrs[i].descr);
    if (!strncmp(d + 1, descrs[i].descr, n) && d[1 + n] == '\'')
      out->dtype = descrs[i].dtype;
  }
  if (out->dtype == FR_UNDEFINED) {
    st = fr_err(FR_ERR_UNSUPPORTED, "unsupported .npy dtype %.12s", d);
    goto done;
  }
  const char *p = sh + 1;
  int rank = 0;
  for (;;) {
    while (*p == ' ' || *p == ',') p++;
    if (*p == ')') break;
    if (*p < '0' || *p > '9' || rank == FR_MAX_RANK) {
      st = fr_err(FR_ERR_PARSE, "bad shape in .npy header");
      goto done;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno == ERANGE || v > (unsigned long long)INT64_MAX) {
      st = fr_err(FR_ERR_PARSE, "dimension too large in .npy header");
      goto done;
    }
    out->dims[rank++] = (int64_t)v;
    p = end;
  }
  out->rank = rank;
  int64_t numel;
  if ((st = fr_shape_numel(rank, out->dims, &numel)) != FR_OK) goto done;
  size_t es = fr_dtype_size(out->dtype);
  size_t data_len = len - off - hlen;
  /* The shape is checked against the bytes the file has, before the data
   * is allocated: a header announcing more is a truncated file. */
  if ((uint64_t)numel > data_len / es || (size_t)numel * es != data_len) {
    bool short_ = (uint64_t)numel > data_len / es || (size_t)numel * es > data_len;
    st = fr_err(FR_ERR_PARSE,
                "%s.npy holds %zu data bytes, its header says %lld "
                "elements of %zu bytes",
                short_ ? "truncated: " : "", data_len, (long long)numel, es);
    goto done;
  }
  out->data = fr_malloc(data_len ? data_len : 1);
  if (!out->data) {
    st = fr_err_nomem(NULL);
    goto done;
  }
  memcpy(out->data, buf + off + hlen, data_len);
  /* Booleans are 0 or 1 everywhere in frost (kernels count them). */
  if (out->dtype == FR_BOOL)
    for (size_t i = 0; i < data_len; i++)
      ((uint8_t *)out->data)[i] = ((uint8_t *)out->data)[i] != 0;
done:
  fr_free(h);
  if (st != FR_OK) {
    fr_free(out->data);
    memset(out, 0, sizeof *out);
  }
  return st;
}

fr_status fr_npy_read(const char *path, fr_tensor *out) {
  uint8_t *buf;
  size_t len;
  memset(out, 0, sizeof *out);
  FR_TRY(fr_read_file(path, &buf, &len));
  fr_status st = fr_npy_parse(buf, len, out);
  fr_free(buf);
  if (st != FR_OK) fr_err_prefix(path);
  return st;
}

/* Writes t as .npy to a new temporary file next to path (created with
 * O_EXCL, so an existing file or symbolic link is never followed); its name
 * goes to tmp. On failure nothing is left behind. */
static fr_status write_tmp(const char *path, const fr_tensor *t, char *tmp,
                           size_t tmp_size) {
  const char *descr = NULL;
  for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
    if (descrs[i].dtype == t->dtype) descr = descrs[i].descr;
  if (t->dtype == FR_BF16) descr = NULL;
  if (!descr || t->kind != FR_KIND_TENSOR)
    return fr_err(FR_ERR_UNSUPPORTED, "%s: cannot write %s as .npy", path,
                  t->kind == FR_KIND_SEQUENCE   ? "a sequence"
                  : t->kind == FR_KIND_OPTIONAL ? "an optional"
                                                : fr_dtype_name(t->dtype));
  char h[512];
  int n = snprintf(h, sizeof h,
                   "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < t->rank; i++)
    n += snprintf(h + n, sizeof h - (size_t)n, "%lld%s", (long long)t->dims[i],
                  t->rank == 1 || i + 1 < t->rank ? ", " : "");
  n += snprintf(h + n, sizeof h - (size_t)n, "), }");
  /* Pad with spaces so that the data starts 64-byte aligned. */
  int total = 10 + n + 1;
  int pad = (64 - total % 64) % 64;
  memset(h + n, ' ', (size_t)pad);
  n += pad;
  h[n++] = '\n';
  int fd = -1;
  for (int k = 0; fd < 0 && k < 100; k++) {
    if (snprintf(tmp, tmp_size, "%s.tmp.%d.%d", path, (int)getpid(), k) >=
        (int)tmp_size)
      return fr_err(FR_ERR_IO, "%s: path too long", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return fr_err(FR_ERR_IO, "%s: cannot create", path);
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    close(fd);
    remove(tmp);
    return fr_err(FR_ERR_IO, "%s: cannot create", path);
  }
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           (unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
  size_t nb = fr_tensor_nbytes(t);
  bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(h, 1, (size_t)n, f) == (size_t)n &&
            (nb == 0 || fwrite(t->data, 1, nb, f) == nb);
  ok = (fclose(f) == 0) && ok;
  if (!ok) {
    remove(tmp);
    return fr_err(FR_ERR_IO, "%s: write failed", path);
  }
  return FR_OK;
}

void fr_npy_file_name(const char *name, char *out, size_t n) {
  size_t k = 0;
  for (; *name && k + 1 < n; name++) {
    char ch = *name;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    out[k++] = ok ? ch : '_';
  }
  out[k] = 0;
}

fr_status fr_npy_write(const char *path, const fr_tensor *t) {
  return fr_npy_write_all(&path, t, 1);
}

fr_status fr_npy_write_all(const char *const *paths, const fr_tensor *ts,
                           int n) {
  enum { TMP = 4200 };
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++)
      if (!strcmp(paths[i], paths[j]))
        return fr_err(FR_ERR_USAGE, "%s: two outputs would be written here",
                      paths[i]);
  /* A FIFO, a device or a socket at a name is refused before anything is
   * written: the rename would replace it. */
  for (int i = 0; i < n; i++) FR_TRY(fr_file_check_target(paths[i]));
  char *tmps = fr_malloc((size_t)(n ? n : 1) * TMP);
  if (!tmps) return fr_err_nomem(NULL);
  fr_status st = FR_OK;
  int written = 0, renamed = 0;
  /* Phase 1: every file to its temporary name. */
  while (st == FR_OK && written < n) {
    st = write_tmp(paths[written], &ts[written], tmps + (size_t)written * TMP,
                   TMP);
    if (st == FR_OK) written++;
  }
  /* Phase 2: only when all are written, rename them into place. */
  while (st == FR_OK && renamed < n) {
    if (rename(tmps + (size_t)renamed * TMP, paths[renamed]) != 0)
      st = fr_err(FR_ERR_IO, "%s: cannot write (%s)", paths[renamed],
                  strerror(errno));
    else
      renamed++;
  }
  if (st != FR_OK) {
    /* All or nothing: take back what this call put in place. */
    for (int i = 0; i < renamed; i++) remove(paths[i]);
    for (int i = renamed; i < written; i++) remove(tmps + (size_t)i * TMP);
  }
  fr_free(tmps);
  return st;
}
