/* test_grad.c: every gradient rule against finite differences, in the
 * style of ggml's test-grad0. Each case builds a small graph whose
 * parameters (initializers named p*) are made trainable, reduces its output
 * to a scalar loss sum(y * r) with a fixed random r, runs the autodiff pass,
 * and compares each gradient the interpreter computes with the central
 * difference (L(p + e) - L(p - e)) / 2e of the loss, element by element. */
#include <math.h>
#include <string.h>

#include "testutil.h"

static uint64_t seed = 0x1234567;

/* Uniform in [lo, hi], with the sign flipped at random when sign. */
static float rnd(float lo, float hi, bool sign) {
  seed ^= seed << 13;
  seed ^= seed >> 7;
  seed ^= seed << 17;
  float u = (float)((seed >> 11) * 0x1.0p-53);
  float v = lo + (hi - lo) * u;
  return sign && (seed & 1) ? -v : v;
}

/* A parameter of random values with |v| in [lo, hi] (negative too when
 * sign). */
static fr_value *param(fr_model *m, const char *name, int rank,
                       const int64_t *dims, float lo, float hi, bool sign) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *d = fr_malloc(sizeof(float) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) d[i] = rnd(lo, hi, sign);
  fr_value *v = fg_const(m, name, FR_F32, rank, dims, d);
  fr_free(d);
  return v;
}

static fr_value *P(fr_model *m, const char *name, int rank, const int64_t *dims) {
  return param(m, name, rank, dims, 0.1f, 1.0f, true);
}

static fr_value *node(fr_model *m, const char *op, const char *out, int n_in,
                      fr_value *const *in) {
  return fg_node(m, op, out, n_in, in)->out[0];
}
#define N1(op, x) node(m, op, op "_" #x, 1, (fr_value *[]){x})
#define N2(op, x, y) node(m, op, op "_" #x "_" #y, 2, (fr_value *[]){x, y})

static float run_loss(fr_exec *x, fr_model *m, fr_tensor *out, int n_out) {
  ck_assert_msg(fr_interp_run(x, m->graph, NULL, out) == FR_OK, "%s",
                fr_err_msg());
  float l = ((const float *)out[0].data)[0];
  for (int i = 0; i < n_out; i++) fr_tensor_release(&out[i]);
  return l;
}

/* Appends the loss sum(y * r), differentiates, and checks every gradient
 * (up to 24 elements of each parameter) against central differences with
 * step eps: |numeric - analytic| <= tol * max(1, |numeric|). */
static void check(fr_model *m, fr_value *y, float eps, float tol) {
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    g->nodes[k]->op = fr_op_lookup("", g->nodes[k]->op_type);
    ck_assert_msg(g->nodes[k]->op != FR_OP_COUNT, "unknown op %s",
                  g->nodes[k]->op_type);
  }
  fr_infer_opts io = {.partial = false};
  ck_assert_msg(fr_graph_infer(g, &io) == FR_OK, "%s", fr_err_msg());
  fr_value *r = param(m, "r", y->t.rank, y->t.dims, 0.2f, 1.0f, true);
  fr_value *yr = N2("Mul", y, r);
  fr_node *sum = fg_node(m, "ReduceSum", "loss", 1, (fr_value *[]){yr});
  fg_attr_i(m, sum, "keepdims", 0);
  sum->op = FR_OP_REDUCE_SUM;
  yr->producer->op = FR_OP_MUL;
  ck_assert_msg(fr_graph_infer(g, &io) == FR_OK, "%s", fr_err_msg());
  fg_output(m, sum->out[0]);
  fr_train_graph *tg = fr_arena_alloc(&m->arena, sizeof *tg);
  *tg = (fr_train_graph){.loss = sum->out[0]};
  g->train = tg;
  fr_freeze_opts fo = {.n_rules = 1, .rules = {{true, "^p"}}};
  ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
  fr_pipeline_opts po = {0};
  ck_assert_msg(fr_pass_autodiff(m, &po) == FR_OK, "%s", fr_err_msg());
  ck_assert_msg(fr_graph_verify(g) == FR_OK, "%s", fr_err_msg());
  ck_assert_int_gt(tg->n_params, 0);

  fr_exec x;
  ck_assert_int_eq(fr_interp_init(&x, m), FR_OK);
  int n_out = g->n_outputs;
  fr_tensor *out = fr_calloc((size_t)n_out, sizeof *out);
  ck_assert_msg(fr_interp_run(&x, g, NULL, out) == FR_OK, "%s", fr_err_msg());
  for (int k = 0; k < tg->n_params; k++) {
    fr_value *p = tg->params[k];
    const fr_tensor *gr = &out[n_out - tg->n_params + k];
    int64_t n = fr_tensor_numel(&p->t);
    ck_assert_int_eq(fr_tensor_numel(gr), n);
    float *grad = fr_malloc(sizeof(float) * (size_t)n);
    memcpy(grad, gr->data, sizeof(float) * (size_t)n);
    float *pd = p->t.data;
    int64_t step = n > 24 ? n / 24 : 1;
    for (int64_t i = 0; i < n; i += step) {
      float keep = pd[i];
      fr_tensor o2[64];
      pd[i] = keep + eps;
      float lp = run_loss(&x, m, o2, n_out);
      pd[i] = keep - eps;
      float lm = run_loss(&x, m, o2, n_out);
      pd[i] = keep;
      float num = (lp - lm) / (2 * eps), ana = grad[i];
      float lim = tol * fmaxf(1.0f, fabsf(num));
      ck_assert_msg(fabsf(num - ana) <= lim,
                    "d loss / d %s[%lld]: analytic %g, numeric %g", p->name,
                    (long long)i, ana, num);
    }
    fr_free(grad);
  }
  /* The JIT computes the same gradients (the memory plan keeps what the
   * backward nodes read alive, and in-place reuse off for it). */
  ck_assert_msg(fr_pass_plan_memory(m, &po) == FR_OK, "%s", fr_err_msg());
  ck_assert_msg(fr_graph_layout(g, 0) == FR_OK, "%s", fr_err_msg());
  fr_compiled *comp = NULL;
  ck_assert_msg(fr_compile_jit(m, NULL, false, &comp) == FR_OK, "%s",
                fr_err_msg());
  fr_tensor *jo = fr_calloc((size_t)n_out, sizeof *jo);
  ck_assert_msg(fr_compiled_run(comp, NULL, jo) == FR_OK, "%s", fr_err_msg());
  for (int i = 0; i < n_out; i++) {
    int64_t n = fr_tensor_numel(&out[i]);
    ck_assert_int_eq(fr_tensor_numel(&jo[i]), n);
    for (int64_t k = 0; k < n; k++) {
      float a = ((const float *)out[i].data)[k], b = ((const float *)jo[i].data)[k];
      ck_assert_msg(fabsf(a - b) <= 1e-5f * fmaxf(1, fabsf(a)),
                    "output %s[%lld]: interpreter %g, JIT %g",
                    g->outputs[i]->name, (long long)k, a, b);
    }
    fr_tensor_release(&jo[i]);
  }
  fr_free(jo);
  fr_compiled_free(comp);
  for (int i = 0; i < n_out; i++) fr_tensor_release(&out[i]);
  fr_free(out);
  fr_interp_free(&x);
  fr_model_free(m);
}

START_TEST(grad_arith_broadcast) {
  fr_model *m = fg_model(13);
  fr_value *a = P(m, "pa", 2, FT_DIMS(2, 3)), *b = P(m, "pb", 1, FT_DIMS(3));
  fr_value *c = param(m, "pc", 2, FT_DIMS(1, 3), 0.5f, 1.5f, true);
  fr_value *s = N2("Add", a, b), *t = N2("Mul", s, b), *u = N2("Sub", b, t);
  fr_value *v = N2("Div", u, c), *w = N1("Neg", v);
  check(m, w, 1e-2f, 2e-2f);
}
END_TEST

/* Gemm with each transpose combination, alpha, beta and a broadcast C. */
START_TEST(grad_gemm) {
  for (int tr = 0; tr < 4; tr++) {
    fr_model *m = fg_model(13);
    bool ta = tr & 1, tb = tr & 2;
    fr_value *A = P(m, "pA", 2, ta ? FT_DIMS(4, 2) : FT_DIMS(2, 4));
    fr_value *B = P(m, "pB", 2, tb ? FT_DIMS(3, 4) : FT_DIMS(4, 3));
    fr_value *C = P(m, "pC", 1, FT_DIMS(3));
    fr_node *n = fg_node(m, "Gemm", "y", 3, (fr_value *[]){A, B, C});
    fg_attr_i(m, n, "transA", ta);
    fg_attr_i(m, n, "transB", tb);
    fg_attr_f(m, n, "alpha", 0.7f);
    fg_attr_f(m, n, "beta", 1.3f);
    check(m, n->out[0], 1e-2f, 2e-2f);
  }
}
END_TEST

START_TEST(grad_matmul) {
  fr_model *m = fg_model(13);
  fr_value *A = P(m, "pA", 2, FT_DIMS(3, 4)), *B = P(m, "pB", 2, FT_DIMS(4, 2));
  check(m, N2("MatMul", A, B), 1e-2f, 2e-2f);
  m = fg_model(13); /* batched A, 2-D B */
  A = P(m, "pA", 3, FT_DIMS(2, 3, 4));
  B = P(m, "pB", 2, FT_DIMS(4, 2));
  check(m, N2("MatMul", A, B), 1e-2f, 2e-2f);
  m = fg_model(13); /* batch broadcast [2, 3, 4] x [1, 4, 2] */
  A = P(m, "pA", 3, FT_DIMS(2, 3, 4));
  B = P(m, "pB", 3, FT_DIMS(1, 4, 2));
  check(m, N2("MatMul", A, B), 1e-2f, 2e-2f);
}
END_TEST

START_TEST(grad_activations) {
  const char *ops[] = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Abs"};
  for (int i = 0; i < 6; i++) {
    fr_model *m = fg_model(13);
    fr_value *x = P(m, "px", 2, FT_DIMS(3, 4));
    check(m, node(m, ops[i], "y", 1, &x), 1e-3f, 2e-2f);
  }
  fr_model *m = fg_model(13); /* positive inputs */
  fr_value *x = param(m, "px", 2, FT_DIMS(3, 4), 0.5f, 2.0f, false);
  check(m, N1("Sqrt", N1("Log", N2("Add", x, x))), 1e-3f, 2e-2f);
}
END_TEST

START_TEST(grad_shapes) {
  fr_model *m = fg_model(13);
  fr_value *x = P(m, "px", 3, FT_DIMS(2, 3, 4));
  fr_node *t = fg_node(m, "Transpose", "t", 1, &x);
  fg_attr_ints(m, t, "perm", 3, FT_DIMS(2, 0, 1));
  fr_value *f = N1("Flatten", t->out[0]);
  fr_value *shape = fg_const(m, "shape", FR_I64, 1, FT_DIMS(2),
                             FT_DIMS(6, 4));
  fr_value *r = N2("Reshape", f, shape);
  fr_value *ax = fg_const(m, "ax", FR_I64, 1, FT_DIMS(1), FT_DIMS(1));
  fr_value *u = N2("Unsqueeze", r, ax);
  fr_value *w = P(m, "pw", 3, FT_DIMS(6, 1, 4));
  check(m, N2("Mul", N2("Squeeze", N2("Mul", u, w), ax), N1("Identity", r)),
        1e-2f, 2e-2f);
}
END_TEST

START_TEST(grad_softmax) {
  for (int k = 0; k < 2; k++) {
    fr_model *m = fg_model(13);
    fr_value *x = P(m, "px", 3, FT_DIMS(2, 3, 4));
    fr_node *n = fg_node(m, k ? "LogSoftmax" : "Softmax", "y", 1, &x);
    fg_attr_i(m, n, "axis", 1);
    check(m, n->out[0], 1e-2f, 2e-2f);
  }
}
END_TEST

START_TEST(grad_reduce_pool) {
  fr_model *m = fg_model(13);
  fr_value *x = P(m, "px", 4, FT_DIMS(2, 3, 2, 2));
  fr_value *ax = fg_const(m, "ax", FR_I64, 1, FT_DIMS(2), FT_DIMS(0, 2));
  fr_node *s = fg_node(m, "ReduceSum", "s", 2, (fr_value *[]){x, ax});
  fg_attr_i(m, s, "keepdims", 0);
  check(m, N2("Mul", s->out[0], s->out[0]), 1e-2f, 2e-2f);

  m = fg_model(13);
  x = P(m, "px", 4, FT_DIMS(2, 3, 2, 2));
  fr_node *mean = fg_node(m, "ReduceMean", "mean", 1, &x);
  fg_attr_ints(m, mean, "axes", 2, FT_DIMS(1, 3));
  check(m, N2("Mul", mean->out[0], mean->out[0]), 1e-2f, 2e-2f);

  m = fg_model(13);
  x = P(m, "px", 4, FT_DIMS(2, 3, 2, 2));
  fr_value *f = N1("Flatten", N1("GlobalAveragePool", x));
  check(m, N2("MatMul", f, P(m, "pw", 2, FT_DIMS(3, 2))), 1e-2f, 2e-2f);
}
END_TEST

/* BatchNormalization in inference form: x, gamma and beta trainable, the
 * running statistics not. */
START_TEST(grad_batchnorm) {
  fr_model *m = fg_model(13);
  fr_value *x = P(m, "px", 4, FT_DIMS(2, 3, 2, 2));
  fr_value *gamma = P(m, "pg", 1, FT_DIMS(3)), *beta = P(m, "pb", 1, FT_DIMS(3));
  fr_value *mean = param(m, "mean", 1, FT_DIMS(3), 0.1f, 0.5f, true);
  fr_value *var = param(m, "var", 1, FT_DIMS(3), 0.5f, 2.0f, false);
  fr_node *n = fg_node(m, "BatchNormalization", "y", 5,
                       (fr_value *[]){x, gamma, beta, mean, var});
  check(m, n->out[0], 1e-2f, 2e-2f);
}
END_TEST

/* SoftmaxCrossEntropyLoss over logits from a Gemm head, mean and sum. */
START_TEST(grad_sce_loss) {
  for (int k = 0; k < 3; k++) {
    fr_model *m = fg_model(13);
    fr_value *x = P(m, "x", 2, FT_DIMS(4, 5));
    fr_value *w = P(m, "pw", 2, FT_DIMS(3, 5)), *b = P(m, "pb", 1, FT_DIMS(3));
    fr_node *gm = fg_node(m, "Gemm", "logits", 3, (fr_value *[]){x, w, b});
    fg_attr_i(m, gm, "transB", 1);
    fr_value *lab = fg_const(m, "labels", FR_I64, 1, FT_DIMS(4),
                             FT_DIMS(0, 2, 1, 2));
    fr_node *l = fg_node(m, "SoftmaxCrossEntropyLoss", "l", 2,
                         (fr_value *[]){gm->out[0], lab});
    static const char *red[] = {"mean", "sum", "none"};
    fr_attr *a = &l->attrs[l->n_attr++];
    a->name = "reduction";
    a->type = FR_ATTR_STRING;
    a->s = red[k];
    a->slen = strlen(red[k]);
    check(m, l->out[0], 1e-2f, 2e-2f);
  }
}
END_TEST

/* A frozen op without a rule before the trainable part is no error; one
 * between a trainable parameter and the loss is, naming the node. */
START_TEST(grad_frozen_needs_no_rule) {
  fr_model *m = fg_model(13);
  fr_value *x = P(m, "x", 2, FT_DIMS(2, 3));
  fr_value *f = N1("Floor", x); /* no rule, frozen */
  check(m, N2("Mul", f, P(m, "pw", 2, FT_DIMS(2, 3))), 1e-2f, 2e-2f);

  m = fg_model(13);
  fr_value *p = P(m, "pw", 2, FT_DIMS(2, 3));
  fr_node *fl = fg_node(m, "Floor", "floor", 1, &p);
  fr_node *sum = fg_node(m, "ReduceSum", "loss", 1, (fr_value *[]){fl->out[0]});
  fg_attr_i(m, sum, "keepdims", 0);
  fg_output(m, sum->out[0]);
  fg_finish(m);
  fr_train_graph tg = {.loss = sum->out[0]};
  m->graph->train = &tg;
  fr_freeze_opts fo = {.n_rules = 1, .rules = {{true, "^p"}}};
  ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
  fr_pipeline_opts po = {0};
  ck_assert_int_eq(fr_pass_autodiff(m, &po), FR_ERR_UNSUPPORTED);
  ck_assert_msg(strstr(fr_err_msg(), "floor") && strstr(fr_err_msg(), "Floor"),
                "%s", fr_err_msg());
  m->graph->train = NULL;
  fr_model_free(m);
}
END_TEST

FT_MAIN(grad, grad_arith_broadcast, grad_gemm, grad_matmul, grad_activations,
        grad_shapes, grad_softmax, grad_reduce_pool, grad_batchnorm,
        grad_sce_loss, grad_frozen_needs_no_rule)
