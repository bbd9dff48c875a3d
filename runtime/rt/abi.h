/* The interface of a model compiled by `frost compile`: the C types its
 * generated header declares and its descriptor. This text is pasted into
 * every generated header (OUT.h), so it must stay plain C without includes
 * other than <stddef.h> and <stdint.h>.
 *
 * The compiler (compiler/aot.c) builds the descriptor as LLVM constants in
 * the layout below; runtime/rt/model.c (compiled to bitcode and linked into
 * every artifact) and runtime/rt/main.c (the artifact's command line, in
 * libfrost_rt) read it. Change both sides together and bump
 * FROST_ABI_VERSION. */
#ifndef FROST_ABI_H
#define FROST_ABI_H

#include <stddef.h>
#include <stdint.h>

#define FROST_ABI_VERSION 3

/* An input, an output or a parameter of the model. dtype is the ONNX
 * TensorProto data type (1 float32, 6 int32, 7 int64, 9 bool, 10 float16,
 * 11 float64, ...); dims has rank entries; bytes = product(dims) * size of
 * dtype. data is NULL for inputs and outputs; for a trainable parameter it
 * points at the parameter's values in the artifact's writable data. */
typedef struct frost_tensor_info {
  const char *name;
  const int64_t *dims;
  void *data;
  uint64_t bytes;
  int32_t dtype;
  int32_t rank;
  uint64_t offset; /* a parameter's place in its block; 0 otherwise */
} frost_tensor_info;

/* Everything the artifact knows about itself. Activations are one buffer of
 * activation_bytes (aligned to activation_align), reused by every run. */
/* Parameters follow frost's parameter layout (ir/layout.c): a block of
 * frozen weights (read-only data), a block of trainable parameters (one
 * writable array, trainable_block, each parameter at its offset), and, for
 * training, a gradient block of the trainable block's layout and
 * state_slots optimizer copies of it. Every parameter starts on a 64-byte
 * boundary. */
/* The compiled training of an artifact built with `frost compile --train`
 * (frost_model_info.train; NULL otherwise). Three functions of the same
 * calling convention as run, each on an activation buffer of its size:
 *   step      [samples or features, frost.targets, frost.weights] ->
 *             [loss, logits, gradients...]: forward, loss and backward;
 *   eval      the same inputs -> [loss, logits], no backward (NULL: use
 *             step);
 *   features  the frozen backbone: the model's input (at the batch) ->
 *             the step's first input (NULL: the step takes the model's
 *             input; nothing to cache);
 *   frontend  audio: one clip [1, FROST_I_CLIP_SAMPLES] (PCM16 units) ->
 *             frames, cut into windows of the model's sample shape (NULL:
 *             samples are the model's).
 * Gradient i is of the parameter grads[i].name, at grads[i].offset in the
 * gradient block (and of the trainable block); it is the step's output
 * 2 + FROST_I_N_STATS + i. The training options are
 * numbers: hyper[FROST_H_*] and ints[FROST_I_*]. onnx is the model as
 * `OUT export` writes it, with the initial weights; a trainable parameter
 * i's raw bytes are at onnx_offsets[i] (UINT64_MAX: not in the file). */
enum {
  FROST_H_LR, FROST_H_LR_BACKBONE, FROST_H_MOMENTUM, FROST_H_WEIGHT_DECAY,
  FROST_H_BETA1, FROST_H_BETA2, FROST_H_EPS, FROST_H_CLIP_NORM, FROST_H_GAMMA,
  FROST_H_LABEL_SMOOTHING, FROST_H_VAL_SPLIT,
  FROST_H_FRONTEND_A, FROST_H_FRONTEND_B, /* --frontend-scale A,B */
  FROST_H_MEAN, /* 4 values: --mean */
  FROST_H_STD = FROST_H_MEAN + 4, /* 4 values: --std */
  FROST_H_AUG_ROTATE = FROST_H_STD + 4, FROST_H_AUG_SCALE_MIN,
  FROST_H_AUG_SCALE_MAX, /* --rotate, --scale MIN,MAX */
  FROST_H_AUG_NOISE,     /* --noise */
  FROST_H_COUNT = 32
};
enum {
  FROST_I_OPTIMIZER,  /* 0 sgd, 1 adam, 2 adamw */
  FROST_I_SCHEDULE,   /* 0 constant, 1 step, 2 cosine */
  FROST_I_NESTEROV, FROST_I_WARMUP, FROST_I_STEP_EPOCHS, FROST_I_EPOCHS,
  FROST_I_PATIENCE, FROST_I_LOSS /* 0 ce, 1 bce, 2 mse */, FROST_I_NO_SHUFFLE,
  FROST_I_SEED, FROST_I_MAX_STEPS, FROST_I_BATCH, FROST_I_CLASSES,
  FROST_I_SLOTS,
  /* audio (frontend not NULL): a clip's samples, the front end's output
   * values and frame width, --window, --hop, --pool (0 none, 1 mean, 2
   * max) */
  FROST_I_CLIP_SAMPLES, FROST_I_FRONTEND_OUT, FROST_I_FRONTEND_LAST,
  FROST_I_WINDOW, FROST_I_HOP, FROST_I_POOL,
  /* images (decoded by the executable when FROST_I_IMAGES): --resize H,W,
   * --channels, --layout nhwc, how many --mean and --std values */
  FROST_I_IMAGES, FROST_I_RESIZE_H, FROST_I_RESIZE_W, FROST_I_CHANNELS,
  FROST_I_NHWC, FROST_I_N_MEAN, FROST_I_N_STD,
  FROST_I_AUG_CROP_PAD, FROST_I_AUG_HFLIP, /* --crop-pad, --hflip */
  FROST_I_N_CLASS_WEIGHTS,                 /* class_weights' length */
  FROST_I_N_STATS,                         /* stats' length */
  FROST_I_COUNT = 32
};
typedef void (*frost_fn)(const void *const *inputs, void *const *outputs,
                         void *arena);
typedef struct frost_train_info {
  frost_fn step, eval, features;
  const frost_tensor_info *step_inputs; /* 3 */
  const frost_tensor_info *grads;       /* n_grads */
  const uint8_t *onnx;
  const uint64_t *onnx_offsets;         /* n_trainable */
  const char *model_sha256;             /* of the ONNX file, hex */
  const double *hyper;                  /* FROST_H_COUNT */
  const int64_t *ints;                  /* FROST_I_COUNT */
  uint64_t onnx_bytes;
  uint64_t step_bytes, eval_bytes, features_bytes; /* activations */
  uint64_t features_numel;              /* per sample; 0 without features */
  int32_t n_grads, reserved;
  frost_fn frontend;
  uint64_t frontend_bytes;              /* its activations */
  const float *class_weights;           /* --class-weights, or NULL */
  /* --bn-train: the running statistics the step updates. The step's
   * outputs are then [loss, logits, the new value of stats[i]..., the
   * gradients...]; after a train step stats[i] (bytes at offset in the
   * trainable block) takes its new value. */
  const frost_tensor_info *stats;
} frost_train_info;

typedef struct frost_model_info {
  const char *model;         /* the ONNX file it was compiled from */
  const char *target_cpu;    /* LLVM CPU name, e.g. "x86-64-v3" */
  const char *frost_version;
  const frost_tensor_info *inputs, *outputs, *trainable;
  void (*run)(const void *const *inputs, void *const *outputs, void *arena);
  void *trainable_block;     /* trainable_block_bytes, writable */
  uint64_t activation_bytes, activation_align;
  uint64_t frozen_params, frozen_bytes;       /* constants in read-only data */
  uint64_t trainable_params, trainable_bytes; /* in writable data */
  uint64_t frozen_block_bytes, trainable_block_bytes; /* aligned blocks */
  uint64_t grad_block_bytes, state_block_bytes;       /* when training */
  int32_t abi_version;
  int32_t n_inputs, n_outputs, n_trainable;
  int32_t n_nodes; /* kernel calls in run */
  int32_t frozen_tensors, state_slots;
  int32_t reserved;
  const frost_train_info *train; /* NULL: the artifact does not train */
} frost_model_info;

#endif
