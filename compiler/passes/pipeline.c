/* pipeline.c: the compiler's pass pipeline - a plain list of passes with the
 * verifier between them, and the inspection options around it:
 * --print-before/--print-after PASS|all (the IR when it changed since the
 * last print, as LLVM's -print-changed), --time-passes. */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* The pipeline, in order. Each pass is one file of compiler/passes/. */
static const fr_pass passes[] = {
    {"freeze", fr_pass_freeze, "frozen and trainable parameters, values and nodes"},
    {"infer", fr_pass_infer, "shape inference on concrete shapes"},
    {"fold", fr_pass_fold, "constant folding of frozen nodes"},
    {"fold-bn", fr_pass_fold_bn, "BatchNormalization into the linear op before it"},
    {"fold-affine", fr_pass_fold_affine, "Mul/Div/Add/Sub by constants into the linear op before them"},
    {"simplify", fr_pass_simplify, "Identity/Dropout removal, dead nodes and parameters"},
    {"cse", fr_pass_cse, "common subexpression elimination"},
    {"autodiff", fr_pass_autodiff, "backward nodes from the loss to the trainable parameters"},
    {"fuse", fr_pass_fuse, "elementwise tails into Conv/Gemm/MatMul"},
    {"plan-memory", fr_pass_plan_memory, "static activation memory plan"},
    {"layout-params", fr_pass_layout_params, "frozen and trainable parameter blocks"},
};
enum { N_PASSES = sizeof passes / sizeof passes[0] };

const fr_pass *fr_passes(int *n) {
  *n = N_PASSES;
  return passes;
}

static bool matches(const char *opt, const char *name) {
  return opt && (!strcmp(opt, "all") || !strcmp(opt, name));
}

fr_status fr_pipeline_check(const fr_pipeline_opts *o) {
  const char *opts[3] = {o->print_before, o->print_after, o->stop_after};
  for (int k = 0; k < 3; k++) {
    if (!opts[k] || !strcmp(opts[k], "all")) continue;
    bool found = false;
    for (int i = 0; i < N_PASSES; i++)
      if (!strcmp(passes[i].name, opts[k])) found = true;
    if (!found) {
      char list[512] = "";
      for (int i = 0; i < N_PASSES; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                 i ? ", " : "", passes[i].name);
      return fr_err(FR_ERR_USAGE, "unknown pass '%s' (passes: %s)", opts[k],
                    list);
    }
  }
  return FR_OK;
}

/* The last IR printed, to print only what changed. Its text comes from
 * open_memstream (malloc's, freed with free). */
typedef struct printer {
  FILE *f;
  char *last; /* NULL: nothing printed yet */
  size_t len;
} printer;

/* g's text, or NULL when it cannot be had (no memory). */
static char *ir_text(const fr_graph *g, size_t *len) {
  char *buf = NULL;
  FILE *m = open_memstream(&buf, len);
  if (!m) return NULL;
  fr_print_graph(m, g);
  if (fclose(m) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static bool same_as_last(const printer *p, const char *text, size_t len) {
  return p->last && text && len == p->len && !memcmp(text, p->last, len);
}

/* "; IR after PASS" and the IR, or "; after PASS: unchanged" when the IR's
 * text is the last print's. */
static void print_ir(printer *p, const fr_graph *g, const char *when,
                     const char *pass) {
  size_t len = 0;
  char *text = ir_text(g, &len);
  if (same_as_last(p, text, len)) {
    fprintf(p->f, "; %s %s: unchanged\n", when, pass);
    free(text);
    return;
  }
  fprintf(p->f, "; IR %s %s\n", when, pass);
  if (text) fwrite(text, 1, len, p->f);
  else fr_print_graph(p->f, g);
  free(p->last);
  p->last = text;
  p->len = len;
}

fr_status fr_pipeline_run(fr_model *m, fr_pipeline_opts *o) {
  printer pr = {.f = o->dump ? o->dump : stdout};
  o->printed_final = false;
  double times[N_PASSES] = {0};
  fr_status st = fr_pipeline_check(o);
  int n = N_PASSES; /* the passes to run: up to stop_after */
  for (int i = 0; o->stop_after && i < N_PASSES; i++)
    if (!strcmp(passes[i].name, o->stop_after)) n = i + 1;
  for (int i = 0; i < n && st == FR_OK; i++) {
    const fr_pass *p = &passes[i];
    if (matches(o->print_before, p->name))
      print_ir(&pr, m->graph, "before", p->name);
    double t0 = fr_now_ms();
    st = p->run(m, o);
    times[i] = fr_now_ms() - t0;
    if (st != FR_OK) break;
    st = fr_graph_verify(m->graph);
    if (st != FR_OK) {
      char msg[1024];
      snprintf(msg, sizeof msg, "after pass %s: %s", p->name, fr_err_msg());
      st = fr_err(st, "%s", msg);
      break;
    }
    if (matches(o->print_after, p->name))
      print_ir(&pr, m->graph, "after", p->name);
  }
  if (st == FR_OK && pr.last) {
    size_t len = 0;
    char *text = ir_text(m->graph, &len);
    o->printed_final = same_as_last(&pr, text, len);
    free(text);
  }
  free(pr.last);
  if (o->time_passes) {
    double total = 0;
    for (int i = 0; i < n; i++) total += times[i];
    fprintf(stderr, "===- pass execution times -===\n");
    fprintf(stderr, "  %10s  %6s  %s\n", "ms", "%", "pass");
    for (int i = 0; i < n; i++)
      fprintf(stderr, "  %10.3f  %5.1f%%  %s\n", times[i],
              total > 0 ? 100 * times[i] / total : 0, passes[i].name);
    fprintf(stderr, "  %10.3f  100.0%%  total\n", total);
  }
  return st;
}
