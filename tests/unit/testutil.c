/* testutil.c: one-node models for unit tests. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

ft_case *ft_new(const char *op, int opset, int n_in, int n_out, int max_attr) {
  ft_case *c = fr_calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  c->m = fr_model_new();
  fr_model *m = c->m;
  m->path = "test";
  m->opsets = fr_arena_alloc(&m->arena, sizeof(fr_opset));
  m->opsets[0] = (fr_opset){"", opset};
  m->n_opsets = 1;
  fr_graph *g = fr_graph_new(m, NULL, "test");
  m->graph = g;
  g->inputs = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)(n_in + 1));
  g->outputs = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)(n_out + 1));
  c->n = fr_node_new(g, "n0", op, "", n_in, n_out, max_attr);
  c->n->n_attr = 0;
  c->n->opset = opset;
  for (int i = 0; i < n_in; i++) {
    char name[32];
    snprintf(name, sizeof name, "in%d", i);
    fr_value *v = fr_value_new(g, name);
    v->flags = FR_V_INPUT;
    c->n->in[i] = v;
    g->inputs[g->n_inputs++] = v;
  }
  for (int i = 0; i < n_out; i++) {
    char name[32];
    snprintf(name, sizeof name, "out%d", i);
    fr_value *v = fr_value_new(g, name);
    v->flags = FR_V_OUTPUT;
    v->producer = c->n;
    c->n->out[i] = v;
    g->outputs[g->n_outputs++] = v;
  }
  return c;
}

void ft_free(ft_case *c) {
  fr_model_free(c->m);
  fr_free(c);
}

static fr_attr *new_attr(ft_case *c, const char *name, fr_attr_type t) {
  fr_attr *a = &c->n->attrs[c->n->n_attr++];
  a->name = fr_arena_strdup(&c->m->arena, name);
  a->type = t;
  return a;
}

void ft_attr_i(ft_case *c, const char *name, int64_t v) {
  new_attr(c, name, FR_ATTR_INT)->i = v;
}

void ft_attr_f(ft_case *c, const char *name, float v) {
  new_attr(c, name, FR_ATTR_FLOAT)->f = v;
}

void ft_attr_s(ft_case *c, const char *name, const char *v) {
  fr_attr *a = new_attr(c, name, FR_ATTR_STRING);
  a->s = fr_arena_strdup(&c->m->arena, v);
  a->slen = strlen(v);
}

void ft_attr_ints(ft_case *c, const char *name, int n, const int64_t *v) {
  fr_attr *a = new_attr(c, name, FR_ATTR_INTS);
  a->n = n;
  a->ints = fr_arena_alloc(&c->m->arena, sizeof(int64_t) * (size_t)n);
  memcpy(a->ints, v, sizeof(int64_t) * (size_t)n);
}

void ft_attr_floats(ft_case *c, const char *name, int n, const float *v) {
  fr_attr *a = new_attr(c, name, FR_ATTR_FLOATS);
  a->n = n;
  a->floats = fr_arena_alloc(&c->m->arena, sizeof(float) * (size_t)n);
  memcpy(a->floats, v, sizeof(float) * (size_t)n);
}

fr_tensor ft_tensor(fr_dtype t, int rank, const int64_t *dims, void *data) {
  fr_tensor x = {.dtype = t, .rank = rank, .data = data};
  for (int i = 0; i < rank; i++) x.dims[i] = dims[i];
  return x;
}

fr_status ft_run(ft_case *c, fr_tensor *in, fr_tensor *out) {
  fr_node *n = c->n;
  n->op = fr_op_lookup(n->domain ? n->domain : "", n->op_type);
  ck_assert_msg(n->op != FR_OP_COUNT, "unknown op %s", n->op_type);
  fr_graph *g = c->m->graph;
  fr_tensor *inp[64];
  for (int i = 0; i < g->n_inputs; i++) {
    g->inputs[i]->t = in[i];
    g->inputs[i]->t.data = NULL;
    inp[i] = &in[i];
  }
  fr_infer_opts io = {0};
  FR_TRY(fr_graph_infer(g, &io));
  FR_TRY(fr_graph_verify(g));
  return fr_run_model(c->m, inp, out);
}

void ft_release(fr_tensor *out, int n) {
  for (int i = 0; i < n; i++) fr_tensor_release(&out[i]);
}

void ft_check_f32(const fr_tensor *got, int n, const float *want, float tol) {
  ck_assert_int_eq(got->dtype, FR_F32);
  ck_assert_int_eq(fr_tensor_numel(got), n);
  const float *g = got->data;
  for (int i = 0; i < n; i++)
    ck_assert_msg(fabsf(g[i] - want[i]) <= tol * (1 + fabsf(want[i])),
                  "element %d: got %g, expected %g", i, g[i], want[i]);
}

/* ---- multi-node graphs ---- */

static fr_value **grow_list(fr_model *m, fr_value **old, int n) {
  fr_value **a = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)(n + 1));
  if (n) memcpy(a, old, sizeof(fr_value *) * (size_t)n);
  return a;
}

fr_model *fg_model(int opset) {
  fr_model *m = fr_model_new();
  m->path = "test";
  m->opsets = fr_arena_alloc(&m->arena, sizeof(fr_opset));
  m->opsets[0] = (fr_opset){"", opset};
  m->n_opsets = 1;
  m->graph = fr_graph_new(m, NULL, "test");
  return m;
}

fr_value *fg_input(fr_model *m, const char *name, fr_dtype t, int rank,
                   const int64_t *dims) {
  fr_graph *g = m->graph;
  fr_value *v = fr_value_new(g, name);
  v->flags = FR_V_INPUT;
  fr_set_shape(&v->t, t, rank, dims);
  g->inputs = grow_list(m, g->inputs, g->n_inputs);
  g->inputs[g->n_inputs++] = v;
  return v;
}

fr_value *fg_const(fr_model *m, const char *name, fr_dtype t, int rank,
                   const int64_t *dims, const void *data) {
  fr_tensor x = {0};
  fr_set_shape(&x, t, rank, dims);
  x.data = (void *)data;
  fr_value *v = fr_value_new(m->graph, name);
  ck_assert_int_eq(fr_value_make_const(m->graph, v, &x), FR_OK);
  return v;
}

fr_node *fg_node(fr_model *m, const char *op, const char *out, int n_in,
                 fr_value *const *in) {
  fr_graph *g = m->graph;
  fr_node *n = fr_node_new(g, out, op, "", n_in, 1, 8);
  n->n_attr = 0;
  n->opset = m->opsets[0].version;
  for (int i = 0; i < n_in; i++) n->in[i] = in[i];
  fr_value *v = fr_value_new(g, out);
  v->producer = n;
  n->out[0] = v;
  return n;
}

void fg_output(fr_model *m, fr_value *v) {
  fr_graph *g = m->graph;
  v->flags |= FR_V_OUTPUT;
  g->outputs = grow_list(m, g->outputs, g->n_outputs);
  g->outputs[g->n_outputs++] = v;
}

static fr_attr *fg_attr(fr_model *m, fr_node *n, const char *name,
                        fr_attr_type t) {
  fr_attr *a = &n->attrs[n->n_attr++];
  a->name = fr_arena_strdup(&m->arena, name);
  a->type = t;
  return a;
}

void fg_attr_i(fr_model *m, fr_node *n, const char *name, int64_t v) {
  fg_attr(m, n, name, FR_ATTR_INT)->i = v;
}

void fg_attr_f(fr_model *m, fr_node *n, const char *name, float v) {
  fg_attr(m, n, name, FR_ATTR_FLOAT)->f = v;
}

void fg_attr_ints(fr_model *m, fr_node *n, const char *name, int k,
                  const int64_t *v) {
  fr_attr *a = fg_attr(m, n, name, FR_ATTR_INTS);
  a->n = k;
  a->ints = fr_arena_alloc(&m->arena, sizeof(int64_t) * (size_t)k);
  memcpy(a->ints, v, sizeof(int64_t) * (size_t)k);
}

void fg_finish(fr_model *m) {
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    g->nodes[k]->op = fr_op_lookup("", g->nodes[k]->op_type);
    ck_assert_msg(g->nodes[k]->op != FR_OP_COUNT, "unknown op %s",
                  g->nodes[k]->op_type);
  }
  fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
  ck_assert_msg(fr_graph_infer(g, &io) == FR_OK, "%s", fr_err_msg());
  ck_assert_msg(fr_graph_verify(g) == FR_OK, "%s", fr_err_msg());
}

char *fg_dump(const fr_model *m) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  fr_print_graph(f, m->graph);
  fr_print_summary(f, m);
  fclose(f);
  return buf;
}

void fg_golden(const char *name, const char *text) {
  const char *dir = getenv("FROST_GOLDEN");
  ck_assert_msg(dir != NULL, "FROST_GOLDEN is not set");
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  const char *update = getenv("FROST_UPDATE_GOLDEN");
  if (update && !strcmp(update, "1")) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return;
  }
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "missing golden file %s", path);
  char want[65536];
  size_t n = fread(want, 1, sizeof want - 1, f);
  want[n] = 0;
  fclose(f);
  ck_assert_msg(!strcmp(want, text), "%s differs; got:\n%s", name, text);
}

void ft_tmpdir(char *dir, size_t n, const char *tag) {
  snprintf(dir, n, "/tmp/frost-%s-XXXXXX", tag);
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

void ft_rmdir(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
