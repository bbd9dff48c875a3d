/* ir.h: the one internal header of frost's IR.
 *
 * Sections follow the files that implement them: err.c (status values and
 * the error message), mem.c (allocator and arenas), file.c (reading the
 * files frost is given), dtype.c (element types and tensors), rng.c
 * (training's random numbers), sha256.c (file hashes) - these are the base
 * library (frost_base, with layout_text.c) that artifacts link too - then
 * graph.c
 * (values, nodes, graphs, attributes), edit.c (graph surgery), ops.c (the
 * IR's columns of the operator table ops.def), infer.c and infer_*.c (shape
 * inference, and the readers of attributes the runtime glue shares),
 * verify.c and print.c.
 *
 * The IR uses nothing of the runtime, the kernels, a frontend or a back
 * end (tests/layers links it with frost_base alone).
 */
#ifndef FROST_IR_H
#define FROST_IR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FR_MAX_RANK 8

/* ---- err.c ---------------------------------------------------------- */

typedef enum fr_status {
  FR_OK = 0,          /* success */
  FR_ERR_IO,          /* a file could not be read or written */
  FR_ERR_PARSE,       /* a file is not what it claims to be */
  FR_ERR_INVALID,     /* a model or input breaks a rule of the format */
  FR_ERR_UNSUPPORTED, /* valid, but frost does not implement it */
  FR_ERR_SHAPE,       /* shapes or dtypes do not fit */
  FR_ERR_NOMEM,       /* an allocation failed or a limit was hit */
  FR_ERR_USAGE,       /* bad command line */
} fr_status;

struct fr_node;

/* Records a message (printf style) for the last error and returns st. */
fr_status fr_err(fr_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, prefixed with "node 'NAME' (Op): ". */
fr_status fr_err_node(fr_status st, const struct fr_node *n, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));
/* FR_ERR_NOMEM, "out of memory" (about node n when not NULL; naming the
 * --max-memory limit when one is set). */
fr_status fr_err_nomem(const struct fr_node *n);
/* Levenshtein distance (names over 200 bytes: 1000), for "did you mean"
 * suggestions. */
int fr_edit_distance(const char *a, const char *b);
/* Prefixes the current message with "PREFIX: " (e.g. the file name). */
void fr_err_prefix(const char *prefix);
const char *fr_err_msg(void); /* "unknown error" when none was recorded */
void fr_err_clear(void);
/* true when a message was recorded since fr_err_clear (tests check that
 * every error says what went wrong). */
bool fr_err_is_set(void);

#define FR_ASSERT(c)                                                         \
  do {                                                                       \
    if (!(c)) fr_assert_fail(__FILE__, __LINE__, #c);                        \
  } while (0)
_Noreturn void fr_assert_fail(const char *file, int line, const char *what);

#define FR_TRY(expr)                                                         \
  do {                                                                       \
    fr_status st_ = (expr);                                                  \
    if (st_ != FR_OK) return st_;                                            \
  } while (0)

/* ---- mem.c ---------------------------------------------------------- */

/* Every heap allocation of frost goes through these, so that a test build
 * can make allocations fail (fr_mem_fail_after) and a cap can be enforced. */
void *fr_malloc(size_t n);
void *fr_calloc(size_t n, size_t size);
void *fr_realloc(void *p, size_t n);
/* Milliseconds of the monotonic clock (ir/clock.c), for timings. */
double fr_now_ms(void);
void fr_free(void *p);
char *fr_strdup(const char *s);
/* 64-byte aligned blocks (activation buffers). */
void *fr_aligned_alloc(size_t n);
void fr_aligned_free(void *p);
/* Failure injection (tests): the allocation after the next n succeeds no
 * more, nor does any after it, until fr_mem_fail_after(-1). */
void fr_mem_fail_after(long n); /* -1: never fail */
/* Same, but only that allocation fails: the ones after it succeed (an
 * ignored failure then shows as a run that succeeds). */
void fr_mem_fail_only(long n);
/* Allocation requests made so far (failed ones included): a test counts the
 * allocations of a run, then fails each in turn. */
unsigned long fr_mem_allocs(void);
/* Caps the bytes live through fr_malloc (0: no cap, the default); an
 * allocation past the cap fails. The CLI sets it from --max-memory. */
void fr_mem_set_limit(size_t bytes);
size_t fr_mem_limit(void);
size_t fr_mem_in_use(void);
/* true when n more bytes fit under the cap. */
bool fr_mem_fits(size_t n);
/* Parses a byte count: digits with an optional K, M, G or T suffix (powers
 * of 1024, an optional trailing B or iB), e.g. "512M", "4G", "1000000". */
fr_status fr_parse_size(const char *s, int64_t *bytes);

/* Arena: many small allocations freed at once (one per model). */
typedef struct fr_arena_block fr_arena_block;
typedef struct fr_arena {
  fr_arena_block *head;
  size_t used_total;
} fr_arena;

void *fr_arena_alloc(fr_arena *a, size_t n); /* zeroed, 16-byte aligned */
char *fr_arena_strdup(fr_arena *a, const char *s);
/* Frees p early when it is a big allocation of a (one with a block of its
 * own: more than a quarter of the arena's block size), and says so; else
 * p stays until fr_arena_free. The caller knows nothing points into p. */
bool fr_arena_release(fr_arena *a, void *p);
void fr_arena_free(fr_arena *a);

/* ---- file.c --------------------------------------------------------- */

/* Every file frost is given is read through these. A path naming a FIFO, a
 * device, a folder or a socket (or a link to one) is refused at open, "PATH:
 * is a FIFO, not a regular file", without blocking; reads never go past the
 * size the file had when it was opened. */
typedef struct fr_file {
  int fd;
  uint64_t size;    /* bytes, from fstat of the opened descriptor */
  const char *path; /* for messages; not owned */
} fr_file;

/* Opens a regular file for reading (O_NONBLOCK, then fstat once). */
fr_status fr_file_open(fr_file *f, const char *path);
/* Reads exactly n bytes at off: an error ("truncated") if off + n passes the
 * size at open, or if the file has shrunk since. */
fr_status fr_file_read_at(fr_file *f, uint64_t off, void *buf, size_t n);
void fr_file_close(fr_file *f);
/* Reads a whole regular file (at most 2 GiB, under the memory cap) into a
 * fr_malloc'd buffer, NUL-terminated after len bytes; an error if its size
 * changed while it was read. */
fr_status fr_read_file(const char *path, uint8_t **buf, size_t *len);
/* What a st_mode is, for messages: "a FIFO", "a folder", "a socket"... */
const char *fr_file_kind(unsigned mode);
/* An output path must not name a FIFO, a device or a socket (links
 * followed): renaming a new file over it would replace it, writing to it
 * could block. Absent, regular files and folders pass (a folder fails at
 * the rename). */
fr_status fr_file_check_target(const char *path);
/* Creates the folder path, or checks that it is one. */
fr_status fr_file_make_dir(const char *path);

/* ---- dtype.c -------------------------------------------------------- */

/* Element types, numbered as ONNX's TensorProto.DataType. */
typedef enum fr_dtype {
  FR_UNDEFINED = 0,
  FR_F32 = 1,
  FR_U8 = 2,
  FR_I8 = 3,
  FR_U16 = 4,
  FR_I16 = 5,
  FR_I32 = 6,
  FR_I64 = 7,
  FR_STRING = 8, /* data is an array of char* */
  FR_BOOL = 9,   /* one byte per element, 0 or 1 */
  FR_F16 = 10,
  FR_F64 = 11,
  FR_U32 = 12,
  FR_U64 = 13,
  FR_C64 = 14,
  FR_C128 = 15,
  FR_BF16 = 16,
  FR_DTYPE_COUNT
} fr_dtype;

size_t fr_dtype_size(fr_dtype t); /* 0 for unknown types */
const char *fr_dtype_name(fr_dtype t);
bool fr_dtype_is_float(fr_dtype t); /* F16, BF16, F32, F64 */
bool fr_dtype_is_int(fr_dtype t);   /* signed and unsigned integers */
bool fr_dtype_is_signed(fr_dtype t);

/* What a value holds: a tensor, a sequence of tensors, or an optional. */
typedef enum fr_kind {
  FR_KIND_TENSOR = 0,
  FR_KIND_SEQUENCE, /* data: fr_tensor** of dims[0] elements */
  FR_KIND_OPTIONAL, /* an optional; data: fr_tensor* or NULL (none) */
} fr_kind;

/* A tensor: type, concrete shape and (maybe) data.
 * rank < 0 means the shape is not known yet (before shape inference).
 * data is owned by whoever set it (arena for constants, interpreter for
 * activations). Elements are dense, row-major. */
typedef struct fr_tensor {
  fr_kind kind;
  fr_dtype dtype;
  int rank;
  int64_t dims[FR_MAX_RANK];
  void *data;
} fr_tensor;

int64_t fr_tensor_numel(const fr_tensor *t);
size_t fr_tensor_nbytes(const fr_tensor *t);
/* Checked numel: FR_ERR_INVALID on negative dims or overflow. */
fr_status fr_shape_numel(int rank, const int64_t *dims, int64_t *numel);
/* Element i converted to double / int64 (for small index tensors). */
double fr_tensor_get_f64(const fr_tensor *t, int64_t i);
int64_t fr_tensor_get_i64(const fr_tensor *t, int64_t i);
void fr_tensor_set_f64(fr_tensor *t, int64_t i, double v);
/* "f32[1,3,224,224]" into buf. */
const char *fr_shape_str(const fr_tensor *t, char *buf, size_t n);
float fr_f16_to_f32(uint16_t h);
uint16_t fr_f32_to_f16(float f);
float fr_bf16_to_f32(uint16_t h);
uint16_t fr_f32_to_bf16(float f);

/* ---- rng.c: training's random numbers (xoshiro256**) ------------------ */

typedef struct fr_rng {
  uint64_t s[4]; /* the whole state (checkpoints save it) */
} fr_rng;
void fr_rng_seed(fr_rng *r, uint64_t seed);
uint64_t fr_rng_u64(fr_rng *r);
double fr_rng_uniform(fr_rng *r);            /* [0, 1), 53 bits */
uint64_t fr_rng_below(fr_rng *r, uint64_t n); /* [0, n), unbiased */
void fr_rng_shuffle(fr_rng *r, int *a, int n); /* Fisher-Yates */

/* ---- sha256.c: SHA-256 (the model hash of checkpoints) --------------- */

typedef struct fr_sha256 {
  uint32_t h[8];
  uint64_t len;    /* bytes hashed so far */
  uint8_t buf[64]; /* the partial block */
  size_t n;        /* bytes in buf */
} fr_sha256;
void fr_sha256_init(fr_sha256 *s);
void fr_sha256_update(fr_sha256 *s, const void *data, size_t n);
void fr_sha256_final(fr_sha256 *s, uint8_t out[32]);
/* 64 lowercase hex digits and a NUL. */
void fr_sha256_hex(const uint8_t d[32], char out[65]);
/* The hash of a file's bytes, in hex (read through fr_file, 1 MiB at a
 * time). */
fr_status fr_sha256_file(const char *path, char out[65]);

/* ---- graph.c -------------------------------------------------------- */

typedef enum fr_attr_type {
  FR_ATTR_UNDEFINED = 0,
  FR_ATTR_FLOAT = 1,
  FR_ATTR_INT = 2,
  FR_ATTR_STRING = 3,
  FR_ATTR_TENSOR = 4,
  FR_ATTR_GRAPH = 5,
  FR_ATTR_FLOATS = 6,
  FR_ATTR_INTS = 7,
  FR_ATTR_STRINGS = 8,
  FR_ATTR_TENSORS = 9,
  FR_ATTR_GRAPHS = 10,
  FR_ATTR_SPARSE_TENSOR = 11, /* refused by the importer */
  FR_ATTR_TYPE_PROTO = 13, /* a type: t holds its kind and dtype, no data */
} fr_attr_type; /* numbered as ONNX's AttributeProto.AttributeType */

struct fr_graph;

typedef struct fr_attr {
  const char *name;
  fr_attr_type type;
  int64_t i;
  float f;
  const char *s; /* STRING (NUL-terminated; slen bytes) */
  size_t slen;
  fr_tensor *t;
  struct fr_graph *g;
  int n;          /* element count of the list kinds */
  int64_t *ints;  /* INTS */
  float *floats;  /* FLOATS */
  const char **strings;
  fr_tensor **tensors;
  struct fr_graph **graphs;
} fr_attr;

/* Flags of values. */
enum {
  FR_V_INPUT = 1 << 0,     /* graph input */
  FR_V_OUTPUT = 1 << 1,    /* graph output */
  FR_V_CONST = 1 << 2,     /* data known at compile time (initializer) */
  FR_V_TRAINABLE = 1 << 3, /* a trainable parameter: training updates it */
  FR_V_OUTER = 1 << 4,     /* captured from an enclosing graph */
  FR_V_GRAD = 1 << 5,      /* needs a gradient: a trainable parameter or a
                              value computed from one (backward code) */
  FR_V_STATE = 1 << 6,     /* a statistic training updates without a
                              gradient (BatchNormalization's running mean
                              and variance under --bn-train) */
  FR_V_FOLDED = 1 << 7,    /* a constant a fold pass computed (fold,
                              fold-bn, fold-affine), not one of the model's
                              initializers */
};
/* Parameters that change while training: in the trainable block, never a
 * constant to the compiler. */
#define FR_V_WRITABLE (FR_V_TRAINABLE | FR_V_STATE)

typedef struct fr_value {
  const char *name;
  int id;           /* unique in the model; indexes runtime environments */
  uint32_t flags;
  fr_tensor t;      /* dtype, shape, and data when FR_V_CONST */
  struct fr_node *producer; /* NULL for inputs and initializers */
  struct fr_graph *graph;   /* owning graph */
  int64_t offset;           /* planned place in the activation buffer, or -1
                               (compiler/memplan.c) */
  int64_t param_off;        /* a parameter's place in its block (frozen or
                               trainable; ir/layout.c), or -1 */
} fr_value;

typedef struct fr_node {
  const char *name;
  const char *op_type; /* as spelled in the model */
  const char *domain;
  int op;              /* fr_op */
  int opset;           /* opset version of the node's domain */
  int n_in, n_out;
  fr_value **in;       /* NULL entries: omitted optional inputs */
  fr_value **out;      /* NULL entries: omitted optional outputs */
  int n_attr;
  fr_attr *attrs;
  struct fr_graph *graph;
  int index;           /* position in graph->nodes */
  bool dead;           /* removed by a pass, until fr_graph_compact */
  bool backward;       /* made by the autodiff pass (a gradient) */
  bool trainable;      /* computes from a trainable parameter (its outputs
                          are FR_V_GRAD): gets backward code, never folded */
} fr_node;

typedef struct fr_model fr_model;

typedef struct fr_graph {
  const char *name;
  fr_model *model;
  struct fr_graph *parent; /* enclosing graph for subgraphs */
  fr_value **values;       /* every value created in this graph */
  int n_values, cap_values;
  fr_node **nodes;         /* in topological order */
  int n_nodes, cap_nodes;
  fr_value **inputs;       /* declared graph inputs (not initializers) */
  int n_inputs;
  fr_value **outputs;
  int n_outputs;
  fr_value **inits;        /* initializers */
  int n_inits;
  int64_t peak;            /* planned activation bytes, or -1 */
  struct fr_param_layout *layout; /* the parameter blocks (ir/layout.c), or
                                     NULL before fr_graph_layout */
  struct fr_train_graph *train;   /* what training computes, or NULL */
} fr_graph;

/* A training graph: the graph computes a scalar loss, and the autodiff
 * pass (compiler/passes/autodiff.c) appends the gradient of each trainable
 * parameter as an output. */
typedef struct fr_train_graph {
  fr_value *loss;      /* scalar f32, set before the pipeline */
  fr_value *labels;    /* the input holding the targets, or NULL */
  fr_value *logits;    /* what the loss scores (accuracy), or NULL */
  int n_params;        /* set by autodiff: */
  fr_value **params;   /* the trainable parameters, in initializer order */
  fr_value **grads;    /* their gradients, outputs of the graph */
} fr_train_graph;

typedef struct fr_opset {
  const char *domain;
  int version;
} fr_opset;

struct fr_model {
  fr_arena arena;          /* owns everything below */
  const char *path;        /* file it came from */
  const char *producer;
  const char *notes;       /* notes for the user from loading, or NULL */
  const char *shape_hint;  /* "--shape x=1x3x<h>x<w>" (space-separated)
                              for inputs whose symbolic dims were taken as
                              1, or NULL */
  int64_t ir_version;
  fr_opset *opsets;
  int n_opsets;
  fr_graph *graph;         /* main graph */
  int n_ids;               /* value ids handed out */
  fr_value **by_id;        /* all values, by id (grown as ids are made) */
  int cap_by_id;
};

fr_model *fr_model_new(void);
void fr_model_free(fr_model *m);
fr_graph *fr_graph_new(fr_model *m, fr_graph *parent, const char *name);
/* New value owned by g with a fresh id. */
fr_value *fr_value_new(fr_graph *g, const char *name);
/* Looks a name up in g, then in the enclosing graphs. */
fr_value *fr_graph_find(const fr_graph *g, const char *name);
fr_node *fr_node_new(fr_graph *g, const char *name, const char *op_type,
                     const char *domain, int n_in, int n_out, int n_attr);
int fr_model_opset(const fr_model *m, const char *domain);

/* Attribute names (attrs.def): FR_A_GROUP is "group". */
typedef enum fr_attr_id {
#define FR_ANAME(ID, name) FR_A_##ID,
#include "attrs.def"
  FR_A_COUNT
} fr_attr_id;
extern const char *const fr_attr_names[FR_A_COUNT];

/* An attribute an op takes: a line of attrs.def. */
typedef struct fr_attr_info {
  int op;            /* fr_op */
  fr_attr_id id;
  fr_attr_type type;
  double num;        /* INT, FLOAT: the default; NaN: none */
  const char *str;   /* STRING: the default, or NULL */
} fr_attr_info;
extern const fr_attr_info fr_attr_infos[]; /* grouped by op */
extern const int fr_attr_info_count;
/* The lines of op: *count of them from the one returned. */
const fr_attr_info *fr_op_attrs(int op, int *count);
/* op lists attribute id. */
bool fr_op_has_attr(int op, fr_attr_id id);
/* a's type is ai's (or one the readers take for it). */
bool fr_attr_fits(const fr_attr_info *ai, const fr_attr *a);

/* The attribute named name, whatever its type, or NULL (code that walks
 * attributes by name: printing, comparing, the verifier). */
const fr_attr *fr_attr_find(const fr_node *n, const char *name);
/* The attribute when n has it with a type attrs.def lists for n's op, else
 * NULL. */
const fr_attr *fr_attr_get(const fr_node *n, fr_attr_id id);
/* Readers of the attributes attrs.def lists for n's op. Each returns the
 * node's value when it has the attribute with the listed type (a float may
 * be given as an int), else the default listed there (0 or NULL where it
 * lists none: such attributes are checked with fr_attr_get first). Reading
 * an attribute the op does not list, or as another type, is a broken
 * invariant (FR_ASSERT). */
int64_t fr_attr_int(const fr_node *n, fr_attr_id id);
float fr_attr_float(const fr_node *n, fr_attr_id id);
const char *fr_attr_str(const fr_node *n, fr_attr_id id);
/* The list and its length in *len, or NULL (and *len = 0). */
const int64_t *fr_attr_ints(const fr_node *n, fr_attr_id id, int *len);
const float *fr_attr_floats(const fr_node *n, fr_attr_id id, int *len);
fr_graph *fr_attr_graph(const fr_node *n, fr_attr_id id);
/* The axis attribute (its default the op's), normalized into [0, rank)
 * (fr_axis). */
fr_status fr_attr_axis(const fr_node *n, int rank, int *axis);
/* Input i when present (not omitted), else NULL. */
static inline fr_value *fr_node_input(const fr_node *n, int i) {
  return i < n->n_in ? n->in[i] : NULL;
}

/* ---- edit.c: graph surgery for passes ------------------------------- */

/* Number of uses of v: node operands (subgraphs included) and graph
 * outputs. */
int fr_value_uses(const fr_graph *g, const fr_value *v);
/* The only node of g using v, or NULL when v has other uses (or none). */
fr_node *fr_value_sole_user(const fr_graph *g, const fr_value *v);
/* Replaces every use of old by new in g (and subgraphs, graph outputs). */
void fr_graph_replace_uses(fr_graph *g, fr_value *old, fr_value *new_);
/* Marks a node dead; fr_graph_compact removes dead nodes. */
void fr_node_kill(fr_node *n);
void fr_graph_compact(fr_graph *g);
/* A new initializer of g holding a copy of t (name made unique). */
fr_value *fr_graph_add_init(fr_graph *g, const char *name, const fr_tensor *t);
/* Turns v (a node's output) into an initializer holding t's data (copied
 * into the arena); the producer should then be killed. */
fr_status fr_value_make_const(fr_graph *g, fr_value *v, const fr_tensor *t);
/* v is a frozen constant f32 tensor: weights the passes may rewrite. */
bool fr_value_frozen_f32(const fr_value *v);
/* Drops the initializers of g that nothing uses any more. */
void fr_graph_prune_inits(fr_graph *g);

/* Folding into an affine op p (FR_OPF_AFFINE: Conv, ConvTranspose, Gemm),
 * whose output channel m is (W_m * x) + bias[m]. Its weight W, seen as
 * (outer, M, inner), holds channel m's entries at (a * M + m) * inner + i. */
typedef struct fr_affine {
  int64_t outer, M, inner;
} fr_affine;
/* The layout of p's frozen f32 weight for M output channels, or false when
 * p cannot take a fold (Gemm: transA or a non-2-D input; ConvTranspose:
 * groups). */
bool fr_affine_layout(const fr_node *p, int64_t M, fr_affine *l);
/* p's bias as M floats, Gemm's beta applied (0s when absent), or false
 * when it is not a frozen f32 vector of M values. */
bool fr_affine_bias(const fr_node *p, int64_t M, float *b);
/* w = W * s[m] (W / s[m] when divide) in each output channel m, W first
 * multiplied by alpha (Gemm's, folded in). */
void fr_affine_scale(const fr_affine *l, const float *w0, float alpha,
                     const float *s, bool divide, float *w);
/* p takes the folded node e's place: its weight becomes a copy of w (named
 * W.suffix; Gemm's alpha, which w includes, becomes 1), or stays when w is
 * NULL; its bias a copy of b (M floats, Gemm's beta then 1); it produces
 * e's output, and e is killed. The new constants are FR_V_FOLDED. */
fr_status fr_affine_install(fr_graph *g, fr_node *p, const float *w,
                            const char *suffix, const float *b, fr_node *e);

/* ---- ops.c: the operator table -------------------------------------- */

/* Flags of operators (column 'flags' of ops.def). */
enum {
  FR_OPF_ELEMWISE = 1 << 0, /* elementwise, broadcasting */
  FR_OPF_FOLD = 1 << 1,     /* may be evaluated at compile time */
  FR_OPF_INPLACE = 1 << 2,  /* output may reuse input 0's buffer */
  FR_OPF_VIEW = 1 << 3,     /* output 0 is input 0's bytes in another shape
                               (the memory plan shares them) */
  FR_OPF_RANDOM = 1 << 4,   /* nondeterministic: never folded */
  FR_OPF_SUBGRAPH = 1 << 5, /* carries subgraph attributes */
  FR_OPF_COMPARE = 1 << 6,  /* elementwise comparison: a bool output */
  FR_OPF_AFFINE = 1 << 7,   /* output channel m is W_m x + bias[m], W input
                               1, bias input 2: BatchNormalization, Mul, Div,
                               Add, Sub by per-channel constants fold into
                               it (ir/edit.c fr_affine_*) */
  FR_OPF_EPILOGUE = 1 << 8, /* takes a fused epilogue (activation, residual
                               Add, Max/Min) on its output tiles: ONNX ops
                               through frost.Fused<Name>, which has it too */
  FR_OPF_ACT_EPILOGUE = 1 << 9, /* an activation the fused epilogue computes
                                   (its alpha, beta as attributes) */
};

typedef enum fr_op {
#define FR_OP(ENUM, name, domain, since, last, in_min, in_max, out_min,       \
              out_max, flags, infer, exec, plan, kernel, grad)                \
  FR_OP_##ENUM,
#include "ops.def"
#undef FR_OP
  FR_OP_COUNT
} fr_op;

/* Shape inference: fills out[i]->dtype/rank/dims (and kind) from the inputs.
 * in[i] is NULL for an omitted input; in[i]->data may be NULL when the value
 * is not known (compile time) - an op needing it then reports
 * FR_ERR_UNSUPPORTED ("needs a constant"). out[i] is NULL when omitted. */
typedef fr_status (*fr_infer_fn)(const fr_node *n, fr_tensor *const *in,
                                 fr_tensor *const *out);

/* The IR's columns of ops.def. The runtime expands the exec and plan
 * columns of the same file into its own table (runtime/optab.c). */
typedef struct fr_op_info {
  const char *name;   /* ONNX op_type */
  const char *domain; /* "" for the default domain */
  int since, last;    /* opset versions whose semantics are implemented */
  int in_min, in_max, out_min, out_max;
  unsigned flags;
  fr_infer_fn infer;
} fr_op_info;

/* FR_OP_COUNT entries, indexed by fr_op (its length is checked in ops.c,
 * so it is declared here without one). */
extern const fr_op_info fr_ops[];
/* FR_OP_COUNT when unknown. */
fr_op fr_op_lookup(const char *domain, const char *name);
/* true when the domain names ONNX's default domain. */
bool fr_domain_is_onnx(const char *d);

/* ---- infer.c: shape-inference helpers ------------------------------- */

/* Multidirectional (numpy) broadcast of a and b into out. */
fr_status fr_broadcast(const fr_node *n, const fr_tensor *a,
                       const fr_tensor *b, int *rank, int64_t *dims);
/* Normalizes a possibly negative axis in [-rank, rank). */
fr_status fr_axis(const fr_node *n, int64_t axis, int rank, int *out);
/* Sets out to a tensor of dtype/rank/dims. */
void fr_set_shape(fr_tensor *out, fr_dtype t, int rank, const int64_t *dims);
/* Outputs whose shapes depend on input values that only a run gives (If,
 * Loop, Scan, NonMaxSuppression, Unique, ...): an infer function reports
 * FR_ERR_UNSUPPORTED at compile time and, at run time, marks each such
 * output with fr_set_later - a non-tensor kind, so the interpreter
 * allocates nothing for it - and the op's exec produces it entirely.
 * true when called by the interpreter (in and out are its tensors, not the
 * IR values'). */
bool fr_at_run_time(const fr_node *n, fr_tensor *const *in,
                    fr_tensor *const *out);
/* Marks o (NULL: omitted) as produced by exec. */
void fr_set_later(fr_tensor *o);
/* Evaluates node n on known inputs (the interpreter's kernels), filling the
 * data of out[] (allocated by the callee in the arena a). */
typedef fr_status (*fr_eval_fn)(fr_arena *a, const fr_node *n,
                                fr_tensor *const *in, fr_tensor *const *out);
typedef struct fr_infer_opts {
  bool partial;    /* leave values unknown when a shape needs runtime data */
  fr_eval_fn eval; /* when set, FR_OPF_FOLD nodes on known data are run so
                      shapes computed from shapes become known */
} fr_infer_opts;
/* Shape inference of a whole graph (subgraphs included), node by node, from
 * the shapes of its inputs and initializers. */
fr_status fr_graph_infer(fr_graph *g, const fr_infer_opts *o);
/* Runs n's infer function on its values' tensors. */
fr_status fr_node_infer(const fr_node *n);

/* ---- infer_elem.c: readers shared with the runtime glue -------------- */

/* Operand b as opset < 7 broadcasting (broadcast/axis attributes) sees it. */
fr_status fr_elem_legacy_operand(const fr_node *n, const fr_tensor *a,
                                 const fr_tensor *b, fr_tensor *view);
/* Clip's bounds as attributes (opset < 11; defaults: no bound), or false
 * when they are inputs. */
bool fr_elem_clip_attrs(const fr_node *n, float *lo, float *hi);
/* BitShift's direction, checked. */
fr_status fr_elem_shift_left(const fr_node *n, bool *left);
/* The target type of Cast. */
fr_status fr_elem_cast_target(const fr_node *n, fr_dtype *to);

/* ---- infer_nn.c: readers shared with the runtime glue, and the fused
 * ops' inference ---------------------------------------------------------- */

/* The sliding window of Conv, ConvTranspose and the pools over the nsp
 * spatial dims of x (N, C, D...), from the attributes (read and checked
 * here only) and the shapes. */
typedef struct fr_nn_geom {
  int nsp;       /* 1 to 3 */
  int64_t group; /* Conv, ConvTranspose; 1 for the pools */
  int col_major; /* MaxPool's storage_order */
  int64_t kernel[3], out[3], stride[3], dil[3], pad_b[3], pad_e[3];
} fr_nn_geom;
/* Gemm's attributes (Gemm, FusedGemm). */
typedef struct fr_gemm_attrs {
  float alpha, beta;
  bool trans_a, trans_b;
} fr_gemm_attrs;
fr_gemm_attrs fr_gemm_attrs_of(const fr_node *n);
/* Conv, ConvInteger, QLinearConv, FusedConv: w (M, C/group, K...). */
fr_status fr_nn_conv_geom(const fr_node *n, const fr_tensor *x,
                          const fr_tensor *w, fr_nn_geom *g);
/* ConvTranspose: w (C, M/group, K...); pad_e is not used. */
fr_status fr_nn_convt_geom(const fr_node *n, const fr_tensor *x,
                           const fr_tensor *w, fr_nn_geom *g);
/* MaxPool, AveragePool, LpPool. */
fr_status fr_nn_pool_geom(const fr_node *n, const fr_tensor *x,
                          fr_nn_geom *g);
/* MaxUnpool's spatial output dims without output_shape: (in - 1) * stride
 * + kernel - pads. */
fr_status fr_nn_maxunpool_dims(const fr_node *n, const fr_tensor *x,
                               int64_t *dims);

/* Used by the fused ops' inference. */
fr_status fr_infer_conv(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out);
fr_status fr_infer_gemm(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out);
fr_status fr_infer_matmul(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out);

/* numpy matmul: (..., M, K) x (..., K, N) -> (broadcast..., M, N). */
fr_status fr_nn_matmul_shape(const fr_node *n, const fr_tensor *a,
                             const fr_tensor *b, int *rank, int64_t *dims);
/* Output dims and per-dim scales of Resize and Upsample; roi (2 * rank:
 * starts then ends) is filled when given, else 0s and 1s. */
fr_status fr_nn_resize_shape(const fr_node *n, fr_tensor *const *in,
                             int64_t *dims, double *scales, double *roi);
/* The plan of an Einsum: the labels used (n_labels of them, output labels
 * first), their sizes, each operand's and the output's stride along each,
 * and the output shape. */
fr_status fr_nn_einsum_plan(const fr_node *n, fr_tensor *const *in,
                            int *n_labels, int64_t *size,
                            int64_t (*stride)[64], int64_t *ystride,
                            int *yrank, int64_t *ydims);

/* ---- infer_tensor.c: plans shared with the runtime glue -------------- */

/* Each reads attributes and inputs of a tensor-movement op the same way for
 * shape inference and for the interpreter glue (runtime/ops_tensor.c),
 * validates what it reads and reports errors through fr_err_node. */

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

/* ---- infer_reduce.c: attribute readers shared with the runtime glue -- */

fr_status fr_reduce_axes(const fr_node *n, fr_tensor *const *in,
                         bool mask[FR_MAX_RANK], bool *noop);
fr_status fr_softmax_axis(const fr_node *n, const fr_tensor *x, int *axis);
fr_status fr_topk_k(const fr_node *n, fr_tensor *const *in, int64_t *k);
fr_status fr_mvn_axes(const fr_node *n, const fr_tensor *x,
                      bool mask[FR_MAX_RANK]);
fr_status fr_loss_reduction(const fr_node *n, int *r);
/* BatchNormalization's attributes, checked (spatial = 0 before opset 9 is
 * not supported); training only from opset 14. */
typedef struct fr_batchnorm_attrs {
  float epsilon, momentum;
  bool training;
} fr_batchnorm_attrs;
fr_status fr_batchnorm_attrs_of(const fr_node *n, fr_batchnorm_attrs *a);

/* ---- infer_grad.c: the window of the gradient ops, shared with the
 * runtime glue ----------------------------------------------------------- */

/* The window of frost.ConvGradWeight, MaxPoolGrad and AveragePoolGrad over
 * nsp spatial dims: kernel_shape (required), strides, dilations, pads
 * (explicit, begin and end) and group (ConvGradWeight; 1 for the others),
 * read and checked; out is left 0 (the plans take dy's dims). */
fr_status fr_grad_window(const fr_node *n, int nsp, fr_nn_geom *g);

/* ---- infer_ctrl.c: plans shared with the runtime glue ---------------- */

/* Scan's attributes and inputs, checked: N states, M scan inputs, K scan
 * outputs; the scan inputs' axes normalized, the outputs' as given (0 when
 * absent), the directions as given (NULL: all forward). */
typedef struct fr_scan_info {
  struct fr_graph *body;
  int first; /* 1 in opset 8, whose input 0 is sequence_lens */
  int n_state, n_scan_in, n_scan_out;
  int64_t in_axes[64], out_axes[64];
  const int64_t *in_dirs, *out_dirs;
} fr_scan_info;
fr_status fr_scan_plan(const fr_node *n, fr_tensor *const *in,
                       fr_scan_info *s);

fr_status fr_split_to_sequence_plan(const fr_node *n, const fr_tensor *x,
                                    const fr_tensor *split, int *axis,
                                    int64_t *count, int64_t *sizes,
                                    int64_t max_sizes);
fr_status fr_dft_plan(const fr_node *n, fr_tensor *const *in, int *axis,
                      int64_t *nfft, bool *inverse, bool *onesided);
/* RNN, GRU, LSTM: the layout (1: batch first) and direction, checked. */
typedef struct fr_rnn_attrs {
  int layout;
  int dirs;     /* 2 when bidirectional */
  bool reverse; /* one direction, backwards */
} fr_rnn_attrs;
fr_status fr_rnn_attrs_of(const fr_node *n, fr_rnn_attrs *a);
fr_status fr_stft_plan(const fr_node *n, fr_tensor *const *in, int64_t *step,
                       int64_t *frames, int64_t *flen);

/* ---- verify.c ------------------------------------------------------- */

/* Structural invariants: names, arities, topological order, shapes known. */
fr_status fr_graph_verify(const fr_graph *g);

/* ---- print.c -------------------------------------------------------- */

void fr_print_graph(FILE *f, const fr_graph *g);
void fr_print_summary(FILE *f, const fr_model *m);
/* What the marks of g's text dump mean: one line for each mark g holds. */
void fr_print_marks(FILE *f, const fr_graph *g);
/* A training graph's memory: the parameter blocks, the forward values the
 * backward nodes read, the planned activation buffer. */
void fr_print_train_memory(FILE *f, const fr_graph *g);
/* g as Graphviz DOT: nodes coloured frozen, trainable or backward, each
 * with its parameters (trainable ones listed, frozen ones summed, folded
 * ones counted), and a legend. */
void fr_print_dot(FILE *f, const fr_graph *g);
/* Node times (ms[k]: node k's milliseconds over runs runs) as two tables:
 * the nodes that took most, with their op and output, then the time per
 * op type. */
void fr_print_profile(FILE *f, const fr_graph *g, const double *ms, int64_t runs);

/* ---- layout.c: the parameter memory layout --------------------------- */

/* The blocks of persistent state, beside the activation buffer. Frozen
 * weights are read-only; trainable parameters are writable; when training,
 * the gradient block has the trainable block's layout, and the optimizer
 * state holds state_slots copies of it (slot s of parameter p at
 * s * bytes[FR_PB_TRAINABLE] + p->param_off). The interpreter, the JIT and
 * artifacts all place parameters by this layout. */
typedef enum fr_pblock {
  FR_PB_FROZEN,    /* frozen weights (and folded constants): read-only */
  FR_PB_TRAINABLE, /* trainable parameters: writable */
  FR_PB_GRAD,      /* their gradients (training) */
  FR_PB_STATE,     /* optimizer state: state_slots x the trainable block */
  FR_PB_COUNT
} fr_pblock;

enum { FR_PARAM_ALIGN = 64 }; /* every parameter starts on this boundary */

typedef struct fr_param_layout {
  int64_t bytes[FR_PB_COUNT]; /* each block's size, aligned */
  int64_t params[2];          /* elements in the frozen, trainable blocks */
  int tensors[2];             /* tensors in the frozen, trainable blocks */
  int state_slots;            /* 0 inference, 1 momentum, 2 Adam */
  char *block[2];             /* the frozen and trainable blocks (aligned,
                                 in the model's arena), or NULL if empty */
} fr_param_layout;

extern const char *const fr_pblock_names[FR_PB_COUNT];

/* Places every tensor initializer of g (not strings) in the frozen or the
 * trainable block (FR_V_TRAINABLE), in initializer order, moves their data
 * into the two blocks (each value's data then points there) and records
 * the layout on g (arena memory). state_slots: optimizer slots per
 * trainable parameter. */
fr_status fr_graph_layout(fr_graph *g, int state_slots);
/* Prints g's layout: the blocks and sizes, then each trainable parameter
 * with its offset. The same text as an artifact's `info` layout. */
void fr_layout_print(FILE *f, const fr_graph *g);

/* ---- layout_text.c: that text, from numbers (base layer: artifacts) -- */

void fr_layout_print_blocks(FILE *f, const int64_t bytes[FR_PB_COUNT],
                            const int tensors[2], const int64_t params[2],
                            int state_slots);
void fr_layout_print_param(FILE *f, int64_t off, const fr_tensor *t,
                           const char *name);

#endif
