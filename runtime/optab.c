/* optab.c: the runtime's columns of the operator table, expanded from
 * ir/ops.def beside the IR's own (ir/ops.c): each op's interpreter glue
 * (exec), kernel plan (plan) and the kernel's operation code (kernel),
 * so that the IR needs no kernel header. */
#include "runtime.h"

/* Declarations of every exec and plan function the table names. */
#define FR_OP(ENUM, name, domain, since, last, in_min, in_max, out_min,       \
              out_max, flags, infer, exec, plan, kernel, grad)                \
  fr_status exec(fr_exec *, const fr_node *, fr_tensor *const *,             \
                 fr_tensor *const *);                                         \
  fr_status plan(const fr_node *, fr_tensor *const *, fr_tensor *const *,    \
                 fr_kplan *);
#include "../ir/ops.def"
#undef FR_OP

/* No explicit size, as fr_ops: the assertion below fails when the enum has
 * a value past the table's last entry; a hole leaves a zeroed entry, which
 * the unit test test_ops (ops_table_complete) finds. */
const fr_rt_op fr_rt_ops[] = {
#define FR_OP(ENUM, name, domain, since, last, in_min, in_max, out_min,       \
              out_max, flags, infer, exec, plan, kernel, grad)                \
  [FR_OP_##ENUM] = {exec, plan, FR_K_##kernel},
#include "../ir/ops.def"
#undef FR_OP
};

_Static_assert(sizeof fr_rt_ops / sizeof fr_rt_ops[0] == FR_OP_COUNT,
               "runtime op table out of sync with the enum");

fr_status fr_plan_none(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *p) {
  (void)in;
  (void)out;
  (void)p;
  return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel plan");
}
