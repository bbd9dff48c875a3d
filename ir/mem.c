/* mem.c: the one allocator of frost, and arenas for compiler data. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static long fail_after = -1; /* allocations left before failing; -1 never */

void fr_mem_fail_after(long n) { fail_after = n; }

static bool should_fail(void) {
  if (fail_after < 0) return false;
  if (fail_after == 0) return true;
  fail_after--;
  return false;
}

void *fr_malloc(size_t n) {
  if (should_fail()) return NULL;
  return malloc(n ? n : 1);
}

void *fr_calloc(size_t n, size_t size) {
  if (should_fail()) return NULL;
  if (n == 0 || size == 0) return calloc(1, 1);
  return calloc(n, size);
}

void *fr_realloc(void *p, size_t n) {
  if (should_fail()) return NULL;
  return realloc(p, n ? n : 1);
}

void fr_free(void *p) { free(p); }

void *fr_aligned_alloc(size_t n) {
  if (should_fail()) return NULL;
  void *p = NULL;
  if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
  return p;
}

void fr_aligned_free(void *p) { free(p); }

char *fr_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = fr_malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* Arena blocks: a header followed by the bytes handed out. */
struct fr_arena_block {
  fr_arena_block *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
};

enum { ARENA_BLOCK = 64 * 1024 };

void *fr_arena_alloc(fr_arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  fr_arena_block *b = a->head;
  if (!b || b->size - b->used < n) {
    size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
    if (size > SIZE_MAX - sizeof(fr_arena_block)) return NULL;
    fr_arena_block *nb = fr_malloc(sizeof(fr_arena_block) + size);
    if (!nb) return NULL;
    nb->size = size;
    nb->used = 0;
    if (size == n && b) {
      /* A big allocation gets its own block behind the current one, so the
       * current block keeps serving small allocations. */
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      a->head = nb;
    }
    b = nb;
  }
  void *p = b->data + b->used;
  b->used += n;
  a->used_total += n;
  memset(p, 0, n);
  return p;
}

char *fr_arena_strdup(fr_arena *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *d = fr_arena_alloc(a, n);
  if (d) memcpy(d, s, n);
  return d;
}

void fr_arena_free(fr_arena *a) {
  fr_arena_block *b = a->head;
  while (b) {
    fr_arena_block *next = b->next;
    fr_free(b);
    b = next;
  }
  a->head = NULL;
  a->used_total = 0;
}
