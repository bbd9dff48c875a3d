/* test_ops.c: the operator tables of ir/ops.c and runtime/optab.c are
 * complete. Both assert at compile time that they are as long as the enum;
 * a value of the enum without its line in ops.def would still leave a
 * zeroed hole inside them, found here: every entry has a name, a domain,
 * its three functions (infer in fr_ops, exec and plan in fr_rt_ops) and
 * sane ranges, and fr_op_lookup finds it by its name. The other columns
 * keep their invariants: the attribute table (attrs.def) is grouped by op
 * and its defaults fit their types, the flags and the kernel column agree
 * with each other, and the verifier enforces the attribute table. */
#include <math.h>
#include <string.h>

#include "testutil.h"

/* Plans named by ops.def (declared where the table is expanded). */
fr_status fr_plan_unary(const fr_node *, fr_tensor *const *, fr_tensor *const *,
                        fr_kplan *);
fr_status fr_plan_binary(const fr_node *, fr_tensor *const *,
                         fr_tensor *const *, fr_kplan *);
fr_status fr_plan_variadic(const fr_node *, fr_tensor *const *,
                           fr_tensor *const *, fr_kplan *);
fr_status fr_plan_fused(const fr_node *, fr_tensor *const *, fr_tensor *const *,
                        fr_kplan *);

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

/* attrs.def: lines grouped by op in the order of ops.def (fr_op_attrs
 * bisects), each (op, name, type) once, every name used. */
START_TEST(attrs_grouped_by_op) {
  bool used[FR_A_COUNT] = {0};
  for (int i = 0; i < fr_attr_info_count; i++) {
    const fr_attr_info *a = &fr_attr_infos[i];
    ck_assert_msg(a->op >= 0 && a->op < FR_OP_COUNT, "line %d: op %d", i, a->op);
    ck_assert_msg(i == 0 || fr_attr_infos[i - 1].op <= a->op,
                  "line %d (%s %s) is out of the order of ops.def", i,
                  fr_ops[a->op].name, fr_attr_names[a->id]);
    for (int j = 0; j < i; j++)
      ck_assert_msg(fr_attr_infos[j].op != a->op || fr_attr_infos[j].id != a->id ||
                        fr_attr_infos[j].type != a->type,
                    "%s lists '%s' twice", fr_ops[a->op].name,
                    fr_attr_names[a->id]);
    used[a->id] = true;
  }
  for (int id = 0; id < FR_A_COUNT; id++) {
    ck_assert_msg(fr_attr_names[id] && fr_attr_names[id][0], "name %d", id);
    ck_assert_msg(used[id], "attribute name '%s' is listed for no op",
                  fr_attr_names[id]);
  }
  for (int op = 0; op < FR_OP_COUNT; op++) {
    int count;
    const fr_attr_info *a = fr_op_attrs(op, &count);
    for (int i = 0; i < count; i++) ck_assert_int_eq(a[i].op, op);
    int all = 0;
    for (int i = 0; i < fr_attr_info_count; i++) all += fr_attr_infos[i].op == op;
    ck_assert_msg(all == count, "%s: fr_op_attrs finds %d of %d lines",
                  fr_ops[op].name, count, all);
  }
}
END_TEST

/* Each default fits its declared type: INT a whole number, FLOAT a number
 * (or an infinite bound), STRING a string or none, the other types none. */
START_TEST(attrs_defaults_fit_types) {
  for (int i = 0; i < fr_attr_info_count; i++) {
    const fr_attr_info *a = &fr_attr_infos[i];
    const char *op = fr_ops[a->op].name, *name = fr_attr_names[a->id];
    switch (a->type) {
    case FR_ATTR_INT:
      ck_assert_msg(isnan(a->num) || (a->num == floor(a->num) && fabs(a->num) < 1e15),
                    "%s.%s: int default %g", op, name, a->num);
      ck_assert_msg(!a->str, "%s.%s: a string default on an int", op, name);
      break;
    case FR_ATTR_FLOAT:
      ck_assert_msg(!a->str, "%s.%s: a string default on a float", op, name);
      break;
    case FR_ATTR_STRING:
      ck_assert_msg(isnan(a->num), "%s.%s: a number default on a string", op,
                    name);
      break;
    default:
      ck_assert_msg(isnan(a->num) && !a->str,
                    "%s.%s: lists, tensors and graphs have no default here",
                    op, name);
    }
  }
}
END_TEST

/* The flags and the kernel column agree with the rest of the table. */
START_TEST(ops_flags_consistent) {
  for (int i = 0; i < FR_OP_COUNT; i++) {
    const fr_op_info *op = &fr_ops[i];
    unsigned f = op->flags;
    if (f & FR_OPF_VIEW)
      ck_assert_msg(op->in_min >= 1 && op->out_max == 1,
                    "%s: a view has one output, of input 0", op->name);
    if (fr_rt_ops[i].kernel != FR_K_NONE)
      ck_assert_msg(f & FR_OPF_ELEMWISE, "%s: a kernel code but not "
                    "elementwise", op->name);
    if (fr_rt_ops[i].plan == fr_plan_binary || fr_rt_ops[i].plan == fr_plan_variadic ||
        (fr_rt_ops[i].plan == fr_plan_unary && i != FR_OP_ISNAN && i != FR_OP_ISINF))
      ck_assert_msg(fr_rt_ops[i].kernel != FR_K_NONE, "%s: no kernel code",
                    op->name);
    if (f & FR_OPF_COMPARE)
      ck_assert_msg(fr_rt_ops[i].plan == fr_plan_binary, "%s: a comparison is a binary "
                    "elementwise op", op->name);
    if (f & FR_OPF_AFFINE)
      ck_assert_msg(op->in_min >= 2 && op->in_max >= 3 &&
                        fr_op_has_attr(i, FR_A_GROUP) + fr_op_has_attr(i, FR_A_TRANS_B) == 1,
                    "%s: an affine op takes x, W and a bias (Conv-like or "
                    "Gemm-like)", op->name);
    if (f & FR_OPF_ACT_EPILOGUE)
      ck_assert_msg((f & FR_OPF_ELEMWISE) && op->in_min == 1,
                    "%s: an epilogue activation is a unary elementwise op",
                    op->name);
    if ((f & FR_OPF_EPILOGUE) && fr_domain_is_onnx(op->domain)) {
      char name[64];
      snprintf(name, sizeof name, "Fused%s", op->name);
      fr_op fused = fr_op_lookup("frost", name);
      ck_assert_msg(fused < FR_OP_COUNT && (fr_ops[fused].flags & FR_OPF_EPILOGUE),
                    "%s: no frost.%s taking the epilogue", op->name, name);
    }
  }
}
END_TEST

/* Every activation flagged FR_OPF_ACT_EPILOGUE is one the fused plan
 * computes (pass_fuse fuses exactly these). */
START_TEST(act_epilogues_planned) {
  fr_model *m = fg_model(17);
  fr_value *a = fg_input(m, "a", FR_F32, 2, FT_DIMS(2, 3));
  fr_value *b = fg_input(m, "b", FR_F32, 2, FT_DIMS(3, 4));
  fr_node *n = fg_node(m, "MatMul", "y", 2, (fr_value *[]){a, b});
  fg_output(m, n->out[0]);
  fg_finish(m);
  n->op = FR_OP_FUSED_MATMUL;
  n->domain = "frost";
  fr_attr act = {.name = "activation", .type = FR_ATTR_STRING};
  n->attrs = &act;
  n->n_attr = 1;
  fr_tensor *in[4] = {&a->t, &b->t, NULL, NULL}, *out[1] = {&n->out[0]->t};
  fr_kplan *kp = fr_calloc(1, sizeof *kp);
  for (int i = 0; i < FR_OP_COUNT; i++) {
    if (!(fr_ops[i].flags & FR_OPF_ACT_EPILOGUE)) continue;
    act.s = fr_ops[i].name;
    act.slen = strlen(act.s);
    ck_assert_msg(fr_plan_fused(n, in, out, kp) == FR_OK,
                  "%s: the fused plan refuses it: %s", fr_ops[i].name,
                  fr_err_msg());
  }
  act.s = "Softplus";
  act.slen = strlen(act.s);
  ck_assert_int_eq(fr_plan_fused(n, in, out, kp), FR_ERR_INVALID);
  fr_free(kp);
  n->n_attr = 0;
  fr_model_free(m);
}
END_TEST

/* The verifier rejects attributes the op does not list and attributes of
 * another type, naming the node; a float may be given as an int. */
START_TEST(verify_checks_attrs) {
  fr_model *m = fg_model(17);
  fr_value *x = fg_input(m, "x", FR_F32, 2, FT_DIMS(2, 3));
  fr_node *n = fg_node(m, "LeakyRelu", "y", 1, (fr_value *[]){x});
  n->name = "act";
  fg_output(m, n->out[0]);
  fg_attr_i(m, n, "alpha", 1); /* an int for a float: read as 1.0 */
  fg_finish(m);
  ck_assert_int_eq(fr_graph_verify(m->graph), FR_OK);
  ck_assert_float_eq(fr_attr_float(n, FR_A_ALPHA), 1.0f);
  n->attrs[0].name = "beta";
  ck_assert_int_eq(fr_graph_verify(m->graph), FR_ERR_INVALID);
  ck_assert_msg(strstr(fr_err_msg(), "'act'") && strstr(fr_err_msg(), "unknown attribute 'beta'"),
                "%s", fr_err_msg());
  n->attrs[0].name = "alpha";
  n->attrs[0].type = FR_ATTR_STRING;
  n->attrs[0].s = "x";
  ck_assert_int_eq(fr_graph_verify(m->graph), FR_ERR_INVALID);
  ck_assert_msg(strstr(fr_err_msg(), "'act'") &&
                    strstr(fr_err_msg(), "attribute 'alpha' is a string, expected a float"),
                "%s", fr_err_msg());
  /* absent: the default of the op's line */
  n->n_attr = 0;
  ck_assert_float_eq(fr_attr_float(n, FR_A_ALPHA), 0.01f);
  fr_model_free(m);
}
END_TEST

FT_MAIN(ops, ops_table_complete, ops_lookup_unknown, attrs_grouped_by_op,
        attrs_defaults_fit_types, ops_flags_consistent, act_epilogues_planned,
        verify_checks_attrs)
