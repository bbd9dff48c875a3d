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

#define FROST_ABI_VERSION 2

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
} frost_model_info;

#endif
