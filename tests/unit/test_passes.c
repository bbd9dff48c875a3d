/* test_passes.c: each pass of the pipeline on a small hand-built graph:
 * golden dumps before and after (tests/golden/passes/), and, for the passes
 * that change arithmetic, the outputs before and after on the same input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Runs one pass, verifies, and compares "before/after" with the golden. */
static void check_pass(fr_model *m, fr_status (*pass)(fr_model *, const fr_pipeline_opts *),
                       const char *golden) {
  fr_freeze_opts fo = {0};
  ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
  char *before = fg_dump(m);
  fr_pipeline_opts po = {0};
  ck_assert_msg(pass(m, &po) == FR_OK, "%s", fr_err_msg());
  ck_assert_msg(fr_graph_verify(m->graph) == FR_OK, "%s", fr_err_msg());
  char *after = fg_dump(m);
  size_t n = strlen(before) + strlen(after) + 32;
  char *text = malloc(n);
  snprintf(text, n, "; before\n%s; after\n%s", before, after);
  fg_golden(golden, text);
  free(before);
  free(after);
  free(text);
}

/* The model's output on x (f32), into y (n floats). */
static void run_f32(fr_model *m, const fr_tensor *x, float *y, int64_t n) {
  fr_tensor in = *x, *inp = &in, out[1];
  ck_assert_msg(fr_run_model(m, &inp, out) == FR_OK, "%s", fr_err_msg());
  ck_assert_int_eq(fr_tensor_numel(&out[0]), n);
  memcpy(y, out[0].data, sizeof(float) * (size_t)n);
  fr_tensor_release(&out[0]);
}

static void fill(float *x, int n, unsigned seed) {
  for (int i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    x[i] = (float)(seed >> 8) / (float)(1u << 24) * 2 - 1;
  }
}

static void close_enough(const float *a, const float *b, int n, float rel) {
  for (int i = 0; i < n; i++)
    ck_assert_msg(fabsf(a[i] - b[i]) <= rel * (1 + fabsf(b[i])),
                  "element %d: %g vs %g", i, a[i], b[i]);
}

/* y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): the shape
 * chain folds to a constant; a Constant node becomes an initializer. */
START_TEST(fold_shape_chain) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 3, FT_DIMS(2, 3, 4));
  int64_t zero = 0, minus1 = -1;
  fr_value *i0 = fg_const(m, "zero", FR_I64, 0, NULL, &zero);
  fr_value *m1 = fg_const(m, "minus1", FR_I64, 1, FT_DIMS(1), &minus1);
  fr_value *ax = fg_const(m, "axes", FR_I64, 1, FT_DIMS(1), &zero);
  fr_value *s = fg_node(m, "Shape", "s", 1, &x)->out[0];
  fr_value *d0 = fg_node(m, "Gather", "d0", 2, (fr_value *[]){s, i0})->out[0];
  fr_value *u = fg_node(m, "Unsqueeze", "u", 2, (fr_value *[]){d0, ax})->out[0];
  fr_node *cat = fg_node(m, "Concat", "shape", 2, (fr_value *[]){u, m1});
  fg_attr_i(m, cat, "axis", 0);
  fr_value *y = fg_node(m, "Reshape", "y", 2, (fr_value *[]){x, cat->out[0]})->out[0];
  fg_output(m, y);
  fg_finish(m);
  check_pass(m, fr_pass_fold, "passes/fold.txt");
  ck_assert_int_eq(m->graph->n_nodes, 1);
  ck_assert_int_eq(y->t.rank, 2);
  ck_assert_int_eq(y->t.dims[1], 12);
  fr_model_free(m);
}
END_TEST

/* A trainable parameter's node is never folded, even on constants. */
START_TEST(fold_keeps_trainable) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 1, FT_DIMS(2));
  float a[2] = {1, 2}, b[2] = {3, 4};
  fr_value *w = fg_const(m, "head.w", FR_F32, 1, FT_DIMS(2), a);
  fr_value *c = fg_const(m, "c", FR_F32, 1, FT_DIMS(2), b);
  fr_value *wc = fg_node(m, "Mul", "wc", 2, (fr_value *[]){w, c})->out[0];
  fr_value *cc = fg_node(m, "Mul", "cc", 2, (fr_value *[]){c, c})->out[0];
  fr_value *t = fg_node(m, "Add", "t", 2, (fr_value *[]){x, wc})->out[0];
  fr_value *y = fg_node(m, "Add", "y", 2, (fr_value *[]){t, cc})->out[0];
  fg_output(m, y);
  fg_finish(m);
  fr_freeze_opts fo = {.n_rules = 1, .rules = {{true, "^head\\."}}};
  ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
  /* "is a trainable parameter" and "needs a gradient" are two facts */
  const uint32_t TG = FR_V_TRAINABLE | FR_V_GRAD;
  ck_assert_uint_eq(w->flags & TG, TG);
  ck_assert_uint_eq(wc->flags & TG, FR_V_GRAD);
  ck_assert_uint_eq(t->flags & TG, FR_V_GRAD);
  ck_assert_uint_eq(c->flags & TG, 0);
  ck_assert_uint_eq(cc->flags & TG, 0);
  ck_assert_uint_eq(x->flags & TG, 0);
  fr_pipeline_opts po = {0};
  ck_assert_int_eq(fr_pass_fold(m, &po), FR_OK);
  /* cc folded; wc (trainable) kept, with t and y */
  ck_assert_int_eq(m->graph->n_nodes, 3);
  ck_assert(m->graph->nodes[0]->trainable);
  ck_assert_str_eq(m->graph->nodes[0]->out[0]->name, "wc");
  fr_model_free(m);
}
END_TEST

/* Conv -> BatchNormalization becomes one Conv with the same outputs. */
START_TEST(fold_bn_into_conv) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 4, FT_DIMS(1, 2, 5, 5));
  float w[3 * 2 * 3 * 3], b[3], sc[3] = {1.5f, 0.5f, 2}, bi[3] = {0.1f, -0.2f, 0.3f},
        mean[3] = {0.2f, -0.1f, 0}, var[3] = {0.5f, 2, 1};
  fill(w, 54, 1);
  fill(b, 3, 2);
  fr_value *wv = fg_const(m, "w", FR_F32, 4, FT_DIMS(3, 2, 3, 3), w);
  fr_value *bv = fg_const(m, "b", FR_F32, 1, FT_DIMS(3), b);
  fr_node *conv = fg_node(m, "Conv", "c", 3, (fr_value *[]){x, wv, bv});
  fg_attr_ints(m, conv, "pads", 4, FT_DIMS(1, 1, 1, 1));
  fr_value *bn_in[5] = {conv->out[0],
                        fg_const(m, "scale", FR_F32, 1, FT_DIMS(3), sc),
                        fg_const(m, "bias", FR_F32, 1, FT_DIMS(3), bi),
                        fg_const(m, "mean", FR_F32, 1, FT_DIMS(3), mean),
                        fg_const(m, "var", FR_F32, 1, FT_DIMS(3), var)};
  fr_value *y = fg_node(m, "BatchNormalization", "y", 5, bn_in)->out[0];
  fg_output(m, y);
  fg_finish(m);
  float xd[50], before[75], after[75];
  fill(xd, 50, 3);
  fr_tensor xt = ft_tensor(FR_F32, 4, FT_DIMS(1, 2, 5, 5), xd);
  run_f32(m, &xt, before, 75);
  check_pass(m, fr_pass_fold_bn, "passes/fold-bn.txt");
  ck_assert_int_eq(m->graph->n_nodes, 1);
  run_f32(m, &xt, after, 75);
  close_enough(after, before, 75, 1e-5f);
  fr_model_free(m);
}
END_TEST

/* ConvTranspose (one group) -> Div(per-channel) and Gemm (alpha, beta, B
 * not transposed) -> Mul(scalar) fold like Conv (FR_OPF_AFFINE, one layout
 * helper for both passes); the outputs stay the same. */
START_TEST(fold_affine_into_convt_and_gemm) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 4, FT_DIMS(1, 2, 3, 3));
  float w[2 * 3 * 2 * 2], div[3] = {2, -4, 0.5f};
  fill(w, 24, 7);
  fr_value *wv = fg_const(m, "w", FR_F32, 4, FT_DIMS(2, 3, 2, 2), w);
  fr_node *ct = fg_node(m, "ConvTranspose", "ct", 2, (fr_value *[]){x, wv});
  fr_value *dv = fg_const(m, "d", FR_F32, 3, FT_DIMS(3, 1, 1), div);
  fr_value *y = fg_node(m, "Div", "y", 2, (fr_value *[]){ct->out[0], dv})->out[0];
  fg_output(m, y);
  fr_value *a = fg_input(m, "a", FR_F32, 2, FT_DIMS(2, 4));
  float gw[4 * 3], gb[3], k = 3;
  fill(gw, 12, 8);
  fill(gb, 3, 9);
  fr_node *gemm = fg_node(m, "Gemm", "g", 3,
                          (fr_value *[]){a, fg_const(m, "gw", FR_F32, 2, FT_DIMS(4, 3), gw),
                                         fg_const(m, "gb", FR_F32, 1, FT_DIMS(3), gb)});
  fg_attr_f(m, gemm, "alpha", 0.5f);
  fg_attr_f(m, gemm, "beta", 2);
  fr_value *z = fg_node(m, "Mul", "z", 2,
                        (fr_value *[]){gemm->out[0], fg_const(m, "k", FR_F32, 0, NULL, &k)})->out[0];
  fg_output(m, z);
  fg_finish(m);
  float xd[18], ad[8], before[48 + 6], after[48 + 6];
  fill(xd, 18, 10);
  fill(ad, 8, 11);
  fr_tensor in[2] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 2, 3, 3), xd),
                     ft_tensor(FR_F32, 2, FT_DIMS(2, 4), ad)};
  fr_tensor *inp[2] = {&in[0], &in[1]}, out[2];
  for (int pass = 0; pass < 2; pass++) {
    if (pass) {
      fr_freeze_opts fo = {0};
      fr_pipeline_opts po = {0};
      ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
      ck_assert_msg(fr_pass_fold_affine(m, &po) == FR_OK, "%s", fr_err_msg());
      ck_assert_msg(fr_graph_verify(m->graph) == FR_OK, "%s", fr_err_msg());
      ck_assert_int_eq(m->graph->n_nodes, 2);
    }
    ck_assert_msg(fr_run_model(m, inp, out) == FR_OK, "%s", fr_err_msg());
    ck_assert_int_eq(fr_tensor_numel(&out[0]), 48);
    ck_assert_int_eq(fr_tensor_numel(&out[1]), 6);
    float *dst = pass ? after : before;
    memcpy(dst, out[0].data, sizeof(float) * 48);
    memcpy(dst + 48, out[1].data, sizeof(float) * 6);
    fr_tensor_release(&out[0]);
    fr_tensor_release(&out[1]);
  }
  close_enough(after, before, 54, 1e-5f);
  fr_model_free(m);
}
END_TEST

/* Gemm -> Mul(per-column) -> Sub(per-column) become one Gemm. */
START_TEST(fold_affine_into_gemm) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 2, FT_DIMS(2, 4));
  float w[3 * 4], b[3], mul[3] = {2, -1, 0.5f}, sub[3] = {1, 2, 3};
  fill(w, 12, 4);
  fill(b, 3, 5);
  fr_value *wv = fg_const(m, "w", FR_F32, 2, FT_DIMS(3, 4), w);
  fr_value *bv = fg_const(m, "b", FR_F32, 1, FT_DIMS(3), b);
  fr_node *gemm = fg_node(m, "Gemm", "g", 3, (fr_value *[]){x, wv, bv});
  fg_attr_i(m, gemm, "transB", 1);
  fr_value *mv = fg_const(m, "k", FR_F32, 2, FT_DIMS(1, 3), mul);
  fr_value *sv = fg_const(m, "s", FR_F32, 1, FT_DIMS(3), sub);
  fr_value *t = fg_node(m, "Mul", "t", 2, (fr_value *[]){mv, gemm->out[0]})->out[0];
  fr_value *y = fg_node(m, "Sub", "y", 2, (fr_value *[]){t, sv})->out[0];
  fg_output(m, y);
  fg_finish(m);
  float xd[8], before[6], after[6];
  fill(xd, 8, 6);
  fr_tensor xt = ft_tensor(FR_F32, 2, FT_DIMS(2, 4), xd);
  run_f32(m, &xt, before, 6);
  check_pass(m, fr_pass_fold_affine, "passes/fold-affine.txt");
  ck_assert_int_eq(m->graph->n_nodes, 1);
  run_f32(m, &xt, after, 6);
  close_enough(after, before, 6, 1e-5f);
  fr_model_free(m);
}
END_TEST

/* Identity chains go; a dead branch goes; the output keeps its name. */
START_TEST(simplify_identity_and_dead) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 1, FT_DIMS(4));
  fr_value *r = fg_node(m, "Relu", "r", 1, &x)->out[0];
  fr_value *i1 = fg_node(m, "Identity", "i1", 1, &r)->out[0];
  fg_node(m, "Exp", "dead", 1, &i1);
  fr_value *s = fg_node(m, "Sigmoid", "s", 1, &i1)->out[0];
  fr_value *y = fg_node(m, "Identity", "y", 1, &s)->out[0];
  fg_output(m, y);
  fg_finish(m);
  check_pass(m, fr_pass_simplify, "passes/simplify.txt");
  ck_assert_int_eq(m->graph->n_nodes, 2);
  ck_assert_str_eq(m->graph->outputs[0]->name, "y");
  ck_assert_int_eq(m->graph->nodes[1]->op, FR_OP_SIGMOID);
  fr_model_free(m);
}
END_TEST

/* Two equal Relu(x) and two equal constants: one of each remains. */
START_TEST(cse_twins) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 1, FT_DIMS(4));
  float one = 1;
  fr_value *c1 = fg_const(m, "one", FR_F32, 0, NULL, &one);
  fr_value *c2 = fg_const(m, "uno", FR_F32, 0, NULL, &one);
  fr_value *a = fg_node(m, "Relu", "a", 1, &x)->out[0];
  fr_value *b = fg_node(m, "Relu", "b", 1, &x)->out[0];
  fr_value *a1 = fg_node(m, "Add", "a1", 2, (fr_value *[]){a, c1})->out[0];
  fr_value *b1 = fg_node(m, "Add", "b1", 2, (fr_value *[]){b, c2})->out[0];
  fr_value *y = fg_node(m, "Mul", "y", 2, (fr_value *[]){a1, b1})->out[0];
  fg_output(m, y);
  fg_finish(m);
  check_pass(m, fr_pass_cse, "passes/cse.txt");
  ck_assert_int_eq(m->graph->n_nodes, 3);
  ck_assert_int_eq(m->graph->n_inits, 1);
  fr_model_free(m);
}
END_TEST

/* The memory plan: in-place Relu, a view sharing bytes, reuse after death. */
START_TEST(plan_memory_reuse) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 2, FT_DIMS(4, 16));
  int64_t shp[2] = {16, 4};
  fr_value *sh = fg_const(m, "shape", FR_I64, 1, FT_DIMS(2), shp);
  fr_value *a = fg_node(m, "Exp", "a", 1, &x)->out[0];          /* 256 B */
  fr_value *b = fg_node(m, "Relu", "b", 1, &a)->out[0];         /* in place */
  fr_value *c = fg_node(m, "Reshape", "c", 2, (fr_value *[]){b, sh})->out[0];
  fr_value *d = fg_node(m, "Sigmoid", "d", 1, &c)->out[0];      /* in place */
  fr_value *e = fg_node(m, "Neg", "e", 1, &x)->out[0];
  fr_value *y = fg_node(m, "Add", "y", 2, (fr_value *[]){d, fg_node(m, "Reshape", "e2", 2, (fr_value *[]){e, sh})->out[0]})->out[0];
  fg_output(m, y);
  fg_finish(m);
  check_pass(m, fr_pass_plan_memory, "passes/plan-memory.txt");
  ck_assert_int_eq(a->offset, b->offset);
  ck_assert_int_eq(b->offset, c->offset);
  ck_assert_int_eq(c->offset, d->offset);
  ck_assert_int_ne(e->offset, d->offset);
  ck_assert_int_eq(m->graph->peak, 512);
  fr_model_free(m);
}
END_TEST

/* x * Clip(x + 3, 0, 6) / 6 becomes HardSwish(x), with the same values. */
START_TEST(fuse_hardswish_pattern) {
  fr_model *m = fg_model(9);
  fr_value *x = fg_input(m, "x", FR_F32, 1, FT_DIMS(16));
  float three = 3, six = 6;
  fr_value *c3 = fg_const(m, "three", FR_F32, 1, FT_DIMS(1), &three);
  fr_value *c6 = fg_const(m, "six", FR_F32, 1, FT_DIMS(1), &six);
  fr_value *a = fg_node(m, "Add", "a", 2, (fr_value *[]){x, c3})->out[0];
  fr_node *clip = fg_node(m, "Clip", "c", 1, &a);
  fg_attr_f(m, clip, "min", 0);
  fg_attr_f(m, clip, "max", 6);
  fr_value *mu = fg_node(m, "Mul", "mu", 2, (fr_value *[]){clip->out[0], x})->out[0];
  fr_value *y = fg_node(m, "Div", "y", 2, (fr_value *[]){mu, c6})->out[0];
  fg_output(m, y);
  fg_finish(m);
  float xd[16], before[16], after[16];
  for (int i = 0; i < 16; i++) xd[i] = (float)i - 8;
  fr_tensor xt = ft_tensor(FR_F32, 1, FT_DIMS(16), xd);
  run_f32(m, &xt, before, 16);
  check_pass(m, fr_pass_fuse, "passes/fuse-hardswish.txt");
  ck_assert_int_eq(m->graph->n_nodes, 1);
  ck_assert_int_eq(m->graph->nodes[0]->op, FR_OP_HARDSWISH);
  run_f32(m, &xt, after, 16);
  close_enough(after, before, 16, 1e-6f);
  fr_model_free(m);
}
END_TEST

/* Conv -> Add(residual) -> Relu becomes one FusedConv, same values. */
START_TEST(fuse_conv_residual_relu) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 4, FT_DIMS(1, 4, 6, 6));
  fr_value *r = fg_input(m, "r", FR_F32, 4, FT_DIMS(1, 4, 6, 6));
  float w[4 * 4 * 9], b[4];
  fill(w, 144, 7);
  fill(b, 4, 8);
  fr_value *wv = fg_const(m, "w", FR_F32, 4, FT_DIMS(4, 4, 3, 3), w);
  fr_value *bv = fg_const(m, "b", FR_F32, 1, FT_DIMS(4), b);
  fr_node *conv = fg_node(m, "Conv", "c", 3, (fr_value *[]){x, wv, bv});
  fg_attr_ints(m, conv, "pads", 4, FT_DIMS(1, 1, 1, 1));
  fr_value *s = fg_node(m, "Add", "s", 2, (fr_value *[]){r, conv->out[0]})->out[0];
  fr_value *y = fg_node(m, "Relu", "y", 1, &s)->out[0];
  fg_output(m, y);
  fg_finish(m);
  float xd[144], rd[144], before[144], after[144];
  fill(xd, 144, 9);
  fill(rd, 144, 10);
  fr_tensor in[2] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 4, 6, 6), xd),
                     ft_tensor(FR_F32, 4, FT_DIMS(1, 4, 6, 6), rd)};
  fr_tensor *inp[2] = {&in[0], &in[1]}, out[1];
  ck_assert_int_eq(fr_run_model(m, inp, out), FR_OK);
  memcpy(before, out[0].data, sizeof before);
  fr_tensor_release(&out[0]);
  check_pass(m, fr_pass_fuse, "passes/fuse-conv.txt");
  ck_assert_int_eq(m->graph->n_nodes, 1);
  ck_assert_int_eq(m->graph->nodes[0]->op, FR_OP_FUSED_CONV);
  ck_assert_int_eq(fr_run_model(m, inp, out), FR_OK);
  memcpy(after, out[0].data, sizeof after);
  fr_tensor_release(&out[0]);
  close_enough(after, before, 144, 1e-5f);
  fr_model_free(m);
}
END_TEST

/* Conv -> LeakyRelu -> Max(y, -0.4) becomes one FusedConv with post=Max;
 * the Min after it stays (one post-op per conv), same values. */
START_TEST(fuse_conv_leaky_max) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 4, FT_DIMS(1, 4, 6, 6));
  float w[4 * 4 * 3], b[4], lo = -0.4f, hi = 0.5f;
  fill(w, 48, 11);
  fill(b, 4, 12);
  fr_value *wv = fg_const(m, "w", FR_F32, 4, FT_DIMS(4, 4, 1, 3), w);
  fr_value *bv = fg_const(m, "b", FR_F32, 1, FT_DIMS(4), b);
  fr_value *lov = fg_const(m, "lo", FR_F32, 4, FT_DIMS(1, 1, 1, 1), &lo);
  fr_value *hiv = fg_const(m, "hi", FR_F32, 1, FT_DIMS(1), &hi);
  fr_node *conv = fg_node(m, "Conv", "c", 3, (fr_value *[]){x, wv, bv});
  fg_attr_ints(m, conv, "pads", 4, FT_DIMS(0, 1, 0, 1));
  fr_node *lr = fg_node(m, "LeakyRelu", "l", 1, &conv->out[0]);
  fg_attr_f(m, lr, "alpha", 0.2f);
  fr_value *mx = fg_node(m, "Max", "mx", 2, (fr_value *[]){lr->out[0], lov})->out[0];
  fr_value *y = fg_node(m, "Min", "y", 2, (fr_value *[]){hiv, mx})->out[0];
  fg_output(m, y);
  fg_finish(m);
  float xd[144], before[144], after[144];
  fill(xd, 144, 13);
  for (int i = 0; i < 144; i++) xd[i] *= 3;
  fr_tensor xt = ft_tensor(FR_F32, 4, FT_DIMS(1, 4, 6, 6), xd);
  run_f32(m, &xt, before, 144);
  check_pass(m, fr_pass_fuse, "passes/fuse-post.txt");
  ck_assert_int_eq(m->graph->n_nodes, 2);
  ck_assert_int_eq(m->graph->nodes[0]->op, FR_OP_FUSED_CONV);
  ck_assert_int_eq(m->graph->nodes[1]->op, FR_OP_MIN);
  run_f32(m, &xt, after, 144);
  close_enough(after, before, 144, 0);
  fr_model_free(m);
}
END_TEST

/* Squeeze-excite: y = Conv1x1(x * Sigmoid(Conv1x1(GlobalAveragePool(x))))
 * - the Mul goes into the last conv as its input scale (a FusedConv of x
 * with a fifth input), the outputs the same bits. A second such Mul whose
 * product is also a graph output stays. */
START_TEST(fuse_channel_scale) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 4, FT_DIMS(2, 6, 5, 7));
  float w1[6 * 6], w2[9 * 6], w3[9 * 6];
  fill(w1, 36, 31);
  fill(w2, 54, 32);
  fill(w3, 54, 33);
  fr_value *w1v = fg_const(m, "w1", FR_F32, 4, FT_DIMS(6, 6, 1, 1), w1);
  fr_value *w2v = fg_const(m, "w2", FR_F32, 4, FT_DIMS(9, 6, 1, 1), w2);
  fr_value *w3v = fg_const(m, "w3", FR_F32, 4, FT_DIMS(9, 6, 1, 1), w3);
  fr_value *g = fg_node(m, "GlobalAveragePool", "g", 1, &x)->out[0];
  fr_value *c = fg_node(m, "Conv", "c", 2, (fr_value *[]){g, w1v})->out[0];
  fr_value *s = fg_node(m, "Sigmoid", "s", 1, &c)->out[0];
  fr_value *xs = fg_node(m, "Mul", "xs", 2, (fr_value *[]){x, s})->out[0];
  fr_value *y = fg_node(m, "Conv", "y", 2, (fr_value *[]){xs, w2v})->out[0];
  fr_value *xs2 = fg_node(m, "Mul", "xs2", 2, (fr_value *[]){s, x})->out[0];
  fr_value *y2 = fg_node(m, "Conv", "y2", 2, (fr_value *[]){xs2, w3v})->out[0];
  fg_output(m, y);
  fg_output(m, y2);
  fg_output(m, xs2);
  fg_finish(m);
  float xd[420];
  fill(xd, 420, 34);
  fr_tensor xt = ft_tensor(FR_F32, 4, FT_DIMS(2, 6, 5, 7), xd);
  fr_tensor *inp = &xt, before[3], after[3];
  ck_assert_msg(fr_run_model(m, &inp, before) == FR_OK, "%s", fr_err_msg());
  check_pass(m, fr_pass_fuse, "passes/fuse-scale.txt");
  int n_mul = 0, n_scaled = 0;
  for (int k = 0; k < m->graph->n_nodes; k++) {
    const fr_node *n = m->graph->nodes[k];
    n_mul += n->op == FR_OP_MUL;
    n_scaled += n->op == FR_OP_FUSED_CONV && n->n_in == 5 && n->in[0] == x &&
                n->in[4] == s;
  }
  ck_assert_int_eq(n_mul, 1);
  ck_assert_int_eq(n_scaled, 1);
  ck_assert_msg(fr_run_model(m, &inp, after) == FR_OK, "%s", fr_err_msg());
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(fr_tensor_nbytes(&after[i]), fr_tensor_nbytes(&before[i]));
    ck_assert(!memcmp(after[i].data, before[i].data, fr_tensor_nbytes(&after[i])));
    fr_tensor_release(&before[i]);
    fr_tensor_release(&after[i]);
  }
  fr_model_free(m);
}
END_TEST

/* Only floating-point parameters train: a Reshape's target shape stays
 * frozen even when a rule names every parameter. The layout then puts the
 * float weight in the trainable block and the shape in the frozen one. */
START_TEST(freeze_only_float_params) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 2, FT_DIMS(2, 3));
  float a[6] = {1, 2, 3, 4, 5, 6};
  int64_t shape[2] = {3, 2};
  fr_value *w = fg_const(m, "w", FR_F32, 2, FT_DIMS(2, 3), a);
  fr_value *s = fg_const(m, "s", FR_I64, 1, FT_DIMS(2), shape);
  fr_value *t = fg_node(m, "Mul", "t", 2, (fr_value *[]){x, w})->out[0];
  fr_value *y = fg_node(m, "Reshape", "y", 2, (fr_value *[]){t, s})->out[0];
  fg_output(m, y);
  fg_finish(m);
  fr_freeze_opts fo = {.n_rules = 1, .rules = {{true, ".*"}}};
  ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
  ck_assert(w->flags & FR_V_TRAINABLE);
  ck_assert(!(s->flags & FR_V_TRAINABLE));
  ck_assert(y->flags & FR_V_GRAD);
  ck_assert_int_eq(fr_graph_layout(m->graph, 2), FR_OK);
  const fr_param_layout *L = m->graph->layout;
  ck_assert_int_eq(L->bytes[FR_PB_TRAINABLE], FR_PARAM_ALIGN);
  ck_assert_int_eq(L->bytes[FR_PB_FROZEN], FR_PARAM_ALIGN);
  ck_assert_int_eq(L->bytes[FR_PB_STATE], 2 * FR_PARAM_ALIGN);
  ck_assert_ptr_eq(w->t.data, L->block[FR_PB_TRAINABLE]);
  ck_assert_ptr_eq(s->t.data, L->block[FR_PB_FROZEN]);
  ck_assert_float_eq(((const float *)w->t.data)[5], 6);
  fr_model_free(m);
}
END_TEST

/* BatchNormalization's running statistics stay frozen when a rule names
 * every parameter; its scale and bias train. */
START_TEST(freeze_bn_statistics) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 2, FT_DIMS(2, 3));
  float v[3] = {1, 2, 3};
  fr_value *p[4];
  static const char *names[4] = {"scale", "bias", "mean", "var"};
  for (int i = 0; i < 4; i++) p[i] = fg_const(m, names[i], FR_F32, 1, FT_DIMS(3), v);
  fr_value *y = fg_node(m, "BatchNormalization", "y", 5,
                        (fr_value *[]){x, p[0], p[1], p[2], p[3]})->out[0];
  fg_output(m, y);
  fg_finish(m);
  fr_freeze_opts fo = {.n_rules = 1, .rules = {{true, ".*"}}};
  ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
  ck_assert(p[0]->flags & FR_V_TRAINABLE);
  ck_assert(p[1]->flags & FR_V_TRAINABLE);
  ck_assert(!(p[2]->flags & FR_V_TRAINABLE));
  ck_assert(!(p[3]->flags & FR_V_TRAINABLE));
  ck_assert(y->flags & FR_V_GRAD);
  fr_model_free(m);
}
END_TEST

/* The Shape of a trainable value is frozen (its output needs no gradient),
 * so the fold pass makes a Reshape's target computed from it a constant. */
START_TEST(freeze_shape_of_trainable) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 2, FT_DIMS(2, 3));
  float a[6] = {1, 2, 3, 4, 5, 6};
  fr_value *w = fg_const(m, "w", FR_F32, 2, FT_DIMS(2, 3), a);
  fr_value *t = fg_node(m, "Mul", "t", 2, (fr_value *[]){x, w})->out[0];
  fr_node *sh = fg_node(m, "Shape", "s", 1, &t);
  fr_value *y = fg_node(m, "Reshape", "y", 2, (fr_value *[]){t, sh->out[0]})->out[0];
  fg_output(m, y);
  fg_finish(m);
  fr_freeze_opts fo = {.n_rules = 1, .rules = {{true, "^w$"}}};
  ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
  ck_assert(t->flags & FR_V_GRAD);
  ck_assert(!sh->trainable);
  ck_assert(!(sh->out[0]->flags & FR_V_GRAD));
  ck_assert(y->flags & FR_V_GRAD);
  fr_model_free(m);
}
END_TEST

/* The layout moves parameters into its blocks and frees the copies they
 * leave behind: a 64 KiB weight is not held twice. */
START_TEST(layout_frees_moved_copies) {
  fr_model *m = fg_model(13);
  enum { N = 16384 };
  float *a = fr_malloc(sizeof(float) * N);
  for (int i = 0; i < N; i++) a[i] = (float)i;
  fr_value *x = fg_input(m, "x", FR_F32, 1, FT_DIMS(N));
  fr_value *w = fg_const(m, "w", FR_F32, 1, FT_DIMS(N), a);
  fr_free(a);
  fg_output(m, fg_node(m, "Mul", "y", 2, (fr_value *[]){x, w})->out[0]);
  fg_finish(m);
  size_t before = m->arena.used_total;
  ck_assert_int_eq(fr_graph_layout(m->graph, 0), FR_OK);
  size_t grown = m->arena.used_total - before;
  /* The frozen block (64 KiB and its alignment) replaces the copy. */
  ck_assert_uint_lt(grown, 4096);
  ck_assert_float_eq(((const float *)w->t.data)[N - 1], N - 1);
  fr_model_free(m);
}
END_TEST

/* --train-from makes the weights downstream trainable, but not the scalar
 * constants of a formula (HardSwish written as x * clip(x + 3) / 6). */
START_TEST(train_from_skips_scalars) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 2, FT_DIMS(2, 3));
  float three = 3, wv[6] = {1, 2, 3, 4, 5, 6};
  fr_value *c3 = fg_const(m, "three", FR_F32, 0, NULL, &three);
  fr_value *w = fg_const(m, "w", FR_F32, 2, FT_DIMS(2, 3), wv);
  fr_value *a = fg_node(m, "Add", "a", 2, (fr_value *[]){x, c3})->out[0];
  fg_output(m, fg_node(m, "Mul", "y", 2, (fr_value *[]){a, w})->out[0]);
  fg_finish(m);
  fr_freeze_opts fo = {.n_train_from = 1, .train_from = {"x"}};
  ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
  ck_assert(w->flags & FR_V_TRAINABLE);
  ck_assert(!(c3->flags & FR_V_TRAINABLE));
  fr_model_free(m);
}
END_TEST

/* torch.onnx merges equal tensors: a fresh BatchNorm's running variance
 * arrives as Identity(weight). Freezing gives the statistic its own frozen
 * copy, so training the weight leaves it alone. */
START_TEST(freeze_splits_merged_statistics) {
  fr_model *m = fg_model(13);
  fr_value *x = fg_input(m, "x", FR_F32, 4, FT_DIMS(1, 2, 2, 2));
  float ones[2] = {1, 1}, zeros[2] = {0, 0};
  fr_value *gamma = fg_const(m, "bn.weight", FR_F32, 1, FT_DIMS(2), ones);
  fr_value *beta = fg_const(m, "bn.bias", FR_F32, 1, FT_DIMS(2), zeros);
  fr_value *var = fg_node(m, "Identity", "bn.running_var", 1, &gamma)->out[0];
  fr_value *mean = fg_node(m, "Identity", "bn.running_mean", 1, &beta)->out[0];
  fr_node *bn = fg_node(m, "BatchNormalization", "y", 5,
                        (fr_value *[]){x, gamma, beta, mean, var});
  fg_output(m, bn->out[0]);
  fg_finish(m);
  fr_freeze_opts fo = {.n_rules = 1, .rules = {{true, ".*"}}};
  ck_assert_int_eq(fr_freeze_apply(m, &fo), FR_OK);
  ck_assert(gamma->flags & FR_V_TRAINABLE);
  ck_assert_ptr_ne(bn->in[4], var);
  ck_assert(bn->in[4]->flags & FR_V_CONST);
  ck_assert(!(bn->in[4]->flags & (FR_V_TRAINABLE | FR_V_GRAD)));
  ck_assert(!(bn->in[3]->flags & (FR_V_TRAINABLE | FR_V_GRAD)));
  ck_assert_ptr_ne(bn->in[4]->t.data, gamma->t.data);
  ck_assert_float_eq(((const float *)bn->in[4]->t.data)[1], 1);
  fr_model_free(m);
}
END_TEST

FT_MAIN(passes, freeze_splits_merged_statistics, train_from_skips_scalars, layout_frees_moved_copies, fuse_conv_leaky_max, fuse_conv_residual_relu, fuse_channel_scale, fuse_hardswish_pattern, fold_shape_chain, fold_keeps_trainable, freeze_only_float_params, freeze_bn_statistics, freeze_shape_of_trainable, fold_bn_into_conv,
        fold_affine_into_gemm, fold_affine_into_convt_and_gemm,
        simplify_identity_and_dead, cse_twins,
        plan_memory_reuse)
