/* fold_bn.c: BatchNormalization (inference form) folded into the Conv,
 * ConvTranspose (group 1) or Gemm that produces its input, in the frozen
 * region:
 *   s = scale / sqrt(var + eps)
 *   W'[m, ...] = W[m, ...] * s[m]        (m: the output channel)
 *   b'[m]      = (b[m] - mean[m]) * s[m] + B[m]
 * The linear op then produces the BatchNormalization's output value. */
#include <math.h>

#include "passes.h"

fr_status fr_pass_fold_bn(fr_model *m, const fr_pipeline_opts *o) {
  (void)o;
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *bn = g->nodes[k];
    if (bn->dead || bn->op != FR_OP_BATCH_NORMALIZATION || bn->trainable ||
        bn->n_out != 1 || bn->n_in != 5)
      continue;
    fr_batchnorm_attrs ba;
    if (fr_batchnorm_attrs_of(bn, &ba) != FR_OK || ba.training) continue;
    fr_value *x = bn->in[0];
    fr_node *p = x ? x->producer : NULL;
    if (!p || p->dead || p->trainable || fr_value_sole_user(g, x) != bn ||
        x->t.rank < 2)
      continue;
    bool ok = true;
    for (int i = 1; i < 5; i++) ok = ok && fr_value_frozen_f32(bn->in[i]);
    int64_t M = x->t.dims[1];
    for (int i = 1; ok && i < 5; i++) ok = fr_tensor_numel(&bn->in[i]->t) == M;
    fr_affine l;
    if (!ok || !fr_affine_layout(p, M, &l)) continue;
    const fr_tensor *w0t = &p->in[1]->t;
    float *b = fr_malloc(sizeof(float) * (size_t)M * 2);
    float *w = fr_malloc(fr_tensor_nbytes(w0t));
    if (!b || !w) {
      fr_free(b);
      fr_free(w);
      return fr_err_nomem(bn);
    }
    float *s = b + M;
    if (!fr_affine_bias(p, M, b)) {
      fr_free(b);
      fr_free(w);
      continue;
    }
    const float *scale = bn->in[1]->t.data, *beta = bn->in[2]->t.data,
                *mean = bn->in[3]->t.data, *var = bn->in[4]->t.data;
    float alpha = p->op == FR_OP_GEMM ? fr_gemm_attrs_of(p).alpha : 1;
    for (int64_t c = 0; c < M; c++) {
      s[c] = scale[c] / sqrtf(var[c] + ba.epsilon);
      b[c] = (b[c] - mean[c]) * s[c] + beta[c];
    }
    fr_affine_scale(&l, w0t->data, alpha, s, false, w);
    /* p now computes the BatchNormalization's output, bias included; the
     * graph order stays topological: p comes before bn's users. */
    fr_status st = fr_affine_install(g, p, w, "folded", b, bn);
    fr_free(b);
    fr_free(w);
    FR_TRY(st);
  }
  fr_graph_compact(g);
  return FR_OK;
}
