/* run.c: `frost run`, a model on input files, with the JIT (or the
 * interpreter when the JIT declines) or the interpreter; each output's
 * shape and a summary of its values printed, and with --output-dir the
 * outputs written as .npy files, all or nothing. */
#include <math.h>
#include <string.h>

#include "cmd.h"

enum { SMALL = 16, FIRST = 8, TOP = 5 };

/* The name of class k from an output named as a JSON object of class
 * names, {"1": "1_minute_timer", ...} (openWakeWord's timer model); ""
 * when it has none. */
static void class_name(const char *json, int64_t k, char *buf, size_t n) {
  char key[32];
  buf[0] = 0;
  if (json[0] != '{') return;
  snprintf(key, sizeof key, "\"%lld\"", (long long)k);
  for (const char *p = strstr(json, key); p; p = strstr(p + 1, key)) {
    const char *q = p + strlen(key);
    while (*q == ' ') q++;
    if (*q++ != ':') continue;
    while (*q == ' ') q++;
    if (*q++ != '"') continue;
    size_t len = strcspn(q, "\"\\");
    snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), q);
    return;
  }
}

/* The top classes of scores [C] or [1, C]: probabilities as they are,
 * logits with their softmax beside them. */
static void top_classes(const char *name, const fr_tensor *t, int64_t C) {
  double mx = -INFINITY, sum = 0, esum = 0;
  bool probs = true;
  for (int64_t c = 0; c < C; c++) {
    double v = fr_tensor_get_f64(t, c);
    if (isnan(v)) return;
    if (v < 0 || v > 1) probs = false;
    sum += v;
    mx = v > mx ? v : mx;
  }
  if (fabs(sum - 1) > 1e-3) probs = false;
  for (int64_t c = 0; c < C; c++) esum += exp(fr_tensor_get_f64(t, c) - mx);
  int64_t top[TOP];
  int k = 0;
  for (; k < TOP && k < C; k++) {
    int64_t best = -1;
    for (int64_t c = 0; c < C; c++) {
      bool taken = false;
      for (int j = 0; j < k; j++) taken |= top[j] == c;
      if (!taken && (best < 0 || fr_tensor_get_f64(t, c) > fr_tensor_get_f64(t, best)))
        best = c;
    }
    top[k] = best;
  }
  printf("  top classes%s:\n", probs ? "" : " (scores, softmax)");
  for (int j = 0; j < k; j++) {
    char cname[128];
    double v = fr_tensor_get_f64(t, top[j]);
    class_name(name, top[j], cname, sizeof cname);
    printf("    %-5lld ", (long long)top[j]);
    if (name[0] == '{') printf("%-20s ", cname);
    if (probs) printf("%.6g", v);
    else printf("%-12.6g %.4f", v, exp(v - mx) / esum);
    putchar('\n');
  }
}

/* Below the output's shape: all of a small output, else its first values
 * and min, max and mean; the top classes of a classifier's scores, a float
 * [C] or [1, C]. Tensors of numbers only. */
static void summarize(const char *name, const fr_tensor *t) {
  if (t->kind != FR_KIND_TENSOR || !t->data ||
      !(fr_dtype_is_float(t->dtype) || fr_dtype_is_int(t->dtype) ||
        t->dtype == FR_BOOL))
    return;
  int64_t n = fr_tensor_numel(t);
  if (n <= 0) return;
  printf("  %s:", n <= SMALL ? "values" : "first values");
  for (int64_t i = 0; i < n && i < (n <= SMALL ? SMALL : FIRST); i++)
    printf(" %.6g", fr_tensor_get_f64(t, i));
  if (n > SMALL) {
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    int64_t nans = 0;
    for (int64_t i = 0; i < n; i++) {
      double v = fr_tensor_get_f64(t, i);
      if (isnan(v)) { nans++; continue; }
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
      sum += v;
    }
    printf(" ...\n  min %.6g, max %.6g, mean %.6g", mn, mx,
           n > nans ? sum / (double)(n - nans) : NAN);
    if (nans) printf(", %lld NaN", (long long)nans);
  }
  putchar('\n');
  int64_t C = t->rank ? t->dims[t->rank - 1] : 0;
  if (fr_dtype_is_float(t->dtype) && C >= 2 &&
      (t->rank == 1 || (t->rank == 2 && t->dims[0] == 1)))
    top_classes(name, t, C);
}

int fr_cmd_run(fr_cli *c) {
  fr_tensor in[FR_CLI_MAX_ARGS] = {0};
  fr_tensor *inp[FR_CLI_MAX_ARGS];
  fr_tensor *out = NULL;
  fr_model *m = NULL;
  fr_status st = FR_OK;
  int n_out = 0;
  /* Symbolic dims are fixed by the shapes of the inputs given. */
  for (int i = 0; i < c->n_inputs && st == FR_OK; i++) {
    st = fr_cli_read_input(c->in_files[i], &in[i]);
    if (st != FR_OK) break;
    bool given = false;
    for (int k = 0; k < c->n_shapes; k++)
      if (!strcmp(c->shapes[k].name, c->in_names[i])) given = true;
    if (!given && c->n_shapes < FR_CLI_MAX_ARGS) {
      fr_shape_override *s = &c->shapes[c->n_shapes++];
      *s = (fr_shape_override){.name = c->in_names[i],
                               .origin = c->in_files[i],
                               .rank = in[i].rank};
      memcpy(s->dims, in[i].dims, sizeof s->dims);
    }
  }
  if (st == FR_OK) st = fr_cli_load(c, &m, true);
  if (st == FR_OK) {
    const fr_graph *g = m->graph;
    for (int i = 0; i < c->n_inputs && st == FR_OK; i++) {
      int k;
      for (k = 0; k < g->n_inputs; k++)
        if (!strcmp(g->inputs[k]->name, c->in_names[i])) break;
      if (k == g->n_inputs) {
        char names[512] = "";
        for (int j = 0; j < g->n_inputs; j++)
          snprintf(names + strlen(names), sizeof names - strlen(names), "%s'%s'",
                   j ? ", " : "", g->inputs[j]->name);
        st = fr_err(FR_ERR_USAGE, "%s: the model has no input '%s' (its inputs: %s)",
                    c->model, c->in_names[i], names);
      }
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
    fr_engine e = {.name = c->engine, .pipe = &c->pipe,
                  .jit = c->jit};
    if (st == FR_OK) {
      st = fr_engine_prepare(&e, m);
      if (st == FR_OK) st = fr_engine_run(&e, m, inp, out);
      if (st == FR_OK && c->jit.profile) fr_cli_print_profile(&e, m, "the model");
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
    summarize(v->name, &out[i]);
    if (!c->output_dir) continue;
    fr_npy_file_name(v->name, name, sizeof name);
    snprintf(files[i], sizeof files[i], "%s/%s.npy", c->output_dir, name);
    paths[i] = files[i];
  }
  if (st == FR_OK && c->output_dir) st = fr_npy_write_all(paths, out, n_out);
  for (int i = 0; st == FR_OK && c->output_dir && i < n_out; i++)
    printf("wrote %s\n", paths[i]);
  fr_free(files);
  fr_free(paths);
  for (int i = 0; out && i < n_out; i++) fr_tensor_release(&out[i]);
  fr_free(out);
  for (int i = 0; i < c->n_inputs; i++) fr_onnx_tensor_free(&in[i]);
  fr_model_free(m);
  return st == FR_OK ? 0 : fr_cli_fail();
}

