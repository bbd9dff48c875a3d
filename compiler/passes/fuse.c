/* fuse.c: fusion in the frozen region.
 *  1. Patterns: x * Clip(x + 3, 0, 6) / 6 (HardSwish spelled out, as
 *     exporters write it for old opsets) becomes HardSwish(x).
 *  2. Elementwise tails into the frozen Conv, Gemm or MatMul producing
 *     their input: y = act(op(x) + residual), a residual Add of the same
 *     shape, then an activation (Relu, LeakyRelu, Clip, HardSigmoid,
 *     HardSwish, Sigmoid, Tanh), then a Max or Min with a constant scalar;
 *     and a MatMul's per-column bias Add. The linear op becomes frost.FusedConv / FusedGemm / FusedMatMul
 *     (ir/infer_fused.c), whose plan applies the epilogue to each output
 *     tile while it is hot.
 *  3. A per-channel scale into the pointwise conv reading it: Conv(x * s)
 *     with s (1 or N, C, 1, 1) (the Mul of squeeze-excite blocks) becomes a
 *     FusedConv of x with input scale s, which scales the image's rows as
 *     the GEMM packs them (the same products, no pass over the map). */
#include <math.h>
#include <string.h>

#include "passes.h"

/* v is a frozen constant holding one float equal to want. */
static bool is_scalar(const fr_value *v, float want) {
  if (!fr_value_frozen_f32(v) || fr_tensor_numel(&v->t) != 1) return false;
  return fabsf(((const float *)v->t.data)[0] - want) <= 1e-6f * fabsf(want);
}

/* Clip's bounds, from attributes (opset < 11) or constant inputs. */
static bool clip_bounds(const fr_node *n, float *lo, float *hi) {
  if (fr_elem_clip_attrs(n, lo, hi)) return true;
  const fr_value *a = fr_node_input(n, 1), *b = fr_node_input(n, 2);
  *lo = -INFINITY;
  *hi = INFINITY;
  for (int i = 0; i < 2; i++) {
    const fr_value *v = i ? b : a;
    if (!v) continue;
    if (!(v->flags & FR_V_CONST) || v->t.dtype != FR_F32 ||
        fr_tensor_numel(&v->t) != 1)
      return false;
    *(i ? hi : lo) = ((const float *)v->t.data)[0];
  }
  return true;
}

/* The node producing v, when v is used only by `user`. */
static fr_node *sole_producer(const fr_graph *g, const fr_value *v,
                              const fr_node *user) {
  if (!v || !v->producer || v->producer->dead || v->producer->trainable)
    return NULL;
  return fr_value_sole_user(g, v) == user ? v->producer : NULL;
}

/* y = Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)  ->  y = HardSwish(x) */
static void hardswish(fr_graph *g, fr_node *div) {
  if (div->n_in != 2 || !is_scalar(div->in[1], 6)) return;
  fr_node *mul = sole_producer(g, div->in[0], div);
  if (!mul || mul->op != FR_OP_MUL || mul->n_in != 2) return;
  for (int side = 0; side < 2; side++) {
    fr_value *x = mul->in[side];
    fr_node *clip = sole_producer(g, mul->in[1 - side], mul);
    if (!clip || clip->op != FR_OP_CLIP) continue;
    float lo, hi;
    if (!clip_bounds(clip, &lo, &hi) || lo != 0 || hi != 6) continue;
    fr_node *add = sole_producer(g, clip->in[0], clip);
    if (!add || add->op != FR_OP_ADD || add->n_in != 2) continue;
    int xi = add->in[0] == x ? 0 : add->in[1] == x ? 1 : -1;
    if (xi < 0 || !is_scalar(add->in[1 - xi], 3)) continue;
    if (x->t.dtype != FR_F32) continue;
    /* div becomes HardSwish(x); the rest goes. */
    div->op = FR_OP_HARDSWISH;
    div->op_type = "HardSwish";
    div->in[0] = x;
    div->n_in = 1;
    div->n_attr = 0;
    fr_node_kill(mul);
    fr_node_kill(clip);
    fr_node_kill(add);
    return;
  }
}


/* ---- elementwise tails ------------------------------------------------ */

/* The fused form of an op that takes an epilogue (FR_OPF_EPILOGUE):
 * frost.Fused<Name>, or the op itself when already fused; -1 for others. */
static int fused_op(int op) {
  if (!(fr_ops[op].flags & FR_OPF_EPILOGUE)) return -1;
  if (!fr_domain_is_onnx(fr_ops[op].domain)) return op;
  char name[64];
  snprintf(name, sizeof name, "Fused%s", fr_ops[op].name);
  fr_op f = fr_op_lookup("frost", name);
  return f < FR_OP_COUNT ? (int)f : -1;
}

/* An activation the epilogue computes (FR_OPF_ACT_EPILOGUE): its
 * parameters, the op's alpha and beta. */
static bool activation(const fr_node *e, float *a, float *b) {
  if (!(fr_ops[e->op].flags & FR_OPF_ACT_EPILOGUE)) return false;
  if (e->op == FR_OP_CLIP) return clip_bounds(e, a, b);
  if (fr_op_has_attr(e->op, FR_A_ALPHA)) *a = fr_attr_float(e, FR_A_ALPHA);
  if (fr_op_has_attr(e->op, FR_A_BETA)) *b = fr_attr_float(e, FR_A_BETA);
  return true;
}

/* Appends the epilogue's attributes to n (a new arena copy of the list):
 * activation = the op's name, act_alpha, act_beta. */
static fr_status add_act_attrs(fr_model *m, fr_node *n, const char *act,
                               float a, float b) {
  fr_attr *na = fr_arena_alloc(&m->arena, sizeof(fr_attr) * (size_t)(n->n_attr + 3));
  if (!na) return fr_err_nomem(NULL);
  if (n->n_attr) memcpy(na, n->attrs, sizeof(fr_attr) * (size_t)n->n_attr);
  fr_attr *p = &na[n->n_attr];
  p[0] = (fr_attr){.name = "activation", .type = FR_ATTR_STRING, .s = act,
                   .slen = strlen(act)};
  p[1] = (fr_attr){.name = "act_alpha", .type = FR_ATTR_FLOAT, .f = a};
  p[2] = (fr_attr){.name = "act_beta", .type = FR_ATTR_FLOAT, .f = b};
  n->attrs = na;
  n->n_attr += 3;
  return FR_OK;
}

/* Turns the linear op p into its fused form with 4 input slots. */
static fr_status make_fused(fr_model *m, fr_node *p) {
  if (fused_op(p->op) == p->op) return FR_OK;
  fr_value **in = fr_arena_alloc(&m->arena, sizeof(fr_value *) * 5);
  if (!in) return fr_err_nomem(NULL);
  for (int i = 0; i < p->n_in; i++) in[i] = p->in[i];
  p->in = in;
  p->n_in = 4;
  p->op = fused_op(p->op);
  p->op_type = fr_ops[p->op].name;
  p->domain = fr_ops[p->op].domain;
  return FR_OK;
}

/* p's output now is e's; e goes, p takes e's place in the order (so the
 * residual, which may be computed after p, is ready). */
static void absorb(fr_graph *g, fr_node *p, fr_node *e) {
  fr_value *x = p->out[0], *y = e->out[0];
  p->out[0] = y;
  y->producer = p;
  x->producer = NULL;
  int pi = p->index, ei = e->index;
  g->nodes[ei] = p;
  g->nodes[pi] = e;
  p->index = ei;
  e->index = pi;
  fr_node_kill(e);
}

static bool has_act(const fr_node *p) { return fr_attr_get(p, FR_A_ACTIVATION) != NULL; }
static bool has_post(const fr_node *p) { return fr_attr_get(p, FR_A_POST) != NULL; }

static bool same_shape(const fr_tensor *a, const fr_tensor *b) {
  if (a->dtype != b->dtype || a->rank != b->rank || a->rank < 0) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

/* Max(y, c) or Min(y, c) with a constant c after the linear op p (and its
 * activation): post = the op's name, post_c = c. The epilogue computes
 * y > c || y != y ? y : c (Min: <), which is the binary kernel's Max(y, c);
 * Max(c, y) is the same value unless y and c are zeros of opposite signs,
 * so c on the left must not be 0. */
static fr_status fuse_post(fr_model *m, fr_graph *g, fr_node *e) {
  for (int side = 0; side < 2 && e->n_in == 2; side++) {
    fr_value *x = e->in[side], *cv = e->in[1 - side];
    fr_node *p = sole_producer(g, x, e);
    if (!p || fused_op(p->op) < 0 || has_post(p) || x->t.dtype != FR_F32 ||
        !same_shape(&e->out[0]->t, &x->t))
      continue;
    if (!(cv->flags & FR_V_CONST) || (cv->flags & FR_V_WRITABLE) ||
        cv->t.dtype != FR_F32 || fr_tensor_numel(&cv->t) != 1 ||
        cv->t.rank > x->t.rank)
      continue;
    float c = ((const float *)cv->t.data)[0];
    if (c != c || (side == 1 && c == 0)) continue;
    FR_TRY(make_fused(m, p));
    fr_attr *na = fr_arena_alloc(&m->arena, sizeof(fr_attr) * (size_t)(p->n_attr + 2));
    if (!na) return fr_err_nomem(NULL);
    if (p->n_attr) memcpy(na, p->attrs, sizeof(fr_attr) * (size_t)p->n_attr);
    na[p->n_attr] = (fr_attr){.name = "post", .type = FR_ATTR_STRING,
                              .s = e->op_type, .slen = strlen(e->op_type)};
    na[p->n_attr + 1] = (fr_attr){.name = "post_c", .type = FR_ATTR_FLOAT, .f = c};
    p->attrs = na;
    p->n_attr += 2;
    absorb(g, p, e);
    return FR_OK;
  }
  return FR_OK;
}

/* Fuses e (activation, residual Add, MatMul bias Add) into the producer of
 * its input when that is a frozen Conv/Gemm/MatMul used only by e. */
static fr_status fuse_tail(fr_model *m, fr_graph *g, fr_node *e) {
  if (!e->out[0] || e->out[0]->t.dtype != FR_F32) return FR_OK;
  if (e->op == FR_OP_MAX || e->op == FR_OP_MIN) return fuse_post(m, g, e);
  for (int side = 0; side < (e->op == FR_OP_ADD ? 2 : 1); side++) {
    fr_value *x = e->in[side];
    fr_node *p = sole_producer(g, x, e);
    if (!p || fused_op(p->op) < 0 || has_act(p) || has_post(p) ||
        x->t.dtype != FR_F32)
      continue;
    float a = 0, b = 0;
    if (e->op != FR_OP_ADD) {
      if (!activation(e, &a, &b)) return FR_OK;
      FR_TRY(make_fused(m, p));
      FR_TRY(add_act_attrs(m, p, e->op_type, a, b));
      absorb(g, p, e);
      return FR_OK;
    }
    fr_value *r = e->in[1 - side];
    bool residual = same_shape(&r->t, &x->t) && same_shape(&e->out[0]->t, &x->t) &&
                    !(r->flags & FR_V_CONST);
    bool column_bias = fused_op(p->op) == FR_OP_FUSED_MATMUL &&
                       fr_value_frozen_f32(r) && x->t.rank >= 1 &&
                       fr_tensor_numel(&r->t) == x->t.dims[x->t.rank - 1] &&
                       same_shape(&e->out[0]->t, &x->t) &&
                       (r->t.rank == 1 || (r->t.rank == 2 && r->t.dims[0] == 1));
    if (residual) {
      if (fr_node_input(p, 3)) continue; /* one residual only */
      FR_TRY(make_fused(m, p));
      p->in[3] = r;
    } else if (column_bias) {
      if (p->n_in > 2 && fr_node_input(p, 2)) continue;
      FR_TRY(make_fused(m, p));
      p->in[2] = r;
    } else {
      continue;
    }
    absorb(g, p, e);
    return FR_OK;
  }
  return FR_OK;
}

/* ---- input scales --------------------------------------------------- */

/* s scales x per channel: (1 or N, C, 1, ...) against x (N, C, ...). */
static bool channel_scale(const fr_tensor *s, const fr_tensor *x) {
  if (s->dtype != FR_F32 || x->dtype != FR_F32 || s->rank != x->rank ||
      x->rank < 3 || (s->dims[0] != 1 && s->dims[0] != x->dims[0]) ||
      s->dims[1] != x->dims[1])
    return false;
  for (int i = 2; i < s->rank; i++)
    if (s->dims[i] != 1) return false;
  return true;
}

/* A conv (plain or fused, one group) whose image is B as it is: 1x1
 * kernel, stride 1, no padding. */
static bool pointwise_conv(const fr_node *c) {
  if ((c->op != FR_OP_CONV && c->op != FR_OP_FUSED_CONV) || c->n_in < 2 ||
      !c->in[0] || !c->in[1])
    return false;
  fr_nn_geom geo;
  if (fr_nn_conv_geom(c, &c->in[0]->t, &c->in[1]->t, &geo) != FR_OK ||
      geo.group != 1)
    return false;
  for (int d = 0; d < geo.nsp; d++)
    if (geo.kernel[d] != 1 || geo.stride[d] != 1 || geo.pad_b[d] != 0 ||
        geo.pad_e[d] != 0)
      return false;
  return true;
}

/* y = Mul(x, s) used only as the image of a pointwise conv c: c reads x
 * with input scale s, the Mul goes. */
static fr_status fuse_scale(fr_model *m, fr_graph *g, fr_node *e) {
  if (e->op != FR_OP_MUL || e->n_in != 2 || !e->out[0]) return FR_OK;
  fr_value *y = e->out[0];
  fr_node *c = fr_value_sole_user(g, y);
  if (!c || c->dead || c->trainable || c->in[0] != y || !pointwise_conv(c) ||
      (c->n_in > 4 && c->in[4]))
    return FR_OK;
  for (int side = 0; side < 2; side++) {
    fr_value *x = e->in[side], *s = e->in[1 - side];
    if (!same_shape(&y->t, &x->t) || !channel_scale(&s->t, &x->t)) continue;
    FR_TRY(make_fused(m, c));
    fr_value **in = fr_arena_alloc(&m->arena, sizeof(fr_value *) * 5);
    if (!in) return fr_err_nomem(NULL);
    for (int i = 0; i < 5; i++) in[i] = i < c->n_in ? c->in[i] : NULL;
    in[0] = x;
    in[4] = s;
    c->in = in;
    c->n_in = 5;
    y->producer = NULL;
    fr_node_kill(e);
    return FR_OK;
  }
  return FR_OK;
}

fr_status fr_pass_fuse(fr_model *m, const fr_pipeline_opts *o) {
  (void)o;
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    if (n->dead || n->trainable) continue;
    if (n->op == FR_OP_DIV) hardswish(g, n);
  }
  fr_graph_compact(g);
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    if (n->dead || n->trainable) continue;
    FR_TRY(fuse_tail(m, g, n));
  }
  fr_graph_compact(g);
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    if (n->dead || n->trainable) continue;
    FR_TRY(fuse_scale(m, g, n));
  }
  fr_graph_compact(g);
  return FR_OK;
}
