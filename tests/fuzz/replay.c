/* replay.c: runs a fuzz target's LLVMFuzzerTestOneInput on files, without
 * libFuzzer, so the regression inputs and seed corpora run in ctest with
 * any compiler (and under ASan/UBSan in the sanitizer build).
 *
 *   fuzz_TARGET_replay [--oom] FILE|DIR...   (a folder: every file in it)
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
static bool oom;        /* --oom: each allocation fails in turn too */
static unsigned long n_oom; /* runs with a failing allocation */

/* With --oom: the input again with allocation k failing, for every k of
 * its clean run, persistent and alone (fr_mem_fail_after, _only). The
 * target's own checks hold (no crash, no leak, a one-line message), and a
 * run cannot succeed: accepted inputs give FR_ERR_NOMEM with a message. */
static int replay_oom(const char *path, const uint8_t *buf, size_t len) {
  unsigned long a0 = fr_mem_allocs();
  fz_status = -1;
  LLVMFuzzerTestOneInput(buf, len);
  unsigned long n = fr_mem_allocs() - a0;
  bool accepted = fz_status == FR_OK;
  int fails = 0;
  for (int persistent = 1; persistent >= 0; persistent--)
    for (unsigned long k = 0; k < n; k++) {
      fr_err_clear();
      fz_status = -1;
      if (persistent) fr_mem_fail_after((long)k);
      else fr_mem_fail_only((long)k);
      LLVMFuzzerTestOneInput(buf, len);
      fr_mem_fail_after(-1);
      n_oom++;
      if (accepted && (fz_status == FR_OK ||
                       (fz_status != FR_ERR_NOMEM && fz_status != -1) ||
                       (fz_status != -1 && !fr_err_is_set()))) {
        printf("FAIL %s, allocation %lu of %lu failing (%s): status %d: %s\n",
               path, k, n, persistent ? "persistent" : "alone", fz_status,
               fr_err_msg());
        fails = 1;
      }
    }
  return fails;
}

/* Checks the status of the input just replayed against its name. */
static int check(const char *path) {
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
  int fails = check(path);
  if (!fails && oom) fails = replay_oom(path, buf, len);
  fr_free(buf);
  return fails;
}

int main(int argc, char **argv) {
  fz_init();
  int fails = 0, n = 0, i = 1;
  if (i < argc && !strcmp(argv[i], "--oom")) {
    oom = true;
    i++;
  }
  for (; i < argc; i++) {
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
  if (oom) printf("%lu runs with a failing allocation\n", n_oom);
  if (n == 0) {
    fprintf(stderr, "replay: no input replayed: the corpus folders are empty\n");
    return 1;
  }
  return fails != 0;
}
