/* tensor.c: kernels that move, index and build tensors (Transpose, Slice,
 * Concat, Gather, Scatter, Pad, Range, Trilu, OneHot, Unique, ...).
 * They copy bytes by element size, so one kernel serves every dtype; the
 * innermost loops are contiguous memcpy's wherever the layout allows. */
#include <string.h>

#include "kernels.h"

/* Copies n elements from x with stride s (elements) into dense y. */
static inline void copy_line(char *y, const char *x, int64_t n, int64_t s,
                             int64_t es) {
  if (s == 1) {
    memcpy(y, x, (size_t)(n * es));
    return;
  }
  switch (es) {
  case 1:
    for (int64_t i = 0; i < n; i++) y[i] = x[i * s];
    break;
  case 2: {
    uint16_t *d = (uint16_t *)y;
    const uint16_t *a = (const uint16_t *)x;
    for (int64_t i = 0; i < n; i++) d[i] = a[i * s];
    break;
  }
  case 4: {
    uint32_t *d = (uint32_t *)y;
    const uint32_t *a = (const uint32_t *)x;
    for (int64_t i = 0; i < n; i++) d[i] = a[i * s];
    break;
  }
  case 8: {
    uint64_t *d = (uint64_t *)y;
    const uint64_t *a = (const uint64_t *)x;
    for (int64_t i = 0; i < n; i++) d[i] = a[i * s];
    break;
  }
  default:
    for (int64_t i = 0; i < n; i++)
      memcpy(y + i * es, x + i * s * es, (size_t)es);
  }
}

/* One TILE x TILE block of a 2-D transpose: y[i*ys + j] = x[i + j*xs]. */
enum { TILE = 32 };
#define TILE_LOOP(T)                                                          \
  do {                                                                        \
    T *d = (T *)y;                                                            \
    const T *a = (const T *)x;                                                \
    for (int64_t i = 0; i < ni; i++)                                          \
      for (int64_t j = 0; j < nj; j++) d[i * ys + j] = a[i + j * xs];         \
  } while (0)
static void copy_tile(char *y, const char *x, int64_t ni, int64_t nj,
                      int64_t ys, int64_t xs, int64_t es) {
  switch (es) {
  case 1: TILE_LOOP(uint8_t); break;
  case 2: TILE_LOOP(uint16_t); break;
  case 4: TILE_LOOP(uint32_t); break;
  case 8: TILE_LOOP(uint64_t); break;
  default:
    for (int64_t i = 0; i < ni; i++)
      for (int64_t j = 0; j < nj; j++)
        memcpy(y + (i * ys + j) * es, x + (i + j * xs) * es, (size_t)es);
  }
}

/* The copy when the innermost output dim is strided in x but dim c is
 * contiguous in x: blocks of (dim c, inner dim) are copied tile by tile so
 * that both the reads and the writes stay in cache. */
static void strided_tiled(const fr_k_strided *p, int c, const char *x,
                          char *y) {
  int r = p->rank;
  int64_t es = p->esize, ys[FR_K_MAX_COPY_RANK];
  int64_t k = 1;
  for (int d = r - 1; d >= 0; d--) {
    ys[d] = k;
    k *= p->dims[d];
  }
  int64_t dc = p->dims[c], dn = p->dims[r - 1], xsn = p->xs[r - 1];
  int64_t idx[FR_K_MAX_COPY_RANK] = {0};
  int64_t outer = k / (dc * dn), xo = p->off, yo = 0;
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i0 = 0; i0 < dc; i0 += TILE)
      for (int64_t j0 = 0; j0 < dn; j0 += TILE)
        copy_tile(y + (yo + i0 * ys[c] + j0) * es,
                  x + (xo + i0 + j0 * xsn) * es,
                  dc - i0 < TILE ? dc - i0 : TILE,
                  dn - j0 < TILE ? dn - j0 : TILE, ys[c], xsn, es);
    for (int d = r - 2; d >= 0; d--) {
      if (d == c) continue;
      xo += p->xs[d];
      yo += ys[d];
      if (++idx[d] < p->dims[d]) break;
      xo -= p->xs[d] * p->dims[d];
      yo -= ys[d] * p->dims[d];
      idx[d] = 0;
    }
  }
}

void fr_k_strided_copy(const fr_k_strided *p, const void *x, void *y) {
  const char *xb = x;
  char *yb = y;
  int64_t es = p->esize;
  int r = p->rank;
  int64_t total = 1;
  for (int d = 0; d < r; d++) total *= p->dims[d];
  if (total == 0) return;
  if (r == 0) {
    memcpy(yb, xb + p->off * es, (size_t)es);
    return;
  }
  int64_t inner = p->dims[r - 1], is = p->xs[r - 1];
  int64_t outer = total / inner;
  if (inner >= 8 && (is > 64 || is < -64)) {
    for (int c = r - 2; c >= 0; c--)
      if (p->xs[c] == 1 && p->dims[c] >= 8) {
        strided_tiled(p, c, xb, yb);
        return;
      }
  }
  int64_t idx[FR_K_MAX_COPY_RANK] = {0};
  int64_t xo = p->off;
  for (int64_t o = 0; o < outer; o++) {
    copy_line(yb, xb + xo * es, inner, is, es);
    yb += inner * es;
    for (int d = r - 2; d >= 0; d--) {
      xo += p->xs[d];
      if (++idx[d] < p->dims[d]) break;
      xo -= p->xs[d] * p->dims[d];
      idx[d] = 0;
    }
  }
}

void fr_k_copy_rows(int64_t rows, int64_t row_bytes, const void *x,
                    int64_t x_pitch, void *y, int64_t y_pitch) {
  const char *xb = x;
  char *yb = y;
  if (row_bytes == 0) return;
  for (int64_t i = 0; i < rows; i++)
    memcpy(yb + i * y_pitch, xb + i * x_pitch, (size_t)row_bytes);
}

void fr_k_fill(int64_t n, int64_t esize, const void *v, void *y) {
  char *yb = y;
  switch (esize) {
  case 1: memset(y, *(const uint8_t *)v, (size_t)n); return;
  case 2: {
    uint16_t c;
    memcpy(&c, v, 2);
    for (int64_t i = 0; i < n; i++) ((uint16_t *)y)[i] = c;
    return;
  }
  case 4: {
    uint32_t c;
    memcpy(&c, v, 4);
    for (int64_t i = 0; i < n; i++) ((uint32_t *)y)[i] = c;
    return;
  }
  case 8: {
    uint64_t c;
    memcpy(&c, v, 8);
    for (int64_t i = 0; i < n; i++) ((uint64_t *)y)[i] = c;
    return;
  }
  default:
    for (int64_t i = 0; i < n; i++) memcpy(yb + i * esize, v, (size_t)esize);
  }
}

void fr_k_gather(int64_t outer, int64_t n, int64_t k, int64_t inner,
                 int64_t esize, const int64_t *idx, const void *x, void *y) {
  const char *xb = x;
  char *yb = y;
  int64_t row = inner * esize;
  for (int64_t o = 0; o < outer; o++) {
    const char *xo = xb + o * n * row;
    for (int64_t j = 0; j < k; j++, yb += row) {
      if (idx[j] < 0) memset(yb, 0, (size_t)row);
      else memcpy(yb, xo + idx[j] * row, (size_t)row);
    }
  }
}

void fr_k_gather_rows(int64_t n, int64_t len, int64_t esize,
                      const int64_t *off, const void *x, void *y) {
  const char *xb = x;
  char *yb = y;
  int64_t row = len * esize;
  for (int64_t j = 0; j < n; j++)
    memcpy(yb + j * row, xb + off[j] * esize, (size_t)row);
}

void fr_k_scatter_rows(int64_t n, int64_t len, int64_t esize,
                       const int64_t *off, const void *u, void *y) {
  const char *ub = u;
  char *yb = y;
  int64_t row = len * esize;
  for (int64_t j = 0; j < n; j++)
    memcpy(yb + off[j] * esize, ub + j * row, (size_t)row);
}

/* Arithmetic in U (unsigned for integers) so that overflow wraps. */
#define SCATTER_DEF(T, U, NAME)                                               \
  void fr_k_scatter_red_##NAME(int64_t n, int64_t len, const int64_t *off,    \
                               const T *u, T *y, int red) {                   \
    for (int64_t j = 0; j < n; j++) {                                         \
      T *d = y + off[j];                                                      \
      const T *s = u + j * len;                                               \
      switch (red) {                                                          \
      case FR_K_SCAT_ADD:                                                      \
        for (int64_t i = 0; i < len; i++) d[i] = (T)((U)d[i] + (U)s[i]);      \
        break;                                                                \
      case FR_K_SCAT_MUL:                                                      \
        for (int64_t i = 0; i < len; i++) d[i] = (T)((U)d[i] * (U)s[i]);      \
        break;                                                                \
      case FR_K_SCAT_MAX:                                                      \
        for (int64_t i = 0; i < len; i++) d[i] = s[i] > d[i] ? s[i] : d[i];   \
        break;                                                                \
      case FR_K_SCAT_MIN:                                                      \
        for (int64_t i = 0; i < len; i++) d[i] = s[i] < d[i] ? s[i] : d[i];   \
        break;                                                                \
      default:                                                                \
        for (int64_t i = 0; i < len; i++) d[i] = s[i];                        \
      }                                                                       \
    }                                                                         \
  }
SCATTER_DEF(float, float, f32)
SCATTER_DEF(double, double, f64)
SCATTER_DEF(int8_t, unsigned, i8)
SCATTER_DEF(uint8_t, unsigned, u8)
SCATTER_DEF(int16_t, unsigned, i16)
SCATTER_DEF(uint16_t, unsigned, u16)
SCATTER_DEF(int32_t, uint32_t, i32)
SCATTER_DEF(uint32_t, uint32_t, u32)
SCATTER_DEF(int64_t, uint64_t, i64)
SCATTER_DEF(uint64_t, uint64_t, u64)
#undef SCATTER_DEF

void fr_k_elem_offsets(int rank, const int64_t *dims, int axis,
                       const int64_t *xs, const int64_t *idx, int64_t *off) {
  int64_t n = 1;
  for (int d = 0; d < rank; d++) n *= dims[d];
  if (n == 0) return;
  int64_t pos[FR_K_MAX_RANK] = {0};
  int64_t base = 0; /* sum over d != axis of pos[d] * xs[d] */
  for (int64_t i = 0; i < n; i++) {
    off[i] = base + idx[i] * xs[axis];
    for (int d = rank - 1; d >= 0; d--) {
      int64_t s = d == axis ? 0 : xs[d];
      base += s;
      if (++pos[d] < dims[d]) break;
      base -= s * dims[d];
      pos[d] = 0;
    }
  }
}

void fr_k_nd_offsets(int64_t n, int64_t per_batch, int64_t batch_stride,
                     int q, const int64_t *xs, const int64_t *idx,
                     int64_t *off) {
  for (int64_t j = 0; j < n; j++) {
    int64_t o = (per_batch ? j / per_batch : 0) * batch_stride;
    for (int t = 0; t < q; t++) o += idx[j * q + t] * xs[t];
    off[j] = o;
  }
}

void fr_k_pad(const fr_k_pad_params *p, const int64_t *map, const void *cval,
              const void *x, void *y) {
  const char *xb = x;
  char *yb = y;
  int r = p->rank;
  int64_t es = p->esize;
  if (r == 0) {
    memcpy(yb, xb, (size_t)es);
    return;
  }
  int64_t xs[FR_K_MAX_RANK], mo[FR_K_MAX_RANK];
  int64_t s = 1, m = 0, total = 1;
  for (int d = r - 1; d >= 0; d--) {
    xs[d] = s;
    s *= p->xdims[d];
  }
  for (int d = 0; d < r; d++) {
    mo[d] = m;
    m += p->ydims[d];
    total *= p->ydims[d];
  }
  if (total == 0) return;
  int64_t yd = p->ydims[r - 1], xd = p->xdims[r - 1], pb = p->pb[r - 1];
  const int64_t *ml = map + mo[r - 1];
  int64_t lo = pb > 0 ? pb : 0, hi = pb + xd < yd ? pb + xd : yd;
  int64_t rows = total / yd;
  int64_t pos[FR_K_MAX_RANK] = {0};
  for (int64_t o = 0; o < rows; o++, yb += yd * es) {
    int64_t base = 0;
    int inside = 1;
    for (int d = 0; d < r - 1; d++) {
      int64_t sidx = map[mo[d] + pos[d]];
      if (sidx < 0) inside = 0;
      base += sidx * xs[d];
    }
    if (!inside) {
      fr_k_fill(yd, es, cval, yb);
    } else {
      const char *row = xb + base * es;
      for (int64_t j = 0; j < yd; j++) {
        if (j == lo && hi > lo) {
          memcpy(yb + j * es, row + (j - pb) * es, (size_t)((hi - lo) * es));
          j = hi - 1;
          continue;
        }
        const void *src = ml[j] < 0 ? cval : (const void *)(row + ml[j] * es);
        memcpy(yb + j * es, src, (size_t)es);
      }
    }
    for (int d = r - 2; d >= 0; d--) {
      if (++pos[d] < p->ydims[d]) break;
      pos[d] = 0;
    }
  }
}

void fr_k_range_f32(int64_t n, float start, float delta, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = start + (float)i * delta;
}

void fr_k_range_f64(int64_t n, double start, double delta, double *y) {
  for (int64_t i = 0; i < n; i++) y[i] = start + (double)i * delta;
}

/* Integers wrap instead of overflowing. */
void fr_k_range_i16(int64_t n, int16_t start, int16_t delta, int16_t *y) {
  for (int64_t i = 0; i < n; i++)
    y[i] = (int16_t)((uint64_t)start + (uint64_t)i * (uint64_t)delta);
}

void fr_k_range_i32(int64_t n, int32_t start, int32_t delta, int32_t *y) {
  for (int64_t i = 0; i < n; i++)
    y[i] = (int32_t)((uint64_t)start + (uint64_t)i * (uint64_t)delta);
}

void fr_k_range_i64(int64_t n, int64_t start, int64_t delta, int64_t *y) {
  for (int64_t i = 0; i < n; i++)
    y[i] = (int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)delta);
}

void fr_k_trilu(int64_t batch, int64_t rows, int64_t cols, int64_t k,
                int upper, int64_t esize, const void *x, void *y) {
  const char *xb = x;
  char *yb = y;
  int64_t row = cols * esize;
  for (int64_t b = 0; b < batch; b++) {
    for (int64_t i = 0; i < rows; i++) {
      const char *xr = xb + (b * rows + i) * row;
      char *yr = yb + (b * rows + i) * row;
      int64_t lo, hi; /* kept columns [lo, hi) */
      if (upper) {
        lo = i + k < 0 ? 0 : (i + k > cols ? cols : i + k);
        hi = cols;
      } else {
        lo = 0;
        hi = i + k + 1 < 0 ? 0 : (i + k + 1 > cols ? cols : i + k + 1);
      }
      memset(yr, 0, (size_t)row);
      if (hi > lo)
        memcpy(yr + lo * esize, xr + lo * esize, (size_t)((hi - lo) * esize));
    }
  }
}

void fr_k_onehot(int64_t outer, int64_t depth, int64_t inner, int64_t esize,
                 const int64_t *idx, const void *off, const void *on,
                 void *y) {
  char *yb = y;
  fr_k_fill(outer * depth * inner, esize, off, y);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t v = idx[o * inner + i];
      if (v >= 0 && v < depth)
        memcpy(yb + ((o * depth + v) * inner + i) * esize, on, (size_t)esize);
    }
}

void fr_k_eye(int64_t rows, int64_t cols, int64_t k, int64_t esize,
              const void *one, void *y) {
  char *yb = y;
  memset(yb, 0, (size_t)(rows * cols * esize));
  for (int64_t i = 0; i < rows; i++) {
    int64_t j = i + k;
    if (j >= 0 && j < cols)
      memcpy(yb + (i * cols + j) * esize, one, (size_t)esize);
  }
}

void fr_k_reverse_sequence(int64_t batch, int64_t time, int64_t inner,
                           int batch_major, int64_t esize,
                           const int64_t *lens, const void *x, void *y) {
  const char *xb = x;
  char *yb = y;
  int64_t row = inner * esize;
  for (int64_t b = 0; b < batch; b++)
    for (int64_t t = 0; t < time; t++) {
      int64_t st = t < lens[b] ? lens[b] - 1 - t : t;
      int64_t yo = batch_major ? b * time + t : t * batch + b;
      int64_t xo = batch_major ? b * time + st : st * batch + b;
      memcpy(yb + yo * row, xb + xo * row, (size_t)row);
    }
}

void fr_k_nonzero(int rank, const int64_t *dims, int64_t n,
                  const uint8_t *mask, int64_t nnz, int64_t *y) {
  int64_t pos[FR_K_MAX_RANK] = {0};
  int64_t j = 0;
  for (int64_t i = 0; i < n; i++) {
    if (mask[i] && j < nnz) {
      for (int d = 0; d < rank; d++) y[d * nnz + j] = pos[d];
      j++;
    }
    for (int d = rank - 1; d >= 0; d--) {
      if (++pos[d] < dims[d]) break;
      pos[d] = 0;
    }
  }
}

/* ---- Unique --------------------------------------------------------- */

/* Three-way comparison; NaNs equal each other and above everything. */
#define CMP_FLOAT(a, b)                                                       \
  ((a) < (b) ? -1 : (a) > (b) ? 1 : (a) == (b) ? 0 : ((a) != (a)) ? ((b) != (b) ? 0 : 1) : -1)
#define CMP_INT(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

/* An order-preserving key of a 16-bit float (f16 when f16, else bf16). */
static int32_t half_key(uint16_t h, int f16) {
  uint16_t expm = f16 ? 0x7c00 : 0x7f80, manm = f16 ? 0x3ff : 0x7f;
  if ((h & expm) == expm && (h & manm)) return 0x10000; /* NaN */
  if ((h & 0x7fff) == 0) return 0x8000;                 /* +-0 */
  return (h & 0x8000) ? (int32_t)(~h & 0x7fff) : (int32_t)(h | 0x8000);
}

static int cmp_rows(const void *x, int dtype, int64_t len, int64_t a,
                    int64_t b) {
  for (int64_t i = 0; i < len; i++) {
    int64_t ia = a * len + i, ib = b * len + i;
    int c;
    switch (dtype) {
    case 1: c = CMP_FLOAT(((const float *)x)[ia], ((const float *)x)[ib]); break;
    case 11: c = CMP_FLOAT(((const double *)x)[ia], ((const double *)x)[ib]); break;
    case 2: case 9:
      c = CMP_INT(((const uint8_t *)x)[ia], ((const uint8_t *)x)[ib]); break;
    case 3: c = CMP_INT(((const int8_t *)x)[ia], ((const int8_t *)x)[ib]); break;
    case 4: c = CMP_INT(((const uint16_t *)x)[ia], ((const uint16_t *)x)[ib]); break;
    case 5: c = CMP_INT(((const int16_t *)x)[ia], ((const int16_t *)x)[ib]); break;
    case 6: c = CMP_INT(((const int32_t *)x)[ia], ((const int32_t *)x)[ib]); break;
    case 7: c = CMP_INT(((const int64_t *)x)[ia], ((const int64_t *)x)[ib]); break;
    case 12: c = CMP_INT(((const uint32_t *)x)[ia], ((const uint32_t *)x)[ib]); break;
    case 13: c = CMP_INT(((const uint64_t *)x)[ia], ((const uint64_t *)x)[ib]); break;
    case 10: case 16: {
      int32_t ka = half_key(((const uint16_t *)x)[ia], dtype == 10);
      int32_t kb = half_key(((const uint16_t *)x)[ib], dtype == 10);
      c = CMP_INT(ka, kb);
      break;
    }
    case 8: {
      const char *sa = ((char *const *)x)[ia], *sb = ((char *const *)x)[ib];
      c = strcmp(sa ? sa : "", sb ? sb : "");
      c = c < 0 ? -1 : c > 0;
      break;
    }
    default: c = 0;
    }
    if (c) return c;
  }
  return 0;
}

int64_t fr_k_unique(int64_t rows, int64_t len, int dtype, const void *x,
                    int sorted, int64_t *scratch, int64_t *first,
                    int64_t *inverse, int64_t *counts) {
  switch (dtype) {
  case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9:
  case 10: case 11: case 12: case 13: case 16: break;
  default: return -1;
  }
  int64_t *order = scratch, *tmp = scratch + rows;
  for (int64_t i = 0; i < rows; i++) order[i] = i;
  /* Bottom-up stable merge sort of the row numbers. */
  for (int64_t w = 1; w < rows; w *= 2) {
    for (int64_t lo = 0; lo < rows; lo += 2 * w) {
      int64_t mid = lo + w < rows ? lo + w : rows;
      int64_t hi = lo + 2 * w < rows ? lo + 2 * w : rows;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        tmp[k++] = cmp_rows(x, dtype, len, order[j], order[i]) < 0
                       ? order[j++] : order[i++];
      while (i < mid) tmp[k++] = order[i++];
      while (j < hi) tmp[k++] = order[j++];
    }
    for (int64_t i = 0; i < rows; i++) order[i] = tmp[i];
  }
  int64_t u = 0;
  for (int64_t i = 0; i < rows; i++) {
    if (i == 0 || cmp_rows(x, dtype, len, order[i - 1], order[i]) != 0) {
      first[u] = order[i]; /* stable: the first occurrence */
      counts[u] = 0;
      u++;
    }
    counts[u - 1]++;
    inverse[order[i]] = u - 1;
  }
  if (!sorted) {
    /* Renumber the uniques by first occurrence. */
    for (int64_t g = 0; g < u; g++) tmp[g] = -1;
    int64_t next = 0;
    for (int64_t i = 0; i < rows; i++)
      if (tmp[inverse[i]] < 0) tmp[inverse[i]] = next++;
    for (int64_t g = 0; g < u; g++) order[tmp[g]] = first[g];
    for (int64_t g = 0; g < u; g++) first[g] = order[g];
    for (int64_t g = 0; g < u; g++) order[tmp[g]] = counts[g];
    for (int64_t g = 0; g < u; g++) counts[g] = order[g];
    for (int64_t i = 0; i < rows; i++) inverse[i] = tmp[inverse[i]];
  }
  return u;
}

void fr_k_pad_map(const fr_k_pad_params *p, int mode, int64_t *m) {
  for (int d = 0; d < p->rank; d++) {
    int64_t xd = p->xdims[d];
    for (int64_t j = 0; j < p->ydims[d]; j++, m++) {
      int64_t i = j - p->pb[d];
      if (i >= 0 && i < xd) {
        *m = i;
        continue;
      }
      switch (mode) {
      case FR_K_PADM_CONSTANT: *m = -1; break;
      case FR_K_PADM_EDGE: *m = i < 0 ? 0 : xd - 1; break;
      case FR_K_PADM_WRAP: *m = ((i % xd) + xd) % xd; break;
      default: { /* reflect, without repeating the edge */
        if (xd == 1) {
          *m = 0;
          break;
        }
        int64_t per = 2 * (xd - 1), k = ((i % per) + per) % per;
        *m = k < xd ? k : per - k;
      }
      }
    }
  }
}

/* ---- entries --------------------------------------------------------- */

void fr_ke_copy(const void *params, void *const *b) {
  const fr_k_copy_plan *p = params;
  if (b[p->y] != b[0] && p->bytes)
    memcpy(b[p->y], b[0], (size_t)p->bytes);
}

void fr_ke_strided(const void *params, void *const *b) {
  const fr_k_strided_plan *p = params;
  fr_k_strided_copy(&p->s, b[0], b[p->y]);
}

/* Concat on threads: unit u is piece u % per of output row u / per, where
 * a row is cut into the pieces of CONCAT_PIECE bytes (or less) of each
 * input's part in turn. */
enum { CONCAT_PIECE = 1 << 16 };

typedef struct concat_job {
  const fr_k_concat_plan *p;
  void *const *b;
  int64_t per;
} concat_job;

static void concat_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  (void)scratch;
  const concat_job *j = ctx;
  const fr_k_concat_plan *p = j->p;
  char *y = j->b[p->n];
  for (int64_t u = lo; u < hi; u++) {
    int64_t r = u / j->per, k = u % j->per, off = 0;
    for (int i = 0; i < p->n; i++) {
      int64_t row = (int64_t)p->len[i] * p->inner_bytes;
      int64_t pieces = (row + CONCAT_PIECE - 1) / CONCAT_PIECE;
      if (k < pieces) {
        int64_t a = k * CONCAT_PIECE, len = row - a < CONCAT_PIECE ? row - a : CONCAT_PIECE;
        memcpy(y + r * p->pitch + off + a, (const char *)j->b[i] + r * row + a,
               (size_t)len);
        break;
      }
      k -= pieces;
      off += row;
    }
  }
}

void fr_ke_concat(const void *params, void *const *b) {
  const fr_k_concat_plan *p = params;
  char *y = b[p->n];
  int64_t off = 0, per = 0;
  for (int i = 0; i < p->n; i++)
    per += ((int64_t)p->len[i] * p->inner_bytes + CONCAT_PIECE - 1) / CONCAT_PIECE;
  /* (a float copied counts as an operation) */
  if (per > 0 && fr_k_par_worth(p->outer * p->pitch / 4)) {
    concat_job j = {p, b, per};
    fr_k_parallel(p->outer * per, concat_task, &j, NULL, 0);
    return;
  }
  for (int i = 0; i < p->n; i++) {
    int64_t row = (int64_t)p->len[i] * p->inner_bytes;
    fr_k_copy_rows(p->outer, row, b[i], row, y + off, p->pitch);
    off += row;
  }
}

void fr_ke_split(const void *params, void *const *b) {
  const fr_k_split_plan *p = params;
  const char *x = b[0];
  int64_t off = 0;
  for (int i = 0; i < p->n; i++) {
    int64_t row = (int64_t)p->len[i] * p->inner_bytes;
    void *y = b[p->in_slots + i];
    if (y) fr_k_copy_rows(p->outer, row, x + off, p->pitch, y, row);
    off += row;
  }
}

void fr_ke_pad(const void *params, void *const *b) {
  const fr_k_pad_plan *p = params;
  int64_t *map = b[5];
  fr_k_pad_map(&p->p, p->mode, map);
  fr_k_pad(&p->p, map, p->cval_buf ? (const void *)b[2] : p->cval, b[0], b[4]);
}

void fr_ke_gather(const void *params, void *const *b) {
  const fr_k_gather_plan *p = params;
  int64_t *idx = b[3];
  if (p->idx_dtype == FR_KT_I64) {
    const int64_t *s = b[1];
    for (int64_t j = 0; j < p->k; j++) idx[j] = s[j];
  } else {
    fr_k_cast(p->idx_dtype, FR_KT_I64, p->k, b[1], idx);
  }
  for (int64_t j = 0; j < p->k; j++) {
    int64_t i = idx[j] < 0 ? idx[j] + p->n : idx[j];
    idx[j] = i >= 0 && i < p->n ? i : -1;
  }
  fr_k_gather(p->outer, p->n, p->k, p->inner, p->esize, idx, b[0], b[2]);
}
