/* test_ctrl.c: control flow (If, Loop, Scan with hand-built subgraphs),
 * sequences, optionals, RNN/GRU/LSTM against scalar reference formulas,
 * NonMaxSuppression, DFT, windows, an optimizer, StringNormalizer, the
 * SequenceProto/OptionalProto reader, and error paths. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"

/* ---- helpers --------------------------------------------------------- */

/* Runs c's node with the interpreter only: the ops here often know their
 * output shapes only at run time. */
static fr_status run_only(ft_case *c, const char *domain, fr_tensor *in,
                          fr_tensor *out) {
  fr_node *n = c->n;
  n->op = fr_op_lookup(domain, n->op_type);
  ck_assert_msg(n->op != FR_OP_COUNT, "unknown op %s", n->op_type);
  fr_graph *g = c->m->graph;
  fr_tensor *inp[16];
  for (int i = 0; i < g->n_inputs; i++) {
    g->inputs[i]->t = in[i];
    g->inputs[i]->t.data = NULL;
    inp[i] = &in[i];
  }
  FR_TRY(fr_graph_verify(g));
  return fr_run_model(c->m, inp, out);
}

static fr_graph *sub_new(ft_case *c, const char *name) {
  fr_model *m = c->m;
  fr_graph *g = fr_graph_new(m, m->graph, name);
  g->inputs = fr_arena_alloc(&m->arena, sizeof(fr_value *) * 8);
  g->outputs = fr_arena_alloc(&m->arena, sizeof(fr_value *) * 8);
  return g;
}

static fr_value *sub_in(fr_graph *g, const char *name, fr_dtype dt, int rank,
                        const int64_t *dims) {
  fr_value *v = fr_value_new(g, name);
  v->flags = FR_V_INPUT;
  v->t.dtype = dt;
  v->t.rank = rank;
  for (int i = 0; i < rank; i++) v->t.dims[i] = dims[i];
  g->inputs[g->n_inputs++] = v;
  return v;
}

static fr_value *sub_op(fr_graph *g, const char *op, fr_value *a, fr_value *b,
                        const char *out) {
  int n_in = b ? 2 : a ? 1 : 0;
  fr_node *n = fr_node_new(g, out, op, "", n_in, 1, 1);
  n->n_attr = 0;
  n->opset = 13;
  n->op = fr_op_lookup("", op);
  ck_assert(n->op != FR_OP_COUNT);
  if (a) n->in[0] = a;
  if (b) n->in[1] = b;
  fr_value *v = fr_value_new(g, out);
  v->producer = n;
  n->out[0] = v;
  return v;
}

/* A Constant f32 vector node in g. */
static fr_value *sub_const(fr_graph *g, const char *out, int n,
                           const float *vals) {
  fr_value *v = sub_op(g, "Constant", NULL, NULL, out);
  fr_node *nd = v->producer;
  fr_arena *ar = &g->model->arena;
  fr_attr *a = &nd->attrs[nd->n_attr++];
  a->name = "value";
  a->type = FR_ATTR_TENSOR;
  a->t = fr_arena_alloc(ar, sizeof(fr_tensor));
  a->t->dtype = FR_F32;
  a->t->rank = 1;
  a->t->dims[0] = n;
  a->t->data = fr_arena_alloc(ar, sizeof(float) * (size_t)n);
  memcpy(a->t->data, vals, sizeof(float) * (size_t)n);
  v->t = *a->t;
  v->t.data = NULL;
  return v;
}

static void sub_out(fr_graph *g, fr_value *v) {
  v->flags |= FR_V_OUTPUT;
  g->outputs[g->n_outputs++] = v;
}

static void attr_graph(ft_case *c, const char *name, fr_graph *g) {
  fr_attr *a = &c->n->attrs[c->n->n_attr++];
  a->name = name;
  a->type = FR_ATTR_GRAPH;
  a->g = g;
}

/* A sequence view over elements (borrowed). */
static fr_tensor seq_of(fr_dtype dt, int n, fr_tensor **el) {
  fr_tensor s = {.kind = FR_KIND_SEQUENCE, .dtype = dt, .rank = 1,
                 .dims = {n}, .data = el};
  return s;
}

static const fr_tensor *seq_el(const fr_tensor *s, int i) {
  ck_assert_int_eq(s->kind, FR_KIND_SEQUENCE);
  ck_assert_int_lt(i, s->dims[0]);
  return ((fr_tensor *const *)s->data)[i];
}

static double sig(double v) { return 1 / (1 + exp(-v)); }

/* ---- sequences ------------------------------------------------------- */

START_TEST(sequence_construct_insert_erase) {
  float a[2] = {1, 2}, b[3] = {3, 4, 5}, d[1] = {9};
  ft_case *c = ft_new("SequenceConstruct", 11, 2, 1, 0);
  fr_tensor in[2] = {ft_tensor(FR_F32, 1, FT_DIMS(2), a),
                     ft_tensor(FR_F32, 1, FT_DIMS(3), b)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[0], 2);
  ft_check_f32(seq_el(&out[0], 0), 2, a, 0);
  ft_check_f32(seq_el(&out[0], 1), 3, b, 0);
  ft_free(c);

  /* Insert d at position -1 (before the last element). */
  c = ft_new("SequenceInsert", 11, 3, 1, 0);
  int64_t pos = -1;
  fr_tensor in2[3] = {out[0], ft_tensor(FR_F32, 1, FT_DIMS(1), d),
                      ft_tensor(FR_I64, 0, NULL, &pos)};
  fr_tensor out2[1];
  ck_assert_int_eq(ft_run(c, in2, out2), FR_OK);
  ck_assert_int_eq(out2[0].dims[0], 3);
  ft_check_f32(seq_el(&out2[0], 0), 2, a, 0);
  ft_check_f32(seq_el(&out2[0], 1), 1, d, 0);
  ft_check_f32(seq_el(&out2[0], 2), 3, b, 0);
  ft_free(c);

  /* Erase the first, then the length is 2. */
  c = ft_new("SequenceErase", 11, 2, 1, 0);
  int64_t zero = 0;
  fr_tensor in3[2] = {out2[0], ft_tensor(FR_I64, 0, NULL, &zero)};
  fr_tensor out3[1];
  ck_assert_int_eq(ft_run(c, in3, out3), FR_OK);
  ck_assert_int_eq(out3[0].dims[0], 2);
  ft_check_f32(seq_el(&out3[0], 0), 1, d, 0);
  ft_free(c);

  c = ft_new("SequenceLength", 11, 1, 1, 0);
  fr_tensor out4[1];
  ck_assert_int_eq(ft_run(c, out3, out4), FR_OK);
  ck_assert_int_eq(*(int64_t *)out4[0].data, 2);
  ft_free(c);
  ft_release(out, 1);
  ft_release(out2, 1);
  ft_release(out3, 1);
  ft_release(out4, 1);
}
END_TEST

START_TEST(sequence_at_and_bad_position) {
  float a[2] = {1, 2}, b[2] = {3, 4};
  fr_tensor ta = ft_tensor(FR_F32, 1, FT_DIMS(2), a),
            tb = ft_tensor(FR_F32, 1, FT_DIMS(2), b);
  fr_tensor *el[2] = {&ta, &tb};
  int64_t pos = -1;
  ft_case *c = ft_new("SequenceAt", 11, 2, 1, 0);
  fr_tensor in[2] = {seq_of(FR_F32, 2, el), ft_tensor(FR_I64, 0, NULL, &pos)};
  fr_tensor out[1];
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ft_check_f32(&out[0], 2, b, 0);
  ft_release(out, 1);
  ft_free(c);

  pos = 2; /* out of range */
  c = ft_new("SequenceAt", 11, 2, 1, 0);
  ck_assert_int_eq(run_only(c, "", in, out), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "out of range"));
  ft_free(c);
}
END_TEST

START_TEST(split_to_sequence_and_concat) {
  float x[6] = {1, 2, 3, 4, 5, 6}; /* (2, 3) */
  int64_t split[2] = {1, 2};
  ft_case *c = ft_new("SplitToSequence", 11, 2, 1, 1);
  ft_attr_i(c, "axis", 1);
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), x),
                     ft_tensor(FR_I64, 1, FT_DIMS(2), split)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[0], 2);
  const fr_tensor *p0 = seq_el(&out[0], 0), *p1 = seq_el(&out[0], 1);
  ck_assert_int_eq(p0->dims[1], 1);
  ck_assert_int_eq(p1->dims[1], 2);
  ft_check_f32(p0, 2, (const float[]){1, 4}, 0);
  ft_check_f32(p1, 4, (const float[]){2, 3, 5, 6}, 0);
  ft_free(c);

  /* Concatenate back along axis 1. */
  c = ft_new("ConcatFromSequence", 11, 1, 1, 1);
  ft_attr_i(c, "axis", 1);
  fr_tensor out2[1];
  ck_assert_int_eq(run_only(c, "", out, out2), FR_OK);
  ck_assert_int_eq(out2[0].rank, 2);
  ck_assert_int_eq(out2[0].dims[1], 3);
  ft_check_f32(&out2[0], 6, x, 0);
  ft_release(out2, 1);
  ft_free(c);

  /* Stacking pieces of different shapes on a new axis is an error. */
  c = ft_new("ConcatFromSequence", 11, 1, 1, 2);
  ft_attr_i(c, "axis", 0);
  ft_attr_i(c, "new_axis", 1);
  ck_assert_int_eq(run_only(c, "", out, out2), FR_ERR_SHAPE);
  ft_free(c);
  ft_release(out, 1);
}
END_TEST

/* ---- optionals ------------------------------------------------------- */

START_TEST(optionals) {
  float a[3] = {1, 2, 3};
  fr_tensor ta = ft_tensor(FR_F32, 1, FT_DIMS(3), a);
  fr_tensor full = {.kind = FR_KIND_OPTIONAL, .dtype = FR_F32, .data = &ta};
  fr_tensor none = {.kind = FR_KIND_OPTIONAL, .dtype = FR_F32};
  fr_tensor out[1];

  ft_case *c = ft_new("OptionalHasElement", 15, 1, 1, 0);
  ck_assert_int_eq(run_only(c, "", &full, out), FR_OK);
  ck_assert_int_eq(*(uint8_t *)out[0].data, 1);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("OptionalHasElement", 15, 1, 1, 0);
  ck_assert_int_eq(run_only(c, "", &none, out), FR_OK);
  ck_assert_int_eq(*(uint8_t *)out[0].data, 0);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("OptionalGetElement", 15, 1, 1, 0);
  ck_assert_int_eq(run_only(c, "", &full, out), FR_OK);
  ft_check_f32(&out[0], 3, a, 0);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("OptionalGetElement", 15, 1, 1, 0);
  ck_assert_int_eq(run_only(c, "", &none, out), FR_ERR_INVALID);
  ft_free(c);

  c = ft_new("Optional", 15, 1, 1, 0);
  ck_assert_int_eq(ft_run(c, &ta, out), FR_OK);
  ck_assert_int_eq(out[0].kind, FR_KIND_OPTIONAL);
  ck_assert_ptr_nonnull(out[0].data);
  ft_check_f32(out[0].data, 3, a, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- If, Loop, Scan -------------------------------------------------- */

static ft_case *if_case(void) {
  ft_case *c = ft_new("If", 13, 1, 1, 2);
  fr_graph *t = sub_new(c, "then"), *e = sub_new(c, "else");
  sub_out(t, sub_const(t, "tv", 2, (const float[]){1, 2}));
  sub_out(e, sub_const(e, "ev", 3, (const float[]){3, 4, 5}));
  attr_graph(c, "then_branch", t);
  attr_graph(c, "else_branch", e);
  return c;
}

START_TEST(if_branches) {
  uint8_t cond = 1;
  fr_tensor in[1] = {ft_tensor(FR_BOOL, 0, NULL, &cond)}, out[1];
  ft_case *c = if_case();
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ft_check_f32(&out[0], 2, (const float[]){1, 2}, 0);
  ft_release(out, 1);
  ft_free(c);

  cond = 0; /* the other branch, of another shape */
  c = if_case();
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[0], 3);
  ft_check_f32(&out[0], 3, (const float[]){3, 4, 5}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* Different shapes: unknown at compile time. */
  c = if_case();
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_UNSUPPORTED);
  ft_free(c);

  /* A condition of two values is refused. */
  uint8_t two[2] = {1, 0};
  fr_tensor bad[1] = {ft_tensor(FR_BOOL, 1, FT_DIMS(2), two)};
  c = if_case();
  ck_assert_int_eq(run_only(c, "", bad, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* Loop(M, cond, v): v += step each iteration, where step is an outer value
 * (graph input 3); scan output collects v. */
static ft_case *loop_case(void) {
  ft_case *c = ft_new("Loop", 13, 4, 2, 1);
  fr_graph *b = sub_new(c, "body");
  sub_in(b, "iter", FR_I64, 0, NULL);
  fr_value *cin = sub_in(b, "cond_in", FR_BOOL, 0, NULL);
  fr_value *vin = sub_in(b, "v_in", FR_F32, 1, FT_DIMS(1));
  fr_value *step = c->m->graph->inputs[3]; /* outer scope */
  fr_value *vout = sub_op(b, "Add", vin, step, "v_out");
  fr_value *scan = sub_op(b, "Identity", vout, NULL, "scan");
  scan->t = (fr_tensor){.dtype = FR_F32, .rank = 1, .dims = {1}};
  sub_out(b, sub_op(b, "Identity", cin, NULL, "cond_out"));
  sub_out(b, vout);
  sub_out(b, scan);
  attr_graph(c, "body", b);
  /* The Loop node takes inputs 0-2; input 3 is used only by the body. */
  c->n->n_in = 3;
  return c;
}

START_TEST(loop_carried_and_scan) {
  int64_t m = 3;
  uint8_t cond = 1;
  float v0 = 0, step = 2;
  fr_tensor in[4] = {ft_tensor(FR_I64, 0, NULL, &m),
                     ft_tensor(FR_BOOL, 0, NULL, &cond),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), &v0),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), &step)};
  fr_tensor out[2];
  ft_case *c = loop_case();
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ft_check_f32(&out[0], 1, (const float[]){6}, 0);
  ck_assert_int_eq(out[1].rank, 2);
  ck_assert_int_eq(out[1].dims[0], 3);
  ft_check_f32(&out[1], 3, (const float[]){2, 4, 6}, 0);
  ft_release(out, 2);
  ft_free(c);

  /* No iteration: the initial value, an empty scan of the body's shape. */
  m = 0;
  c = loop_case();
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ft_check_f32(&out[0], 1, (const float[]){0}, 0);
  ck_assert_int_eq(out[1].rank, 2);
  ck_assert_int_eq(out[1].dims[0], 0);
  ck_assert_int_eq(out[1].dims[1], 1);
  ft_release(out, 2);
  ft_free(c);

  /* A false condition stops before the first iteration. */
  m = 5;
  cond = 0;
  c = loop_case();
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ck_assert_int_eq(out[1].dims[0], 0);
  ft_release(out, 2);
  ft_free(c);
}
END_TEST

static ft_case *scan_case(int reverse_in, int reverse_out) {
  ft_case *c = ft_new("Scan", 11, 2, 2, 4);
  fr_graph *b = sub_new(c, "body");
  fr_value *s = sub_in(b, "sum_in", FR_F32, 1, FT_DIMS(2));
  fr_value *x = sub_in(b, "next", FR_F32, 1, FT_DIMS(2));
  fr_value *so = sub_op(b, "Add", s, x, "sum_out");
  fr_value *sc = sub_op(b, "Identity", so, NULL, "scan_out");
  so->t = sc->t = s->t; /* declared output types, as in a model */
  sub_out(b, so);
  sub_out(b, sc);
  attr_graph(c, "body", b);
  ft_attr_i(c, "num_scan_inputs", 1);
  ft_attr_ints(c, "scan_input_directions", 1, (const int64_t[]){reverse_in});
  ft_attr_ints(c, "scan_output_directions", 1,
               (const int64_t[]){reverse_out});
  return c;
}

START_TEST(scan_cumulative_sum) {
  float init[2] = {0, 0}, x[6] = {1, 2, 3, 4, 5, 6};
  fr_tensor in[2] = {ft_tensor(FR_F32, 1, FT_DIMS(2), init),
                     ft_tensor(FR_F32, 2, FT_DIMS(3, 2), x)};
  fr_tensor out[2];
  ft_case *c = scan_case(0, 0);
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ft_check_f32(&out[0], 2, (const float[]){9, 12}, 0);
  ft_check_f32(&out[1], 6, (const float[]){1, 2, 4, 6, 9, 12}, 0);
  ft_release(out, 2);
  ft_free(c);

  /* Reverse input: sums 5,6 then 3,4 then 1,2. */
  c = scan_case(1, 0);
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ft_check_f32(&out[1], 6, (const float[]){5, 6, 8, 10, 9, 12}, 0);
  ft_release(out, 2);
  ft_free(c);

  /* Reverse output: the first iteration's value lands last. */
  c = scan_case(0, 1);
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ft_check_f32(&out[1], 6, (const float[]){9, 12, 4, 6, 1, 2}, 0);
  ft_release(out, 2);
  ft_free(c);

  /* Compile-time shapes from the body's declared outputs. */
  c = scan_case(0, 0);
  ck_assert_msg(ft_run(c, in, out) == FR_OK, "%s", fr_err_msg());
  ck_assert_int_eq(c->n->out[1]->t.rank, 2);
  ck_assert_int_eq(c->n->out[1]->t.dims[0], 3);
  ft_release(out, 2);
  ft_free(c);
}
END_TEST

/* ---- RNN, GRU, LSTM -------------------------------------------------- */

START_TEST(rnn_bidirectional) {
  float x[2] = {1, 2};          /* (seq 2, batch 1, input 1) */
  float w[2] = {0.5f, -0.3f};   /* (2, 1, 1) */
  float r[2] = {0.8f, 0.4f};
  float b[4] = {0.1f, 0.0f, -0.2f, 0.05f};
  ft_case *c = ft_new("RNN", 14, 4, 2, 2);
  ft_attr_s(c, "direction", "bidirectional");
  ft_attr_i(c, "hidden_size", 1);
  fr_tensor in[4] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 1, 1), x),
                     ft_tensor(FR_F32, 3, FT_DIMS(2, 1, 1), w),
                     ft_tensor(FR_F32, 3, FT_DIMS(2, 1, 1), r),
                     ft_tensor(FR_F32, 2, FT_DIMS(2, 2), b)};
  fr_tensor out[2];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  double f1 = tanh(0.5 * 1 + 0.1), f2 = tanh(0.5 * 2 + 0.8 * f1 + 0.1);
  double g2 = tanh(-0.3 * 2 - 0.15), g1 = tanh(-0.3 * 1 + 0.4 * g2 - 0.15);
  ck_assert_int_eq(out[0].rank, 4); /* (seq, dirs, batch, hidden) */
  ck_assert_int_eq(out[0].dims[1], 2);
  ft_check_f32(&out[0], 4,
               (const float[]){(float)f1, (float)g1, (float)f2, (float)g2},
               1e-5f);
  ft_check_f32(&out[1], 2, (const float[]){(float)f2, (float)g1}, 1e-5f);
  ft_release(out, 2);
  ft_free(c);
}
END_TEST

START_TEST(gru_one_unit) {
  float x[2] = {1, 2};
  float w[3] = {0.5f, -0.5f, 1.0f}, r[3] = {0.2f, 0.3f, -0.4f};
  float b[6] = {0.1f, 0.2f, 0.3f, 0.0f, -0.1f, 0.05f};
  for (int lbr = 0; lbr < 2; lbr++) {
    ft_case *c = ft_new("GRU", 14, 4, 2, 2);
    ft_attr_i(c, "hidden_size", 1);
    ft_attr_i(c, "linear_before_reset", lbr);
    fr_tensor in[4] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 1, 1), x),
                       ft_tensor(FR_F32, 3, FT_DIMS(1, 3, 1), w),
                       ft_tensor(FR_F32, 3, FT_DIMS(1, 3, 1), r),
                       ft_tensor(FR_F32, 2, FT_DIMS(1, 6), b)};
    fr_tensor out[2];
    ck_assert_int_eq(ft_run(c, in, out), FR_OK);
    double h = 0, ys[2];
    for (int t = 0; t < 2; t++) {
      double z = sig(w[0] * x[t] + r[0] * h + b[0] + b[3]);
      double rr = sig(w[1] * x[t] + r[1] * h + b[1] + b[4]);
      double hh = lbr ? tanh(w[2] * x[t] + rr * (r[2] * h + b[5]) + b[2])
                      : tanh(w[2] * x[t] + r[2] * (rr * h) + b[5] + b[2]);
      h = (1 - z) * hh + z * h;
      ys[t] = h;
    }
    ft_check_f32(&out[0], 2, (const float[]){(float)ys[0], (float)ys[1]},
                 1e-5f);
    ft_check_f32(&out[1], 1, (const float[]){(float)h}, 1e-5f);
    ft_release(out, 2);
    ft_free(c);
  }
}
END_TEST

START_TEST(lstm_peepholes_initial_state) {
  float x[2] = {1, -1};
  float w[4] = {0.5f, -0.5f, 0.3f, 0.7f}; /* i, o, f, c */
  float r[4] = {0.1f, 0.2f, -0.3f, 0.4f};
  float b[8] = {0.1f, 0, 0, 0, 0, 0.2f, 0, -0.1f};
  int32_t lens[1] = {2};
  float h0[1] = {0.5f}, c0[1] = {-0.25f}, p[3] = {0.1f, 0.2f, 0.3f};
  ft_case *c = ft_new("LSTM", 14, 8, 3, 1);
  ft_attr_i(c, "hidden_size", 1);
  fr_tensor in[8] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 1, 1), x),
                     ft_tensor(FR_F32, 3, FT_DIMS(1, 4, 1), w),
                     ft_tensor(FR_F32, 3, FT_DIMS(1, 4, 1), r),
                     ft_tensor(FR_F32, 2, FT_DIMS(1, 8), b),
                     ft_tensor(FR_I32, 1, FT_DIMS(1), lens),
                     ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 1), h0),
                     ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 1), c0),
                     ft_tensor(FR_F32, 2, FT_DIMS(1, 3), p)};
  fr_tensor out[3];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  double h = h0[0], cs = c0[0];
  for (int t = 0; t < 2; t++) {
    double gi = w[0] * x[t] + r[0] * h + b[0] + b[4];
    double go = w[1] * x[t] + r[1] * h + b[1] + b[5];
    double gf = w[2] * x[t] + r[2] * h + b[2] + b[6];
    double gc = w[3] * x[t] + r[3] * h + b[3] + b[7];
    double i = sig(gi + p[0] * cs), f = sig(gf + p[2] * cs);
    double cn = f * cs + i * tanh(gc);
    double o = sig(go + p[1] * cn);
    cs = cn;
    h = o * tanh(cn);
  }
  ft_check_f32(&out[1], 1, (const float[]){(float)h}, 1e-5f);
  ft_check_f32(&out[2], 1, (const float[]){(float)cs}, 1e-5f);
  ft_release(out, 3);
  ft_free(c);
}
END_TEST

START_TEST(rnn_bad_shapes) {
  float x[4] = {0}, w[2] = {0}, r[1] = {0};
  ft_case *c = ft_new("RNN", 14, 3, 1, 1);
  ft_attr_i(c, "hidden_size", 1);
  fr_tensor in[3] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 1, 2), x),
                     ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 1), w), /* input 2 */
                     ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 1), r)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- NonMaxSuppression, signal processing ---------------------------- */

START_TEST(nms_suppress_by_iou) {
  float boxes[24] = {0, 0,   1, 1,   0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                     0, 10,  1, 11,  0, 10.1f, 1, 11.1f, 0, 100,   1, 101};
  float scores[6] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};
  int64_t max_out = 3;
  float iou = 0.5f, score = 0;
  ft_case *c = ft_new("NonMaxSuppression", 11, 5, 1, 0);
  fr_tensor in[5] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 6, 4), boxes),
                     ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 6), scores),
                     ft_tensor(FR_I64, 1, FT_DIMS(1), &max_out),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), &iou),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), &score)};
  fr_tensor out[1];
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[0], 3);
  const int64_t *s = out[0].data, want[9] = {0, 0, 3, 0, 0, 0, 0, 0, 5};
  for (int i = 0; i < 9; i++) ck_assert_int_eq(s[i], want[i]);
  ft_release(out, 1);
  ft_free(c);

  /* Boxes of the wrong shape. */
  c = ft_new("NonMaxSuppression", 11, 2, 1, 0);
  fr_tensor bad[2] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 4, 6), boxes),
                      ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 6), scores)};
  ck_assert_int_eq(run_only(c, "", bad, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(dft_and_windows) {
  float x[4] = {1, 2, 3, 4};
  ft_case *c = ft_new("DFT", 17, 1, 1, 0);
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 4, 1), x)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 8, (const float[]){10, 0, -2, 2, -2, 0, -2, -2},
               1e-6f);
  ft_release(out, 1);
  ft_free(c);

  /* The inverse transform brings the signal back. */
  float spec[8] = {10, 0, -2, 2, -2, 0, -2, -2};
  c = ft_new("DFT", 17, 1, 1, 1);
  ft_attr_i(c, "inverse", 1);
  fr_tensor in2[1] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 4, 2), spec)};
  ck_assert_int_eq(ft_run(c, in2, out), FR_OK);
  ft_check_f32(&out[0], 8, (const float[]){1, 0, 2, 0, 3, 0, 4, 0}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);

  /* axis on the last (real/imaginary) dimension is refused. */
  c = ft_new("DFT", 17, 1, 1, 1);
  ft_attr_i(c, "axis", 2);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);

  int64_t size = 4;
  c = ft_new("HannWindow", 17, 1, 1, 0);
  fr_tensor sz[1] = {ft_tensor(FR_I64, 0, NULL, &size)};
  ck_assert_int_eq(run_only(c, "", sz, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){0, 0.5f, 1, 0.5f}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  size = 5;
  c = ft_new("HannWindow", 17, 1, 1, 1);
  ft_attr_i(c, "periodic", 0);
  ck_assert_int_eq(run_only(c, "", sz, out), FR_OK);
  ft_check_f32(&out[0], 5, (const float[]){0, 0.5f, 1, 0.5f, 0}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- optimizer, strings ----------------------------------------------- */

START_TEST(momentum_nesterov) {
  float r = 0.1f, x[2] = {1, 2}, g[2] = {0.5f, -1}, v[2] = {0.2f, 0.4f};
  int64_t t = 1;
  ft_case *c = ft_new("Momentum", 1, 5, 2, 4);
  c->n->domain = "ai.onnx.preview.training";
  ft_attr_f(c, "alpha", 0.9f);
  ft_attr_f(c, "beta", 0.5f);
  ft_attr_f(c, "norm_coefficient", 0);
  ft_attr_s(c, "mode", "nesterov");
  fr_tensor in[5] = {ft_tensor(FR_F32, 0, NULL, &r),
                     ft_tensor(FR_I64, 0, NULL, &t),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), x),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), g),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), v)};
  fr_tensor out[2];
  ck_assert_int_eq(run_only(c, "ai.onnx.preview.training", in, out), FR_OK);
  float v0 = 0.9f * 0.2f + 0.5f * 0.5f, v1 = 0.9f * 0.4f + 0.5f * -1;
  ft_check_f32(&out[1], 2, (const float[]){v0, v1}, 1e-6f);
  ft_check_f32(&out[0], 2,
               (const float[]){1 - 0.1f * (0.5f + 0.9f * v0),
                               2 - 0.1f * (-1 + 0.9f * v1)},
               1e-6f);
  ft_release(out, 2);
  ft_free(c);
}
END_TEST

START_TEST(string_normalizer) {
  char *words[4] = {"monday", "Tuesday", "MONDAY", "wed"};
  ft_case *c = ft_new("StringNormalizer", 10, 1, 1, 2);
  ft_attr_s(c, "case_change_action", "UPPER");
  fr_attr *a = &c->n->attrs[c->n->n_attr++];
  a->name = "stopwords";
  a->type = FR_ATTR_STRINGS;
  a->n = 1;
  static const char *stop[1] = {"monday"};
  a->strings = stop;
  fr_tensor in[1] = {ft_tensor(FR_STRING, 1, FT_DIMS(4), words)}, out[1];
  ck_assert_int_eq(run_only(c, "", in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[0], 2);
  ck_assert_str_eq(((char **)out[0].data)[0], "TUESDAY");
  ck_assert_str_eq(((char **)out[0].data)[1], "WED");
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- .pb files of sequences and optionals ----------------------------- */

static const char *write_tmp(const uint8_t *b, size_t n) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/frost_test_ctrl_%d.pb", (int)getpid());
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  if (n) fwrite(b, 1, n, f);
  fclose(f);
  return path;
}

static size_t put_varint(uint8_t *p, uint64_t v) {
  size_t k = 0;
  do {
    p[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return k;
}

START_TEST(value_pb_reader) {
  /* SequenceProto{name "x", elem_type 1, tensor_values: f32[2] {1, 2}} */
  const uint8_t seq[] = {0x0a, 0x01, 'x', 0x10, 0x01, 0x1a, 0x0e, 0x08,
                         0x02, 0x10, 0x01, 0x4a, 0x08, 0x00, 0x00, 0x80,
                         0x3f, 0x00, 0x00, 0x00, 0x40};
  fr_tensor t;
  const char *p = write_tmp(seq, sizeof seq);
  ck_assert_int_eq(fr_onnx_read_value_pb(p, FR_KIND_SEQUENCE, FR_UNDEFINED, &t),
                   FR_OK);
  ck_assert_int_eq(t.dims[0], 1);
  ck_assert_int_eq(t.dtype, FR_F32);
  ft_check_f32(seq_el(&t, 0), 2, (const float[]){1, 2}, 0);
  fr_onnx_value_free(&t);

  /* Truncated: the tensor's length runs past the end. */
  p = write_tmp(seq, sizeof seq - 3);
  ck_assert_int_eq(fr_onnx_read_value_pb(p, FR_KIND_SEQUENCE, FR_F32, &t),
                   FR_ERR_PARSE);
  /* A varint that never ends. */
  const uint8_t bad[] = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                         0xff, 0xff, 0xff, 0xff, 0xff};
  p = write_tmp(bad, sizeof bad);
  ck_assert_int_eq(fr_onnx_read_value_pb(p, FR_KIND_OPTIONAL, FR_F32, &t),
                   FR_ERR_PARSE);
  /* An empty optional (elem_type 0). */
  const uint8_t none[] = {0x0a, 0x01, 'o', 0x10, 0x00};
  p = write_tmp(none, sizeof none);
  ck_assert_int_eq(fr_onnx_read_value_pb(p, FR_KIND_OPTIONAL, FR_F32, &t),
                   FR_OK);
  ck_assert_int_eq(t.kind, FR_KIND_OPTIONAL);
  ck_assert_ptr_null(t.data);
  ck_assert_int_eq(t.dtype, FR_F32);
  /* Sequences nested 40 deep are refused, not recursed into. */
  uint8_t *buf = fr_malloc(4096), *tmp = fr_malloc(4096);
  size_t n = 0;
  for (int d = 0; d < 40; d++) {
    size_t k = 0;
    tmp[k++] = 0x10;
    tmp[k++] = 0x03; /* elem_type: sequence */
    tmp[k++] = 0x2a; /* field 5, length-delimited */
    k += put_varint(tmp + k, n);
    memcpy(tmp + k, buf, n);
    n += k;
    memcpy(buf, tmp, n);
  }
  p = write_tmp(buf, n);
  ck_assert_int_eq(fr_onnx_read_value_pb(p, FR_KIND_SEQUENCE, FR_F32, &t),
                   FR_ERR_PARSE);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "nested"));
  fr_free(buf);
  fr_free(tmp);
  unlink(p);
}
END_TEST

FT_MAIN(ctrl, sequence_construct_insert_erase, sequence_at_and_bad_position,
        split_to_sequence_and_concat, optionals, if_branches,
        loop_carried_and_scan, scan_cumulative_sum, rnn_bidirectional,
        gru_one_unit, lstm_peepholes_initial_state, rnn_bad_shapes,
        nms_suppress_by_iou, dft_and_windows, momentum_nesterov,
        string_normalizer, value_pb_reader)
