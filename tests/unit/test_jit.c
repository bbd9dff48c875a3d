/* test_jit.c: the LLVM chain end to end - embedded kernel bitcode, a caller
 * with constant sizes, O3 for the host CPU, ORC LLJIT - on the Relu kernel. */
#include <llvm-c/Core.h>
#include <llvm-c/Linker.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

START_TEST(jit_calls_kernel_with_constants) {
  fr_jit *j;
  ck_assert_int_eq(fr_jit_new(NULL, &j), FR_OK);
  LLVMContextRef ctx = fr_jit_context(j);
  LLVMModuleRef m;
  ck_assert_int_eq(fr_jit_kernels(j, &m), FR_OK);
  LLVMValueRef k = LLVMGetNamedFunction(m, "fr_k_relu_f32");
  ck_assert_ptr_nonnull(k);
  /* void relu10(float *x, float *y) { fr_k_relu_f32(10, x, y); } */
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  LLVMTypeRef vt = LLVMVoidTypeInContext(ctx);
  LLVMTypeRef ft = LLVMFunctionType(vt, (LLVMTypeRef[]){ptr, ptr}, 2, 0);
  LLVMValueRef f = LLVMAddFunction(m, "relu10", ft);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, f, "entry"));
  LLVMValueRef args[3] = {LLVMConstInt(LLVMInt64TypeInContext(ctx), 10, 0),
                          LLVMGetParam(f, 0), LLVMGetParam(f, 1)};
  LLVMBuildCall2(b, LLVMGlobalGetValueType(k), k, args, 3, "");
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  ck_assert_int_eq(fr_jit_optimize(j, m, "relu10"), FR_OK);
  ck_assert_int_eq(fr_jit_add(j, m), FR_OK);
  void *addr;
  ck_assert_int_eq(fr_jit_lookup(j, "relu10", &addr), FR_OK);
  void (*fn)(float *, float *) = (void (*)(float *, float *))addr;
  float x[10] = {-1, 2, -3, 4, -5, 6, -7, 8, -9, 10}, y[10];
  fn(x, y);
  for (int i = 0; i < 10; i++) ck_assert_float_eq(y[i], x[i] > 0 ? x[i] : 0);
  ck_assert_int_ne(fr_jit_lookup(j, "no_such_symbol", &addr), FR_OK);
  fr_jit_free(j);
}
END_TEST

/* LLVM accepts any CPU name, with only a warning on stderr: frost must
 * refuse one it does not know, with a message naming it, and no jit. */
START_TEST(jit_unknown_cpu) {
  fr_jit *j = (fr_jit *)&j; /* not NULL: fr_jit_new must clear it */
  fr_err_clear();
  fr_status st = fr_jit_new("nosuchcpu", &j);
  ck_assert_int_eq(st, FR_ERR_USAGE);
  ck_assert_ptr_null(j);
  ck_assert_msg(strstr(fr_err_msg(), "unknown target CPU 'nosuchcpu'"),
                "message: %s", fr_err_msg());
  /* the same for ahead-of-time compilation (frost compile --target-cpu) */
  fr_err_clear();
  ck_assert_int_eq(fr_jit_new_aot("pentium9", &j), FR_ERR_USAGE);
  ck_assert_ptr_null(j);
  ck_assert_msg(strstr(fr_err_msg(), "'pentium9'"), "message: %s", fr_err_msg());
}
END_TEST

/* A CPU LLVM knows, other than the host's, is taken as it is named. */
START_TEST(jit_known_cpu) {
  fr_jit *j = NULL;
  ck_assert_int_eq(fr_jit_new("x86-64-v3", &j), FR_OK);
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(fr_jit_cpu(j), "x86-64-v3");
#ifdef __x86_64__
  ck_assert_int_eq(fr_jit_level(j), 3); /* AVX2 and FMA, no AVX-512 */
#endif
  fr_jit_free(j);
}
END_TEST

/* A trainable parameter lives in the trainable block of the parameter
 * layout, and the JIT reads it there (never as a constant it could fold):
 * writing the block changes the next run's output, with and without
 * --specialize. A frozen weight is a constant of the module. */
START_TEST(jit_reads_trainable_block) {
  for (int spec = 0; spec < 2; spec++) {
    fr_model *m = fg_model(13);
    fr_value *x = fg_input(m, "x", FR_F32, 1, FT_DIMS(4));
    float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40};
    fr_value *w = fg_const(m, "head.w", FR_F32, 1, FT_DIMS(4), a);
    fr_value *f = fg_const(m, "f", FR_F32, 1, FT_DIMS(4), b);
    fr_value *t = fg_node(m, "Mul", "t", 2, (fr_value *[]){x, w})->out[0];
    fr_value *y = fg_node(m, "Add", "y", 2, (fr_value *[]){t, f})->out[0];
    fg_output(m, y);
    fg_finish(m);
    fr_freeze_opts fo = {.n_rules = 1, .rules = {{true, "^head\\."}}};
    fr_pipeline_opts po = {.freeze = &fo};
    fr_engine e = {.name = "jit", .jit = {.calls = !spec}, .pipe = &po};
    ck_assert_int_eq(fr_engine_prepare(&e, m), FR_OK);
    ck_assert(!e.interpreted);
    const fr_param_layout *L = m->graph->layout;
    ck_assert_ptr_nonnull(L);
    ck_assert_ptr_eq(w->t.data, L->block[FR_PB_TRAINABLE] + w->param_off);
    float xv[4] = {1, 1, 1, 1};
    fr_tensor xt = ft_tensor(FR_F32, 1, FT_DIMS(4), xv), *in[1] = {&xt};
    fr_tensor out[1] = {0};
    ck_assert_int_eq(fr_engine_run(&e, m, in, out), FR_OK);
    ft_check_f32(&out[0], 4, (const float[]){11, 22, 33, 44}, 0);
    ft_release(out, 1);
    float *wb = (float *)w->t.data;
    for (int i = 0; i < 4; i++) wb[i] = -wb[i]; /* a training step */
    ck_assert_int_eq(fr_engine_run(&e, m, in, out), FR_OK);
    ft_check_f32(&out[0], 4, (const float[]){9, 18, 27, 36}, 0);
    ft_release(out, 1);
    fr_engine_free(&e);
    fr_model_free(m);
  }
}
END_TEST

/* The depthwise 3x3 fast path as the JIT and artifacts run it (the
 * kernels' bitcode for the host's level: 16-wide vectors with AVX-512,
 * where frost's own kernels, which test_nn checks, are 8 wide) against
 * the general kernel, through the fused conv entry: planes at strides 1
 * and 2 with one padding, whose rows past the first are read in place,
 * rows of one vector to several blocks of four and between, and other
 * pads (the band path); epilogues in registers and not, residuals. */
START_TEST(jit_dwconv3_fast) {
  fr_jit *j;
  ck_assert_int_eq(fr_jit_new(NULL, &j), FR_OK);
  LLVMModuleRef m;
  ck_assert_int_eq(fr_jit_kernels(j, &m), FR_OK);
  ck_assert_int_eq(fr_jit_optimize(j, m, "fr_ke_conv_fused_f32"), FR_OK);
  ck_assert_int_eq(fr_jit_add(j, m), FR_OK);
  void *addr;
  ck_assert_int_eq(fr_jit_lookup(j, "fr_ke_conv_fused_f32", &addr), FR_OK);
  void (*entry)(const void *, void *const *) =
      (void (*)(const void *, void *const *))addr;
  fr_k_set_threads(1);
  /* output widths around 1, 2 and 4 vectors of 8 and 16 */
  static const int64_t ow[] = {8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 48, 63, 64,
                               65, 80, 100, 129};
  static const int acts[] = {FR_K_EPI_RELU, FR_K_EPI_NONE, FR_K_EPI_HARD_SWISH,
                             FR_K_EPI_SIGMOID};
  int n_case = 0;
  for (size_t i = 0; i < sizeof ow / sizeof ow[0]; i++)
    for (int64_t s = 1; s <= 2; s++)
      for (int64_t pad = 0; pad <= 1; pad++) {
        int64_t OW = ow[i], OH = 2 + (int64_t)(i % 4);
        /* stride 2: inputs of 2 OW (pad 1, in place) or 2 OW + 1 */
        int64_t IW = s == 1 ? OW + 2 - 2 * pad : 2 * OW + (pad ? 0 : 1);
        int64_t IH = s == 1 ? OH + 2 - 2 * pad : 2 * OH + (pad ? 0 : 1);
        int64_t C = 1 + (int64_t)(i % 3), N = 1 + (int64_t)(i % 2);
        fr_k_conv p = {N, C, C, C, {1, IH, IW}, {1, OH, OW}, {1, 3, 3}, {1, s, s},
                       {1, 1, 1}, {0, pad, pad}, {0}, 0};
        p.epi.act = acts[n_case % 4];
        if (p.epi.act == FR_K_EPI_HARD_SWISH) p.epi.a = 1 / 6.0f, p.epi.b = 0.5f;
        int64_t nx = N * C * IH * IW, ny = N * C * OH * OW;
        float *x = malloc(sizeof(float) * (size_t)nx), *w = malloc(sizeof(float) * 9 * (size_t)C);
        float *b = malloc(sizeof(float) * (size_t)C), *res = malloc(sizeof(float) * (size_t)ny);
        float *fast = malloc(sizeof(float) * (size_t)ny), *any = malloc(sizeof(float) * (size_t)ny);
        srand((unsigned)n_case);
        for (int64_t k = 0; k < nx; k++) x[k] = (float)(rand() % 2001) / 1000.0f - 1;
        for (int64_t k = 0; k < 9 * C; k++) w[k] = (float)(rand() % 2001) / 1000.0f - 1;
        for (int64_t k = 0; k < C; k++) b[k] = (float)(rand() % 2001) / 1000.0f - 1;
        for (int64_t k = 0; k < ny; k++) res[k] = (float)(rand() % 2001) / 1000.0f - 1;
        const float *r = n_case % 3 == 1 ? res : NULL;
        void *bufs[7] = {x, w, b, (void *)r, NULL, fast, NULL};
        entry(&p, bufs);
        fr_k_dwconv_any_f32(&p, x, w, b, r, any);
        for (int64_t k = 0; k < ny; k++)
          ck_assert_msg(fabsf(fast[k] - any[k]) <= 1e-5f * (1 + fabsf(any[k])),
                        "dw 3x3 %lldx%lld stride %lld pad %lld: element %lld "
                        "fast %g general %g", (long long)IH, (long long)IW,
                        (long long)s, (long long)pad, (long long)k, fast[k], any[k]);
        free(x), free(w), free(b), free(res), free(fast), free(any);
        n_case++;
      }
  fr_jit_free(j);
}
END_TEST

FT_MAIN(jit, jit_calls_kernel_with_constants, jit_unknown_cpu, jit_known_cpu,
        jit_reads_trainable_block, jit_dwconv3_fast)
