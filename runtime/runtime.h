/* runtime.h: the internal header of frost's runtime.
 * Sections: tensor.c (runtime tensors), plan.c (kernel calls planned ahead
 * of time), npy.c (NumPy files), json.c (a JSON reader), checkpoint.c
 * (training checkpoints), trainlog.c (epoch lines, JSON log, plot),
 * interp.c (the reference interpreter), run.c (a model run on given
 * inputs), optab.c (the runtime's columns of the operator table: the
 * per-op glue of ops_*.c between IR nodes and the kernels of kernels/),
 * data.c (the data sets of training: folders and CSV manifests of .npy,
 * image and WAV samples; splits, batches, augmentation) and image.c (PNG
 * and JPEG decoding with libpng and libjpeg; frost only). tensor.c, npy.c,
 * data.c, json.c, checkpoint.c and trainlog.c name no IR graph: artifacts
 * link them (libfrost_rt). */
#ifndef FROST_RUNTIME_H
#define FROST_RUNTIME_H

#include "../ir/ir.h"
#include "kernels/kernels.h"

struct fr_exec; /* the interpreter's state (interp.c) */

/* ---- tensor.c ------------------------------------------------------- */

/* Allocates zeroed data for t's dtype and shape (tensors only). */
fr_status fr_tensor_alloc(fr_tensor *t);
/* Fills t's elements from the xorshift state *seed: floats uniform in
 * [-1, 1], integers in [0, 4), booleans (inputs of bench commands). */
void fr_tensor_fill_random(fr_tensor *t, uint64_t *seed);
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

/* ---- plan.c: kernel calls planned ahead of time ---------------------- */

/* A node's work as one call of a kernel entry:
 *     entry(params, bufs)
 * params is a plain parameter block (sizes, strides, attributes) computed
 * from the node and its shapes; bufs holds the data pointers: one slot per
 * input (the op's in_max slots, or n_in for variadic ops; NULL for omitted
 * inputs), then one per output (out_max slots, or n_out for ops with
 * variadic outputs, out_max 1024, such as Split; NULL for omitted
 * outputs), then the scratch buffer (p->scratch bytes, or NULL).
 * A plan reads shapes, attributes and the data of constant inputs (a
 * plan that needs an input's data returns an error when in[i]->data is
 * NULL); inputs it does not need as constants are read by the entry. The
 * entries of string tensors move their char*; fr_exec_planned then gives
 * the string outputs their own copies.
 * The interpreter makes this call at once (fr_exec_planned); the compiler
 * emits it with params as a constant global, so that LLVM, after inlining
 * the entry, specializes the kernel for these shapes and attributes.
 * Entries live in runtime/kernels/ beside their kernels, named fr_ke_*. */
typedef void (*fr_kentry)(const void *params, void *const *bufs);
enum { FR_KPLAN_MAX = 4096 };
typedef struct fr_kplan {
  const char *entry; /* the entry's symbol name (in the kernel bitcode) */
  fr_kentry fn;      /* the same entry, linked into frost */
  size_t size;       /* bytes of params in use */
  size_t scratch;    /* scratch bytes wanted (0: none) */
  bool alias;        /* output 0 has input 0's bytes: nothing to do when the
                        compiler places it in the same buffer */
  _Alignas(64) unsigned char params[FR_KPLAN_MAX];
} fr_kplan;

/* Sets the entry (by its C name) and copies the parameter block. Zero the
 * block first (memset), padding included: the JIT embeds its bytes in the
 * compiled code, and valgrind reports uninitialised padding there. */
#define FR_KPLAN(p, ENTRY, block)                                             \
  fr_kplan_set((p), #ENTRY, ENTRY, &(block), sizeof(block))
void fr_kplan_set(fr_kplan *p, const char *entry, fr_kentry fn,
                  const void *params, size_t size);
/* Number of input slots of n's bufs (in_max, or n_in when variadic). */
int fr_kplan_in_slots(const fr_node *n);
/* Number of output slots (out_max, or n_out when out_max is 1024). */
int fr_kplan_out_slots(const fr_node *n);
/* Plans of Conv, Gemm and MatMul with a fused epilogue (for the compiler's
 * fusion pass): y = act(op(...) + residual), act an FR_K_EPI_* activation
 * with its parameters a, b (kernels.h), the residual a tensor of y's shape
 * that must not overlap y (or NULL). in/out are the node's own operands.
 * bufs: Conv x, w, bias, residual, y, scratch; Gemm A, B, C, residual, Y,
 * scratch; MatMul A, B, bias ((N), added to every row, or NULL),
 * residual, Y, scratch. */
fr_status fr_plan_conv_fused(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out, fr_kplan *p, int act,
                             float a, float b);
fr_status fr_plan_gemm_fused(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out, fr_kplan *p, int act,
                             float a, float b);
fr_status fr_plan_matmul_fused(const fr_node *n, fr_tensor *const *in,
                               fr_tensor *const *out, fr_kplan *p, int act,
                               float a, float b);
enum { FR_K_NONE = -1 }; /* fr_rt_op.kernel of ops without kernel code */
/* Replaces the char* that a kernel or a byte copy left in string tensor y
 * (borrowed from an input) by owned copies; nothing for other types. */
fr_status fr_own_strings(const fr_node *n, fr_tensor *y);
/* exec of every op with a plan: plans, allocates scratch, calls. */
fr_status fr_exec_planned(struct fr_exec *x, const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out);

/* ---- npy.c ---------------------------------------------------------- */

/* Reads a .npy file (v1-v3, little-endian, C order); data is fr_malloc'd. */
fr_status fr_npy_read(const char *path, fr_tensor *out);
/* Same, from the bytes of a .npy file in memory. */
fr_status fr_npy_parse(const uint8_t *buf, size_t len, fr_tensor *out);
/* Writes t as .npy to path, through a temporary file renamed into place. */
fr_status fr_npy_write(const char *path, const fr_tensor *t);
/* The file name (without .npy) of an output named name: every character
 * outside [A-Za-z0-9._-] becomes '_'. */
void fr_npy_file_name(const char *name, char *out, size_t n);
/* Writes ts[i] to paths[i], all or nothing: each goes to a temporary file
 * first, and they are renamed into place only when all are written. On
 * failure no temporary file is left and none of paths is kept. */
fr_status fr_npy_write_all(const char *const *paths, const fr_tensor *ts,
                           int n);

/* ---- json.c: a small JSON reader (state.json, the epoch log) --------- */

typedef enum fr_json_type {
  FR_JSON_NULL,
  FR_JSON_FALSE,
  FR_JSON_TRUE,
  FR_JSON_NUMBER, /* num, and str: its text as written */
  FR_JSON_STRING, /* str: decoded UTF-8, NUL-terminated (\u0000 refused) */
  FR_JSON_ARRAY,  /* n elements from child, linked by next */
  FR_JSON_OBJECT, /* n members from child, linked by next, named by key */
} fr_json_type;

typedef struct fr_json {
  fr_json_type type;
  const char *key; /* the member's name, in an object */
  const char *str;
  double num;
  int n;
  struct fr_json *child, *next;
} fr_json;

/* A parsed text: every value lives in the arena. */
typedef struct fr_json_doc {
  fr_arena arena;
  fr_json *root;
} fr_json_doc;

/* Limits on hostile input: text size, values, nesting. */
#define FR_JSON_MAX_BYTES ((size_t)64 << 20)
enum { FR_JSON_MAX_VALUES = 1 << 20, FR_JSON_MAX_DEPTH = 64 };

/* Parses len bytes of text (one value, white space around it). what names
 * the text in messages ("DIR/state.json: line 3, column 7: expected ':'").
 * On failure d is empty. */
fr_status fr_json_parse(fr_json_doc *d, const char *text, size_t len,
                        const char *what);
void fr_json_free(fr_json_doc *d);
/* The member key of an object (the last one of that name), or NULL. */
const fr_json *fr_json_get(const fr_json *obj, const char *key);
/* Element i of an array, or NULL. */
const fr_json *fr_json_at(const fr_json *arr, int i);
/* A number written as an integer (no '.', no exponent) that fits int64. */
bool fr_json_int(const fr_json *v, int64_t *out);
/* Writers: a string with its escapes; a number that reads back as the
 * same double (null for NaN and infinities). */
void fr_json_put_string(FILE *f, const char *s);
void fr_json_put_number(FILE *f, double x);

/* ---- checkpoint.c: training checkpoints (docs/checkpoints.md) -------- */

enum { FR_CKPT_FORMAT = 1 };

/* A trainable parameter where the layout places it. */
typedef struct fr_ckpt_param {
  const char *name;
  fr_dtype dtype;
  int rank;
  int64_t dims[FR_MAX_RANK];
  int64_t offset; /* bytes into the trainable block and each state slot */
} fr_ckpt_param;

typedef struct fr_ckpt_kv {
  const char *key;
  double value; /* NaN is written as null */
} fr_ckpt_kv;

typedef struct fr_ckpt {
  /* The model and its layout: given to save; given to load, which checks
   * the checkpoint against them. */
  const char *model;     /* the model file, for messages (may be NULL) */
  char model_sha256[65]; /* hex, of the model file (fr_sha256_file) */
  int64_t trainable_bytes; /* the trainable block; each state slot too */
  int state_slots;       /* optimizer slots (Adam 2: m, v; momentum 1) */
  int n_params;
  const fr_ckpt_param *params;
  /* Where training stands: given to save, returned by load (the strings
   * and arrays then live in arena until fr_ckpt_release). */
  int64_t epoch, step;   /* epochs and optimizer steps done */
  uint64_t rng[4];       /* fr_rng's state */
  const char *optimizer; /* to load: the expected one, or NULL for any */
  int n_hyper;
  const fr_ckpt_kv *hyper; /* the optimizer's hyperparameters (lr, ...) */
  int64_t best_epoch;    /* the epoch of the best validation metric, or -1 */
  double best_metric;    /* NaN when none */
  int n_extra;
  const fr_ckpt_kv *extra; /* any other numbers of the train loop */
  /* Set by load. */
  bool from_previous;      /* DIR/current was missing or unreadable */
  char current_error[512]; /* why, when it was unreadable */
  fr_arena arena;
} fr_ckpt;

/* Writes a checkpoint of trainable (trainable_bytes) and state
 * (state_slots x trainable_bytes; NULL when state_slots is 0) to DIR,
 * atomically: a process killed at any moment leaves DIR/current or
 * DIR/previous complete. */
fr_status fr_ckpt_save(const char *dir, const fr_ckpt *c, const void *trainable,
                       const void *state);
/* Reads DIR/current (DIR/previous when current is missing, incomplete or
 * damaged) into trainable and, unless state is NULL, state, after checking
 * the format, the model hash, the layout and, when c->optimizer is set,
 * the optimizer. Fills c's training fields. Each failure is one error
 * naming the file. On failure the blocks' contents are unspecified. */
fr_status fr_ckpt_load(const char *dir, fr_ckpt *c, void *trainable,
                       void *state);
/* Whether DIR holds a checkpoint to load (current or previous). */
bool fr_ckpt_exists(const char *dir);
/* Puts parameters in the order checkpoints list them: by offset (so frost
 * train and artifacts, whose graphs list them differently, agree). */
void fr_ckpt_sort(fr_ckpt_param *ps, int n);
/* Frees what load returned (c->optimizer, hyper, extra). */
void fr_ckpt_release(fr_ckpt *c);

/* ---- trainlog.c: the epoch log, its JSON lines, its plot ------------- */

/* Heads of one multi-task run (--head NAME:..., one label column each). */
#define FR_MAX_TASKS 16

/* The numbers of one epoch; NaN where not measured. Accuracies are
 * fractions (0.912 is 91.2%). */
typedef struct fr_epoch_stats {
  int64_t epoch;  /* 1-based */
  int64_t epochs; /* of the run, or 0 when open-ended */
  int64_t step;   /* optimizer steps done */
  double train_loss, train_acc, val_loss, val_acc;
  double lr, seconds;
  /* Multi-task: each task's own numbers (its loss unweighted), n_tasks 0
   * otherwise; train_acc and val_acc are then the task-weighted means. */
  int n_tasks;
  const char *task_names[FR_MAX_TASKS];
  double task_train_loss[FR_MAX_TASKS], task_train_acc[FR_MAX_TASKS];
  double task_val_loss[FR_MAX_TASKS], task_val_acc[FR_MAX_TASKS];
} fr_epoch_stats;

/* An fr_epoch_stats with every measure NaN. */
fr_epoch_stats fr_epoch_stats_none(void);

typedef struct fr_trainlog_opts {
  FILE *out;             /* the epoch lines (stdout), or NULL */
  FILE *progress;        /* the progress bar (stderr), drawn only when it
                            is a terminal; NULL for none */
  const char *json_path; /* --log-json: one JSON object a line, appended */
  const char *plot_path; /* --plot: the SVG, rewritten each epoch */
  const char *title;     /* above the plot (the model), or NULL */
  bool tty;              /* draw the bar on progress even when it is not a
                            terminal (rank 0 under an mpirun whose stderr
                            is one: its output reaches it through a pipe) */
} fr_trainlog_opts;

typedef struct fr_trainlog fr_trainlog;

/* Opens the log. An existing --log-json file is appended to, and its
 * epochs (the last line of each) start the plot's history, so a resumed
 * run plots the whole training. */
fr_status fr_trainlog_open(fr_trainlog **lg, const fr_trainlog_opts *o);
/* Prints e's line, appends and flushes its JSON line, rewrites the plot. */
fr_status fr_trainlog_epoch(fr_trainlog *lg, const fr_epoch_stats *e);
/* The progress bar: done of total batches, the running loss (NaN: none).
 * Redrawn at most 10 times a second, and only on a terminal. */
/* Text shown in the progress bar from now on, after the loss ("" none). */
void fr_trainlog_detail(fr_trainlog *lg, const char *text);
void fr_trainlog_progress(fr_trainlog *lg, int64_t done, int64_t total,
                          double loss);
/* Clears the bar and frees lg (NULL is fine). */
void fr_trainlog_close(fr_trainlog *lg);
/* The terminal line of e ("epoch 3/20  train loss 0.4123 acc 91.2%  ..."),
 * without a newline. */
void fr_trainlog_format(const fr_epoch_stats *e, char *buf, size_t n);
/* e's JSON line (keys epoch, step, train_loss, train_acc, val_loss,
 * val_acc, lr, seconds; null where not measured; multi-task: "tasks", an
 * object of the same four per task), with its newline. */
void fr_trainlog_json(FILE *f, const fr_epoch_stats *e);
/* The loss and accuracy curves of n epochs as SVG, written atomically
 * (non-finite values are skipped). */
fr_status fr_plot_svg(const char *path, const fr_epoch_stats *e, int n,
                      const char *title);

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

/* ---- run.c: a model run on given inputs ----------------------------- */

/* Binds inputs to the main graph's inputs and runs the model with the
 * interpreter. */
fr_status fr_run_model(fr_model *m, fr_tensor *const *inputs, fr_tensor *out);
/* Checks inputs against the model's declared input types and shapes. */
fr_status fr_check_inputs(const fr_model *m, fr_tensor *const *inputs);

/* ---- optab.c: the runtime's columns of the operator table ------------- */

/* Execution by the interpreter: outputs are allocated by the interpreter
 * from the inferred shapes (sequences and optionals, and the outputs an
 * infer function leaves to run time, are produced by exec). */
typedef fr_status (*fr_exec_fn)(fr_exec *x, const fr_node *n,
                                fr_tensor *const *in, fr_tensor *const *out);
/* Planning: the node as one kernel-entry call (plan.c). */
typedef fr_status (*fr_plan_fn)(const fr_node *n, fr_tensor *const *in,
                                fr_tensor *const *out, fr_kplan *p);

/* The exec, plan and kernel columns of ir/ops.def, beside the IR's
 * fr_ops. */
typedef struct fr_rt_op {
  fr_exec_fn exec; /* interpreter glue (ops_*.c), or fr_exec_planned */
  fr_plan_fn plan; /* fr_plan_none: the op runs through exec only */
  int kernel;      /* the elementwise kernels' op code (FR_K_ADD,
                      FR_K_RELU, FR_K_EQ...), or FR_K_NONE */
} fr_rt_op;

/* FR_OP_COUNT entries, indexed by fr_op (its length is checked in
 * optab.c, so it is declared here without one). */
extern const fr_rt_op fr_rt_ops[];

/* The plan of ops without one: FR_ERR_UNSUPPORTED. */
fr_status fr_plan_none(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *p);

/* ---- data.c: the data sets of training ------------------------------- */

/* A data set is a folder with one subfolder per class (DIR/CLASS/FILE:
 * class names are the subfolder names sorted bytewise, the class index
 * their position; files sorted bytewise; names starting with '.' skipped),
 * or a CSV manifest with a header row: `path,label` (class names, sorted
 * bytewise) or `path,NAME1,NAME2...` (numbers: regression targets; or,
 * for multi-task training, the columns named by the heads hold class
 * names). Manifest paths are relative to its folder.
 * Samples are .npy (float32, float64 or uint8, shape as stored), PNG or
 * JPEG images (through fr_data_opts.decode_image), or WAV (16-bit mono
 * PCM, shape (n) in [-1, 1)); all must end with the same shape. They are
 * loaded at once into one float array (small data sets). Every error
 * names the file (and the manifest's line). */

/* Images larger than this are refused before anything is allocated for
 * their pixels (decompression bombs). */
#define FR_IMAGE_MAX_SIDE 16384
#define FR_IMAGE_MAX_PIXELS ((int64_t)1 << 28)

/* A decoded image: h rows of w pixels of c interleaved 8-bit channels, c 1
 * (gray) or 3 (RGB); alpha is dropped by the decoder. */
typedef struct fr_image {
  int h, w, c;
  uint8_t *px; /* (h, w, c), fr_malloc'd */
} fr_image;
void fr_image_free(fr_image *im);

/* Decodes the bytes buf[0..len) of the image file path into out (errors
 * name path). */
typedef fr_status (*fr_image_decoder)(const char *path, const uint8_t *buf,
                                      size_t len, fr_image *out);

typedef struct fr_data_opts {
  int resize_h, resize_w; /* bilinear resize of images; 0: keep that side */
  int channels;           /* images: 0 as the first image, 1 gray, 3 RGB */
  float mean[4], std[4];  /* images, after scaling to [0, 1]: (x - mean[c])
                             / std[c]; one value for every channel or one
                             per channel */
  int n_mean, n_std;      /* 0: mean 0, std 1 */
  bool nhwc;              /* images as (H, W, C); else (C, H, W) */
  /* NULL where images are not supported (compiled artifacts): an image is
   * then an error naming the file. frost passes fr_image_decode. */
  fr_image_decoder decode_image;
  /* fr_dataset_load reads the listing (paths, labels or targets) and only
   * the first sample, for the samples' shape: x stays NULL, and
   * fr_dataset_read reads any range (a process's share, frost train under
   * mpirun). */
  bool index_only;
  /* Multi-task: the manifest columns of these names hold class names, one
   * column per task (an empty cell: no label for that task); the other
   * columns are ignored. A folder is then an error. */
  const char *const *label_columns;
  int n_label_columns;
} fr_data_opts;

/* One task's labels in a multi-task manifest. */
typedef struct fr_label_column {
  const char *name;     /* the column's header */
  int n_classes;
  char **class_names;   /* its distinct non-empty cells, sorted bytewise */
  int32_t *label;       /* (n) class indices, -1 for an empty cell */
} fr_label_column;

typedef struct fr_dataset {
  int n;                      /* samples */
  int rank;                   /* one sample's shape */
  int64_t dims[FR_MAX_RANK];
  int64_t numel;              /* elements of one sample */
  float *x;                   /* (n, dims...) */
  int32_t *label;             /* (n) class indices, or NULL (numeric) */
  int n_classes;
  char **class_names;         /* n_classes, sorted bytewise */
  int n_targets;              /* numeric manifest: its number columns */
  char **target_names;        /* n_targets column names, or NULL */
  float *y;                   /* (n, n_targets), or NULL (classes) */
  char **paths;               /* each sample's file, for messages (or NULL) */
  int sample_rate;            /* WAV samples: Hz (one for all); else 0 */
  int n_columns;              /* multi-task: label columns (then label is
                                 NULL), as fr_data_opts.label_columns */
  fr_label_column *columns;
  fr_arena arena;             /* owns the strings and the name arrays */
} fr_dataset;

/* Loads the folder or manifest at path (opts NULL: the defaults). On
 * failure out is empty (nothing to free). */
fr_status fr_dataset_load(const char *path, const fr_data_opts *o,
                          fr_dataset *out);
void fr_dataset_free(fr_dataset *d);
/* Samples [first, first + count) of d (loaded with index_only, or not)
 * into *x (fr_malloc'd, count rows of d->numel floats), read as
 * fr_dataset_load reads them: each held to d's shape, images with the
 * channels of d's first sample. Errors name the file. */
fr_status fr_dataset_read(const fr_dataset *d, const fr_data_opts *o, int first,
                          int count, float **x);
/* One sample file (.npy, image or WAV) as fr_dataset_load reads it, with
 * o's image preprocessing: *x fr_malloc'd, its shape in rank, dims. */
fr_status fr_sample_load(const char *path, const fr_data_opts *o, float **x,
                         int *rank, int64_t *dims);
/* Splits d into train and val (fresh data sets, d is kept): in each class
 * the fraction val_frac, rounded, of its samples, chosen by an fr_rng
 * seeded with seed, goes to val, but a class of two or more samples keeps
 * at least one in train (one of a single sample stays in train). Without
 * labels the whole set is one group; with label columns the first
 * column's classes are the groups (its empty cells one more). Both keep
 * d's order. val_frac is in [0, 1) (0: val is empty). */
fr_status fr_dataset_split(const fr_dataset *d, double val_frac,
                           uint64_t seed, fr_dataset *train, fr_dataset *val);
/* Copies samples order[start..start+count) into x (count * numel floats)
 * and their labels into label (count) and targets into y (count *
 * n_targets); label or y may be NULL to skip them. */
void fr_dataset_gather(const fr_dataset *d, const int *order, int start,
                       int count, float *x, int32_t *label, float *y);
/* Label column col's labels of samples order[start..start+count). */
void fr_dataset_gather_column(const fr_dataset *d, int col, const int *order,
                              int start, int count, int32_t *label);
/* The labels (label, and each column's) of rows[0..n) become those of the
 * new samples 0..n (frames cut into windows, windows pooled into clips). */
fr_status fr_dataset_relabel(fr_dataset *d, const int *rows, int n);
/* Label column col becomes d's labels (label, n_classes, class_names; -1
 * where its cell was empty): one task of a multi-task manifest. */
void fr_dataset_use_column(fr_dataset *d, int col);

/* Random changes to image samples, drawn from the rng in a fixed order
 * (per sample: crop, flip, affine), each only when enabled. */
typedef struct fr_augment_opts {
  int crop_pad;     /* > 0: pad each side by this many pixels of value 0,
                       crop a random window of the original size */
  bool hflip;       /* mirror left-right with probability 1/2 */
  float rotate_deg; /* > 0: rotate about the centre by an angle uniform in
                       [-rotate_deg, rotate_deg] */
  float scale_min, scale_max; /* scale about the centre by a factor uniform
                                 in [min, max] (both 0: none) */
  float noise;      /* > 0: add Gaussian noise of this standard deviation
                       to every element (any sample shape) */
} fr_augment_opts;
/* Augments count samples of shape dims in place at x: the image
 * transforms need rank 3 ((C, H, W), or (H, W, C) when nhwc); rotation
 * and scale sample bilinearly, with value 0 outside the image. Noise
 * comes last. */
fr_status fr_augment(float *x, int count, int rank, const int64_t *dims,
                     bool nhwc, fr_rng *r, const fr_augment_opts *a);
/* Whether a asks for an image transform (crop, flip, rotation, scale);
 * noise applies to samples of any shape. */
bool fr_augment_images(const fr_augment_opts *a);

/* A WAV file, RIFF 16-bit mono PCM, as n floats in [-1, 1) at rate Hz;
 * *samples is fr_malloc'd. Another format is an error that says which. */
fr_status fr_wav_read(const char *path, float **samples, int64_t *n,
                      int *rate);
/* Same, from the bytes of a WAV file (errors not prefixed by a path). */
fr_status fr_wav_parse(const uint8_t *buf, size_t len, float **samples,
                       int64_t *n, int *rate);

/* ---- image.c: PNG and JPEG (frost only; not in frost_rt) -------------- */

/* fr_image_decoder for PNG (any bit depth, palette, alpha dropped; 16-bit
 * rounded to 8) and JPEG (gray or colour; CMYK refused), told apart by
 * their first bytes. Corrupt and truncated files are errors (libpng's and
 * libjpeg's errors are caught), and so is an image larger than
 * FR_IMAGE_MAX_SIDE or FR_IMAGE_MAX_PIXELS, before its pixels are
 * allocated. */
fr_status fr_image_decode(const char *path, const uint8_t *buf, size_t len,
                          fr_image *out);

/* ---- trainloop.c: the epochs of training -------------------------------
 *
 * The loop frost train and artifacts compiled with `frost compile --train`
 * share, so both train the same way: batches in a seeded order, targets
 * and sample weights, the step (a callback: the compiled or interpreted
 * training graph), gradient clipping, the learning-rate schedule, the
 * optimizer (runtime/kernels/optim.c) on the parameter layout's blocks,
 * validation, the best epoch, early stopping, checkpoints and the log. It
 * names no IR: the step and the parameters come as plain descriptions. */

enum { FR_LOSS_CE, FR_LOSS_BCE, FR_LOSS_MSE };

/* The options of frost train (and of an artifact's train command). */
typedef struct fr_train_opts {
  const char *head, *cut;  /* --head, --cut */
  int loss_kind;           /* --loss ce|bce|mse: FR_LOSS_* */
  bool probabilities;      /* ce on an output of probabilities */
  double label_smoothing;
  float class_weights[256]; /* --class-weights W0,W1,...: per class */
  int n_class_weights;
  const char *optimizer;   /* sgd | adam | adamw */
  double lr, lr_backbone;  /* lr_backbone < 0: lr for every parameter */
  double momentum, weight_decay, beta1, beta2, eps, clip_norm;
  bool nesterov;
  const char *schedule;    /* constant | step | cosine */
  int64_t warmup;          /* linear warm-up steps */
  int step_epochs;         /* step: every this many epochs, lr *= gamma */
  double gamma;
  int64_t batch, max_steps;
  int epochs, patience;
  uint64_t seed;
  const char *val_dir;     /* --val */
  double val_split;        /* --val-split */
  bool no_shuffle;
  bool no_cache;           /* --no-cache: the backbone runs every step */
  const char *save_params; /* --save-params DIR: the trained parameters */
  const char *checkpoint_dir; /* --checkpoint-dir: one per epoch */
  bool resume;             /* --resume: from checkpoint_dir */
  const char *log_json, *plot; /* --log-json FILE, --plot FILE.svg */
  fr_data_opts data;       /* --resize, --mean, --std, --layout, --channels */
  fr_augment_opts augment; /* --crop-pad, --hflip, --rotate, --scale */
  const char *eval_json;   /* eval: --json FILE */
  const char *frontend;    /* --frontend MODEL: WAV clips through it */
  float frontend_scale[2]; /* --frontend-scale A,B: x A + B after it */
  int64_t window, hop;     /* --window N --hop H: frames per sample */
  int pool;                /* --pool none|mean|max: FR_POOL_* */
  int64_t clip_samples;    /* compile --train --frontend: a clip's samples */
  /* frost fewshot, cluster (compiler/cmd/transfer.c) */
  const char *support, *query, *metric;
  const char *label_map;   /* eval --label-map FILE */
  const char *task;        /* eval --task NAME: output and label column */
  /* Multi-task: every --head (o->head is the first) and --task-weight. */
  const char *heads[FR_MAX_TASKS];
  int n_heads;
  const char *task_weight_names[FR_MAX_TASKS];
  double task_weights[FR_MAX_TASKS];
  int n_task_weights;
  const char *adapt;       /* train --adapt DATA: AdaBN on DATA first */
  const char *features;    /* train --features DIR: frost extract's shards */
  int episodes, shots, queries, ways, k;
  bool finetune;           /* fewshot --finetune: train the prototype head */
  /* --ssl: contrastive self-supervised training (InfoNCE over two
   * augmented views of each sample, labels ignored); --temperature */
  bool ssl;
  double temperature;
} fr_train_opts;

/* ---- clips.c: audio clips as samples -------------------------------------- */

enum { FR_POOL_NONE, FR_POOL_MEAN, FR_POOL_MAX };

/* A front end (openWakeWord's melspectrogram, say) on one clip: in holds
 * the clip (the front end's input), *out its n output values, frames of
 * last values each (valid until the next call). */
typedef fr_status (*fr_frontend_fn)(void *ctx, const float *in, const float **out,
                                    int64_t *n, int64_t *last);
/* One clip x of L samples in [-1, 1) through f: PCM16 units into in (L
 * floats, the front end's input), frames (T, F) out, each value times A
 * plus B (*frames fr_malloc'd). */
fr_status fr_clip_frames(fr_frontend_fn f, void *ctx, float *in, const float *x,
                         int64_t L, float A, float B, float **frames, int64_t *T,
                         int64_t *F);

typedef struct fr_window_opts {
  float scale[2];          /* --frontend-scale A,B */
  int64_t window, hop;     /* frames per window, frames between windows;
                              window 0: the whole clip */
  int rank;                /* the model's sample shape */
  int64_t dims[FR_MAX_RANK], numel;
} fr_window_opts;
/* Replaces the clips of d by windows of o->window frames, o->hop apart (a
 * clip shorter than a window: one window, zero-padded), shaped as the
 * model's samples; (*group)[i] is window i's clip (group NULL: not
 * wanted), *clips the number of clips. */
fr_status fr_clips_to_windows(fr_dataset *d, fr_frontend_fn f, void *ctx,
                              float *in, const fr_window_opts *o, int **group,
                              int *clips);
/* The rows of d (each window's features) pooled into one row per clip
 * (FR_POOL_MEAN or FR_POOL_MAX), with the clip's label. */
fr_status fr_pool_windows(fr_dataset *d, const int *group, int clips, int mode);

/* A trained parameter: float32, numel values at offset bytes into the
 * trainable block and, at the same offset, into the gradient block and
 * each optimizer slot. */
typedef struct fr_tl_param {
  const char *name;
  int64_t offset, numel;
  bool backbone; /* not the new head: --lr-backbone applies */
} fr_tl_param;

/* One batch through the training graph (train) or the evaluation graph:
 * it reads the loop's batch buffers (x, targets, weights), sets *loss and
 * *logits (B x C floats, valid until the next call) and, when train, has
 * written the gradients into the gradient block. */
typedef fr_status (*fr_tl_step)(void *ctx, bool train, double *loss,
                                const float **logits);

/* Several processes training one model (frost train under mpirun; the
 * MPI side is compiler/cmd/dist.c, runtime/ knows no MPI). Every rank runs
 * the loop with the same data, seed and starting weights; global batch k
 * is the same on every rank, and rank r fills its batch buffers with rows
 * [r B, (r + 1) B) of it (B = ceil(G / size), G the global batch), each
 * weighted by 1 / (samples in the global batch). The gradients' sum over
 * the ranks is then the gradient of the global batch's mean loss, and
 * every rank applies the same update. */
typedef struct fr_tl_dist {
  int rank, size;
  void *ctx;
  /* Sums n values at buf (float, or double when f64) over the ranks in a
   * fixed order: the same bits on every rank. */
  fr_status (*sum)(void *ctx, void *buf, int64_t n, bool f64);
  /* Every rank's status in; the first failing rank's error out, the same
   * on every rank. */
  fr_status (*agree)(void *ctx, fr_status st);
  /* Rank 0's bytes at buf to every rank. */
  fr_status (*bcast)(void *ctx, void *buf, int64_t bytes);
  bool tty; /* rank 0: draw the progress bar (mpirun's stderr is a
               terminal); it shows each rank's time per step */
} fr_tl_dist;
/* One task of a multi-task run: a head and its label column. The step
 * sets logits and loss (each task's; *loss is their weighted sum). */
typedef struct fr_tl_task {
  const char *name;
  int64_t C;                /* its classes */
  int column;               /* the data sets' label column */
  double weight;            /* --task-weight: its share of the loss */
  float *targets, *weights; /* the batch: B x C, B (0 where unlabelled) */
  const float *logits;      /* set by the step: B x C */
  double loss;              /* set by the step */
} fr_tl_task;

typedef struct fr_trainloop {
  /* Given. */
  const fr_train_opts *o;
  fr_tl_step step;
  void *ctx;
  fr_dataset *train, *val;  /* val->n 0: no validation */
  int64_t B, C;             /* batch, classes (or targets) */
  bool classify;            /* labels, not number columns */
  bool ssl;                 /* two views of B / 2 samples per batch, each
                               row's class the other view's row (C == B);
                               the data's labels unused */
  float *x, *targets, *weights; /* the batch: B x numel, B x C, B */
  uint8_t *trainable, *grad, *state; /* blocks of tbytes; state holds
                                        slots + 1 of them: the optimizer's,
                                        then the best epoch's weights */
  int64_t tbytes;
  int slots;
  const fr_tl_param *params; /* what the optimizer updates */
  int n_params;
  /* Checkpoints: the model and every parameter of the trainable block
   * (trained ones and running statistics). */
  const char *model;
  char model_sha256[65];
  const fr_ckpt_param *ck_params;
  int n_ck_params;
  FILE *out;                /* epoch lines (stdout) */
  const char *title;        /* the plot's */
  const char *final_dir;    /* or NULL: a checkpoint there at the end,
                               with the weights kept */
  const fr_tl_dist *dist;   /* or NULL: one process. Rank 0 alone writes
                               checkpoints, --log-json and --plot */
  int64_t G;                /* with dist: the global batch (B is a rank's
                               share, ceil(G / size)) */
  /* Multi-task (several heads): n_tasks > 0 replaces C, classify, targets
   * and weights above by each task's; the best epoch is that of the
   * task-weighted mean of the validation accuracies. */
  fr_tl_task *tasks;
  int n_tasks;
  /* Results. */
  int64_t steps;            /* optimizer steps done */
  int best_epoch;           /* 0: none (no validation) */
} fr_trainloop;

/* The optimizer's state slots: SGD 0 (1 with momentum), Adam(W) 2. */
int fr_tl_slots(const fr_train_opts *o);
/* Trains for o->epochs (resuming from o->checkpoint_dir with o->resume);
 * with validation, the best epoch's weights are in the trainable block at
 * the end (and in a checkpoint in final_dir when it is set). */
fr_status fr_trainloop_run(fr_trainloop *t);

#endif
