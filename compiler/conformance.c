/* conformance.c: `frost conformance`, the ONNX backend node tests.
 *
 * Each test folder holds model.onnx and test_data_set_N folders with input_*.pb and
 * output_*.pb. Every test runs in a child process (a crash or a hang is the
 * test's failure, not the suite's), compared with rtol 1e-3, atol 1e-5. */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compiler.h"

enum { PASS, FAIL, UNSUPPORTED, ERROR, N_STATUS };
enum { INTERPRETED = 8 }; /* added to a child's status: the JIT declined */
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

/* One test, in the child: returns a status and leaves a message. */
static int run_test(const char *tdir, const fr_conf_opts *o, bool *interpreted) {
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
      fr_shape_override ov[MAX_IO];
      int n_ov = 0;
      for (int i = 0; i < n_in; i++) {
        if (in[i].kind != FR_KIND_TENSOR) continue;
        ov[n_ov].name = m->graph->inputs[i]->name;
        ov[n_ov].rank = in[i].rank;
        memcpy(ov[n_ov].dims, in[i].dims, sizeof ov[n_ov].dims);
        n_ov++;
      }
      fr_onnx_opts so = {.quiet = true, .shapes = ov, .n_shapes = n_ov};
      st = fr_onnx_load(path, &so, &ms);
    }
    fr_engine e = {.name = o->engine, .specialize = o->specialize};
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
      for (int i = 0; st == FR_OK && i < n_want; i++) {
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
    fr_engine_free(&e);
    fr_model_free(ms);
    for (int i = 0; i < n_in; i++) fr_onnx_value_free(&in[i]);
    for (int i = 0; i < n_want; i++) fr_onnx_value_free(&want[i]);
  }
  free_list(sets, n_sets);
  fr_model_free(m);
  return result;
}

/* Runs one test in a child process with a time limit. */
static int run_isolated(const char *tdir, const fr_conf_opts *o, char *msg,
                        size_t msglen, bool *interpreted) {
  *interpreted = false;
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
    bool interpreted = false;
    int r = run_test(tdir, o, &interpreted);
    const char *m = r == PASS ? "" : fr_err_msg();
    ssize_t w = write(fd[1], m, strlen(m));
    (void)w;
    close(fd[1]);
    _exit(r + (interpreted ? INTERPRETED : 0));
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
  *interpreted = r >= INTERPRETED;
  r %= INTERPRETED;
  return r < N_STATUS ? r : ERROR;
}

/* Writes the names of the tests marked in mark[] to path. */
static fr_status write_list(const char *path, char **tests, int n,
                            const char *mark) {
  FILE *f = fopen(path, "w");
  if (!f) return fr_err(FR_ERR_IO, "%s: cannot write", path);
  for (int i = 0; i < n; i++)
    if (mark[i]) fprintf(f, "%s\n", tests[i]);
  if (fclose(f) != 0) return fr_err(FR_ERR_IO, "%s: cannot write", path);
  return FR_OK;
}

/* Counts the tests listed in path (one name a line, # comments) that are
 * not marked in mark[], printing "regression: NAME no longer WHAT". */
static fr_status check_list(const char *path, char **tests, int n,
                            const char *mark, const char *filter,
                            const char *what, int *regressions) {
  FILE *f = fopen(path, "r");
  if (!f) return fr_err(FR_ERR_IO, "%s: cannot read", path);
  char line[512];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    if (filter && !strstr(line, filter)) continue;
    char **hit = bsearch(&(char *){line}, tests, (size_t)n, sizeof(char *),
                         cmp_str);
    if (!hit || !mark[hit - tests]) {
      printf("regression: %s no longer %s\n", line, what);
      (*regressions)++;
    }
  }
  fclose(f);
  return FR_OK;
}

fr_status fr_conformance(const fr_conf_opts *o) {
  int n;
  char **tests = list_dir(o->dir, NULL, &n);
  if (!tests || n == 0) {
    free_list(tests, n);
    return fr_err(FR_ERR_IO, "%s: no tests found", o->dir);
  }
  bool jit = o->engine && !strcmp(o->engine, "jit");
  if ((o->expect_native || o->write_native) && !jit) {
    free_list(tests, n);
    return fr_err(FR_ERR_USAGE, "--expect-native and --write-native need "
                                "--engine jit");
  }
  int counts[N_STATUS] = {0}, n_interp = 0;
  /* passed[i]: test i passed; native[i]: ... compiled to native code */
  char *passed = fr_calloc((size_t)n, 1), *native = fr_calloc((size_t)n, 1);
  if (!passed || !native) {
    fr_free(passed);
    fr_free(native);
    free_list(tests, n);
    return fr_err(FR_ERR_NOMEM, "out of memory");
  }
  for (int i = 0; i < n; i++) {
    if (o->filter && !strstr(tests[i], o->filter)) continue;
    char tdir[4096], msg[1024];
    snprintf(tdir, sizeof tdir, "%s/%s", o->dir, tests[i]);
    bool interp;
    int r = run_isolated(tdir, o, msg, sizeof msg, &interp);
    counts[r]++;
    if (r == PASS && interp) n_interp++;
    passed[i] = r == PASS;
    native[i] = r == PASS && jit && !interp;
    char *nl = strchr(msg, '\n');
    if (nl) *nl = 0;
    if (r == PASS || !o->verbose)
      printf("%s: %s%s\n", tests[i], status_name[r],
             r == PASS && jit && interp ? " (interpreted)" : "");
    else
      printf("%s: %s: %s\n", tests[i], status_name[r], msg);
  }
  fr_status st = FR_OK;
  if (o->write_passing) st = write_list(o->write_passing, tests, n, passed);
  if (st == FR_OK && o->write_native)
    st = write_list(o->write_native, tests, n, native);
  int regressions = 0;
  if (st == FR_OK && o->expect)
    st = check_list(o->expect, tests, n, passed, o->filter, "passes",
                    &regressions);
  if (st == FR_OK && o->expect_native)
    st = check_list(o->expect_native, tests, n, native, o->filter,
                    "passes compiled to native code", &regressions);
  if (jit)
    printf("jit: %d of the passing tests compiled to native code, %d ran "
           "with the interpreter (control flow, run-time shapes, strings)\n",
           counts[PASS] - n_interp, n_interp);
  printf("%d passed, %d failed, %d unsupported\n", counts[PASS],
         counts[FAIL] + counts[ERROR], counts[UNSUPPORTED]);
  fr_free(passed);
  fr_free(native);
  free_list(tests, n);
  if (st == FR_OK && regressions)
    st = fr_err(FR_ERR_INVALID, "%d expected tests do not pass as expected",
                regressions);
  return st;
}
