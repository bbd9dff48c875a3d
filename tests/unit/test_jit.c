/* test_jit.c: the LLVM chain end to end - embedded kernel bitcode, a caller
 * with constant sizes, O3 for the host CPU, ORC LLJIT - on the Relu kernel. */
#include <llvm-c/Core.h>
#include <llvm-c/Linker.h>
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

FT_MAIN(jit, jit_calls_kernel_with_constants, jit_unknown_cpu, jit_known_cpu,
        jit_reads_trainable_block)
