/* eval.c: `frost eval MODEL DATA`: a classifier on a labelled data set.
 * The model's first output is read as scores per class (logits or
 * probabilities: the largest wins), in the data set's class order (its
 * class names sorted bytewise, as frost train uses them). Prints the
 * accuracy, each class's recall and the confusion matrix (rows: the true
 * class, columns: the predicted one); --json FILE writes the same.
 *
 * Zero-shot: --label-map FILE maps each class of the data set to one of
 * the model's own outputs (lines CLASS,OUTPUT; OUTPUT an index), to
 * measure a pre-trained model on a new data set before any training: a
 * sample's prediction is the class whose output scores highest.
 *
 * Multi-task: --task NAME measures the output named NAME (a head of
 * `frost train --head NAME:...`) against the CSV manifest's column NAME;
 * rows whose cell is empty are not counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static fr_status write_json(const char *path, const fr_dataset *d,
                            const int64_t *conf, int C, int64_t correct, int64_t n) {
  FR_TRY(fr_file_check_target(path));
  FILE *f = fopen(path, "w");
  if (!f) return fr_err(FR_ERR_IO, "%s: cannot create", path);
  fprintf(f, "{\"samples\": %lld, \"accuracy\": %.17g, \"classes\": [", (long long)n,
          n ? (double)correct / (double)n : 0.0);
  for (int c = 0; c < C; c++) {
    fputs(c ? ", " : "", f);
    fr_json_put_string(f, d->class_names[c]);
  }
  fputs("], \"recall\": [", f);
  for (int c = 0; c < C; c++) {
    int64_t n = 0;
    for (int p = 0; p < C; p++) n += conf[c * C + p];
    if (n) fprintf(f, "%s%.17g", c ? ", " : "", (double)conf[c * C + c] / (double)n);
    else fprintf(f, "%snull", c ? ", " : "");
  }
  fputs("], \"confusion\": [", f);
  for (int c = 0; c < C; c++) {
    fputs(c ? ", [" : "[", f);
    for (int p = 0; p < C; p++) fprintf(f, "%s%lld", p ? ", " : "", (long long)conf[c * C + p]);
    fputc(']', f);
  }
  fputs("]}\n", f);
  if (fclose(f) != 0) return fr_err(FR_ERR_IO, "%s: write failed", path);
  return FR_OK;
}

/* --label-map FILE: out[c] the output of class c of d (K outputs). */
static fr_status read_label_map(const char *path, const fr_dataset *d, int64_t K,
                                int *out) {
  FILE *f = fopen(path, "r");
  if (!f) return fr_err(FR_ERR_IO, "%s: cannot open", path);
  for (int c = 0; c < d->n_classes; c++) out[c] = -1;
  char line[1024];
  fr_status st = FR_OK;
  for (int no = 1; st == FR_OK && fgets(line, sizeof line, f); no++) {
    line[strcspn(line, "\r\n")] = 0;
    if (!*line || (no == 1 && !strcmp(line, "class,output"))) continue;
    char *comma = strrchr(line, ',');
    char *end = NULL;
    long o = comma ? strtol(comma + 1, &end, 10) : -1;
    if (!comma || end == comma + 1 || *end) {
      st = fr_err(FR_ERR_PARSE, "%s:%d: expected CLASS,OUTPUT", path, no);
      break;
    }
    *comma = 0;
    if (o < 0 || o >= K) {
      st = fr_err(FR_ERR_INVALID, "%s:%d: output %ld does not exist (the model "
                  "has %lld)", path, no, o, (long long)K);
      break;
    }
    int c = 0;
    while (c < d->n_classes && strcmp(d->class_names[c], line)) c++;
    if (c == d->n_classes) {
      st = fr_err(FR_ERR_INVALID, "%s:%d: the data has no class '%s'", path, no, line);
      break;
    }
    for (int k = 0; k < d->n_classes; k++)
      if (k != c && out[k] == o)
        st = fr_err(FR_ERR_INVALID, "%s:%d: classes '%s' and '%s' map to output %ld",
                    path, no, d->class_names[k], line, o);
    out[c] = (int)o;
  }
  fclose(f);
  for (int c = 0; st == FR_OK && c < d->n_classes; c++)
    if (out[c] < 0)
      st = fr_err(FR_ERR_INVALID, "%s: class '%s' maps to no output", path,
                  d->class_names[c]);
  return st;
}

int fr_cmd_eval(fr_cli *c) {
  fr_train_opts *o = &c->train;
  if (!c->second) {
    fr_err(FR_ERR_USAGE, "frost eval MODEL DATA: no DATA");
    return fr_cli_fail();
  }
  fr_data_opts dop = o->data;
  dop.decode_image = fr_image_decode;
  fr_dataset d = {0};
  fr_model *m = NULL;
  fr_engine e = {0};
  int64_t *conf = NULL;
  fr_tensor in = {0}, *out = NULL;
  if (o->task) {
    dop.label_columns = &o->task;
    dop.n_label_columns = 1;
  }
  fr_status st = fr_dataset_load(c->second, &dop, &d);
  if (st != FR_OK) return fr_cli_fail();
  if (o->task) fr_dataset_use_column(&d, 0);
  int C = d.n_classes;
  int64_t B = o->batch > 0 ? o->batch : 32;
  if (B > d.n) B = d.n;
  if (!d.label)
    st = fr_err(FR_ERR_USAGE, "%s has number columns, not classes: frost eval "
                "measures classifiers", c->second);
  if (st == FR_OK) {
    fr_onnx_opts lo = {.quiet = true, .max_bytes = c->max_memory};
    st = fr_onnx_load(c->model, &lo, &m);
    if (st != FR_OK) fr_err_prefix(c->model);
  }
  if (st == FR_OK) st = fr_cli_feed(m, c->model, c->second, B, d.rank, d.dims);
  if (st == FR_OK) {
    bool interp = c->engine && !strcmp(c->engine, "interp");
    fr_pipeline_opts *po = &c->pipe;
    e = (fr_engine){.name = interp ? "opt" : "jit", .pipe = po, .jit = c->jit};
    st = fr_engine_prepare(&e, m);
    if (st != FR_OK) fr_err_prefix(c->model);
  }
  /* the first output, or --task's */
  int y_slot = 0;
  if (st == FR_OK && o->task) {
    const fr_graph *g = m->graph;
    while (y_slot < g->n_outputs && strcmp(g->outputs[y_slot]->name, o->task)) y_slot++;
    if (y_slot == g->n_outputs)
      st = fr_err(FR_ERR_USAGE, "--task %s: %s has no output named '%s'", o->task,
                  c->model, o->task);
  }
  if (st == FR_OK && !(out = fr_calloc((size_t)m->graph->n_outputs + 1, sizeof *out)))
    st = fr_err_nomem(NULL);
  const fr_value *y = st == FR_OK ? m->graph->outputs[y_slot] : NULL;
  int *map = NULL;
  if (st == FR_OK && o->label_map) {
    map = fr_malloc(sizeof(int) * (size_t)(C + 1));
    st = map ? read_label_map(o->label_map, &d, y->t.rank == 2 ? y->t.dims[1] : 0, map)
             : fr_err_nomem(NULL);
  }
  if (st == FR_OK && (y->t.rank != 2 || y->t.dims[0] != B || (!map && y->t.dims[1] < C)))
    st = fr_err(FR_ERR_SHAPE, "%s: its output '%s' is not [batch, %d classes]",
                c->model, y->name, C);
  int64_t K = st == FR_OK ? y->t.dims[1] : 0;
  if (st == FR_OK) {
    in = m->graph->inputs[0]->t;
    in.data = NULL;
    st = fr_tensor_alloc(&in);
    conf = fr_calloc((size_t)C * (size_t)C + 1, sizeof *conf);
    if (st == FR_OK && !conf) st = fr_err_nomem(NULL);
  }
  int *order = st == FR_OK ? fr_malloc(sizeof(int) * (size_t)(d.n + 1)) : NULL;
  if (st == FR_OK && !order) st = fr_err_nomem(NULL);
  for (int i = 0; st == FR_OK && i < d.n; i++) order[i] = i;
  int64_t correct = 0, outside = 0, counted = 0;
  int32_t *label = st == FR_OK ? fr_malloc(sizeof(int32_t) * (size_t)(B + 1)) : NULL;
  if (st == FR_OK && !label) st = fr_err_nomem(NULL);
  fr_tensor *inp = &in;
  for (int s = 0; st == FR_OK && s < d.n; s += (int)B) {
    int n = d.n - s < B ? d.n - s : (int)B;
    memset(in.data, 0, fr_tensor_nbytes(&in));
    fr_dataset_gather(&d, order, s, n, in.data, label, NULL);
    st = fr_engine_run(&e, m, &inp, out);
    if (st != FR_OK) break;
    const float *z = out[y_slot].data;
    for (int i = 0; i < n; i++) {
      if (label[i] < 0) continue; /* --task: no label in this row */
      counted++;
      int best = 0;
      if (map) { /* the class whose output scores highest */
        for (int k = 1; k < C; k++)
          if (z[i * K + map[k]] > z[i * K + map[best]]) best = k;
      } else {
        for (int64_t k = 1; k < K; k++)
          if (z[i * K + k] > z[i * K + best]) best = (int)k;
      }
      if (best >= C) {
        outside++;
        continue;
      }
      conf[label[i] * C + best]++;
      correct += best == label[i];
    }
    for (int k = 0; k < m->graph->n_outputs; k++) fr_tensor_release(&out[k]);
  }
  if (st == FR_OK) {
    printf("model: %s\ndata: %s: %d samples, %d classes%s\n", c->model, c->second,
           d.n, C, map ? " (zero-shot: mapped to the model's outputs by --label-map)" : "");
    if (o->task)
      printf("task: %s (the output and the column; %lld samples labelled)\n", o->task,
             (long long)counted);
    printf("accuracy: %.2f%% (%lld of %lld)\n",
           counted ? 100.0 * (double)correct / (double)counted : 0.0,
           (long long)correct, (long long)counted);
    if (outside)
      printf("(%lld samples predicted as an output beyond the %d classes)\n",
             (long long)outside, C);
    printf("recall per class:\n");
    for (int k = 0; k < C; k++) {
      int64_t tot = 0;
      for (int p = 0; p < C; p++) tot += conf[k * C + p];
      printf("  %-20s %6.2f%% (%lld of %lld)\n", d.class_names[k],
             tot ? 100.0 * (double)conf[k * C + k] / (double)tot : 0.0,
             (long long)conf[k * C + k], (long long)tot);
    }
    printf("confusion (rows: true class, columns: predicted):\n");
    for (int k = 0; k < C; k++) {
      printf("  %-20s", d.class_names[k]);
      for (int p = 0; p < C; p++) printf(" %6lld", (long long)conf[k * C + p]);
      printf("\n");
    }
    if (o->eval_json) st = write_json(o->eval_json, &d, conf, C, correct, counted);
  }
  fr_free(out);
  fr_free(label);
  fr_free(order);
  fr_free(conf);
  fr_free(map);
  fr_tensor_release(&in);
  fr_engine_free(&e);
  if (m) fr_model_free(m);
  fr_dataset_free(&d);
  return st == FR_OK ? 0 : fr_cli_fail();
}
