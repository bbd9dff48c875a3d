/* model.c: the C API of a compiled model. clang-19 compiles this file to
 * LLVM bitcode, embedded in frost; `frost compile` links it into every
 * artifact next to the generated code, renames each frost_api_NAME to
 * PREFIX_NAME (the names of the generated header) and makes everything else
 * internal. So an artifact needs only libc.
 *
 * The compiler defines the two symbols below in the same module: the
 * model's descriptor and its code. Runs allocate nothing: the activations
 * live in one buffer, owned by a context or brought by the caller. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "abi.h"

extern const frost_model_info frost_desc_;

/* A context: its activation buffer and, for an artifact that trains, the
 * gradient and optimizer blocks, the backbone's features, the targets,
 * sample weights and logits of a batch. One allocation (or the caller's
 * memory), carved in 64-byte aligned pieces. */
struct frost_ctx {
  void *arena;
  uint8_t *grad, *state, *stats;
  float *feat, *targets, *weights, *logits;
  float loss, lr;
  int64_t step;
  int owned; /* malloc'd by create, freed by destroy */
};

#define ALIGN64(n) (((n) + 63) / 64 * 64)

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* --bn-train's statistics: their new values between a step and the copy
 * into the trainable block. */
static uint64_t stat_bytes(const frost_train_info *t) {
  uint64_t n = 0;
  for (int64_t i = 0; i < t->ints[FROST_I_N_STATS]; i++) n += t->stats[i].bytes;
  return n;
}

/* The pieces of a context, 64-byte aligned, in one walk: returns their
 * sum (the header's PREFIX_CTX_BYTES: aot.c computes the same), and when
 * c is not NULL sets its pointers into c's memory. */
static uint64_t ctx_layout(struct frost_ctx *c) {
  const frost_model_info *m = &frost_desc_;
  const frost_train_info *t = m->train;
  uint8_t *base = (uint8_t *)c;
  uint64_t at = ALIGN64(sizeof(struct frost_ctx));
#define PIECE(field, type, n)                                                 \
  do {                                                                        \
    if (c) c->field = (type)(base + at);                                      \
    at += ALIGN64(n);                                                         \
  } while (0)
  uint64_t act = m->activation_bytes;
  if (!t) {
    PIECE(arena, void *, act ? act : 1);
    return at;
  }
  act = max_u64(act, max_u64(t->step_bytes, max_u64(t->eval_bytes, t->features_bytes)));
  uint64_t B = (uint64_t)t->ints[FROST_I_BATCH], C = (uint64_t)t->ints[FROST_I_CLASSES];
  PIECE(arena, void *, act);
  PIECE(grad, uint8_t *, m->grad_block_bytes);
  PIECE(state, uint8_t *, m->state_block_bytes);
  /* the step's sample input: features or samples */
  PIECE(feat, float *, t->step_inputs[0].bytes + t->step_inputs[1].bytes +
                           t->step_inputs[2].bytes);
  PIECE(targets, float *, B * C * 4);
  PIECE(logits, float *, B * C * 4);
  PIECE(weights, float *, B * 4);
  PIECE(stats, uint8_t *, stat_bytes(t));
#undef PIECE
  return at;
}

size_t frost_api_ctx_bytes(void) { return (size_t)ctx_layout(NULL); }

static struct frost_ctx *carve(void *mem, int owned) {
  memset(mem, 0, frost_api_ctx_bytes());
  struct frost_ctx *c = mem;
  ctx_layout(c);
  c->owned = owned;
  if (frost_desc_.train) c->lr = (float)frost_desc_.train->hyper[FROST_H_LR];
  return c;
}

const frost_model_info *frost_api_info(void) { return &frost_desc_; }

/* The threads of the artifact's kernels (its own pool, runtime/kernels/
 * pool.c, linked into the same module): n < 1 is the default. Returns the
 * count now in use. */
int frost_api_set_threads(int n) {
  fr_k_set_threads(n);
  return fr_k_threads();
}

int frost_api_threads(void) { return fr_k_threads(); }

size_t frost_api_activation_bytes(void) {
  return (size_t)frost_desc_.activation_bytes;
}

int frost_api_num_inputs(void) { return frost_desc_.n_inputs; }
int frost_api_num_outputs(void) { return frost_desc_.n_outputs; }

const frost_tensor_info *frost_api_input(int i) {
  return i >= 0 && i < frost_desc_.n_inputs ? &frost_desc_.inputs[i] : NULL;
}

const frost_tensor_info *frost_api_output(int i) {
  return i >= 0 && i < frost_desc_.n_outputs ? &frost_desc_.outputs[i] : NULL;
}

struct frost_ctx *frost_api_create(void) {
  void *mem = aligned_alloc(64, frost_api_ctx_bytes());
  return mem ? carve(mem, 1) : NULL;
}

struct frost_ctx *frost_api_create_in(void *mem, size_t bytes) {
  if (!mem || (uintptr_t)mem % 64 || bytes < frost_api_ctx_bytes()) return NULL;
  return carve(mem, 0);
}

void frost_api_destroy(struct frost_ctx *c) {
  if (c && c->owned) free(c);
}

/* Every input and output pointer must be given (a zero-byte tensor's may be
 * NULL). */
static int check_io(const void *const *inputs, void *const *outputs) {
  if ((!inputs && frost_desc_.n_inputs) || (!outputs && frost_desc_.n_outputs))
    return -1;
  for (int i = 0; i < frost_desc_.n_inputs; i++)
    if (!inputs[i] && frost_desc_.inputs[i].bytes) return -1;
  for (int i = 0; i < frost_desc_.n_outputs; i++)
    if (!outputs[i] && frost_desc_.outputs[i].bytes) return -1;
  return 0;
}

int frost_api_run_in(void *activations, size_t bytes, const void *const *inputs,
                     void *const *outputs) {
  if (bytes < frost_desc_.activation_bytes ||
      (!activations && frost_desc_.activation_bytes) ||
      (uintptr_t)activations % frost_desc_.activation_align)
    return -1;
  if (check_io(inputs, outputs)) return -1;
  frost_desc_.run(inputs, outputs, activations);
  return 0;
}

int frost_api_run(struct frost_ctx *c, const void *const *inputs,
                  void *const *outputs) {
  if (!c) return -1;
  if (check_io(inputs, outputs)) return -1;
  frost_desc_.run(inputs, outputs, c->arena);
  return 0;
}

/* ---- training (artifacts compiled with --train) ------------------------ */

static int slot_of(const char *name) {
  const frost_train_info *t = frost_desc_.train;
  for (int i = 0; i < 3; i++)
    if (!strcmp(t->step_inputs[i].name, name)) return i;
  return -1;
}

/* The step's inputs from the caller's batch: the backbone's features (or
 * the samples), the targets c->targets, the weights c->weights. */
static void step_inputs(struct frost_ctx *c, const void *const *inputs,
                        const void **in) {
  const frost_train_info *t = frost_desc_.train;
  int xs = 3 - slot_of("frost.targets") - slot_of("frost.weights");
  in[slot_of("frost.targets")] = c->targets;
  in[slot_of("frost.weights")] = c->weights;
  if (t->features) {
    void *out[1] = {c->feat};
    t->features(inputs, out, c->arena);
    in[xs] = c->feat;
  } else {
    in[xs] = inputs[0];
  }
}

/* Targets and weights of a batch of labels (< 0: no sample), as frost
 * train makes them (label smoothing, the mean over the real samples).
 * -1 when a label is out of range or no sample is real. */
static int label_targets(struct frost_ctx *c, const int32_t *labels) {
  const frost_train_info *t = frost_desc_.train;
  int64_t B = t->ints[FROST_I_BATCH], C = t->ints[FROST_I_CLASSES];
  int n = 0;
  for (int64_t i = 0; i < B; i++) {
    if (labels[i] >= C) return -1;
    n += labels[i] >= 0;
  }
  if (!n) return -1;
  float eps = (float)t->hyper[FROST_H_LABEL_SMOOTHING];
  int ce = t->ints[FROST_I_LOSS] == 0;
  for (int64_t i = 0; i < B; i++) {
    for (int64_t k = 0; k < C; k++) c->targets[i * C + k] = labels[i] >= 0 ? eps / (float)C : 0;
    c->weights[i] = 0;
    if (labels[i] < 0) continue;
    c->targets[i * C + labels[i]] += 1 - eps;
    c->weights[i] = 1.0f / (float)n;
    if (!ce) c->weights[i] /= (float)C;
  }
  return 0;
}

static void update(struct frost_ctx *c) {
  const frost_model_info *m = &frost_desc_;
  const frost_train_info *t = m->train;
  const double *h = t->hyper;
  static const int kinds[3] = {FR_K_OPT_SGD, FR_K_OPT_ADAM, FR_K_OPT_ADAMW};
  c->step++;
  double sq = 0;
  for (int k = 0; h[FROST_H_CLIP_NORM] > 0 && k < t->n_grads; k++)
    sq += fr_k_sum_squares((int64_t)(t->grads[k].bytes / 4),
                           (const float *)(c->grad + t->grads[k].offset));
  double norm = sqrt(sq), scale = 1;
  if (h[FROST_H_CLIP_NORM] > 0 && h[FROST_H_CLIP_NORM] / (norm + 1e-6) < 1)
    scale = h[FROST_H_CLIP_NORM] / (norm + 1e-6);
  int slots = (int)t->ints[FROST_I_SLOTS];
  uint64_t tb = m->trainable_block_bytes;
  for (int k = 0; k < t->n_grads; k++) {
    const frost_tensor_info *g = &t->grads[k];
    int64_t n = (int64_t)(g->bytes / 4);
    float *gd = (float *)(c->grad + g->offset);
    if (scale != 1) fr_k_scale(n, gd, (float)scale);
    int head = !strncmp(g->name, "frost.head.", 11);
    double lr = c->lr;
    if (!head && h[FROST_H_LR_BACKBONE] >= 0 && h[FROST_H_LR] > 0)
      lr *= h[FROST_H_LR_BACKBONE] / h[FROST_H_LR];
    fr_k_optim o = {.kind = kinds[t->ints[FROST_I_OPTIMIZER] % 3], .lr = (float)lr,
                    .weight_decay = (float)h[FROST_H_WEIGHT_DECAY],
                    .momentum = (float)h[FROST_H_MOMENTUM],
                    .nesterov = (int)t->ints[FROST_I_NESTEROV],
                    .beta1 = (float)h[FROST_H_BETA1], .beta2 = (float)h[FROST_H_BETA2],
                    .eps = (float)h[FROST_H_EPS], .step = c->step};
    fr_k_optim_step(&o, n, (float *)((uint8_t *)m->trainable_block + g->offset), gd,
                    slots > 0 ? (float *)(c->state + g->offset) : NULL,
                    slots > 1 ? (float *)(c->state + tb + g->offset) : NULL);
  }
}

static int run_step(struct frost_ctx *c, const void *const *inputs, int train,
                    float *loss, float *logits) {
  const frost_train_info *t = frost_desc_.train;
  const void *in[3];
  void *out[2 + 512];
  int64_t ns = t->ints[FROST_I_N_STATS];
  if (t->n_grads > 256 || ns > 256) return -1;
  step_inputs(c, inputs, in);
  out[0] = &c->loss;
  out[1] = c->logits;
  uint64_t at = 0;
  for (int64_t i = 0; i < ns; i++, at += t->stats[i - 1].bytes) out[2 + i] = c->stats + at;
  for (int k = 0; k < t->n_grads; k++) out[2 + ns + k] = c->grad + t->grads[k].offset;
  (train || !t->eval ? t->step : t->eval)(in, out, c->arena);
  if (!isfinite(c->loss)) return -1;
  if (train) {
    update(c);
    at = 0;
    for (int64_t i = 0; i < ns; i++, at += t->stats[i - 1].bytes)
      memcpy((uint8_t *)frost_desc_.trainable_block + t->stats[i].offset,
             c->stats + at, (size_t)t->stats[i].bytes);
  }
  if (loss) *loss = c->loss;
  if (logits)
    memcpy(logits, c->logits,
           (size_t)(t->ints[FROST_I_BATCH] * t->ints[FROST_I_CLASSES]) * 4);
  return 0;
}

int frost_api_train_step(struct frost_ctx *c, const void *const *inputs,
                         const int32_t *labels, float *loss) {
  if (!c || !frost_desc_.train || !inputs || !inputs[0] || !labels) return -1;
  if (label_targets(c, labels)) return -1;
  return run_step(c, inputs, 1, loss, NULL);
}

int frost_api_train_step_targets(struct frost_ctx *c, const void *const *inputs,
                                 const float *targets, float *loss) {
  const frost_train_info *t = frost_desc_.train;
  if (!c || !t || !inputs || !inputs[0] || !targets) return -1;
  int64_t B = t->ints[FROST_I_BATCH], C = t->ints[FROST_I_CLASSES];
  memcpy(c->targets, targets, (size_t)(B * C) * 4);
  for (int64_t i = 0; i < B; i++)
    c->weights[i] = 1.0f / (float)B / (t->ints[FROST_I_LOSS] ? (float)C : 1.0f);
  return run_step(c, inputs, 1, loss, NULL);
}

int frost_api_eval(struct frost_ctx *c, const void *const *inputs,
                   const int32_t *labels, float *loss, float *logits) {
  if (!c || !frost_desc_.train || !inputs || !inputs[0] || !labels) return -1;
  if (label_targets(c, labels)) return -1;
  return run_step(c, inputs, 0, loss, logits);
}

int frost_api_set_lr(struct frost_ctx *c, float lr) {
  if (!c || !frost_desc_.train || !(lr >= 0)) return -1;
  c->lr = lr;
  return 0;
}

/* Saved state: a header (magic, the layout's sizes, the step), the
 * trainable block, the optimizer's slots. */
typedef struct saved {
  char magic[8];
  uint64_t trainable_bytes, state_bytes;
  int64_t step;
  char sha256[64];
} saved;

size_t frost_api_save_bytes(void) {
  const frost_model_info *m = &frost_desc_;
  return sizeof(saved) + (size_t)m->trainable_block_bytes + (size_t)m->state_block_bytes;
}

int frost_api_save(const struct frost_ctx *c, void *buf, size_t bytes) {
  const frost_model_info *m = &frost_desc_;
  if (!c || !m->train || !buf || bytes < frost_api_save_bytes()) return -1;
  saved h = {.magic = "frostSV1", .trainable_bytes = m->trainable_block_bytes,
             .state_bytes = m->state_block_bytes, .step = c->step};
  memcpy(h.sha256, m->train->model_sha256, 64);
  uint8_t *p = buf;
  memcpy(p, &h, sizeof h);
  memcpy(p + sizeof h, m->trainable_block, (size_t)m->trainable_block_bytes);
  memcpy(p + sizeof h + m->trainable_block_bytes, c->state, (size_t)m->state_block_bytes);
  return 0;
}

/* -1, and nothing changed, when buf is not a state this artifact saved. */
int frost_api_load(struct frost_ctx *c, const void *buf, size_t bytes) {
  const frost_model_info *m = &frost_desc_;
  if (!c || !m->train || !buf || bytes != frost_api_save_bytes()) return -1;
  saved h;
  memcpy(&h, buf, sizeof h);
  if (memcmp(h.magic, "frostSV1", 8) || h.trainable_bytes != m->trainable_block_bytes ||
      h.state_bytes != m->state_block_bytes || memcmp(h.sha256, m->train->model_sha256, 64) ||
      h.step < 0)
    return -1;
  const uint8_t *p = buf;
  memcpy(m->trainable_block, p + sizeof h, (size_t)m->trainable_block_bytes);
  memcpy(c->state, p + sizeof h + m->trainable_block_bytes, (size_t)m->state_block_bytes);
  c->step = h.step;
  return 0;
}
