/* cache.c: the code cache - specialized machine code kept on disk, so that
 * the second run of a model starts at once.
 *
 * An entry is the object file LLVM made for a graph, in DIR/KEY.o (KEY in
 * hex) after a header:
 *
 *   offset  0  "FROSTOBJ"          magic
 *           8  u32 1                the format (FORMAT)
 *          12  u32 0
 *          16  key[32]              the entry's key, again
 *          48  u64 n                the object's length
 *          56  sha256[32]           of the object
 *          88  the object, n bytes
 *
 * The key (fr_cache_key) is SHA-256 over everything that decides the code:
 * the graph's LLVM module before the kernels are linked in (its IR text:
 * every node's kernel entry and constant parameter block - shapes,
 * attributes, the memory plan's offsets -, the small constants embedded in
 * the code, the slots of the pointer table through which the code reads
 * weights and trainable parameters), and what fr_jit_hash adds (frost's
 * build, LLVM, the target CPU and its features, the optimization
 * settings). Weights are not in it: the code reads them through the table
 * the caller passes, so the same code is right for any weights.
 *
 * Entries are written under a temporary name and renamed, so a reader
 * sees a whole entry or none; one that fails its checks (magic, format,
 * key, length, checksum) is noted and compiled again, never run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm-c/Core.h>

#include "llvm.h"

#define MAGIC "FROSTOBJ"
#define FORMAT 1u
#define HEADER 88

void fr_cache_key(fr_jit *j, LLVMModuleRef m, uint8_t key[32]) {
  fr_sha256 h;
  fr_sha256_init(&h);
  char head[64];
  snprintf(head, sizeof head, "frost code cache %u\n", FORMAT);
  fr_sha256_update(&h, head, strlen(head));
  fr_jit_hash(j, &h);
  char *ir = LLVMPrintModuleToString(m);
  fr_sha256_update(&h, ir, strlen(ir));
  LLVMDisposeMessage(ir);
  fr_sha256_final(&h, key);
}

void fr_cache_path(const char *dir, const uint8_t key[32], char *buf, size_t n) {
  char hex[65];
  fr_sha256_hex(key, hex);
  snprintf(buf, n, "%s/%s.o", dir, hex);
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* Why the entry buf (n bytes) is not a sound entry for key, or NULL. */
static const char *check_entry(const uint8_t *buf, size_t n, const uint8_t key[32]) {
  if (n < HEADER) return "truncated header";
  if (memcmp(buf, MAGIC, 8)) return "not a frost code cache entry";
  if (get32(buf + 8) != FORMAT) return "another format";
  if (memcmp(buf + 16, key, 32)) return "another key";
  if (get64(buf + 48) != n - HEADER) return "truncated object";
  uint8_t d[32];
  fr_sha256 h;
  fr_sha256_init(&h);
  fr_sha256_update(&h, buf + HEADER, n - HEADER);
  fr_sha256_final(&h, d);
  if (memcmp(d, buf + 56, 32)) return "checksum mismatch";
  return NULL;
}

bool fr_cache_load(const char *dir, const uint8_t key[32], uint8_t **obj,
                   size_t *len) {
  char path[4096];
  fr_cache_path(dir, key, path, sizeof path);
  struct stat sb;
  if (stat(path, &sb) != 0) return false; /* a miss */
  uint8_t *buf;
  size_t n;
  /* Through ir/file.c: regular files only, no read past the size. */
  if (fr_read_file(path, &buf, &n) != FR_OK) {
    fprintf(stderr, "frost: note: code cache: %s; compiling again\n", fr_err_msg());
    return false;
  }
  const char *why = check_entry(buf, n, key);
  if (why) {
    fprintf(stderr, "frost: note: code cache: %s: %s; compiling again\n", path, why);
    fr_free(buf);
    return false;
  }
  memmove(buf, buf + HEADER, n - HEADER);
  *obj = buf;
  *len = n - HEADER;
  return true;
}

/* Creates dir and its parents. */
static int make_dirs(const char *dir) {
  char p[4096];
  snprintf(p, sizeof p, "%s", dir);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
    *s = '/';
  }
  if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
}

static void store_note(const char *dir, const char *what) {
  static bool noted; /* once per process */
  if (noted) return;
  noted = true;
  fprintf(stderr, "frost: note: code cache: cannot write %s (%s): the code is "
          "not cached\n", dir, what);
}

void fr_cache_store(const char *dir, const uint8_t key[32], const uint8_t *obj,
                    size_t len) {
  if (make_dirs(dir) != 0) {
    store_note(dir, strerror(errno));
    return;
  }
  uint8_t head[HEADER] = {0};
  memcpy(head, MAGIC, 8);
  put32(head + 8, FORMAT);
  memcpy(head + 16, key, 32);
  put64(head + 48, len);
  fr_sha256 h;
  fr_sha256_init(&h);
  fr_sha256_update(&h, obj, len);
  fr_sha256_final(&h, head + 56);
  char path[4096], tmp[4200];
  fr_cache_path(dir, key, path, sizeof path);
  snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    store_note(dir, strerror(errno));
    return;
  }
  bool ok = fwrite(head, 1, HEADER, f) == HEADER && fwrite(obj, 1, len, f) == len;
  ok = fclose(f) == 0 && ok;
  if (ok && rename(tmp, path) == 0) return;
  store_note(dir, strerror(errno));
  unlink(tmp);
}
