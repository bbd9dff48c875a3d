/* gemm_bench.c: micro-benchmark of the GEMM and conv kernels
 * (runtime/kernels/gemm.c), checked against a naive loop.
 *
 * Build against the kernels library of a build tree (from the repo root):
 *   cc -O2 -I. bench/gemm_bench.c build/libfrost_kernels.a -lm -pthread \
 *      -o /tmp/gemm_bench
 * or with the kernels compiled for this CPU:
 *   cc -O3 -march=native -I. bench/gemm_bench.c runtime/kernels/gemm.c \
 *      runtime/kernels/pool.c -lm -pthread -o /tmp/gemm_bench_native
 * Run: /tmp/gemm_bench [reps [threads [M N K]]] (threads: the kernels'
 * pool, default 1): the kernel set below, or one GEMM of M x N x K (also
 * against OpenBLAS's sgemm when built with -DFR_BENCH_CBLAS ...
 * -lopenblas; run that with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset,
 * and OPENBLAS_NUM_THREADS set to the threads). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/kernels/kernels.h"
#ifdef FR_BENCH_CBLAS
#include <cblas.h>
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *rnd(size_t n) {
  float *p = malloc(n * sizeof *p);
  for (size_t i = 0; i < n; i++) p[i] = (float)(rand() % 20001) / 20000.0f - 0.5f;
  return p;
}

static double maxdiff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
  return m;
}

static void bench_gemm(int64_t M, int64_t N, int64_t K, int reps) {
  float *A = rnd((size_t)(M * K)), *B = rnd((size_t)(K * N));
  float *C = calloc((size_t)(M * N), 4), *R = calloc((size_t)(M * N), 4);
  float *s = malloc(fr_k_sgemm_scratch(M, N, K) * 4);
  fr_k_gemm g = {M, N, K, A, K, 1, B, N, 1, C, N, 1, 0, NULL, {0}, NULL, NULL, 0};
  fr_k_sgemm(&g, s);
  for (int64_t i = 0; i < M; i++)
    for (int64_t k = 0; k < K; k++)
      for (int64_t j = 0; j < N; j++) R[i * N + j] += A[i * K + k] * B[k * N + j];
  double best = 1e9;
  for (int r = 0; r < reps; r++) {
    double t = now();
    fr_k_sgemm(&g, s);
    t = now() - t;
    if (t < best) best = t;
  }
  printf("sgemm %lldx%lldx%lld: %.3f ms, %.1f GFLOP/s (max diff %.2g)\n",
         (long long)M, (long long)N, (long long)K, best * 1e3,
         2.0 * M * N * K / best * 1e-9, maxdiff(C, R, (size_t)(M * N)));
#ifdef FR_BENCH_CBLAS
  best = 1e9;
  for (int r = 0; r <= reps; r++) { /* the first run warms up */
    double t = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N,
                (int)K, 1.0f, A, (int)K, B, (int)N, 0.0f, C, (int)N);
    t = now() - t;
    if (r > 0 && t < best) best = t;
  }
  printf("openblas %lldx%lldx%lld: %.3f ms, %.1f GFLOP/s (max diff %.2g)\n",
         (long long)M, (long long)N, (long long)K, best * 1e3,
         2.0 * M * N * K / best * 1e-9, maxdiff(C, R, (size_t)(M * N)));
#endif
  free(A), free(B), free(C), free(R), free(s);
}

static void bench_conv(fr_k_conv p, const char *what, int reps) {
  int64_t Cg = p.C / p.group;
  size_t nx = (size_t)(p.N * p.C * p.in[0] * p.in[1] * p.in[2]);
  size_t nw = (size_t)(p.M * Cg * p.k[0] * p.k[1] * p.k[2]);
  size_t ny = (size_t)(p.N * p.M * p.out[0] * p.out[1] * p.out[2]);
  float *x = rnd(nx), *w = rnd(nw), *b = rnd((size_t)p.M);
  float *y = calloc(ny, 4);
  float *s = malloc((fr_k_conv_scratch(&p) + 1) * 4);
  double best = 1e9;
  for (int r = 0; r < reps; r++) {
    double t = now();
    fr_k_conv_f32(&p, x, w, b, y, s);
    t = now() - t;
    if (t < best) best = t;
  }
  double flops = 2.0 * (double)ny * (double)(Cg * p.k[0] * p.k[1] * p.k[2]);
  printf("conv %s: %.3f ms, %.1f GFLOP/s\n", what, best * 1e3,
         flops / best * 1e-9);
  free(x), free(w), free(b), free(y), free(s);
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 10;
  fr_k_set_threads(argc > 2 ? atoi(argv[2]) : 1);
  printf("%d thread%s\n", fr_k_threads(), fr_k_threads() > 1 ? "s" : "");
  if (argc > 5) {
    bench_gemm(atoll(argv[3]), atoll(argv[4]), atoll(argv[5]), reps);
    return 0;
  }
  bench_gemm(512, 512, 512, reps);
  bench_gemm(1024, 1024, 1024, reps);
  bench_gemm(64, 3136, 576, reps);
  bench_gemm(257, 100, 512, reps);
  fr_k_conv c3 = {1, 64, 64, 1, {1, 56, 56}, {1, 56, 56}, {1, 3, 3},
                  {1, 1, 1}, {1, 1, 1}, {0, 1, 1}};
  bench_conv(c3, "N1 C64 56x56 M64 3x3 pad1", reps);
  fr_k_conv c1 = {1, 64, 256, 1, {1, 56, 56}, {1, 56, 56}, {1, 1, 1},
                  {1, 1, 1}, {1, 1, 1}, {0, 0, 0}};
  bench_conv(c1, "N1 C64 56x56 M256 1x1", reps);
  fr_k_conv dw = {1, 128, 128, 128, {1, 56, 56}, {1, 56, 56}, {1, 3, 3},
                  {1, 1, 1}, {1, 1, 1}, {0, 1, 1}};
  bench_conv(dw, "depthwise C128 56x56 3x3", reps);
  fr_k_conv dw5 = {1, 200, 200, 200, {1, 3, 48}, {1, 3, 48}, {1, 5, 5},
                   {1, 1, 1}, {1, 1, 1}, {0, 2, 2}};
  bench_conv(dw5, "depthwise C200 3x48 5x5", reps);
  fr_k_conv mel = {1, 1, 514, 1, {1, 1, 16000}, {1, 1, 97}, {1, 1, 512},
                   {1, 1, 160}, {1, 1, 1}, {0, 0, 0}};
  bench_conv(mel, "1-D k512 s160 M514 (mel)", reps);
  return 0;
}
