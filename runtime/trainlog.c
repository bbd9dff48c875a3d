/* trainlog.c: what training shows and keeps of each epoch. One line per
 * epoch for the terminal ("epoch 3/20  train loss 0.4123 acc 91.2%  val
 * loss 0.3011 acc 94.0%  lr 1.0e-03  2.31 s"); with --log-json, the same
 * numbers as one JSON object a line (docs/checkpoints.md lists the keys),
 * appended and flushed each epoch; with --plot, an SVG of the loss and
 * accuracy curves, rewritten each epoch; and a progress bar on stderr,
 * only when stderr is a terminal, redrawn at most 10 times a second. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

struct fr_trainlog {
  fr_trainlog_opts o;
  FILE *json;          /* the --log-json file, or NULL */
  bool tty;            /* o.progress is a terminal (or o.tty) */
  char detail[96];     /* fr_trainlog_detail's text */
  bool bar_shown;      /* a bar is on the terminal line now */
  double last_draw;    /* when the bar was last drawn (monotonic s) */
  double epoch_start;  /* when the current epoch's first batch came */
  fr_epoch_stats *hist; /* the epochs so far, by epoch, one each */
  int n_hist, cap_hist;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool is_finite(double x) { return isfinite(x); }

fr_epoch_stats fr_epoch_stats_none(void) {
  return (fr_epoch_stats){.train_loss = NAN, .train_acc = NAN,
                          .val_loss = NAN, .val_acc = NAN, .lr = NAN,
                          .seconds = NAN};
}

/* ---- the terminal line and the JSON line -------------------------------- */

/* A loss: 4 decimals in the usual range, else 3 significant digits. */
static int put_loss(char *b, size_t n, double x) {
  double a = fabs(x);
  if (a == 0 || (a >= 1e-3 && a < 1e4)) return snprintf(b, n, "%.4f", x);
  return snprintf(b, n, "%.3e", x);
}

#define PUT(...)                                                             \
  do {                                                                       \
    if (*k < n) {                                                            \
      int w_ = snprintf(buf + *k, n - *k, __VA_ARGS__);                      \
      *k += w_ > 0 ? (size_t)w_ : 0;                                         \
    }                                                                        \
  } while (0)

/* "train loss L acc A" and "val loss L acc A" at buf + *k (the measured
 * ones), the first after lead, the second after sep. */
static void put_parts(char *buf, size_t n, size_t *k, const char *lead,
                      const char *sep, double train_loss, double train_acc,
                      double val_loss, double val_acc) {
  const char *part[2] = {"train", "val"};
  double loss[2] = {train_loss, val_loss}, acc[2] = {train_acc, val_acc};
  for (int i = 0; i < 2; i++) {
    if (isnan(loss[i]) && isnan(acc[i])) continue;
    PUT("%s%s", lead, part[i]);
    lead = sep;
    if (!isnan(loss[i])) {
      PUT(" loss ");
      if (*k < n) {
        int w = put_loss(buf + *k, n - *k, loss[i]);
        *k += w > 0 ? (size_t)w : 0;
      }
    }
    if (!isnan(acc[i])) PUT(" acc %.1f%%", acc[i] * 100);
  }
}

void fr_trainlog_format(const fr_epoch_stats *e, char *buf, size_t n) {
  size_t k_ = 0, *k = &k_;
  if (n) buf[0] = 0;
  PUT("epoch %lld", (long long)e->epoch);
  if (e->epochs > 0) PUT("/%lld", (long long)e->epochs);
  put_parts(buf, n, k, "  ", "  ", e->train_loss, e->train_acc, e->val_loss, e->val_acc);
  if (!isnan(e->lr)) PUT("  lr %.1e", e->lr);
  if (!isnan(e->seconds)) PUT("  %.2f s", e->seconds);
  /* multi-task: " | word: train loss L acc A, val loss L acc A" a task */
  for (int t = 0; t < e->n_tasks && t < FR_MAX_TASKS; t++) {
    PUT(" | %s: ", e->task_names[t]);
    put_parts(buf, n, k, "", ", ", e->task_train_loss[t], e->task_train_acc[t],
              e->task_val_loss[t], e->task_val_acc[t]);
  }
}
#undef PUT

void fr_trainlog_json(FILE *f, const fr_epoch_stats *e) {
  fprintf(f, "{\"epoch\": %lld, \"step\": %lld", (long long)e->epoch,
          (long long)e->step);
  const char *keys[] = {"train_loss", "train_acc", "val_loss", "val_acc",
                        "lr", "seconds"};
  double vals[] = {e->train_loss, e->train_acc, e->val_loss, e->val_acc,
                   e->lr, e->seconds};
  for (int i = 0; i < 6; i++) {
    fprintf(f, ", \"%s\": ", keys[i]);
    fr_json_put_number(f, vals[i]);
  }
  if (e->n_tasks) fputs(", \"tasks\": {", f);
  for (int t = 0; t < e->n_tasks && t < FR_MAX_TASKS; t++) {
    fputs(t ? ", " : "", f);
    fr_json_put_string(f, e->task_names[t]);
    double tv[] = {e->task_train_loss[t], e->task_train_acc[t], e->task_val_loss[t],
                   e->task_val_acc[t]};
    for (int i = 0; i < 4; i++) {
      fprintf(f, "%s\"%s\": ", i ? ", " : ": {", keys[i]);
      fr_json_put_number(f, tv[i]);
    }
    fputs("}", f);
  }
  fputs(e->n_tasks ? "}}\n" : "}\n", f);
}

/* ---- the history of epochs (for the plot) ------------------------------- */

/* Puts e in the history, replacing an entry of the same epoch (a resumed
 * run redoes the epochs after its checkpoint), kept sorted by epoch. */
static fr_status remember(fr_trainlog *lg, const fr_epoch_stats *e) {
  int i = 0;
  while (i < lg->n_hist && lg->hist[i].epoch < e->epoch) i++;
  if (i < lg->n_hist && lg->hist[i].epoch == e->epoch) {
    lg->hist[i] = *e;
    return FR_OK;
  }
  if (lg->n_hist == lg->cap_hist) {
    int cap = lg->cap_hist ? 2 * lg->cap_hist : 64;
    fr_epoch_stats *h = fr_realloc(lg->hist, sizeof *h * (size_t)cap);
    if (!h) return fr_err_nomem(NULL);
    lg->hist = h;
    lg->cap_hist = cap;
  }
  memmove(lg->hist + i + 1, lg->hist + i,
          sizeof *lg->hist * (size_t)(lg->n_hist - i));
  lg->hist[i] = *e;
  lg->n_hist++;
  return FR_OK;
}

/* One line of a --log-json file into e. */
static fr_status parse_line(const char *line, size_t len, const char *what,
                            fr_epoch_stats *e) {
  fr_json_doc d;
  FR_TRY(fr_json_parse(&d, line, len, what));
  *e = fr_epoch_stats_none();
  const char *keys[] = {"train_loss", "train_acc", "val_loss", "val_acc",
                        "lr", "seconds"};
  double *vals[] = {&e->train_loss, &e->train_acc, &e->val_loss, &e->val_acc,
                    &e->lr, &e->seconds};
  bool ok = fr_json_int(fr_json_get(d.root, "epoch"), &e->epoch) &&
            fr_json_int(fr_json_get(d.root, "step"), &e->step);
  for (int i = 0; ok && i < 6; i++) {
    const fr_json *v = fr_json_get(d.root, keys[i]);
    ok = v && (v->type == FR_JSON_NUMBER || v->type == FR_JSON_NULL);
    if (ok && v->type == FR_JSON_NUMBER) *vals[i] = v->num;
  }
  fr_json_free(&d);
  if (!ok) return fr_err(FR_ERR_PARSE, "%s: not an epoch of frost train", what);
  return FR_OK;
}

/* The epochs of an existing log into the history. A last line cut short
 * (a run killed while it wrote) is cut off the file. */
static fr_status read_history(fr_trainlog *lg, const char *path, int fd) {
  uint8_t *text;
  size_t len;
  FR_TRY(fr_read_file(path, &text, &len));
  size_t whole = len;
  while (whole > 0 && text[whole - 1] != '\n') whole--;
  fr_status st = FR_OK;
  if (whole < len && ftruncate(fd, (off_t)whole) != 0)
    st = fr_err(FR_ERR_IO, "%s: cannot cut its last, partial line (%s)", path,
                strerror(errno));
  int line = 0;
  for (size_t p = 0; st == FR_OK && p < whole;) {
    size_t q = p;
    while (text[q] != '\n') q++;
    line++;
    if (q > p) {
      char what[4200];
      snprintf(what, sizeof what, "%s: line %d", path, line);
      fr_epoch_stats e;
      st = parse_line((const char *)text + p, q - p, what, &e);
      if (st == FR_OK) st = remember(lg, &e);
    }
    p = q + 1;
  }
  fr_free(text);
  return st;
}

/* ---- open, epoch, progress, close --------------------------------------- */

fr_status fr_trainlog_open(fr_trainlog **out, const fr_trainlog_opts *o) {
  *out = NULL;
  fr_trainlog *lg = fr_calloc(1, sizeof *lg);
  if (!lg) return fr_err_nomem(NULL);
  lg->o = *o;
  lg->tty = o->progress && (o->tty || isatty(fileno(o->progress)));
  lg->epoch_start = -1;
  lg->last_draw = -1e9;
  fr_status st = FR_OK;
  if (o->plot_path) st = fr_file_check_target(o->plot_path);
  if (st == FR_OK && o->json_path) st = fr_file_check_target(o->json_path);
  if (st == FR_OK && o->json_path) {
    int fd = open(o->json_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) {
      st = fr_err(FR_ERR_IO, "%s: cannot open (%s)", o->json_path,
                  strerror(errno));
    } else {
      st = read_history(lg, o->json_path, fd);
      if (st == FR_OK && !(lg->json = fdopen(fd, "ab")))
        st = fr_err(FR_ERR_IO, "%s: cannot open (%s)", o->json_path,
                    strerror(errno));
      if (!lg->json) close(fd);
    }
  }
  if (st != FR_OK) {
    fr_trainlog_close(lg);
    return st;
  }
  *out = lg;
  return FR_OK;
}

static void clear_bar(fr_trainlog *lg) {
  if (!lg->bar_shown) return;
  fputs("\r\033[K", lg->o.progress);
  fflush(lg->o.progress);
  lg->bar_shown = false;
}

fr_status fr_trainlog_epoch(fr_trainlog *lg, const fr_epoch_stats *e) {
  clear_bar(lg);
  lg->epoch_start = -1;
  if (lg->o.out) {
    char line[4096];
    fr_trainlog_format(e, line, sizeof line);
    fprintf(lg->o.out, "%s\n", line);
    fflush(lg->o.out);
  }
  if (lg->json) {
    fr_trainlog_json(lg->json, e);
    if (fflush(lg->json) != 0 || ferror(lg->json))
      return fr_err(FR_ERR_IO, "%s: write failed (%s)", lg->o.json_path,
                    strerror(errno));
  }
  FR_TRY(remember(lg, e));
  if (lg->o.plot_path)
    FR_TRY(fr_plot_svg(lg->o.plot_path, lg->hist, lg->n_hist, lg->o.title));
  return FR_OK;
}

void fr_trainlog_detail(fr_trainlog *lg, const char *text) {
  if (lg) snprintf(lg->detail, sizeof lg->detail, "%s", text);
}

void fr_trainlog_progress(fr_trainlog *lg, int64_t done, int64_t total,
                          double loss) {
  if (!lg || !lg->tty) return;
  double t = now_s();
  if (lg->epoch_start < 0) lg->epoch_start = t;
  if (t - lg->last_draw < 0.1) return;
  enum { WIDTH = 30 };
  char bar[WIDTH + 1];
  int fill = total > 0 ? (int)(WIDTH * (done < total ? done : total) / total)
                       : 0;
  for (int i = 0; i < WIDTH; i++)
    bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
  bar[WIDTH] = 0;
  fprintf(lg->o.progress, "\r%lld/%lld [%s]", (long long)done,
          (long long)total, bar);
  if (!isnan(loss)) {
    char b[32];
    put_loss(b, sizeof b, loss);
    fprintf(lg->o.progress, "  loss %s", b);
  }
  if (lg->detail[0]) fprintf(lg->o.progress, "  %s", lg->detail);
  fprintf(lg->o.progress, "  %.1f s\033[K", t - lg->epoch_start);
  fflush(lg->o.progress);
  lg->bar_shown = true;
  lg->last_draw = t;
}

void fr_trainlog_close(fr_trainlog *lg) {
  if (!lg) return;
  clear_bar(lg);
  if (lg->json) fclose(lg->json);
  fr_free(lg->hist);
  fr_free(lg);
}

/* ---- the plot ----------------------------------------------------------- */

/* An axis: its range and tick step, from the data's. */
typedef struct axis {
  double lo, hi, step;
} axis;

static axis nice_axis(double lo, double hi, bool integer) {
  if (!(lo <= hi)) lo = 0, hi = 1; /* no data */
  if (lo == hi) {
    double pad = integer ? 1 : lo != 0 ? fabs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / 5, mag = pow(10, floor(log10(raw))),
         f = raw / mag;
  double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  if (integer && step < 1) step = 1;
  return (axis){floor(lo / step + 1e-9) * step, ceil(hi / step - 1e-9) * step,
                step};
}

static void tick_label(char *b, size_t n, double v, double step) {
  if (fabs(v) < step * 1e-6) v = 0;
  if (fabs(v) >= 1e6 || step < 1e-4) {
    snprintf(b, n, "%g", v);
    return;
  }
  int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  snprintf(b, n, "%.*f", dec, v);
}

static void put_escaped(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default:
      /* XML 1.0 allows no control characters but tab, newline, return. */
      fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
    }
  }
}

enum { PANEL_W = 470, PLOT_W = 370, PLOT_H = 260, TOP = 56, LEFT = 70 };
static const char *const COLOR[2] = {"#1f77b4", "#d62728"}; /* train, val */

/* One panel at x offset px: series[2] of n values (train, val), in percent
 * (0 to 100, legend at the bottom) or not (legend at the top). */
static void panel(FILE *f, int px, const char *ylabel, const fr_epoch_stats *e,
                  int n, const double *const series[2], bool percent) {
  double scale = percent ? 100 : 1;
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (int i = 0; i < n; i++) {
    xlo = fmin(xlo, (double)e[i].epoch);
    xhi = fmax(xhi, (double)e[i].epoch);
    for (int s = 0; s < 2; s++)
      if (is_finite(series[s][i])) {
        ylo = fmin(ylo, series[s][i] * scale);
        yhi = fmax(yhi, series[s][i] * scale);
      }
  }
  bool any = ylo <= yhi;
  axis X = nice_axis(xlo, xhi, true), Y = nice_axis(ylo, yhi, false);
  if (percent) {
    Y.lo = fmax(Y.lo, 0);
    Y.hi = fmin(Y.hi, 100);
    if (Y.hi <= Y.lo) Y = (axis){0, 100, 20};
  }
  int x0 = px + LEFT, y0 = TOP + PLOT_H;
#define SX(v) (x0 + ((v) - X.lo) / (X.hi - X.lo) * PLOT_W)
#define SY(v) (y0 - ((v) - Y.lo) / (Y.hi - Y.lo) * PLOT_H)
  fprintf(f, "<g font-family=\"sans-serif\" font-size=\"11\">\n");
  /* grid and ticks */
  char b[64];
  for (int k = 0;; k++) {
    double v = Y.lo + k * Y.step;
    if (v > Y.hi + Y.step * 1e-6 || k > 100) break;
    double y = SY(v);
    fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
            "stroke=\"#e4e4e4\"/>\n", x0, y, x0 + PLOT_W, y);
    fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
            "stroke=\"#000\"/>\n", x0 - 4, y, x0, y);
    tick_label(b, sizeof b, v, Y.step);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
            x0 - 7, y + 4, b);
  }
  for (int k = 0;; k++) {
    double v = X.lo + k * X.step;
    if (v > X.hi + 1e-9 || k > 100) break;
    double x = SX(v);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
            "stroke=\"#000\"/>\n", x, y0, x, y0 + 4);
    tick_label(b, sizeof b, v, X.step);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
            x, y0 + 17, b);
  }
  /* axes and their labels */
  fprintf(f, "<path d=\"M%d %d V%d H%d\" fill=\"none\" stroke=\"#000\"/>\n",
          x0, TOP, y0, x0 + PLOT_W);
  fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
          "font-size=\"12\">epoch</text>\n", x0 + PLOT_W / 2, y0 + 36);
  fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\" "
          "transform=\"rotate(-90 %d %d)\">%s</text>\n", px + 18,
          TOP + PLOT_H / 2, px + 18, TOP + PLOT_H / 2, ylabel);
  if (!any)
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
            "fill=\"#888\">not measured</text>\n", x0 + PLOT_W / 2,
            TOP + PLOT_H / 2);
  /* the curves: a polyline per run of finite values, a dot per value */
  for (int s = 0; s < 2; s++) {
    for (int i = 0; i < n;) {
      if (!is_finite(series[s][i])) {
        i++;
        continue;
      }
      int j = i;
      while (j < n && is_finite(series[s][j])) j++;
      if (j - i > 1) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                "points=\"", COLOR[s]);
        for (int k = i; k < j; k++)
          fprintf(f, "%s%.1f,%.1f", k > i ? " " : "", SX((double)e[k].epoch),
                  SY(series[s][k] * scale));
        fputs("\"/>\n", f);
      }
      for (int k = i; k < j; k++)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                SX((double)e[k].epoch), SY(series[s][k] * scale), COLOR[s]);
      i = j;
    }
  }
  /* the legend, inside the panel on the right, away from where the curves
   * end (low for a loss, high for an accuracy) */
  int lx = x0 + PLOT_W - 92, ly = percent ? y0 - 50 : TOP + 8;
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"84\" height=\"42\" fill=\"#fff\" "
          "fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n", lx, ly);
  const char *names[2] = {"train", "validation"};
  for (int s = 0; s < 2; s++) {
    int y = ly + 14 + 16 * s;
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
            "stroke-width=\"2\"/>\n", lx + 6, y, lx + 24, y, COLOR[s]);
    fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", lx + 29, y + 4,
            names[s]);
  }
  fputs("</g>\n", f);
#undef SX
#undef SY
}

/* v: room for 4 x n values. */
static void put_svg(FILE *f, const fr_epoch_stats *e, int n, const char *title,
                    double *v) {
  int width = 2 * PANEL_W + 20, height = TOP + PLOT_H + 56;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
          "height=\"%d\" viewBox=\"0 0 %d %d\">\n"
          "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
          width, height, width, height);
  fputs("<text x=\"20\" y=\"26\" font-family=\"sans-serif\" font-size=\"15\">"
        "training", f);
  if (title && title[0]) {
    fputs(": ", f);
    put_escaped(f, title);
  }
  fputs("</text>\n", f);
  for (int i = 0; i < n; i++) {
    v[i] = e[i].train_loss;
    v[n + i] = e[i].val_loss;
    v[2 * n + i] = e[i].train_acc;
    v[3 * n + i] = e[i].val_acc;
  }
  const double *loss[2] = {v, v + n}, *acc[2] = {v + 2 * n, v + 3 * n};
  panel(f, 10, "loss", e, n, loss, false);
  panel(f, 10 + PANEL_W, "accuracy (%)", e, n, acc, true);
  fputs("</svg>\n", f);
}

fr_status fr_plot_svg(const char *path, const fr_epoch_stats *e, int n,
                      const char *title) {
  FR_TRY(fr_file_check_target(path));
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >=
      (int)sizeof tmp)
    return fr_err(FR_ERR_IO, "%s: path too long", path);
  double *v = fr_malloc(sizeof(double) * 4 * (size_t)(n > 0 ? n : 1));
  if (!v) return fr_err_nomem(NULL);
  /* A temporary of this process left by a killed run goes; O_EXCL then
   * never follows a link someone put there. */
  unlink(tmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (!f) {
    int err = errno;
    if (fd >= 0) close(fd);
    fr_free(v);
    return fr_err(FR_ERR_IO, "%s: cannot create (%s)", path, strerror(err));
  }
  put_svg(f, e, n, title, v);
  fr_free(v);
  bool ok = fflush(f) == 0 && !ferror(f);
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    int err = errno;
    remove(tmp);
    return fr_err(FR_ERR_IO, "%s: cannot write (%s)", path, strerror(err));
  }
  return FR_OK;
}
