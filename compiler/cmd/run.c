/* run.c: `frost run`, a model on input files, with the JIT (or the
 * interpreter when the JIT declines) or the interpreter; outputs written
 * as .npy files, all or nothing. */
#include <string.h>

#include "cmd.h"

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
  return st == FR_OK ? 0 : fr_cli_fail();
}

