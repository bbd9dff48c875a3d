/* conformance.c: `frost conformance`, the ONNX backend node tests.
 *
 * Each test folder holds model.onnx and test_data_set_N folders with input_*.pb and
 * output_*.pb. Every test runs in a child process (a crash or a hang is the
 * test's failure, not the suite's), compared with rtol 1e-3, atol 1e-5. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

enum { PASS, FAIL, UNSUPPORTED, ERROR, N_STATUS };
/* Bits added to a child's exit status. */
enum {
  INTERPRETED = 8, /* the JIT declined: the interpreter ran it */
  RANDOM = 16      /* random outputs: properties checked, not values */
};
static const char *status_name[] = {"pass", "fail", "unsupported", "error"};

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of dir's entries starting with prefix (NULL: all). */
static char **list_dir(const char *dir, const char *prefix, int *n) {
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  int cap = 64;
  char **names = fr_malloc(sizeof(char *) * (size_t)cap);
  struct dirent *e;
  while (names && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (prefix && strncmp(e->d_name, prefix, strlen(prefix))) continue;
    if (*n == cap) {
      cap *= 2;
      char **nn = fr_realloc(names, sizeof(char *) * (size_t)cap);
      if (!nn) break;
      names = nn;
    }
    names[(*n)++] = fr_strdup(e->d_name);
  }
  closedir(d);
  if (names) qsort(names, (size_t)*n, sizeof(char *), cmp_str);
  return names;
}

static void free_list(char **names, int n) {
  for (int i = 0; i < n; i++) fr_free(names[i]);
  fr_free(names);
}

/* Reads input_<i>.pb / output_<i>.pb of one data set, in index order;
 * vals: the graph's inputs or outputs (sequences and optionals are read as
 * such). */
static fr_status read_set(const char *dir, const char *what, fr_tensor *t,
                          int max, int *n, fr_value *const *vals, int n_vals) {
  *n = 0;
  for (int i = 0; i < max; i++) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s_%d.pb", dir, what, i);
    if (access(path, R_OK) != 0) break;
    const fr_value *v = i < n_vals ? vals[i] : NULL;
    fr_status st =
        v && v->t.kind != FR_KIND_TENSOR
            ? fr_onnx_read_value_pb(path, v->t.kind, v->t.dtype, &t[i])
            : fr_onnx_read_pb(path, &t[i], NULL);
    if (st != FR_OK) return st;
    (*n)++;
  }
  return FR_OK;
}

enum { MAX_IO = 64 };

/* ONNX (up to 1.13) wrote the bf16 tensors of its tests as uint16: take them
 * as bf16 where the model declares bf16. */
static void retype_bf16(fr_tensor *t, int n, fr_value *const *vals, int nv) {
  for (int i = 0; i < n && i < nv; i++)
    if (t[i].dtype == FR_U16 && vals[i]->t.dtype == FR_BF16)
      t[i].dtype = FR_BF16;
}

/* ---- tests whose outputs are random ------------------------------------
 * Bernoulli, RandomUniformLike and Dropout in training mode draw random
 * numbers. ONNX's expected outputs come from numpy's generator, which the
 * spec does not name (a seed only promises repeatability within one
 * runtime), so no implementation can match them bit for bit
 * (docs/conformance.md). These tests check what can be checked instead: the
 * outputs' types and shapes, the values' support, and that a second run
 * with the same seed gives the same bits. */

enum { R_NONE, R_BERNOULLI, R_DROPOUT };

/* What kind of random test g is (its first random node decides). */
static int random_kind(const fr_graph *g, const fr_node **rn) {
  for (int i = 0; i < g->n_nodes; i++) {
    const fr_node *n = g->nodes[i];
    *rn = n;
    if (n->op == FR_OP_BERNOULLI || n->op == FR_OP_RANDOM_UNIFORM_LIKE)
      return R_BERNOULLI;
    if (n->op == FR_OP_DROPOUT && n->opset >= 12 && n->n_in > 2 && n->in[2])
      return R_DROPOUT;
  }
  return R_NONE;
}

static fr_status same_type(const fr_tensor *got, const fr_tensor *want) {
  bool same = got->dtype == want->dtype && got->rank == want->rank;
  for (int i = 0; same && i < got->rank; i++)
    same = got->dims[i] == want->dims[i];
  if (!same) {
    char a[128], b[128];
    return fr_err(FR_ERR_INVALID, "got %s %s, expected %s %s",
                  fr_dtype_name(got->dtype), fr_shape_str(got, a, sizeof a),
                  fr_dtype_name(want->dtype), fr_shape_str(want, b, sizeof b));
  }
  return FR_OK;
}

/* Bernoulli(p): every value is 0 or 1, and 0 where p = 0, 1 where p = 1. */
static fr_status check_bernoulli(const fr_tensor *p, const fr_tensor *y) {
  for (int64_t i = 0; i < fr_tensor_numel(y); i++) {
    double v = fr_tensor_get_f64(y, i), pi = fr_tensor_get_f64(p, i);
    if (v != 0 && v != 1)
      return fr_err(FR_ERR_INVALID, "element %lld is %g, not 0 or 1",
                    (long long)i, v);
    if ((pi <= 0 && v != 0) || (pi >= 1 && v != 1))
      return fr_err(FR_ERR_INVALID, "element %lld is %g with probability %g",
                    (long long)i, v, pi);
  }
  return FR_OK;
}

/* Dropout(x, ratio, training): y[i] is 0 or x[i] / (1 - ratio), and the
 * mask says which. */
static fr_status check_dropout(fr_tensor *const *in, int n_in,
                               const fr_tensor *y, const fr_tensor *mask) {
  double ratio = n_in > 1 ? fr_tensor_get_f64(in[1], 0) : 0.5;
  bool training = n_in > 2 && fr_tensor_get_f64(in[2], 0) != 0;
  double scale = training ? 1 / (1 - ratio) : 1;
  for (int64_t i = 0; i < fr_tensor_numel(y); i++) {
    double x = fr_tensor_get_f64(in[0], i), v = fr_tensor_get_f64(y, i);
    double kept = x * scale;
    bool keep = fabs(v - kept) <= 1e-5 * fabs(kept) + 1e-6;
    if (!keep && (v != 0 || !training || ratio == 0))
      return fr_err(FR_ERR_INVALID, "element %lld is %g: neither 0 nor "
                    "x / (1 - ratio) = %g", (long long)i, v, kept);
    if (mask && x != 0 && (fr_tensor_get_f64(mask, i) != 0) != keep)
      return fr_err(FR_ERR_INVALID, "mask element %lld disagrees with the "
                    "output", (long long)i);
  }
  return FR_OK;
}

static fr_status check_random(int kind, fr_tensor *const *in, int n_in,
                              fr_tensor *got, const fr_tensor *want,
                              int n_want) {
  for (int i = 0; i < n_want; i++) FR_TRY(same_type(&got[i], &want[i]));
  if (kind == R_BERNOULLI) return check_bernoulli(in[0], &got[0]);
  return check_dropout(in, n_in, &got[0], n_want > 1 ? &got[1] : NULL);
}

/* The bits of two runs' outputs are the same. */
static fr_status same_bits(const fr_tensor *a, const fr_tensor *b, int n) {
  for (int i = 0; i < n; i++)
    if (fr_tensor_nbytes(&a[i]) != fr_tensor_nbytes(&b[i]) ||
        memcmp(a[i].data, b[i].data, fr_tensor_nbytes(&a[i])))
      return fr_err(FR_ERR_INVALID, "output %d differs between two runs with "
                    "the same seed", i);
  return FR_OK;
}

/* One test, in the child: returns a status and leaves a message. */
static int run_test(const char *tdir, const fr_conf_opts *o, bool *interpreted,
                    bool *random_props) {
  char path[8192];
  snprintf(path, sizeof path, "%s/model.onnx", tdir);
  fr_onnx_opts lo = {.quiet = true};
  fr_model *m;
  fr_status st = fr_onnx_load(path, &lo, &m);
  if (st == FR_ERR_UNSUPPORTED) return UNSUPPORTED;
  if (st != FR_OK) return ERROR;
  int n_sets;
  char **sets = list_dir(tdir, "test_data_set_", &n_sets);
  int result = PASS;
  for (int s = 0; s < n_sets && result == PASS; s++) {
    char sdir[8192];
    snprintf(sdir, sizeof sdir, "%s/%s", tdir, sets[s]);
    fr_tensor in[MAX_IO] = {0}, want[MAX_IO] = {0}, got[MAX_IO] = {0};
    fr_tensor *inp[MAX_IO];
    int n_in = 0, n_want = 0;
    st = read_set(sdir, "input", in, MAX_IO, &n_in, m->graph->inputs,
                  m->graph->n_inputs);
    if (st == FR_OK)
      st = read_set(sdir, "output", want, MAX_IO, &n_want, m->graph->outputs,
                    m->graph->n_outputs);
    if (st == FR_OK && n_in != m->graph->n_inputs)
      st = fr_err(FR_ERR_INVALID, "%d inputs given, the model has %d", n_in,
                  m->graph->n_inputs);
    if (st == FR_OK && n_want != m->graph->n_outputs)
      st = fr_err(FR_ERR_INVALID, "%d outputs expected, the model has %d",
                  n_want, m->graph->n_outputs);
    retype_bf16(in, n_in, m->graph->inputs, m->graph->n_inputs);
    retype_bf16(want, n_want, m->graph->outputs, m->graph->n_outputs);
    for (int i = 0; i < n_in; i++) inp[i] = &in[i];
    /* Symbolic dims are fixed by this data set's inputs, as in frost run. */
    fr_model *ms = NULL;
    if (st == FR_OK) {
      fr_shape_override ov[MAX_IO] = {0};
      int n_ov = 0;
      for (int i = 0; i < n_in; i++) {
        if (in[i].kind != FR_KIND_TENSOR) continue;
        ov[n_ov] = (fr_shape_override){.name = m->graph->inputs[i]->name,
                                       .rank = in[i].rank,
                                       .origin = "the test data",
                                       .replace = true};
        memcpy(ov[n_ov].dims, in[i].dims, sizeof ov[n_ov].dims);
        n_ov++;
      }
      fr_onnx_opts so = {.quiet = true, .shapes = ov, .n_shapes = n_ov};
      st = fr_onnx_load(path, &so, &ms);
    }
    fr_engine e = {.name = o->engine, .jit = o->jit};
    fr_engine e2 = {.name = o->engine, .jit = o->jit};
    const fr_node *rn = NULL;
    int rkind = st == FR_OK ? random_kind(ms->graph, &rn) : R_NONE;
    if (st == FR_OK) {
      fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
      st = fr_graph_infer(ms->graph, &io);
      if (st == FR_OK) st = fr_engine_prepare(&e, ms);
      if (e.interpreted) *interpreted = true;
    }
    if (st == FR_OK) {
      st = fr_engine_run(&e, ms, inp, got);
      if (st == FR_ERR_UNSUPPORTED) result = UNSUPPORTED;
      else if (st != FR_OK) result = ERROR;
      if (st == FR_OK && rkind != R_NONE) {
        /* A second engine, same seed: the same bits. */
        fr_tensor again[MAX_IO] = {0};
        st = fr_engine_prepare(&e2, ms);
        if (st == FR_OK) st = fr_engine_run(&e2, ms, inp, again);
        if (st == FR_OK) st = same_bits(got, again, n_want);
        if (st == FR_OK) st = check_random(rkind, inp, n_in, got, want, n_want);
        if (st != FR_OK) {
          char msg[1024];
          snprintf(msg, sizeof msg, "random outputs (%s): %s",
                   fr_ops[rn->op].name, fr_err_msg());
          fr_err(FR_ERR_INVALID, "%s", msg);
          result = FAIL;
        } else {
          *random_props = true;
        }
        for (int i = 0; i < n_want; i++) fr_tensor_release(&again[i]);
      }
      for (int i = 0; st == FR_OK && rkind == R_NONE && i < n_want; i++) {
        st = fr_compare(&got[i], &want[i], 1e-3, 1e-5);
        if (st != FR_OK) {
          char msg[1024];
          snprintf(msg, sizeof msg, "output %d: %s", i, fr_err_msg());
          fr_err(FR_ERR_INVALID, "%s", msg);
          result = FAIL;
        }
      }
      for (int i = 0; i < n_want; i++) fr_tensor_release(&got[i]);
    } else {
      result = ERROR;
    }
    fr_engine_free(&e2);
    fr_engine_free(&e);
    fr_model_free(ms);
    for (int i = 0; i < n_in; i++) fr_onnx_value_free(&in[i]);
    for (int i = 0; i < n_want; i++) fr_onnx_value_free(&want[i]);
  }
  free_list(sets, n_sets);
  fr_model_free(m);
  return result;
}

/* What the parent allocated for the run. A forked child frees its copy
 * before it exits, so that a leak check of the child (valgrind follows
 * forks) sees only the test's own memory. */
typedef struct run_lists {
  char **tests, **only;
  int n_tests, n_only;
  char *passed, *native;
} run_lists;

static void run_lists_free(run_lists *L) {
  free_list(L->tests, L->n_tests);
  free_list(L->only, L->n_only);
  fr_free(L->passed);
  fr_free(L->native);
  *L = (run_lists){0};
}

/* Runs one test in a child process with a time limit. */
static int run_isolated(const char *tdir, const fr_conf_opts *o, char *msg,
                        size_t msglen, bool *interpreted, bool *random,
                        run_lists *L) {
  *interpreted = false;
  *random = false;
  int fd[2];
  msg[0] = 0;
  if (pipe(fd) != 0) return ERROR;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    close(fd[0]);
    close(fd[1]);
    return ERROR;
  }
  if (pid == 0) {
    close(fd[0]);
    alarm((unsigned)o->timeout_s);
    fr_err_clear();
    bool interpreted = false, random = false;
    run_lists_free(L);
    int r = run_test(tdir, o, &interpreted, &random);
    const char *m = r == PASS ? "" : fr_err_msg();
    ssize_t w = write(fd[1], m, strlen(m));
    (void)w;
    close(fd[1]);
    /* _exit runs no atexit handler: the kernels' workers joined here, so
     * that a leak check of the child sees no thread of theirs */
    fr_k_set_threads(1);
    _exit(r + (interpreted ? INTERPRETED : 0) + (random ? RANDOM : 0));
  }
  close(fd[1]);
  size_t k = 0;
  ssize_t got;
  while (k + 1 < msglen && (got = read(fd[0], msg + k, msglen - 1 - k)) > 0)
    k += (size_t)got;
  msg[k] = 0;
  close(fd[0]);
  int ws;
  if (waitpid(pid, &ws, 0) < 0) return ERROR;
  if (WIFSIGNALED(ws)) {
    snprintf(msg, msglen, "%s",
             WTERMSIG(ws) == SIGALRM ? "timed out" : strsignal(WTERMSIG(ws)));
    return ERROR;
  }
  int r = WEXITSTATUS(ws);
  *interpreted = r & INTERPRETED;
  *random = r & RANDOM;
  r &= INTERPRETED - 1;
  return r < N_STATUS ? r : ERROR;
}

/* The test names of a list file (one a line, '#' comments), sorted. */
static fr_status read_list(const char *path, char ***names, int *n) {
  *names = NULL;
  *n = 0;
  uint8_t *text;
  size_t len;
  FR_TRY(fr_read_file(path, &text, &len));
  int cap = 0;
  fr_status st = FR_OK;
  for (char *next = (char *)text, *line; st == FR_OK && *(line = next);) {
    next = line + strcspn(line, "\n");
    if (*next) *next++ = 0;
    line[strcspn(line, "\r")] = 0;
    if (!line[0] || line[0] == '#') continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 64;
      char **nn = fr_realloc(*names, sizeof(char *) * (size_t)cap);
      if (!nn) {
        st = fr_err(FR_ERR_NOMEM, "%s: out of memory", path);
        break;
      }
      *names = nn;
    }
    if (!((*names)[*n] = fr_strdup(line)))
      st = fr_err(FR_ERR_NOMEM, "%s: out of memory", path);
    else
      (*n)++;
  }
  fr_free(text);
  if (st == FR_OK && *n == 0) /* an empty list would check nothing */
    st = fr_err(FR_ERR_INVALID, "%s: lists no test", path);
  if (st != FR_OK) {
    free_list(*names, *n);
    *names = NULL;
    *n = 0;
    return st;
  }
  qsort(*names, (size_t)*n, sizeof(char *), cmp_str);
  return FR_OK;
}

static bool listed(char **names, int n, const char *name) {
  return bsearch(&name, names, (size_t)n, sizeof(char *), cmp_str) != NULL;
}

/* Writes the names of the tests marked in mark[] to path. */
static fr_status write_list(const char *path, char **tests, int n,
                            const char *mark) {
  /* Not a FIFO or a device: fopen would wait for a reader. */
  FR_TRY(fr_file_check_target(path));
  FILE *f = fopen(path, "w");
  if (!f) return fr_err(FR_ERR_IO, "%s: cannot write", path);
  for (int i = 0; i < n; i++)
    if (mark[i]) fprintf(f, "%s\n", tests[i]);
  if (fclose(f) != 0) return fr_err(FR_ERR_IO, "%s: cannot write", path);
  return FR_OK;
}

/* Counts the tests of the list file path (within the filter and --only)
 * that are not marked in mark[], printing "regression: NAME no longer
 * WHAT". */
static fr_status check_list(const char *path, char **tests, int n,
                            const char *mark, const fr_conf_opts *o,
                            char **only, int n_only, const char *what,
                            int *regressions) {
  char **names;
  int k;
  FR_TRY(read_list(path, &names, &k));
  for (int i = 0; i < k; i++) {
    const char *name = names[i];
    if (o->filter && !strstr(name, o->filter)) continue;
    if (only && !listed(only, n_only, name)) continue;
    char **hit = bsearch(&name, tests, (size_t)n, sizeof(char *), cmp_str);
    if (!hit || !mark[hit - tests]) {
      printf("regression: %s no longer %s\n", name, what);
      (*regressions)++;
    }
  }
  free_list(names, k);
  return FR_OK;
}

fr_status fr_conformance(const fr_conf_opts *o) {
  int n, n_only = 0;
  char **only = NULL;
  if (o->only) FR_TRY(read_list(o->only, &only, &n_only));
  char **tests = list_dir(o->dir, NULL, &n);
  if (!tests || n == 0) {
    free_list(tests, n);
    free_list(only, n_only);
    return fr_err(FR_ERR_IO, "%s: no tests found", o->dir);
  }
  bool jit = o->engine && !strcmp(o->engine, "jit");
  int counts[N_STATUS] = {0}, n_interp = 0, n_random = 0;
  /* passed[i]: test i passed; native[i]: ... compiled to native code */
  char *passed = fr_calloc((size_t)n, 1), *native = fr_calloc((size_t)n, 1);
  run_lists L = {.tests = tests, .n_tests = n, .only = only,
                 .n_only = n_only, .passed = passed, .native = native};
  if ((o->expect_native || o->write_native) && !jit) {
    run_lists_free(&L);
    return fr_err(FR_ERR_USAGE, "--expect-native and --write-native need "
                                "--engine jit");
  }
  if (!passed || !native) {
    run_lists_free(&L);
    return fr_err_nomem(NULL);
  }
  int n_run = 0, n_done = 0;
  for (int i = 0; i < n; i++)
    n_run += (!o->filter || strstr(tests[i], o->filter)) &&
             (!only || listed(only, n_only, tests[i]));
  for (int i = 0; i < n; i++) {
    if (o->filter && !strstr(tests[i], o->filter)) continue;
    if (only && !listed(only, n_only, tests[i])) continue;
    fr_progress("conformance", n_done++, n_run, tests[i]);
    char tdir[4096], msg[1024];
    snprintf(tdir, sizeof tdir, "%s/%s", o->dir, tests[i]);
    bool interp, random;
    int r = run_isolated(tdir, o, msg, sizeof msg, &interp, &random, &L);
    counts[r]++;
    if (r == PASS && interp) n_interp++;
    if (r == PASS && random) n_random++;
    passed[i] = r == PASS;
    native[i] = r == PASS && jit && !interp;
    char *nl = strchr(msg, '\n');
    if (nl) *nl = 0;
    fr_progress_clear();
    if (r == PASS || !o->verbose)
      printf("%s: %s%s%s\n", tests[i], status_name[r],
             r == PASS && jit && interp ? " (interpreted)" : "",
             r == PASS && random ? " (random outputs: properties checked)"
                                 : "");
    else
      printf("%s: %s: %s\n", tests[i], status_name[r], msg);
  }
  fr_progress_done();
  fr_status st = FR_OK;
  if (o->write_passing) st = write_list(o->write_passing, tests, n, passed);
  if (st == FR_OK && o->write_native)
    st = write_list(o->write_native, tests, n, native);
  int regressions = 0;
  if (st == FR_OK && o->expect)
    st = check_list(o->expect, tests, n, passed, o, only, n_only, "passes",
                    &regressions);
  if (st == FR_OK && o->expect_native)
    st = check_list(o->expect_native, tests, n, native, o, only, n_only,
                    "passes compiled to native code", &regressions);
  if (jit)
    printf("jit: %d of the passing tests compiled to native code, %d ran "
           "with the interpreter (control flow, run-time shapes, strings)\n",
           counts[PASS] - n_interp, n_interp);
  if (n_random)
    printf("random: %d of the passing tests draw random numbers: their "
           "properties were checked, not their values\n", n_random);
  printf("%d passed, %d failed, %d unsupported, %d %s\n", counts[PASS],
         counts[FAIL], counts[UNSUPPORTED], counts[ERROR],
         counts[ERROR] == 1 ? "error" : "errors");
  run_lists_free(&L);
  if (st == FR_OK && regressions)
    st = fr_err(FR_ERR_INVALID, "%d expected tests do not pass as expected",
                regressions);
  return st;
}

int fr_cmd_conformance(fr_cli *c) {
  c->conf.dir = c->model ? c->model : "/usr/share/libonnx-testdata/data/node";
  if (fr_conformance(&c->conf) != FR_OK) return fr_cli_fail();
  return 0;
}
