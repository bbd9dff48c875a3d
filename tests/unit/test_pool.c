/* test_pool.c: the kernels' thread pool (runtime/kernels/pool.c): every
 * unit of a call done once, in contiguous ranges of near-equal sizes, one
 * per thread; n = 0 and n below the thread count; many calls in a row;
 * a nested call and calls from two threads at once run serially; scratch
 * per worker; fr_k_set_threads and $FROST_THREADS. Then kernels at 1 and
 * 3 threads give the same bits: GEMM (wide, tall, small M, one column),
 * convolutions (images on threads, one image's GEMM on threads,
 * depthwise), pooling and elementwise entries. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* ---- the pool ---------------------------------------------------------- */

enum { MAX_UNITS = 4096, MAX_CALLS = 64 };

/* What the tasks of one parallel call saw. */
typedef struct seen {
  int hits[MAX_UNITS];        /* per unit, counted atomically */
  int64_t lo[MAX_CALLS], hi[MAX_CALLS];
  pthread_t who[MAX_CALLS];
  void *scratch[MAX_CALLS];
  int calls;                  /* task calls, counted atomically */
  size_t bytes;               /* scratch each worker must have */
} seen;

static void record(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  seen *s = ctx;
  int k = __atomic_fetch_add(&s->calls, 1, __ATOMIC_SEQ_CST);
  if (k < MAX_CALLS) {
    s->lo[k] = lo;
    s->hi[k] = hi;
    s->who[k] = pthread_self();
    s->scratch[k] = scratch;
  }
  for (int64_t i = lo; i < hi; i++) __atomic_fetch_add(&s->hits[i], 1, __ATOMIC_SEQ_CST);
  if (scratch && s->bytes) memset(scratch, 0xab, s->bytes); /* ASan: it is all there */
}

/* One call over n units at t threads: each unit once, min(n, t) calls of
 * contiguous ranges that tile [0, n), sizes within 1 of each other. */
static void check_call(int t, int64_t n) {
  static seen s;
  memset(&s, 0, sizeof s);
  fr_k_set_threads(t);
  fr_k_parallel(n, record, &s, NULL, 0);
  for (int64_t i = 0; i < n; i++)
    ck_assert_msg(s.hits[i] == 1, "t %d n %lld: unit %lld done %d times", t,
                  (long long)n, (long long)i, s.hits[i]);
  int want = n == 0 ? 0 : n < t ? (int)n : t;
  ck_assert_msg(s.calls == want, "t %d n %lld: %d calls, want %d", t, (long long)n,
                s.calls, want);
  int64_t covered = 0, smin = n, smax = 0;
  for (int k = 0; k < s.calls; k++) {
    covered += s.hi[k] - s.lo[k];
    smin = s.hi[k] - s.lo[k] < smin ? s.hi[k] - s.lo[k] : smin;
    smax = s.hi[k] - s.lo[k] > smax ? s.hi[k] - s.lo[k] : smax;
    for (int l = 0; l < k; l++) ck_assert(!pthread_equal(s.who[k], s.who[l]));
  }
  ck_assert_int_eq(covered, n);
  if (s.calls) ck_assert_msg(smax - smin <= 1, "t %d n %lld: ranges of %lld to %lld",
                             t, (long long)n, (long long)smin, (long long)smax);
}

START_TEST(ranges_cover_once) {
  const int threads[] = {1, 2, 3, 4, 8};
  const int64_t ns[] = {0, 1, 2, 3, 5, 7, 8, 9, 100, 1000, MAX_UNITS};
  for (size_t i = 0; i < sizeof threads / sizeof *threads; i++)
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) check_call(threads[i], ns[k]);
}
END_TEST

static void add_range(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  int64_t *sum = ctx, s = 0;
  for (int64_t i = lo; i < hi; i++) s += i + 1;
  __atomic_fetch_add(sum, s, __ATOMIC_SEQ_CST);
}

static void never(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  ck_abort_msg("called for n = 0");
}

START_TEST(many_calls_and_none) {
  fr_k_set_threads(3);
  for (int i = 0; i < 5000; i++) {
    int64_t sum = 0, n = 1 + i % 7;
    fr_k_parallel(n, add_range, &sum, NULL, 0);
    ck_assert_int_eq(sum, n * (n + 1) / 2);
  }
  fr_k_parallel(0, never, NULL, NULL, 0);
  fr_k_parallel(-3, never, NULL, NULL, 0);
}
END_TEST

/* A task that calls the pool again: the inner call is one serial call on
 * the same thread, with the scratch it was given. */
typedef struct nest {
  int inner_calls;
  int bad;
} nest;

typedef struct inner_seen {
  pthread_t who;
  int calls;
  int64_t lo, hi;
  void *scratch;
} inner_seen;

static void inner(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  inner_seen *s = ctx;
  s->calls++;
  s->who = pthread_self();
  s->lo = lo;
  s->hi = hi;
  s->scratch = scratch;
}

static void outer(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  nest *n = ctx;
  for (int64_t i = lo; i < hi; i++) {
    inner_seen s = {0};
    char own[8];
    fr_k_parallel(10, inner, &s, own, 0);
    if (s.calls != 1 || !pthread_equal(s.who, pthread_self()) || s.lo != 0 ||
        s.hi != 10 || s.scratch != own)
      __atomic_fetch_add(&n->bad, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&n->inner_calls, 1, __ATOMIC_SEQ_CST);
  }
}

START_TEST(nested_call_is_serial) {
  fr_k_set_threads(2);
  nest n = {0};
  fr_k_parallel(6, outer, &n, NULL, 0);
  ck_assert_int_eq(n.inner_calls, 6);
  ck_assert_int_eq(n.bad, 0);
}
END_TEST

START_TEST(set_threads_and_env) {
  fr_k_set_threads(3);
  ck_assert_int_eq(fr_k_threads(), 3);
  check_call(3, 3);
  fr_k_set_threads(1);
  ck_assert_int_eq(fr_k_threads(), 1);
  check_call(1, 50); /* one call */
  fr_k_set_threads(5000);
  ck_assert_int_eq(fr_k_threads(), FR_K_MAX_THREADS);
  setenv("FROST_THREADS", "5", 1);
  fr_k_set_threads(0);
  ck_assert_int_eq(fr_k_threads(), 5);
  setenv("FROST_THREADS", "zero", 1); /* not a number: the processors */
  fr_k_set_threads(0);
  cpu_set_t all;
  ck_assert_int_eq(sched_getaffinity(0, sizeof all, &all), 0);
  long cpus = CPU_COUNT(&all);
  ck_assert_int_eq(fr_k_threads(), cpus < 1 ? 1 : cpus);
  unsetenv("FROST_THREADS");
  fr_k_set_threads(0);
  ck_assert_int_eq(fr_k_threads(), cpus < 1 ? 1 : cpus);
  /* the processors this process may run on, not the machine's: bound to
   * its first one (as mpirun binds a rank), one thread */
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &all)) {
      CPU_SET(c, &one);
      break;
    }
  ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
  fr_k_set_threads(0);
  ck_assert_int_eq(fr_k_threads(), 1);
  ck_assert_int_eq(sched_setaffinity(0, sizeof all, &all), 0);
  fr_k_set_threads(0);
  ck_assert_int_eq(fr_k_threads(), cpus < 1 ? 1 : cpus);
  /* more threads, then fewer again, calls between */
  for (int t = 1; t <= 6; t++) check_call(t, 100);
  for (int t = 6; t >= 1; t--) check_call(t, 100);
}
END_TEST

START_TEST(scratch_per_worker) {
  static seen s;
  static char own[1000];
  memset(&s, 0, sizeof s);
  s.bytes = sizeof own;
  fr_k_set_threads(4);
  fr_k_parallel(4, record, &s, own, s.bytes);
  ck_assert_int_eq(s.calls, 4);
  int owns = 0;
  for (int k = 0; k < 4; k++) {
    if (s.lo[k] == 0) {
      ck_assert_ptr_eq(s.scratch[k], own);
      owns++;
      continue;
    }
    ck_assert_ptr_nonnull(s.scratch[k]);
    ck_assert_int_eq((uintptr_t)s.scratch[k] % 64, 0);
    for (int l = 0; l < k; l++) ck_assert_ptr_ne(s.scratch[k], s.scratch[l]);
  }
  ck_assert_int_eq(owns, 1);
  /* bigger scratch later: the buffers grow */
  memset(&s, 0, sizeof s);
  s.bytes = 1 << 20;
  fr_k_parallel(4, record, &s, NULL, s.bytes);
  ck_assert_int_eq(s.calls, 4);
}
END_TEST

/* Two threads of the program call the pool at once: each call is right
 * (one of them may run serially). */
static void *caller(void *arg) {
  long bad = 0;
  for (int i = 0; i < 1000; i++) {
    int64_t sum = 0, n = 1 + (i + (int)(intptr_t)arg) % 9;
    fr_k_parallel(n, add_range, &sum, NULL, 0);
    bad += sum != n * (n + 1) / 2;
  }
  return (void *)bad;
}

START_TEST(two_callers) {
  fr_k_set_threads(3);
  pthread_t a, b;
  void *ra, *rb;
  ck_assert_int_eq(pthread_create(&a, NULL, caller, (void *)0), 0);
  ck_assert_int_eq(pthread_create(&b, NULL, caller, (void *)1), 0);
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  ck_assert_ptr_null(ra);
  ck_assert_ptr_null(rb);
}
END_TEST

/* ---- kernels: the same bits at 1 and 3 threads --------------------------- */

static float *randoms(int64_t n, uint32_t seed) {
  float *p = malloc((size_t)n * sizeof *p);
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (float)((int32_t)seed >> 8) / (float)(1 << 23);
  }
  return p;
}

/* run(ctx, y) at 1 and at 3 threads: y (n floats) the same bits. */
static void same_bits(const char *what, void (*run)(const void *, float *),
                      const void *ctx, int64_t n) {
  float *a = calloc((size_t)n, sizeof *a), *b = calloc((size_t)n, sizeof *b);
  fr_k_set_threads(1);
  run(ctx, a);
  fr_k_set_threads(3);
  run(ctx, b);
  ck_assert_msg(!memcmp(a, b, (size_t)n * sizeof *a), "%s: 1 and 3 threads differ", what);
  free(a);
  free(b);
}

typedef struct gemm_case {
  int64_t M, N, K;
  const float *A, *B, *bias;
} gemm_case;

static void run_gemm(const void *ctx, float *y) {
  const gemm_case *c = ctx;
  fr_k_gemm g = {c->M, c->N, c->K, c->A, c->K, 1, c->B, c->N, 1, y, c->N, 1.5f,
                 0.0f, c->M > 2 ? c->bias : NULL, {FR_K_EPI_LEAKY_RELU, 0.2f, 0, 0, 0},
                 NULL, NULL, 0};
  float *s = malloc((fr_k_sgemm_scratch(c->M, c->N, c->K) + 1) * sizeof *s);
  fr_k_sgemm(&g, s);
  free(s);
}

START_TEST(gemm_same_bits) {
  /* wide (threads take columns), tall (rows), small M, one column */
  const int64_t shapes[][3] = {{37, 301, 259}, {517, 29, 300}, {2, 3001, 200},
                               {3000, 1, 200}, {64, 64, 64}};
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    gemm_case c = {shapes[i][0], shapes[i][1], shapes[i][2], NULL, NULL, NULL};
    float *A = randoms(c.M * c.K, 1), *B = randoms(c.K * c.N, 2), *bias = randoms(c.M, 3);
    c.A = A, c.B = B, c.bias = bias;
    char what[64];
    snprintf(what, sizeof what, "gemm %lldx%lldx%lld", (long long)c.M, (long long)c.N,
             (long long)c.K);
    same_bits(what, run_gemm, &c, c.M * c.N);
    free(A);
    free(B);
    free(bias);
  }
}
END_TEST

typedef struct conv_case {
  fr_k_conv p;
  const float *x, *w, *bias;
} conv_case;

static void run_conv(const void *ctx, float *y) {
  const conv_case *c = ctx;
  float *s = malloc((fr_k_conv_scratch(&c->p) + 1) * sizeof *s);
  fr_k_conv_f32(&c->p, c->x, c->w, c->bias, y, s);
  free(s);
}

/* The transposed convolution of the same geometry (x and y swap: the
 * input gradient of c's conv), through its entry. */
static void run_convt(const void *ctx, float *y) {
  const conv_case *c = ctx;
  fr_k_conv t = c->p;
  t.C = c->p.M, t.M = c->p.C;
  for (int d = 0; d < 3; d++) t.in[d] = c->p.out[d], t.out[d] = c->p.in[d];
  t.epi = (fr_k_epi){0};
  float *s = malloc((fr_k_convtranspose_scratch(&t) + 1) * sizeof *s);
  void *b[5] = {(void *)c->x, (void *)c->w, (void *)c->bias, y, s};
  fr_ke_convtranspose_f32(&t, b);
  free(s);
}

START_TEST(conv_same_bits) {
  /* images on threads (6 images), one image's GEMM on threads, 1x1,
   * depthwise, images folded into one GEMM (small images), the direct
   * conv of few taps (rows on threads, across images) */
  const int64_t geo[][9] = {/* N, C, M, group, H, W, KH, KW, pad */
                            {6, 8, 16, 1, 20, 33, 3, 3, 1},
                            {1, 16, 40, 1, 40, 50, 3, 3, 1},
                            {3, 32, 24, 1, 30, 30, 1, 1, 0},
                            {2, 24, 24, 24, 40, 41, 3, 3, 1},
                            {7, 24, 48, 1, 6, 5, 3, 3, 1},
                            {1, 3, 16, 1, 61, 64, 3, 3, 1},
                            {3, 2, 8, 1, 23, 70, 3, 3, 1}};
  for (size_t i = 0; i < sizeof geo / sizeof *geo; i++) {
    const int64_t *g = geo[i];
    conv_case c = {{.N = g[0], .C = g[1], .M = g[2], .group = g[3],
                    .in = {1, g[4], g[5]}, .out = {1, g[4] + 2 * g[8] - g[6] + 1,
                                                   g[5] + 2 * g[8] - g[7] + 1},
                    .k = {1, g[6], g[7]}, .stride = {1, 1, 1}, .dil = {1, 1, 1},
                    .pad = {0, g[8], g[8]}, .epi = {FR_K_EPI_RELU, 0, 0, 0, 0}},
                   NULL, NULL, NULL};
    float *x = randoms(c.p.N * (c.p.C + c.p.M) * g[4] * g[5], 4); /* transposed too */
    float *w = randoms(c.p.M * c.p.C / c.p.group * g[6] * g[7], 5);
    float *bias = randoms(c.p.M + c.p.C, 6);
    c.x = x, c.w = w, c.bias = bias;
    char what[64];
    snprintf(what, sizeof what, "conv case %zu", i);
    same_bits(what, run_conv, &c, c.p.N * c.p.M * c.p.out[1] * c.p.out[2]);
    if (c.p.group == 1) {
      snprintf(what, sizeof what, "conv case %zu transposed", i);
      same_bits(what, run_convt, &c, c.p.N * c.p.C * g[4] * g[5]);
    }
    free(x);
    free(w);
    free(bias);
  }
}
END_TEST

typedef struct entry_case {
  void (*entry)(const void *, void *const *);
  const void *params;
  const float *x, *x2;
  int y;         /* y's slot in bufs */
  void *scratch; /* in the slot after y */
} entry_case;

static void run_entry(const void *ctx, float *y) {
  const entry_case *c = ctx;
  void *b[6] = {(void *)c->x, (void *)c->x2, NULL, NULL, NULL, NULL};
  b[c->y] = y;
  b[c->y + 1] = c->scratch;
  c->entry(c->params, b);
}

START_TEST(entries_same_bits) {
  enum { N = 300000 };
  float *x = randoms(N, 7), *x2 = randoms(N, 8);
  fr_k_unary_plan u = {.op = FR_K_TANH, .dtype = FR_KT_F32, .work = FR_KT_F32, .n = N};
  entry_case cu = {fr_ke_unary, &u, x, NULL, 1, NULL};
  same_bits("unary tanh", run_entry, &cu, N);
  /* a + c with c broadcast along the rows: (3, 100000) + (1, 100000) */
  fr_k_binary_plan bp = {.op = FR_K_ADD, .adtype = FR_KT_F32, .cdtype = FR_KT_F32,
                         .ydtype = FR_KT_F32, .work = FR_KT_F32, .na = N,
                         .nc = N / 3, .ny = N,
                         .b = {2, {3, N / 3}, {N / 3, 1}, {0, 1}}};
  entry_case cb = {fr_ke_binary, &bp, x, x2, 2, NULL};
  same_bits("binary add", run_entry, &cb, N);
  /* max pooling 2x2 over 30 planes of 100x100 */
  fr_k_pool_plan pp = {.p = {.kind = FR_K_POOL_MAX, .planes = 30, .in = {1, 100, 100},
                             .out = {1, 50, 50}, .k = {1, 2, 2}, .stride = {1, 2, 2},
                             .dil = {1, 1, 1}},
                       .dtype = FR_KT_F32};
  entry_case cp = {fr_ke_pool, &pp, x, NULL, 1, NULL};
  same_bits("max pool", run_entry, &cp, 30 * 50 * 50);
  /* bilinear resize (1, 8, 60, 70) -> (1, 8, 120, 140): rows of channels */
  fr_k_resize_plan rp = {.rank = 4, .ntap = 2, .y = 1, .run = 1};
  const int64_t rin[4] = {1, 8, 60, 70}, rout[4] = {1, 8, 120, 140};
  for (int d = 0; d < 4; d++)
    rp.d[d] = (fr_k_resize_dim){.mode = FR_K_RESIZE_LINEAR, .coord = FR_K_COORD_HALF_PIXEL,
                                .in = rin[d], .out = rout[d],
                                .scale = (double)rout[d] / (double)rin[d]};
  void *taps = malloc(4 * 140 * 2 * (sizeof(int64_t) + sizeof(float)));
  entry_case cr = {fr_ke_resize_f32, &rp, x, NULL, 1, taps};
  same_bits("resize", run_entry, &cr, 8 * 120 * 140);
  free(taps);
  free(x);
  free(x2);
}
END_TEST

FT_MAIN(pool, ranges_cover_once, many_calls_and_none, nested_call_is_serial,
        set_threads_and_env, scratch_per_worker, two_callers, gemm_same_bits,
        conv_same_bits, entries_same_bits)
