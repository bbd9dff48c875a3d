/* plan.c: running planned kernel calls in the interpreter. The compiler
 * emits the same calls (compiler/codegen.c). */
#include <string.h>

#include "runtime.h"

void fr_kplan_set(fr_kplan *p, const char *entry, fr_kentry fn,
                  const void *params, size_t size) {
  FR_ASSERT(size <= FR_KPLAN_MAX);
  p->entry = entry;
  p->fn = fn;
  p->size = size;
  memcpy(p->params, params, size);
}

int fr_kplan_in_slots(const fr_node *n) {
  int m = fr_ops[n->op].in_max;
  return m >= 0 ? m : n->n_in;
}

enum { MAX_BUFS = 1024 };

fr_status fr_exec_planned(struct fr_exec *x, const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  (void)x;
  fr_kplan *p = fr_malloc(sizeof *p);
  if (!p) return fr_err_node(FR_ERR_NOMEM, n, "out of memory");
  memset(p, 0, offsetof(fr_kplan, params));
  fr_status st = fr_ops[n->op].plan(n, in, out, p);
  int slots = fr_kplan_in_slots(n), max_out = fr_ops[n->op].out_max;
  if (st == FR_OK && slots + max_out + 1 > MAX_BUFS)
    st = fr_err_node(FR_ERR_UNSUPPORTED, n, "too many operands");
  void *scratch = NULL;
  if (st == FR_OK && p->scratch) {
    scratch = fr_malloc(p->scratch);
    if (!scratch) st = fr_err_node(FR_ERR_NOMEM, n, "out of memory (scratch)");
  }
  if (st == FR_OK) {
    void *bufs[MAX_BUFS];
    for (int i = 0; i < slots; i++)
      bufs[i] = i < n->n_in && in[i] ? in[i]->data : NULL;
    for (int i = 0; i < max_out; i++)
      bufs[slots + i] = i < n->n_out && out[i] ? out[i]->data : NULL;
    bufs[slots + max_out] = scratch;
    p->fn(p->params, bufs);
  }
  fr_free(scratch);
  fr_free(p);
  return st;
}
