/* fuzz.h: shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Each target defines LLVMFuzzerTestOneInput. Built with clang-19 and
 * -fsanitize=fuzzer (scripts/fuzz) they are fuzzers; built with replay.c
 * instead they replay files (the regression inputs of tests/fuzz/regress,
 * run by ctest in every build, the sanitizer build included). */
#ifndef FROST_FUZZ_H
#define FROST_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include "compiler/cmd/cmd.h"

/* The memory cap of the fuzzers: far below libFuzzer's RSS limit, so a
 * hostile size is refused by frost, never by the fuzzer's watchdog. */
#define FZ_MEM_LIMIT ((size_t)256 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The status of the last input a target checked (fz_check), for replay.c,
 * which knows what its seeds must give; -1 when the target returned before
 * checking anything (run_zero.c defines it). */
extern int fz_status;

/* Every input must leave frost's heap as it found it and, when it fails,
 * a one-line message: abort (a finding) otherwise. (fz_init clears the
 * message before each input.) */
static inline void fz_check(fr_status st, size_t mem_before) {
  fz_status = (int)st;
  if (st != FR_OK && !fr_err_is_set()) {
    fprintf(stderr, "fuzz: error %d without a message\n", (int)st);
    abort();
  }
  if (st != FR_OK && strchr(fr_err_msg(), '\n')) {
    fprintf(stderr, "fuzz: multi-line error message: %s\n", fr_err_msg());
    abort();
  }
  if (fr_mem_in_use() != mem_before) {
    fprintf(stderr, "fuzz: %zu bytes of frost's heap not freed\n",
            fr_mem_in_use() - mem_before);
    abort();
  }
}

/* Shapes fuzz_run gives the loader for inputs of symbolic dims (run_zero.c
 * defines them; none under libFuzzer). The bit-flip test sets them for real
 * models whose dims set to 1 would fail before they run. */
extern const fr_shape_override *fz_shapes;
extern int fz_n_shapes;

/* Runs m with the interpreter on zero-filled inputs (run_zero.c). */
fr_status fz_run_zero(fr_model *m);

/* Called first by every target on every input. */
static inline void fz_init(void) {
  static int done;
  fr_err_clear();
  if (done) return;
  done = 1;
  fr_mem_set_limit(FZ_MEM_LIMIT);
}

#endif
