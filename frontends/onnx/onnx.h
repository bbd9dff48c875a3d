/* onnx.h: the internal header of the ONNX frontend.
 * Sections: import.c (model loading, command-line text parsers), tensor.c
 * (TensorProto conversion and .pb tensor files), value_pb.c (.pb files of
 * sequences and optionals), wire.c (protobuf wire-format reader, nesting
 * depth check, protobuf-c allocator), export.c (writing a trained model
 * back to ONNX, and where its weights lie in the packed bytes). */
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
  bool replace;       /* the given shape wins over the model's declared one
                         (conformance: the test data's shape is the truth) */
} fr_shape_override;

typedef struct fr_onnx_opts {
  const fr_shape_override *shapes; /* fix the dims of these inputs */
  int n_shapes;
  bool quiet;       /* no note on stderr for symbolic dims set to 1 */
  bool static_shapes; /* symbolic dims of graph inputs are an error */
  int64_t max_bytes; /* refuse models whose tensors exceed this (0: none) */
} fr_onnx_opts;

/* Subgraphs nested deeper than this are refused. */
enum { FR_ONNX_MAX_SUBGRAPH_DEPTH = 64 };

/* Loads path into a new model (inputs typed, initializers decoded, ops
 * resolved against the op table, verified). Errors name the file. */
fr_status fr_onnx_load(const char *path, const fr_onnx_opts *o,
                       fr_model **out);
/* Same, from a serialized ModelProto in memory. name is used in messages
 * and as the model's path; dir is the folder external data is read from
 * (NULL: external data is refused). */
fr_status fr_onnx_load_mem(const uint8_t *buf, size_t len, const char *name,
                           const char *dir, const fr_onnx_opts *o,
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
/* Bytes of data a TensorProto's type and dims call for, checked (dtype,
 * rank, negative dims, overflow) before anything is allocated. */
fr_status fr_onnx_tensor_nbytes(const struct Onnx__TensorProto *tp,
                                size_t *nbytes);
/* Reads a serialized TensorProto file (.pb); data is fr_malloc'd. name, when
 * not NULL, receives a fr_malloc'd copy of the tensor's name (maybe ""). */
fr_status fr_onnx_read_pb(const char *path, fr_tensor *out, char **name);
/* Same, from bytes in memory (errors are not prefixed with a file name). */
fr_status fr_onnx_parse_pb(const uint8_t *buf, size_t len, fr_tensor *out,
                           char **name);
/* Frees data of a tensor read by fr_onnx_read_pb (strings included). */
void fr_onnx_tensor_free(fr_tensor *t);

/* ---- value_pb.c ----------------------------------------------------- */

/* Reads a .pb test file holding a value of the given kind: a TensorProto
 * (FR_KIND_TENSOR), a SequenceProto or an OptionalProto. dtype is the
 * element type used when the file does not tell (empty sequence or
 * optional). Free with fr_onnx_value_free. */
fr_status fr_onnx_read_value_pb(const char *path, fr_kind kind,
                                fr_dtype dtype, fr_tensor *out);
/* Same, from bytes in memory. */
fr_status fr_onnx_parse_value_pb(const uint8_t *buf, size_t len, fr_kind kind,
                                 fr_dtype dtype, fr_tensor *out);
/* Frees a value read by fr_onnx_read_value_pb (deeply). */
void fr_onnx_value_free(fr_tensor *t);

/* ---- wire.c --------------------------------------------------------- */

/* A bounded view of bytes being decoded. */
typedef struct fr_wire {
  const uint8_t *p, *end;
} fr_wire;

/* One field: its number, wire type, and for length-delimited fields the
 * payload; varint fields give their value in v. */
typedef struct fr_wire_field {
  uint32_t num;
  int type;
  uint64_t v;
  fr_wire sub;
} fr_wire_field;

fr_status fr_wire_varint(fr_wire *w, uint64_t *v);
/* Reads the next field of w (FR_ERR_PARSE on malformed bytes). */
fr_status fr_wire_next(fr_wire *w, fr_wire_field *f);

/* Messages nested deeper than this are refused before protobuf-c unpacks
 * them (its unpacker recurses once per level). A subgraph level costs three
 * (GraphProto > NodeProto > AttributeProto), so this leaves room for
 * FR_ONNX_MAX_SUBGRAPH_DEPTH subgraph levels and types nested inside. */
enum { FR_PB_MAX_DEPTH = 256 };

struct ProtobufCMessageDescriptor;
struct ProtobufCAllocator;
/* FR_OK when no message in buf (of type d) nests deeper than max_depth;
 * FR_ERR_UNSUPPORTED if one does, FR_ERR_PARSE on malformed bytes. Uses no
 * recursion. */
fr_status fr_pb_check_depth(const struct ProtobufCMessageDescriptor *d,
                            const uint8_t *buf, size_t len, int max_depth);
/* protobuf-c allocations through fr_malloc (counted against the cap). */
struct ProtobufCAllocator *fr_pb_allocator(void);
/* How many of its allocations failed so far: protobuf-c reports a failed
 * allocation like bad input (NULL), this tells them apart. */
unsigned long fr_pb_alloc_failures(void);

/* ---- export.c --------------------------------------------------------- */

/* Writes out: the model file orig with m's trained parameters written back
 * into their initializers and, when m has a head (frost.head.<l>.*),
 * Flatten and Gemm (Relu between) appended after cut (or the model's first
 * output), whose output becomes the only graph output ("logits"). */
fr_status fr_onnx_export(const char *orig, const fr_model *m,
                         const char *cut, const char *out);
/* The same model, packed into *buf (fr_malloc'd, *len bytes) instead of a
 * file. Every trained parameter and head tensor in it is raw_data. */
fr_status fr_onnx_export_mem(const char *orig, const fr_model *m,
                             const char *cut, uint8_t **buf, size_t *len);
/* Where the weights are in a packed model buf (a ModelProto), read from the
 * wire format without protobuf-c: for each names[i], the tensor
 * fr_onnx_export writes it to (the graph initializer of that name, else the
 * "value" of the Constant node whose only output it is); offsets[i] is the
 * byte offset of its raw_data payload in buf, sizes[i] its length. A name
 * not found, or found without raw_data, is an error naming it; malformed
 * or truncated bytes are FR_ERR_PARSE. */
fr_status fr_onnx_raw_offsets(const uint8_t *buf, size_t len,
                              const char *const *names, int n,
                              int64_t *offsets, int64_t *sizes);

#endif
