/* dtype.c: element types, tensor sizes, and half-precision conversions. */
#include <math.h>
#include <string.h>

#include "ir.h"

static const struct {
  const char *name;
  size_t size;
} dtypes[FR_DTYPE_COUNT] = {
    [FR_UNDEFINED] = {"?", 0},  [FR_F32] = {"f32", 4},
    [FR_U8] = {"u8", 1},        [FR_I8] = {"i8", 1},
    [FR_U16] = {"u16", 2},      [FR_I16] = {"i16", 2},
    [FR_I32] = {"i32", 4},      [FR_I64] = {"i64", 8},
    [FR_STRING] = {"str", sizeof(char *)},
    [FR_BOOL] = {"bool", 1},    [FR_F16] = {"f16", 2},
    [FR_F64] = {"f64", 8},      [FR_U32] = {"u32", 4},
    [FR_U64] = {"u64", 8},      [FR_C64] = {"c64", 8},
    [FR_C128] = {"c128", 16},   [FR_BF16] = {"bf16", 2},
};

size_t fr_dtype_size(fr_dtype t) {
  return (unsigned)t < FR_DTYPE_COUNT ? dtypes[t].size : 0;
}

const char *fr_dtype_name(fr_dtype t) {
  return (unsigned)t < FR_DTYPE_COUNT ? dtypes[t].name : "?";
}

bool fr_dtype_is_float(fr_dtype t) {
  return t == FR_F32 || t == FR_F64 || t == FR_F16 || t == FR_BF16;
}

bool fr_dtype_is_int(fr_dtype t) {
  switch (t) {
  case FR_U8: case FR_I8: case FR_U16: case FR_I16: case FR_I32:
  case FR_I64: case FR_U32: case FR_U64:
    return true;
  default:
    return false;
  }
}

bool fr_dtype_is_signed(fr_dtype t) {
  return t == FR_I8 || t == FR_I16 || t == FR_I32 || t == FR_I64 ||
         fr_dtype_is_float(t);
}

int64_t fr_tensor_numel(const fr_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

size_t fr_tensor_nbytes(const fr_tensor *t) {
  return (size_t)fr_tensor_numel(t) * fr_dtype_size(t->dtype);
}

fr_status fr_shape_numel(int rank, const int64_t *dims, int64_t *numel) {
  int64_t n = 1;
  if (rank < 0 || rank > FR_MAX_RANK)
    return fr_err(FR_ERR_INVALID, "rank %d out of range [0, %d]", rank,
                  FR_MAX_RANK);
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return fr_err(FR_ERR_INVALID, "negative dimension %lld",
                    (long long)dims[i]);
    if (dims[i] && n > INT64_MAX / 16 / dims[i])
      return fr_err(FR_ERR_INVALID, "tensor size overflows");
    n *= dims[i];
  }
  *numel = n;
  return FR_OK;
}

double fr_tensor_get_f64(const fr_tensor *t, int64_t i) {
  const void *d = t->data;
  switch (t->dtype) {
  case FR_F32: return ((const float *)d)[i];
  case FR_F64: return ((const double *)d)[i];
  case FR_F16: return fr_f16_to_f32(((const uint16_t *)d)[i]);
  case FR_BF16: return fr_bf16_to_f32(((const uint16_t *)d)[i]);
  case FR_U8: return ((const uint8_t *)d)[i];
  case FR_BOOL: return ((const uint8_t *)d)[i];
  case FR_I8: return ((const int8_t *)d)[i];
  case FR_U16: return ((const uint16_t *)d)[i];
  case FR_I16: return ((const int16_t *)d)[i];
  case FR_I32: return ((const int32_t *)d)[i];
  case FR_I64: return (double)((const int64_t *)d)[i];
  case FR_U32: return ((const uint32_t *)d)[i];
  case FR_U64: return (double)((const uint64_t *)d)[i];
  default: return 0;
  }
}

int64_t fr_tensor_get_i64(const fr_tensor *t, int64_t i) {
  const void *d = t->data;
  switch (t->dtype) {
  case FR_I64: return ((const int64_t *)d)[i];
  case FR_U64: return (int64_t)((const uint64_t *)d)[i];
  case FR_I32: return ((const int32_t *)d)[i];
  case FR_U32: return ((const uint32_t *)d)[i];
  case FR_I16: return ((const int16_t *)d)[i];
  case FR_U16: return ((const uint16_t *)d)[i];
  case FR_I8: return ((const int8_t *)d)[i];
  case FR_U8: case FR_BOOL: return ((const uint8_t *)d)[i];
  default: {
    double v = fr_tensor_get_f64(t, i);
    if (isnan(v)) return 0;
    if (v >= 9.2e18) return INT64_MAX;
    if (v <= -9.2e18) return INT64_MIN;
    return (int64_t)v;
  }
  }
}

void fr_tensor_set_f64(fr_tensor *t, int64_t i, double v) {
  void *d = t->data;
  switch (t->dtype) {
  case FR_F32: ((float *)d)[i] = (float)v; break;
  case FR_F64: ((double *)d)[i] = v; break;
  case FR_F16: ((uint16_t *)d)[i] = fr_f32_to_f16((float)v); break;
  case FR_BF16: ((uint16_t *)d)[i] = fr_f32_to_bf16((float)v); break;
  case FR_U8: ((uint8_t *)d)[i] = (uint8_t)(int64_t)v; break;
  case FR_BOOL: ((uint8_t *)d)[i] = v != 0; break;
  case FR_I8: ((int8_t *)d)[i] = (int8_t)(int64_t)v; break;
  case FR_U16: ((uint16_t *)d)[i] = (uint16_t)(int64_t)v; break;
  case FR_I16: ((int16_t *)d)[i] = (int16_t)(int64_t)v; break;
  case FR_I32: ((int32_t *)d)[i] = (int32_t)(int64_t)v; break;
  case FR_I64: ((int64_t *)d)[i] = (int64_t)v; break;
  case FR_U32: ((uint32_t *)d)[i] = (uint32_t)(int64_t)v; break;
  case FR_U64: ((uint64_t *)d)[i] = (uint64_t)v; break;
  default: break;
  }
}

const char *fr_shape_str(const fr_tensor *t, char *buf, size_t n) {
  size_t k = 0;
  const char *kind = t->kind == FR_KIND_SEQUENCE   ? "seq "
                     : t->kind == FR_KIND_OPTIONAL ? "opt "
                                                   : "";
  k += (size_t)snprintf(buf, n, "%s%s", kind, fr_dtype_name(t->dtype));
  if (t->rank < 0) {
    if (k < n) snprintf(buf + k, n - k, "[?]");
    return buf;
  }
  if (k < n) k += (size_t)snprintf(buf + k, n - k, "[");
  for (int i = 0; i < t->rank && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, i ? ",%lld" : "%lld",
                          (long long)t->dims[i]);
  if (k < n) snprintf(buf + k, n - k, "]");
  return buf;
}

/* IEEE half <-> single, round to nearest even. */
float fr_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal: renormalize */
      int e = -1;
      do {
        e++;
        man <<= 1;
      } while (!(man & 0x400));
      bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t fr_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = (int32_t)((x >> 23) & 0xff);
  uint32_t man = x & 0x7fffff;
  if (exp == 255) /* inf or nan */
    return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
  int32_t e = exp - 127 + 15;
  if (e >= 31) return (uint16_t)(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return (uint16_t)sign;
    man |= 0x800000;
    uint32_t shift = (uint32_t)(14 - e);
    uint32_t half = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t h = sign | ((uint32_t)e << 10) | (man >> 13);
  uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
  return (uint16_t)h;
}

float fr_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t fr_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40);
  uint32_t r = 0x7fff + ((x >> 16) & 1);
  return (uint16_t)((x + r) >> 16);
}
