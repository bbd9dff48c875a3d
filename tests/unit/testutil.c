/* testutil.c: one-node models for unit tests. */
#include <math.h>
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
  n->op = fr_op_lookup("", n->op_type);
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
