/* test_ops.c: the operator tables of ir/ops.c and runtime/optab.c are
 * complete. Both assert at compile time that they are as long as the enum;
 * a value of the enum without its line in ops.def would still leave a
 * zeroed hole inside them, found here: every entry has a name, a domain,
 * its three functions (infer in fr_ops, exec and plan in fr_rt_ops) and
 * sane ranges, and fr_op_lookup finds it by its name. */
#include "testutil.h"

START_TEST(ops_table_complete) {
  for (int i = 0; i < FR_OP_COUNT; i++) {
    const fr_op_info *op = &fr_ops[i];
    ck_assert_msg(op->name && op->name[0], "fr_ops[%d] has no name", i);
    ck_assert_msg(op->domain != NULL, "%s: no domain", op->name);
    ck_assert_msg(op->infer && fr_rt_ops[i].exec && fr_rt_ops[i].plan,
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
