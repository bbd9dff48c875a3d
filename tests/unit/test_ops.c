/* test_ops.c: the operator table of ir/ops.c is complete. ops.c asserts at
 * compile time that the table is as long as the enum; a value of the enum
 * without its line in ops.def would still leave a zeroed hole inside the
 * table, found here: every entry has a name, a domain, its three functions
 * and sane ranges, and fr_op_lookup finds it by its name. */
#include "testutil.h"

START_TEST(ops_table_complete) {
  for (int i = 0; i < FR_OP_COUNT; i++) {
    const fr_op_info *op = &fr_ops[i];
    ck_assert_msg(op->name && op->name[0], "fr_ops[%d] has no name", i);
    ck_assert_msg(op->domain != NULL, "%s: no domain", op->name);
    ck_assert_msg(op->infer && op->exec && op->plan,
                  "%s: an infer, exec or plan function is missing", op->name);
    ck_assert_msg(op->since >= 1 && op->since <= op->last,
                  "%s: opsets %d to %d", op->name, op->since, op->last);
    ck_assert_msg(op->in_min >= 0 && (op->in_max == -1 || op->in_min <= op->in_max),
                  "%s: inputs %d to %d", op->name, op->in_min, op->in_max);
    ck_assert_msg(op->out_min >= 0 && (op->out_max == -1 || op->out_min <= op->out_max),
                  "%s: outputs %d to %d", op->name, op->out_min, op->out_max);
    ck_assert_msg(fr_op_lookup(op->domain, op->name) == (fr_op)i,
                  "%s: fr_op_lookup finds %d, not %d (listed twice?)", op->name,
                  (int)fr_op_lookup(op->domain, op->name), i);
  }
}
END_TEST

START_TEST(ops_lookup_unknown) {
  ck_assert_int_eq(fr_op_lookup("", "FrobnicateV2"), FR_OP_COUNT);
  ck_assert_int_eq(fr_op_lookup("com.example", "Relu"), FR_OP_COUNT);
  ck_assert_int_ne(fr_op_lookup("", "Relu"), FR_OP_COUNT);
  ck_assert_int_eq(fr_op_lookup("ai.onnx", "Relu"), fr_op_lookup("", "Relu"));
}
END_TEST

FT_MAIN(ops, ops_table_complete, ops_lookup_unknown)
