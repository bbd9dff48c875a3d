/* print.c: the IR as text (one line per node) and as Graphviz DOT.
 *
 *   graph NAME
 *     input  x: f32[1,3,48,192]
 *     init   w: f32[8,3,3,3]  (648 B)
 *     y: f32[1,8,24,96] = Conv(x, w, b) {group=1, strides=[2,2]}  # conv_0
 *     output y
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* Names are printed bare when they are plain, else quoted. */
static void put_name(FILE *f, const char *s) {
  bool plain = s[0] != 0;
  for (const char *p = s; *p; p++)
    if (!(((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9') ||
          strchr("_.:/-", *p)))
      plain = false;
  if (plain) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\') fputc('\\', f);
    if ((unsigned char)*p < 32)
      fprintf(f, "\\x%02x", (unsigned char)*p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static void put_type(FILE *f, const fr_tensor *t) {
  char buf[256];
  fputs(fr_shape_str(t, buf, sizeof buf), f);
}

/* A few leading elements of a known tensor, for small constants. */
static void put_data(FILE *f, const fr_tensor *t) {
  int64_t n = fr_tensor_numel(t);
  if (!t->data || t->kind != FR_KIND_TENSOR || t->dtype == FR_STRING ||
      t->dtype == FR_C64 || t->dtype == FR_C128 || n > 8)
    return;
  fputs(" {", f);
  for (int64_t i = 0; i < n; i++) {
    if (i) fputs(", ", f);
    if (fr_dtype_is_float(t->dtype))
      fprintf(f, "%g", fr_tensor_get_f64(t, i));
    else
      fprintf(f, "%lld", (long long)fr_tensor_get_i64(t, i));
  }
  fputc('}', f);
}

static void put_attr(FILE *f, const fr_attr *a) {
  fprintf(f, "%s=", a->name);
  switch (a->type) {
  case FR_ATTR_FLOAT: fprintf(f, "%g", a->f); break;
  case FR_ATTR_INT: fprintf(f, "%lld", (long long)a->i); break;
  case FR_ATTR_STRING: put_name(f, a->s); break;
  case FR_ATTR_TENSOR:
    fputc('<', f);
    put_type(f, a->t);
    put_data(f, a->t);
    fputc('>', f);
    break;
  case FR_ATTR_GRAPH: fprintf(f, "<graph %s>", a->g->name); break;
  case FR_ATTR_FLOATS:
  case FR_ATTR_INTS:
  case FR_ATTR_STRINGS:
    fputc('[', f);
    for (int i = 0; i < a->n; i++) {
      if (i) fputc(',', f);
      if (a->type == FR_ATTR_FLOATS) fprintf(f, "%g", a->floats[i]);
      else if (a->type == FR_ATTR_INTS) fprintf(f, "%lld", (long long)a->ints[i]);
      else put_name(f, a->strings[i]);
    }
    fputc(']', f);
    break;
  case FR_ATTR_TENSORS: fprintf(f, "<%d tensors>", a->n); break;
  case FR_ATTR_GRAPHS: fprintf(f, "<%d graphs>", a->n); break;
  default: fputs("?", f); break;
  }
}

static void put_value(FILE *f, const fr_value *v) {
  put_name(f, v->name);
  fputs(": ", f);
  put_type(f, &v->t);
  if (v->offset >= 0) fprintf(f, " @%lld", (long long)v->offset);
}

/* A parameter's mark: what training does with it. */
static const char *param_mark(const fr_value *v) {
  if (v->flags & FR_V_TRAINABLE) return "trainable";
  if (v->flags & FR_V_STATE) return "statistic";
  return "frozen";
}

/* A node's mark: whether it gets backward code. */
static const char *node_mark(const fr_node *n) {
  return n->backward ? "backward" : n->trainable ? "trainable" : "frozen";
}

static void print_graph(FILE *f, const fr_graph *g, int indent) {
  fprintf(f, "%*sgraph ", indent, "");
  put_name(f, g->name[0] ? g->name : "main");
  fputc('\n', f);
  indent += 2;
  for (int i = 0; i < g->n_inputs; i++) {
    fprintf(f, "%*sinput  ", indent, "");
    put_value(f, g->inputs[i]);
    fputc('\n', f);
  }
  for (int i = 0; i < g->n_inits; i++) {
    const fr_value *v = g->inits[i];
    fprintf(f, "%*sinit   ", indent, "");
    put_value(f, v);
    put_data(f, &v->t);
    fprintf(f, "  %s%s\n", param_mark(v),
            v->flags & FR_V_FOLDED ? " folded" : "");
  }
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    fprintf(f, "%*s", indent, "");
    int shown = 0;
    for (int i = 0; i < n->n_out; i++) {
      if (!n->out[i]) continue;
      if (shown++) fputs(", ", f);
      put_value(f, n->out[i]);
    }
    fputs(shown ? " = " : "", f);
    if (!fr_domain_is_onnx(n->domain)) fprintf(f, "%s.", n->domain);
    fprintf(f, "%s(", n->op_type);
    for (int i = 0; i < n->n_in; i++) {
      if (i) fputs(", ", f);
      if (n->in[i]) put_name(f, n->in[i]->name);
      else fputs("_", f);
    }
    fputc(')', f);
    if (n->n_attr) {
      fputs(" {", f);
      for (int i = 0; i < n->n_attr; i++) {
        if (i) fputs(", ", f);
        put_attr(f, &n->attrs[i]);
      }
      fputc('}', f);
    }
    if (!g->parent)
      fprintf(f, "  %s", node_mark(n));
    if (n->name[0]) {
      fputs("  # ", f);
      put_name(f, n->name);
    }
    fputc('\n', f);
    for (int i = 0; i < n->n_attr; i++) {
      const fr_attr *a = &n->attrs[i];
      if (a->type == FR_ATTR_GRAPH) print_graph(f, a->g, indent + 2);
      if (a->type == FR_ATTR_GRAPHS)
        for (int j = 0; j < a->n; j++) print_graph(f, a->graphs[j], indent + 2);
    }
  }
  for (int i = 0; i < g->n_outputs; i++) {
    fprintf(f, "%*soutput ", indent, "");
    put_name(f, g->outputs[i]->name);
    fputc('\n', f);
  }
}

void fr_print_graph(FILE *f, const fr_graph *g) { print_graph(f, g, 0); }

/* The marks, as the freeze pass (compiler/passes/freeze.c) and the autodiff
 * pass set them; docs/ir.md says the same. */
void fr_print_marks(FILE *f, const fr_graph *g) {
  uint32_t vf = 0;
  bool frozen = false, trainable = false, backward = false, still = false;
  for (int i = 0; i < g->n_inits; i++) {
    vf |= g->inits[i]->flags;
    frozen |= !(g->inits[i]->flags & (FR_V_TRAINABLE | FR_V_STATE));
  }
  for (int k = 0; k < g->n_nodes; k++) {
    backward |= g->nodes[k]->backward;
    trainable |= !g->nodes[k]->backward && g->nodes[k]->trainable;
    still |= !g->nodes[k]->backward && !g->nodes[k]->trainable;
  }
  if (!g->n_inits && !g->n_nodes) return;
  fputs("marks:\n", f);
  if (vf & FR_V_TRAINABLE)
    fputs("  init trainable  a trainable parameter (FR_V_TRAINABLE): training "
          "updates it\n", f);
  if (vf & FR_V_STATE)
    fputs("  init statistic  a statistic training updates without a gradient "
          "(FR_V_STATE, --bn-train)\n", f);
  if (frozen)
    fputs("  init frozen     a frozen parameter: a constant to the compiler\n", f);
  if (vf & FR_V_FOLDED)
    fputs("  init folded     computed at compile time by a fold pass, not one "
          "of the model's initializers (FR_V_FOLDED)\n", f);
  if (trainable)
    fputs("  node trainable  computes from a trainable parameter, so its "
          "outputs need a gradient (FR_V_GRAD): gets backward code, never "
          "folded\n", f);
  if (still)
    fputs("  node frozen     computes from no trainable parameter (no input "
        "needs a gradient), even after a --train-from name: no backward "
        "code; folded when its inputs are constants, else compiled frozen\n",
        f);
  if (backward)
    fputs("  node backward   made by the autodiff pass: computes a gradient\n", f);
}

typedef struct op_count {
  const char *name;
  int count;
} op_count;

static int cmp_count(const void *a, const void *b) {
  const op_count *x = a, *y = b;
  if (x->count != y->count) return y->count - x->count;
  return strcmp(x->name, y->name);
}

/* Counts nodes per op type and parameters over g and its subgraphs. */
typedef struct params {
  int64_t n, bytes, train, train_bytes;
} params;

static void add_param(params *p, const fr_value *v, const fr_tensor *t) {
  p->n += fr_tensor_numel(t);
  p->bytes += (int64_t)fr_tensor_nbytes(t);
  if (v->flags & FR_V_TRAINABLE) {
    p->train += fr_tensor_numel(t);
    p->train_bytes += (int64_t)fr_tensor_nbytes(t);
  }
}

static void tally(const fr_graph *g, op_count *ops, int *n_ops, int cap,
                  params *p) {
  for (int i = 0; i < g->n_inits; i++) add_param(p, g->inits[i], &g->inits[i]->t);
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    int j;
    for (j = 0; j < *n_ops; j++)
      if (!strcmp(ops[j].name, n->op_type)) break;
    if (j == *n_ops && *n_ops < cap) ops[(*n_ops)++] = (op_count){n->op_type, 0};
    if (j < *n_ops) ops[j].count++;
    if (n->op == FR_OP_CONSTANT && n->n_attr == 1 && n->out[0] &&
        n->attrs[0].type == FR_ATTR_TENSOR) /* weights held by Constants */
      add_param(p, n->out[0], n->attrs[0].t);
    for (int i = 0; i < n->n_attr; i++) {
      const fr_attr *a = &n->attrs[i];
      if (a->type == FR_ATTR_GRAPH) tally(a->g, ops, n_ops, cap, p);
      if (a->type == FR_ATTR_GRAPHS)
        for (int m = 0; m < a->n; m++) tally(a->graphs[m], ops, n_ops, cap, p);
    }
  }
}

void fr_print_summary(FILE *f, const fr_model *m) {
  op_count ops[256];
  int n_ops = 0, total = 0;
  params p = {0};
  tally(m->graph, ops, &n_ops, 256, &p);
  qsort(ops, (size_t)n_ops, sizeof ops[0], cmp_count);
  for (int i = 0; i < n_ops; i++) total += ops[i].count;
  fprintf(f, "summary: %d nodes", total);
  for (int i = 0; i < n_ops; i++)
    fprintf(f, "%s %s=%d", i ? "," : ":", ops[i].name, ops[i].count);
  fprintf(f,
          "\nparameters: %lld (%lld bytes): frozen %lld (%lld bytes), "
          "trainable %lld (%lld bytes)\n",
          (long long)p.n, (long long)p.bytes, (long long)(p.n - p.train),
          (long long)(p.bytes - p.train_bytes), (long long)p.train,
          (long long)p.train_bytes);
  if (m->graph->peak >= 0)
    fprintf(f, "activations: %lld bytes at peak (static plan)\n",
            (long long)m->graph->peak);
  if (m->graph->layout) fr_layout_print(f, m->graph);
  if (m->graph->train) fr_print_train_memory(f, m->graph);
}

void fr_print_train_memory(FILE *f, const fr_graph *g) {
  /* Saved activations: forward values a backward node reads. */
  int64_t saved = 0;
  for (int i = 0; i < g->n_values; i++) {
    const fr_value *v = g->values[i];
    if (!v->producer || v->producer->backward || (v->flags & FR_V_CONST) ||
        v->t.kind != FR_KIND_TENSOR || v->t.rank < 0)
      continue;
    bool read = false;
    for (int k = 0; k < g->n_nodes && !read; k++) {
      const fr_node *n = g->nodes[k];
      if (!n->backward || n->dead) continue;
      for (int j = 0; j < n->n_in; j++) read |= n->in[j] == v;
    }
    if (read) saved += (int64_t)fr_tensor_nbytes(&v->t);
  }
  const fr_param_layout *L = g->layout;
  int64_t batch = 0;
  for (int i = 0; i < g->n_inputs; i++)
    if (g->inputs[i]->t.rank > 0) {
      batch = g->inputs[i]->t.dims[0];
      break;
    }
  fprintf(f, "training memory (batch %lld):\n", (long long)batch);
  if (L) {
    fprintf(f, "  frozen parameters    %12lld bytes\n", (long long)L->bytes[FR_PB_FROZEN]);
    fprintf(f, "  trainable parameters %12lld bytes\n", (long long)L->bytes[FR_PB_TRAINABLE]);
    fprintf(f, "  gradients            %12lld bytes\n", (long long)L->bytes[FR_PB_GRAD]);
    fprintf(f, "  optimizer state      %12lld bytes (%d slots)\n",
            (long long)L->bytes[FR_PB_STATE], L->state_slots);
  }
  fprintf(f, "  saved activations    %12lld bytes (forward values the backward reads)\n",
          (long long)saved);
  if (g->peak >= 0)
    fprintf(f, "  activation buffer    %12lld bytes (planned peak, forward and backward)\n",
            (long long)g->peak);
}

/* ---- DOT ---------------------------------------------------------- */

/* The fill colours of nodes, one per mark (and the legend's). */
#define DOT_FROZEN "#dcdcdc"
#define DOT_TRAINABLE "#ffb347"
#define DOT_BACKWARD "#f08080"
#define DOT_FOLDED "#b0d8f0"

/* s inside a DOT string: quotes and backslashes escaped, control
 * characters dropped. */
static void dot_str(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    if ((unsigned char)*s >= 32) fputc(*s, f);
  }
}

/* A node's box: its op and name, then its parameters (initializers it
 * reads): trainable ones and statistics one per line with shape and bytes,
 * frozen ones summed, the folded among them counted. Left-justified
 * lines (\l). */
static void dot_node(FILE *f, const fr_node *n) {
  const char *fill = n->backward ? DOT_BACKWARD : n->trainable ? DOT_TRAINABLE : DOT_FROZEN;
  fprintf(f, "  n%d [shape=box, fillcolor=\"%s\", label=\"", n->index, fill);
  if (!fr_domain_is_onnx(n->domain)) {
    dot_str(f, n->domain);
    fputc('.', f);
  }
  dot_str(f, n->op_type);
  if (n->name[0]) {
    fputs("  ", f);
    dot_str(f, n->name);
  }
  fprintf(f, "  %s\\l", node_mark(n));
  int frozen = 0, folded = 0;
  int64_t frozen_bytes = 0, folded_bytes = 0;
  for (int i = 0; i < n->n_in; i++) {
    const fr_value *v = n->in[i];
    if (!v || !(v->flags & FR_V_CONST)) continue;
    bool seen = false; /* a parameter read twice counts once */
    for (int j = 0; j < i; j++) seen |= n->in[j] == v;
    if (seen) continue;
    int64_t bytes = (int64_t)fr_tensor_nbytes(&v->t);
    if (v->flags & FR_V_WRITABLE) {
      char buf[256];
      fprintf(f, "%s ", param_mark(v));
      dot_str(f, v->name);
      fprintf(f, " %s %lld B\\l", fr_shape_str(&v->t, buf, sizeof buf),
              (long long)bytes);
    } else {
      frozen++;
      frozen_bytes += bytes;
      if (v->flags & FR_V_FOLDED) {
        folded++;
        folded_bytes += bytes;
      }
    }
  }
  if (frozen)
    fprintf(f, "frozen: %d constant%s, %lld B\\l", frozen, frozen > 1 ? "s" : "",
            (long long)frozen_bytes);
  if (folded)
    fprintf(f, "  of which folded: %d, %lld B\\l", folded, (long long)folded_bytes);
  fputs("\"];\n", f);
}

static void dot_graph(FILE *f, const fr_graph *g) {
  for (int i = 0; i < g->n_inputs; i++) {
    char buf[256];
    fprintf(f, "  v%d [shape=ellipse, label=\"", g->inputs[i]->id);
    dot_str(f, g->inputs[i]->name);
    fprintf(f, "\\n%s\"];\n", fr_shape_str(&g->inputs[i]->t, buf, sizeof buf));
  }
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    dot_node(f, n);
    for (int i = 0; i < n->n_in; i++) {
      const fr_value *v = n->in[i];
      if (!v || (v->flags & FR_V_CONST)) continue;
      char buf[256];
      if (v->producer)
        fprintf(f, "  n%d -> n%d [label=\"%s\"];\n", v->producer->index,
                n->index, fr_shape_str(&v->t, buf, sizeof buf));
      else if (v->flags & FR_V_INPUT)
        fprintf(f, "  v%d -> n%d;\n", v->id, n->index);
    }
  }
  for (int i = 0; i < g->n_outputs; i++) {
    const fr_value *v = g->outputs[i];
    fprintf(f, "  o%d [shape=ellipse, label=\"", v->id);
    dot_str(f, v->name);
    fputs("\"];\n", f);
    if (v->producer)
      fprintf(f, "  n%d -> o%d;\n", v->producer->index, v->id);
  }
}

/* The legend: a box per mark the graph holds, and the parameter totals. */
static void dot_legend(FILE *f, const fr_graph *g) {
  bool backward = false;
  for (int k = 0; k < g->n_nodes; k++) backward |= g->nodes[k]->backward;
  params p = {0};
  int64_t folded = 0, folded_bytes = 0;
  for (int i = 0; i < g->n_inits; i++) {
    const fr_value *v = g->inits[i];
    add_param(&p, v, &v->t);
    if (v->flags & FR_V_FOLDED) {
      folded++;
      folded_bytes += (int64_t)fr_tensor_nbytes(&v->t);
    }
  }
  fputs("  subgraph cluster_legend {\n"
        "    label=\"legend\";\n"
        "    fontname=\"monospace\";\n", f);
  fputs("    legend_frozen [shape=box, fillcolor=\"" DOT_FROZEN "\", "
        "label=\"frozen node\\lcomputes from no trainable parameter:\\l"
        "no backward code; folded when its inputs are constants\\l\"];\n", f);
  fputs("    legend_trainable [shape=box, fillcolor=\"" DOT_TRAINABLE "\", "
        "label=\"trainable node\\lcomputes from a trainable parameter:\\l"
        "gets backward code, never folded\\l\"];\n", f);
  if (backward)
    fputs("    legend_backward [shape=box, fillcolor=\"" DOT_BACKWARD "\", "
          "label=\"backward node\\lmade by the autodiff pass\\l\"];\n", f);
  fprintf(f, "    legend_params [shape=note, fillcolor=\"" DOT_FOLDED "\", "
          "label=\"parameters (initializers) in node boxes:\\l"
          "trainable: listed, shape and bytes\\l"
          "frozen: counted and summed; folded: computed by a fold pass\\l"
          "total: frozen %lld (%lld B), trainable %lld (%lld B)\\l",
          (long long)(p.n - p.train), (long long)(p.bytes - p.train_bytes),
          (long long)p.train, (long long)p.train_bytes);
  if (folded)
    fprintf(f, "folded: %lld tensors (%lld B)\\l\"];\n", (long long)folded,
            (long long)folded_bytes);
  else
    fputs("folded: none\\l\"];\n", f);
  fputs("    legend_frozen -> legend_trainable", f);
  if (backward) fputs(" -> legend_backward", f);
  fputs(" -> legend_params [style=invis];\n  }\n", f);
}

void fr_print_dot(FILE *f, const fr_graph *g) {
  fputs("digraph frost {\n  rankdir=TB;\n"
        "  node [fontname=\"monospace\", style=filled, fillcolor=white];\n"
        "  edge [fontname=\"monospace\"];\n",
        f);
  dot_legend(f, g);
  dot_graph(f, g);
  fputs("}\n", f);
}

/* ---- node profile -------------------------------------------------------- */

enum { PROFILE_TOP = 25 };

/* A node's op as the IR prints it: frost.FusedConv, Conv. */
static const char *op_spelled(const fr_node *n, char *buf, size_t size) {
  if (fr_domain_is_onnx(n->domain)) return n->op_type;
  snprintf(buf, size, "%s.%s", n->domain, n->op_type);
  return buf;
}

void fr_print_profile(FILE *f, const fr_graph *g, const double *ms, int64_t runs) {
  const int n = g->n_nodes;
  double total = 0;
  for (int k = 0; k < n; k++) total += ms[k];
  const double per = runs > 0 ? 1.0 / (double)runs : 0, pct = total > 0 ? 100 / total : 0;
  fprintf(f, "===- node profile: %lld run%s, %.3f ms per run -===\n", (long long)runs,
          runs == 1 ? "" : "s", total * per);
  fprintf(f, "  %10s  %6s  %-22s %s\n", "ms/run", "%", "op", "node: output");
  /* the top nodes, by selection (graphs have a few thousand nodes) */
  bool *shown = fr_calloc((size_t)n + 1, sizeof *shown);
  if (!shown) return;
  for (int r = 0; r < PROFILE_TOP && r < n; r++) {
    int best = -1;
    for (int k = 0; k < n; k++)
      if (!shown[k] && (best < 0 || ms[k] > ms[best])) best = k;
    if (best < 0 || ms[best] <= 0) break;
    shown[best] = true;
    const fr_node *nd = g->nodes[best];
    char buf[256], ob[128];
    const fr_value *o = nd->n_out ? nd->out[0] : NULL;
    fprintf(f, "  %10.3f  %5.1f%%  %-22s %s: %s %s\n", ms[best] * per, ms[best] * pct,
            op_spelled(nd, ob, sizeof ob), nd->name ? nd->name : "?", o ? o->name : "-",
            o ? fr_shape_str(&o->t, buf, sizeof buf) : "");
  }
  fprintf(f, "===- by op -===\n  %10s  %6s  %5s  %s\n", "ms/run", "%", "nodes", "op");
  double op_ms[FR_OP_COUNT + 1] = {0};
  int op_n[FR_OP_COUNT + 1] = {0}, first[FR_OP_COUNT + 1] = {0};
  for (int k = 0; k < n; k++) {
    int op = g->nodes[k]->op >= 0 && g->nodes[k]->op < FR_OP_COUNT ? g->nodes[k]->op
                                                                   : FR_OP_COUNT;
    if (!op_n[op]) first[op] = k;
    op_ms[op] += ms[k];
    op_n[op]++;
  }
  /* ops with nodes, largest time first */
  for (;;) {
    int best = -1;
    for (int op = 0; op < FR_OP_COUNT; op++)
      if (op_n[op] > 0 && (best < 0 || op_ms[op] > op_ms[best])) best = op;
    if (best < 0) break;
    char ob[128];
    fprintf(f, "  %10.3f  %5.1f%%  %5d  %s\n", op_ms[best] * per, op_ms[best] * pct,
            op_n[best], op_spelled(g->nodes[first[best]], ob, sizeof ob));
    op_n[best] = 0;
  }
  fr_free(shown);
}
