/* replay.c: runs a fuzz target's LLVMFuzzerTestOneInput on files, without
 * libFuzzer, so the regression inputs and seed corpora run in ctest with
 * any compiler (and under ASan/UBSan in the sanitizer build).
 *
 *   fuzz_TARGET_replay FILE|DIR...     (a folder: every file in it)
 *
 * Each input must not crash, leak or give a multi-line message (the
 * target's own checks, fz_check in fuzz.h). Beyond that, a file whose name
 * starts with "ok-" must be accepted (status FR_OK) and one starting with
 * "bad-" refused with a message: the seeds gen.c writes say what they are.
 * Replaying nothing is a failure: a missing or empty corpus must not pass
 * for a clean one. */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"

static int n_ok, n_bad; /* inputs with an expectation, checked */

/* 0 when the input behaves, 1 otherwise (with a line saying why). */
static int replay(const char *path) {
  uint8_t *buf;
  size_t len;
  if (fr_read_file(path, &buf, &len) != FR_OK) {
    fprintf(stderr, "replay: %s\n", fr_err_msg());
    return 1;
  }
  fr_err_clear();
  fz_status = -1;
  LLVMFuzzerTestOneInput(buf, len);
  fr_free(buf);
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  bool want_ok = !strncmp(base, "ok-", 3), want_bad = !strncmp(base, "bad-", 4);
  if ((want_ok || want_bad) && fz_status < 0) {
    printf("FAIL %s: the target returned before checking it\n", path);
    return 1;
  }
  if (want_ok && fz_status != FR_OK) {
    printf("FAIL %s: refused, expected to be accepted: %s\n", path, fr_err_msg());
    return 1;
  }
  if (want_bad && (fz_status == FR_OK || !fr_err_is_set())) {
    printf("FAIL %s: %s\n", path,
           fz_status == FR_OK ? "accepted, expected to be refused"
                              : "refused without a message");
    return 1;
  }
  n_ok += want_ok;
  n_bad += want_bad;
  if (want_bad) printf("ok   %s: %s\n", path, fr_err_msg());
  else printf("ok   %s\n", path);
  return 0;
}

int main(int argc, char **argv) {
  fz_init();
  int fails = 0, n = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      struct dirent **list;
      int k = scandir(argv[i], &list, NULL, alphasort);
      if (k < 0) {
        fprintf(stderr, "replay: %s: cannot read the folder\n", argv[i]);
        fails++;
      }
      for (int j = 0; j < k; j++) {
        if (list[j]->d_name[0] != '.') {
          char p[4096];
          snprintf(p, sizeof p, "%s/%s", argv[i], list[j]->d_name);
          fails += replay(p);
          n++;
        }
        free(list[j]);
      }
      if (k >= 0) free(list);
    } else {
      fails += replay(argv[i]); /* a missing path fails to read */
      n++;
    }
  }
  printf("%d inputs replayed (%d to be accepted, %d to be refused, checked), "
         "%d failed\n", n, n_ok, n_bad, fails);
  if (n == 0) {
    fprintf(stderr, "replay: no input replayed: the corpus folders are empty\n");
    return 1;
  }
  return fails != 0;
}
