/* mem.c: the one allocator of frost, and arenas for compiler data.
 *
 * The allocator counts the bytes it has handed out (by the usable size of
 * each block, so frees need no header) and refuses an allocation that would
 * take the total past the limit set by fr_mem_set_limit (the CLI's
 * --max-memory). A hostile model or input thus fails with a clean error
 * instead of exhausting the machine. */
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static long fail_after = -1; /* allocations left before failing; -1 never */
static bool fail_once;        /* only that one fails (fr_mem_fail_only) */
static _Atomic unsigned long n_allocs; /* allocation requests so far */

static size_t limit;             /* 0: no limit */
static _Atomic size_t in_use;    /* usable bytes of live blocks */

void fr_mem_fail_after(long n) {
  fail_after = n;
  fail_once = false;
}

void fr_mem_fail_only(long n) {
  fail_after = n;
  fail_once = n >= 0;
}
unsigned long fr_mem_allocs(void) { return atomic_load(&n_allocs); }

void fr_mem_set_limit(size_t bytes) { limit = bytes; }
size_t fr_mem_limit(void) { return limit; }
size_t fr_mem_in_use(void) { return atomic_load(&in_use); }

bool fr_mem_fits(size_t n) {
  size_t used = atomic_load(&in_use);
  return !limit || (n <= limit && used <= limit - n);
}

/* No block can be larger than this (and ASan aborts past it). */
#define MAX_BLOCK ((size_t)1 << 40)

static bool should_fail(size_t n) {
  atomic_fetch_add(&n_allocs, 1);
  if (n > MAX_BLOCK || !fr_mem_fits(n)) return true;
  if (fail_after < 0) return false;
  if (fail_after == 0) {
    if (fail_once) fail_after = -1;
    return true;
  }
  fail_after--;
  return false;
}

static void *count(void *p) {
  if (p) atomic_fetch_add(&in_use, malloc_usable_size(p));
  return p;
}

/* Saturating: a block from another allocator must not wrap the count. */
static void uncount(size_t n) {
  size_t cur = atomic_load(&in_use);
  while (!atomic_compare_exchange_weak(&in_use, &cur, cur > n ? cur - n : 0))
    ;
}

void *fr_malloc(size_t n) {
  if (should_fail(n)) return NULL;
  return count(malloc(n ? n : 1));
}

void *fr_calloc(size_t n, size_t size) {
  if (n && size > SIZE_MAX / n) return NULL;
  if (should_fail(n * size)) return NULL;
  if (n == 0 || size == 0) return count(calloc(1, 1));
  return count(calloc(n, size));
}

void *fr_realloc(void *p, size_t n) {
  size_t old = p ? malloc_usable_size(p) : 0;
  if (should_fail(n > old ? n - old : 0)) return NULL;
  void *q = realloc(p, n ? n : 1);
  if (!q) return NULL;
  uncount(old);
  return count(q);
}

void fr_free(void *p) {
  if (!p) return;
  uncount(malloc_usable_size(p));
  free(p);
}

void *fr_aligned_alloc(size_t n) {
  if (should_fail(n)) return NULL;
  void *p = NULL;
  if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
  return count(p);
}

void fr_aligned_free(void *p) { fr_free(p); }

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
  bool single; /* holds one big allocation (fr_arena_release may free it) */
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
    nb->single = size == n;
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

bool fr_arena_release(fr_arena *a, void *p) {
  for (fr_arena_block **l = &a->head; *l; l = &(*l)->next) {
    fr_arena_block *b = *l;
    if (!b->single || (void *)b->data != p) continue;
    *l = b->next;
    a->used_total -= b->used;
    fr_free(b);
    return true;
  }
  return false;
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

/* ---- sizes ---------------------------------------------------------- */

fr_status fr_parse_size(const char *s, int64_t *bytes) {
  const char *p = s;
  if (*p < '0' || *p > '9')
    return fr_err(FR_ERR_USAGE, "bad size '%s' (expected e.g. 512M or 4G)", s);
  uint64_t v = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (UINT64_MAX - 9) / 10)
      return fr_err(FR_ERR_USAGE, "size '%s' is too large", s);
    v = v * 10 + (uint64_t)(*p - '0');
  }
  int shift = 0;
  switch (*p) {
  case 'k': case 'K': shift = 10; break;
  case 'm': case 'M': shift = 20; break;
  case 'g': case 'G': shift = 30; break;
  case 't': case 'T': shift = 40; break;
  default: break;
  }
  if (shift) {
    p++;
    if (*p == 'i') p++;
  }
  if (*p == 'B' || *p == 'b') p++;
  if (*p)
    return fr_err(FR_ERR_USAGE, "bad size '%s' (expected e.g. 512M or 4G)", s);
  if (v > (uint64_t)INT64_MAX >> shift)
    return fr_err(FR_ERR_USAGE, "size '%s' is too large", s);
  *bytes = (int64_t)(v << shift);
  return FR_OK;
}
