/* cli.c: what the frost commands share: the options (one parser for all
 * of them), loading a model through the imported or the optimized stage,
 * input files (.npy or .pb), timing, the progress line and the one-line
 * error. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* ---- the progress line ------------------------------------------------
 * One at a time, on stderr, only when stderr is a terminal; the style of
 * training's bar (runtime/trainlog.c). */
static struct {
  int tty;            /* 0: not checked yet, 1: a terminal, -1: not */
  const char *what;   /* the work shown, or NULL (none) */
  bool shown;         /* the line is on the terminal now */
  double start, last; /* when the work began, when the line was drawn (ms) */
  char detail[96];    /* the detail last drawn */
} progress;

void fr_progress(const char *what, int64_t done, int64_t total,
                 const char *detail) {
  if (!progress.tty) progress.tty = isatty(STDERR_FILENO) || fr_dist_tty() ? 1 : -1;
  if (progress.tty < 0) return;
  double t = fr_now_ms();
  if (!progress.what || strcmp(progress.what, what)) {
    progress.what = what;
    progress.start = t;
    progress.last = -1e9;
    progress.detail[0] = 0;
  }
  if (!detail) detail = "";
  /* At most 10 times a second, but a new stage shows at once. */
  if (t - progress.last < 100 && !strcmp(detail, progress.detail)) return;
  snprintf(progress.detail, sizeof progress.detail, "%s", detail);
  fprintf(stderr, "\r%s", what);
  if (total > 0) {
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    int fill = (int)(WIDTH * (done < total ? done : total) / total);
    for (int i = 0; i < WIDTH; i++)
      bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[WIDTH] = 0;
    fprintf(stderr, " %lld/%lld [%s]", (long long)done, (long long)total, bar);
  }
  if (*detail) fprintf(stderr, "  %s", detail);
  fprintf(stderr, "  %.1f s\033[K", (t - progress.start) / 1e3);
  fflush(stderr);
  progress.shown = true;
  progress.last = t;
}

void fr_progress_clear(void) {
  if (!progress.shown) return;
  fputs("\r\033[K", stderr);
  fflush(stderr);
  progress.shown = false;
  progress.last = -1e9; /* redrawn at the next call */
}

void fr_progress_done(void) {
  fr_progress_clear();
  progress.what = NULL;
}

int fr_cli_fail(void) {
  fr_progress_done();
  /* several ranks: rank 0 prints the agreed error at the end (dist.c) */
  if (!fr_dist_quiet()) fprintf(stderr, "frost: error: %s\n", fr_err_msg());
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

/* A number of option opt in [lo, hi]. */
static fr_status num(const char *opt, const char *s, double lo, double hi,
                     double *v) {
  char *end;
  double x = strtod(s, &end);
  if (end == s || *end || !(x >= lo && x <= hi))
    return fr_err(FR_ERR_USAGE, "%s '%s': expected a number in [%g, %g]", opt,
                  s, lo, hi);
  *v = x;
  return FR_OK;
}

/* "a,b,c": up to 4 floats. */
static fr_status floats(const char *opt, const char *s, float *v, int *n) {
  *n = 0;
  const char *p = s;
  while (*p) {
    char *end;
    double x = strtod(p, &end);
    if (end == p || (*end && *end != ',') || *n == 4)
      return fr_err(FR_ERR_USAGE, "%s '%s': expected up to 4 numbers, "
                    "comma-separated", opt, s);
    v[(*n)++] = (float)x;
    p = *end ? end + 1 : end;
  }
  if (!*n) return fr_err(FR_ERR_USAGE, "%s: no numbers", opt);
  return FR_OK;
}

/* The options of frost train; false when a is none of them. */
static fr_status train_option(const char *a, const char *next, fr_cli *c,
                              bool *used, bool *took) {
  fr_train_opts *t = &c->train;
  *used = *took = true;
  double v;
#define ARG                                                                     if (!next) return fr_err(FR_ERR_USAGE, "%s needs an argument", a)
  if (!strcmp(a, "--head")) {
    ARG;
    if (t->n_heads == FR_MAX_TASKS)
      return fr_err(FR_ERR_USAGE, "--head: at most %d heads", FR_MAX_TASKS);
    if (!t->head) t->head = next;
    t->heads[t->n_heads++] = next;
  } else if (!strcmp(a, "--task-weight")) {
    ARG;
    const char *colon = strrchr(next, ':');
    char *end = NULL;
    double w = colon ? strtod(colon + 1, &end) : -1;
    if (!colon || colon == next || end == colon + 1 || *end || !(w >= 0 && w <= 1e6))
      return fr_err(FR_ERR_USAGE, "--task-weight '%s': expected NAME:W, W a "
                    "number in [0, 1e6]", next);
    if (t->n_task_weights == FR_MAX_TASKS)
      return fr_err(FR_ERR_USAGE, "--task-weight: at most %d", FR_MAX_TASKS);
    char *name = strndup(next, (size_t)(colon - next));
    if (!name) return fr_err_nomem(NULL);
    t->task_weight_names[t->n_task_weights] = name;
    t->task_weights[t->n_task_weights++] = w;
  } else if (!strcmp(a, "--task")) { ARG; t->task = next; }
  else if (!strcmp(a, "--cut")) { ARG; t->cut = next; }
  else if (!strcmp(a, "--loss")) {
    ARG;
    if (!strcmp(next, "ce")) t->loss_kind = FR_LOSS_CE;
    else if (!strcmp(next, "bce")) t->loss_kind = FR_LOSS_BCE;
    else if (!strcmp(next, "mse")) t->loss_kind = FR_LOSS_MSE;
    else return fr_err(FR_ERR_USAGE, "--loss is ce, bce or mse, not '%s'", next);
  } else if (!strcmp(a, "--probabilities")) { t->probabilities = true; *took = false; }
  else if (!strcmp(a, "--nesterov")) { t->nesterov = true; *took = false; }
  else if (!strcmp(a, "--no-shuffle")) { t->no_shuffle = true; *took = false; }
  else if (!strcmp(a, "--no-cache")) { t->no_cache = true; *took = false; }
  else if (!strcmp(a, "--bn-train")) { c->freeze.bn_train = true; *took = false; }
  else if (!strcmp(a, "--optimizer")) {
    ARG;
    if (strcmp(next, "sgd") && strcmp(next, "adam") && strcmp(next, "adamw"))
      return fr_err(FR_ERR_USAGE, "--optimizer is sgd, adam or adamw, not '%s'", next);
    t->optimizer = next;
  } else if (!strcmp(a, "--schedule")) {
    ARG;
    if (strcmp(next, "constant") && strcmp(next, "step") && strcmp(next, "cosine"))
      return fr_err(FR_ERR_USAGE, "--schedule is constant, step or cosine, not '%s'", next);
    t->schedule = next;
  } else if (!strcmp(a, "--lr")) { ARG; FR_TRY(num(a, next, 0, 1e3, &t->lr)); }
  else if (!strcmp(a, "--lr-backbone")) { ARG; FR_TRY(num(a, next, 0, 1e3, &t->lr_backbone)); }
  else if (!strcmp(a, "--momentum")) { ARG; FR_TRY(num(a, next, 0, 1, &t->momentum)); }
  else if (!strcmp(a, "--weight-decay")) { ARG; FR_TRY(num(a, next, 0, 10, &t->weight_decay)); }
  else if (!strcmp(a, "--beta1")) { ARG; FR_TRY(num(a, next, 0, 0.999999, &t->beta1)); }
  else if (!strcmp(a, "--beta2")) { ARG; FR_TRY(num(a, next, 0, 0.999999999, &t->beta2)); }
  else if (!strcmp(a, "--eps")) { ARG; FR_TRY(num(a, next, 0, 1, &t->eps)); }
  else if (!strcmp(a, "--clip-norm")) { ARG; FR_TRY(num(a, next, 0, 1e9, &t->clip_norm)); }
  else if (!strcmp(a, "--label-smoothing")) { ARG; FR_TRY(num(a, next, 0, 0.999, &t->label_smoothing)); }
  else if (!strcmp(a, "--gamma")) { ARG; FR_TRY(num(a, next, 0, 1, &t->gamma)); }
  else if (!strcmp(a, "--val-split")) { ARG; FR_TRY(num(a, next, 0, 0.99, &t->val_split)); }
  else if (!strcmp(a, "--warmup")) { ARG; FR_TRY(num(a, next, 0, 1e9, &v)); t->warmup = (int64_t)v; }
  else if (!strcmp(a, "--step-epochs")) { ARG; FR_TRY(num(a, next, 1, 1e6, &v)); t->step_epochs = (int)v; }
  else if (!strcmp(a, "--batch")) { ARG; FR_TRY(num(a, next, 1, 4096, &v)); t->batch = (int64_t)v; }
  else if (!strcmp(a, "--max-steps")) { ARG; FR_TRY(num(a, next, 1, 1e12, &v)); t->max_steps = (int64_t)v; }
  else if (!strcmp(a, "--epochs")) { ARG; FR_TRY(num(a, next, 1, 1e6, &v)); t->epochs = (int)v; }
  else if (!strcmp(a, "--patience")) { ARG; FR_TRY(num(a, next, 1, 1e6, &v)); t->patience = (int)v; }
  else if (!strcmp(a, "--seed")) { ARG; FR_TRY(num(a, next, 0, 9007199254740992.0, &v)); t->seed = (uint64_t)v; }
  else if (!strcmp(a, "--val")) { ARG; t->val_dir = next; }
  else if (!strcmp(a, "--save-params")) { ARG; t->save_params = next; }
  else if (!strcmp(a, "--checkpoint-dir")) { ARG; t->checkpoint_dir = next; }
  else if (!strcmp(a, "--resume")) { t->resume = true; *took = false; }
  else if (!strcmp(a, "--log-json")) { ARG; t->log_json = next; }
  else if (!strcmp(a, "--plot")) { ARG; t->plot = next; }
  else if (!strcmp(a, "--json")) { ARG; t->eval_json = next; }
  else if (!strcmp(a, "--frontend")) { ARG; t->frontend = next; }
  else if (!strcmp(a, "--class-weights")) {
    ARG;
    const char *q = next;
    t->n_class_weights = 0;
    while (*q) {
      char *end;
      double x = strtod(q, &end);
      if (end == q || (*end && *end != ',') || !(x >= 0) || t->n_class_weights == 256)
        return fr_err(FR_ERR_USAGE, "--class-weights '%s': expected up to 256 "
                      "numbers >= 0, comma-separated", next);
      t->class_weights[t->n_class_weights++] = (float)x;
      q = *end ? end + 1 : end;
    }
  }
  else if (!strcmp(a, "--frontend-scale")) {
    ARG;
    int k;
    FR_TRY(floats(a, next, t->frontend_scale, &k));
    if (k != 2) return fr_err(FR_ERR_USAGE, "--frontend-scale '%s': expected A,B", next);
  } else if (!strcmp(a, "--window")) { ARG; FR_TRY(num(a, next, 1, 1e6, &v)); t->window = (int64_t)v; }
  else if (!strcmp(a, "--hop")) { ARG; FR_TRY(num(a, next, 1, 1e6, &v)); t->hop = (int64_t)v; }
  else if (!strcmp(a, "--support")) { ARG; t->support = next; }
  else if (!strcmp(a, "--label-map")) { ARG; t->label_map = next; }
  else if (!strcmp(a, "--adapt")) { ARG; t->adapt = next; }
  else if (!strcmp(a, "--features")) { ARG; t->features = next; }
  else if (!strcmp(a, "--finetune")) { t->finetune = true; *took = false; }
  else if (!strcmp(a, "--ssl")) { t->ssl = true; *took = false; }
  else if (!strcmp(a, "--temperature")) { ARG; FR_TRY(num(a, next, 1e-3, 100, &t->temperature)); }
  else if (!strcmp(a, "--noise")) { ARG; FR_TRY(num(a, next, 0, 1e5, &v)); t->augment.noise = (float)v; }
  else if (!strcmp(a, "--query")) { ARG; t->query = next; }
  else if (!strcmp(a, "--metric")) { ARG; t->metric = next; }
  else if (!strcmp(a, "--episodes")) { ARG; FR_TRY(num(a, next, 1, 1e6, &v)); t->episodes = (int)v; }
  else if (!strcmp(a, "--shots")) { ARG; FR_TRY(num(a, next, 1, 1e6, &v)); t->shots = (int)v; }
  else if (!strcmp(a, "--queries")) { ARG; FR_TRY(num(a, next, 1, 1e6, &v)); t->queries = (int)v; }
  else if (!strcmp(a, "--ways")) { ARG; FR_TRY(num(a, next, 2, 1e6, &v)); t->ways = (int)v; }
  else if (!strcmp(a, "--k")) { ARG; FR_TRY(num(a, next, 1, 1e6, &v)); t->k = (int)v; }
  else if (!strcmp(a, "--clip-samples")) { ARG; FR_TRY(num(a, next, 1, 1e9, &v)); t->clip_samples = (int64_t)v; }
  else if (!strcmp(a, "--pool")) {
    ARG;
    if (!strcmp(next, "none")) t->pool = 0;
    else if (!strcmp(next, "mean")) t->pool = 1;
    else if (!strcmp(next, "max")) t->pool = 2;
    else return fr_err(FR_ERR_USAGE, "--pool is none, mean or max, not '%s'", next);
  }
  else if (!strcmp(a, "--crop-pad")) { ARG; FR_TRY(num(a, next, 1, 4096, &v)); t->augment.crop_pad = (int)v; }
  else if (!strcmp(a, "--hflip")) { t->augment.hflip = true; *took = false; }
  else if (!strcmp(a, "--rotate")) { ARG; FR_TRY(num(a, next, 0, 180, &v)); t->augment.rotate_deg = (float)v; }
  else if (!strcmp(a, "--scale")) {
    ARG;
    float sc[4];
    int k;
    FR_TRY(floats(a, next, sc, &k));
    if (k != 2 || !(sc[0] > 0 && sc[0] <= sc[1] && sc[1] < 10))
      return fr_err(FR_ERR_USAGE, "--scale '%s': expected MIN,MAX with 0 < MIN <= MAX", next);
    t->augment.scale_min = sc[0];
    t->augment.scale_max = sc[1];
  }
  else if (!strcmp(a, "--resize")) {
    ARG;
    int h, w;
    char x;
    if (sscanf(next, "%d%c%d", &h, &x, &w) != 3 || x != 'x' || h < 1 || w < 1 ||
        h > 16384 || w > 16384)
      return fr_err(FR_ERR_USAGE, "--resize '%s': expected HxW", next);
    t->data.resize_h = h;
    t->data.resize_w = w;
  } else if (!strcmp(a, "--mean")) { ARG; FR_TRY(floats(a, next, t->data.mean, &t->data.n_mean)); }
  else if (!strcmp(a, "--std")) { ARG; FR_TRY(floats(a, next, t->data.std, &t->data.n_std)); }
  else if (!strcmp(a, "--layout")) {
    ARG;
    if (strcmp(next, "nchw") && strcmp(next, "nhwc"))
      return fr_err(FR_ERR_USAGE, "--layout is nchw or nhwc, not '%s'", next);
    t->data.nhwc = !strcmp(next, "nhwc");
  } else if (!strcmp(a, "--channels")) {
    ARG;
    if (strcmp(next, "1") && strcmp(next, "3"))
      return fr_err(FR_ERR_USAGE, "--channels is 1 or 3, not '%s'", next);
    t->data.channels = atoi(next);
  } else {
    *used = *took = false;
  }
#undef ARG
  return FR_OK;
}

fr_status fr_cli_parse(int argc, char **argv, fr_cli *c, bool want_model) {
  bool no_cache = false;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG                                                              \
  do {                                                                        \
    if (!next) return fr_err(FR_ERR_USAGE, "%s needs an argument", a);        \
    i++;                                                                      \
  } while (0)
    bool used = false, took = false;
    if (!strcmp(argv[1], "train") || !strcmp(argv[1], "dump") ||
        !strcmp(argv[1], "eval") || !strcmp(argv[1], "compile") ||
        !strcmp(argv[1], "fewshot") || !strcmp(argv[1], "cluster") ||
        !strcmp(argv[1], "adapt-bn") || !strcmp(argv[1], "extract"))
      FR_TRY(train_option(a, next, c, &used, &took));
    if (used) {
      if (took) i++;
      continue;
    }
    if (!strcmp(a, "--dot")) {
      c->dot = true;
    } else if (!strcmp(a, "--shape")) {
      NEED_ARG;
      if (c->n_shapes == FR_CLI_MAX_ARGS) return fr_err(FR_ERR_USAGE, "too many --shape");
      fr_shape_override *s = &c->shapes[c->n_shapes++];
      char *name;
      const char *dims;
      FR_TRY(split_eq(next, a, &name, &dims));
      *s = (fr_shape_override){.name = name};
      FR_TRY(fr_parse_dims(dims, &s->rank, s->dims));
    } else if (!strcmp(a, "--input")) {
      NEED_ARG;
      if (c->n_inputs == FR_CLI_MAX_ARGS) return fr_err(FR_ERR_USAGE, "too many --input");
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
      if (strcmp(next, "imported") && strcmp(next, "optimized") && strcmp(next, "train"))
        return fr_err(FR_ERR_USAGE, "--stage is imported, optimized or train, not '%s'", next);
      c->stage = next;
    } else if (!strcmp(a, "--print-after") || !strcmp(a, "--print-before")) {
      NEED_ARG;
      *(a[8] == 'a' ? &c->pipe.print_after : &c->pipe.print_before) = next;
    } else if (!strcmp(a, "--target-cpu")) {
      NEED_ARG;
      c->cpu = c->jit.cpu = next;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      NEED_ARG;
      c->out = next;
    } else if (!strcmp(a, "--emit")) {
      NEED_ARG;
      c->emit = next;
    } else if (!strcmp(a, "--name")) {
      NEED_ARG;
      c->name = next;
    } else if (!strcmp(a, "--iters")) {
      NEED_ARG;
      char *end;
      long v = strtol(next, &end, 10);
      if (*end || v < 1 || v > 100000000)
        return fr_err(FR_ERR_USAGE, "bad %s '%s'", a, next);
      c->iters = (int)v;
    } else if (!strcmp(a, "--threads")) {
      NEED_ARG;
      char *end;
      long v = strtol(next, &end, 10);
      if (*end || v < 1 || v > FR_K_MAX_THREADS)
        return fr_err(FR_ERR_USAGE, "--threads expects a number of threads in "
                      "[1, %d], not '%s'", FR_K_MAX_THREADS, next);
      c->threads = (int)v;
    } else if (!strcmp(a, "--train")) {
      c->compile_train = true;
    } else if (!strcmp(a, "--specialize")) {
      c->jit.calls = false; /* the default; kept for scripts */
    } else if (!strcmp(a, "--no-specialize")) {
      c->jit.calls = true;
    } else if (!strcmp(a, "--profile")) {
      c->jit.profile = true;
    } else if (!strcmp(a, "--no-code-cache")) {
      no_cache = true;
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
      return fr_cli_unknown_option(a, argv[1]);
    } else if (!c->model) {
      c->model = a;
    } else if (!c->second && (!strcmp(argv[1], "compare") ||
                              !strcmp(argv[1], "train") || !strcmp(argv[1], "eval") ||
                              !strcmp(argv[1], "fewshot") || !strcmp(argv[1], "cluster") ||
        !strcmp(argv[1], "adapt-bn") || !strcmp(argv[1], "extract"))) {
      c->second = a;
    } else {
      return fr_err(FR_ERR_USAGE, "unexpected argument '%s'", a);
    }
#undef NEED_ARG
  }
  if (want_model && !c->model)
    return fr_err(FR_ERR_USAGE, "no %s given (usage: %s; see frost help %s)",
                  strcmp(argv[1], "compare") ? "model" : "tensors",
                  fr_cli_usage(argv[1]), argv[1]);
  if (c->engine && strcmp(c->engine, "interp") && strcmp(c->engine, "jit") &&
      strcmp(c->engine, "opt"))
    return fr_err(FR_ERR_USAGE, "unknown engine '%s' (available: jit, interp, opt)",
                  c->engine);
  if (!c->engine) c->engine = "jit";
  if (!c->conf.engine) c->conf.engine = c->engine;
  if (!no_cache && fr_cli_cache_dir(c->cache_dir, sizeof c->cache_dir))
    c->jit.cache_dir = c->cache_dir;
  c->conf.jit = c->jit;
  /* The kernels' threads, for whatever the command runs. */
  if (c->threads) fr_k_set_threads(c->threads);
  return FR_OK;
}

bool fr_cli_cache_dir(char *buf, size_t n) {
  const char *env = getenv("FROST_CACHE_DIR");
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  int len;
  if (env && env[0]) len = snprintf(buf, n, "%s", env);
  else if (xdg && xdg[0] == '/') len = snprintf(buf, n, "%s/frost", xdg);
  else if (home && home[0]) len = snprintf(buf, n, "%s/.cache/frost", home);
  else return false;
  return len > 0 && (size_t)len < n;
}

/* Loads the model and runs the front of the pass pipeline, freeze and
 * infer, with shapes allowed to stay unknown (the imported stage); with
 * optimize, the whole pipeline instead. */
fr_status fr_cli_load_stage(fr_cli *c, fr_model **m, bool quiet, bool optimize,
                            bool partial) {
  fr_onnx_opts o = {.shapes = c->shapes, .n_shapes = c->n_shapes,
                    .quiet = quiet, .max_bytes = c->max_memory,
                    .static_shapes = c->static_shapes};
  FR_TRY(fr_pipeline_check(&c->pipe));
  FR_TRY(fr_onnx_load(c->model, &o, m));
  /* Quietly: print and time options apply to the pipeline a command runs
   * (here with optimize, else in fr_engine_prepare or compile). */
  fr_pipeline_opts front = {.freeze = &c->freeze, .stop_after = "infer",
                            .partial = true};
  fr_status st;
  if (optimize) {
    c->pipe.partial = partial;
    st = fr_pipeline_run(*m, &c->pipe);
  } else {
    st = fr_pipeline_run(*m, &front);
  }
  /* A --shape must name an input of the model. */
  for (int i = 0; st == FR_OK && i < c->n_shapes; i++) {
    const fr_graph *g = (*m)->graph;
    int k;
    for (k = 0; k < g->n_inputs; k++)
      if (!strcmp(g->inputs[k]->name, c->shapes[i].name)) break;
    if (k < g->n_inputs) continue;
    char names[512] = "";
    for (int j = 0; j < g->n_inputs; j++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s'%s'",
               j ? ", " : "", g->inputs[j]->name);
    st = fr_err(FR_ERR_USAGE, "--shape %s: the model has no input '%s' (its "
                "inputs: %s)", c->shapes[i].name, c->shapes[i].name, names);
  }
  if (st == FR_OK) fr_freeze_warn(&c->freeze, stderr);
  if ((*m)->notes) fputs((*m)->notes, stderr);
  /* A shape error after symbolic dims were taken as 1 likely comes from
   * them: the error line says so and shows the --shape to pass. */
  if ((st == FR_ERR_SHAPE || st == FR_ERR_INVALID) && (*m)->shape_hint) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", fr_err_msg());
    st = fr_err(st, "%s (symbolic input dims were taken as 1: give %s)", msg,
                (*m)->shape_hint);
  }
  if (st != FR_OK) {
    fr_err_prefix(c->model);
    fr_model_free(*m);
    *m = NULL;
  }
  return st;
}

fr_status fr_cli_load(fr_cli *c, fr_model **m, bool quiet) {
  return fr_cli_load_stage(c, m, quiet, false, true);
}

fr_status fr_cli_read_input(const char *path, fr_tensor *t) {
  size_t n = strlen(path);
  if (n > 3 && !strcmp(path + n - 3, ".pb")) return fr_onnx_read_pb(path, t, NULL);
  return fr_npy_read(path, t);
}

void fr_cli_print_ir(const fr_cli *c, const fr_model *m) {
  if (c->pipe.printed_final)
    puts("; final IR: as printed above");
  else
    fr_print_graph(stdout, m->graph);
  fr_print_summary(stdout, m);
  fr_print_marks(stdout, m->graph);
}

void fr_cli_print_profile(const fr_engine *e, const fr_model *m, const char *what) {
  int64_t runs = 0;
  const double *ms = e->compiled ? fr_compiled_profile(e->compiled, &runs) : NULL;
  if (!ms) {
    fprintf(stderr, "frost: note: --profile: %s ran with the interpreter (the "
            "profile times the JIT's code)\n", what);
    return;
  }
  printf("profile of %s (its nodes after the passes, as frost dump --stage "
         "optimized or train prints them):\n", what);
  fr_print_profile(stdout, m->graph, ms, runs);
}

fr_status fr_cli_feed(fr_model *m, const char *model, const char *data, int64_t B,
                      int rank, const int64_t *dims) {
  fr_graph *g = m->graph;
  if (g->n_inputs != 1)
    return fr_err(FR_ERR_UNSUPPORTED, "%s takes %d inputs; frost feeds models "
                  "of one input", model, g->n_inputs);
  fr_value *x = g->inputs[0];
  if (x->t.rank >= 0 && x->t.rank != rank + 1)
    return fr_err(FR_ERR_SHAPE, "%s: its input '%s' has rank %d, the samples "
                  "of %s rank %d (plus the batch)", model, x->name, x->t.rank,
                  data, rank);
  x->t.rank = rank + 1;
  x->t.dims[0] = B;
  for (int i = 0; i < rank; i++) x->t.dims[i + 1] = dims[i];
  x->t.kind = FR_KIND_TENSOR;
  return FR_OK;
}

