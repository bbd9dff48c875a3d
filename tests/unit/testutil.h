/* testutil.h: helpers for unit tests - build a one-node model, run it with
 * the interpreter, compare with expected values. */
#ifndef FROST_TESTUTIL_H
#define FROST_TESTUTIL_H

#include <check.h>

#include "compiler/cmd/cmd.h"

typedef struct ft_case {
  fr_model *m;
  fr_node *n;
  int n_attr; /* attributes set so far */
} ft_case;

/* A model with one node `op` (default domain at `opset`) with n_in graph
 * inputs and n_out graph outputs; room for max_attr attributes. */
ft_case *ft_new(const char *op, int opset, int n_in, int n_out, int max_attr);
void ft_free(ft_case *c);
void ft_attr_i(ft_case *c, const char *name, int64_t v);
void ft_attr_f(ft_case *c, const char *name, float v);
void ft_attr_s(ft_case *c, const char *name, const char *v);
void ft_attr_ints(ft_case *c, const char *name, int n, const int64_t *v);
void ft_attr_floats(ft_case *c, const char *name, int n, const float *v);
/* A tensor view over data (not copied). */
fr_tensor ft_tensor(fr_dtype t, int rank, const int64_t *dims, void *data);
/* Resolves the op, runs shape inference with the inputs' shapes, runs the
 * interpreter. out[] receives the outputs (release with ft_release). */
fr_status ft_run(ft_case *c, fr_tensor *in, fr_tensor *out);
void ft_release(fr_tensor *out, int n);
/* Asserts got (f32) equals want within tol, elementwise. */
void ft_check_f32(const fr_tensor *got, int n, const float *want, float tol);

/* A fresh folder /tmp/frost-TAG-XXXXXX (its name in dir), and removing
 * it with its contents. */
void ft_tmpdir(char *dir, size_t n, const char *tag);
void ft_rmdir(const char *dir);

#define FT_DIMS(...) ((const int64_t[]){__VA_ARGS__})

/* ---- multi-node graphs, for pass tests ---- */
fr_model *fg_model(int opset);
fr_value *fg_input(fr_model *m, const char *name, fr_dtype t, int rank,
                   const int64_t *dims);
/* An initializer holding a copy of data. */
fr_value *fg_const(fr_model *m, const char *name, fr_dtype t, int rank,
                   const int64_t *dims, const void *data);
/* A node op(in...) -> out (one output named out); room for 8 attributes. */
fr_node *fg_node(fr_model *m, const char *op, const char *out, int n_in,
                 fr_value *const *in);
void fg_output(fr_model *m, fr_value *v);
void fg_attr_i(fr_model *m, fr_node *n, const char *name, int64_t v);
void fg_attr_f(fr_model *m, fr_node *n, const char *name, float v);
void fg_attr_ints(fr_model *m, fr_node *n, const char *name, int k,
                  const int64_t *v);
/* Resolves ops, infers shapes, verifies. */
void fg_finish(fr_model *m);
/* The IR as text (caller frees). */
char *fg_dump(const fr_model *m);
/* Compares text with tests/golden/NAME (FROST_GOLDEN is the folder);
 * FROST_UPDATE_GOLDEN=1 writes it instead. */
void fg_golden(const char *name, const char *text);

/* One suite per file: FT_MAIN(name, test1, test2, ...). Each test may take
 * 60 s (check's default, 4 s, is too short for JIT compiles under the
 * sanitizers on a loaded machine). */
#define FT_MAIN(name, ...)                                                    \
  int main(void) {                                                            \
    Suite *s = suite_create(#name);                                           \
    TCase *tc = tcase_create("core");                                         \
    tcase_set_timeout(tc, 60);                                                \
    const TTest *tests_[] = {__VA_ARGS__};                                          \
    for (size_t i_ = 0; i_ < sizeof tests_ / sizeof tests_[0]; i_++)          \
      _tcase_add_test(tc, tests_[i_], 0, 0, 0, 1);                            \
    suite_add_tcase(s, tc);                                                   \
    SRunner *sr = srunner_create(s);                                          \
    srunner_run_all(sr, CK_NORMAL);                                           \
    int nf = srunner_ntests_failed(sr);                                       \
    srunner_free(sr);                                                         \
    return nf ? 1 : 0;                                                        \
  }

#endif
