/* main.c: the frost command.
 *
 *   frost dump [--dot] [--shape NAME=DIMS]... MODEL
 *   frost run MODEL --input NAME=FILE... [--output-dir DIR] [--engine E]
 *   frost bench MODEL [--shape NAME=DIMS]... [--iters N] [--threads T]
 *   (every command also takes --max-memory BYTES, default 4G)
 *   frost compile MODEL [-o OUT] [--emit exe|shared|obj|llvm|asm] [--name C]
 *                 [--target-cpu CPU] [--shape NAME=DIMS]...
 *   frost conformance [DIR] [--engine E] [-v] [--filter S]
 *                     [--expect FILE] [--only FILE] [--write-passing FILE]
 *                     [--expect-native FILE] [--write-native FILE]
 *
 * Every failure prints one line "frost: error: ..." and exits 1. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"

#define USAGE                                                                 \
  "usage: frost <command> [options]\n"                                        \
  "commands:\n"                                                               \
  "  dump MODEL [--dot] [--shape NAME=DIMS]... [--stage imported|optimized]\n" \
  "      [--print-after PASS|all] [--print-before PASS|all] [--time-passes]\n" \
  "                                              print the IR\n"              \
  "  run MODEL --input NAME=FILE.npy|.pb... [--output-dir DIR]\n"             \
  "      [--engine jit|interp] [--shape NAME=DIMS]...  run a model\n"       \
  "  bench MODEL [--shape NAME=DIMS]... [--iters N] [--threads T] [--engine E]\n" \
  "                                  compile once, time N runs on random inputs\n" \
  "  conformance [DIR] [--engine jit|interp] [-v] [--filter S] [--expect FILE]\n" \
  "      [--only FILE] [--write-passing FILE] [--timeout S]\n"               \
  "      [--expect-native FILE] [--write-native FILE]  (jit: compiled tests)\n" \
  "                                              ONNX backend tests\n"       \
  "  compile MODEL [-o OUT] [--emit exe|shared|obj|llvm|asm] [--name C]\n"    \
  "      [--target-cpu CPU] [--shape NAME=DIMS]...   a native artifact\n"     \
  "  compare GOT.npy WANT.npy [--rtol R] [--atol A]   compare two tensors\n"  \
  "freeze options (every command taking a model):\n"                         \
  "  --train-from NAME[,NAME]  unfreeze everything downstream of a value or node\n" \
  "  --trainable REGEX         parameters matching REGEX become trainable\n"    \
  "  --frozen REGEX            parameters matching REGEX become frozen\n" \
  "options of every command:\n"                                                \
  "  --max-memory BYTES   memory cap, e.g. 512M or 16G (default 4G, 0: none)\n"

enum { MAX_ARGS = 256 };

typedef struct cli {
  const char *model;
  const char *output_dir;
  const char *engine;
  bool dot;
  fr_shape_override shapes[MAX_ARGS];
  int n_shapes;
  const char *in_names[MAX_ARGS], *in_files[MAX_ARGS];
  int n_inputs;
  fr_conf_opts conf;
  double rtol, atol;
  const char *second; /* compare: the expected file */
  int64_t max_memory; /* --max-memory: cap on model tensors and on the heap */
  fr_freeze_opts freeze;
  fr_pipeline_opts pipe;
  const char *stage; /* dump: imported | optimized */
  const char *cpu;   /* --target-cpu */
  int iters, threads;
  bool specialize; /* --specialize: inline and specialize kernel bitcode */
  const char *out;  /* compile: -o */
  const char *emit; /* compile: --emit */
  const char *name; /* compile: --name (C API prefix) */
  bool static_shapes; /* compile: symbolic input dims are errors */
} cli;

static int fail(void) {
  fprintf(stderr, "frost: error: %s\n", fr_err_msg());
  return 1;
}

/* Splits "NAME=VALUE" (the last '=' separates, names may hold '='). */
static fr_status split_eq(const char *arg, const char *opt, char **name,
                          const char **value) {
  const char *eq = strrchr(arg, '=');
  if (!eq || eq == arg)
    return fr_err(FR_ERR_USAGE, "%s expects NAME=VALUE, got '%s'", opt, arg);
  *name = strndup(arg, (size_t)(eq - arg));
  *value = eq + 1;
  return *name ? FR_OK : fr_err_nomem(NULL);
}

static fr_status parse_args(int argc, char **argv, cli *c, bool want_model) {
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG                                                              \
  do {                                                                        \
    if (!next) return fr_err(FR_ERR_USAGE, "%s needs an argument", a);        \
    i++;                                                                      \
  } while (0)
    if (!strcmp(a, "--dot")) {
      c->dot = true;
    } else if (!strcmp(a, "--shape")) {
      NEED_ARG;
      if (c->n_shapes == MAX_ARGS) return fr_err(FR_ERR_USAGE, "too many --shape");
      fr_shape_override *s = &c->shapes[c->n_shapes++];
      char *name;
      const char *dims;
      FR_TRY(split_eq(next, a, &name, &dims));
      *s = (fr_shape_override){.name = name};
      FR_TRY(fr_parse_dims(dims, &s->rank, s->dims));
    } else if (!strcmp(a, "--input")) {
      NEED_ARG;
      if (c->n_inputs == MAX_ARGS) return fr_err(FR_ERR_USAGE, "too many --input");
      char *name;
      FR_TRY(split_eq(next, a, &name, &c->in_files[c->n_inputs]));
      c->in_names[c->n_inputs++] = name;
    } else if (!strcmp(a, "--max-memory")) {
      NEED_ARG;
      FR_TRY(fr_parse_size(next, &c->max_memory));
    } else if (!strcmp(a, "--output-dir")) {
      NEED_ARG;
      c->output_dir = next;
    } else if (!strcmp(a, "--engine")) {
      NEED_ARG;
      c->engine = next;
      c->conf.engine = next;
    } else if (!strcmp(a, "--expect")) {
      NEED_ARG;
      c->conf.expect = next;
    } else if (!strcmp(a, "--write-passing")) {
      NEED_ARG;
      c->conf.write_passing = next;
    } else if (!strcmp(a, "--expect-native")) {
      NEED_ARG;
      c->conf.expect_native = next;
    } else if (!strcmp(a, "--write-native")) {
      NEED_ARG;
      c->conf.write_native = next;
    } else if (!strcmp(a, "--filter")) {
      NEED_ARG;
      c->conf.filter = next;
    } else if (!strcmp(a, "--only")) {
      NEED_ARG;
      c->conf.only = next;
    } else if (!strcmp(a, "--timeout")) {
      NEED_ARG;
      c->conf.timeout_s = atoi(next);
    } else if (!strcmp(a, "--train-from")) {
      NEED_ARG;
      char *list = fr_strdup(next), *save = NULL;
      if (!list) return fr_err_nomem(NULL);
      for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (c->freeze.n_train_from == FR_MAX_FREEZE)
          return fr_err(FR_ERR_USAGE, "too many --train-from names");
        c->freeze.train_from[c->freeze.n_train_from++] = t;
      }
    } else if (!strcmp(a, "--trainable") || !strcmp(a, "--frozen")) {
      NEED_ARG;
      if (c->freeze.n_rules == FR_MAX_FREEZE)
        return fr_err(FR_ERR_USAGE, "too many --trainable/--frozen rules");
      c->freeze.rules[c->freeze.n_rules++] =
          (fr_freeze_rule){!strcmp(a, "--trainable"), next};
    } else if (!strcmp(a, "--stage")) {
      NEED_ARG;
      if (strcmp(next, "imported") && strcmp(next, "optimized"))
        return fr_err(FR_ERR_USAGE, "--stage is imported or optimized, not '%s'", next);
      c->stage = next;
    } else if (!strcmp(a, "--print-after") || !strcmp(a, "--print-before")) {
      NEED_ARG;
      *(a[8] == 'a' ? &c->pipe.print_after : &c->pipe.print_before) = next;
    } else if (!strcmp(a, "--target-cpu")) {
      NEED_ARG;
      c->cpu = next;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      NEED_ARG;
      c->out = next;
    } else if (!strcmp(a, "--emit")) {
      NEED_ARG;
      c->emit = next;
    } else if (!strcmp(a, "--name")) {
      NEED_ARG;
      c->name = next;
    } else if (!strcmp(a, "--iters") || !strcmp(a, "--threads")) {
      NEED_ARG;
      char *end;
      long v = strtol(next, &end, 10);
      if (*end || v < 1 || v > 100000000)
        return fr_err(FR_ERR_USAGE, "bad %s '%s'", a, next);
      *(a[2] == 'i' ? &c->iters : &c->threads) = (int)v;
    } else if (!strcmp(a, "--specialize")) {
      c->specialize = true;
      c->conf.specialize = true;
    } else if (!strcmp(a, "--time-passes")) {
      c->pipe.time_passes = true;
    } else if (!strcmp(a, "--rtol") || !strcmp(a, "--atol")) {
      NEED_ARG;
      char *end;
      double v = strtod(next, &end);
      if (*end || v < 0) return fr_err(FR_ERR_USAGE, "bad %s '%s'", a, next);
      *(a[2] == 'r' ? &c->rtol : &c->atol) = v;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      c->conf.verbose = true;
    } else if (a[0] == '-' && a[1]) {
      return fr_err(FR_ERR_USAGE, "unknown option '%s'", a);
    } else if (!c->model) {
      c->model = a;
    } else if (!c->second && !strcmp(argv[1], "compare")) {
      c->second = a;
    } else {
      return fr_err(FR_ERR_USAGE, "unexpected argument '%s'", a);
    }
#undef NEED_ARG
  }
  if (want_model && !c->model) return fr_err(FR_ERR_USAGE, "no model given");
  if (c->engine && strcmp(c->engine, "interp") && strcmp(c->engine, "jit") &&
      strcmp(c->engine, "opt"))
    return fr_err(FR_ERR_USAGE, "unknown engine '%s' (available: jit, interp, opt)",
                  c->engine);
  if (!c->engine) c->engine = "jit";
  if (!c->conf.engine) c->conf.engine = c->engine;
  return FR_OK;
}

/* Loads the model, applies the freeze boundary and infers shapes (the
 * imported stage); with optimize, runs the pass pipeline too. */
static fr_status load_stage(cli *c, fr_model **m, bool quiet, bool optimize,
                            bool partial) {
  fr_onnx_opts o = {.shapes = c->shapes, .n_shapes = c->n_shapes,
                    .quiet = quiet, .max_bytes = c->max_memory,
                    .static_shapes = c->static_shapes};
  FR_TRY(fr_pipeline_check(&c->pipe));
  FR_TRY(fr_onnx_load(c->model, &o, m));
  fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
  fr_status st = fr_freeze_apply(*m, &c->freeze);
  if (st == FR_OK) st = fr_graph_infer((*m)->graph, &io);
  if (st == FR_OK) st = fr_graph_verify((*m)->graph);
  if (st == FR_OK && optimize) {
    c->pipe.partial = partial;
    st = fr_pipeline_run(*m, &c->pipe);
  }
  if (st == FR_OK && (*m)->notes) fputs((*m)->notes, stderr);
  if (st != FR_OK) {
    fr_err_prefix(c->model);
    fr_model_free(*m);
    *m = NULL;
  }
  return st;
}

static fr_status load(cli *c, fr_model **m, bool quiet) {
  return load_stage(c, m, quiet, false, true);
}

static int cmd_dump(cli *c) {
  fr_model *m;
  bool opt = c->stage && !strcmp(c->stage, "optimized");
  if (load_stage(c, &m, false, opt || c->pipe.print_after || c->pipe.print_before ||
                               c->pipe.time_passes,
                 true) != FR_OK)
    return fail();
  if (c->dot) {
    fr_print_dot(stdout, m->graph);
  } else {
    fr_print_graph(stdout, m->graph);
    fr_print_summary(stdout, m);
  }
  fr_model_free(m);
  return 0;
}

static fr_status read_input(const char *path, fr_tensor *t) {
  size_t n = strlen(path);
  if (n > 3 && !strcmp(path + n - 3, ".pb")) return fr_onnx_read_pb(path, t, NULL);
  return fr_npy_read(path, t);
}

static int cmd_run(cli *c) {
  fr_tensor in[MAX_ARGS] = {0};
  fr_tensor *inp[MAX_ARGS];
  fr_tensor *out = NULL;
  fr_model *m = NULL;
  fr_status st = FR_OK;
  int n_out = 0;
  /* Symbolic dims are fixed by the shapes of the inputs given. */
  for (int i = 0; i < c->n_inputs && st == FR_OK; i++) {
    st = read_input(c->in_files[i], &in[i]);
    if (st != FR_OK) break;
    bool given = false;
    for (int k = 0; k < c->n_shapes; k++)
      if (!strcmp(c->shapes[k].name, c->in_names[i])) given = true;
    if (!given && c->n_shapes < MAX_ARGS) {
      fr_shape_override *s = &c->shapes[c->n_shapes++];
      *s = (fr_shape_override){.name = c->in_names[i],
                               .origin = c->in_files[i],
                               .rank = in[i].rank};
      memcpy(s->dims, in[i].dims, sizeof s->dims);
    }
  }
  if (st == FR_OK) st = load(c, &m, true);
  if (st == FR_OK) {
    const fr_graph *g = m->graph;
    for (int i = 0; i < c->n_inputs && st == FR_OK; i++) {
      int k;
      for (k = 0; k < g->n_inputs; k++)
        if (!strcmp(g->inputs[k]->name, c->in_names[i])) break;
      if (k == g->n_inputs)
        st = fr_err(FR_ERR_USAGE, "%s: the model has no input '%s'", c->model,
                    c->in_names[i]);
    }
    for (int k = 0; k < g->n_inputs && st == FR_OK; k++) {
      inp[k] = NULL;
      for (int i = 0; i < c->n_inputs; i++)
        if (!strcmp(g->inputs[k]->name, c->in_names[i])) inp[k] = &in[i];
      if (!inp[k])
        st = fr_err(FR_ERR_USAGE, "%s: input '%s' not given (--input %s=FILE)",
                    c->model, g->inputs[k]->name, g->inputs[k]->name);
    }
    n_out = g->n_outputs;
    if (st == FR_OK) {
      out = fr_calloc((size_t)n_out, sizeof *out);
      if (!out) st = fr_err_nomem(NULL);
    }
    fr_engine e = {.name = c->engine, .cpu = c->cpu, .pipe = &c->pipe,
                  .specialize = c->specialize};
    if (st == FR_OK) {
      st = fr_engine_prepare(&e, m);
      if (st == FR_OK) st = fr_engine_run(&e, m, inp, out);
      /* After the run: an error must stay the only line on stderr. */
      if (st == FR_OK && e.interpreted)
        fprintf(stderr, "frost: note: ran with the interpreter: %s\n",
                e.why);
      if (st != FR_OK) fr_err_prefix(c->model);
    }
    fr_engine_free(&e);
  }
  if (st == FR_OK && c->output_dir) st = fr_file_make_dir(c->output_dir);
  /* Outputs are written all or nothing (no partial set of files). */
  char (*files)[4096] = NULL;
  const char **paths = NULL;
  if (st == FR_OK && c->output_dir) {
    files = fr_calloc((size_t)n_out + 1, sizeof *files);
    paths = fr_calloc((size_t)n_out + 1, sizeof *paths);
    if (!files || !paths) st = fr_err_nomem(NULL);
  }
  for (int i = 0; i < n_out && st == FR_OK; i++) {
    const fr_value *v = m->graph->outputs[i];
    char buf[256], name[1024];
    printf("%s: %s\n", v->name, fr_shape_str(&out[i], buf, sizeof buf));
    if (!c->output_dir) continue;
    fr_npy_file_name(v->name, name, sizeof name);
    snprintf(files[i], sizeof files[i], "%s/%s.npy", c->output_dir, name);
    paths[i] = files[i];
  }
  if (st == FR_OK && c->output_dir) st = fr_npy_write_all(paths, out, n_out);
  fr_free(files);
  fr_free(paths);
  for (int i = 0; out && i < n_out; i++) fr_tensor_release(&out[i]);
  fr_free(out);
  for (int i = 0; i < c->n_inputs; i++) fr_onnx_tensor_free(&in[i]);
  fr_model_free(m);
  return st == FR_OK ? 0 : fail();
}

static int cmd_compare(cli *c) {
  if (!c->second) {
    fr_err(FR_ERR_USAGE, "compare needs two files");
    return fail();
  }
  fr_tensor a = {0}, b = {0};
  fr_status st = read_input(c->model, &a);
  if (st == FR_OK) st = read_input(c->second, &b);
  if (st == FR_OK) {
    st = fr_compare(&a, &b, c->rtol, c->atol);
    if (st != FR_OK) fr_err_prefix(c->model);
  }
  if (st == FR_OK) {
    double maxdiff = 0;
    int64_t n = fr_tensor_numel(&a);
    for (int64_t i = 0; fr_dtype_is_float(a.dtype) && i < n; i++) {
      double d = fr_tensor_get_f64(&a, i) - fr_tensor_get_f64(&b, i);
      if (d < 0) d = -d;
      if (d > maxdiff) maxdiff = d;
    }
    printf("%s: match (%lld elements, max abs diff %.3g)\n", c->model,
           (long long)n, maxdiff);
  }
  fr_onnx_tensor_free(&a);
  fr_onnx_tensor_free(&b);
  return st == FR_OK ? 0 : fail();
}

/* A seeded random tensor of v's type: floats uniform in [-1, 1], integers
 * in [0, 4), booleans. */
static fr_status random_input(const fr_value *v, uint64_t *seed, fr_tensor *t) {
  *t = v->t;
  t->data = NULL;
  if (t->kind != FR_KIND_TENSOR || t->rank < 0 || t->dtype == FR_STRING)
    return fr_err(FR_ERR_UNSUPPORTED, "input '%s': cannot make a random %s",
                  v->name, fr_dtype_name(t->dtype));
  FR_TRY(fr_tensor_alloc(t));
  fr_tensor_fill_random(t, seed);
  return FR_OK;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int cmd_bench(cli *c) {
  if (c->threads > 1) {
    fr_err(FR_ERR_UNSUPPORTED, "--threads %d: frost runs on one thread for now",
           c->threads);
    return fail();
  }
  int iters = c->iters ? c->iters : 100;
  fr_model *m;
  double t0 = now_ms();
  if (load(c, &m, false) != FR_OK) return fail();
  const fr_graph *g = m->graph;
  fr_tensor in[MAX_ARGS] = {0}, *inp[MAX_ARGS];
  fr_tensor *out = fr_calloc((size_t)g->n_outputs + 1, sizeof *out);
  fr_status st = out ? FR_OK : fr_err_nomem(NULL);
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  if (g->n_inputs > MAX_ARGS) st = fr_err(FR_ERR_UNSUPPORTED, "too many inputs");
  for (int i = 0; i < g->n_inputs && st == FR_OK; i++) {
    st = random_input(g->inputs[i], &seed, &in[i]);
    inp[i] = &in[i];
  }
  fr_engine e = {.name = c->engine, .cpu = c->cpu, .pipe = &c->pipe,
                  .specialize = c->specialize};
  if (st == FR_OK) st = fr_engine_prepare(&e, m);
  double t1 = now_ms();
  double *times = fr_calloc((size_t)iters, sizeof(double));
  if (st == FR_OK && !times) st = fr_err_nomem(NULL);
  if (st == FR_OK) {
    printf("model: %s\n", c->model);
    printf("engine: %s%s%s\n", e.interpreted ? "interp (the JIT declined: " : c->engine,
           e.interpreted ? e.why : "", e.interpreted ? ")" : "");
    if (e.compiled)
      printf("compile: %.1f ms (load and passes %.1f, codegen %.1f, LLVM O3 %.1f, "
             "JIT %.1f); nodes: %d kernel calls, %d interpreter calls, %d views; "
             "activations %zu bytes\n",
             t1 - t0, t1 - t0 - e.stats.ms_codegen - e.stats.ms_optimize - e.stats.ms_jit,
             e.stats.ms_codegen, e.stats.ms_optimize, e.stats.ms_jit, e.stats.n_native,
             e.stats.n_fallback, e.stats.n_skipped, e.stats.arena_bytes);
    else
      printf("compile: %.1f ms (load)\n", t1 - t0);
  }
  /* Warm-up, then the timed runs. */
  for (int w = 0; w < 3 && st == FR_OK; w++) {
    st = fr_engine_run(&e, m, inp, out);
    for (int i = 0; i < g->n_outputs; i++) fr_tensor_release(&out[i]);
  }
  for (int it = 0; it < iters && st == FR_OK; it++) {
    double a = now_ms();
    st = fr_engine_run(&e, m, inp, out);
    times[it] = now_ms() - a;
    for (int i = 0; i < g->n_outputs; i++) fr_tensor_release(&out[i]);
  }
  if (st == FR_OK) {
    qsort(times, (size_t)iters, sizeof(double), cmp_double);
    printf("runs: %d, min %.3f ms, median %.3f ms\n", iters, times[0],
           times[iters / 2]);
    printf("median_ms=%.4f\n", times[iters / 2]);
  } else {
    fr_err_prefix(c->model);
  }
  fr_free(times);
  fr_engine_free(&e);
  for (int i = 0; i < g->n_inputs; i++) fr_tensor_release(&in[i]);
  fr_free(out);
  fr_model_free(m);
  return st == FR_OK ? 0 : fail();
}

/* frost compile: the pipeline, then an artifact (compiler/aot.c). */
static int cmd_compile(cli *c) {
  fr_aot_opts o = {.cpu = c->cpu, .prefix = c->name, .model_name = c->model};
  if (c->emit && fr_aot_parse_emit(c->emit, &o.emit) != FR_OK) return fail();
  /* Default: the model's file name without .onnx, in the current folder. */
  char dflt[1024];
  if (!c->out) {
    const char *base = strrchr(c->model, '/');
    base = base ? base + 1 : c->model;
    snprintf(dflt, sizeof dflt, "%s", base);
    size_t n = strlen(dflt);
    if (n > 5 && !strcmp(dflt + n - 5, ".onnx")) dflt[n - 5] = 0;
  }
  o.out = c->out ? c->out : dflt;
  fr_model *m;
  double t0 = now_ms();
  c->static_shapes = true;
  if (load(c, &m, false) != FR_OK) return fail();
  fr_freeze_count(m, &o.params);
  const fr_graph *g = m->graph;
  fr_status st = FR_OK;
  for (int i = 0; i < g->n_inputs && st == FR_OK; i++) {
    const fr_tensor *t = &g->inputs[i]->t;
    if (t->kind == FR_KIND_TENSOR && t->rank < 0)
      st = fr_err(FR_ERR_USAGE,
                  "input '%s' has no static shape: give it with --shape %s=DIMS",
                  g->inputs[i]->name, g->inputs[i]->name);
  }
  c->pipe.partial = true;
  if (st == FR_OK) st = fr_pipeline_run(m, &c->pipe);
  fr_aot_result r = {0};
  if (st == FR_OK) st = fr_aot_compile(m, &o, &r);
  if (st != FR_OK) {
    fr_err_prefix(c->model);
    fr_model_free(m);
    return fail();
  }
  static const char *const kinds[] = {"executable", "shared library", "object",
                                      "LLVM IR", "assembly"};
  printf("%s: %s, %zu bytes\n", r.files[0], kinds[o.emit], r.sizes[0]);
  if (r.n_files > 1)
    printf("%s: C header (prefix %s), %zu bytes\n", r.files[1], r.prefix, r.sizes[1]);
  printf("compiled in %.0f ms: %d kernel calls, activations %zu bytes, "
         "%lld frozen and %lld trainable parameters\n",
         now_ms() - t0, r.stats.n_native, r.stats.arena_bytes,
         (long long)o.params.frozen, (long long)o.params.trainable);
  fr_model_free(m);
  return 0;
}

static int cmd_conformance(cli *c) {
  c->conf.dir = c->model ? c->model : "/usr/share/libonnx-testdata/data/node";
  if (fr_conformance(&c->conf) != FR_OK) return fail();
  return 0;
}

int main(int argc, char **argv) {
  static cli c;
  c.conf.timeout_s = 20;
  c.max_memory = (int64_t)4 << 30;
  c.rtol = 1e-3;
  c.atol = 1e-5;
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
      !strcmp(argv[1], "help")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2;
  }
  const char *cmd = argv[1];
  static const char *const cmds[] = {"dump", "run", "bench", "conformance",
                                     "compare", "compile"};
  bool known = false;
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (!strcmp(cmd, cmds[i])) known = true;
  if (!known) {
    fr_err(FR_ERR_USAGE, "unknown command '%s' (see frost --help)", cmd);
    return fail();
  }
  bool want_model = strcmp(cmd, "conformance") != 0;
  if (parse_args(argc, argv, &c, want_model) != FR_OK) return fail();
  fr_mem_set_limit((size_t)c.max_memory);
  int rc;
  if (!strcmp(cmd, "dump")) rc = cmd_dump(&c);
  else if (!strcmp(cmd, "run")) rc = cmd_run(&c);
  else if (!strcmp(cmd, "conformance")) rc = cmd_conformance(&c);
  else if (!strcmp(cmd, "compare")) rc = cmd_compare(&c);
  else if (!strcmp(cmd, "bench")) rc = cmd_bench(&c);
  else if (!strcmp(cmd, "compile")) rc = cmd_compile(&c);
  else {
    fr_err(FR_ERR_USAGE, "unknown command '%s' (see frost --help)", cmd);
    rc = fail();
  }
  return rc;
}
