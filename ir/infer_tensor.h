/* infer_tensor.h: plans shared by the shape inference (infer_tensor.c) and
 * the interpreter glue (runtime/ops_tensor.c) of the tensor-movement ops,
 * so that both read attributes and inputs the same way. Each validates
 * what it reads and reports errors through fr_err_node. */
#ifndef FROST_INFER_TENSOR_H
#define FROST_INFER_TENSOR_H

#include "ir.h"

/* Reads the integer tensor t (scalar or 1-D, at most max values; data
 * needed) into v. what names it in messages. */
fr_status fr_tensor_read_ints(const fr_node *n, const fr_tensor *t,
                              const char *what, int64_t *v, int max,
                              int *count);

/* Shape: the slice [start, end) of the input's dims that is output. */
void fr_shape_range(const fr_node *n, int rank, int *start, int *end);

/* Transpose: the permutation (default: reversed dims). */
fr_status fr_transpose_perm(const fr_node *n, int rank, int *perm);

/* Slice: for each dim of data, the first index, the step and the output
 * length (untouched dims: 0, 1, dims[d]). */
fr_status fr_slice_plan(const fr_node *n, fr_tensor *const *in,
                        int64_t *start, int64_t *step, int64_t *len);

/* Split: the axis and the size of each of the node's n_out parts. */
fr_status fr_split_plan(const fr_node *n, fr_tensor *const *in, int *axis,
                        int64_t *sizes);

/* ConstantOfShape: its value, checked, or NULL (a float 0). */
fr_status fr_constant_of_shape_value(const fr_node *n, const fr_tensor **v);

/* GatherND: batch_dims (0 before opset 12). */
int64_t fr_gather_nd_batch_dims(const fr_node *n);

/* Compress: the axis, or -1 without one (the flattened input). */
fr_status fr_compress_axis(const fr_node *n, const fr_tensor *x, int *axis);

/* DepthToSpace, SpaceToDepth: the block size, and whether DepthToSpace's
 * mode is CRD (else DCR). */
fr_status fr_depth_space_attrs(const fr_node *n, int64_t *b, bool *crd);

/* ScatterElements, Scatter, ScatterND: the reduction, checked against the
 * opset. */
enum { FR_SCATTER_NONE, FR_SCATTER_ADD, FR_SCATTER_MUL, FR_SCATTER_MAX,
       FR_SCATTER_MIN };
fr_status fr_scatter_reduction(const fr_node *n, int *red);

/* Pad modes. */
enum { FR_PAD_CONSTANT, FR_PAD_REFLECT, FR_PAD_EDGE, FR_PAD_WRAP };
/* Pad: pads[d] (begin) and pads[rank + d] (end) for every dim of data. */
fr_status fr_pad_plan(const fr_node *n, fr_tensor *const *in, int64_t *pads,
                      int *mode);

/* Unique: rows along the axis (the whole flattened input without axis),
 * with outer and inner sizes around it; *axis is -1 without axis. */
fr_status fr_unique_layout(const fr_node *n, const fr_tensor *x, int *axis,
                           int64_t *outer, int64_t *rows, int64_t *inner);

#endif
