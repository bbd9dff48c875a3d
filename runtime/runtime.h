/* runtime.h: the internal header of frost's runtime.
 * Sections: tensor.c (runtime tensors), npy.c (NumPy files), interp.c (the
 * reference interpreter), ops_*.c (per-op glue between IR nodes and the
 * kernels of kernels/). */
#ifndef FROST_RUNTIME_H
#define FROST_RUNTIME_H

#include "../ir/ir.h"
#include "kernels/kernels.h"

/* ---- tensor.c ------------------------------------------------------- */

/* Allocates zeroed data for t's dtype and shape (tensors only). */
fr_status fr_tensor_alloc(fr_tensor *t);
/* Frees t's data, deeply for strings, sequences and optionals. */
void fr_tensor_release(fr_tensor *t);
/* Deep copy of src into dst (dst's old data is not freed). */
fr_status fr_tensor_clone(const fr_tensor *src, fr_tensor *dst);
/* A new heap tensor (for sequence elements), a deep copy of src. */
fr_tensor *fr_tensor_dup(const fr_tensor *src);
/* Broadcast strides of a (rank ra, dims da) against out's rank and dims. */
void fr_bcast_strides(const fr_tensor *a, int rank, const int64_t *dims,
                      int64_t *strides);
/* Fills a kernel broadcast descriptor for y = f(a, b). */
void fr_bcast_init(fr_k_bcast *k, const fr_tensor *a, const fr_tensor *b,
                   const fr_tensor *y);

/* ---- npy.c ---------------------------------------------------------- */

/* Reads a .npy file (v1-v3, little-endian, C order); data is fr_malloc'd. */
fr_status fr_npy_read(const char *path, fr_tensor *out);
/* Same, from the bytes of a .npy file in memory. */
fr_status fr_npy_parse(const uint8_t *buf, size_t len, fr_tensor *out);
/* Writes t as .npy to path, through a temporary file renamed into place. */
fr_status fr_npy_write(const char *path, const fr_tensor *t);
/* Writes ts[i] to paths[i], all or nothing: each goes to a temporary file
 * first, and they are renamed into place only when all are written. On
 * failure no temporary file is left and none of paths is kept. */
fr_status fr_npy_write_all(const char *const *paths, const fr_tensor *ts,
                           int n);

/* ---- interp.c ------------------------------------------------------- */

/* The interpreter's state while running a model. */
typedef struct fr_exec {
  fr_model *m;
  fr_tensor *env;   /* by value id: current runtime tensor */
  uint8_t *owned;   /* by value id: env data is owned by the interpreter */
  int n_env;
  uint64_t rng;     /* state of the random ops */
} fr_exec;

fr_status fr_interp_init(fr_exec *x, fr_model *m);
void fr_interp_free(fr_exec *x);
/* Runs graph g: in[i] binds g->inputs[i] (borrowed). out[i] receives the
 * graph's outputs, owned by the caller (release with fr_tensor_release). */
fr_status fr_interp_run(fr_exec *x, const fr_graph *g, fr_tensor *const *in,
                        fr_tensor *out);
/* fr_eval_fn for shape inference: evaluates one node on known inputs, the
 * outputs' data allocated in arena a. */
fr_status fr_interp_eval(fr_arena *a, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out);

#endif
