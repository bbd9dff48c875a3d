/* bitflip.c: models corrupted deterministically (single bit flips, bytes
 * overwritten, truncations) from the real models and the ONNX test data.
 * Each must load and run, or fail with a one-line message, and leave
 * frost's heap as it was: never crash. The check per input is fuzz_run's
 * (tests/fuzz/fuzz_run.c, linked in): load, shape inference with constant
 * evaluation, verifier, and a run on zero-filled inputs.
 *
 *   frost_bitflip [-n PER_FILE] [--must-run] [--shape FILE:NAME=DIMS]...
 *                 FILE|DIR...                     check in process
 *   frost_bitflip --write OUTDIR N FILE|DIR...    write N corrupted copies
 *                                                 of each file (for the CLI)
 *
 * A folder stands for the model.onnx files one level below it (the ONNX
 * test data) and the *.onnx files in it. --shape fixes the symbolic dims of
 * input NAME of the models named FILE (set to 1 otherwise, which some
 * models cannot run with). With --must-run each model, uncorrupted, must
 * load and run: otherwise its copies would all be refused the same way and
 * check nothing past that (the real models are given so). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fuzz/fuzz.h"

static char current[1200]; /* the mutation being tried, for crash reports */

static void report(void) {
  static const char pre[] = "\nbitflip: crashed on ";
  if (write(2, pre, sizeof pre - 1) < 0) return;
  if (write(2, current, strlen(current)) < 0) return;
  if (write(2, "\n", 1) < 0) return;
}

static void on_signal(int sig) {
  report();
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Under ASan a crash ends in the sanitizer's report, not in a signal. */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_SANITIZER 1
#endif
#endif
#ifdef HAVE_SANITIZER
void __sanitizer_set_death_callback(void (*callback)(void));
#endif

/* xorshift64*: the same corruptions on every machine. */
static uint64_t rng_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
  return h ? h : 1;
}

/* Corrupts copy (a copy of orig, len bytes) in place, the k-th way for this
 * file; returns the new length. Positions favor the start and the end of
 * the file, where a model's graph and its inputs and outputs usually are
 * (the middle of a real model is weights). */
static size_t corrupt(uint8_t *copy, const uint8_t *orig, size_t len,
                      uint64_t *s, int k, char *what, size_t what_n) {
  memcpy(copy, orig, len);
  if (len == 0) {
    snprintf(what, what_n, "empty");
    return 0;
  }
  uint64_t r = rng_next(s);
  size_t pos;
  switch (r % 3) {
  case 0: pos = (size_t)(rng_next(s) % len); break;
  case 1: pos = (size_t)(rng_next(s) % (len < 16384 ? len : 16384)); break;
  default: pos = len - 1 - (size_t)(rng_next(s) % (len < 4096 ? len : 4096));
  }
  switch (k % 8) {
  case 7: { /* truncation */
    snprintf(what, what_n, "truncated at %zu", pos);
    return pos;
  }
  case 6: { /* a run of random bytes */
    size_t n = 1 + (size_t)(rng_next(s) % 8);
    for (size_t i = 0; i < n && pos + i < len; i++)
      copy[pos + i] = (uint8_t)rng_next(s);
    snprintf(what, what_n, "%zu random bytes at %zu", n, pos);
    return len;
  }
  case 5: { /* a varint made huge (a length or count) */
    copy[pos] = 0xff;
    snprintf(what, what_n, "byte 0xff at %zu", pos);
    return len;
  }
  default: { /* one bit */
    int bit = (int)(rng_next(s) % 8);
    copy[pos] ^= (uint8_t)(1u << bit);
    snprintf(what, what_n, "bit %d of byte %zu flipped", bit, pos);
    return len;
  }
  }
}

enum { MAX_SHAPES = 16 };

typedef struct opts {
  int per_file;
  const char *write_dir;
  bool must_run;
  const char *shape_file[MAX_SHAPES]; /* --shape FILE:NAME=DIMS */
  fr_shape_override shapes[MAX_SHAPES];
  int n_shapes;
  int n_broken;             /* models refused uncorrupted (--must-run) */
  int n_files;              /* models read */
  int n_written, n_checked; /* corrupted copies written or checked */
  int n_accepted;           /* checked copies that loaded and ran */
} opts;

static void do_file(opts *o, const char *path) {
  uint8_t *orig;
  size_t len;
  if (fr_read_file(path, &orig, &len) != FR_OK) {
    fprintf(stderr, "bitflip: %s\n", fr_err_msg());
    exit(1);
  }
  uint8_t *copy = fr_malloc(len + 1);
  if (!copy) abort();
  o->n_files++;
  /* the --shape options of this file, for fuzz_run's loader */
  static fr_shape_override mine[MAX_SHAPES];
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  fz_n_shapes = 0;
  for (int i = 0; i < o->n_shapes; i++)
    if (!strcmp(o->shape_file[i], base)) mine[fz_n_shapes++] = o->shapes[i];
  fz_shapes = mine;
  if (o->must_run && !o->write_dir) {
    snprintf(current, sizeof current, "%s: uncorrupted", path);
    LLVMFuzzerTestOneInput(orig, len);
    if (fz_status != FR_OK) {
      fprintf(stderr, "bitflip: %s: the model itself does not run: %s\n", path,
              fz_status < 0 ? "not checked" : fr_err_msg());
      o->n_broken++;
    }
  }
  uint64_t s = hash(path);
  /* Big files (the real models) get more corruptions: more to hit. */
  int n = o->write_dir ? o->per_file : len > 65536 ? o->per_file * 5 : o->per_file;
  for (int k = 0; k < n; k++) {
    char what[200];
    size_t l = corrupt(copy, orig, len, &s, k, what, sizeof what);
    snprintf(current, sizeof current, "%s: %s", path, what);
    if (o->write_dir) {
      char out[4096];
      snprintf(out, sizeof out, "%s/%04d.onnx", o->write_dir, o->n_written++);
      FILE *f = fopen(out, "wb");
      if (!f || (l && fwrite(copy, 1, l, f) != l) || fclose(f) != 0) {
        fprintf(stderr, "bitflip: cannot write %s\n", out);
        exit(1);
      }
      printf("%s: %s\n", out, current);
    } else {
      LLVMFuzzerTestOneInput(copy, l);
      o->n_checked++;
      if (fz_status == FR_OK) o->n_accepted++;
    }
  }
  fr_free(copy);
  fr_free(orig);
}

static bool is_onnx(const char *name) {
  size_t n = strlen(name);
  return n > 5 && !strcmp(name + n - 5, ".onnx");
}

/* Every argument must give at least one model: a folder without any (the
 * models not fetched, the test data moved) is an error, not a pass. */
static void do_arg(opts *o, const char *arg) {
  int before = o->n_files;
  struct stat st;
  if (stat(arg, &st) != 0) {
    fprintf(stderr, "bitflip: %s: not found\n", arg);
    exit(1);
  }
  if (!S_ISDIR(st.st_mode)) {
    do_file(o, arg);
    return;
  }
  struct dirent **list;
  int k = scandir(arg, &list, NULL, alphasort);
  for (int i = 0; i < k; i++) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", arg, list[i]->d_name);
    if (list[i]->d_name[0] != '.') {
      if (is_onnx(list[i]->d_name)) {
        do_file(o, p);
      } else if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
        char m[4200];
        snprintf(m, sizeof m, "%s/model.onnx", p);
        if (access(m, R_OK) == 0) do_file(o, m);
      }
    }
    free(list[i]);
  }
  if (k >= 0) free(list);
  if (o->n_files == before) {
    fprintf(stderr, "bitflip: %s: no models found\n", arg);
    exit(1);
  }
}

/* --shape FILE:NAME=DIMS into o; 0 when well formed. */
static int parse_shape(opts *o, char *arg) {
  char *colon = strchr(arg, ':'), *eq = strrchr(arg, '=');
  if (!colon || !eq || eq < colon || o->n_shapes == MAX_SHAPES) return 1;
  *colon = *eq = 0;
  fr_shape_override *s = &o->shapes[o->n_shapes];
  s->name = colon + 1;
  if (fr_parse_dims(eq + 1, &s->rank, s->dims) != FR_OK) return 1;
  o->shape_file[o->n_shapes++] = arg;
  return 0;
}

int main(int argc, char **argv) {
  opts o = {.per_file = 8};
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (i + 2 < argc && !strcmp(argv[i], "--write")) {
      o.write_dir = argv[i + 1];
      o.per_file = atoi(argv[i + 2]);
      i += 2;
    } else if (i + 1 < argc && !strcmp(argv[i], "-n")) {
      o.per_file = atoi(argv[++i]);
    } else if (i + 1 < argc && !strcmp(argv[i], "--shape")) {
      if (parse_shape(&o, argv[++i])) break;
    } else if (!strcmp(argv[i], "--must-run")) {
      o.must_run = true;
    } else {
      break;
    }
  }
  if (i >= argc || argv[i][0] == '-') {
    fprintf(stderr, "usage: frost_bitflip [-n N | --write DIR N] [--must-run] "
                    "[--shape FILE:NAME=DIMS]... FILE|DIR...\n");
    return 2;
  }
  fz_init();
  signal(SIGSEGV, on_signal);
  signal(SIGABRT, on_signal);
  signal(SIGBUS, on_signal);
  signal(SIGFPE, on_signal);
#ifdef HAVE_SANITIZER
  __sanitizer_set_death_callback(report);
#endif
  for (; i < argc; i++) do_arg(&o, argv[i]);
  if (o.write_dir) {
    fprintf(stderr, "bitflip: %d corrupted models written from %d models\n",
            o.n_written, o.n_files);
    return o.n_written > 0 ? 0 : 1;
  }
  printf("bitflip: %d corrupted copies of %d models checked, %d of them "
         "loaded and ran, the others were refused: no crash\n",
         o.n_checked, o.n_files, o.n_accepted);
  if (o.n_checked == 0) {
    fprintf(stderr, "bitflip: no corrupted model was checked\n");
    return 1;
  }
  if (o.n_broken) {
    fprintf(stderr, "bitflip: %d models do not run uncorrupted\n", o.n_broken);
    return 1;
  }
  return 0;
}
