/* test_plans.c: kernel plans (runtime/plan.c, the fr_plan_* functions and
 * the fr_ke_* entries). For each family of planned ops, hand-checked cases
 * through the interpreter (which runs the plans); plans made without the
 * data of non-constant inputs (as the compiler makes them); the fused
 * Conv/Gemm/MatMul epilogues against the unfused ops run one after
 * another; and plans compiled by LLVM (the params block a constant global,
 * the entry called with a bufs array, optimized for the host) against the
 * interpreter. */
#include <math.h>
#include <string.h>

#include <llvm-c/Core.h>

#include "testutil.h"

/* ---- helpers --------------------------------------------------------- */

/* Turns input i of the case into an initializer holding t (not copied). */
static void make_const(ft_case *c, int i, fr_tensor t) {
  fr_graph *g = c->m->graph;
  fr_value *v = c->n->in[i];
  int k = 0;
  for (int j = 0; j < g->n_inputs; j++)
    if (g->inputs[j] != v) g->inputs[k++] = g->inputs[j];
  g->n_inputs = k;
  v->flags = FR_V_CONST;
  v->t = t;
  if (!g->inits) g->inits = fr_arena_alloc(&c->m->arena, sizeof(fr_value *) * 8);
  g->inits[g->n_inits++] = v;
}

/* Omits input i of the case. */
static void omit(ft_case *c, int i) {
  fr_graph *g = c->m->graph;
  int k = 0;
  for (int j = 0; j < g->n_inputs; j++)
    if (g->inputs[j] != c->n->in[i]) g->inputs[k++] = g->inputs[j];
  g->n_inputs = k;
  c->n->in[i] = NULL;
}

static fr_tensor f32v(int n, float *v) { return ft_tensor(FR_F32, 1, FT_DIMS(n), v); }
static fr_tensor i64v(int n, int64_t *v) { return ft_tensor(FR_I64, 1, FT_DIMS(n), v); }

/* Runs c on in (its graph inputs) and checks output 0 against want. */
static void run_f32(ft_case *c, fr_tensor *in, int n, const float *want) {
  fr_tensor out[4];
  fr_status st = ft_run(c, in, out);
  ck_assert_msg(st == FR_OK, "%s", fr_err_msg());
  ft_check_f32(&out[0], n, want, 1e-5f);
  ft_release(out, c->n->n_out);
}

static void check_bytes(const fr_tensor *t, fr_dtype dt, int n, const void *want) {
  ck_assert_int_eq(t->dtype, dt);
  ck_assert_int_eq(fr_tensor_numel(t), n);
  ck_assert_msg(!memcmp(t->data, want, (size_t)n * fr_dtype_size(dt)),
                "bytes differ");
}

/* A one-input map op on f32 values. */
static void unary_f32(const char *op, int opset, int n, float *x,
                      const float *want) {
  ft_case *c = ft_new(op, opset, 1, 1, 2);
  fr_tensor in = f32v(n, x);
  run_f32(c, &in, n, want);
  ft_free(c);
}

/* Deterministic pseudo-random floats in [-1, 1). */
static void fill_rand(float *p, int64_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    p[i] = (float)(s >> 8) / (float)(1 << 23) - 1.0f;
  }
}

static float *frand(int64_t n, uint32_t seed) {
  float *p = fr_malloc(sizeof(float) * (size_t)(n ? n : 1));
  ck_assert_ptr_nonnull(p);
  fill_rand(p, n, seed);
  return p;
}

/* A planned call of c's node made by hand (after ft_run inferred the
 * shapes): in are the input tensors (data may be NULL: not known when
 * planning), outputs allocated from the inferred shapes. */
typedef struct call {
  fr_kplan *kp;
  fr_tensor out[4];
  void *scratch;
  void *bufs[16];
} call;

static fr_status plan_call(ft_case *c, fr_tensor *in, call *k) {
  fr_node *n = c->n;
  memset(k, 0, sizeof *k);
  k->kp = fr_calloc(1, sizeof *k->kp);
  fr_tensor *ip[8], *op[4];
  for (int i = 0; i < n->n_in; i++) ip[i] = n->in[i] ? &in[i] : NULL;
  for (int i = 0; i < n->n_out; i++) {
    k->out[i] = n->out[i]->t;
    ck_assert_int_eq(fr_tensor_alloc(&k->out[i]), FR_OK);
    op[i] = &k->out[i];
  }
  return fr_rt_ops[n->op].plan(n, ip, op, k->kp);
}

/* bufs in the op's layout, with the data of full (inputs given in full). */
static void call_bufs(ft_case *c, fr_tensor *full, call *k) {
  fr_node *n = c->n;
  int slots = fr_kplan_in_slots(n), outs = fr_kplan_out_slots(n);
  for (int i = 0; i < slots; i++)
    k->bufs[i] = i < n->n_in && n->in[i] ? full[i].data : NULL;
  for (int i = 0; i < outs; i++)
    k->bufs[slots + i] = i < n->n_out ? k->out[i].data : NULL;
  k->scratch = k->kp->scratch ? fr_malloc(k->kp->scratch) : NULL;
  k->bufs[slots + outs] = k->scratch;
}

static void call_free(call *k) {
  for (int i = 0; i < 4; i++) fr_tensor_release(&k->out[i]);
  fr_free(k->scratch);
  fr_free(k->kp);
}

/* ---- elementwise ------------------------------------------------------- */

START_TEST(plan_unary) {
  unary_f32("Relu", 14, 3, (float[]){-1, 0, 2}, (float[]){0, 0, 2});
  unary_f32("Sigmoid", 13, 2, (float[]){0, 1}, (float[]){0.5f, 0.7310586f});
  unary_f32("Tanh", 13, 2, (float[]){0, 1}, (float[]){0, 0.7615942f});
  unary_f32("HardSwish", 14, 4, (float[]){-4, 0, 3, 1},
            (float[]){0, 0, 3, 1.0f / 1.5f});
  unary_f32("Elu", 6, 2, (float[]){-1, 2}, (float[]){expf(-1) - 1, 2});
  unary_f32("Softplus", 1, 1, (float[]){0}, (float[]){logf(2)});
  unary_f32("Erf", 13, 2, (float[]){0, 1}, (float[]){0, 0.8427008f});
  unary_f32("Reciprocal", 13, 2, (float[]){4, -0.5f}, (float[]){0.25f, -2});
  unary_f32("Floor", 13, 2, (float[]){1.5f, -1.5f}, (float[]){1, -2});
  unary_f32("Ceil", 13, 2, (float[]){1.5f, -1.5f}, (float[]){2, -1});
  unary_f32("Log", 13, 1, (float[]){1}, (float[]){0});
  unary_f32("Exp", 13, 1, (float[]){0}, (float[]){1});
  unary_f32("Sqrt", 13, 1, (float[]){9}, (float[]){3});
  ft_case *c = ft_new("LeakyRelu", 16, 1, 1, 1);
  ft_attr_f(c, "alpha", 0.1f);
  fr_tensor in = f32v(3, (float[]){-1, 0, 2});
  run_f32(c, &in, 3, (float[]){-0.1f, 0, 2});
  ft_free(c);
  c = ft_new("HardSigmoid", 6, 1, 1, 2);
  ft_attr_f(c, "alpha", 0.2f);
  ft_attr_f(c, "beta", 0.5f);
  in = f32v(3, (float[]){-5, 0, 1});
  run_f32(c, &in, 3, (float[]){0, 0.5f, 0.7f});
  ft_free(c);
  c = ft_new("Selu", 6, 1, 1, 2);
  ft_attr_f(c, "alpha", 2.0f);
  ft_attr_f(c, "gamma", 3.0f);
  in = f32v(2, (float[]){-1, 1});
  run_f32(c, &in, 2, (float[]){3 * 2 * (expf(-1) - 1), 3});
  ft_free(c);
  /* integers with a kernel of their own */
  c = ft_new("Abs", 13, 1, 1, 0);
  int32_t xi[] = {-3, 4, INT32_MIN + 1};
  in = ft_tensor(FR_I32, 1, FT_DIMS(3), xi);
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, &in, out), FR_OK);
  check_bytes(out, FR_I32, 3, (int32_t[]){3, 4, INT32_MAX});
  ft_release(out, 1);
  ft_free(c);
  /* f16 through f32 in scratch */
  c = ft_new("Neg", 13, 1, 1, 0);
  uint16_t h[] = {fr_f32_to_f16(1.5f), fr_f32_to_f16(-2)};
  in = ft_tensor(FR_F16, 1, FT_DIMS(2), h);
  ck_assert_int_eq(ft_run(c, &in, out), FR_OK);
  check_bytes(out, FR_F16, 2,
              (uint16_t[]){fr_f32_to_f16(-1.5f), fr_f32_to_f16(2)});
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("Sqrt", 13, 1, 1, 0);
  uint16_t b[] = {fr_f32_to_bf16(16), fr_f32_to_bf16(0.25f)};
  in = ft_tensor(FR_BF16, 1, FT_DIMS(2), b);
  ck_assert_int_eq(ft_run(c, &in, out), FR_OK);
  check_bytes(out, FR_BF16, 2,
              (uint16_t[]){fr_f32_to_bf16(4), fr_f32_to_bf16(0.5f)});
  ft_release(out, 1);
  ft_free(c);
  /* IsNaN on f32, IsInf (positive only) on f16 */
  c = ft_new("IsNaN", 13, 1, 1, 0);
  in = f32v(2, (float[]){1, NAN});
  ck_assert_int_eq(ft_run(c, &in, out), FR_OK);
  check_bytes(out, FR_BOOL, 2, (uint8_t[]){0, 1});
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("IsInf", 10, 1, 1, 1);
  ft_attr_i(c, "detect_negative", 0);
  uint16_t hi[] = {fr_f32_to_f16(INFINITY), fr_f32_to_f16(-INFINITY),
                   fr_f32_to_f16(1)};
  in = ft_tensor(FR_F16, 1, FT_DIMS(3), hi);
  ck_assert_int_eq(ft_run(c, &in, out), FR_OK);
  check_bytes(out, FR_BOOL, 3, (uint8_t[]){1, 0, 0});
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(plan_clip) {
  /* bounds as inputs */
  ft_case *c = ft_new("Clip", 13, 3, 1, 0);
  fr_tensor in[3] = {f32v(3, (float[]){-2, 0.5f, 3}),
                     ft_tensor(FR_F32, 0, NULL, (float[]){-1}),
                     ft_tensor(FR_F32, 0, NULL, (float[]){1})};
  run_f32(c, in, 3, (float[]){-1, 0.5f, 1});
  /* the same plan made without the bounds' data: read at run time */
  call k;
  fr_tensor nod[3] = {in[0], in[1], in[2]};
  nod[1].data = nod[2].data = NULL;
  ck_assert_int_eq(plan_call(c, nod, &k), FR_OK);
  call_bufs(c, in, &k);
  k.kp->fn(k.kp->params, k.bufs);
  ft_check_f32(&k.out[0], 3, (float[]){-1, 0.5f, 1}, 0);
  call_free(&k);
  ft_free(c);
  /* int32 with only a lower bound */
  c = ft_new("Clip", 13, 3, 1, 0);
  omit(c, 2);
  int32_t xi[] = {-5, 5}, lo = 0;
  fr_tensor ii[2] = {ft_tensor(FR_I32, 1, FT_DIMS(2), xi),
                     ft_tensor(FR_I32, 0, NULL, &lo)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, ii, out), FR_OK);
  check_bytes(out, FR_I32, 2, (int32_t[]){0, 5});
  ft_release(out, 1);
  ft_free(c);
  /* attributes before opset 11 */
  c = ft_new("Clip", 6, 1, 1, 2);
  ft_attr_f(c, "min", 0);
  ft_attr_f(c, "max", 2);
  in[0] = f32v(3, (float[]){-1, 1, 3});
  run_f32(c, in, 3, (float[]){0, 1, 2});
  ft_free(c);
  /* f16 with an upper bound only */
  c = ft_new("Clip", 13, 3, 1, 0);
  omit(c, 1);
  uint16_t h[] = {fr_f32_to_f16(-2), fr_f32_to_f16(3)}, hb = fr_f32_to_f16(1);
  fr_tensor hh[2] = {ft_tensor(FR_F16, 1, FT_DIMS(2), h),
                     ft_tensor(FR_F16, 0, NULL, &hb)};
  ck_assert_int_eq(ft_run(c, hh, out), FR_OK);
  check_bytes(out, FR_F16, 2, (uint16_t[]){fr_f32_to_f16(-2), hb});
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(plan_binary) {
  /* (2, 3) + (3) */
  ft_case *c = ft_new("Add", 14, 2, 1, 0);
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), (float[]){1, 2, 3, 4, 5, 6}),
                     f32v(3, (float[]){10, 20, 30})};
  run_f32(c, in, 6, (float[]){11, 22, 33, 14, 25, 36});
  ft_free(c);
  /* (2, 1) - (1, 3) */
  c = ft_new("Sub", 14, 2, 1, 0);
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 1), (float[]){1, 2});
  in[1] = ft_tensor(FR_F32, 2, FT_DIMS(1, 3), (float[]){1, 2, 3});
  run_f32(c, in, 6, (float[]){0, -1, -2, 1, 0, -1});
  ft_free(c);
  /* integer division by zero gives 0 */
  c = ft_new("Div", 14, 2, 1, 0);
  int32_t a[] = {7, -7}, d[] = {2, 0};
  in[0] = ft_tensor(FR_I32, 1, FT_DIMS(2), a);
  in[1] = ft_tensor(FR_I32, 1, FT_DIMS(2), d);
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_I32, 2, (int32_t[]){3, 0});
  ft_release(out, 1);
  ft_free(c);
  /* Pow: integer base, float exponent: f64 in scratch, truncated */
  c = ft_new("Pow", 15, 2, 1, 0);
  int32_t base[] = {2, 3};
  in[0] = ft_tensor(FR_I32, 1, FT_DIMS(2), base);
  in[1] = f32v(2, (float[]){2, 0.5f});
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_I32, 2, (int32_t[]){4, 1});
  ft_release(out, 1);
  ft_free(c);
  /* Pow: float base, integer exponent */
  c = ft_new("Pow", 15, 2, 1, 0);
  int64_t e[] = {3};
  in[0] = f32v(2, (float[]){2, -1.5f});
  in[1] = i64v(1, e);
  run_f32(c, in, 2, (float[]){8, -3.375f});
  ft_free(c);
  /* comparisons give bool */
  c = ft_new("Equal", 13, 2, 1, 0);
  int64_t l[] = {1, 2, 3}, r[] = {2};
  in[0] = i64v(3, l);
  in[1] = i64v(1, r);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_BOOL, 3, (uint8_t[]){0, 1, 0});
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("Greater", 13, 2, 1, 0);
  uint16_t h1[] = {fr_f32_to_f16(1), fr_f32_to_f16(3)}, h2[] = {fr_f32_to_f16(2)};
  in[0] = ft_tensor(FR_F16, 1, FT_DIMS(2), h1);
  in[1] = ft_tensor(FR_F16, 1, FT_DIMS(1), h2);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_BOOL, 2, (uint8_t[]){0, 1});
  ft_release(out, 1);
  ft_free(c);
  /* f16 arithmetic through f32 */
  c = ft_new("Mul", 14, 2, 1, 0);
  uint16_t m1[] = {fr_f32_to_f16(1.5f), fr_f32_to_f16(2)},
           m2[] = {fr_f32_to_f16(2), fr_f32_to_f16(0.25f)};
  in[0] = ft_tensor(FR_F16, 1, FT_DIMS(2), m1);
  in[1] = ft_tensor(FR_F16, 1, FT_DIMS(2), m2);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_F16, 2,
              (uint16_t[]){fr_f32_to_f16(3), fr_f32_to_f16(0.5f)});
  ft_release(out, 1);
  ft_free(c);
  /* PRelu */
  c = ft_new("PRelu", 16, 2, 1, 0);
  in[0] = f32v(2, (float[]){-2, 3});
  in[1] = f32v(1, (float[]){0.5f});
  run_f32(c, in, 2, (float[]){-1, 3});
  ft_free(c);
  /* the legacy broadcast of opset < 7: b along axis 0 of a */
  c = ft_new("Add", 6, 2, 1, 2);
  ft_attr_i(c, "broadcast", 1);
  ft_attr_i(c, "axis", 0);
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 2), (float[]){1, 2, 3, 4});
  in[1] = f32v(2, (float[]){10, 20});
  run_f32(c, in, 4, (float[]){11, 12, 23, 24});
  ft_free(c);
  /* mixed types outside Pow are refused */
  c = ft_new("Add", 14, 2, 1, 0);
  in[0] = f32v(1, (float[]){1});
  in[1] = i64v(1, e);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ck_assert_msg(strstr(fr_err_msg(), "operands are f32 and i64"), "%s", fr_err_msg());
  ft_free(c);
}
END_TEST

START_TEST(plan_variadic) {
  /* Max of (2, 2), (2), (1) */
  ft_case *c = ft_new("Max", 13, 3, 1, 0);
  fr_tensor in[3] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 2), (float[]){1, 5, 3, 2}),
                     f32v(2, (float[]){4, 0}), f32v(1, (float[]){2.5f})};
  run_f32(c, in, 4, (float[]){4, 5, 4, 2.5f});
  ft_free(c);
  /* broadcast along different dims: (2, 1) and (1, 3) */
  c = ft_new("Min", 13, 2, 1, 0);
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 1), (float[]){1, 5});
  in[1] = ft_tensor(FR_F32, 2, FT_DIMS(1, 3), (float[]){0, 2, 6});
  run_f32(c, in, 6, (float[]){0, 1, 1, 0, 2, 5});
  ft_free(c);
  c = ft_new("Mean", 13, 2, 1, 0);
  in[0] = f32v(2, (float[]){1, 2});
  in[1] = f32v(2, (float[]){3, 5});
  run_f32(c, in, 2, (float[]){2, 3.5f});
  ft_free(c);
  /* f16 accumulates in f32 */
  c = ft_new("Sum", 13, 3, 1, 0);
  uint16_t a[] = {fr_f32_to_f16(1), fr_f32_to_f16(2), fr_f32_to_f16(3),
                  fr_f32_to_f16(4)},
           b[] = {fr_f32_to_f16(0.5f), fr_f32_to_f16(0.25f)},
           one = fr_f32_to_f16(1);
  in[0] = ft_tensor(FR_F16, 2, FT_DIMS(2, 2), a);
  in[1] = ft_tensor(FR_F16, 1, FT_DIMS(2), b);
  in[2] = ft_tensor(FR_F16, 1, FT_DIMS(1), &one);
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_F16, 4,
              (uint16_t[]){fr_f32_to_f16(2.5f), fr_f32_to_f16(3.25f),
                           fr_f32_to_f16(4.5f), fr_f32_to_f16(5.25f)});
  ft_release(out, 1);
  ft_free(c);
  /* one input: a copy; integer Mean is refused */
  c = ft_new("Min", 13, 1, 1, 0);
  int32_t x[] = {3, -1};
  in[0] = ft_tensor(FR_I32, 1, FT_DIMS(2), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_I32, 2, x);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("Mean", 13, 2, 1, 0);
  in[1] = in[0];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ck_assert_msg(strstr(fr_err_msg(), "data type i32 is not allowed"), "%s",
                fr_err_msg());
  ft_free(c);
}
END_TEST

START_TEST(plan_where_cast) {
  ft_case *c = ft_new("Where", 16, 3, 1, 0);
  uint8_t cond[] = {1, 0};
  fr_tensor in[3] = {ft_tensor(FR_BOOL, 1, FT_DIMS(2), cond),
                     ft_tensor(FR_F32, 2, FT_DIMS(2, 2), (float[]){1, 2, 3, 4}),
                     f32v(1, (float[]){9})};
  run_f32(c, in, 4, (float[]){1, 9, 3, 9});
  ft_free(c);
  fr_tensor out[1];
  c = ft_new("Cast", 13, 1, 1, 1);
  ft_attr_i(c, "to", FR_I32);
  in[0] = f32v(2, (float[]){1.7f, -2.5f});
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_I32, 2, (int32_t[]){1, -2});
  ft_release(out, 1);
  ft_free(c);
  /* to bf16 before opset 19 truncates; from f16 through f32 in scratch */
  float v = 1.005859375f; /* 0x3F80C000: rounds to 0x3F81, truncates to 0x3F80 */
  c = ft_new("Cast", 13, 1, 1, 1);
  ft_attr_i(c, "to", FR_BF16);
  in[0] = f32v(1, &v);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_BF16, 1, (uint16_t[]){0x3F80});
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("Cast", 13, 1, 1, 1);
  ft_attr_i(c, "to", FR_BF16);
  uint16_t h = fr_f32_to_f16(-2);
  in[0] = ft_tensor(FR_F16, 1, FT_DIMS(1), &h);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_BF16, 1, (uint16_t[]){0xC000});
  ft_release(out, 1);
  ft_free(c);
  /* CastLike: y in slot 2 */
  c = ft_new("CastLike", 15, 2, 1, 0);
  int64_t like = 0;
  in[0] = f32v(2, (float[]){3.9f, -1});
  in[1] = i64v(1, &like);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_bytes(out, FR_I64, 2, (int64_t[]){3, -1});
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- movement ---------------------------------------------------------- */

START_TEST(plan_movement) {
  fr_tensor out[3];
  /* Reshape: a copy whose plan says the output may share the input */
  ft_case *c = ft_new("Reshape", 14, 2, 1, 0);
  int64_t shape[] = {3, 2};
  make_const(c, 1, i64v(2, shape));
  fr_tensor x = ft_tensor(FR_F32, 2, FT_DIMS(2, 3), (float[]){1, 2, 3, 4, 5, 6});
  run_f32(c, &x, 6, (float[]){1, 2, 3, 4, 5, 6});
  fr_tensor rin[2] = {x, i64v(2, shape)};
  call k;
  ck_assert_int_eq(plan_call(c, rin, &k), FR_OK);
  ck_assert(k.kp->alias);
  ck_assert_str_eq(k.kp->entry, "fr_ke_copy");
  call_free(&k);
  ft_free(c);
  /* Transpose (2, 3) -> (3, 2) */
  c = ft_new("Transpose", 13, 1, 1, 0);
  run_f32(c, &x, 6, (float[]){1, 4, 2, 5, 3, 6});
  ft_free(c);
  /* Slice [1, 3) of 4, and a negative step */
  c = ft_new("Slice", 13, 5, 1, 0);
  int64_t st[] = {1}, en[] = {3}, ax[] = {0}, sp[] = {1};
  make_const(c, 1, i64v(1, st));
  make_const(c, 2, i64v(1, en));
  make_const(c, 3, i64v(1, ax));
  make_const(c, 4, i64v(1, sp));
  x = f32v(4, (float[]){1, 2, 3, 4});
  run_f32(c, &x, 2, (float[]){2, 3});
  ft_free(c);
  c = ft_new("Slice", 13, 5, 1, 0);
  int64_t st2[] = {-1}, en2[] = {-5}, sp2[] = {-2};
  make_const(c, 1, i64v(1, st2));
  make_const(c, 2, i64v(1, en2));
  make_const(c, 3, i64v(1, ax));
  make_const(c, 4, i64v(1, sp2));
  run_f32(c, &x, 2, (float[]){4, 2});
  ft_free(c);
  /* Expand (1, 3) -> (2, 3); Tile [1, 2] x 2 */
  c = ft_new("Expand", 13, 2, 1, 0);
  int64_t es[] = {2, 3};
  make_const(c, 1, i64v(2, es));
  x = ft_tensor(FR_F32, 2, FT_DIMS(1, 3), (float[]){1, 2, 3});
  run_f32(c, &x, 6, (float[]){1, 2, 3, 1, 2, 3});
  ft_free(c);
  c = ft_new("Tile", 13, 2, 1, 0);
  int64_t rep[] = {2};
  make_const(c, 1, i64v(1, rep));
  x = f32v(2, (float[]){1, 2});
  run_f32(c, &x, 4, (float[]){1, 2, 1, 2});
  ft_free(c);
  /* Concat along axis 1 of (2, 1) and (2, 2) */
  c = ft_new("Concat", 13, 2, 1, 1);
  ft_attr_i(c, "axis", 1);
  fr_tensor cc[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 1), (float[]){1, 2}),
                     ft_tensor(FR_F32, 2, FT_DIMS(2, 2), (float[]){3, 4, 5, 6})};
  run_f32(c, cc, 6, (float[]){1, 3, 4, 2, 5, 6});
  ft_free(c);
  /* Split of 6 into 1, 2, 3: outputs in bufs after the 2 input slots */
  c = ft_new("Split", 13, 2, 3, 0);
  int64_t parts[] = {1, 2, 3};
  make_const(c, 1, i64v(3, parts));
  x = f32v(6, (float[]){1, 2, 3, 4, 5, 6});
  ck_assert_int_eq(ft_run(c, &x, out), FR_OK);
  ft_check_f32(&out[0], 1, (float[]){1}, 0);
  ft_check_f32(&out[1], 2, (float[]){2, 3}, 0);
  ft_check_f32(&out[2], 3, (float[]){4, 5, 6}, 0);
  ft_release(out, 3);
  ck_assert_int_eq(fr_kplan_out_slots(c->n), 3);
  ft_free(c);
  /* Pad: reflect, and a constant read at run time */
  c = ft_new("Pad", 13, 2, 1, 1);
  ft_attr_s(c, "mode", "reflect");
  int64_t pads[] = {2, 1};
  make_const(c, 1, i64v(2, pads));
  x = f32v(3, (float[]){1, 2, 3});
  run_f32(c, &x, 6, (float[]){3, 2, 1, 2, 3, 2});
  ft_free(c);
  c = ft_new("Pad", 13, 3, 1, 0);
  make_const(c, 1, i64v(2, pads));
  float cv = 9;
  fr_tensor pin[3] = {x, i64v(2, pads), ft_tensor(FR_F32, 0, NULL, &cv)};
  fr_tensor gin[2] = {x, pin[2]};
  run_f32(c, gin, 6, (float[]){9, 9, 1, 2, 3, 9});
  fr_tensor nod[3] = {pin[0], pin[1], pin[2]};
  nod[0].data = nod[2].data = NULL;
  ck_assert_int_eq(plan_call(c, nod, &k), FR_OK);
  call_bufs(c, pin, &k);
  k.kp->fn(k.kp->params, k.bufs);
  ft_check_f32(&k.out[0], 6, (float[]){9, 9, 1, 2, 3, 9}, 0);
  call_free(&k);
  ft_free(c);
  /* Gather rows -1 and 0 of (3, 2); a bad index is an error when known, a
   * row of zeros when the entry meets it */
  c = ft_new("Gather", 13, 2, 1, 0);
  int64_t idx[] = {-1, 0};
  fr_tensor gi[2] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 2), (float[]){1, 2, 3, 4, 5, 6}),
                     i64v(2, idx)};
  run_f32(c, gi, 4, (float[]){5, 6, 1, 2});
  idx[1] = 3;
  ck_assert_int_eq(ft_run(c, gi, out), FR_ERR_INVALID);
  fr_tensor gn[2] = {gi[0], gi[1]};
  gn[0].data = gn[1].data = NULL;
  ck_assert_int_eq(plan_call(c, gn, &k), FR_OK);
  call_bufs(c, gi, &k);
  k.kp->fn(k.kp->params, k.bufs);
  ft_check_f32(&k.out[0], 4, (float[]){5, 6, 0, 0}, 0);
  call_free(&k);
  ft_free(c);
  /* Identity on strings: the output owns its copies */
  c = ft_new("Identity", 13, 1, 1, 0);
  char *s[] = {"ab", "c"};
  x = ft_tensor(FR_STRING, 1, FT_DIMS(2), s);
  ck_assert_int_eq(ft_run(c, &x, out), FR_OK);
  char **o = out[0].data;
  ck_assert_str_eq(o[0], "ab");
  ck_assert_str_eq(o[1], "c");
  ck_assert_ptr_ne(o[0], s[0]);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- reductions and normalizations --------------------------------------- */

START_TEST(plan_reduce) {
  fr_tensor out[2];
  fr_tensor x = ft_tensor(FR_F32, 2, FT_DIMS(2, 3), (float[]){1, 2, 3, 4, 5, 9});
  ft_case *c = ft_new("ReduceMean", 13, 1, 1, 1);
  ft_attr_ints(c, "axes", 1, (int64_t[]){1});
  run_f32(c, &x, 2, (float[]){2, 6});
  ft_free(c);
  c = ft_new("ReduceSum", 13, 2, 1, 1);
  ft_attr_i(c, "keepdims", 0);
  int64_t ax[] = {0};
  make_const(c, 1, i64v(1, ax));
  run_f32(c, &x, 3, (float[]){5, 7, 12});
  ft_free(c);
  c = ft_new("ReduceMax", 13, 1, 1, 1);
  ft_attr_i(c, "keepdims", 0);
  int32_t xi[] = {3, -1, 7, 2};
  fr_tensor ti = ft_tensor(FR_I32, 2, FT_DIMS(2, 2), xi);
  ck_assert_int_eq(ft_run(c, &ti, out), FR_OK);
  check_bytes(out, FR_I32, 1, (int32_t[]){7});
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("ReduceLogSumExp", 13, 1, 1, 1);
  ft_attr_ints(c, "axes", 1, (int64_t[]){1});
  fr_tensor z = ft_tensor(FR_F32, 2, FT_DIMS(1, 2), (float[]){0, 0});
  run_f32(c, &z, 1, (float[]){logf(2)});
  ft_free(c);
  c = ft_new("ArgMax", 13, 1, 1, 1);
  ft_attr_i(c, "axis", 1);
  ck_assert_int_eq(ft_run(c, &x, out), FR_OK);
  check_bytes(out, FR_I64, 2, (int64_t[]){2, 2});
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("Softmax", 13, 1, 1, 0);
  fr_tensor sm = f32v(2, (float[]){0, logf(3)});
  run_f32(c, &sm, 2, (float[]){0.25f, 0.75f});
  ft_free(c);
  c = ft_new("LogSoftmax", 13, 1, 1, 1);
  ft_attr_i(c, "axis", 0);
  fr_tensor col = ft_tensor(FR_F32, 2, FT_DIMS(2, 1), (float[]){0, 0});
  run_f32(c, &col, 2, (float[]){-logf(2), -logf(2)});
  ft_free(c);
  c = ft_new("CumSum", 14, 2, 1, 0);
  int64_t axis = 0;
  make_const(c, 1, ft_tensor(FR_I64, 0, NULL, &axis));
  fr_tensor cs = f32v(3, (float[]){1, 2, 3});
  run_f32(c, &cs, 3, (float[]){1, 3, 6});
  ft_free(c);
  c = ft_new("TopK", 11, 2, 2, 0);
  int64_t kk[] = {2};
  make_const(c, 1, i64v(1, kk));
  fr_tensor tk = f32v(4, (float[]){3, 9, 1, 5});
  ck_assert_int_eq(ft_run(c, &tk, out), FR_OK);
  ft_check_f32(&out[0], 2, (float[]){9, 5}, 0);
  check_bytes(&out[1], FR_I64, 2, (int64_t[]){1, 3});
  ft_release(out, 2);
  /* with the indices omitted: written to scratch */
  fr_tensor tin[2] = {tk, i64v(1, kk)};
  call k;
  c->n->n_out = 1;
  ck_assert_int_eq(plan_call(c, tin, &k), FR_OK);
  call_bufs(c, tin, &k);
  ck_assert_ptr_null(k.bufs[3]);
  k.kp->fn(k.kp->params, k.bufs);
  ft_check_f32(&k.out[0], 2, (float[]){9, 5}, 0);
  call_free(&k);
  c->n->n_out = 2;
  ft_free(c);
}
END_TEST

START_TEST(plan_norm) {
  /* BatchNormalization (1, 2, 1, 2), eps 0 */
  ft_case *c = ft_new("BatchNormalization", 15, 5, 1, 1);
  ft_attr_f(c, "epsilon", 0);
  fr_tensor in[5] = {
      ft_tensor(FR_F32, 4, FT_DIMS(1, 2, 1, 2), (float[]){1, 2, 3, 4}),
      f32v(2, (float[]){1, 2}), f32v(2, (float[]){0, 1}),
      f32v(2, (float[]){1, 3}), f32v(2, (float[]){4, 1})};
  run_f32(c, in, 4, (float[]){0, 0.5f, 1, 3});
  ft_free(c);
  /* InstanceNormalization (1, 1, 2), eps 0: mean 2, var 1 */
  c = ft_new("InstanceNormalization", 6, 3, 1, 1);
  ft_attr_f(c, "epsilon", 0);
  in[0] = ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 2), (float[]){1, 3});
  in[1] = f32v(1, (float[]){2});
  in[2] = f32v(1, (float[]){1});
  run_f32(c, in, 2, (float[]){-1, 3});
  ft_free(c);
  /* LayerNormalization (2, 2) with a scale of (1), expanded in scratch */
  c = ft_new("LayerNormalization", 17, 3, 1, 1);
  ft_attr_f(c, "epsilon", 0);
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 2), (float[]){1, 3, 0, 4});
  in[1] = f32v(1, (float[]){2});
  in[2] = f32v(2, (float[]){0, 1});
  run_f32(c, in, 4, (float[]){-2, 3, -2, 3});
  ft_free(c);
  /* LRN of size 1: x / (1 + alpha x^2)^beta */
  c = ft_new("LRN", 13, 1, 1, 3);
  ft_attr_i(c, "size", 1);
  ft_attr_f(c, "alpha", 1);
  ft_attr_f(c, "beta", 1);
  in[0] = ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 1, 2), (float[]){1, 2});
  run_f32(c, in, 2, (float[]){0.5f, 0.4f});
  ft_free(c);
}
END_TEST

/* ---- nn ---------------------------------------------------------------- */

START_TEST(plan_pool) {
  fr_tensor x = ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 4),
                          (float[]){1, 2, 3, 4, 5, 6, 7, 8});
  fr_tensor out[2];
  ft_case *c = ft_new("MaxPool", 12, 1, 1, 2);
  ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){2, 2});
  ft_attr_ints(c, "strides", 2, (int64_t[]){2, 2});
  run_f32(c, &x, 2, (float[]){6, 8});
  ft_free(c);
  c = ft_new("MaxPool", 12, 1, 2, 2);
  ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){2, 2});
  ft_attr_ints(c, "strides", 2, (int64_t[]){2, 2});
  ck_assert_int_eq(ft_run(c, &x, out), FR_OK);
  ft_check_f32(&out[0], 2, (float[]){6, 8}, 0);
  check_bytes(&out[1], FR_I64, 2, (int64_t[]){5, 7});
  ft_release(out, 2);
  ft_free(c);
  c = ft_new("AveragePool", 11, 1, 1, 2);
  ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){2, 2});
  ft_attr_ints(c, "strides", 2, (int64_t[]){2, 2});
  run_f32(c, &x, 2, (float[]){3.5f, 5.5f});
  ft_free(c);
  c = ft_new("GlobalAveragePool", 1, 1, 1, 0);
  run_f32(c, &x, 1, (float[]){4.5f});
  ft_free(c);
  c = ft_new("GlobalMaxPool", 1, 1, 1, 0);
  run_f32(c, &x, 1, (float[]){8});
  ft_free(c);
  /* uint8 max pooling */
  c = ft_new("MaxPool", 12, 1, 1, 1);
  ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){1, 2});
  uint8_t u[] = {1, 200, 3, 4};
  fr_tensor xu = ft_tensor(FR_U8, 4, FT_DIMS(1, 1, 1, 4), u);
  ck_assert_int_eq(ft_run(c, &xu, out), FR_OK);
  check_bytes(out, FR_U8, 3, (uint8_t[]){200, 200, 4});
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(plan_gemm) {
  /* A (2, 3), B (3, 2): A B = [[4, 5], [10, 11]] */
  float A[] = {1, 2, 3, 4, 5, 6}, B[] = {1, 0, 0, 1, 1, 1};
  fr_tensor in[3] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), A),
                     ft_tensor(FR_F32, 2, FT_DIMS(3, 2), B),
                     f32v(2, (float[]){10, 20})};
  /* C (2): a column bias */
  ft_case *c = ft_new("Gemm", 13, 3, 1, 0);
  run_f32(c, in, 4, (float[]){14, 25, 20, 31});
  ft_free(c);
  /* C (2, 1): a row bias */
  c = ft_new("Gemm", 13, 3, 1, 0);
  in[2] = ft_tensor(FR_F32, 2, FT_DIMS(2, 1), (float[]){10, 20});
  run_f32(c, in, 4, (float[]){14, 15, 30, 31});
  ft_free(c);
  /* a scalar C with beta 2 and alpha 0.5, B transposed: filled first */
  c = ft_new("Gemm", 13, 3, 1, 3);
  ft_attr_f(c, "alpha", 0.5f);
  ft_attr_f(c, "beta", 2);
  ft_attr_i(c, "transB", 1);
  in[1] = ft_tensor(FR_F32, 2, FT_DIMS(2, 3), (float[]){1, 0, 1, 0, 1, 1});
  in[2] = f32v(1, (float[]){1});
  run_f32(c, in, 4, (float[]){4, 4.5f, 7, 7.5f});
  ft_free(c);
  /* no C */
  c = ft_new("Gemm", 13, 2, 1, 0);
  in[1] = ft_tensor(FR_F32, 2, FT_DIMS(3, 2), B);
  run_f32(c, in, 4, (float[]){4, 5, 10, 11});
  ft_free(c);
  /* MatMul (2, 1, 3) x (3, 2): batches folded into M; (2) x (2, 1, 2) */
  c = ft_new("MatMul", 13, 2, 1, 0);
  in[0] = ft_tensor(FR_F32, 3, FT_DIMS(2, 1, 3), A);
  run_f32(c, in, 4, (float[]){4, 5, 10, 11});
  ft_free(c);
  c = ft_new("MatMul", 13, 2, 1, 0);
  in[0] = f32v(2, (float[]){1, 2});
  in[1] = ft_tensor(FR_F32, 3, FT_DIMS(2, 2, 1), (float[]){1, 1, 2, 3});
  run_f32(c, in, 2, (float[]){3, 8});
  ft_free(c);
}
END_TEST

START_TEST(plan_resize_convt) {
  ft_case *c = ft_new("Resize", 13, 3, 1, 0);
  omit(c, 1);
  float sc[] = {1, 1, 1, 2};
  make_const(c, 2, f32v(4, sc));
  fr_tensor x = ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 1, 2), (float[]){1, 2});
  run_f32(c, &x, 4, (float[]){1, 1, 2, 2});
  ft_free(c);
  c = ft_new("ConvTranspose", 11, 2, 1, 0);
  fr_tensor in[2] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 2), (float[]){1, 2}),
                     ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 2), (float[]){1, 1})};
  run_f32(c, in, 3, (float[]){1, 3, 2});
  ft_free(c);
  /* Conv itself: 1-D, kernel [1, -1] */
  c = ft_new("Conv", 11, 2, 1, 0);
  in[0] = ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 3), (float[]){1, 4, 9});
  in[1] = ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 2), (float[]){1, -1});
  run_f32(c, in, 2, (float[]){-3, -5});
  ft_free(c);
}
END_TEST

/* ---- fused epilogues --------------------------------------------------- */

/* The activation op of an epilogue, applied to t (unfused). */
static void apply_act(int act, float a, float b, fr_tensor *t) {
  static const char *const ops[] = {NULL, "Relu", "LeakyRelu", "Clip",
                                    "HardSigmoid", "HardSwish", "Sigmoid",
                                    "Tanh"};
  if (act == FR_K_EPI_NONE) return;
  ft_case *c = ft_new(ops[act], act == FR_K_EPI_HARD_SWISH ? 14 : 13,
                      act == FR_K_EPI_CLIP ? 3 : 1, 1, 2);
  if (act == FR_K_EPI_LEAKY_RELU) ft_attr_f(c, "alpha", a);
  if (act == FR_K_EPI_HARD_SIGMOID) {
    ft_attr_f(c, "alpha", a);
    ft_attr_f(c, "beta", b);
  }
  fr_tensor in[3] = {*t, ft_tensor(FR_F32, 0, NULL, &a),
                     ft_tensor(FR_F32, 0, NULL, &b)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  fr_tensor_release(t);
  *t = out[0];
  ft_free(c);
}

/* t = t + u (unfused Add; u broadcasts). */
static void apply_add(fr_tensor *t, fr_tensor u) {
  ft_case *c = ft_new("Add", 14, 2, 1, 0);
  fr_tensor in[2] = {*t, u}, out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  fr_tensor_release(t);
  *t = out[0];
  ft_free(c);
}

static const float act_a[] = {0, 0, 0.1f, -0.25f, 0.2f, 0, 0, 0};
static const float act_b[] = {0, 0, 0, 0.3f, 0.5f, 0, 0, 0};

/* Runs the fused plan of c's node (after ft_run) on in[] with the
 * residual res (or NULL); bias is MatMul's column bias. Returns y.
 * FusedConv's bufs have a fifth input (the input scale, NULL here). */
typedef fr_status (*fused_fn)(const fr_node *, fr_tensor *const *,
                              fr_tensor *const *, fr_kplan *, int, float, float);

static fr_tensor run_fused(ft_case *c, fused_fn fn, fr_tensor *in, int n_in,
                           const float *bias, const float *res, int act) {
  fr_node *n = c->n;
  fr_tensor y = n->out[0]->t;
  ck_assert_int_eq(fr_tensor_alloc(&y), FR_OK);
  fr_tensor *ip[3], *op[1] = {&y};
  for (int i = 0; i < n_in; i++) ip[i] = &in[i];
  fr_kplan *kp = fr_calloc(1, sizeof *kp);
  ck_assert_int_eq(fn(n, ip, op, kp, act, act_a[act], act_b[act]), FR_OK);
  void *scratch = kp->scratch ? fr_malloc(kp->scratch) : NULL;
  void *bufs[7] = {in[0].data, in[1].data,
                   n_in > 2 ? in[2].data : (void *)bias, (void *)res, y.data,
                   scratch, NULL};
  if (fn == fr_plan_conv_fused) {
    bufs[6] = scratch;
    bufs[5] = y.data;
    bufs[4] = NULL;
  }
  kp->fn(kp->params, bufs);
  fr_free(scratch);
  fr_free(kp);
  return y;
}

static void check_same(const fr_tensor *got, const fr_tensor *want) {
  ck_assert_int_eq(fr_tensor_numel(got), fr_tensor_numel(want));
  ft_check_f32(got, (int)fr_tensor_numel(want), want->data, 1e-5f);
}

typedef struct conv_case {
  int64_t C, M, group, H, W, k, stride, pad, dil;
} conv_case;

static void fused_conv(const conv_case *cc, int act, bool with_res, int seed) {
  ft_case *c = ft_new("Conv", 11, 3, 1, 5);
  int64_t k = cc->k, Cg = cc->C / cc->group;
  ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){k, k});
  ft_attr_ints(c, "strides", 2, (int64_t[]){cc->stride, cc->stride});
  ft_attr_ints(c, "pads", 4, (int64_t[]){cc->pad, cc->pad, cc->pad, cc->pad});
  ft_attr_ints(c, "dilations", 2, (int64_t[]){cc->dil, cc->dil});
  ft_attr_i(c, "group", cc->group);
  int64_t nx = cc->C * cc->H * cc->W, nw = cc->M * Cg * k * k;
  float *x = frand(nx, seed), *w = frand(nw, seed + 1), *b = frand(cc->M, seed + 2);
  fr_tensor in[3] = {ft_tensor(FR_F32, 4, FT_DIMS(1, cc->C, cc->H, cc->W), x),
                     ft_tensor(FR_F32, 4, FT_DIMS(cc->M, Cg, k, k), w),
                     f32v((int)cc->M, b)};
  fr_tensor ref[1];
  ck_assert_msg(ft_run(c, in, ref) == FR_OK, "%s", fr_err_msg());
  float *r = frand(fr_tensor_numel(ref), seed + 3);
  if (with_res) apply_add(ref, ft_tensor(FR_F32, ref->rank, ref->dims, r));
  apply_act(act, act_a[act], act_b[act], ref);
  fr_tensor y = run_fused(c, fr_plan_conv_fused, in, 3, NULL,
                          with_res ? r : NULL, act);
  check_same(&y, ref);
  fr_tensor_release(&y);
  fr_tensor_release(ref);
  fr_free(x), fr_free(w), fr_free(b), fr_free(r);
  ft_free(c);
}

START_TEST(fused_conv_matches_unfused) {
  static const conv_case cases[] = {
      /* C, M, group, H, W, k, stride, pad, dil */
      {3, 8, 1, 9, 11, 3, 1, 1, 1},    /* implicit GEMM, partial tiles */
      {40, 19, 1, 7, 6, 3, 1, 1, 1},   /* K = 360 > KC: two K blocks */
      {16, 24, 1, 5, 13, 1, 1, 0, 1},  /* pointwise: plain GEMM */
      {16, 2, 1, 5, 13, 1, 1, 0, 1},   /* pointwise, M = 2: small-M path */
      {32, 12, 1, 1, 1, 1, 1, 0, 1},   /* 1x1 image: one GEMM column */
      {6, 6, 6, 8, 40, 3, 1, 1, 1},    /* depthwise, stride 1 */
      {5, 5, 5, 9, 41, 5, 2, 2, 1},    /* depthwise, stride 2 */
      {6, 9, 3, 8, 8, 3, 2, 1, 2},     /* grouped, strided, dilated */
  };
  int seed = 1;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int act = 0; act < FR_K_EPI_COUNT; act++)
      fused_conv(&cases[i], act, (act + (int)i) % 2 == 0, seed += 4);
}
END_TEST

static void fused_gemm(int64_t M, int64_t N, int64_t K, bool tb, int cmode,
                       int act, bool with_res, int seed) {
  ft_case *c = ft_new("Gemm", 13, cmode ? 3 : 2, 1, 2);
  if (tb) ft_attr_i(c, "transB", 1);
  if (cmode == 3) ft_attr_f(c, "beta", 0.5f);
  float *a = frand(M * K, seed), *b = frand(K * N, seed + 1);
  float *cv = frand(M * N, seed + 2);
  fr_tensor in[3] = {ft_tensor(FR_F32, 2, FT_DIMS(M, K), a),
                     tb ? ft_tensor(FR_F32, 2, FT_DIMS(N, K), b)
                        : ft_tensor(FR_F32, 2, FT_DIMS(K, N), b),
                     cmode == 1   ? f32v((int)N, cv)
                     : cmode == 2 ? ft_tensor(FR_F32, 2, FT_DIMS(M, 1), cv)
                                  : ft_tensor(FR_F32, 2, FT_DIMS(M, N), cv)};
  fr_tensor ref[1];
  ck_assert_msg(ft_run(c, in, ref) == FR_OK, "%s", fr_err_msg());
  float *r = frand(M * N, seed + 3);
  if (with_res) apply_add(ref, ft_tensor(FR_F32, 2, FT_DIMS(M, N), r));
  apply_act(act, act_a[act], act_b[act], ref);
  fr_tensor y = run_fused(c, fr_plan_gemm_fused, in, cmode ? 3 : 2, NULL,
                          with_res ? r : NULL, act);
  check_same(&y, ref);
  fr_tensor_release(&y);
  fr_tensor_release(ref);
  fr_free(a), fr_free(b), fr_free(cv), fr_free(r);
  ft_free(c);
}

static void fused_matmul(int64_t batch, int64_t M, int64_t N, int64_t K,
                         bool bbatch, bool with_bias, int act, bool with_res,
                         int seed) {
  ft_case *c = ft_new("MatMul", 13, 2, 1, 0);
  float *a = frand(batch * M * K, seed), *b = frand(batch * K * N, seed + 1);
  float *bias = frand(N, seed + 2), *r = frand(batch * M * N, seed + 3);
  fr_tensor in[2] = {ft_tensor(FR_F32, 3, FT_DIMS(batch, M, K), a),
                     bbatch ? ft_tensor(FR_F32, 3, FT_DIMS(batch, K, N), b)
                            : ft_tensor(FR_F32, 2, FT_DIMS(K, N), b)};
  fr_tensor ref[1];
  ck_assert_msg(ft_run(c, in, ref) == FR_OK, "%s", fr_err_msg());
  if (with_bias) apply_add(ref, f32v((int)N, bias));
  if (with_res) apply_add(ref, ft_tensor(FR_F32, 3, FT_DIMS(batch, M, N), r));
  apply_act(act, act_a[act], act_b[act], ref);
  fr_tensor y = run_fused(c, fr_plan_matmul_fused, in, 2,
                          with_bias ? bias : NULL, with_res ? r : NULL, act);
  check_same(&y, ref);
  fr_tensor_release(&y);
  fr_tensor_release(ref);
  fr_free(a), fr_free(b), fr_free(bias), fr_free(r);
  ft_free(c);
}

START_TEST(fused_gemm_matches_unfused) {
  int seed = 100;
  for (int act = 0; act < FR_K_EPI_COUNT; act++) {
    bool res = act % 2 == 0;
    fused_gemm(1, 37, 20, false, 1, act, res, seed += 4);  /* small M, rows of B */
    fused_gemm(2, 37, 20, true, 1, act, !res, seed += 4);  /* small M, dots */
    fused_gemm(37, 1, 20, false, 2, act, res, seed += 4);  /* one column */
    fused_gemm(50, 70, 300, true, 1, act, !res, seed += 4); /* K > KC */
    fused_gemm(19, 53, 31, false, 2, act, res, seed += 4); /* row bias */
    fused_gemm(9, 17, 8, false, 3, act, !res, seed += 4);  /* C filled */
    fused_gemm(9, 17, 0, false, 1, act, res, seed += 4);   /* K = 0 */
    fused_matmul(3, 5, 50, 7, false, true, act, res, seed += 4);  /* folded */
    fused_matmul(2, 6, 30, 9, true, act % 3 == 0, act, !res, seed += 4);
    fused_matmul(2, 1, 30, 9, true, true, act, res, seed += 4);
  }
}
END_TEST

START_TEST(fused_bad_act) {
  ft_case *c = ft_new("Conv", 11, 2, 1, 0);
  fr_tensor in[2] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 3), (float[]){1, 4, 9}),
                     ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 2), (float[]){1, -1})};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  fr_tensor *ip[2] = {&in[0], &in[1]}, *op[1] = {&out[0]};
  fr_kplan *kp = fr_calloc(1, sizeof *kp);
  ck_assert_int_eq(fr_plan_conv_fused(c->n, ip, op, kp, FR_K_EPI_COUNT, 0, 0),
                   FR_ERR_INVALID);
  fr_free(kp);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- frost's gradient ops (the autodiff pass's) ------------------------------ */

/* A one-node case of frost.<op>. */
static ft_case *ft_frost(const char *op, int n_in, int max_attr) {
  ft_case *c = ft_new(op, 13, n_in, 1, max_attr);
  c->n->domain = "frost";
  c->n->opset = 1;
  return c;
}

/* MaxPoolGrad with ties (the first of the window takes it) and
 * overlapping windows; AveragePoolGrad with and without the padding
 * counted; ConvGradWeight against a hand sum; GatherGrad with repeated
 * and negative indices; and bad inputs. */
START_TEST(plan_grad_ops) {
  float x[12] = {1, 3, 3, 0, 2, 3, 1, 5, 0, 4, 4, 2}; /* (1, 1, 3, 4) */
  float dy[6] = {1, 2, 3, 4, 5, 6};                   /* (1, 1, 2, 3) */
  ft_case *c = ft_frost("MaxPoolGrad", 2, 1);
  ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(2, 2));
  fr_tensor in[2] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 3), dy),
                     ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 3, 4), x)};
  run_f32(c, in, 12, (const float[]){0, 3, 0, 0, 0, 0, 0, 9, 0, 9, 0, 0});
  ft_free(c);
  /* AveragePool 2x2, stride 2, pads 1 at the start and 1 at the end of
   * W: windows of 1, 2, 1 elements on the first row, 2, 4, 2 on the
   * second (4 each with the padding counted) */
  for (int cip = 0; cip < 2; cip++) {
    c = ft_frost("AveragePoolGrad", 1, 5);
    ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(2, 2));
    ft_attr_ints(c, "strides", 2, FT_DIMS(2, 2));
    ft_attr_ints(c, "pads", 4, FT_DIMS(1, 1, 0, 1));
    ft_attr_ints(c, "shape", 4, FT_DIMS(1, 1, 3, 4));
    ft_attr_i(c, "count_include_pad", cip);
    float g[6] = {4, 8, 8, 2, 4, 4}; /* (1, 1, 2, 3) */
    fr_tensor gi = ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 3), g);
    if (cip)
      run_f32(c, &gi, 12, (const float[]){1, 2, 2, 2, 0.5f, 1, 1, 1, 0.5f, 1, 1, 1});
    else
      run_f32(c, &gi, 12, (const float[]){4, 4, 4, 8, 1, 1, 1, 2, 1, 1, 1, 2});
    ft_free(c);
  }
  /* ConvGradWeight: x (1, 1, 3, 4), dy (1, 1, 2, 3), kernel 2x2: dW[i, j]
   * = sum dy[o] x[o + (i, j)] */
  c = ft_frost("ConvGradWeight", 2, 1);
  ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(2, 2));
  fr_tensor cin[2] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 3, 4), x),
                      ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 3), dy)};
  float want[4] = {0};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      for (int oh = 0; oh < 2; oh++)
        for (int ow = 0; ow < 3; ow++)
          want[i * 2 + j] += dy[oh * 3 + ow] * x[(oh + i) * 4 + ow + j];
  run_f32(c, cin, 4, want);
  ft_free(c);
  /* the same as a grouped conv of 2 channels through the GEMM path */
  {
    float x2[24], dy2[12];
    for (int i = 0; i < 24; i++) x2[i] = x[i % 12] * (i < 12 ? 1 : -2);
    for (int i = 0; i < 12; i++) dy2[i] = dy[i % 6] * (i < 6 ? 1 : 3);
    c = ft_frost("ConvGradWeight", 2, 2);
    ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(2, 2));
    ft_attr_i(c, "group", 1);
    fr_tensor gin[2] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 2, 3, 4), x2),
                        ft_tensor(FR_F32, 4, FT_DIMS(1, 2, 2, 3), dy2)};
    float w2[16]; /* (2, 2, 2, 2): dW[m, c] = want scaled by m's and c's */
    for (int m = 0; m < 2; m++)
      for (int ch = 0; ch < 2; ch++)
        for (int k = 0; k < 4; k++)
          w2[(m * 2 + ch) * 4 + k] = want[k] * (m ? 3 : 1) * (ch ? -2 : 1);
    run_f32(c, gin, 16, w2);
    ft_free(c);
  }
  /* BatchNormGrad over (2, 3, S), S = 5 (the tail) and 21 (lanes and
   * tail): rows of sum(dy (x - mean)) / sqrt(var + eps) and sum(dy) */
  for (int S = 5; S <= 21; S += 16) {
    float bx[126], bdy[126], mean[3] = {0.5f, -1, 2}, var[3] = {1, 0.25f, 4};
    double ws[3] = {0}, wb[3] = {0};
    for (int i = 0; i < 6 * S; i++) {
      int ch = (i / S) % 3;
      bx[i] = (float)((i * 7) % 11) * 0.3f - 1;
      bdy[i] = (float)((i * 5) % 13) * 0.1f - 0.6f;
      ws[ch] += (double)bdy[i] * (bx[i] - mean[ch]);
      wb[ch] += bdy[i];
    }
    float bwant[6];
    for (int ch = 0; ch < 3; ch++) {
      bwant[ch] = (float)(ws[ch] / sqrt(var[ch] + 0.01));
      bwant[3 + ch] = (float)wb[ch];
    }
    c = ft_frost("BatchNormGrad", 4, 1);
    ft_attr_f(c, "epsilon", 0.01f);
    fr_tensor bin[4] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 3, S), bdy),
                        ft_tensor(FR_F32, 3, FT_DIMS(2, 3, S), bx),
                        ft_tensor(FR_F32, 1, FT_DIMS(3), mean),
                        ft_tensor(FR_F32, 1, FT_DIMS(3), var)};
    run_f32(c, bin, 6, bwant);
    /* mean of another length */
    bin[2] = ft_tensor(FR_F32, 1, FT_DIMS(2), mean);
    fr_tensor bad[1];
    ck_assert_int_eq(ft_run(c, bin, bad), FR_ERR_SHAPE);
    ft_free(c);
  }
  /* ReluBatchNormGrad over (2, 3, S), S = 5 and 21: g = y > 0 ? dy : 0
   * (y = -0, 0, NaN among them), dx = g scale, and the rows of BatchNormGrad
   * over g and of sum(dx) */
  for (int S = 5; S <= 21; S += 16) {
    float bx[126], bdy[126], by[126], mean[3] = {0.5f, -1, 2}, var[3] = {1, 0.25f, 4};
    float sc[3] = {1.5f, -0.5f, 2}, wdx[126], wst[9];
    double ws[3] = {0}, wb[3] = {0}, we[3] = {0};
    for (int i = 0; i < 6 * S; i++) {
      int ch = (i / S) % 3;
      bx[i] = (float)((i * 7) % 11) * 0.3f - 1;
      bdy[i] = (float)((i * 5) % 13) * 0.1f - 0.6f;
      by[i] = i % 9 == 4 ? NAN : i % 7 == 3 ? -0.0f : (float)((i * 3) % 5) - 2;
      float g = by[i] > 0 ? bdy[i] : 0;
      wdx[i] = g * sc[ch];
      ws[ch] += (double)g * (bx[i] - mean[ch]);
      wb[ch] += g;
      we[ch] += wdx[i];
    }
    for (int ch = 0; ch < 3; ch++) {
      wst[ch] = (float)(ws[ch] / sqrt(var[ch] + 0.01));
      wst[3 + ch] = (float)wb[ch];
      wst[6 + ch] = (float)we[ch];
    }
    c = ft_new("ReluBatchNormGrad", 13, 6, 2, 1); /* two outputs */
    c->n->domain = "frost";
    c->n->opset = 1;
    ft_attr_f(c, "epsilon", 0.01f);
    fr_tensor rin[6] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 3, S), bdy),
                        ft_tensor(FR_F32, 3, FT_DIMS(2, 3, S), by),
                        ft_tensor(FR_F32, 3, FT_DIMS(2, 3, S), bx),
                        ft_tensor(FR_F32, 1, FT_DIMS(3), sc),
                        ft_tensor(FR_F32, 1, FT_DIMS(3), mean),
                        ft_tensor(FR_F32, 1, FT_DIMS(3), var)};
    fr_tensor rout[2];
    ck_assert_msg(ft_run(c, rin, rout) == FR_OK, "%s", fr_err_msg());
    ft_check_f32(&rout[0], 6 * S, wdx, 1e-6f);
    ft_check_f32(&rout[1], 9, wst, 1e-5f);
    ft_release(rout, 2);
    /* y of another shape */
    rin[1] = ft_tensor(FR_F32, 3, FT_DIMS(2, 3, S - 1), by);
    ck_assert_int_eq(ft_run(c, rin, rout), FR_ERR_SHAPE);
    ft_free(c);
  }
  /* ReluGrad: dy where Relu's output is positive, else 0 (NaN too) */
  c = ft_frost("ReluGrad", 2, 0);
  float rdy[5] = {1, 2, 3, 4, 5}, ry[5] = {0, 1, -0.0f, NAN, 7};
  fr_tensor rin[2] = {ft_tensor(FR_F32, 1, FT_DIMS(5), rdy),
                      ft_tensor(FR_F32, 1, FT_DIMS(5), ry)};
  run_f32(c, rin, 5, (const float[]){0, 2, 0, 0, 5});
  ft_free(c);
  /* GatherGrad along axis 1 of (2, 3): indices 2, 0, 2, -1 */
  c = ft_frost("GatherGrad", 2, 2);
  ft_attr_i(c, "axis", 1);
  ft_attr_ints(c, "shape", 2, FT_DIMS(2, 3));
  int64_t idx[4] = {2, 0, 2, -1};
  float gd[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  fr_tensor gin[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 4), gd), i64v(4, idx)};
  run_f32(c, gin, 6, (const float[]){2, 0, 8, 6, 0, 20});
  /* dy that is not Gather's output over shape and indices */
  gin[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 3), gd);
  fr_tensor bad[1];
  ck_assert_int_eq(ft_run(c, gin, bad), FR_ERR_SHAPE);
  ft_free(c);
  /* ConvGradWeight whose dy is not the window's output over x */
  c = ft_frost("ConvGradWeight", 2, 1);
  ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(3, 3));
  ck_assert_int_eq(ft_run(c, cin, bad), FR_ERR_SHAPE);
  ft_free(c);
  /* MaxPoolGrad without kernel_shape */
  c = ft_frost("MaxPoolGrad", 2, 1);
  ck_assert_int_eq(ft_run(c, in, bad), FR_ERR_INVALID);
  ft_free(c);
}
END_TEST

/* ---- plans compiled by LLVM ----------------------------------------------- */

/* void NAME(void *const *bufs) { ENTRY(&params, bufs); } with the params
 * block as a constant global, optimized for the host and JIT-compiled. */
typedef void (*jit_fn)(void *const *bufs);

static jit_fn jit_plan(fr_jit *j, const fr_kplan *kp, const char *name) {
  LLVMContextRef ctx = fr_jit_context(j);
  LLVMModuleRef m;
  ck_assert_int_eq(fr_jit_kernels(j, &m), FR_OK);
  LLVMValueRef e = LLVMGetNamedFunction(m, kp->entry);
  ck_assert_msg(e != NULL, "no entry %s in the kernel bitcode", kp->entry);
  LLVMValueRef init = LLVMConstStringInContext(
      ctx, (const char *)kp->params, (unsigned)kp->size, 1);
  LLVMValueRef g = LLVMAddGlobal(m, LLVMTypeOf(init), "plan_params");
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetAlignment(g, 64);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(ctx),
                                    (LLVMTypeRef[]){ptr}, 1, 0);
  LLVMValueRef f = LLVMAddFunction(m, name, ft);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, f, "entry"));
  LLVMBuildCall2(b, LLVMGlobalGetValueType(e), e,
                 (LLVMValueRef[]){g, LLVMGetParam(f, 0)}, 2, "");
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  ck_assert_int_eq(fr_jit_optimize(j, m, name), FR_OK);
  ck_assert_int_eq(fr_jit_add(j, m), FR_OK);
  void *addr;
  ck_assert_int_eq(fr_jit_lookup(j, name, &addr), FR_OK);
  return (jit_fn)addr;
}

/* Plans c's node on in (after ft_run gave want), compiles the plan, runs
 * it on the same inputs and compares output 0 with want. */
static void jit_check(fr_jit *j, ft_case *c, fr_tensor *in, const fr_tensor *want,
                      const char *name) {
  call k;
  ck_assert_msg(plan_call(c, in, &k) == FR_OK, "%s", fr_err_msg());
  call_bufs(c, in, &k);
  jit_plan(j, k.kp, name)(k.bufs);
  if (want->dtype == FR_F32) {
    check_same(&k.out[0], want);
  } else {
    ck_assert_int_eq(k.out[0].dtype, want->dtype);
    ck_assert(!memcmp(k.out[0].data, want->data, fr_tensor_nbytes(want)));
  }
  call_free(&k);
}

/* A case run by the interpreter, then compiled and compared. */
static void jit_case(fr_jit *j, ft_case *c, fr_tensor *in, const char *name) {
  fr_tensor want[4];
  ck_assert_msg(ft_run(c, in, want) == FR_OK, "%s", fr_err_msg());
  jit_check(j, c, in, &want[0], name);
  ft_release(want, c->n->n_out);
  ft_free(c);
}

START_TEST(jit_plans_match_interpreter) {
  fr_jit *j;
  ck_assert_int_eq(fr_jit_new(NULL, &j), FR_OK);
  /* Conv 3x3 pad 1 with bias, and a depthwise one */
  {
    ft_case *c = ft_new("Conv", 11, 3, 1, 2);
    ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){3, 3});
    ft_attr_ints(c, "pads", 4, (int64_t[]){1, 1, 1, 1});
    float *x = frand(5 * 12 * 10, 1), *w = frand(7 * 5 * 9, 2), *b = frand(7, 3);
    fr_tensor in[3] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 5, 12, 10), x),
                       ft_tensor(FR_F32, 4, FT_DIMS(7, 5, 3, 3), w), f32v(7, b)};
    jit_case(j, c, in, "conv");
    c = ft_new("Conv", 11, 2, 1, 3);
    ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){3, 3});
    ft_attr_ints(c, "pads", 4, (int64_t[]){1, 1, 1, 1});
    ft_attr_i(c, "group", 5);
    in[1] = ft_tensor(FR_F32, 4, FT_DIMS(5, 1, 3, 3), w);
    jit_case(j, c, in, "dwconv");
    fr_free(x), fr_free(w), fr_free(b);
  }
  /* Gemm with a column bias, transB */
  {
    ft_case *c = ft_new("Gemm", 13, 3, 1, 1);
    ft_attr_i(c, "transB", 1);
    float *a = frand(13 * 40, 4), *b = frand(30 * 40, 5), *cb = frand(30, 6);
    fr_tensor in[3] = {ft_tensor(FR_F32, 2, FT_DIMS(13, 40), a),
                       ft_tensor(FR_F32, 2, FT_DIMS(30, 40), b), f32v(30, cb)};
    jit_case(j, c, in, "gemm");
    fr_free(a), fr_free(b), fr_free(cb);
  }
  /* MatMul with broadcast batches */
  {
    ft_case *c = ft_new("MatMul", 13, 2, 1, 0);
    float *a = frand(2 * 6 * 9, 7), *b = frand(9 * 11, 8);
    fr_tensor in[2] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 6, 9), a),
                       ft_tensor(FR_F32, 2, FT_DIMS(9, 11), b)};
    jit_case(j, c, in, "matmul");
    fr_free(a), fr_free(b);
  }
  /* a broadcasting binary, an f16 binary, a unary, Clip */
  {
    float *a = frand(4 * 33, 9), *b = frand(33, 10);
    fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(4, 33), a), f32v(33, b)};
    jit_case(j, ft_new("Mul", 14, 2, 1, 0), in, "mul");
    uint16_t h[6], g[6];
    for (int i = 0; i < 6; i++) {
      h[i] = fr_f32_to_f16(a[i]);
      g[i] = fr_f32_to_f16(b[i]);
    }
    fr_tensor hin[2] = {ft_tensor(FR_F16, 1, FT_DIMS(6), h),
                        ft_tensor(FR_F16, 1, FT_DIMS(6), g)};
    jit_case(j, ft_new("Sub", 14, 2, 1, 0), hin, "sub16");
    jit_case(j, ft_new("Sigmoid", 13, 1, 1, 0), in, "sigmoid");
    float lo = -0.5f, hi = 0.25f;
    fr_tensor cin[3] = {in[0], ft_tensor(FR_F32, 0, NULL, &lo),
                        ft_tensor(FR_F32, 0, NULL, &hi)};
    jit_case(j, ft_new("Clip", 13, 3, 1, 0), cin, "clip");
    fr_free(a), fr_free(b);
  }
  /* Softmax over the last axis and over a middle one */
  {
    float *x = frand(3 * 5 * 7, 11);
    fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(3, 5, 7), x)};
    jit_case(j, ft_new("Softmax", 13, 1, 1, 0), in, "softmax");
    ft_case *c = ft_new("Softmax", 13, 1, 1, 1);
    ft_attr_i(c, "axis", 1);
    jit_case(j, c, in, "softmax1");
    /* Transpose, ReduceMean, MaxPool, Concat */
    c = ft_new("Transpose", 13, 1, 1, 1);
    ft_attr_ints(c, "perm", 3, (int64_t[]){2, 0, 1});
    jit_case(j, c, in, "transpose");
    c = ft_new("ReduceMean", 13, 1, 1, 1);
    ft_attr_ints(c, "axes", 2, (int64_t[]){0, 2});
    jit_case(j, c, in, "reducemean");
    fr_tensor x4 = ft_tensor(FR_F32, 4, FT_DIMS(1, 3, 5, 7), x);
    c = ft_new("MaxPool", 12, 1, 1, 2);
    ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){2, 2});
    ft_attr_ints(c, "pads", 4, (int64_t[]){0, 0, 1, 1});
    jit_case(j, c, &x4, "maxpool");
    c = ft_new("Concat", 13, 2, 1, 1);
    ft_attr_i(c, "axis", 1);
    fr_tensor cc[2] = {in[0], in[0]};
    jit_case(j, c, cc, "concat");
    fr_free(x);
  }
  /* fused Conv (residual + relu) and Gemm (hard swish), compiled */
  {
    ft_case *c = ft_new("Conv", 11, 3, 1, 2);
    ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){3, 3});
    ft_attr_ints(c, "pads", 4, (int64_t[]){1, 1, 1, 1});
    float *x = frand(4 * 9 * 9, 12), *w = frand(6 * 4 * 9, 13), *b = frand(6, 14);
    float *r = frand(6 * 9 * 9, 15);
    fr_tensor in[3] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 4, 9, 9), x),
                       ft_tensor(FR_F32, 4, FT_DIMS(6, 4, 3, 3), w), f32v(6, b)};
    fr_tensor want[1];
    ck_assert_int_eq(ft_run(c, in, want), FR_OK);
    fr_tensor y = run_fused(c, fr_plan_conv_fused, in, 3, NULL, r, FR_K_EPI_RELU);
    fr_tensor *ip[3] = {&in[0], &in[1], &in[2]}, *op[1] = {&want[0]};
    fr_kplan *kp = fr_calloc(1, sizeof *kp);
    ck_assert_int_eq(fr_plan_conv_fused(c->n, ip, op, kp, FR_K_EPI_RELU, 0, 0),
                     FR_OK);
    jit_fn fn = jit_plan(j, kp, "conv_fused");
    fr_tensor yj = c->n->out[0]->t;
    ck_assert_int_eq(fr_tensor_alloc(&yj), FR_OK);
    void *scratch = fr_malloc(kp->scratch);
    void *bufs[7] = {x, w, b, r, NULL, yj.data, scratch};
    fn(bufs);
    check_same(&yj, &y);
    fr_free(scratch);
    fr_free(kp);
    fr_tensor_release(&yj);
    fr_tensor_release(&y);
    ft_release(want, 1);
    fr_free(x), fr_free(w), fr_free(b), fr_free(r);
    ft_free(c);
  }
  {
    ft_case *c = ft_new("Gemm", 13, 3, 1, 0);
    float *a = frand(20 * 33, 16), *b = frand(33 * 50, 17), *cb = frand(50, 18);
    float *r = frand(20 * 50, 19);
    fr_tensor in[3] = {ft_tensor(FR_F32, 2, FT_DIMS(20, 33), a),
                       ft_tensor(FR_F32, 2, FT_DIMS(33, 50), b), f32v(50, cb)};
    fr_tensor want[1];
    ck_assert_int_eq(ft_run(c, in, want), FR_OK);
    fr_tensor y = run_fused(c, fr_plan_gemm_fused, in, 3, NULL, r,
                            FR_K_EPI_HARD_SWISH);
    fr_tensor *ip[3] = {&in[0], &in[1], &in[2]}, *op[1] = {&want[0]};
    fr_kplan *kp = fr_calloc(1, sizeof *kp);
    ck_assert_int_eq(fr_plan_gemm_fused(c->n, ip, op, kp, FR_K_EPI_HARD_SWISH,
                                        0, 0),
                     FR_OK);
    jit_fn fn = jit_plan(j, kp, "gemm_fused");
    fr_tensor yj = c->n->out[0]->t;
    ck_assert_int_eq(fr_tensor_alloc(&yj), FR_OK);
    void *scratch = fr_malloc(kp->scratch);
    void *bufs[6] = {a, b, cb, r, yj.data, scratch};
    fn(bufs);
    check_same(&yj, &y);
    fr_free(scratch);
    fr_free(kp);
    fr_tensor_release(&yj);
    fr_tensor_release(&y);
    ft_release(want, 1);
    fr_free(a), fr_free(b), fr_free(cb), fr_free(r);
    ft_free(c);
  }
  /* frost's gradient ops: ConvGradWeight through the GEMM (2 groups) and
   * depthwise, MaxPoolGrad, AveragePoolGrad, GatherGrad */
  {
    float *x = frand(2 * 6 * 9 * 8, 20), *dy = frand(2 * 4 * 9 * 8, 21);
    ft_case *c = ft_frost("ConvGradWeight", 2, 3);
    ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){3, 3});
    ft_attr_ints(c, "pads", 4, (int64_t[]){1, 1, 1, 1});
    ft_attr_i(c, "group", 2);
    fr_tensor in[2] = {ft_tensor(FR_F32, 4, FT_DIMS(2, 6, 9, 8), x),
                       ft_tensor(FR_F32, 4, FT_DIMS(2, 4, 9, 8), dy)};
    jit_case(j, c, in, "cgw");
    c = ft_frost("ConvGradWeight", 2, 4);
    ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){3, 3});
    ft_attr_ints(c, "pads", 4, (int64_t[]){1, 1, 1, 1});
    ft_attr_ints(c, "strides", 2, (int64_t[]){2, 2});
    ft_attr_i(c, "group", 3);
    in[0] = ft_tensor(FR_F32, 4, FT_DIMS(2, 3, 9, 8), x);
    in[1] = ft_tensor(FR_F32, 4, FT_DIMS(2, 3, 5, 4), dy);
    jit_case(j, c, in, "dwcgw");
    c = ft_frost("MaxPoolGrad", 2, 2);
    ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){3, 3});
    ft_attr_ints(c, "strides", 2, (int64_t[]){2, 2});
    fr_tensor pin[2] = {ft_tensor(FR_F32, 4, FT_DIMS(2, 3, 4, 3), dy),
                        ft_tensor(FR_F32, 4, FT_DIMS(2, 3, 9, 8), x)};
    jit_case(j, c, pin, "mpg");
    c = ft_frost("AveragePoolGrad", 1, 5);
    ft_attr_ints(c, "kernel_shape", 2, (int64_t[]){3, 3});
    ft_attr_ints(c, "strides", 2, (int64_t[]){2, 2});
    ft_attr_ints(c, "pads", 4, (int64_t[]){1, 1, 1, 1});
    ft_attr_ints(c, "shape", 4, (int64_t[]){2, 3, 9, 8});
    pin[0] = ft_tensor(FR_F32, 4, FT_DIMS(2, 3, 5, 4), dy);
    jit_case(j, c, pin, "apg");
    c = ft_frost("GatherGrad", 2, 2);
    ft_attr_i(c, "axis", 0);
    ft_attr_ints(c, "shape", 2, (int64_t[]){5, 7});
    int64_t idx[6] = {4, 0, 4, -1, 2, 2};
    fr_tensor gin[2] = {ft_tensor(FR_F32, 2, FT_DIMS(6, 7), dy), i64v(6, idx)};
    jit_case(j, c, gin, "gg");
    fr_free(x), fr_free(dy);
  }
  fr_jit_free(j);
}
END_TEST

int main(void) {
  Suite *s = suite_create("plans");
  TCase *tc = tcase_create("core");
  /* JIT compilation at O3 takes a few seconds on a loaded machine */
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, plan_unary);
  tcase_add_test(tc, plan_clip);
  tcase_add_test(tc, plan_binary);
  tcase_add_test(tc, plan_variadic);
  tcase_add_test(tc, plan_where_cast);
  tcase_add_test(tc, plan_movement);
  tcase_add_test(tc, plan_reduce);
  tcase_add_test(tc, plan_norm);
  tcase_add_test(tc, plan_pool);
  tcase_add_test(tc, plan_gemm);
  tcase_add_test(tc, plan_resize_convt);
  tcase_add_test(tc, fused_conv_matches_unfused);
  tcase_add_test(tc, fused_gemm_matches_unfused);
  tcase_add_test(tc, fused_bad_act);
  tcase_add_test(tc, plan_grad_ops);
  tcase_add_test(tc, jit_plans_match_interpreter);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? 1 : 0;
}
