/* oom.c: every allocation of a real model's load, optimization and run
 * fails in turn, as SQLite's and Lua's out-of-memory tests do.
 *
 *   frost_oom REF_DIR MODELS_DIR CASE
 *
 * CASE is a line of REF_DIR/cases.txt (tests/oracle/ref: "CASE MODEL
 * NAME=FILE.npy..."). A clean run first counts the allocations
 * (fr_mem_allocs) of the whole path `frost run --engine opt` takes: the
 * .npy inputs read, the model loaded (protobuf decoding, import,
 * verifier), shape inference with constant evaluation, the pass pipeline,
 * the interpreter on the optimized graph, and everything freed. Its
 * outputs must match ONNX Runtime's (REF_DIR/CASE/out). Then, for k = 0 ..
 * N-1, the same with allocation k failing: first with every one after it
 * failing too (fr_mem_fail_after: error paths that allocate fail as well),
 * then alone (fr_mem_fail_only: a failure ignored somewhere shows as a run
 * that succeeds). Each must return FR_ERR_NOMEM, with a message, and leave
 * frost's heap as it found it.
 *
 * The JIT is out of scope: LLVM allocates outside fr_malloc. Exit status 77
 * (ctest's skip) when the model is missing (scripts/fetch-models not run). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compiler/cmd/cmd.h"

enum { MAX_INPUTS = 16 };

static char model_path[4096], want_dir[4096];
static char input_names[MAX_INPUTS][256], input_paths[MAX_INPUTS][4096];
static int n_inputs;

/* The outputs of the clean run, compared with want_dir. */
static fr_tensor *clean_out;
static int n_clean_out;

/* One run of the path; outputs are kept (in *out_kept) when keep is set. */
static fr_status run_once(bool keep, fr_tensor **out_kept, int *n_kept) {
  fr_tensor in[MAX_INPUTS] = {{0}};
  fr_tensor *inp[MAX_INPUTS] = {0};
  fr_shape_override shapes[MAX_INPUTS];
  fr_model *m = NULL;
  fr_tensor *out = NULL;
  int n_out = 0;
  fr_status st = FR_OK;
  for (int i = 0; i < n_inputs && st == FR_OK; i++) {
    st = fr_npy_read(input_paths[i], &in[i]);
    shapes[i] = (fr_shape_override){.name = input_names[i], .rank = in[i].rank,
                                    .origin = input_paths[i]};
    memcpy(shapes[i].dims, in[i].dims, sizeof shapes[i].dims);
  }
  if (st == FR_OK) {
    fr_onnx_opts o = {.shapes = shapes, .n_shapes = n_inputs, .quiet = true};
    st = fr_onnx_load(model_path, &o, &m);
  }
  if (st == FR_OK) {
    fr_freeze_opts fo = {0};
    fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
    st = fr_freeze_apply(m, &fo);
    if (st == FR_OK) st = fr_graph_infer(m->graph, &io);
    if (st == FR_OK) st = fr_graph_verify(m->graph);
  }
  if (st == FR_OK) { /* the pass pipeline, as fr_engine_prepare runs it */
    fr_pipeline_opts po = {.partial = true};
    st = fr_pipeline_run(m, &po);
  }
  for (int k = 0; st == FR_OK && k < m->graph->n_inputs; k++) {
    for (int i = 0; i < n_inputs; i++)
      if (!strcmp(m->graph->inputs[k]->name, input_names[i])) inp[k] = &in[i];
    if (!inp[k])
      st = fr_err(FR_ERR_USAGE, "input '%s' not given", m->graph->inputs[k]->name);
  }
  if (st == FR_OK) {
    n_out = m->graph->n_outputs;
    out = fr_calloc((size_t)n_out, sizeof *out);
    if (!out) st = fr_err_nomem(NULL);
  }
  if (st == FR_OK) st = fr_run_model(m, inp, out); /* the interpreter */
  if (st == FR_OK && keep) {
    *out_kept = out;
    *n_kept = n_out;
    out = NULL;
  }
  for (int i = 0; out && st == FR_OK && i < n_out; i++)
    fr_tensor_release(&out[i]);
  fr_free(out);
  fr_model_free(m);
  for (int i = 0; i < n_inputs; i++) fr_onnx_tensor_free(&in[i]);
  return st;
}

/* Reads CASE's line of REF_DIR/cases.txt into the paths above; 0 when
 * found. */
static int read_case(const char *ref, const char *models, const char *name) {
  char path[4096], line[4096];
  snprintf(path, sizeof path, "%s/cases.txt", ref);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "oom: cannot open %s\n", path);
    return 1;
  }
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    char *save, *c = strtok_r(line, " \n", &save);
    if (!c || strcmp(c, name)) continue;
    found = 1;
    char *model = strtok_r(NULL, " \n", &save);
    if (!model) break;
    snprintf(model_path, sizeof model_path, "%s/%s", models, model);
    snprintf(want_dir, sizeof want_dir, "%s/%s/out", ref, name);
    for (char *spec; (spec = strtok_r(NULL, " \n", &save));) {
      char *eq = strrchr(spec, '=');
      if (!eq || n_inputs == MAX_INPUTS) {
        found = 0;
        break;
      }
      *eq = 0;
      snprintf(input_names[n_inputs], sizeof input_names[0], "%s", spec);
      snprintf(input_paths[n_inputs], sizeof input_paths[0], "%s/%s", ref, eq + 1);
      n_inputs++;
    }
  }
  fclose(f);
  if (!found || !model_path[0] || n_inputs == 0) {
    fprintf(stderr, "oom: no case '%s' in %s\n", name, path);
    return 1;
  }
  return 0;
}

/* The clean run's outputs against WANT_DIR's .npy files, by output name
 * as frost run writes them ('/' and ':' become '_'). */
static int check_outputs(void) {
  fr_model *m;
  fr_onnx_opts o = {.quiet = true};
  if (fr_onnx_load(model_path, &o, &m) != FR_OK) {
    fprintf(stderr, "oom: %s\n", fr_err_msg());
    return 1;
  }
  int fails = 0;
  for (int i = 0; i < m->graph->n_outputs; i++) {
    char name[1024], path[8192];
    fr_npy_file_name(m->graph->outputs[i]->name, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s.npy", want_dir, name);
    fr_tensor want;
    fr_status st = fr_npy_read(path, &want);
    if (st == FR_OK) {
      st = fr_compare(&clean_out[i], &want, 1e-3, 1e-4);
      fr_onnx_tensor_free(&want);
    }
    if (st != FR_OK) {
      printf("FAIL clean run, output %s: %s\n", name, fr_err_msg());
      fails++;
    }
  }
  fr_model_free(m);
  return fails;
}

/* The allocation failing, for a crash report (-1: the clean run). */
static volatile long current = -1;

static void on_signal(int sig) {
  char buf[96];
  int n = snprintf(buf, sizeof buf, "\noom: crashed with allocation %ld failing\n",
                   current);
  if (write(2, buf, (size_t)n) < 0) _exit(1);
  signal(sig, SIG_DFL);
  raise(sig);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: frost_oom REF_DIR MODELS_DIR CASE\n");
    return 2;
  }
  if (read_case(argv[1], argv[2], argv[3])) return 1;
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGSEGV, on_signal);
  signal(SIGABRT, on_signal);
  signal(SIGBUS, on_signal);
  signal(SIGFPE, on_signal);
  if (access(model_path, R_OK) != 0) {
    printf("oom: skipped: %s missing (run scripts/fetch-models)\n", model_path);
    return 77;
  }

  /* The clean run: it must succeed, match the reference and free all. */
  size_t base = fr_mem_in_use();
  unsigned long a0 = fr_mem_allocs();
  double t0 = now_s();
  if (run_once(true, &clean_out, &n_clean_out) != FR_OK) {
    printf("FAIL clean run: %s\n", fr_err_msg());
    return 1;
  }
  unsigned long n = fr_mem_allocs() - a0;
  int fails = check_outputs();
  for (int i = 0; i < n_clean_out; i++) fr_tensor_release(&clean_out[i]);
  fr_free(clean_out);
  if (fr_mem_in_use() != base) {
    printf("FAIL clean run: %zu bytes not freed\n", fr_mem_in_use() - base);
    return 1;
  }
  if (n == 0) {
    printf("FAIL clean run: no allocation counted\n");
    return 1;
  }
  printf("oom: %s: a clean run makes %lu allocations (%.3f s)\n", model_path,
         n, now_s() - t0);

  /* Allocation k fails, for every k: with every allocation after it
   * (persistent), then alone (transient: the ones after it succeed, so a
   * failure ignored somewhere shows as a run that succeeds). */
  for (int persistent = 1; persistent >= 0; persistent--) {
    const char *mode = persistent ? "persistent" : "transient";
    for (unsigned long k = 0; k < n; k++) {
      fr_err_clear();
      current = (long)k;
      if (persistent) fr_mem_fail_after((long)k);
      else fr_mem_fail_only((long)k);
      fr_status st = run_once(false, NULL, NULL);
      fr_mem_fail_after(-1);
      const char *why = NULL;
      if (st == FR_OK) why = "returned FR_OK";
      else if (st != FR_ERR_NOMEM) why = "returned another error than FR_ERR_NOMEM";
      else if (!fr_err_is_set()) why = "returned FR_ERR_NOMEM without a message";
      else if (fr_mem_in_use() != base) why = "leaked";
      if (why) {
        printf("FAIL allocation %lu of %lu failing (%s): %s (status %d, %zu "
               "bytes not freed): %s\n",
               k, n, mode, why, (int)st, fr_mem_in_use() - base, fr_err_msg());
        fails++;
        /* Later runs would report the leak again. */
        if (fr_mem_in_use() != base) return 1;
      }
    }
    printf("oom: %lu allocations failed in turn (%s), %d wrong so far (%.1f s)\n",
           n, mode, fails, now_s() - t0);
  }
  return fails ? 1 : 0;
}
