/* main.c: the command line of an executable built by `frost compile`.
 * Part of libfrost_rt (no LLVM, no protobuf): it is linked with the
 * model's object, whose C API carries the prefix frost_artifact.
 *
 *   OUT info
 *   OUT run --input NAME=FILE.npy... [--output-dir DIR] [--max-memory BYTES]
 *           [--weights DIR]
 *   OUT bench [--iters N]
 *   (run, bench, train: --threads N)
 *   OUT train DATA [options], OUT export OUT.onnx [--weights DIR]  (train.c:
 *           artifacts compiled with --train)
 *
 * The same conventions as `frost run`: outputs go to DIR/NAME.npy (names
 * with characters outside [A-Za-z0-9._-] mapped to '_'), written all or
 * nothing; every failure is one line "OUT: error: ..." and exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

/* The model's API (runtime/rt/model.c, renamed by frost compile). */
typedef struct frost_ctx frost_ctx;
const frost_model_info *frost_artifact_info(void);
frost_ctx *frost_artifact_create(void);
void frost_artifact_destroy(frost_ctx *c);
int frost_artifact_run(frost_ctx *c, const void *const *inputs, void *const *outputs);
int frost_artifact_set_threads(int n);
int frost_artifact_threads(void);

enum { MAX_IO = 256 };

static const char *prog = "model";

static int fail(void) {
  fprintf(stderr, "%s: error: %s\n", prog, fr_err_msg());
  return 1;
}

/* The descriptor of t as an fr_tensor without data. */
static fr_tensor tensor_of(const frost_tensor_info *t) {
  fr_tensor x = {0};
  x.kind = FR_KIND_TENSOR;
  x.dtype = (fr_dtype)t->dtype;
  x.rank = t->rank;
  for (int i = 0; i < t->rank && i < FR_MAX_RANK; i++) x.dims[i] = t->dims[i];
  return x;
}

static const char *shape(const frost_tensor_info *t, char *buf, size_t n) {
  fr_tensor x = tensor_of(t);
  return fr_shape_str(&x, buf, n);
}

static void print_bytes(const char *what, uint64_t params, uint64_t bytes) {
  printf("%s: %llu parameters, %llu bytes\n", what, (unsigned long long)params,
         (unsigned long long)bytes);
}

static int cmd_info(const frost_model_info *m) {
  char buf[256];
  printf("model: %s\n", m->model);
  printf("compiled by: frost %s for CPU %s\n", m->frost_version, m->target_cpu);
  printf("inputs: %d\n", m->n_inputs);
  for (int i = 0; i < m->n_inputs; i++)
    printf("  %s: %s (%llu bytes)\n", m->inputs[i].name,
           shape(&m->inputs[i], buf, sizeof buf),
           (unsigned long long)m->inputs[i].bytes);
  printf("outputs: %d\n", m->n_outputs);
  for (int i = 0; i < m->n_outputs; i++)
    printf("  %s: %s (%llu bytes)\n", m->outputs[i].name,
           shape(&m->outputs[i], buf, sizeof buf),
           (unsigned long long)m->outputs[i].bytes);
  print_bytes("frozen", m->frozen_params, m->frozen_bytes);
  print_bytes("trainable", m->trainable_params, m->trainable_bytes);
  for (int i = 0; i < m->n_trainable; i++)
    printf("  %s: %s\n", m->trainable[i].name,
           shape(&m->trainable[i], buf, sizeof buf));
  printf("activation memory: %llu bytes\n",
         (unsigned long long)m->activation_bytes);
  printf("kernel calls per run: %d\n", m->n_nodes);
  /* The same text as `frost dump --stage optimized` (ir/layout_text.c). */
  const int64_t bytes[FR_PB_COUNT] = {
      [FR_PB_FROZEN] = (int64_t)m->frozen_block_bytes,
      [FR_PB_TRAINABLE] = (int64_t)m->trainable_block_bytes,
      [FR_PB_GRAD] = (int64_t)m->grad_block_bytes,
      [FR_PB_STATE] = (int64_t)m->state_block_bytes};
  const int tensors[2] = {m->frozen_tensors, m->n_trainable};
  const int64_t params[2] = {(int64_t)m->frozen_params,
                             (int64_t)m->trainable_params};
  fr_layout_print_blocks(stdout, bytes, tensors, params, m->state_slots);
  for (int i = 0; i < m->n_trainable; i++) {
    fr_tensor x = tensor_of(&m->trainable[i]);
    fr_layout_print_param(stdout, (int64_t)m->trainable[i].offset, &x,
                          m->trainable[i].name);
  }
  const frost_train_info *t = m->train;
  if (!t) return 0;
  static const char *const opt[] = {"sgd", "adam", "adamw"};
  static const char *const loss[] = {"ce", "bce", "mse"};
  printf("training: batch %lld, %lld %s, loss %s, optimizer %s, lr %g, %lld "
         "epochs by default\n", (long long)t->ints[FROST_I_BATCH],
         (long long)t->ints[FROST_I_CLASSES],
         t->ints[FROST_I_LOSS] ? "targets" : "classes", loss[t->ints[FROST_I_LOSS] % 3],
         opt[t->ints[FROST_I_OPTIMIZER] % 3], t->hyper[FROST_H_LR],
         (long long)t->ints[FROST_I_EPOCHS]);
  printf("  train step: %llu bytes of activations%s\n",
         (unsigned long long)t->step_bytes,
         t->features ? ", on the cached output of the frozen backbone" : "");
  if (t->features)
    printf("  frozen backbone (feature cache): %llu bytes of activations, %llu "
           "floats a sample\n", (unsigned long long)t->features_bytes,
           (unsigned long long)t->features_numel);
  if (t->eval) printf("  evaluation: %llu bytes of activations\n",
                      (unsigned long long)t->eval_bytes);
  uint64_t act = frt_train_activation_bytes(t);
  uint64_t batch = 0;
  for (int i = 0; i < 3; i++) batch += t->step_inputs[i].bytes;
  printf("  train step peak: %llu bytes (activations %llu, trainable %llu, "
         "gradients %llu, optimizer %llu, batch %llu)\n",
         (unsigned long long)(act + m->trainable_block_bytes + m->grad_block_bytes +
                              m->state_block_bytes + batch),
         (unsigned long long)act, (unsigned long long)m->trainable_block_bytes,
         (unsigned long long)m->grad_block_bytes,
         (unsigned long long)m->state_block_bytes, (unsigned long long)batch);
  printf("  export: %s\n", t->onnx ? "the embedded ONNX model" : "none");
  const int64_t *n = t->ints;
  if (t->frontend)
    printf("  audio: WAV clips of %lld samples through the compiled front end "
           "(%llu bytes of activations), windows of %lld frames every %lld, "
           "pooling %s\n", (long long)n[FROST_I_CLIP_SAMPLES],
           (unsigned long long)t->frontend_bytes, (long long)n[FROST_I_WINDOW],
           (long long)(n[FROST_I_HOP] ? n[FROST_I_HOP] : n[FROST_I_WINDOW]),
           n[FROST_I_POOL] == 1 ? "mean" : n[FROST_I_POOL] == 2 ? "max" : "none");
  if (n[FROST_I_IMAGES])
    printf("  images: PNG and JPEG, resized to %lldx%lld (0: kept), %lld "
           "channels (0: as the first image), %s, %lld mean and %lld std values\n",
           (long long)n[FROST_I_RESIZE_H], (long long)n[FROST_I_RESIZE_W],
           (long long)n[FROST_I_CHANNELS], n[FROST_I_NHWC] ? "NHWC" : "NCHW",
           (long long)n[FROST_I_N_MEAN], (long long)n[FROST_I_N_STD]);
  return 0;
}

/* Splits "NAME=VALUE" at the last '='. */
static fr_status split_eq(const char *arg, char *name, size_t n, const char **value) {
  const char *eq = strrchr(arg, '=');
  if (!eq || eq == arg || (size_t)(eq - arg) >= n)
    return fr_err(FR_ERR_USAGE, "--input expects NAME=FILE.npy, got '%s'", arg);
  memcpy(name, arg, (size_t)(eq - arg));
  name[eq - arg] = 0;
  *value = eq + 1;
  return FR_OK;
}

/* Checks a .npy tensor against the input the model was compiled for. */
static fr_status check_input(const frost_tensor_info *want, const fr_tensor *got,
                             const char *file) {
  bool same = got->kind == FR_KIND_TENSOR && got->dtype == (fr_dtype)want->dtype &&
              got->rank == want->rank;
  for (int i = 0; same && i < want->rank; i++) same = got->dims[i] == want->dims[i];
  if (same) return FR_OK;
  char a[256], b[256];
  return fr_err(FR_ERR_INVALID,
                "%s: input '%s' is %s, the model was compiled for %s", file,
                want->name, fr_shape_str(got, a, sizeof a), shape(want, b, sizeof b));
}

typedef struct io {
  fr_tensor in[MAX_IO], out[MAX_IO];
  const void *inp[MAX_IO];
  void *outp[MAX_IO];
} io;

static fr_status alloc_outputs(const frost_model_info *m, io *x) {
  for (int i = 0; i < m->n_outputs; i++) {
    x->out[i] = tensor_of(&m->outputs[i]);
    FR_TRY(fr_tensor_alloc(&x->out[i]));
    x->outp[i] = x->out[i].data;
  }
  return FR_OK;
}

static void free_io(const frost_model_info *m, io *x) {
  for (int i = 0; i < m->n_inputs; i++) fr_tensor_release(&x->in[i]);
  for (int i = 0; i < m->n_outputs; i++) fr_tensor_release(&x->out[i]);
}

fr_status frt_run_model(const void *const *in, void *const *out) {
  frost_ctx *c = frost_artifact_create();
  if (!c) return fr_err(FR_ERR_NOMEM, "out of memory (activations)");
  int rc = frost_artifact_run(c, in, out);
  frost_artifact_destroy(c);
  return rc ? fr_err(FR_ERR_INVALID, "the model refused its buffers") : FR_OK;
}

static fr_status do_run(const frost_model_info *m, int argc, char **argv, io *x) {
  const char *dir = NULL, *wav = NULL, *weights = NULL, *image = NULL;
  const char *files[MAX_IO] = {0};
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--input") || !strcmp(a, "--output-dir") ||
        !strcmp(a, "--max-memory") || !strcmp(a, "--weights") ||
        !strcmp(a, "--wav") || !strcmp(a, "--image")) {
      if (!next) return fr_err(FR_ERR_USAGE, "%s needs an argument", a);
      i++;
    }
    if (!strcmp(a, "--output-dir")) {
      dir = next;
    } else if (!strcmp(a, "--weights")) {
      FR_TRY(frt_load_weights(m, next));
      weights = next;
    } else if (!strcmp(a, "--wav")) {
      wav = next;
    } else if (!strcmp(a, "--image")) {
      image = next;
    } else if (!strcmp(a, "--max-memory")) {
      int64_t cap;
      FR_TRY(fr_parse_size(next, &cap));
      fr_mem_set_limit((size_t)cap);
    } else if (!strcmp(a, "--input")) {
      char name[1024];
      const char *file = NULL;
      FR_TRY(split_eq(next, name, sizeof name, &file));
      int k = 0;
      while (k < m->n_inputs && strcmp(m->inputs[k].name, name)) k++;
      if (k == m->n_inputs)
        return fr_err(FR_ERR_USAGE, "the model has no input '%s'", name);
      if (files[k]) return fr_err(FR_ERR_USAGE, "input '%s' given twice", name);
      files[k] = file;
    } else {
      return fr_err(FR_ERR_USAGE, "unknown argument '%s' (see %s --help)", a, prog);
    }
  }
  if (wav || image) {
    for (int k = 0; k < m->n_inputs; k++)
      if (files[k] || (wav && image))
        return fr_err(FR_ERR_USAGE, "--wav, --image and --input: one of them");
    return wav ? frt_run_wav(m, wav, weights) : frt_run_sample(m, image, weights);
  }
  for (int k = 0; k < m->n_inputs; k++) {
    if (!files[k])
      return fr_err(FR_ERR_USAGE, "input '%s' not given (--input %s=FILE.npy)",
                    m->inputs[k].name, m->inputs[k].name);
    FR_TRY(fr_npy_read(files[k], &x->in[k]));
    FR_TRY(check_input(&m->inputs[k], &x->in[k], files[k]));
    x->inp[k] = x->in[k].data;
  }
  FR_TRY(alloc_outputs(m, x));
  FR_TRY(frt_run_model(x->inp, x->outp));
  char buf[256];
  for (int i = 0; i < m->n_outputs; i++)
    printf("%s: %s\n", m->outputs[i].name, fr_shape_str(&x->out[i], buf, sizeof buf));
  if (!dir) return FR_OK;
  FR_TRY(fr_file_make_dir(dir));
  enum { PATH = 4096 };
  char *pathbuf = fr_malloc((size_t)(m->n_outputs ? m->n_outputs : 1) * PATH);
  if (!pathbuf) return fr_err_nomem(NULL);
  const char *paths[MAX_IO];
  for (int i = 0; i < m->n_outputs; i++) {
    char name[1024];
    fr_npy_file_name(m->outputs[i].name, name, sizeof name);
    snprintf(pathbuf + (size_t)i * PATH, PATH, "%s/%s.npy", dir, name);
    paths[i] = pathbuf + (size_t)i * PATH;
  }
  fr_status st = fr_npy_write_all(paths, x->out, m->n_outputs);
  fr_free(pathbuf);
  return st;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Times runs on seeded random inputs (fr_tensor_fill_random). */
static fr_status do_bench(const frost_model_info *m, int argc, char **argv, io *x) {
  long iters = 100;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
      char *end;
      iters = strtol(argv[++i], &end, 10);
      if (*end || iters < 1 || iters > 100000000)
        return fr_err(FR_ERR_USAGE, "bad --iters '%s'", argv[i]);
    } else {
      return fr_err(FR_ERR_USAGE, "unknown argument '%s' (see %s --help)",
                    argv[i], prog);
    }
  }
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (int k = 0; k < m->n_inputs; k++) {
    x->in[k] = tensor_of(&m->inputs[k]);
    FR_TRY(fr_tensor_alloc(&x->in[k]));
    fr_tensor_fill_random(&x->in[k], &seed);
    x->inp[k] = x->in[k].data;
  }
  FR_TRY(alloc_outputs(m, x));
  frost_ctx *c = frost_artifact_create();
  double *times = malloc((size_t)iters * sizeof *times);
  if (!c || !times) {
    frost_artifact_destroy(c);
    free(times);
    return fr_err_nomem(NULL);
  }
  for (int w = 0; w < 3; w++) frost_artifact_run(c, x->inp, x->outp);
  double total = 0;
  for (long it = 0; it < iters; it++) {
    double a = fr_now_ms();
    frost_artifact_run(c, x->inp, x->outp);
    times[it] = fr_now_ms() - a;
    total += times[it];
  }
  frost_artifact_destroy(c);
  qsort(times, (size_t)iters, sizeof *times, cmp_double);
  int t = frost_artifact_threads();
  printf("model: %s (CPU %s, %d thread%s)\n", m->model, m->target_cpu, t,
         t > 1 ? "s" : "");
  printf("runs: %ld, min %.3f ms, median %.3f ms, mean %.3f ms\n", iters,
         times[0], times[iters / 2], total / (double)iters);
  printf("median_ms=%.4f\n", times[iters / 2]);
  free(times);
  return FR_OK;
}

/* OUT export OUT.onnx [--weights DIR] */
static fr_status do_export(const frost_model_info *m, int argc, char **argv) {
  const char *out = NULL;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--weights")) {
      if (i + 1 >= argc) return fr_err(FR_ERR_USAGE, "--weights needs an argument");
      FR_TRY(frt_load_weights(m, argv[++i]));
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return fr_err(FR_ERR_USAGE, "unknown argument '%s' (see %s --help)", argv[i], prog);
    } else if (!out) {
      out = argv[i];
    } else {
      return fr_err(FR_ERR_USAGE, "unexpected argument '%s'", argv[i]);
    }
  }
  if (!out) return fr_err(FR_ERR_USAGE, "export OUT.onnx: no file given");
  return frt_export(m, out);
}

/* --threads N, taken out of argv by every command: the threads of the
 * model's kernels (default: $FROST_THREADS, else the processors it may run on). */
static fr_status take_threads(int *argc, char **argv) {
  int k = 2;
  for (int i = 2; i < *argc; i++) {
    if (strcmp(argv[i], "--threads")) {
      argv[k++] = argv[i];
      continue;
    }
    char *end;
    long n = i + 1 < *argc ? strtol(argv[i + 1], &end, 10) : 0;
    if (i + 1 >= *argc || *end || n < 1 || n > 256)
      return fr_err(FR_ERR_USAGE, "--threads expects a number of threads in [1, 256]%s%s%s",
                    i + 1 < *argc ? ", not '" : "", i + 1 < *argc ? argv[i + 1] : "",
                    i + 1 < *argc ? "'" : "");
    frost_artifact_set_threads((int)n);
    i++;
  }
  *argc = k;
  argv[k] = NULL;
  return FR_OK;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s <command> [options]\n"
          "commands:\n"
          "  info                          inputs, outputs, parameters, memory\n"
          "  run --input NAME=FILE.npy... [--output-dir DIR] [--max-memory BYTES]\n"
          "                                run the model once\n"
          "  bench [--iters N]             time N runs on random inputs\n"
          "  run ... --weights DIR         with the weights a training kept\n"
          "  run --wav FILE.wav [--weights DIR]\n"
          "                                classify a clip (a compiled audio front end)\n"
          "  run --image FILE [--weights DIR]\n"
          "                                classify an image (or .npy sample)\n"
          "  train DATA [--epochs N] [--lr X] [--seed N] [--val DIR | --val-split F]\n"
          "        [--patience N] [--checkpoint-dir DIR [--resume]] [--log-json FILE]\n"
          "        [--plot FILE.svg] [-o DIR]\n"
          "                                train the compiled head (frost compile\n"
          "                                --train); -o DIR keeps the weights\n"
          "  export OUT.onnx [--weights DIR]\n"
          "                                the model with its weights, as ONNX\n"
          "run, bench and train take --threads N: the threads of the kernels\n"
          "(default: $FROST_THREADS, else the processors it may run on)\n",
          prog);
}

int main(int argc, char **argv) {
  if (argc > 0 && argv[0] && *argv[0]) {
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
  }
  const frost_model_info *m = frost_artifact_info();
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
      !strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2;
  }
  if (m->abi_version != FROST_ABI_VERSION || m->n_inputs > MAX_IO ||
      m->n_outputs > MAX_IO) {
    fr_err(FR_ERR_INVALID, "this artifact's descriptor is not one this runtime reads");
    return fail();
  }
  const char *cmd = argv[1];
  static io x;
  fr_status st = take_threads(&argc, argv);
  if (st != FR_OK) return fail();
  if (!strcmp(cmd, "info")) {
    if (argc > 2) {
      fr_err(FR_ERR_USAGE, "info takes no arguments");
      return fail();
    }
    return cmd_info(m);
  } else if (!strcmp(cmd, "run")) {
    fr_mem_set_limit((size_t)4 << 30);
    st = do_run(m, argc, argv, &x);
  } else if (!strcmp(cmd, "bench")) {
    st = do_bench(m, argc, argv, &x);
  } else if (!strcmp(cmd, "train")) {
    fr_mem_set_limit((size_t)8 << 30);
    st = frt_train(m, argc, argv);
  } else if (!strcmp(cmd, "export")) {
    st = do_export(m, argc, argv);
  } else {
    st = fr_err(FR_ERR_USAGE, "unknown command '%s' (see %s --help)", cmd, prog);
  }
  free_io(m, &x);
  return st == FR_OK ? 0 : fail();
}
