/* test_grad.c: every gradient rule against finite differences, in the
 * style of ggml's test-grad0. Each case builds a small graph whose
 * parameters (initializers named p*) are made trainable, reduces its output
 * to a scalar loss sum(y * r) with a fixed random r, runs the autodiff pass,
 * and compares each gradient the interpreter computes with the central
 * difference (L(p + e) - L(p - e)) / 2e of the loss, element by element. */
#include <math.h>
#include <stdlib.h>
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
  ck_assert_msg(fr_compile_jit(m, &(fr_jit_opts){.calls = true}, &comp) == FR_OK, "%s",
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

static void attr_s(fr_model *m, fr_node *n, const char *name, const char *v) {
  fr_attr *a = &n->attrs[n->n_attr++];
  a->name = fr_arena_strdup(&m->arena, name);
  a->type = FR_ATTR_STRING;
  a->s = fr_arena_strdup(&m->arena, v);
  a->slen = strlen(v);
}

/* A parameter whose values are all distinct, 0.013 apart (in a random
 * order, signs too), and 0.0026 k apart from those of the k-th call before
 * (k < 5), so that a step eps < 0.0013 changes no max. */
static fr_value *distinct(fr_model *m, const char *name, int rank,
                          const int64_t *dims) {
  static int calls;
  float off = 0.0026f * (float)(calls++ % 5);
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *d = fr_malloc(sizeof(float) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) d[i] = 0.013f * (float)(i - n / 2) + off;
  for (int64_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
    int64_t j = (int64_t)(rnd(0, 1, false) * (float)(i + 1)) % (i + 1);
    float t = d[i];
    d[i] = d[j];
    d[j] = t;
  }
  fr_value *v = fg_const(m, name, FR_F32, rank, dims, d);
  fr_free(d);
  return v;
}

/* A window's attributes: each list has nsp (pads 2 nsp) entries, NULL or
 * a negative first entry: absent. */
typedef struct win {
  const char *auto_pad;
  int64_t strides[3], dil[3], pads[6];
  int64_t group;
} win;

static void set_win(fr_model *m, fr_node *n, int nsp, const win *w) {
  if (w->auto_pad) attr_s(m, n, "auto_pad", w->auto_pad);
  if (w->strides[0] > 0) fg_attr_ints(m, n, "strides", nsp, w->strides);
  if (w->dil[0] > 0) fg_attr_ints(m, n, "dilations", nsp, w->dil);
  if (w->pads[0] >= 0) fg_attr_ints(m, n, "pads", 2 * nsp, w->pads);
  if (w->group > 1) fg_attr_i(m, n, "group", w->group);
}

/* Conv in 1-D, 2-D and 3-D with groups (depthwise, and depthwise with two
 * outputs per channel), strides, explicit pads, SAME_UPPER, SAME_LOWER,
 * VALID, dilations, with and without bias; x, W and B all trainable. */
START_TEST(grad_conv) {
  static const struct {
    int rank;
    int64_t x[5], w[5];
    win w_;
    bool bias;
  } cases[] = {
      {3, {2, 3, 7}, {4, 3, 3}, {NULL, {2}, {-1}, {1, 2}, 1}, true},
      {4, {1, 4, 6, 7}, {6, 2, 3, 2}, {NULL, {2, 1}, {1, 2}, {1, 0, 0, 1}, 2}, true},
      {4, {2, 3, 5, 5}, {3, 1, 3, 3}, {NULL, {-1}, {-1}, {1, 1, 1, 1}, 3}, false},
      {4, {1, 2, 5, 5}, {4, 1, 3, 3}, {NULL, {2, 2}, {-1}, {0, 1, 2, 0}, 2}, true},
      {4, {1, 2, 5, 6}, {3, 2, 3, 3}, {"SAME_UPPER", {2, 2}, {-1}, {-1}, 1}, false},
      {4, {1, 2, 6, 5}, {2, 2, 2, 3}, {"SAME_LOWER", {2, 1}, {-1}, {-1}, 1}, true},
      {4, {1, 2, 5, 5}, {3, 2, 3, 3}, {"VALID", {2, 2}, {-1}, {-1}, 1}, true},
      {5, {1, 2, 4, 4, 3}, {2, 1, 2, 3, 2}, {NULL, {1, 2, 1}, {-1}, {0, 1, 1, 1, 0, 0}, 2}, true},
      /* depthwise on rows of 13 (8 + 4 + 1 lanes), and 1x1 (dW as one
       * GEMM over x, no im2col), with 2 groups too */
      {4, {2, 4, 3, 13}, {4, 1, 3, 3}, {NULL, {-1}, {-1}, {1, 1, 1, 1}, 4}, true},
      {4, {2, 5, 3, 7}, {6, 5, 1, 1}, {NULL, {-1}, {-1}, {-1}, 1}, true},
      {4, {2, 4, 2, 5}, {6, 2, 1, 1}, {NULL, {-1}, {-1}, {-1}, 2}, false},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    fr_model *m = fg_model(13);
    int r = cases[c].rank;
    fr_value *x = P(m, "px", r, cases[c].x), *w = P(m, "pw", r, cases[c].w);
    fr_value *b = cases[c].bias ? P(m, "pb", 1, cases[c].w) : NULL;
    fr_node *n = fg_node(m, "Conv", "y", b ? 3 : 2, (fr_value *[]){x, w, b});
    set_win(m, n, r - 2, &cases[c].w_);
    check(m, n->out[0], 1e-2f, 2e-2f);
  }
}
END_TEST

/* ConvTranspose with strides, pads, output_padding, output_shape, groups,
 * dilations, in 1-D to 3-D. */
START_TEST(grad_conv_transpose) {
  for (int c = 0; c < 4; c++) {
    fr_model *m = fg_model(13);
    fr_node *n;
    if (c == 0) {
      fr_value *x = P(m, "px", 4, FT_DIMS(1, 4, 3, 3));
      fr_value *w = P(m, "pw", 4, FT_DIMS(4, 3, 3, 3));
      fr_value *b = P(m, "pb", 1, FT_DIMS(3));
      n = fg_node(m, "ConvTranspose", "y", 3, (fr_value *[]){x, w, b});
      fg_attr_ints(m, n, "strides", 2, FT_DIMS(2, 2));
      fg_attr_ints(m, n, "pads", 4, FT_DIMS(1, 1, 0, 1));
      fg_attr_ints(m, n, "output_padding", 2, FT_DIMS(1, 0));
    } else if (c == 1) {
      fr_value *x = P(m, "px", 4, FT_DIMS(2, 4, 3, 2));
      fr_value *w = P(m, "pw", 4, FT_DIMS(4, 1, 2, 3));
      n = fg_node(m, "ConvTranspose", "y", 2, (fr_value *[]){x, w});
      fg_attr_ints(m, n, "strides", 2, FT_DIMS(2, 2));
      fg_attr_ints(m, n, "dilations", 2, FT_DIMS(2, 1));
      fg_attr_i(m, n, "group", 2);
    } else if (c == 2) {
      fr_value *x = P(m, "px", 3, FT_DIMS(1, 2, 4));
      fr_value *w = P(m, "pw", 3, FT_DIMS(2, 3, 3));
      fr_value *b = P(m, "pb", 1, FT_DIMS(3));
      n = fg_node(m, "ConvTranspose", "y", 3, (fr_value *[]){x, w, b});
      fg_attr_ints(m, n, "strides", 1, FT_DIMS(2));
      fg_attr_ints(m, n, "output_shape", 1, FT_DIMS(8));
    } else {
      fr_value *x = P(m, "px", 5, FT_DIMS(1, 2, 2, 2, 2));
      fr_value *w = P(m, "pw", 5, FT_DIMS(2, 2, 2, 2, 2));
      n = fg_node(m, "ConvTranspose", "y", 2, (fr_value *[]){x, w});
      fg_attr_ints(m, n, "strides", 3, FT_DIMS(2, 1, 2));
      fg_attr_ints(m, n, "pads", 6, FT_DIMS(0, 1, 0, 1, 0, 0));
    }
    check(m, n->out[0], 1e-2f, 2e-2f);
  }
}
END_TEST

/* MaxPool: overlapping windows (kernel 3, stride 2) with pads, dilation
 * with ceil_mode in 1-D, ceil_mode in 2-D, and the Indices output; then
 * GlobalMaxPool. Values distinct, so the finite step moves no maximum. */
START_TEST(grad_max_pool) {
  for (int c = 0; c < 4; c++) {
    fr_model *m = fg_model(12);
    fr_value *x;
    fr_node *n;
    if (c == 0) {
      x = distinct(m, "px", 4, FT_DIMS(2, 3, 7, 7));
      n = fg_node(m, "MaxPool", "y", 1, &x);
      fg_attr_ints(m, n, "kernel_shape", 2, FT_DIMS(3, 3));
      fg_attr_ints(m, n, "strides", 2, FT_DIMS(2, 2));
      fg_attr_ints(m, n, "pads", 4, FT_DIMS(1, 1, 1, 1));
    } else if (c == 1) {
      x = distinct(m, "px", 3, FT_DIMS(1, 2, 8));
      n = fg_node(m, "MaxPool", "y", 1, &x);
      fg_attr_ints(m, n, "kernel_shape", 1, FT_DIMS(2));
      fg_attr_ints(m, n, "dilations", 1, FT_DIMS(2));
      fg_attr_ints(m, n, "strides", 1, FT_DIMS(3));
      fg_attr_i(m, n, "ceil_mode", 1);
    } else if (c == 2) {
      x = distinct(m, "px", 4, FT_DIMS(1, 2, 5, 5));
      n = fg_node(m, "MaxPool", "y", 1, &x);
      fg_attr_ints(m, n, "kernel_shape", 2, FT_DIMS(2, 2));
      fg_attr_ints(m, n, "strides", 2, FT_DIMS(2, 2));
      fg_attr_i(m, n, "ceil_mode", 1);
    } else {
      x = distinct(m, "px", 4, FT_DIMS(1, 2, 4, 4));
      n = fr_node_new(m->graph, "y", "MaxPool", "", 1, 2, 8);
      n->n_attr = 0;
      n->opset = 12;
      n->in[0] = x;
      for (int i = 0; i < 2; i++) {
        n->out[i] = fr_value_new(m->graph, i ? "idx" : "y");
        n->out[i]->producer = n;
      }
      fg_attr_ints(m, n, "kernel_shape", 2, FT_DIMS(2, 2));
    }
    check(m, n->out[0], 1e-3f, 2e-2f);
  }
  fr_model *m = fg_model(13);
  fr_value *x = distinct(m, "px", 4, FT_DIMS(2, 3, 4, 3));
  check(m, N1("GlobalMaxPool", x), 1e-3f, 2e-2f);
}
END_TEST

/* AveragePool: count_include_pad 0 and 1 with pads, ceil_mode's partial
 * windows, 1-D with uneven pads, and dilations (opset 19). */
START_TEST(grad_avg_pool) {
  for (int c = 0; c < 5; c++) {
    fr_model *m = fg_model(c == 4 ? 19 : 13);
    fr_value *x = P(m, "px", c == 3 ? 3 : 4,
                    c == 3 ? FT_DIMS(2, 2, 7) : FT_DIMS(1, 2, 6, 5));
    fr_node *n = fg_node(m, "AveragePool", "y", 1, &x);
    if (c < 2) {
      fg_attr_ints(m, n, "kernel_shape", 2, FT_DIMS(3, 3));
      fg_attr_ints(m, n, "strides", 2, FT_DIMS(2, 2));
      fg_attr_ints(m, n, "pads", 4, FT_DIMS(1, 1, 1, 1));
      fg_attr_i(m, n, "count_include_pad", c);
    } else if (c == 2) {
      fg_attr_ints(m, n, "kernel_shape", 2, FT_DIMS(2, 2));
      fg_attr_ints(m, n, "strides", 2, FT_DIMS(2, 2));
      fg_attr_ints(m, n, "pads", 4, FT_DIMS(0, 1, 0, 0));
      fg_attr_i(m, n, "ceil_mode", 1);
      fg_attr_i(m, n, "count_include_pad", 1);
    } else if (c == 3) {
      fg_attr_ints(m, n, "kernel_shape", 1, FT_DIMS(3));
      fg_attr_ints(m, n, "pads", 2, FT_DIMS(2, 0));
    } else {
      fg_attr_ints(m, n, "kernel_shape", 2, FT_DIMS(2, 2));
      fg_attr_ints(m, n, "dilations", 2, FT_DIMS(2, 1));
      fg_attr_ints(m, n, "pads", 4, FT_DIMS(1, 0, 0, 1));
    }
    check(m, n->out[0], 1e-2f, 2e-2f);
  }
}
END_TEST

/* PRelu with a per-channel slope, Clip (bounds as inputs, trainable, and
 * as attributes before opset 11), HardSigmoid, HardSwish, Elu, Softplus,
 * Erf. */
START_TEST(grad_activations2) {
  fr_model *m = fg_model(13);
  fr_value *x = P(m, "px", 4, FT_DIMS(2, 3, 2, 2));
  check(m, N2("PRelu", x, P(m, "ps", 3, FT_DIMS(3, 1, 1))), 1e-3f, 2e-2f);

  m = fg_model(13);
  x = P(m, "px", 2, FT_DIMS(4, 5));
  float lo = -0.45f, hi = 0.55f;
  fr_value *plo = fg_const(m, "plo", FR_F32, 0, NULL, &lo);
  fr_value *phi = fg_const(m, "phi", FR_F32, 0, NULL, &hi);
  check(m, node(m, "Clip", "y", 3, (fr_value *[]){x, plo, phi}), 1e-3f, 2e-2f);

  m = fg_model(6);
  x = P(m, "px", 2, FT_DIMS(4, 5));
  fr_node *n = fg_node(m, "Clip", "y", 1, &x);
  fg_attr_f(m, n, "min", -0.45f);
  check(m, n->out[0], 1e-3f, 2e-2f);

  m = fg_model(13);
  x = P(m, "px", 2, FT_DIMS(4, 5));
  n = fg_node(m, "HardSigmoid", "y", 1, &x);
  fg_attr_f(m, n, "alpha", 0.8f);
  fg_attr_f(m, n, "beta", 0.45f);
  check(m, n->out[0], 1e-3f, 2e-2f);

  m = fg_model(14);
  x = param(m, "px", 2, FT_DIMS(4, 6), 0.1f, 5.0f, true);
  check(m, N1("HardSwish", x), 1e-3f, 2e-2f);

  m = fg_model(13);
  x = P(m, "px", 2, FT_DIMS(4, 5));
  n = fg_node(m, "Elu", "y", 1, &x);
  fg_attr_f(m, n, "alpha", 0.7f);
  check(m, n->out[0], 1e-3f, 2e-2f);

  const char *ops[] = {"Softplus", "Erf"};
  for (int i = 0; i < 2; i++) {
    m = fg_model(13);
    x = param(m, "px", 2, FT_DIMS(3, 4), 0.1f, 2.0f, true);
    check(m, node(m, ops[i], "y", 1, &x), 1e-3f, 2e-2f);
  }
}
END_TEST

/* Pow by a constant integer exponent (any sign of x), by a trainable one
 * (positive x); Max, Min, Sum, Mean of three broadcasting operands. */
START_TEST(grad_pow_variadic) {
  fr_model *m = fg_model(13);
  fr_value *x = P(m, "px", 2, FT_DIMS(3, 4));
  int64_t three = 3;
  fr_value *e = fg_const(m, "e", FR_I64, 0, NULL, &three);
  check(m, N2("Pow", x, e), 1e-3f, 2e-2f);

  m = fg_model(13);
  x = param(m, "px", 2, FT_DIMS(3, 4), 0.5f, 2.0f, false);
  check(m, N2("Pow", x, param(m, "pe", 1, FT_DIMS(4), 0.5f, 2.5f, true)),
        1e-3f, 2e-2f);

  const char *ops[] = {"Max", "Min", "Sum", "Mean"};
  for (int i = 0; i < 4; i++) {
    m = fg_model(13);
    fr_value *a = distinct(m, "pa", 2, FT_DIMS(2, 3));
    fr_value *b = distinct(m, "pb", 1, FT_DIMS(3));
    fr_value *c = distinct(m, "pc", 2, FT_DIMS(1, 3));
    check(m, node(m, ops[i], "y", 3, (fr_value *[]){a, b, c}), 1e-3f, 2e-2f);
  }
  /* ties: Max(a, a) gives d to the first operand only, so 1 d in total */
  m = fg_model(13);
  fr_value *a = P(m, "pa", 1, FT_DIMS(4));
  check(m, N2("Max", a, a), 1e-3f, 2e-2f);
}
END_TEST

/* Concat; Slice with steps 2, -2 and 2 (the gradient interleaved and
 * reversed back); Gather along axis 1 with repeated and negative indices
 * and along axis 0 with 2-D indices; Pad with a crop; Expand; Tile. */
START_TEST(grad_movement) {
  fr_model *m = fg_model(13);
  fr_value *a = P(m, "pa", 2, FT_DIMS(2, 3)), *b = P(m, "pb", 2, FT_DIMS(2, 1));
  fr_node *n = fg_node(m, "Concat", "y", 3,
                       (fr_value *[]){a, b, P(m, "pc", 2, FT_DIMS(2, 2))});
  fg_attr_i(m, n, "axis", -1);
  check(m, n->out[0], 1e-2f, 2e-2f);

  for (int c = 0; c < 2; c++) {
    m = fg_model(13);
    fr_value *x = P(m, "px", 3, FT_DIMS(4, 7, 5));
    fr_value *in[5] = {
        x, fg_const(m, "starts", FR_I64, 1, FT_DIMS(3), FT_DIMS(1, 6, 0)),
        fg_const(m, "ends", FR_I64, 1, FT_DIMS(3), FT_DIMS(4, 0, 5)),
        fg_const(m, "axes", FR_I64, 1, FT_DIMS(3), FT_DIMS(0, 1, 2)),
        fg_const(m, "steps", FR_I64, 1, FT_DIMS(3),
                 c ? FT_DIMS(1, -1, 1) : FT_DIMS(2, -2, 2))};
    check(m, node(m, "Slice", "y", 5, in), 1e-2f, 2e-2f);
  }

  m = fg_model(13);
  fr_value *x = P(m, "px", 3, FT_DIMS(3, 4, 2));
  fr_value *idx = fg_const(m, "idx", FR_I64, 1, FT_DIMS(4), FT_DIMS(2, 0, 2, -1));
  n = fg_node(m, "Gather", "y", 2, (fr_value *[]){x, idx});
  fg_attr_i(m, n, "axis", 1);
  check(m, n->out[0], 1e-2f, 2e-2f);
  m = fg_model(13);
  x = P(m, "px", 2, FT_DIMS(5, 3));
  int32_t i32[6] = {4, 1, 1, 0, 4, 4};
  idx = fg_const(m, "idx", FR_I32, 2, FT_DIMS(2, 3), i32);
  check(m, N2("Gather", x, idx), 1e-2f, 2e-2f);

  m = fg_model(13);
  x = P(m, "px", 2, FT_DIMS(3, 4));
  fr_value *pads = fg_const(m, "pads", FR_I64, 1, FT_DIMS(4), FT_DIMS(1, -1, 0, 2));
  check(m, N2("Pad", x, pads), 1e-2f, 2e-2f);

  m = fg_model(13);
  x = P(m, "px", 2, FT_DIMS(3, 1));
  fr_value *shape = fg_const(m, "shape", FR_I64, 1, FT_DIMS(3), FT_DIMS(2, 3, 4));
  check(m, N2("Expand", x, shape), 1e-2f, 2e-2f);

  m = fg_model(13);
  x = P(m, "px", 2, FT_DIMS(2, 3));
  fr_value *rep = fg_const(m, "rep", FR_I64, 1, FT_DIMS(2), FT_DIMS(3, 2));
  check(m, N2("Tile", x, rep), 1e-2f, 2e-2f);
}
END_TEST

/* Dropout in training mode (ratio 0.3, then the default 0.5; a fixed
 * seed: the same mask in every run): the rule adds the mask output the
 * backward reads. Without training_mode it is the identity. */
START_TEST(grad_dropout) {
  for (int c = 0; c < 3; c++) {
    fr_model *m = fg_model(13);
    fr_value *x = P(m, "px", 2, FT_DIMS(6, 5));
    float ratio = 0.3f;
    uint8_t on = 1;
    fr_value *in[3] = {x, c == 1 ? NULL : fg_const(m, "ratio", FR_F32, 0, NULL, &ratio),
                       fg_const(m, "train", FR_BOOL, 0, NULL, &on)};
    fr_node *n = fg_node(m, "Dropout", "y", c == 2 ? 2 : 3, in);
    fg_attr_i(m, n, "seed", 7);
    check(m, N2("Mul", n->out[0], P(m, "pw", 2, FT_DIMS(6, 5))), 1e-2f, 2e-2f);
  }
}
END_TEST

/* BatchNormalization in training mode: the batch statistics depend on x,
 * so its gradient goes through them; gamma and beta trainable too. */
START_TEST(grad_batchnorm_train) {
  fr_model *m = fg_model(15);
  fr_value *x = P(m, "px", 4, FT_DIMS(3, 2, 2, 2));
  fr_value *gamma = P(m, "pg", 1, FT_DIMS(2)), *beta = P(m, "pb", 1, FT_DIMS(2));
  fr_value *mean = param(m, "mean", 1, FT_DIMS(2), 0.1f, 0.5f, true);
  fr_value *var = param(m, "var", 1, FT_DIMS(2), 0.5f, 2.0f, false);
  fr_node *n = fg_node(m, "BatchNormalization", "y", 5,
                       (fr_value *[]){x, gamma, beta, mean, var});
  fg_attr_i(m, n, "training_mode", 1);
  check(m, n->out[0], 1e-2f, 3e-2f);
}
END_TEST

/* The maximum pooling gradient of windows side by side (2x2 stride 2,
 * 3x2 stride 3x2, depth 2, inputs a window does not reach) against the
 * rule written out: each window's dy to the first of its maxima in row
 * order, rows of whole vectors and of a vector and a tail (8 or 16
 * lanes). Values from {0, 1, 2}: windows full of ties. */
START_TEST(maxpool_grad_tiles) {
  static const int64_t cases[][7] = {
      /* planes, ID, IH, IW, KH, KW, (OH, OW from IH / KH, IW / KW) */
      {3, 1, 8, 10, 2, 2, 0}, {2, 1, 7, 9, 2, 2, 0}, {2, 2, 7, 8, 3, 2, 0},
      {1, 1, 6, 6, 1, 3, 0},  {4, 1, 2, 34, 2, 2, 0}, {2, 1, 4, 64, 2, 2, 0},
      {1, 1, 3, 46, 2, 2, 0}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const int64_t *q = cases[c];
    fr_k_pool p = {.kind = FR_K_POOL_MAX, .planes = q[0],
                   .in = {q[1], q[2], q[3]},
                   .out = {q[1], q[2] / q[4], q[3] / q[5]},
                   .k = {1, q[4], q[5]}, .stride = {1, q[4], q[5]},
                   .dil = {1, 1, 1}};
    const int64_t IS = q[1] * q[2] * q[3], OS = p.out[0] * p.out[1] * p.out[2];
    float *x = malloc(sizeof(float) * (size_t)(q[0] * IS));
    float *dy = malloc(sizeof(float) * (size_t)(q[0] * OS));
    float *dx = malloc(sizeof(float) * (size_t)(q[0] * IS));
    float *want = calloc((size_t)(q[0] * IS), sizeof(float));
    for (int64_t i = 0; i < q[0] * IS; i++) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      x[i] = (float)((seed >> 33) % 3);
    }
    for (int64_t i = 0; i < q[0] * OS; i++) dy[i] = rnd(-1, 1, true);
    for (int64_t pl = 0; pl < q[0] * q[1]; pl++)
      for (int64_t oh = 0; oh < p.out[1]; oh++)
        for (int64_t ow = 0; ow < p.out[2]; ow++) {
          int64_t bi = -1;
          for (int64_t ky = 0; ky < q[4]; ky++)
            for (int64_t kx = 0; kx < q[5]; kx++) {
              int64_t i = pl * q[2] * q[3] + (oh * q[4] + ky) * q[3] + ow * q[5] + kx;
              if (bi < 0 || x[i] > x[bi]) bi = i;
            }
          want[bi] += dy[(pl * p.out[1] + oh) * p.out[2] + ow];
        }
    for (int64_t i = 0; i < q[0] * IS; i++) dx[i] = NAN;
    fr_k_maxpool_grad_f32(&p, dy, x, dx);
    for (int64_t i = 0; i < q[0] * IS; i++)
      ck_assert_msg(dx[i] == want[i], "case %zu: dx[%lld] = %g, want %g", c,
                    (long long)i, dx[i], want[i]);
    free(x), free(dy), free(dx), free(want);
  }
}
END_TEST

FT_MAIN(grad, grad_arith_broadcast, grad_gemm, grad_matmul, grad_activations,
        grad_shapes, grad_softmax, grad_reduce_pool, grad_batchnorm,
        grad_sce_loss, grad_frozen_needs_no_rule, grad_conv,
        grad_conv_transpose, grad_max_pool, grad_avg_pool, grad_activations2,
        grad_pow_variadic, grad_movement, grad_dropout, grad_batchnorm_train, maxpool_grad_tiles)
