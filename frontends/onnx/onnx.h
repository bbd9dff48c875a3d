/* onnx.h: the internal header of the ONNX frontend.
 * Sections: import.c (model loading), tensor.c (TensorProto conversion and
 * .pb tensor files), value_pb.c (.pb files of sequences and optionals). */
#ifndef FROST_ONNX_H
#define FROST_ONNX_H

#include "../../ir/ir.h"

/* ---- import.c ------------------------------------------------------- */

/* A --shape NAME=DIMS override for a graph input. */
typedef struct fr_shape_override {
  const char *name;
  int rank;
  int64_t dims[FR_MAX_RANK];
  const char *origin; /* for messages: the input file, or NULL (--shape) */
} fr_shape_override;

typedef struct fr_onnx_opts {
  const fr_shape_override *shapes; /* fix the dims of these inputs */
  int n_shapes;
  bool quiet;       /* no note on stderr for symbolic dims set to 1 */
  int64_t max_bytes; /* refuse models whose tensors exceed this (0: none) */
} fr_onnx_opts;

/* Loads path into a new model (inputs typed, initializers decoded, ops
 * resolved against the op table, verified). Errors name the file. */
fr_status fr_onnx_load(const char *path, const fr_onnx_opts *o,
                       fr_model **out);
/* Parses "1x3x48x192" (or "" for a scalar) into dims. */
fr_status fr_parse_dims(const char *s, int *rank, int64_t *dims);

/* ---- tensor.c ------------------------------------------------------- */

struct Onnx__TensorProto;
/* Converts a TensorProto; data is allocated in arena a (or with fr_malloc
 * when a is NULL). dir: the model's folder, for external data (NULL: refuse
 * external data). */
fr_status fr_onnx_tensor(const struct Onnx__TensorProto *tp, fr_arena *a,
                         const char *dir, fr_tensor *out);
/* Reads a serialized TensorProto file (.pb); data is fr_malloc'd. name, when
 * not NULL, receives a fr_malloc'd copy of the tensor's name (maybe ""). */
fr_status fr_onnx_read_pb(const char *path, fr_tensor *out, char **name);
/* Frees data of a tensor read by fr_onnx_read_pb (strings included). */
void fr_onnx_tensor_free(fr_tensor *t);
/* Reads a whole file into a fr_malloc'd buffer. */
fr_status fr_read_file(const char *path, uint8_t **buf, size_t *len);

/* ---- value_pb.c ----------------------------------------------------- */

/* Reads a .pb test file holding a value of the given kind: a TensorProto
 * (FR_KIND_TENSOR), a SequenceProto or an OptionalProto. dtype is the
 * element type used when the file does not tell (empty sequence or
 * optional). Free with fr_onnx_value_free. */
fr_status fr_onnx_read_value_pb(const char *path, fr_kind kind,
                                fr_dtype dtype, fr_tensor *out);
/* Frees a value read by fr_onnx_read_value_pb (deeply). */
void fr_onnx_value_free(fr_tensor *t);

#endif
