/* compiler.h: the internal header of frost's compiler and command.
 * Sections: main.c (the frost command), conformance.c (the ONNX backend
 * node tests), compare.c (tensor comparison). */
#ifndef FROST_COMPILER_H
#define FROST_COMPILER_H

#include "../frontends/onnx/onnx.h"
#include "../runtime/runtime.h"

/* ---- compare.c ------------------------------------------------------ */

/* FR_OK when got matches want within rtol/atol (floats; others exact);
 * otherwise FR_ERR_INVALID with the first mismatch described. */
fr_status fr_compare(const fr_tensor *got, const fr_tensor *want, double rtol,
                     double atol);

/* ---- conformance.c -------------------------------------------------- */

typedef struct fr_conf_opts {
  const char *dir;     /* folder of test folders */
  const char *engine;  /* "interp" */
  const char *expect;  /* file listing tests that must pass, or NULL */
  const char *filter;  /* substring of test names, or NULL */
  const char *write_passing; /* write the passing tests' names here */
  bool verbose;
  int timeout_s;
} fr_conf_opts;

/* Runs the tests; returns FR_ERR_INVALID when an expected test fails. */
fr_status fr_conformance(const fr_conf_opts *o);

/* ---- main.c --------------------------------------------------------- */

/* Binds inputs to g's inputs and runs the model with the interpreter. */
fr_status fr_run_model(fr_model *m, fr_tensor *const *inputs, fr_tensor *out);

#endif
