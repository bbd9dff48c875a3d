/* grad.c: the gradient rules, one per differentiable op (the grad column
 * of ir/ops.def). Each builds, from dy (the gradient of the node's
 * outputs), the gradient of the inputs that need one, out of ordinary
 * nodes (fr_ad_op), and hands it to fr_ad_accum, which sums contributions
 * and undoes broadcasting. Formulas in the comments use x, y for the
 * node's input and output and d for dy[0]; shapes stand in brackets.
 * tests/unit/test_grad.c checks each rule against finite differences.
 * The convolutions and pools have theirs in grad_nn.c.
 *
 * frost's fused ops (FusedConv, FusedGemm, FusedMatMul) need no rule: the
 * fuse pass runs after autodiff and fuses only frozen producers (a
 * trainable node is never fused), so no fused op exists when the backward
 * graph is built, nor computes from a trainable parameter after. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "grad.h"

#define IN(i) fr_node_input(n, i)
#define OUT(i) (i < n->n_out ? n->out[i] : NULL)

static fr_value *reduce_sum(fr_ad *a, fr_value *v, int n_axes,
                            const int64_t *axes, bool keep);

/* ---- elementwise arithmetic ------------------------------------------- */

/* x + y: d, d */
fr_status fr_grad_add(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  FR_TRY(fr_ad_accum(a, IN(0), dy[0]));
  return fr_ad_accum(a, IN(1), dy[0]);
}

/* x - y: d, -d */
fr_status fr_grad_sub(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  FR_TRY(fr_ad_accum(a, IN(0), dy[0]));
  if (!fr_ad_wants(a, IN(1))) return FR_OK;
  return fr_ad_accum(a, IN(1), fr_ad_unary(a, "Neg", dy[0]));
}

/* x * y: d y, d x */
fr_status fr_grad_mul(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  if (fr_ad_wants(a, IN(0)))
    FR_TRY(fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], IN(1))));
  if (fr_ad_wants(a, IN(1)))
    FR_TRY(fr_ad_accum(a, IN(1), fr_ad_binary(a, "Mul", dy[0], IN(0))));
  return a->st;
}

/* x / y: d / y, -d y_out / y */
fr_status fr_grad_div(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *q = fr_ad_binary(a, "Div", dy[0], IN(1));
  if (fr_ad_wants(a, IN(0))) FR_TRY(fr_ad_accum(a, IN(0), q));
  if (fr_ad_wants(a, IN(1))) {
    fr_value *t = fr_ad_binary(a, "Mul", q, OUT(0));
    FR_TRY(fr_ad_accum(a, IN(1), fr_ad_unary(a, "Neg", t)));
  }
  return a->st;
}

/* |x|: d sign(x) */
fr_status fr_grad_abs(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0),
                     fr_ad_binary(a, "Mul", dy[0], fr_ad_unary(a, "Sign", IN(0))));
}

/* -x: -d */
fr_status fr_grad_neg(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0), fr_ad_unary(a, "Neg", dy[0]));
}

/* ---- activations and maps ---------------------------------------------- */

/* max(x, 0): y > 0 ? d : 0 (frost.ReluGrad, one pass), since y is x where
 * x > 0 and 0 elsewhere. */
fr_status fr_grad_relu(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0),
                     fr_ad_frost(a, "ReluGrad", 2, (fr_value *[]){dy[0], OUT(0)}, 0, NULL));
}

/* x > 0 ? x : alpha x: x > 0 ? d : alpha d */
fr_status fr_grad_leaky_relu(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  float alpha = fr_attr_float(n, FR_A_ALPHA);
  fr_value *pos = fr_ad_binary(a, "Greater", IN(0), fr_ad_scalar(a, 0));
  fr_value *neg = fr_ad_binary(a, "Mul", dy[0], fr_ad_scalar(a, alpha));
  fr_value *d = pos && neg ? fr_ad_op(a, "Where", 3,
                                      (fr_value *[]){pos, dy[0], neg}, 0, NULL)
                           : NULL;
  return fr_ad_accum(a, IN(0), d);
}

/* sigmoid: d y (1 - y) */
fr_status fr_grad_sigmoid(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *y = OUT(0);
  fr_value *s = fr_ad_binary(a, "Sub", fr_ad_scalar(a, 1), y);
  return fr_ad_accum(a, IN(0),
                     fr_ad_binary(a, "Mul", dy[0], fr_ad_binary(a, "Mul", y, s)));
}

/* tanh: d (1 - y^2) */
fr_status fr_grad_tanh(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *y = OUT(0);
  fr_value *s = fr_ad_binary(a, "Sub", fr_ad_scalar(a, 1),
                             fr_ad_binary(a, "Mul", y, y));
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], s));
}

/* exp: d y */
fr_status fr_grad_exp(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], OUT(0)));
}

/* log: d / x */
fr_status fr_grad_log(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Div", dy[0], IN(0)));
}

/* sqrt: d / (2 y) */
fr_status fr_grad_sqrt(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *h = fr_ad_binary(a, "Mul", dy[0], fr_ad_scalar(a, 0.5f));
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Div", h, OUT(0)));
}

/* A condition c ? t : f; scalars stand for constants. */
static fr_value *where(fr_ad *a, fr_value *c, fr_value *t, fr_value *f) {
  if (!c || !t || !f) return NULL;
  return fr_ad_op(a, "Where", 3, (fr_value *[]){c, t, f}, 0, NULL);
}

static fr_value *mul_scalar(fr_ad *a, fr_value *v, float s) {
  return fr_ad_binary(a, "Mul", v, fr_ad_scalar(a, s));
}

/* v cast to float32 (the type the rules compute in). */
static fr_value *to_f32(fr_ad *a, fr_value *v) {
  if (!v || v->t.dtype == FR_F32) return v;
  fr_attr to = fr_ad_attr_i("to", FR_F32);
  return fr_ad_op(a, "Cast", 1, &v, 1, &to);
}

/* PRelu: x < 0 ? s x : x, s broadcast to x (per channel: [C, 1, 1]):
 * dx = x < 0 ? s d : d; ds = x < 0 ? x d : 0, summed over the dims s was
 * broadcast along. */
fr_status fr_grad_prelu(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0), *s = IN(1), *d = dy[0];
  if (n->opset < 7)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of PRelu before opset 7");
  fr_value *neg = fr_ad_binary(a, "Less", x, fr_ad_scalar(a, 0));
  if (fr_ad_wants(a, x))
    FR_TRY(fr_ad_accum(a, x, where(a, neg, fr_ad_binary(a, "Mul", d, s), d)));
  if (fr_ad_wants(a, s))
    FR_TRY(fr_ad_accum(
        a, s, where(a, neg, fr_ad_binary(a, "Mul", d, x), fr_ad_scalar(a, 0))));
  return a->st;
}

/* Clip: min(max(x, lo), hi), bounds as attributes before opset 11, else
 * optional inputs: dx = lo <= x <= hi ? d : 0 (0 everywhere when lo > hi,
 * where y is the constant hi); with lo <= hi, dlo = sum(x < lo ? d : 0),
 * dhi = sum(x > hi ? d : 0). */
fr_status fr_grad_clip(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0), *lo = NULL, *hi = NULL, *d = dy[0];
  float flo, fhi;
  if (fr_elem_clip_attrs(n, &flo, &fhi)) {
    lo = fr_ad_scalar(a, flo);
    hi = fr_ad_scalar(a, fhi);
  } else {
    lo = IN(1);
    hi = IN(2);
  }
  fr_value *zero = fr_ad_scalar(a, 0);
  if (fr_ad_wants(a, x)) {
    fr_value *in = NULL;
    if (lo) in = fr_ad_binary(a, "GreaterOrEqual", x, lo);
    if (hi) {
      fr_value *le = fr_ad_binary(a, "LessOrEqual", x, hi);
      in = in ? fr_ad_binary(a, "And", in, le) : le;
    }
    FR_TRY(fr_ad_accum(a, x, in ? where(a, in, d, zero) : d));
  }
  if (fr_ad_wants(a, lo))
    FR_TRY(
        fr_ad_accum(a, lo, where(a, fr_ad_binary(a, "Less", x, lo), d, zero)));
  if (fr_ad_wants(a, hi))
    FR_TRY(fr_ad_accum(a, hi,
                       where(a, fr_ad_binary(a, "Greater", x, hi), d, zero)));
  return a->st;
}

/* HardSigmoid: y = max(0, min(1, alpha x + beta)): dx = alpha d where
 * 0 < y < 1, else 0. */
fr_status fr_grad_hard_sigmoid(fr_ad *a, const fr_node *n,
                               fr_value *const *dy) {
  fr_value *y = OUT(0);
  fr_value *in =
      fr_ad_binary(a, "And", fr_ad_binary(a, "Greater", y, fr_ad_scalar(a, 0)),
                   fr_ad_binary(a, "Less", y, fr_ad_scalar(a, 1)));
  fr_value *g = mul_scalar(a, dy[0], fr_attr_float(n, FR_A_ALPHA));
  return fr_ad_accum(a, IN(0), where(a, in, g, fr_ad_scalar(a, 0)));
}

/* HardSwish: y = x max(0, min(1, x / 6 + 1/2)): dx = d times 0 for
 * x < -3, 1 for x > 3, x / 3 + 1/2 between. */
fr_status fr_grad_hard_swish(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0);
  fr_value *mid =
      fr_ad_binary(a, "Add", mul_scalar(a, x, 1.0f / 3), fr_ad_scalar(a, 0.5f));
  fr_value *g = where(a, fr_ad_binary(a, "Greater", x, fr_ad_scalar(a, 3)),
                      fr_ad_scalar(a, 1), mid);
  g = where(a, fr_ad_binary(a, "Less", x, fr_ad_scalar(a, -3)),
            fr_ad_scalar(a, 0), g);
  return fr_ad_accum(a, x, fr_ad_binary(a, "Mul", dy[0], g));
}

/* Elu: x < 0 ? alpha (e^x - 1) : x: dx = x < 0 ? d (y + alpha) : d. */
fr_status fr_grad_elu(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0), *d = dy[0];
  fr_value *ya = fr_ad_binary(a, "Add", OUT(0),
                              fr_ad_scalar(a, fr_attr_float(n, FR_A_ALPHA)));
  return fr_ad_accum(a, x,
                     where(a, fr_ad_binary(a, "Less", x, fr_ad_scalar(a, 0)),
                           fr_ad_binary(a, "Mul", d, ya), d));
}

/* Softplus: log(1 + e^x): d sigmoid(x). */
fr_status fr_grad_softplus(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(
      a, IN(0),
      fr_ad_binary(a, "Mul", dy[0], fr_ad_unary(a, "Sigmoid", IN(0))));
}

/* Erf: d 2 / sqrt(pi) e^(-x^2). */
fr_status fr_grad_erf(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0);
  fr_value *e = fr_ad_unary(
      a, "Exp", fr_ad_unary(a, "Neg", fr_ad_binary(a, "Mul", x, x)));
  return fr_ad_accum(
      a, x,
      fr_ad_binary(a, "Mul", mul_scalar(a, dy[0], 1.1283791670955126f), e));
}

/* Pow: y = x^e (e cast to x's float type): dx = d e x^(e - 1);
 * de = d y log(x) (where x > 0). */
fr_status fr_grad_pow(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0), *e = IN(1), *d = dy[0];
  if (fr_ad_wants(a, x)) {
    fr_value *ef = to_f32(a, e);
    fr_value *p = fr_ad_binary(a, "Pow", x,
                               fr_ad_binary(a, "Sub", ef, fr_ad_scalar(a, 1)));
    FR_TRY(fr_ad_accum(
        a, x, fr_ad_binary(a, "Mul", fr_ad_binary(a, "Mul", d, ef), p)));
  }
  if (fr_ad_wants(a, e)) {
    fr_value *t = fr_ad_binary(a, "Mul", d, OUT(0));
    FR_TRY(
        fr_ad_accum(a, e, fr_ad_binary(a, "Mul", t, fr_ad_unary(a, "Log", x))));
  }
  return a->st;
}

/* Max, Min (variadic, broadcasting): d goes to the operand y took, the
 * first of those equal to y. */
fr_status fr_grad_max_min(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *y = OUT(0), *taken = NULL, *zero = fr_ad_scalar(a, 0);
  int last = n->n_in - 1;
  while (last >= 0 && !IN(last)) last--;
  for (int i = 0; i <= last && a->st == FR_OK; i++) {
    fr_value *x = IN(i);
    if (!x) continue;
    if (i == last && !taken) return fr_ad_accum(a, x, dy[0]);
    fr_value *eq = fr_ad_binary(a, "Equal", x, y);
    fr_value *sel =
        taken ? fr_ad_binary(a, "And", eq, fr_ad_unary(a, "Not", taken)) : eq;
    if (fr_ad_wants(a, x))
      FR_TRY(fr_ad_accum(a, x, where(a, sel, dy[0], zero)));
    if (i < last) taken = taken ? fr_ad_binary(a, "Or", taken, eq) : eq;
  }
  return a->st;
}

/* Sum: d to each operand; Mean: d / n. */
fr_status fr_grad_sum_mean(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  int k = 0;
  for (int i = 0; i < n->n_in; i++) k += IN(i) != NULL;
  fr_value *d = dy[0];
  if (n->op == FR_OP_MEAN && k > 1) d = mul_scalar(a, d, 1.0f / (float)k);
  for (int i = 0; i < n->n_in; i++)
    if (IN(i)) FR_TRY(fr_ad_accum(a, IN(i), d));
  return a->st;
}

/* Dropout. In training (opset 12 on, training_mode true) y = x mask /
 * (1 - ratio), so dx = d mask / (1 - ratio); otherwise y = x and the mask
 * is all true, so a training_mode known only at run time selects the
 * scale: training ? 1 / (1 - ratio) : 1. The mask is output 1, which the
 * rule adds to the node when the model did not ask for it. */
fr_status fr_grad_dropout(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  if (!dy[0]) return FR_OK;
  fr_value *train = n->opset >= 12 ? IN(2) : NULL;
  bool on = train && (train->flags & FR_V_CONST) && train->t.data;
  if (!train || (on && fr_tensor_get_i64(&train->t, 0) == 0))
    return fr_ad_accum(a, IN(0), dy[0]);
  fr_value *mask = OUT(1);
  if (!mask) { /* the mask as a new output 1 of the forward node */
    fr_node *fw = (fr_node *)n;
    fr_value **outs = fr_arena_alloc(&a->m->arena, 2 * sizeof *outs);
    char name[512];
    snprintf(name, sizeof name, "%.400s/grad/mask", n->name);
    mask = outs ? fr_value_new(a->g, name) : NULL;
    if (!mask) return fr_err_nomem(n);
    outs[0] = fw->out[0];
    outs[1] = mask;
    mask->producer = fw;
    fw->out = outs;
    fw->n_out = 2;
    FR_TRY(fr_node_infer(fw));
  }
  fr_value *ratio = IN(1), *scale;
  if (!ratio) {
    scale = fr_ad_scalar(a, 2.0f); /* ratio 0.5 */
  } else {
    scale = fr_ad_unary(
        a, "Reciprocal",
        fr_ad_binary(a, "Sub", fr_ad_scalar(a, 1), to_f32(a, ratio)));
  }
  if (!on) scale = where(a, train, scale, fr_ad_scalar(a, 1));
  fr_value *g = fr_ad_binary(a, "Mul", to_f32(a, mask), scale);
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], g));
}

/* ---- shapes -------------------------------------------------------------- */

/* Identity, Expand (fr_ad_accum sums d back over the broadcast dims): d */
fr_status fr_grad_identity(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  if (!dy[0]) return FR_OK;
  return fr_ad_accum(a, IN(0), dy[0]);
}

/* Reshape, Flatten, Squeeze, Unsqueeze: d in x's shape */
fr_status fr_grad_reshape(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0), fr_ad_reshape(a, dy[0], &IN(0)->t));
}

/* Transpose(perm): d transposed by the inverse permutation */
fr_status fr_grad_transpose(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  int r = IN(0)->t.rank, perm[FR_MAX_RANK];
  FR_TRY(fr_transpose_perm(n, r, perm));
  int64_t inv[FR_MAX_RANK];
  for (int i = 0; i < r; i++) inv[perm[i]] = i;
  fr_attr at = fr_ad_attr_ints(a, "perm", r, inv);
  return fr_ad_accum(a, IN(0), fr_ad_op(a, "Transpose", 1, &dy[0], 1, &at));
}

/* The tensors of n's inputs, for the readers of constant operands
 * (fr_slice_plan, fr_pad_plan); NULL for omitted ones. */
static void input_tensors(const fr_node *n, fr_tensor **t, int max) {
  for (int i = 0; i < max; i++) t[i] = IN(i) ? &IN(i)->t : NULL;
}

static fr_value *slice(fr_ad *a, fr_value *v, int64_t start, int64_t end,
                       int64_t axis, int64_t step) {
  fr_value *in[5] = {v, fr_ad_ints(a, 1, &start), fr_ad_ints(a, 1, &end),
                     fr_ad_ints(a, 1, &axis), fr_ad_ints(a, 1, &step)};
  if (!in[1] || !in[2] || !in[3] || !in[4]) return NULL;
  return fr_ad_op(a, "Slice", 5, in, 0, NULL);
}

/* v padded with zeros by pads (2 r: begins, then ends; negative: crops). */
static fr_value *pad(fr_ad *a, fr_value *v, const int64_t *pads) {
  if (!v) return NULL;
  fr_value *p = fr_ad_ints(a, 2 * v->t.rank, pads);
  return p ? fr_ad_op(a, "Pad", 2, (fr_value *[]){v, p}, 0, NULL) : NULL;
}

/* Concat along axis: each input's part of d, a Slice. */
fr_status fr_grad_concat(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  int axis;
  FR_TRY(fr_attr_axis(n, dy[0]->t.rank, &axis));
  int64_t off = 0;
  for (int i = 0; i < n->n_in; i++) {
    fr_value *x = IN(i);
    if (!x) continue;
    int64_t len = x->t.dims[axis];
    if (fr_ad_wants(a, x))
      FR_TRY(fr_ad_accum(a, x, slice(a, dy[0], off, off + len, axis, 1)));
    off += len;
  }
  return a->st;
}

/* Slice: d put back where the slice took it, zeros elsewhere. Along a dim
 * of step s > 0 from start b, d's element j goes to b + j s; a negative
 * step reads backwards, so d reversed goes there from its last index with
 * step -s. A step s > 1 interleaves s - 1 zeros after each element
 * (Unsqueeze, Pad, Reshape); then one Pad places every dim at its start
 * and fills up to x's length (crops when the last run of zeros overshoots). */
fr_status fr_grad_slice(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0), *d = dy[0];
  if (!fr_ad_wants(a, x)) return FR_OK;
  fr_tensor *in[5];
  input_tensors(n, in, 5);
  int r = x->t.rank;
  int64_t start[FR_MAX_RANK], step[FR_MAX_RANK], len[FR_MAX_RANK];
  FR_TRY(fr_slice_plan(n, in, start, step, len));
  int64_t pads[2 * FR_MAX_RANK];
  for (int i = 0; i < r && a->st == FR_OK; i++) {
    int64_t b = start[i], s = step[i];
    if (s < 0 && len[i] > 0) {
      d = slice(a, d, -1, INT64_MIN, i, -1);
      b = start[i] + (len[i] - 1) * s;
      s = -s;
    }
    int64_t L = len[i];
    if (s > 1 && L > 0) {
      /* [.., L, ..] -> [.., L, 1, ..] -> [.., L, s, ..] -> [.., L s, ..] */
      int64_t ax = i + 1, p[2 * (FR_MAX_RANK + 1)] = {0};
      fr_value *u = fr_ad_op(a, "Unsqueeze", 2,
                             (fr_value *[]){d, fr_ad_ints(a, 1, &ax)}, 0, NULL);
      p[(r + 1) + i + 1] = s - 1;
      u = pad(a, u, p);
      fr_tensor t = {.rank = r};
      memcpy(t.dims, d->t.dims, sizeof(int64_t) * (size_t)r);
      t.dims[i] = L * s;
      d = fr_ad_reshape(a, u, &t);
      L *= s;
    }
    pads[i] = b;
    pads[r + i] = x->t.dims[i] - b - L;
  }
  return fr_ad_accum(a, x, pad(a, d, pads));
}

/* Gather(x, indices) along axis: d scattered back into x's shape, rows
 * named more than once adding up (frost.GatherGrad). */
fr_status fr_grad_gather(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0);
  if (!fr_ad_wants(a, x)) return FR_OK;
  int axis;
  FR_TRY(fr_attr_axis(n, x->t.rank, &axis));
  fr_attr at[2] = {fr_ad_attr_i("axis", axis),
                   fr_ad_attr_ints(a, "shape", x->t.rank, x->t.dims)};
  return fr_ad_accum(
      a, x,
      fr_ad_frost(a, "GatherGrad", 2, (fr_value *[]){dy[0], IN(1)}, 2, at));
}

/* Pad, constant mode: d cropped back by the same pads (a Pad by their
 * negation, which pads where the forward cropped). */
fr_status fr_grad_pad(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0);
  fr_tensor *in[4];
  input_tensors(n, in, 4);
  int64_t pads[2 * FR_MAX_RANK];
  int mode;
  FR_TRY(fr_pad_plan(n, in, pads, &mode));
  if (mode != FR_PAD_CONSTANT)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of Pad in mode '%s'",
                       fr_attr_str(n, FR_A_MODE));
  if (n->opset >= 11 && fr_ad_wants(a, IN(2)))
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of Pad's constant_value");
  for (int i = 0; i < 2 * x->t.rank; i++) pads[i] = -pads[i];
  return fr_ad_accum(a, x, pad(a, dy[0], pads));
}

/* Tile(x, repeats): d as [r_0, X_0, r_1, X_1, ..] (the repeats outer of
 * each dim), summed over the repeats. */
fr_status fr_grad_tile(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *x = IN(0);
  if (!fr_ad_wants(a, x)) return FR_OK;
  int r = x->t.rank, k;
  int64_t rep[FR_MAX_RANK];
  FR_TRY(fr_tensor_read_ints(n, &IN(1)->t, "repeats", rep, FR_MAX_RANK, &k));
  fr_tensor split = {.rank = 0};
  int64_t axes[FR_MAX_RANK];
  int na = 0;
  for (int i = 0; i < r; i++) {
    if (rep[i] != 1) {
      if (split.rank == FR_MAX_RANK)
        return fr_err_node(FR_ERR_UNSUPPORTED, n,
                           "the gradient of Tile over more than %d dims",
                           FR_MAX_RANK);
      axes[na++] = split.rank;
      split.dims[split.rank++] = rep[i];
    }
    if (split.rank == FR_MAX_RANK)
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "the gradient of Tile over more than %d dims",
                         FR_MAX_RANK);
    split.dims[split.rank++] = x->t.dims[i];
  }
  fr_value *d = fr_ad_reshape(a, dy[0], &split);
  if (na) d = reduce_sum(a, d, na, axes, false);
  return fr_ad_accum(a, x, fr_ad_reshape(a, d, &x->t));
}

/* ---- linear algebra ------------------------------------------------------ */

/* Gemm(p, q) with transposes, as y = alpha op(p) op(q); scale by alpha. */
static fr_value *gemm(fr_ad *a, fr_value *p, fr_value *q, bool tp, bool tq,
                      float alpha) {
  fr_attr at[3] = {fr_ad_attr_i("transA", tp), fr_ad_attr_i("transB", tq),
                   fr_ad_attr_f("alpha", alpha)};
  return fr_ad_op(a, "Gemm", 2, (fr_value *[]){p, q}, 3, at);
}

/* y = alpha op(A) op(B) + beta C, A [M, K] or [K, M] (transA), B [K, N] or
 * [N, K] (transB): dA and dB are Gemms of d with the other operand, in the
 * order and transposes that give their shapes; dC = beta d. */
fr_status fr_grad_gemm(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_gemm_attrs g = fr_gemm_attrs_of(n);
  fr_value *A = IN(0), *B = IN(1), *C = IN(2), *d = dy[0];
  if (fr_ad_wants(a, A)) {
    fr_value *dA = !g.trans_a ? gemm(a, d, B, false, !g.trans_b, g.alpha)
                   : !g.trans_b ? gemm(a, B, d, false, true, g.alpha)
                                : gemm(a, B, d, true, true, g.alpha);
    FR_TRY(fr_ad_accum(a, A, dA));
  }
  if (fr_ad_wants(a, B)) {
    fr_value *dB = !g.trans_b ? (!g.trans_a ? gemm(a, A, d, true, false, g.alpha)
                                            : gemm(a, A, d, false, false, g.alpha))
                              : (!g.trans_a ? gemm(a, d, A, true, false, g.alpha)
                                            : gemm(a, d, A, true, true, g.alpha));
    FR_TRY(fr_ad_accum(a, B, dB));
  }
  if (fr_ad_wants(a, C)) {
    fr_value *dC = g.beta == 1 ? d
                               : fr_ad_binary(a, "Mul", d, fr_ad_scalar(a, g.beta));
    FR_TRY(fr_ad_accum(a, C, dC));
  }
  return a->st;
}

/* The last two dims of v swapped. */
static fr_value *swap_last(fr_ad *a, fr_value *v) {
  int r = v->t.rank;
  int64_t perm[FR_MAX_RANK];
  for (int i = 0; i < r; i++) perm[i] = i;
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  fr_attr at = fr_ad_attr_ints(a, "perm", r, perm);
  return fr_ad_op(a, "Transpose", 1, &v, 1, &at);
}

/* y = A B over the last two dims [.., M, K] x [.., K, N], batch dims
 * broadcast: dA = d B^T, dB = A^T d, each summed over the batch dims it
 * was broadcast along (fr_ad_accum). 2-D operands use Gemm, and a 2-D B
 * under a batched A folds the batch into M. */
fr_status fr_grad_matmul(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *A = IN(0), *B = IN(1), *d = dy[0];
  int ra = A->t.rank, rb = B->t.rank;
  if (ra < 2 || rb < 2)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of MatMul with a 1-D operand");
  if (rb == 2) {
    int64_t K = A->t.dims[ra - 1], N = B->t.dims[1];
    fr_value *A2 = A, *d2 = d;
    if (ra > 2) {
      fr_tensor sa = {.rank = 2, .dims = {fr_tensor_numel(&A->t) / (K ? K : 1), K}};
      fr_tensor sd = {.rank = 2, .dims = {sa.dims[0], N}};
      A2 = fr_ad_reshape(a, A, &sa);
      d2 = fr_ad_reshape(a, d, &sd);
    }
    if (fr_ad_wants(a, A))
      FR_TRY(fr_ad_accum(a, A, fr_ad_reshape(a, gemm(a, d2, B, false, true, 1),
                                             &A->t)));
    if (fr_ad_wants(a, B))
      FR_TRY(fr_ad_accum(a, B, gemm(a, A2, d2, true, false, 1)));
    return a->st;
  }
  if (fr_ad_wants(a, A))
    FR_TRY(fr_ad_accum(a, A, fr_ad_binary(a, "MatMul", d, swap_last(a, B))));
  if (fr_ad_wants(a, B))
    FR_TRY(fr_ad_accum(a, B, fr_ad_binary(a, "MatMul", swap_last(a, A), d)));
  return a->st;
}

/* ---- softmax, reductions, pooling ---------------------------------------- */

static fr_value *reduce_sum(fr_ad *a, fr_value *v, int n_axes,
                            const int64_t *axes, bool keep) {
  fr_value *ax = fr_ad_ints(a, n_axes, axes);
  fr_attr k = fr_ad_attr_i("keepdims", keep);
  if (!ax || !v) return NULL;
  return fr_ad_op(a, "ReduceSum", 2, (fr_value *[]){v, ax}, 1, &k);
}

/* The softmax axis, which must be the last dim before opset 13 (there the
 * op normalizes the flattened trailing dims). */
static fr_status softmax_axis(const fr_node *n, int *axis) {
  const fr_tensor *x = &IN(0)->t;
  FR_TRY(fr_softmax_axis(n, x, axis));
  if (n->opset < 13 && *axis != x->rank - 1)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of %s before opset 13 over more than "
                       "the last dim", n->op_type);
  return FR_OK;
}

/* softmax: y (d - sum(d y)) along the axis */
fr_status fr_grad_softmax(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  int axis;
  FR_TRY(softmax_axis(n, &axis));
  fr_value *y = OUT(0);
  int64_t ax = axis;
  fr_value *s = reduce_sum(a, fr_ad_binary(a, "Mul", dy[0], y), 1, &ax, true);
  fr_value *t = fr_ad_binary(a, "Sub", dy[0], s);
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", y, t));
}

/* log-softmax: d - exp(y) sum(d) along the axis */
fr_status fr_grad_log_softmax(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  int axis;
  FR_TRY(softmax_axis(n, &axis));
  int64_t ax = axis;
  fr_value *s = reduce_sum(a, dy[0], 1, &ax, true);
  fr_value *p = fr_ad_unary(a, "Exp", OUT(0));
  return fr_ad_accum(a, IN(0),
                     fr_ad_binary(a, "Sub", dy[0], fr_ad_binary(a, "Mul", p, s)));
}

/* d, of x's shape with 1s on the reduced dims, expanded to x's shape and
 * scaled by scale. */
static fr_value *spread(fr_ad *a, fr_value *d, const fr_tensor *kept,
                        const fr_tensor *x, float scale) {
  d = fr_ad_reshape(a, d, kept);
  if (scale != 1) d = fr_ad_binary(a, "Mul", d, fr_ad_scalar(a, scale));
  fr_value *shape = fr_ad_ints(a, x->rank, x->dims);
  if (!d || !shape) return NULL;
  return fr_ad_op(a, "Expand", 2, (fr_value *[]){d, shape}, 0, NULL);
}

/* ReduceSum: d spread over the reduced dims; ReduceMean: also / count */
fr_status fr_grad_reduce(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_tensor *in[3] = {0};
  for (int i = 0; i < n->n_in && i < 2; i++) in[i] = IN(i) ? &IN(i)->t : NULL;
  bool mask[FR_MAX_RANK] = {0}, noop = false;
  FR_TRY(fr_reduce_axes(n, in, mask, &noop));
  const fr_tensor *x = &IN(0)->t;
  if (noop) return fr_ad_accum(a, IN(0), dy[0]);
  fr_tensor kept = {.rank = x->rank};
  int64_t count = 1;
  for (int i = 0; i < x->rank; i++) {
    kept.dims[i] = mask[i] ? 1 : x->dims[i];
    if (mask[i]) count *= x->dims[i];
  }
  float scale = n->op == FR_OP_REDUCE_MEAN && count ? 1.0f / (float)count : 1;
  return fr_ad_accum(a, IN(0), spread(a, dy[0], &kept, x, scale));
}

/* GlobalAveragePool [N, C, S...] -> [N, C, 1...]: d / S spread */
fr_status fr_grad_global_avg_pool(fr_ad *a, const fr_node *n,
                                  fr_value *const *dy) {
  const fr_tensor *x = &IN(0)->t;
  int64_t count = 1;
  for (int i = 2; i < x->rank; i++) count *= x->dims[i];
  return fr_ad_accum(a, IN(0), spread(a, dy[0], &OUT(0)->t, x,
                                      count ? 1.0f / (float)count : 1));
}

/* ---- normalization -------------------------------------------------------- */

/* BatchNormalization in training mode (opset 14 on, training_mode 1): x
 * normalized by the batch's statistics over every dim but the channel (k
 * = N S values per channel), mu = mean(x), var = mean((x - mu)^2) (the
 * population variance), xhat = (x - mu) r with r = 1 / sqrt(var + eps),
 * y = gamma xhat + beta. Through mu and var:
 *   dx = gamma r (d - mean(d) - xhat mean(d xhat)),
 *   dgamma = sum(d xhat), dbeta = sum(d).
 * The statistics are recomputed here from x (outputs 1 and 2 are the
 * updated running statistics, which get no gradient). */
static fr_status batchnorm_train(fr_ad *a, const fr_node *n,
                                 fr_value *const *dy) {
  if (!dy[0]) return FR_OK;
  fr_value *x = IN(0), *gamma = IN(1), *d = dy[0];
  const fr_tensor *xt = &x->t;
  int r = xt->rank;
  fr_tensor chan = {.rank = r};
  int64_t axes[FR_MAX_RANK], k = 1;
  int na = 0;
  for (int i = 0; i < r; i++) {
    chan.dims[i] = i == 1 ? xt->dims[1] : 1;
    if (i != 1) {
      axes[na++] = i;
      k *= xt->dims[i];
    }
  }
  float inv_k = k ? 1.0f / (float)k : 0;
  float eps = fr_attr_float(n, FR_A_EPSILON);
  fr_value *mu = mul_scalar(a, reduce_sum(a, x, na, axes, true), inv_k);
  fr_value *xc = fr_ad_binary(a, "Sub", x, mu);
  fr_value *var = mul_scalar(
      a, reduce_sum(a, fr_ad_binary(a, "Mul", xc, xc), na, axes, true), inv_k);
  fr_value *rs = fr_ad_unary(
      a, "Reciprocal",
      fr_ad_unary(a, "Sqrt",
                  fr_ad_binary(a, "Add", var, fr_ad_scalar(a, eps))));
  fr_value *xhat = fr_ad_binary(a, "Mul", xc, rs);
  fr_value *sd = reduce_sum(a, d, na, axes, true); /* [1, C, 1..] */
  fr_value *sdx =
      reduce_sum(a, fr_ad_binary(a, "Mul", d, xhat), na, axes, true);
  if (fr_ad_wants(a, x)) {
    fr_value *t = fr_ad_binary(a, "Sub", d, mul_scalar(a, sd, inv_k));
    t = fr_ad_binary(a, "Sub", t,
                     fr_ad_binary(a, "Mul", xhat, mul_scalar(a, sdx, inv_k)));
    fr_value *s = fr_ad_binary(a, "Mul", fr_ad_reshape(a, gamma, &chan), rs);
    FR_TRY(fr_ad_accum(a, x, fr_ad_binary(a, "Mul", t, s)));
  }
  if (fr_ad_wants(a, gamma))
    FR_TRY(fr_ad_accum(a, gamma, fr_ad_reshape(a, sdx, &gamma->t)));
  if (fr_ad_wants(a, IN(2)))
    FR_TRY(fr_ad_accum(a, IN(2), fr_ad_reshape(a, sd, &IN(2)->t)));
  return a->st;
}

/* Row `row` of st (rows, C), reshaped as t. */
fr_value *fr_ad_row(fr_ad *a, fr_value *st, int64_t row, const fr_tensor *t) {
  fr_attr ax = fr_ad_attr_i("axis", 0);
  fr_value *ix = fr_ad_ints(a, 1, &row);
  if (!st || !ix) return NULL;
  return fr_ad_reshape(a, fr_ad_op(a, "Gather", 2, (fr_value *[]){st, ix}, 1, &ax), t);
}

/* gamma's and beta's gradients from rows 0 and 1 of st (BatchNormGrad's or
 * ReluBatchNormGrad's statistics). */
static fr_status bn_stats_grads(fr_ad *a, const fr_node *n, fr_value *st) {
  for (int row = 0; row < 2; row++) {
    fr_value *p = IN(1 + row);
    if (fr_ad_wants(a, p)) FR_TRY(fr_ad_accum(a, p, fr_ad_row(a, st, row, &p->t)));
  }
  return a->st;
}

/* BatchNormalization in inference form (running statistics, which stay
 * frozen): y = (x - mean) s + beta with s = gamma / sqrt(var + eps) per
 * channel (dim 1). dx = d s; dgamma = sum(d xhat), xhat = (x - mean) /
 * sqrt(var + eps); dbeta = sum(d), sums over every dim but the channel.
 * dgamma and dbeta come from one pass over d and x (frost.BatchNormGrad)
 * instead of four ops over the whole map; after a Relu, that pass also
 * makes dx from the Relu's output gradient (frost.ReluBatchNormGrad). */
fr_status fr_grad_batchnorm(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  if (fr_ad_wants(a, IN(3)) || fr_ad_wants(a, IN(4)))
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the running mean and variance are statistics, not "
                       "trainable parameters");
  fr_batchnorm_attrs ba;
  FR_TRY(fr_batchnorm_attrs_of(n, &ba));
  if (ba.training) return batchnorm_train(a, n, dy);
  if (!dy[0]) return FR_OK;
  const fr_tensor *x = &IN(0)->t;
  int r = x->rank;
  fr_tensor chan = {.rank = r};
  int64_t axes[FR_MAX_RANK];
  int na = 0;
  for (int i = 0; i < r; i++) {
    chan.dims[i] = i == 1 ? x->dims[1] : 1;
    if (i != 1) axes[na++] = i;
  }
  float eps = fr_attr_float(n, FR_A_EPSILON);
  fr_value *inv = fr_ad_unary(a, "Reciprocal",
                              fr_ad_unary(a, "Sqrt", fr_ad_binary(a, "Add", IN(4),
                                                                  fr_ad_scalar(a, eps))));
  fr_node *rg = dy[0]->producer;
  bool fuse = rg && rg->op == FR_OP_RELU_GRAD && rg->backward && x->dtype == FR_F32 &&
              IN(3)->t.rank == 1 && fr_ad_wants(a, IN(0));
  for (int k = 0; fuse && k < 2; k++) /* ReluGrad's dy and y as x, unbroadcast */
    fuse = rg->in[k] && rg->in[k]->t.rank == r &&
           !memcmp(rg->in[k]->t.dims, x->dims, sizeof(int64_t) * (size_t)r);
  if (fuse) {
    /* Relu after the BN: its ReluGrad (which no one else reads: it is
     * this output's whole gradient, so it goes) and this rule in one pass
     * over the map (frost.ReluBatchNormGrad) */
    fr_value *s = fr_ad_binary(a, "Mul", IN(1), inv), *o[2] = {NULL, NULL};
    fr_attr e = fr_ad_attr_f("epsilon", eps);
    if (!s) return a->st;
    fr_ad_frost_n(a, "ReluBatchNormGrad", 6,
                  (fr_value *[]){rg->in[0], rg->in[1], IN(0), s, IN(3), IN(4)}, 1, &e, 2,
                  o);
    FR_TRY(a->st);
    fr_node_kill(rg);
    FR_TRY(fr_ad_accum(a, IN(0), o[0]));
    return bn_stats_grads(a, n, o[1]);
  }
  if (fr_ad_wants(a, IN(0))) {
    fr_value *s = fr_ad_reshape(a, fr_ad_binary(a, "Mul", IN(1), inv), &chan);
    FR_TRY(fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], s)));
  }
  if (fr_ad_wants(a, IN(1)) && x->dtype == FR_F32 && IN(3)->t.rank == 1) {
    /* (2, C): row 0 dgamma, row 1 dbeta */
    fr_attr e = fr_ad_attr_f("epsilon", eps);
    fr_value *g = fr_ad_frost(a, "BatchNormGrad", 4,
                              (fr_value *[]){dy[0], IN(0), IN(3), IN(4)}, 1, &e);
    return bn_stats_grads(a, n, g);
  }
  if (fr_ad_wants(a, IN(1))) {
    fr_value *inv_c = fr_ad_reshape(a, inv, &chan);
    fr_value *xc = fr_ad_binary(a, "Sub", IN(0), fr_ad_reshape(a, IN(3), &chan));
    fr_value *xhat = fr_ad_binary(a, "Mul", xc, inv_c);
    FR_TRY(fr_ad_accum(a, IN(1), reduce_sum(a, fr_ad_binary(a, "Mul", dy[0], xhat),
                                            na, axes, false)));
  }
  if (fr_ad_wants(a, IN(2)))
    FR_TRY(fr_ad_accum(a, IN(2), reduce_sum(a, dy[0], na, axes, false)));
  return a->st;
}

/* ---- losses ----------------------------------------------------------------- */

/* SoftmaxCrossEntropyLoss(scores [N, C], labels [N]) with reduction mean
 * (/ N), sum, or none (d [N]): dscores = (softmax(scores) - onehot(labels))
 * times d. */
fr_status fr_grad_sce_loss(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  const fr_tensor *x = &IN(0)->t;
  if (x->rank != 2 || IN(2) || fr_attr_get(n, FR_A_IGNORE_INDEX))
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of SoftmaxCrossEntropyLoss with scores "
                       "other than [N, C], weights or ignore_index");
  if (!dy[0] || !fr_ad_wants(a, IN(0))) return FR_OK;
  int64_t N = x->dims[0], C = x->dims[1];
  const char *red = fr_attr_str(n, FR_A_REDUCTION);
  fr_attr ax = fr_ad_attr_i("axis", 1);
  fr_value *p = fr_ad_op(a, "Softmax", 1, (fr_value *[]){IN(0)}, 1, &ax);
  int64_t depth = C;
  float off_on[2] = {0, 1};
  fr_tensor vt = {.kind = FR_KIND_TENSOR, .dtype = FR_F32, .rank = 1,
                  .dims = {2}, .data = off_on};
  fr_value *vals = fr_graph_add_init(a->g, "onehot_values", &vt);
  if (!vals) return fr_err_nomem(n);
  fr_attr oax = fr_ad_attr_i("axis", -1);
  fr_value *oh = fr_ad_op(a, "OneHot", 3,
                          (fr_value *[]){IN(1), fr_ad_ints(a, 1, &depth), vals},
                          1, &oax);
  fr_value *diff = fr_ad_binary(a, "Sub", p, oh);
  fr_value *scale = dy[0];
  if (!strcmp(red, "none")) {
    fr_tensor col = {.rank = 2, .dims = {N, 1}};
    scale = fr_ad_reshape(a, dy[0], &col);
  } else if (!strcmp(red, "mean")) {
    scale = fr_ad_binary(a, "Mul", dy[0], fr_ad_scalar(a, N ? 1.0f / (float)N : 0));
  }
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", diff, scale));
}
