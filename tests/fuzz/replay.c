/* replay.c: runs a fuzz target's LLVMFuzzerTestOneInput on files, without
 * libFuzzer, so the regression inputs of tests/fuzz/regress run in ctest
 * with any compiler (and under ASan/UBSan in the sanitizer build).
 *
 *   fuzz_TARGET_replay FILE|DIR...     (a folder: every file in it) */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay(const char *path) {
  uint8_t *buf;
  size_t len;
  if (fr_read_file(path, &buf, &len) != FR_OK) {
    fprintf(stderr, "replay: %s\n", fr_err_msg());
    return 1;
  }
  LLVMFuzzerTestOneInput(buf, len);
  fr_free(buf);
  printf("ok   %s\n", path);
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
      fails += replay(argv[i]);
      n++;
    }
  }
  printf("%d inputs replayed\n", n);
  return fails != 0;
}
