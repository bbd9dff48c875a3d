/* pool.c: the kernels' threads (see kernels.h, section pool.c).
 *
 * Not kernel code: CMakeLists.txt leaves this file out of the kernels'
 * bitcode. frost links it in frost_kernels (the JIT's specialized kernels
 * find it among frost's exported symbols); every artifact carries it in
 * its C API's bitcode (runtime/rt/model.c), so an artifact's pool is its
 * own and needs nothing but libc.
 *
 * One pool per process (per artifact): T - 1 workers, started at the
 * first parallel call that wants them. A call posts its job by bumping
 * the generation count; each worker runs its range and counts down
 * `pending`, which the caller waits on. Workers spin a little for the
 * next job (kernels come back to back) and then sleep on a condition
 * variable; the caller does the same for the last range. One call runs
 * at a time: a call that finds the pool busy (nested, or from another
 * thread) runs serially. Workers are joined at exit (valgrind sees no
 * thread memory lost) and forgotten in a forked child, which starts its
 * own. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernels.h"

/* A waiting thread spins (16384 pauses: some tens of microseconds, long
 * enough to bridge the serial ops between a train step's or a model's
 * parallel calls; with 2048 the workers slept and were woken again for
 * most calls, a quarter of a 2-thread train step), then yields its
 * processor a few times (to a worker it waits for, when there are more
 * threads than processors), then sleeps. */
enum { SPINS = 1 << 14, YIELDS = 1 << 4 };

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Step s of a wait: false once it is time to sleep. */
static int wait_step(int s) {
  if (s < SPINS) relax();
  else if (s < SPINS + YIELDS) sched_yield();
  else return 0;
  return 1;
}

static struct {
  pthread_mutex_t lock; /* guards sleeping, waiting and the sleeps */
  pthread_cond_t wake;  /* a job was posted (workers sleep on it) */
  pthread_cond_t done;  /* the last worker finished (the caller sleeps) */
  atomic_int threads;   /* wanted; 0: the default, not read yet */
  atomic_int busy;      /* a call holds the pool */
  atomic_uint gen;      /* jobs posted */
  atomic_int pending;   /* workers still on the current job */
  int started;          /* workers running: 1..started */
  unsigned gen0;        /* gen when they were started */
  int sleeping, waiting;
  int hooks;            /* atexit and pthread_atfork registered */
  /* The job, written before gen moves. stop: the workers exit. */
  fr_k_task *fn;
  void *ctx;
  int64_t n;
  int ranges, with_scratch, stop;
  pthread_t tid[FR_K_MAX_THREADS];
  void *scratch[FR_K_MAX_THREADS]; /* worker i's, 64-byte aligned */
  size_t bytes[FR_K_MAX_THREADS];
} P = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER};

/* How deep this thread is in parallel calls' ranges (a worker: from 1),
 * as thread-specific data: a compiler's thread-local variable would need
 * a TLS model that suits both executables and shared artifacts. */
static pthread_once_t depth_once = PTHREAD_ONCE_INIT;
static pthread_key_t depth_key;
static int depth_ok;

static void depth_init(void) { depth_ok = pthread_key_create(&depth_key, NULL) == 0; }

static intptr_t depth(void) {
  pthread_once(&depth_once, depth_init);
  return depth_ok ? (intptr_t)pthread_getspecific(depth_key) : 0;
}

static void depth_add(intptr_t d) {
  if (depth_ok) pthread_setspecific(depth_key, (void *)(depth() + d));
}

int fr_k_nested(void) { return depth() > 0; }

static int default_threads(void) {
  const char *e = getenv("FROST_THREADS");
  if (e && *e) {
    char *end;
    long v = strtol(e, &end, 10);
    if (!*end && v >= 1) return v < FR_K_MAX_THREADS ? (int)v : FR_K_MAX_THREADS;
  }
  /* The processors this process may run on (mpirun binds each rank to
   * a core, taskset and cgroups narrow it too), else those online. */
  long n = 0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n < 1) n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n < FR_K_MAX_THREADS ? (int)n : FR_K_MAX_THREADS;
}

int fr_k_threads(void) {
  int t = atomic_load_explicit(&P.threads, memory_order_relaxed);
  if (t > 0) return t;
  t = default_threads();
  atomic_store_explicit(&P.threads, t, memory_order_relaxed);
  return t;
}

/* Range i of n units in r ranges: sizes n / r, the first n % r one more. */
static void range(int64_t n, int r, int i, int64_t *lo, int64_t *hi) {
  int64_t q = n / r, m = n % r;
  *lo = q * i + (i < m ? i : m);
  *hi = *lo + q + (i < m);
}

static void *worker(void *arg) {
  const int me = (int)(intptr_t)arg;
  unsigned seen = P.gen0;
  depth_add(1);
  for (;;) {
    unsigned g;
    for (int s = 0; (g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen; s++) {
      if (wait_step(s)) continue;
      pthread_mutex_lock(&P.lock);
      P.sleeping++;
      while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen)
        pthread_cond_wait(&P.wake, &P.lock);
      P.sleeping--;
      pthread_mutex_unlock(&P.lock);
      break;
    }
    seen = g;
    if (P.stop) return NULL;
    if (me < P.ranges) {
      int64_t lo, hi;
      range(P.n, P.ranges, me, &lo, &hi);
      P.fn(P.ctx, lo, hi, P.with_scratch ? P.scratch[me] : NULL);
    }
    if (atomic_fetch_sub_explicit(&P.pending, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&P.lock);
      if (P.waiting) pthread_cond_signal(&P.done);
      pthread_mutex_unlock(&P.lock);
    }
  }
}

/* Posts the job in P (the caller holds busy) to every worker. */
static void post(void) {
  atomic_store_explicit(&P.pending, P.started, memory_order_relaxed);
  atomic_fetch_add_explicit(&P.gen, 1, memory_order_release);
  pthread_mutex_lock(&P.lock);
  if (P.sleeping) pthread_cond_broadcast(&P.wake);
  pthread_mutex_unlock(&P.lock);
}

/* Waits until every worker has finished the posted job. */
static void wait_workers(void) {
  for (int s = 0; wait_step(s); s++)
    if (!atomic_load_explicit(&P.pending, memory_order_acquire)) return;
  pthread_mutex_lock(&P.lock);
  P.waiting = 1;
  while (atomic_load_explicit(&P.pending, memory_order_acquire))
    pthread_cond_wait(&P.done, &P.lock);
  P.waiting = 0;
  pthread_mutex_unlock(&P.lock);
}

/* Stops and joins the workers (the caller holds busy). */
static void stop_workers(void) {
  if (!P.started) return;
  P.stop = 1;
  post();
  for (int i = 1; i <= P.started; i++) pthread_join(P.tid[i], NULL);
  P.stop = 0;
  P.started = 0;
}

static void take(void) {
  int free_ = 0;
  while (!atomic_compare_exchange_weak_explicit(&P.busy, &free_, 1,
                                                memory_order_acquire,
                                                memory_order_relaxed)) {
    free_ = 0;
    relax();
  }
}

static void give(void) { atomic_store_explicit(&P.busy, 0, memory_order_release); }

/* At exit: the workers joined, their scratch freed (unless a call runs in
 * another thread: then the process ends with them). */
static void at_exit(void) {
  int free_ = 0;
  if (!atomic_compare_exchange_strong(&P.busy, &free_, 1)) return;
  stop_workers();
  for (int i = 0; i < FR_K_MAX_THREADS; i++) {
    free(P.scratch[i]);
    P.scratch[i] = NULL;
    P.bytes[i] = 0;
  }
  give();
}

/* fork: the child has none of the workers; it starts its own. */
static void before_fork(void) { pthread_mutex_lock(&P.lock); }
static void parent_after_fork(void) { pthread_mutex_unlock(&P.lock); }
static void child_after_fork(void) {
  pthread_mutex_init(&P.lock, NULL);
  pthread_cond_init(&P.wake, NULL);
  pthread_cond_init(&P.done, NULL);
  P.started = 0;
  P.sleeping = P.waiting = 0;
  atomic_store(&P.pending, 0);
  atomic_store(&P.busy, 0);
}

/* Starts workers 1..t-1 (the caller holds busy); false when it cannot
 * (those started are stopped again). Signals stay with the caller's
 * threads: the workers block them all. */
static int start(int t) {
  if (P.started == t - 1) return 1;
  stop_workers();
  if (!P.hooks) {
    if (atexit(at_exit) != 0 ||
        pthread_atfork(before_fork, parent_after_fork, child_after_fork) != 0)
      return 0;
    P.hooks = 1;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  P.gen0 = atomic_load(&P.gen);
  int ok = 1;
  for (int i = 1; i < t && ok; i++) {
    ok = pthread_create(&P.tid[i], NULL, worker, (void *)(intptr_t)i) == 0;
    if (ok) P.started = i;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (!ok) stop_workers();
  return ok;
}

/* Scratch of bytes for workers 1..r-1; false when out of memory. */
static int reserve(int r, size_t bytes) {
  size_t want = (bytes + 63) / 64 * 64;
  for (int i = 1; i < r; i++) {
    if (P.bytes[i] >= want) continue;
    free(P.scratch[i]);
    P.scratch[i] = aligned_alloc(64, want);
    P.bytes[i] = P.scratch[i] ? want : 0;
    if (!P.scratch[i]) return 0;
  }
  return 1;
}

void fr_k_set_threads(int n) {
  if (n > FR_K_MAX_THREADS) n = FR_K_MAX_THREADS;
  if (n < 1) n = default_threads();
  take();
  if (n - 1 < P.started) stop_workers();
  atomic_store(&P.threads, n);
  give();
}

/* The whole call on the caller's thread. */
static void serial(int64_t n, fr_k_task *fn, void *ctx, void *own) {
  depth_add(1);
  fn(ctx, 0, n, own);
  depth_add(-1);
}

void fr_k_parallel(int64_t n, fr_k_task *fn, void *ctx, void *own,
                   size_t bytes) {
  if (n <= 0) return;
  int t = fr_k_threads();
  int r = n < t ? (int)n : t, free_ = 0;
  if (r < 2 || depth() || !atomic_compare_exchange_strong_explicit(
                   &P.busy, &free_, 1, memory_order_acquire, memory_order_relaxed)) {
    serial(n, fn, ctx, own);
    return;
  }
  if (!start(t) || !reserve(r, bytes)) {
    give();
    serial(n, fn, ctx, own);
    return;
  }
  P.fn = fn;
  P.ctx = ctx;
  P.n = n;
  P.ranges = r;
  P.with_scratch = bytes > 0;
  post();
  int64_t lo, hi;
  range(n, r, 0, &lo, &hi);
  depth_add(1);
  fn(ctx, lo, hi, own);
  depth_add(-1);
  wait_workers();
  give();
}
