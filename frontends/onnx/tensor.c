/* tensor.c: TensorProto to fr_tensor (raw, typed and external data), and the
 * .pb tensor files of the ONNX test data. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.h"
#include "onnx.pb-c.h"

static void *alloc(fr_arena *a, size_t n) {
  return a ? fr_arena_alloc(a, n) : fr_calloc(1, n);
}

/* A non-negative decimal number of external_data (offset, length). */
static bool parse_count(const char *s, long long *v) {
  char *end;
  errno = 0;
  if (*s < '0' || *s > '9') return false;
  *v = strtoll(s, &end, 10);
  return !*end && errno == 0;
}

/* Opens the external data of tp for reading nbytes at its offset. The
 * location is relative to dir and must stay inside it: no absolute path, no
 * ".." component, and no symbolic link leading out (checked on the resolved
 * path). The file must be a regular file long enough; its data starts at
 * *off. */
static fr_status open_external(const Onnx__TensorProto *tp, const char *dir,
                               size_t nbytes, fr_file *f, uint64_t *off) {
  const char *name = tp->name ? tp->name : "";
  const char *loc = NULL, *off_s = NULL, *len_s = NULL;
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = tp->external_data[i];
    if (!e->key || !e->value) continue;
    if (!strcmp(e->key, "location")) loc = e->value;
    else if (!strcmp(e->key, "offset")) off_s = e->value;
    else if (!strcmp(e->key, "length")) len_s = e->value;
  }
  if (!dir)
    return fr_err(FR_ERR_INVALID, "external data is not allowed here");
  if (!loc || !loc[0])
    return fr_err(FR_ERR_INVALID, "external data without a location");
  if (loc[0] == '/')
    return fr_err(FR_ERR_INVALID,
                  "external data path '%s' is absolute (refused)", loc);
  /* No ".." component: the path must stay inside the model's folder. */
  for (const char *p = loc; *p;) {
    const char *q = strchr(p, '/');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    if (len == 2 && p[0] == '.' && p[1] == '.')
      return fr_err(FR_ERR_INVALID,
                    "external data path '%s' leaves the model's folder "
                    "(refused)",
                    loc);
    p += len;
    if (*p == '/') p++;
  }
  long long offset = 0, length = -1;
  if ((off_s && !parse_count(off_s, &offset)) ||
      (len_s && !parse_count(len_s, &length)))
    return fr_err(FR_ERR_INVALID, "external data of '%s': bad offset or length",
                  name);
  if (length >= 0 && (unsigned long long)length != nbytes)
    return fr_err(FR_ERR_INVALID,
                  "external data of '%s': length %lld, expected %zu bytes",
                  name, length, nbytes);
  char path[PATH_MAX], real[PATH_MAX], real_dir[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", dir, loc) >= (int)sizeof path)
    return fr_err(FR_ERR_INVALID, "external data path too long");
  if (!realpath(path, real))
    return fr_err(FR_ERR_IO, "cannot open external data file '%s'", loc);
  /* A symbolic link inside the folder may point anywhere: compare the
   * resolved paths. */
  size_t dl = 0;
  if (realpath(dir, real_dir)) dl = strlen(real_dir);
  if (!dl || strncmp(real, real_dir, dl) != 0 ||
      (real[dl] != '/' && real[dl] != 0 && dl != 1))
    return fr_err(FR_ERR_INVALID,
                  "external data path '%s' leaves the model's folder through "
                  "a symbolic link (refused)",
                  loc);
  /* Opened through fr_file_open: a FIFO, a device or a folder is refused
   * without blocking, and the size is that of the opened file. */
  fr_status st = fr_file_open(f, real);
  if (st != FR_OK)
    return fr_err(st, "external data of '%s': %s", name, fr_err_msg());
  if (f->size < (unsigned long long)offset ||
      f->size - (unsigned long long)offset < nbytes) {
    fr_file_close(f);
    return fr_err(FR_ERR_INVALID,
                  "external data file '%s' is too short for '%s'", loc, name);
  }
  *off = (uint64_t)offset;
  return FR_OK;
}

fr_status fr_onnx_tensor_nbytes(const Onnx__TensorProto *tp, size_t *nbytes) {
  const char *name = tp->name ? tp->name : "";
  if (tp->data_type <= 0 || tp->data_type >= FR_DTYPE_COUNT)
    return fr_err(FR_ERR_UNSUPPORTED, "tensor '%s' has data type %d", name,
                  (int)tp->data_type);
  if (tp->n_dims > FR_MAX_RANK)
    return fr_err(FR_ERR_UNSUPPORTED, "tensor '%s' has rank %zu (max %d)",
                  name, tp->n_dims, FR_MAX_RANK);
  int64_t numel;
  if (fr_shape_numel((int)tp->n_dims, tp->dims, &numel) != FR_OK)
    return fr_err(FR_ERR_INVALID, "tensor '%s': %s", name, fr_err_msg());
  size_t es = fr_dtype_size((fr_dtype)tp->data_type);
  if ((uint64_t)numel > (uint64_t)SIZE_MAX / 2 / es)
    return fr_err(FR_ERR_NOMEM, "tensor '%s' is too large", name);
  *nbytes = (size_t)numel * es;
  return FR_OK;
}

fr_status fr_onnx_tensor(const Onnx__TensorProto *tp, fr_arena *a,
                         const char *dir, fr_tensor *out) {
  const char *name = tp->name ? tp->name : "";
  memset(out, 0, sizeof *out);
  size_t nbytes;
  FR_TRY(fr_onnx_tensor_nbytes(tp, &nbytes));
  fr_dtype dt = (fr_dtype)tp->data_type;
  out->dtype = dt;
  out->rank = (int)tp->n_dims;
  for (size_t i = 0; i < tp->n_dims; i++) out->dims[i] = tp->dims[i];
  int64_t numel = fr_tensor_numel(out);
  size_t es = fr_dtype_size(dt);
  if (tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    if (dt == FR_STRING)
      return fr_err(FR_ERR_UNSUPPORTED,
                    "tensor '%s': external string data is not supported",
                    name);
    /* The file is checked (and must be long enough) before the buffer is
     * allocated: a lying shape costs nothing. */
    fr_file f;
    uint64_t off;
    FR_TRY(open_external(tp, dir, nbytes, &f, &off));
    void *d = alloc(a, nbytes);
    if (!d) {
      fr_file_close(&f);
      return fr_err(FR_ERR_NOMEM, "tensor '%s': out of memory", name);
    }
    out->data = d;
    /* Bounded by the size at open: a file that shrinks meanwhile is
     * reported as truncated. */
    fr_status st = fr_file_read_at(&f, off, d, nbytes);
    fr_file_close(&f);
    if (st != FR_OK)
      return fr_err(st, "tensor '%s': external data: %s", name, fr_err_msg());
    if (dt == FR_BOOL)
      for (size_t i = 0; i < nbytes; i++) ((uint8_t *)d)[i] = ((uint8_t *)d)[i] != 0;
    return FR_OK;
  }
  if (dt == FR_STRING) {
    if (tp->n_string_data != (size_t)numel)
      return fr_err(FR_ERR_INVALID, "tensor '%s' has %zu strings, expected %lld",
                    name, tp->n_string_data, (long long)numel);
    char **s = alloc(a, sizeof(char *) * (size_t)(numel + 1));
    if (!s) return fr_err_nomem(NULL);
    /* Set before filling: a failure midway leaves a tensor the caller can
     * free (alloc zeroes, so unfilled entries are NULL). */
    out->data = s;
    for (int64_t i = 0; i < numel; i++) {
      const ProtobufCBinaryData *b = &tp->string_data[i];
      s[i] = alloc(a, b->len + 1);
      if (!s[i]) return fr_err_nomem(NULL);
      if (b->len) memcpy(s[i], b->data, b->len);
    }
    return FR_OK;
  }
  size_t have = 0;
  if (tp->has_raw_data) have = tp->raw_data.len;
  else if (dt == FR_F32 || dt == FR_C64) have = tp->n_float_data * 4;
  else if (dt == FR_F64 || dt == FR_C128) have = tp->n_double_data * 8;
  else if (dt == FR_I64) have = tp->n_int64_data * 8;
  else if (dt == FR_U32 || dt == FR_U64) have = tp->n_uint64_data * es;
  else have = tp->n_int32_data * es;
  if (have != nbytes)
    return fr_err(FR_ERR_INVALID,
                  "tensor '%s' (%s) holds %zu bytes of data, its shape needs "
                  "%zu",
                  name, fr_dtype_name(dt), have, nbytes);
  void *d = alloc(a, nbytes);
  if (!d) return fr_err(FR_ERR_NOMEM, "tensor '%s': out of memory", name);
  out->data = d;
  if (tp->has_raw_data) {
    if (nbytes) memcpy(d, tp->raw_data.data, nbytes);
    /* Booleans are 0 or 1 everywhere in frost (kernels count them). */
    if (dt == FR_BOOL)
      for (size_t i = 0; i < nbytes; i++) ((uint8_t *)d)[i] = ((uint8_t *)d)[i] != 0;
    return FR_OK;
  }
  for (int64_t i = 0; i < numel; i++) {
    switch (dt) {
    case FR_F32: ((float *)d)[i] = tp->float_data[i]; break;
    case FR_C64:
      ((float *)d)[2 * i] = tp->float_data[2 * i];
      ((float *)d)[2 * i + 1] = tp->float_data[2 * i + 1];
      break;
    case FR_F64: ((double *)d)[i] = tp->double_data[i]; break;
    case FR_C128:
      ((double *)d)[2 * i] = tp->double_data[2 * i];
      ((double *)d)[2 * i + 1] = tp->double_data[2 * i + 1];
      break;
    case FR_I64: ((int64_t *)d)[i] = tp->int64_data[i]; break;
    case FR_U64: ((uint64_t *)d)[i] = tp->uint64_data[i]; break;
    case FR_U32: ((uint32_t *)d)[i] = (uint32_t)tp->uint64_data[i]; break;
    case FR_I32: ((int32_t *)d)[i] = tp->int32_data[i]; break;
    case FR_I16: ((int16_t *)d)[i] = (int16_t)tp->int32_data[i]; break;
    case FR_U16: case FR_F16: case FR_BF16:
      ((uint16_t *)d)[i] = (uint16_t)tp->int32_data[i];
      break;
    case FR_I8: ((int8_t *)d)[i] = (int8_t)tp->int32_data[i]; break;
    case FR_U8: ((uint8_t *)d)[i] = (uint8_t)tp->int32_data[i]; break;
    case FR_BOOL: ((uint8_t *)d)[i] = tp->int32_data[i] != 0; break;
    default: break;
    }
  }
  return FR_OK;
}

void fr_onnx_tensor_free(fr_tensor *t) {
  if (t->dtype == FR_STRING && t->data && t->kind == FR_KIND_TENSOR) {
    char **s = t->data;
    int64_t n = fr_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) fr_free(s[i]);
  }
  fr_free(t->data);
  t->data = NULL;
}

fr_status fr_onnx_parse_pb(const uint8_t *buf, size_t len, fr_tensor *out,
                           char **name) {
  memset(out, 0, sizeof *out);
  if (name) *name = NULL;
  unsigned long failures = fr_pb_alloc_failures();
  Onnx__TensorProto *tp =
      onnx__tensor_proto__unpack(fr_pb_allocator(), len, buf);
  if (!tp && fr_pb_alloc_failures() != failures)
    return fr_err(FR_ERR_NOMEM, "out of memory decoding the TensorProto");
  if (!tp) return fr_err(FR_ERR_PARSE, "not a valid TensorProto");
  fr_status st = fr_onnx_tensor(tp, NULL, NULL, out);
  if (st == FR_OK && name) {
    *name = fr_strdup(tp->name ? tp->name : "");
    if (!*name) st = fr_err_nomem(NULL);
  }
  onnx__tensor_proto__free_unpacked(tp, fr_pb_allocator());
  if (st != FR_OK) fr_onnx_tensor_free(out);
  return st;
}

fr_status fr_onnx_read_pb(const char *path, fr_tensor *out, char **name) {
  uint8_t *buf;
  size_t len;
  memset(out, 0, sizeof *out);
  FR_TRY(fr_read_file(path, &buf, &len));
  fr_status st = fr_onnx_parse_pb(buf, len, out, name);
  fr_free(buf);
  if (st != FR_OK) fr_err_prefix(path);
  return st;
}
