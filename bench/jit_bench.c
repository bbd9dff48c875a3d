/* jit_bench.c: single-core timings of planned kernel calls three ways:
 *   interp   the entry as built into frost (gcc, generic x86-64)
 *   jit      the entry compiled by LLVM for the host CPU, params at run time
 *   jit+c    the same with the params block a constant global (what the
 *            compiler emits): LLVM specializes the kernel for it
 * on the GEMM and conv shapes of bench/gemm_bench.c, plain and with a fused
 * epilogue. Build and run (from the repo root, after building frost):
 *   make -C build jit_bench && build/jit_bench [reps] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llvm-c/Core.h>

#include "compiler/llvm/llvm.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *rnd(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  for (size_t i = 0; i < n; i++) p[i] = (float)(rand() % 20001) / 20000.0f - 0.5f;
  return p;
}

typedef void (*bufs_fn)(void *const *bufs);
typedef void (*entry_fn)(const void *params, void *const *bufs);

/* Compiles a caller of kp's entry: with the params as a constant global
 * (specialized), or forwarding them (generic). */
static void *compile(fr_jit *j, const fr_kplan *kp, const char *name,
                     int constant) {
  LLVMContextRef ctx = fr_jit_context(j);
  LLVMModuleRef m;
  if (fr_jit_kernels(j, &m) != FR_OK) return NULL;
  LLVMValueRef e = LLVMGetNamedFunction(m, kp->entry);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  LLVMTypeRef vt = LLVMVoidTypeInContext(ctx);
  LLVMValueRef f;
  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  if (constant) {
    LLVMValueRef init = LLVMConstStringInContext(
        ctx, (const char *)kp->params, (unsigned)kp->size, 1);
    LLVMValueRef g = LLVMAddGlobal(m, LLVMTypeOf(init), "params");
    LLVMSetInitializer(g, init);
    LLVMSetGlobalConstant(g, 1);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetAlignment(g, 64);
    f = LLVMAddFunction(m, name, LLVMFunctionType(vt, (LLVMTypeRef[]){ptr}, 1, 0));
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, f, "entry"));
    LLVMBuildCall2(b, LLVMGlobalGetValueType(e), e,
                   (LLVMValueRef[]){g, LLVMGetParam(f, 0)}, 2, "");
  } else {
    f = LLVMAddFunction(m, name,
                        LLVMFunctionType(vt, (LLVMTypeRef[]){ptr, ptr}, 2, 0));
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, f, "entry"));
    LLVMBuildCall2(b, LLVMGlobalGetValueType(e), e,
                   (LLVMValueRef[]){LLVMGetParam(f, 0), LLVMGetParam(f, 1)}, 2,
                   "");
  }
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  void *addr = NULL;
  if (fr_jit_optimize(j, m, name) != FR_OK || fr_jit_add(j, m) != FR_OK ||
      fr_jit_lookup(j, name, &addr) != FR_OK) {
    fprintf(stderr, "jit_bench: %s\n", fr_err_msg());
    exit(1);
  }
  return addr;
}

static double best_of(int reps, int how, const fr_kplan *kp, void *fn,
                      void *const *bufs) {
  double best = 1e9;
  for (int r = 0; r < reps; r++) {
    double t = now();
    if (how == 0) kp->fn(kp->params, bufs);
    else if (how == 1) ((entry_fn)fn)(kp->params, bufs);
    else ((bufs_fn)fn)(bufs);
    t = now() - t;
    if (t < best) best = t;
  }
  return best;
}

static int counter;

/* Times kp three ways on bufs (y at bufs[yslot], ny floats), checks the
 * compiled results against the interpreter's. */
static void bench(fr_jit *j, const char *what, const fr_kplan *kp,
                  void *const *bufs, int yslot, size_t ny, double flops,
                  int reps) {
  char n1[32], n2[32];
  snprintf(n1, sizeof n1, "gen%d", counter);
  snprintf(n2, sizeof n2, "spec%d", counter++);
  void *gen = compile(j, kp, n1, 0), *spec = compile(j, kp, n2, 1);
  float *y = bufs[yslot], *want = malloc(ny * sizeof *want);
  kp->fn(kp->params, bufs);
  memcpy(want, y, ny * sizeof *want);
  double t[3];
  for (int how = 0; how < 3; how++) {
    t[how] = best_of(reps, how, kp, how == 1 ? gen : spec, bufs);
    double md = 0;
    for (size_t i = 0; i < ny; i++) md = fmax(md, fabs((double)y[i] - want[i]));
    if (md > 1e-3) printf("  %s: results differ by %g\n", what, md);
  }
  printf("%-34s interp %6.1f  jit %6.1f  jit+c %6.1f GFLOP/s\n", what,
         flops / t[0] * 1e-9, flops / t[1] * 1e-9, flops / t[2] * 1e-9);
  free(want);
}

static void bench_gemm(fr_jit *j, int64_t M, int64_t N, int64_t K, int epi,
                       int reps) {
  fr_k_gemm_plan p = {M, N, K, K, 1, N, 1, 1.0f, 1.0f,
                      FR_K_GEMM_C_COL, 1, N, {epi, 0, 0}};
  float *A = rnd((size_t)(M * K)), *B = rnd((size_t)(K * N));
  float *C = rnd((size_t)N), *R = rnd((size_t)(M * N));
  float *Y = calloc((size_t)(M * N), 4);
  float *s = malloc(fr_k_sgemm_scratch(M, N, K) * 4);
  fr_kplan *kp = calloc(1, sizeof *kp);
  if (epi) FR_KPLAN(kp, fr_ke_gemm_fused_f32, p);
  else FR_KPLAN(kp, fr_ke_gemm_f32, p);
  void *fused[6] = {A, B, C, R, Y, s}, *plain[5] = {A, B, C, Y, s};
  char what[64];
  snprintf(what, sizeof what, "gemm %lldx%lldx%lld%s", (long long)M,
           (long long)N, (long long)K, epi ? " +res+relu" : "");
  bench(j, what, kp, epi ? fused : plain, epi ? 4 : 3, (size_t)(M * N),
        2.0 * (double)M * (double)N * (double)K, reps);
  free(A), free(B), free(C), free(R), free(Y), free(s), free(kp);
}

static void bench_conv_p(fr_jit *j, fr_k_conv p, const char *name, int reps) {
  int64_t Cg = p.C / p.group;
  size_t nx = (size_t)(p.N * p.C * p.in[0] * p.in[1] * p.in[2]);
  size_t nw = (size_t)(p.M * Cg * p.k[0] * p.k[1] * p.k[2]);
  size_t ny = (size_t)(p.N * p.M * p.out[0] * p.out[1] * p.out[2]);
  float *x = rnd(nx), *w = rnd(nw), *b = rnd((size_t)p.M), *r = rnd(ny);
  float *y = calloc(ny, 4), *s = malloc((fr_k_conv_scratch(&p) + 1) * 4);
  fr_kplan *kp = calloc(1, sizeof *kp);
  double flops = 2.0 * (double)ny * (double)(Cg * p.k[0] * p.k[1] * p.k[2]);
  void *plain[5] = {x, w, b, y, s}, *fused[6] = {x, w, b, r, y, s};
  FR_KPLAN(kp, fr_ke_conv_f32, p);
  char what[96];
  snprintf(what, sizeof what, "conv %s", name);
  bench(j, what, kp, plain, 3, ny, flops, reps);
  p.epi.act = FR_K_EPI_RELU;
  FR_KPLAN(kp, fr_ke_conv_fused_f32, p);
  snprintf(what, sizeof what, "conv %s +res+relu", name);
  bench(j, what, kp, fused, 4, ny, flops, reps);
  free(x), free(w), free(b), free(r), free(y), free(s), free(kp);
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  fr_jit *j;
  if (fr_jit_new(NULL, &j) != FR_OK) {
    fprintf(stderr, "jit_bench: %s\n", fr_err_msg());
    return 1;
  }
  bench_gemm(j, 512, 512, 512, 0, reps);
  bench_gemm(j, 512, 512, 512, FR_K_EPI_RELU, reps);
  bench_gemm(j, 64, 3136, 576, 0, reps);
  bench_gemm(j, 1, 1024, 1024, 0, reps * 20);
  fr_k_conv c3 = {1, 64, 64, 1, {1, 56, 56}, {1, 56, 56}, {1, 3, 3},
                  {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}};
  bench_conv_p(j, c3, "C64 56x56 M64 3x3 pad1", reps);
  fr_k_conv c1 = {1, 64, 256, 1, {1, 56, 56}, {1, 56, 56}, {1, 1, 1},
                  {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}};
  bench_conv_p(j, c1, "C64 56x56 M256 1x1", reps);
  fr_k_conv dw = {1, 128, 128, 128, {1, 56, 56}, {1, 56, 56}, {1, 3, 3},
                  {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}};
  bench_conv_p(j, dw, "depthwise C128 56x56 3x3", reps);
  fr_k_conv mel = {1, 1, 514, 1, {1, 1, 16000}, {1, 1, 97}, {1, 1, 512},
                   {1, 1, 160}, {1, 1, 1}, {0, 0, 0}, {0}};
  bench_conv_p(j, mel, "1-D k512 s160 M514 (mel)", reps);
  fr_jit_free(j);
  return 0;
}
