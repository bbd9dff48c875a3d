/* grad.h: the autodiff pass (autodiff.c) and the gradient rules (grad.c,
 * grad_nn.c) share this: the builder rules use to append backward nodes,
 * and the rules' declarations, which the grad column of ir/ops.def names. */
#ifndef FROST_GRAD_H
#define FROST_GRAD_H

#include "passes.h"

typedef struct fr_ad {
  fr_model *m;
  fr_graph *g;
  fr_value **grad;     /* by value id: the gradient so far, or NULL */
  int n_ids;           /* ids when the pass began (forward values) */
  const fr_node *at;   /* the node whose rule runs (names, errors) */
  int counter;         /* names of new values */
  fr_status st;        /* the first failure of a builder call */
} fr_ad;

/* A rule: given dy[i], the gradient of n's output i (NULL: none reached
 * it), adds the gradient of each input that needs one. */
typedef fr_status (*fr_grad_fn)(fr_ad *a, const fr_node *n,
                                fr_value *const *dy);

/* The builder. Each returns NULL after a failure, which a->st then holds
 * (rules return a->st). */

/* v needs a gradient: a trainable parameter or computed from one. */
bool fr_ad_wants(const fr_ad *a, const fr_value *v);
/* A new node of ONNX op `op` (the opset its rule was written for, 13
 * unless it starts later), with inputs in (NULL: omitted) and attributes,
 * its shapes inferred; returns its first output. */
fr_value *fr_ad_op(fr_ad *a, const char *op, int n_in, fr_value *const *in,
                   int n_attr, const fr_attr *attrs);
/* A node of frost's own domain (frost.<op>). */
fr_value *fr_ad_frost(fr_ad *a, const char *op, int n_in, fr_value *const *in,
                      int n_attr, const fr_attr *attrs);
/* One with n_out outputs, into outs; returns the first. */
fr_value *fr_ad_frost_n(fr_ad *a, const char *op, int n_in, fr_value *const *in,
                        int n_attr, const fr_attr *attrs, int n_out, fr_value **outs);
/* Row `row` of st (rows, C) reshaped as t (a Gather then a Reshape). */
fr_value *fr_ad_row(fr_ad *a, fr_value *st, int64_t row, const fr_tensor *t);
/* Constants: an f32 scalar (rank 0), a 1-D int64 vector. */
fr_value *fr_ad_scalar(fr_ad *a, float v);
fr_value *fr_ad_ints(fr_ad *a, int n, const int64_t *v);
/* Attributes for fr_ad_op. */
fr_attr fr_ad_attr_i(const char *name, int64_t v);
fr_attr fr_ad_attr_f(const char *name, float v);
fr_attr fr_ad_attr_ints(fr_ad *a, const char *name, int n, const int64_t *v);
/* Shorthands of fr_ad_op. */
fr_value *fr_ad_binary(fr_ad *a, const char *op, fr_value *x, fr_value *y);
fr_value *fr_ad_unary(fr_ad *a, const char *op, fr_value *x);
/* d summed over the dims where it was broadcast against shape t, and
 * reshaped to t's shape. */
fr_value *fr_ad_unbroadcast(fr_ad *a, fr_value *d, const fr_tensor *t);
/* d reshaped to t's shape (a constant shape input). */
fr_value *fr_ad_reshape(fr_ad *a, fr_value *d, const fr_tensor *t);
/* Adds dx to x's gradient (unbroadcast to x's shape first), when x needs
 * one; nothing otherwise. */
fr_status fr_ad_accum(fr_ad *a, fr_value *x, fr_value *dx);

/* The rules (grad.c, grad_nn.c), named by the grad column of
 * ir/ops.def. */
#define FR_GRAD_RULES(X)                                                      \
  X(abs) X(add) X(sub) X(mul) X(div) X(neg) X(relu) X(leaky_relu) X(sigmoid) \
  X(tanh) X(exp) X(log) X(sqrt) X(prelu) X(clip) X(hard_sigmoid)             \
  X(hard_swish) X(elu) X(softplus) X(erf) X(pow) X(max_min) X(sum_mean)      \
  X(dropout) X(identity) X(reshape) X(transpose) X(concat) X(slice)          \
  X(gather) X(pad) X(tile) X(gemm) X(matmul) X(softmax) X(log_softmax)       \
  X(reduce) X(global_avg_pool) X(batchnorm) X(sce_loss)                      \
  /* grad_nn.c */                                                             \
  X(conv) X(conv_transpose) X(max_pool) X(global_max_pool) X(avg_pool)
#define FR_GRAD_DECL(r)                                                       \
  fr_status fr_grad_##r(fr_ad *a, const fr_node *n, fr_value *const *dy);
FR_GRAD_RULES(FR_GRAD_DECL)
#undef FR_GRAD_DECL

/* The grad column: the rule of each op, or NULL (autodiff.c). */
extern const fr_grad_fn fr_grad_rules[];

#endif
