/* pass_fuse.c: fusion in the frozen region.
 *  1. Patterns: x * Clip(x + 3, 0, 6) / 6 (HardSwish spelled out, as
 *     exporters write it for old opsets) becomes HardSwish(x).
 *  2. Elementwise tails into the linear op producing their input: see
 *     fuse_tails (needs the fused kernel entries). */
#include <math.h>
#include <string.h>

#include "compiler.h"

/* v is a frozen constant holding one float equal to want. */
static bool is_scalar(const fr_value *v, float want) {
  if (!v || !(v->flags & FR_V_CONST) || (v->flags & FR_V_TRAINABLE) ||
      v->t.dtype != FR_F32 || fr_tensor_numel(&v->t) != 1)
    return false;
  return fabsf(((const float *)v->t.data)[0] - want) <= 1e-6f * fabsf(want);
}

/* Clip's bounds, from attributes (opset < 11) or constant inputs. */
static bool clip_bounds(const fr_node *n, float *lo, float *hi) {
  if (n->opset < 11) {
    *lo = fr_attr_float(n, "min", -INFINITY);
    *hi = fr_attr_float(n, "max", INFINITY);
    return true;
  }
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

fr_status fr_pass_fuse(fr_model *m, const fr_pipeline_opts *o) {
  (void)o;
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    if (n->dead || n->trainable) continue;
    if (n->op == FR_OP_DIV) hardswish(g, n);
  }
  fr_graph_compact(g);
  return FR_OK;
}
