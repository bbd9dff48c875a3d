/* err.c: status values carry a message, kept here until the CLI prints it.
 * The message is per thread: a worker that fails does not overwrite the
 * message of another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static _Thread_local char msg[2048];

/* Messages quote names from untrusted files: control characters (a newline
 * in a node name) become '?', so the CLI's error stays one line. */
static void one_line(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

/* Messages may quote the current message (fr_err_msg()) as an argument,
 * so each is formatted into a temporary first. */
fr_status fr_err(fr_status st, const char *fmt, ...) {
  char tmp[sizeof msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  memcpy(msg, tmp, sizeof msg);
  one_line(msg);
  return st;
}

fr_status fr_err_node(fr_status st, const fr_node *n, const char *fmt, ...) {
  char tmp[1536];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  char name[64];
  const char *nm = n && n->name ? n->name : "";
  if (!nm[0]) { /* unnamed nodes are named by position */
    snprintf(name, sizeof name, "#%d", n ? n->index : -1);
    nm = name;
  }
  snprintf(msg, sizeof msg, "node '%.200s' (%.100s): %s", nm,
           n && n->op_type ? n->op_type : "?", tmp);
  one_line(msg);
  return st;
}

fr_status fr_err_nomem(const fr_node *n) {
  char lim[96] = "";
  if (fr_mem_limit())
    snprintf(lim, sizeof lim,
             " (memory limit %zu bytes; raise it with --max-memory)",
             fr_mem_limit());
  if (n) return fr_err_node(FR_ERR_NOMEM, n, "out of memory%s", lim);
  return fr_err(FR_ERR_NOMEM, "out of memory%s", lim);
}

void fr_err_prefix(const char *prefix) {
  char tmp[sizeof msg];
  size_t n = strlen(prefix);
  if (n > 512) n = 512;
  memcpy(tmp, prefix, n);
  tmp[n] = ':';
  tmp[n + 1] = ' ';
  size_t m = strlen(msg);
  if (m > sizeof tmp - n - 3) m = sizeof tmp - n - 3;
  memcpy(tmp + n + 2, msg, m);
  tmp[n + 2 + m] = 0;
  memcpy(msg, tmp, sizeof msg);
  one_line(msg);
}

const char *fr_err_msg(void) { return msg[0] ? msg : "unknown error"; }

void fr_err_clear(void) { msg[0] = 0; }

bool fr_err_is_set(void) { return msg[0] != 0; }

_Noreturn void fr_assert_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "frost: internal error: %s:%d: assertion '%s' failed\n",
          file, line, what);
  abort();
}

int fr_edit_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b);
  if (la > 200 || lb > 200) return 1000;
  int row[201];
  for (int j = 0; j <= lb; j++) row[j] = j;
  for (int i = 1; i <= la; i++) {
    int prev = row[0];
    row[0] = i;
    for (int j = 1; j <= lb; j++) {
      int cur = row[j];
      int sub = prev + (a[i - 1] != b[j - 1]);
      int del = row[j] + 1, ins = row[j - 1] + 1;
      row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
      prev = cur;
    }
  }
  return row[lb];
}
