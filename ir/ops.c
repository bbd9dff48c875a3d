/* ops.c: the operator table, expanded from ops.def: the IR's columns (name,
 * domain, opsets, arities, flags, infer). The exec and plan columns belong
 * to the runtime (runtime/optab.c). */
#include <string.h>

#include "ir.h"

/* Declarations of every infer function the table names. */
#define FR_OP(ENUM, name, domain, since, last, in_min, in_max, out_min,       \
              out_max, flags, infer, exec, plan, kernel, grad)                \
  fr_status infer(const fr_node *, fr_tensor *const *, fr_tensor *const *);
#include "ops.def"
#undef FR_OP

/* No explicit size: the table is as long as its highest designated entry,
 * so the assertion below fails when the enum has a value past the table's
 * last entry. A hole inside the table (an enum value without its line)
 * leaves a zeroed entry, which the unit test test_ops (ops_table_complete)
 * finds by its NULL name. */
const fr_op_info fr_ops[] = {
#define FR_OP(ENUM, name, domain, since, last, in_min, in_max, out_min,       \
              out_max, flags, infer, exec, plan, kernel, grad)                \
  [FR_OP_##ENUM] = {name,    domain,  since, last,  in_min, in_max,           \
                    out_min, out_max, flags, infer},
#include "ops.def"
#undef FR_OP
};

_Static_assert(sizeof fr_ops / sizeof fr_ops[0] == FR_OP_COUNT,
               "op table out of sync with the enum");

bool fr_domain_is_onnx(const char *d) {
  return !d || !d[0] || !strcmp(d, "ai.onnx");
}

fr_op fr_op_lookup(const char *domain, const char *name) {
  bool onnx = fr_domain_is_onnx(domain);
  for (int i = 0; i < FR_OP_COUNT; i++) {
    if (strcmp(fr_ops[i].name, name)) continue;
    if (onnx ? fr_domain_is_onnx(fr_ops[i].domain)
             : !strcmp(fr_ops[i].domain, domain))
      return (fr_op)i;
  }
  return FR_OP_COUNT;
}
