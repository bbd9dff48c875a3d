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

int fr_kplan_out_slots(const fr_node *n) {
  int m = fr_ops[n->op].out_max;
  return m >= 1024 ? n->n_out : m;
}

#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(FR_KT_F32, FR_F32) && SAME(FR_KT_U8, FR_U8) &&
                   SAME(FR_KT_I8, FR_I8) && SAME(FR_KT_U16, FR_U16) &&
                   SAME(FR_KT_I16, FR_I16) && SAME(FR_KT_I32, FR_I32) &&
                   SAME(FR_KT_I64, FR_I64) && SAME(FR_KT_STRING, FR_STRING) &&
                   SAME(FR_KT_BOOL, FR_BOOL) && SAME(FR_KT_F16, FR_F16) &&
                   SAME(FR_KT_F64, FR_F64) && SAME(FR_KT_U32, FR_U32) &&
                   SAME(FR_KT_U64, FR_U64) && SAME(FR_KT_BF16, FR_BF16),
               "kernel type numbers differ from fr_dtype");
#undef SAME

fr_status fr_own_strings(const fr_node *n, fr_tensor *y) {
  if (y->dtype != FR_STRING) return FR_OK;
  char **s = y->data;
  int64_t k = fr_tensor_numel(y);
  for (int64_t i = 0; i < k; i++) {
    char *c = fr_strdup(s[i] ? s[i] : "");
    if (!c) {
      for (int64_t j = i; j < k; j++) s[j] = NULL;
      return fr_err_nomem(n);
    }
    s[i] = c;
  }
  return FR_OK;
}

enum { MAX_BUFS = 1024 };

fr_status fr_exec_planned(struct fr_exec *x, const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  (void)x;
  fr_kplan *p = fr_malloc(sizeof *p);
  if (!p) return fr_err_nomem(n);
  memset(p, 0, offsetof(fr_kplan, params));
  fr_status st = fr_rt_ops[n->op].plan(n, in, out, p);
  int slots = fr_kplan_in_slots(n), max_out = fr_kplan_out_slots(n);
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
    for (int i = 0; i < n->n_out && st == FR_OK; i++)
      if (out[i] && out[i]->kind == FR_KIND_TENSOR &&
          out[i]->dtype == FR_STRING)
        st = fr_own_strings(n, out[i]);
  }
  fr_free(scratch);
  fr_free(p);
  return st;
}
