/* json.c: a small JSON reader (RFC 8259) for the files training writes and
 * reads back: a checkpoint's state.json (checkpoint.c) and the lines of the
 * epoch log (trainlog.c). Those files may have been edited, cut short or
 * replaced by anything, so the input is hostile: the text is bounded in
 * size, values in count and nesting in depth, every read is checked
 * against the end of the buffer, and each error is one message with the
 * line and column. The whole tree lives in one arena, freed at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

typedef struct parser {
  const char *s, *p, *end; /* the text, the next byte, its end */
  const char *what;        /* the file, for messages */
  fr_arena *a;
  int depth;
  long values;
} parser;

static fr_status fail(parser *ps, const char *msg) {
  int line = 1, col = 1;
  for (const char *q = ps->s; q < ps->p; q++) {
    if (*q == '\n') line++, col = 1;
    else col++;
  }
  if (ps->p >= ps->end)
    return fr_err(FR_ERR_PARSE, "%s: line %d, column %d: %s (at the end of "
                  "the text)", ps->what, line, col, msg);
  return fr_err(FR_ERR_PARSE, "%s: line %d, column %d: %s", ps->what, line,
                col, msg);
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                             *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static fr_status new_value(parser *ps, fr_json_type t, fr_json **out) {
  if (++ps->values > FR_JSON_MAX_VALUES)
    return fr_err(FR_ERR_NOMEM, "%s: more than %d values", ps->what,
                  FR_JSON_MAX_VALUES);
  fr_json *v = fr_arena_alloc(ps->a, sizeof *v);
  if (!v) return fr_err_nomem(NULL);
  v->type = t;
  *out = v;
  return FR_OK;
}

static int hex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

static char *put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    *o++ = (char)cp;
  } else if (cp < 0x800) {
    *o++ = (char)(0xc0 | cp >> 6);
    *o++ = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xe0 | cp >> 12);
    *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
    *o++ = (char)(0x80 | (cp & 0x3f));
  } else {
    *o++ = (char)(0xf0 | cp >> 18);
    *o++ = (char)(0x80 | (cp >> 12 & 0x3f));
    *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
    *o++ = (char)(0x80 | (cp & 0x3f));
  }
  return o;
}

/* A string at ps->p (the opening quote), decoded into arena memory. The
 * decoded text is never longer than the raw one (an escape of 6 bytes
 * gives at most 3, a surrogate pair of 12 gives 4). */
static fr_status string(parser *ps, const char **out) {
  const char *q = ++ps->p;
  while (q < ps->end && *q != '"') q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
  if (q >= ps->end) {
    ps->p = q;
    return fail(ps, "unterminated string");
  }
  char *buf = fr_arena_alloc(ps->a, (size_t)(q - ps->p) + 1), *o = buf;
  if (!buf) return fr_err_nomem(NULL);
  while (ps->p < q) {
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20) return fail(ps, "control character in a string");
    if (c != '\\') {
      *o++ = (char)c;
      ps->p++;
      continue;
    }
    char e = ps->p[1];
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
      ps->p += 2;
      continue;
    }
    if (e != 'u') return fail(ps, "bad escape in a string");
    int cp = q - ps->p >= 6 ? hex4(ps->p + 2) : -1;
    if (cp < 0) return fail(ps, "bad \\u escape in a string");
    ps->p += 6;
    if (cp >= 0xdc00 && cp <= 0xdfff)
      return fail(ps, "lone low surrogate in a string");
    if (cp >= 0xd800 && cp <= 0xdbff) {
      int lo = q - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u'
                   ? hex4(ps->p + 2) : -1;
      if (lo < 0xdc00 || lo > 0xdfff)
        return fail(ps, "lone high surrogate in a string");
      ps->p += 6;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp == 0) return fail(ps, "\\u0000 in a string");
    o = put_utf8(o, (unsigned)cp);
  }
  *o = 0;
  ps->p = q + 1;
  *out = buf;
  return FR_OK;
}

static bool digit(parser *ps) {
  return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static fr_status number(parser *ps, fr_json *v) {
  const char *start = ps->p;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (!digit(ps)) return fail(ps, "bad number");
  if (*ps->p == '0') ps->p++;
  else while (digit(ps)) ps->p++;
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    if (!digit(ps)) return fail(ps, "bad number: no digit after '.'");
    while (digit(ps)) ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (!digit(ps)) return fail(ps, "bad number: no digit in the exponent");
    while (digit(ps)) ps->p++;
  }
  size_t n = (size_t)(ps->p - start);
  char *text = fr_arena_alloc(ps->a, n + 1);
  if (!text) return fr_err_nomem(NULL);
  memcpy(text, start, n);
  text[n] = 0;
  errno = 0;
  v->num = strtod(text, NULL);
  if (errno == ERANGE && (v->num > 1 || v->num < -1)) {
    ps->p = start;
    return fail(ps, "number out of range");
  }
  v->str = text;
  return FR_OK;
}

static bool literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
    return false;
  ps->p += n;
  return true;
}

static fr_status value(parser *ps, fr_json **out);

/* The elements of an array or the members of an object, after its opening
 * bracket; close is ']' or '}'. */
static fr_status items(parser *ps, fr_json *v, char close) {
  if (++ps->depth > FR_JSON_MAX_DEPTH) {
    char msg[64];
    snprintf(msg, sizeof msg, "nested deeper than %d levels", FR_JSON_MAX_DEPTH);
    return fail(ps, msg);
  }
  fr_json **tail = &v->child;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    ps->depth--;
    return FR_OK;
  }
  for (;;) {
    const char *key = NULL;
    skip_ws(ps);
    if (close == '}') {
      if (ps->p >= ps->end || *ps->p != '"')
        return fail(ps, "expected a member name in quotes");
      FR_TRY(string(ps, &key));
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') return fail(ps, "expected ':'");
      ps->p++;
    }
    fr_json *item;
    FR_TRY(value(ps, &item));
    item->key = key;
    *tail = item;
    tail = &item->next;
    v->n++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++;
      ps->depth--;
      return FR_OK;
    }
    return fail(ps, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static fr_status value(parser *ps, fr_json **out) {
  skip_ws(ps);
  if (ps->p >= ps->end) return fail(ps, "expected a value");
  fr_json *v;
  switch (*ps->p) {
  case '{':
  case '[': {
    char close = *ps->p == '{' ? '}' : ']';
    FR_TRY(new_value(ps, close == '}' ? FR_JSON_OBJECT : FR_JSON_ARRAY, &v));
    ps->p++;
    FR_TRY(items(ps, v, close));
    break;
  }
  case '"':
    FR_TRY(new_value(ps, FR_JSON_STRING, &v));
    FR_TRY(string(ps, &v->str));
    break;
  case 't': case 'f': case 'n': {
    fr_json_type t = *ps->p == 't' ? FR_JSON_TRUE
                     : *ps->p == 'f' ? FR_JSON_FALSE : FR_JSON_NULL;
    if (!literal(ps, t == FR_JSON_TRUE ? "true" : t == FR_JSON_FALSE ? "false"
                                                                     : "null"))
      return fail(ps, "expected a value");
    FR_TRY(new_value(ps, t, &v));
    break;
  }
  default:
    if (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9'))
      return fail(ps, "expected a value");
    FR_TRY(new_value(ps, FR_JSON_NUMBER, &v));
    FR_TRY(number(ps, v));
  }
  *out = v;
  return FR_OK;
}

fr_status fr_json_parse(fr_json_doc *d, const char *text, size_t len,
                        const char *what) {
  *d = (fr_json_doc){0};
  if (len > FR_JSON_MAX_BYTES)
    return fr_err(FR_ERR_NOMEM, "%s: %zu bytes of JSON (at most %d MiB)",
                  what, len, (int)(FR_JSON_MAX_BYTES >> 20));
  parser ps = {.s = text, .p = text, .end = text + len, .what = what,
               .a = &d->arena};
  fr_status st = value(&ps, &d->root);
  skip_ws(&ps);
  if (st == FR_OK && ps.p < ps.end) st = fail(&ps, "text after the value");
  if (st != FR_OK) fr_json_free(d);
  return st;
}

void fr_json_free(fr_json_doc *d) {
  fr_arena_free(&d->arena);
  *d = (fr_json_doc){0};
}

const fr_json *fr_json_get(const fr_json *obj, const char *key) {
  const fr_json *found = NULL;
  if (!obj || obj->type != FR_JSON_OBJECT) return NULL;
  for (const fr_json *m = obj->child; m; m = m->next)
    if (!strcmp(m->key, key)) found = m; /* the last one wins */
  return found;
}

const fr_json *fr_json_at(const fr_json *arr, int i) {
  if (!arr || arr->type != FR_JSON_ARRAY || i < 0) return NULL;
  const fr_json *e = arr->child;
  while (e && i-- > 0) e = e->next;
  return e;
}

bool fr_json_int(const fr_json *v, int64_t *out) {
  if (!v || v->type != FR_JSON_NUMBER || strpbrk(v->str, ".eE")) return false;
  errno = 0;
  char *end;
  long long x = strtoll(v->str, &end, 10);
  if (errno == ERANGE || *end) return false;
  *out = x;
  return true;
}

/* ---- writing ------------------------------------------------------------ */

void fr_json_put_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c == '\t') fputs("\\t", f);
    else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

void fr_json_put_number(FILE *f, double x) {
  if (x != x || x - x != 0) { /* NaN or infinite: JSON has neither */
    fputs("null", f);
    return;
  }
  /* The shortest of 15 and 17 significant digits that reads back as x. */
  char buf[32];
  snprintf(buf, sizeof buf, "%.15g", x);
  if (strtod(buf, NULL) != x) snprintf(buf, sizeof buf, "%.17g", x);
  fputs(buf, f);
}
