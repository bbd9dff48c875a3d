/* dist.c: several frost processes on one job, under mpirun
 * (docs/distributed.md). The one file that includes mpi.h: built without
 * FROST_MPI, or run without mpirun, frost is one process (rank 0 of 1)
 * and nothing here calls MPI.
 *
 * What the commands need, and nothing more:
 *   - fr_dist_agree: the ranks' statuses in, one out, the same on every
 *     rank: the first failing rank's error, "rank R: " before its message
 *     unless every rank failed. Every collective below is called only
 *     after the ranks agreed that none failed, so a rank that fails never
 *     leaves the others waiting in a collective it will not join: its
 *     error reaches them at their next agreement (a rank that gives up
 *     early meets it in fr_dist_finish's).
 *   - fr_dist_sum: a sum over the ranks in a fixed order, rank 0 first:
 *     each rank gets the same bits, whatever the timing (see sum_fixed).
 *   - fr_dist_bcast, fr_dist_gather_rows: rank 0's bytes to all, each
 *     rank's block of rows to all.
 *
 * The error line: in a job of several ranks, fr_cli_fail prints nothing;
 * fr_dist_finish agrees on the final status (unless the ranks already
 * agreed on an error) and rank 0 alone prints it.
 * The ranks other than 0 write nothing: their stdout and stderr go to
 * /dev/null (rank 0 writes the logs, checkpoints and models). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#ifdef FROST_MPI
#include <mpi.h>
#endif

static struct {
  int rank, size; /* 0 and 1 unless launched by mpirun */
  bool on;        /* MPI_Init was called */
  char agreed[1024]; /* the message fr_dist_agree last returned */
  bool tty;          /* rank 0: mpirun's stderr is a terminal */
} dist = {0, 1, false, "", false};

int fr_dist_rank(void) { return dist.rank; }
int fr_dist_size(void) { return dist.size; }

void fr_dist_block(int64_t n, int rank, int size, int64_t *first, int64_t *count) {
  *first = n * rank / size;
  *count = n * (rank + 1) / size - *first;
}

#ifdef FROST_MPI

/* Launched by mpirun (Open MPI's, or a PMI launcher's). Plain frost never
 * initializes MPI: no library noise under valgrind or the sanitizers. */
static bool under_mpirun(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

/* Whether the launcher's (mpirun's) stderr is a terminal: rank 0's own is
 * a pipe to it, so the progress line is drawn by that test instead (Linux;
 * a rank started by a daemon on another host draws none). */
static bool launcher_tty(void) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/fd/2", (int)getppid());
  int fd = open(p, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return false;
  bool tty = isatty(fd);
  close(fd);
  return tty;
}

fr_status fr_dist_init(int *argc, char ***argv) {
  if (!under_mpirun()) return FR_OK;
  if (MPI_Init(argc, argv) != MPI_SUCCESS)
    return fr_err(FR_ERR_IO, "launched by mpirun, but MPI_Init failed");
  dist.on = true;
  /* Errors come back as codes, turned into frost's messages. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &dist.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &dist.size);
  dist.tty = dist.rank == 0 && dist.size > 1 && launcher_tty();
  /* FROST_RANK_OUTPUT=1 keeps every rank's (debugging: a crash report) */
  const char *keep = getenv("FROST_RANK_OUTPUT");
  if (dist.rank > 0 && !(keep && !strcmp(keep, "1"))) {
    int fd = open("/dev/null", O_WRONLY);
    if (fd >= 0) {
      fflush(stdout);
      fflush(stderr);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
  }
  return FR_OK;
}

static fr_status mpi_err(int rc, const char *what) {
  char s[MPI_MAX_ERROR_STRING];
  int n = 0;
  if (MPI_Error_string(rc, s, &n) != MPI_SUCCESS) snprintf(s, sizeof s, "error %d", rc);
  return fr_err(FR_ERR_IO, "MPI: %s: %s", what, s);
}
#define MPI_TRY(call, what)                                                    \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ != MPI_SUCCESS) return mpi_err(rc_, what);                         \
  } while (0)

fr_status fr_dist_agree(fr_status st) {
  if (dist.size == 1) return st;
  /* mine[0]: this rank when it failed; mine[1]: this rank when it did not.
   * Their minimums: the first failing rank (size: none), and size when no
   * rank succeeded. A rank whose error is the one agreed before counts as
   * failing at rank 0's place without a new message. */
  bool again = st != FR_OK && !strcmp(fr_err_msg(), dist.agreed);
  int mine[2] = {st != FR_OK ? (again ? 0 : dist.rank) : dist.size,
                 st != FR_OK ? dist.size : dist.rank};
  int all[2];
  MPI_TRY(MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "agreeing");
  if (all[0] == dist.size) return FR_OK;
  int first = all[0];
  struct { int code, again; char msg[960]; } m = {0};
  if (dist.rank == first) {
    m.code = st;
    m.again = again;
    snprintf(m.msg, sizeof m.msg, "%s", fr_err_msg());
  }
  MPI_TRY(MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, MPI_COMM_WORLD), "agreeing");
  if (m.again || all[1] == dist.size) fr_err((fr_status)m.code, "%s", m.msg);
  else fr_err((fr_status)m.code, "rank %d: %s", first, m.msg);
  snprintf(dist.agreed, sizeof dist.agreed, "%s", fr_err_msg());
  return (fr_status)m.code;
}

/* The sum of n values (float or double) of every rank, rank 0 first, at
 * buf on every rank. Each rank r owns a chunk of the vector: an all-to-all
 * brings it every rank's copy of that chunk, it adds them in rank order,
 * and an all-gather hands the summed chunks to all. MPI_Allreduce would
 * move as many bytes, but MPI leaves its order of additions to the
 * implementation (it may depend on the algorithm chosen and differ
 * between ranks); here it is written down, so every rank gets the same
 * bits on every run. Pieces of at most 2^24 values keep counts in int. */
static fr_status sum_fixed(void *buf, int64_t n, bool f64) {
  int N = dist.size;
  size_t es = f64 ? sizeof(double) : sizeof(float);
  MPI_Datatype dt = f64 ? MPI_DOUBLE : MPI_FLOAT;
  int64_t piece = (int64_t)1 << 24;
  int *cnt = fr_malloc(sizeof(int) * 4 * (size_t)N);
  /* every rank's copy of this rank's chunk: N chunks of at most
   * len / N + 1 values */
  int64_t most = (n < piece ? n : piece) / N + 1;
  void *recv = fr_malloc(es * (size_t)(N * most));
  if (!cnt || !recv) {
    fr_free(cnt);
    fr_free(recv);
    return fr_err_nomem(NULL);
  }
  int *off = cnt + N, *rcnt = cnt + 2 * N, *roff = cnt + 3 * N;
  int rc = MPI_SUCCESS;
  for (int64_t at = 0; at < n && rc == MPI_SUCCESS; at += piece) {
    int64_t len = n - at < piece ? n - at : piece;
    char *p = (char *)buf + (size_t)at * es;
    for (int r = 0; r < N; r++) {
      int64_t f, c;
      fr_dist_block(len, r, N, &f, &c);
      off[r] = (int)f;
      cnt[r] = (int)c;
    }
    int mine = cnt[dist.rank];
    for (int r = 0; r < N; r++) rcnt[r] = mine, roff[r] = r * mine;
    rc = MPI_Alltoallv(p, cnt, off, dt, recv, rcnt, roff, dt, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) break;
    char *own = p + (size_t)off[dist.rank] * es;
    if (f64) {
      double *s = (double *)own, *v = recv;
      for (int i = 0; i < mine; i++) s[i] = v[i];
      for (int r = 1; r < N; r++)
        for (int i = 0; i < mine; i++) s[i] += v[(size_t)r * mine + i];
    } else {
      float *s = (float *)own, *v = recv;
      for (int i = 0; i < mine; i++) s[i] = v[i];
      for (int r = 1; r < N; r++)
        for (int i = 0; i < mine; i++) s[i] += v[(size_t)r * mine + i];
    }
    rc = MPI_Allgatherv(MPI_IN_PLACE, 0, dt, p, cnt, off, dt, MPI_COMM_WORLD);
  }
  fr_free(cnt);
  fr_free(recv);
  return rc == MPI_SUCCESS ? FR_OK : mpi_err(rc, "summing over the ranks");
}

fr_status fr_dist_sum(void *buf, int64_t n, bool f64) {
  if (dist.size == 1 || n <= 0) return FR_OK;
  return sum_fixed(buf, n, f64);
}

fr_status fr_dist_bcast(void *buf, int64_t bytes) {
  if (dist.size == 1) return FR_OK;
  for (int64_t at = 0; at < bytes; at += (int64_t)1 << 30) {
    int64_t len = bytes - at < ((int64_t)1 << 30) ? bytes - at : (int64_t)1 << 30;
    MPI_TRY(MPI_Bcast((char *)buf + at, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD),
            "broadcasting from rank 0");
  }
  return FR_OK;
}

fr_status fr_dist_gather_rows(float *x, int64_t n, int64_t width) {
  if (dist.size == 1 || n <= 0 || width <= 0) return FR_OK;
  if (width > INT32_MAX || n > INT32_MAX)
    return fr_err(FR_ERR_UNSUPPORTED, "rows of %lld values: too wide to share "
                  "between ranks", (long long)width);
  int N = dist.size;
  int *cnt = fr_malloc(sizeof(int) * 2 * (size_t)N);
  if (!cnt) return fr_err_nomem(NULL);
  for (int r = 0; r < N; r++) {
    int64_t f, c;
    fr_dist_block(n, r, N, &f, &c);
    cnt[N + r] = (int)f;
    cnt[r] = (int)c;
  }
  MPI_Datatype row;
  int rc = MPI_Type_contiguous((int)width, MPI_FLOAT, &row);
  if (rc == MPI_SUCCESS) rc = MPI_Type_commit(&row);
  if (rc == MPI_SUCCESS) {
    rc = MPI_Allgatherv(MPI_IN_PLACE, 0, row, x, cnt, cnt + N, row, MPI_COMM_WORLD);
    MPI_Type_free(&row);
  }
  fr_free(cnt);
  return rc == MPI_SUCCESS ? FR_OK : mpi_err(rc, "gathering rows");
}

int fr_dist_finish(int rc) {
  if (!dist.on) return rc;
  if (dist.size > 1) {
    /* An error the ranks agreed on is every rank's already: they all
     * skip this agreement. */
    bool agreed = rc && !strcmp(fr_err_msg(), dist.agreed);
    fr_status st = agreed ? FR_ERR_INVALID : fr_dist_agree(rc ? FR_ERR_INVALID : FR_OK);
    if (st != FR_OK && dist.rank == 0) fprintf(stderr, "frost: error: %s\n", fr_err_msg());
    rc = st != FR_OK;
  }
  MPI_Finalize();
  return rc;
}

#else /* one process */

fr_status fr_dist_init(int *argc, char ***argv) { return FR_OK; }
fr_status fr_dist_agree(fr_status st) { return st; }
fr_status fr_dist_sum(void *buf, int64_t n, bool f64) { return FR_OK; }
fr_status fr_dist_bcast(void *buf, int64_t bytes) { return FR_OK; }
fr_status fr_dist_gather_rows(float *x, int64_t n, int64_t width) { return FR_OK; }
int fr_dist_finish(int rc) { return rc; }

#endif

bool fr_dist_quiet(void) { return dist.size > 1; }
bool fr_dist_tty(void) { return dist.tty; }

fr_status fr_dist_share_rows(fr_status st, float *rows, int64_t n, int64_t width,
                             float **all) {
  *all = NULL;
  if (dist.size == 1) { /* the block is everything */
    if (st == FR_OK) *all = rows;
    else fr_free(rows);
    return st;
  }
  int64_t first, count;
  fr_dist_block(n, dist.rank, dist.size, &first, &count);
  float *a = st == FR_OK ? fr_malloc(sizeof(float) * (size_t)(n * width) + 1) : NULL;
  if (st == FR_OK && !a) st = fr_err_nomem(NULL);
  if (st == FR_OK)
    memcpy(a + first * width, rows, sizeof(float) * (size_t)(count * width));
  fr_free(rows);
  st = fr_dist_agree(st);
  if (st == FR_OK) st = fr_dist_gather_rows(a, n, width);
  if (st != FR_OK) {
    fr_free(a);
    return st;
  }
  *all = a;
  return FR_OK;
}

/* The train loop's view (runtime.h's fr_tl_dist). */
static fr_status tl_sum(void *ctx, void *buf, int64_t n, bool f64) {
  return fr_dist_sum(buf, n, f64);
}
static fr_status tl_agree(void *ctx, fr_status st) { return fr_dist_agree(st); }
static fr_status tl_bcast(void *ctx, void *buf, int64_t bytes) {
  return fr_dist_bcast(buf, bytes);
}

const fr_tl_dist *fr_dist_loop(void) {
  static fr_tl_dist d;
  if (dist.size == 1) return NULL;
  d = (fr_tl_dist){.rank = dist.rank, .size = dist.size, .sum = tl_sum,
                   .agree = tl_agree, .bcast = tl_bcast, .tty = dist.tty};
  return &d;
}
