/* test_checkpoint.c: what `frost train` saves and prints, apart from
 * training itself: SHA-256 (ir/sha256.c) against known vectors, the JSON
 * reader (runtime/json.c) on good, bad and random text, checkpoints
 * (runtime/checkpoint.c: a round trip of equal bytes, one error naming the
 * file for each kind of damage, DIR/previous when DIR/current is damaged,
 * and a writer SIGKILLed at seeded random moments always leaving a
 * complete checkpoint), and the epoch log, its JSON lines, the progress
 * bar and the SVG plot (runtime/trainlog.c). FROST_SEED=N replays the kill
 * test with another seed. */
#define _GNU_SOURCE /* strcasestr, ptsname */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "testutil.h"

static char dir[256];

static void make_dir(void) { ft_tmpdir(dir, sizeof dir, "ckpt"); }

static void rm_dir(void) { ft_rmdir(dir); }

static const char *in_dir(const char *name, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s", dir, name);
  return buf;
}

static void write_bytes(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(p, 1, n, f), n);
  ck_assert_int_eq(fclose(f), 0);
}

/* The error message contains each of the (up to 3) strings. */
static void msg_has(const char *a, const char *b, const char *c) {
  const char *m = fr_err_msg();
  ck_assert_msg(strstr(m, a), "'%s' lacks '%s'", m, a);
  if (b) ck_assert_msg(strstr(m, b), "'%s' lacks '%s'", m, b);
  if (c) ck_assert_msg(strstr(m, c), "'%s' lacks '%s'", m, c);
}

/* ---- SHA-256 ------------------------------------------------------------ */

static void sha_hex(const void *p, size_t n, char out[65]) {
  fr_sha256 s;
  uint8_t d[32];
  fr_sha256_init(&s);
  fr_sha256_update(&s, p, n);
  fr_sha256_final(&s, d);
  fr_sha256_hex(d, out);
}

START_TEST(sha256_vectors) {
  /* FIPS 180-4 examples and the usual extra vectors. */
  static const struct {
    const char *in, *hex;
  } v[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
       "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {"The quick brown fox jumps over the lazy dog",
       "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
  };
  char hex[65];
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    sha_hex(v[i].in, strlen(v[i].in), hex);
    ck_assert_str_eq(hex, v[i].hex);
  }
  /* A million 'a', fed in uneven pieces (the partial-block path). */
  static char a[1000000];
  memset(a, 'a', sizeof a);
  fr_sha256 s;
  uint8_t d[32];
  fr_sha256_init(&s);
  for (size_t off = 0, k = 1; off < sizeof a; k = k * 7 % 131 + 1) {
    size_t n = k < sizeof a - off ? k : sizeof a - off;
    fr_sha256_update(&s, a + off, n);
    off += n;
  }
  fr_sha256_final(&s, d);
  fr_sha256_hex(d, hex);
  ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  /* Lengths around the padding boundary (55, 56, 63, 64 bytes): in
   * pieces equals at once. */
  for (size_t n = 50; n < 130; n++) {
    char one[65];
    sha_hex(a, n, one);
    fr_sha256_init(&s);
    fr_sha256_update(&s, a, n / 3);
    fr_sha256_update(&s, a, n - n / 3);
    fr_sha256_final(&s, d);
    fr_sha256_hex(d, hex);
    ck_assert_str_eq(hex, one);
  }
  /* A file, read in chunks of 1 MiB: 2.5 MiB of a pattern. */
  make_dir();
  char p[300];
  size_t big = (size_t)5 << 19;
  char *buf = malloc(big);
  for (size_t i = 0; i < big; i++) buf[i] = (char)(i * 31 + (i >> 13));
  write_bytes(in_dir("m.onnx", p, sizeof p), buf, big);
  char want[65];
  sha_hex(buf, big, want);
  ck_assert_int_eq(fr_sha256_file(p, hex), FR_OK);
  ck_assert_str_eq(hex, want);
  free(buf);
  ck_assert_int_eq(fr_sha256_file(in_dir("none.onnx", p, sizeof p), hex), FR_ERR_IO);
  msg_has(p, NULL, NULL);
  rm_dir();
}
END_TEST

/* ---- JSON --------------------------------------------------------------- */

static fr_status parse(fr_json_doc *d, const char *s) {
  return fr_json_parse(d, s, strlen(s), "t.json");
}

START_TEST(json_reader) {
  fr_json_doc d;
  ck_assert_int_eq(parse(&d, " {\"a\": [1, -2.5e3, true, false, null],"
                             " \"s\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\","
                             " \"big\": 9007199254740993, \"o\": {}, \"e\": [],"
                             " \"a\": 7} "), FR_OK);
  ck_assert_int_eq(d.root->type, FR_JSON_OBJECT);
  ck_assert_int_eq(d.root->n, 6);
  const fr_json *a = fr_json_get(d.root, "a");
  ck_assert_int_eq(a->type, FR_JSON_NUMBER); /* the last "a" wins */
  ck_assert(a->num == 7);
  const fr_json *arr = d.root->child;
  ck_assert_int_eq(arr->n, 5);
  ck_assert(fr_json_at(arr, 1)->num == -2500);
  ck_assert_int_eq(fr_json_at(arr, 2)->type, FR_JSON_TRUE);
  ck_assert_int_eq(fr_json_at(arr, 4)->type, FR_JSON_NULL);
  ck_assert_ptr_null(fr_json_at(arr, 5));
  ck_assert_str_eq(fr_json_get(d.root, "s")->str,
                   "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  int64_t big;
  ck_assert(fr_json_int(fr_json_get(d.root, "big"), &big));
  ck_assert_int_eq(big, 9007199254740993LL); /* exact: not through a double */
  ck_assert(!fr_json_int(fr_json_at(arr, 1), &big));
  ck_assert_ptr_null(fr_json_get(d.root, "nope"));
  fr_json_free(&d);
  /* Bad texts: each one error with a line and column. */
  static const char *const bad[] = {
      "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", "1e", "-",
      "\"abc", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"",
      "\"\\udc00x\"", "\"\\u0000\"", "tru", "nul", "[1] 2", "{1: 2}",
      "1e999", "[\"a\\", "{\"a\":}", "\xff",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fr_err_clear();
    ck_assert_msg(parse(&d, bad[i]) == FR_ERR_PARSE, "accepted '%s'", bad[i]);
    msg_has("t.json: line 1, column ", NULL, NULL);
    ck_assert_ptr_null(d.root);
  }
  ck_assert_int_eq(parse(&d, "{\n  \"a\": 1\n  \"b\": 2}"), FR_ERR_PARSE);
  msg_has("t.json: line 3, column 3: expected ',' or '}'", NULL, NULL);
  /* Depth: 64 levels are fine, 65 are not. */
  char deep[300];
  for (int depth = 64; depth <= 65; depth++) {
    for (int i = 0; i < depth; i++) deep[i] = '[', deep[depth + i] = ']';
    deep[2 * depth] = 0;
    fr_status st = parse(&d, deep);
    ck_assert_int_eq(st, depth == 64 ? FR_OK : FR_ERR_PARSE);
    if (st == FR_OK) fr_json_free(&d);
    else msg_has("nested deeper than 64 levels", NULL, NULL);
  }
  /* Values: 2^20 are fine, one more is not; text past 64 MiB is refused
   * before it is read. */
  size_t nv = (size_t)1 << 20;
  char *many = malloc(2 * nv + 4);
  for (int extra = 0; extra < 2; extra++) {
    size_t k = 0;
    many[k++] = '[';
    for (size_t i = 0; i + 1 < nv + (size_t)extra; i++) many[k++] = '0', many[k++] = ',';
    many[k++] = ']';
    many[k - 2] = many[k - 2] == ',' ? ' ' : many[k - 2];
    fr_status st = fr_json_parse(&d, many, k, "many");
    ck_assert_int_eq(st, extra ? FR_ERR_NOMEM : FR_OK);
    if (st == FR_OK) fr_json_free(&d);
    else msg_has("many: more than 1048576 values", NULL, NULL);
  }
  free(many);
  ck_assert_int_eq(fr_json_parse(&d, "1", FR_JSON_MAX_BYTES + 1, "huge"), FR_ERR_NOMEM);
  msg_has("huge: 67108865 bytes of JSON (at most 64 MiB)", NULL, NULL);
  /* Writers read back: escapes, numbers to the last bit, null for NaN. */
  char *text;
  size_t len;
  FILE *f = open_memstream(&text, &len);
  fputs("[", f);
  fr_json_put_string(f, "q\"b\\s\x01\n\t\xc3\xa9");
  const double nums[] = {0.1, 1.0 / 3, -2.5e-300, 1e300, 123456789012345678.0, 0};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    fputs(", ", f);
    fr_json_put_number(f, nums[i]);
  }
  fputs(", ", f);
  fr_json_put_number(f, NAN);
  fputs(", ", f);
  fr_json_put_number(f, -INFINITY);
  fputs("]", f);
  fclose(f);
  ck_assert_int_eq(fr_json_parse(&d, text, len, "w"), FR_OK);
  ck_assert_str_eq(d.root->child->str, "q\"b\\s\x01\n\t\xc3\xa9");
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
    ck_assert(fr_json_at(d.root, (int)i + 1)->num == nums[i]);
  ck_assert_int_eq(fr_json_at(d.root, 7)->type, FR_JSON_NULL);
  ck_assert_int_eq(fr_json_at(d.root, 8)->type, FR_JSON_NULL);
  ck_assert(strstr(text, "0.1,")); /* the short form when it reads back */
  fr_json_free(&d);
  free(text);
}
END_TEST

/* Random text, truncations and byte flips: no crash, and every failure
 * says where (the sanitizer build checks the reads). */
START_TEST(json_hostile) {
  const char *good = "{\"format\": 1, \"layout\": {\"params\": [{\"name\": "
                     "\"w\\u00e9\", \"dims\": [3, 4], \"offset\": 0}]}, "
                     "\"rng\": [\"1\", \"2\"], \"best\": {\"metric\": null}, "
                     "\"x\": -1.5e-3, \"t\": true}";
  size_t n = strlen(good);
  char buf[512];
  fr_json_doc d;
  for (size_t k = 0; k < n; k++) { /* every prefix is cut short */
    fr_err_clear();
    ck_assert_int_eq(fr_json_parse(&d, good, k, "cut"), FR_ERR_PARSE);
    msg_has("cut: line 1, column ", NULL, NULL);
  }
  ck_assert_int_eq(fr_json_parse(&d, good, n, "good"), FR_OK);
  fr_json_free(&d);
  fr_rng r;
  fr_rng_seed(&r, 7);
  static const char alphabet[] = "{}[]\":,\\u0123456789abcdefnulltrue-+.eE \n\xff";
  int ok = 0;
  for (int it = 0; it < 20000; it++) {
    size_t len;
    if (it % 2) { /* flips of the good text */
      memcpy(buf, good, n);
      len = n;
      for (int f = 1 + (int)fr_rng_below(&r, 3); f > 0; f--)
        buf[fr_rng_below(&r, n)] = alphabet[fr_rng_below(&r, sizeof alphabet - 1)];
      len = fr_rng_below(&r, 4) ? len : fr_rng_below(&r, n + 1);
    } else { /* random text of JSON's characters */
      len = fr_rng_below(&r, 64);
      for (size_t i = 0; i < len; i++)
        buf[i] = alphabet[fr_rng_below(&r, sizeof alphabet - 1)];
    }
    /* Not NUL-terminated: the reader must stop at len. */
    char *copy = malloc(len ? len : 1);
    memcpy(copy, buf, len);
    fr_err_clear();
    fr_status st = fr_json_parse(&d, copy, len, "fuzz");
    if (st == FR_OK) {
      ok++;
      fr_json_free(&d);
    } else {
      ck_assert_int_eq(st, FR_ERR_PARSE);
      msg_has("fuzz: line ", NULL, NULL);
    }
    free(copy);
  }
  ck_assert_int_gt(ok, 100); /* the flips reached valid texts too */
}
END_TEST

/* ---- checkpoints -------------------------------------------------------- */

enum { N_PARAMS = 4, SLOTS = 2 };

/* A layout like fr_graph_layout's: 64-byte aligned offsets; two names
 * that map to the same file name; f16 and bf16 besides f32. */
typedef struct model {
  fr_ckpt_param params[N_PARAMS];
  fr_ckpt c;
  uint8_t *trainable, *state; /* trainable_bytes, SLOTS x that */
} model;

static void model_init(model *m, int64_t scale) {
  static const char *names[N_PARAMS] = {"conv/w:0", "conv_w_0", "fc.bias",
                                        "norm scale"};
  const fr_dtype dt[N_PARAMS] = {FR_F32, FR_F32, FR_F16, FR_BF16};
  int64_t off = 0;
  for (int i = 0; i < N_PARAMS; i++) {
    fr_ckpt_param *p = &m->params[i];
    *p = (fr_ckpt_param){.name = names[i], .dtype = dt[i]};
    p->rank = i == 2 ? 1 : 2;
    p->dims[0] = 3 + i;
    p->dims[1] = scale + i;
    int64_t bytes = p->dims[0] * (p->rank == 2 ? p->dims[1] : 1) *
                    (int64_t)fr_dtype_size(dt[i]);
    p->offset = off;
    off += (bytes + 63) / 64 * 64;
  }
  m->c = (fr_ckpt){.model = "m.onnx", .trainable_bytes = off,
                   .state_slots = SLOTS, .n_params = N_PARAMS,
                   .params = m->params, .optimizer = "adam",
                   .best_epoch = -1, .best_metric = NAN};
  memset(m->c.model_sha256, 'a', 64);
  m->trainable = calloc(1, (size_t)off);
  m->state = calloc(SLOTS, (size_t)off);
}

static void model_free(model *m) {
  free(m->trainable);
  free(m->state);
}

static const fr_ckpt_kv HYPER[] = {{"lr", 1e-3}, {"beta1", 0.9},
                                   {"beta2", 0.999}, {"eps", NAN}};

/* Everything a save of step writes, derived from step alone. */
static void fill(model *m, int64_t step) {
  fr_rng r;
  fr_rng_seed(&r, (uint64_t)step * 1000003);
  for (int64_t i = 0; i < m->c.trainable_bytes; i++)
    m->trainable[i] = (uint8_t)fr_rng_u64(&r);
  for (int64_t i = 0; i < SLOTS * m->c.trainable_bytes; i++)
    m->state[i] = (uint8_t)fr_rng_u64(&r);
  m->c.epoch = step / 10;
  m->c.step = step;
  for (int i = 0; i < 4; i++) m->c.rng[i] = fr_rng_u64(&r) | 1ULL << 63;
  m->c.hyper = HYPER;
  m->c.n_hyper = 4;
  m->c.best_epoch = step / 10 - 1;
  m->c.best_metric = step ? 1.0 / (double)step : NAN;
}

/* The bytes of every parameter of a and b are equal (not the padding). */
static bool same_params(const model *a, const uint8_t *ta, const uint8_t *sa,
                        const uint8_t *tb, const uint8_t *sb) {
  for (int i = 0; i < N_PARAMS; i++) {
    const fr_ckpt_param *p = &a->params[i];
    size_t n = (size_t)(p->dims[0] * (p->rank == 2 ? p->dims[1] : 1)) *
               fr_dtype_size(p->dtype);
    if (memcmp(ta + p->offset, tb + p->offset, n)) return false;
    for (int s = 0; s < SLOTS; s++) {
      size_t o = (size_t)(s * a->c.trainable_bytes + p->offset);
      if (sb && memcmp(sa + o, sb + o, n)) return false;
    }
  }
  return true;
}

/* Loads dir into fresh blocks; checks they and the counters are those of
 * the save of step. */
static void check_loaded(model *m, const char *d, fr_ckpt *c, int64_t *step) {
  uint8_t *t = calloc(1, (size_t)m->c.trainable_bytes),
          *s = calloc(SLOTS, (size_t)m->c.trainable_bytes);
  *c = m->c;
  c->optimizer = "adam";
  fr_status st = fr_ckpt_load(d, c, t, s);
  ck_assert_msg(st == FR_OK, "load: %s", fr_err_msg());
  *step = c->step;
  model want = *m;
  want.trainable = malloc((size_t)m->c.trainable_bytes);
  want.state = malloc(SLOTS * (size_t)m->c.trainable_bytes);
  fill(&want, c->step);
  ck_assert_msg(same_params(m, want.trainable, want.state, t, s),
                "the blocks of step %lld are not those it saved",
                (long long)c->step);
  ck_assert_int_eq(c->epoch, c->step / 10);
  ck_assert_int_eq(memcmp(c->rng, want.c.rng, sizeof c->rng), 0);
  ck_assert_int_eq(c->best_epoch, want.c.best_epoch);
  ck_assert(c->best_metric == want.c.best_metric ||
            (isnan(c->best_metric) && isnan(want.c.best_metric)));
  model_free(&want);
  free(t);
  free(s);
}

START_TEST(ckpt_round_trip) {
  make_dir();
  model m;
  model_init(&m, 5);
  char d[300];
  in_dir("ck", d, sizeof d);
  ck_assert(!fr_ckpt_exists(d));
  const fr_ckpt_kv extra[] = {{"patience_left", 3}, {"ema", -0.25}};
  fill(&m, 41);
  m.c.extra = extra;
  m.c.n_extra = 2;
  ck_assert_msg(fr_ckpt_save(d, &m.c, m.trainable, m.state) == FR_OK, "%s",
                fr_err_msg());
  fill(&m, 42);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  ck_assert(fr_ckpt_exists(d));
  /* current is step 42, previous step 41, no leftovers */
  char p[400];
  struct stat st;
  snprintf(p, sizeof p, "%s/previous/state.json", d);
  ck_assert_int_eq(stat(p, &st), 0);
  snprintf(p, sizeof p, "%s/current/params/conv_w_0~2.npy", d);
  ck_assert_int_eq(stat(p, &st), 0); /* the second name for conv_w_0.npy */
  snprintf(p, sizeof p, "%s/current/state/1/norm_scale.npy", d);
  ck_assert_int_eq(stat(p, &st), 0);
  fr_ckpt c = m.c;
  c.optimizer = "adam";
  uint8_t *t = calloc(1, (size_t)m.c.trainable_bytes),
          *s = calloc(SLOTS, (size_t)m.c.trainable_bytes);
  ck_assert_msg(fr_ckpt_load(d, &c, t, s) == FR_OK, "%s", fr_err_msg());
  ck_assert(!c.from_previous);
  ck_assert(same_params(&m, m.trainable, m.state, t, s));
  ck_assert_int_eq(c.step, 42);
  ck_assert_int_eq(c.epoch, 4);
  ck_assert_int_eq(memcmp(c.rng, m.c.rng, sizeof c.rng), 0);
  ck_assert(c.rng[0] >> 63); /* past 2^53: kept as decimal strings */
  ck_assert_str_eq(c.optimizer, "adam");
  ck_assert_int_eq(c.n_hyper, 4);
  for (int i = 0; i < 3; i++) {
    ck_assert_str_eq(c.hyper[i].key, HYPER[i].key);
    ck_assert(c.hyper[i].value == HYPER[i].value);
  }
  ck_assert(isnan(c.hyper[3].value));
  ck_assert_int_eq(c.n_extra, 2);
  ck_assert_str_eq(c.extra[1].key, "ema");
  ck_assert(c.extra[1].value == -0.25);
  ck_assert_int_eq(c.best_epoch, 3);
  ck_assert(c.best_metric == 1.0 / 42);
  fr_ckpt_release(&c);
  /* The parameters alone (another optimizer's run): state not read. */
  c = m.c;
  c.state_slots = 1;
  c.optimizer = "sgd";
  memset(t, 0, (size_t)m.c.trainable_bytes);
  ck_assert_msg(fr_ckpt_load(d, &c, t, NULL) == FR_OK, "%s", fr_err_msg());
  ck_assert(same_params(&m, m.trainable, NULL, t, NULL));
  fr_ckpt_release(&c);
  free(t);
  free(s);
  model_free(&m);
  rm_dir();
}
END_TEST

/* A fresh checkpoint of step 7 in DIR/ck (no previous). */
static void fresh(model *m, char *d, size_t n) {
  char cmd[400];
  snprintf(d, n, "%s/ck", dir);
  snprintf(cmd, sizeof cmd, "rm -rf %s", d);
  ck_assert_int_eq(system(cmd), 0);
  fill(m, 7);
  ck_assert_int_eq(fr_ckpt_save(d, &m->c, m->trainable, m->state), FR_OK);
}

/* Loading c fails with st, with a message naming want and maybe more. */
static void load_fails(const model *m, const fr_ckpt *c, fr_status st,
                       const char *d, const char *want, const char *more,
                       const char *more2) {
  fr_ckpt x = *c;
  uint8_t *t = calloc(1, (size_t)m->c.trainable_bytes),
          *s = calloc(SLOTS, (size_t)m->c.trainable_bytes);
  fr_err_clear();
  fr_status got = fr_ckpt_load(d, &x, t, s);
  ck_assert_msg(got == st, "status %d, not %d (%s)", got, st, fr_err_msg());
  msg_has(want, more, more2);
  ck_assert_int_eq(x.step, c->step); /* c is left as it was */
  free(t);
  free(s);
}

static void truncate_file(const char *path, off_t n) {
  ck_assert_int_eq(truncate(path, n), 0);
}

START_TEST(ckpt_load_errors) {
  make_dir();
  model m;
  model_init(&m, 5);
  char d[300], p[400], q[400];
  m.c.step = 999;
  /* No checkpoint at all. */
  in_dir("none", d, sizeof d);
  load_fails(&m, &m.c, FR_ERR_IO, d, "none: no checkpoint", NULL, NULL);
  /* Another model's checkpoint: both hashes named. */
  fresh(&m, d, sizeof d);
  m.c.step = 999;
  fr_ckpt other = m.c;
  memset(other.model_sha256, 'b', 64);
  other.model = "other.onnx";
  snprintf(p, sizeof p, "%s/current/state.json", d);
  load_fails(&m, &other, FR_ERR_INVALID, d, p, "model 'm.onnx' (sha256 aaaa",
             "not of 'other.onnx' (sha256 bbbb");
  /* Another layout: dims, offset, dtype, size, slots, count. */
  fr_ckpt_param ps[N_PARAMS];
  memcpy(ps, m.params, sizeof ps);
  fr_ckpt lay = m.c;
  lay.params = ps;
  ps[1].dims[1]++;
  load_fails(&m, &lay, FR_ERR_INVALID, d, p,
             "trainable parameter 1 is 'conv_w_0' f32[4,6] at offset 64, this"
             " model's is 'conv_w_0' f32[4,7]", NULL);
  ps[1].dims[1]--;
  lay.trainable_bytes += 64;
  load_fails(&m, &lay, FR_ERR_INVALID, d, p, "a trainable block of 384 bytes, "
             "this model's has 448", NULL);
  lay.trainable_bytes -= 64;
  ps[2].offset += 32;
  load_fails(&m, &lay, FR_ERR_INVALID, d, p, "'fc.bias' f16[5] at offset 192, "
             "this model's is 'fc.bias' f16[5] at offset 224", NULL);
  ps[2].offset -= 32;
  ps[2].dtype = FR_F32;
  load_fails(&m, &lay, FR_ERR_INVALID, d, p, "'fc.bias' f16[5]", "f32[5]");
  ps[2].dtype = FR_F16;
  lay.state_slots = 1;
  load_fails(&m, &lay, FR_ERR_INVALID, d, p, "2 optimizer state slots, this run has 1",
             NULL);
  lay.state_slots = SLOTS;
  lay.n_params = 3;
  load_fails(&m, &lay, FR_ERR_INVALID, d, p, "4 trainable parameters, this model has 3",
             NULL);
  lay = m.c;
  lay.optimizer = "sgd";
  load_fails(&m, &lay, FR_ERR_INVALID, d, p, "optimizer state of 'adam', this run uses 'sgd'",
             NULL);
  /* A missing parameter file, a missing state file. */
  snprintf(q, sizeof q, "%s/current/params/fc.bias.npy", d);
  ck_assert_int_eq(unlink(q), 0);
  load_fails(&m, &m.c, FR_ERR_IO, d, q, "cannot open", NULL);
  fresh(&m, d, sizeof d);
  m.c.step = 999;
  snprintf(q, sizeof q, "%s/current/state/1/conv_w_0~2.npy", d);
  ck_assert_int_eq(unlink(q), 0);
  load_fails(&m, &m.c, FR_ERR_IO, d, q, NULL, NULL);
  /* A truncated .npy: its data, its header. */
  fresh(&m, d, sizeof d);
  m.c.step = 999;
  snprintf(q, sizeof q, "%s/current/state/0/conv_w_0.npy", d);
  truncate_file(q, 64 + 20);
  load_fails(&m, &m.c, FR_ERR_PARSE, d, q, "truncated", NULL);
  truncate_file(q, 9);
  load_fails(&m, &m.c, FR_ERR_PARSE, d, q, "not a .npy file", NULL);
  /* A .npy of another shape. */
  fresh(&m, d, sizeof d);
  m.c.step = 999;
  snprintf(q, sizeof q, "%s/current/params/norm_scale.npy", d);
  float same_bytes[24] = {0}; /* as many bytes as the parameter has */
  fr_tensor t1 = {.dtype = FR_F32, .rank = 1, .dims = {24}, .data = same_bytes};
  ck_assert_int_eq(fr_npy_write(q, &t1), FR_OK);
  load_fails(&m, &m.c, FR_ERR_PARSE, d, q, "holds f32[24], parameter 'norm scale' is u16[6,8]",
             NULL);
  /* state.json: missing, garbage, cut short, another format, bad fields. */
  fresh(&m, d, sizeof d);
  m.c.step = 999;
  ck_assert_int_eq(unlink(p), 0);
  load_fails(&m, &m.c, FR_ERR_IO, d, p, "cannot open", NULL);
  write_bytes(p, "\x89PNG garbage", 12);
  load_fails(&m, &m.c, FR_ERR_PARSE, d, p, "line 1, column 1: expected a value", NULL);
  fresh(&m, d, sizeof d);
  m.c.step = 999;
  uint8_t *text;
  size_t len;
  ck_assert_int_eq(fr_read_file(p, &text, &len), FR_OK);
  truncate_file(p, (off_t)len / 2);
  load_fails(&m, &m.c, FR_ERR_PARSE, d, p, "at the end of the text", NULL);
  static const struct {
    const char *from, *to, *msg;
  } edits[] = {
      {"\"format\": 1", "\"format\": 2", "checkpoint format 2, this frost reads format 1"},
      {"\"format\": 1", "\"format\": \"1\"", "'format' is missing or not an integer"},
      {"\"rng\": [\"", "\"rng\": [\"-", "'rng' is not an array of 4 decimal strings"},
      {"\"epoch\": 0,", "\"epoch\": -1,", "negative 'epoch' or 'step'"},
      {"\"lr\": 0.001", "\"lr\": \"fast\"", "'hyper' is missing or not an object of numbers"},
      {"\"file\": \"fc.bias.npy\"", "\"file\": \"../x.npy\"", "is in file '../x.npy'"},
      {"\"dims\": [3, 5]", "\"dims\": [3, -5]", "parameter 0 of 'layout' has bad dims"},
  };
  for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
    char *s = (char *)text, *at = strstr(s, edits[i].from);
    ck_assert_msg(at != NULL, "no '%s' in state.json", edits[i].from);
    char *e = malloc(len + 64);
    size_t k = (size_t)(at - s);
    memcpy(e, s, k);
    strcpy(e + k, edits[i].to);
    strcat(e, at + strlen(edits[i].from));
    write_bytes(p, e, strlen(e));
    free(e);
    load_fails(&m, &m.c, edits[i].msg[0] == 'c' ? FR_ERR_INVALID : FR_ERR_PARSE,
               d, p, edits[i].msg, NULL);
  }
  fr_free(text);
  model_free(&m);
  rm_dir();
}
END_TEST

/* DIR/current damaged: DIR/previous is loaded, and says why; another
 * model's DIR/current is an error whatever DIR/previous holds. */
START_TEST(ckpt_falls_back_to_previous) {
  make_dir();
  model m;
  model_init(&m, 3);
  char d[300], q[400];
  in_dir("ck", d, sizeof d);
  fill(&m, 5);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  fill(&m, 6);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  snprintf(q, sizeof q, "%s/current/params/fc.bias.npy", d);
  truncate_file(q, 100);
  fr_ckpt c;
  int64_t step;
  check_loaded(&m, d, &c, &step);
  ck_assert_int_eq(step, 5);
  ck_assert(c.from_previous);
  ck_assert_msg(strstr(c.current_error, q) && strstr(c.current_error, "truncated"),
                "%s", c.current_error);
  fr_ckpt_release(&c);
  /* Both damaged: both errors. */
  char q2[400];
  snprintf(q2, sizeof q2, "%s/previous/state.json", d);
  write_bytes(q2, "{", 1);
  m.c.step = 999;
  load_fails(&m, &m.c, FR_ERR_PARSE, d, q, q2, NULL);
  /* current missing (killed between the renames): previous. */
  fill(&m, 8);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  fill(&m, 9);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  char cur[400], tmp[400];
  snprintf(cur, sizeof cur, "%s/current", d);
  snprintf(tmp, sizeof tmp, "%s/.tmp-gone", d);
  ck_assert_int_eq(rename(cur, tmp), 0);
  check_loaded(&m, d, &c, &step);
  ck_assert_int_eq(step, 8);
  ck_assert(c.from_previous && !c.current_error[0]);
  fr_ckpt_release(&c);
  /* A save then puts step 10 in current and keeps 8 as previous. */
  fill(&m, 10);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  ck_assert_int_ne(access(tmp, F_OK), 0); /* the leftover is gone */
  check_loaded(&m, d, &c, &step);
  ck_assert_int_eq(step, 10);
  fr_ckpt_release(&c);
  ck_assert_int_eq(rename(cur, tmp), 0);
  check_loaded(&m, d, &c, &step);
  ck_assert_int_eq(step, 8);
  fr_ckpt_release(&c);
  ck_assert_int_eq(rename(tmp, cur), 0);
  /* Another model in current: no fall back. */
  fr_ckpt other = m.c;
  memset(other.model_sha256, 'c', 64);
  load_fails(&m, &other, FR_ERR_INVALID, d, "current/state.json", "sha256 cccc", NULL);
  model_free(&m);
  rm_dir();
}
END_TEST

/* A writer killed at seeded random moments: each time, the load succeeds
 * and returns a checkpoint one save wrote whole, no older than the last.
 * Every third kill is aimed instead: the parent watches DIR/current and
 * kills the writer as soon as it sees it gone (between a save's two
 * renames, the narrowest window). The delays are reproducible from the
 * seed; where in a save they land depends on the machine's timing. */
START_TEST(ckpt_survives_sigkill) {
  const char *env = getenv("FROST_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 10) : 20240611;
  printf("ckpt_survives_sigkill: FROST_SEED=%llu\n", (unsigned long long)seed);
  fflush(stdout);
  fr_rng r;
  fr_rng_seed(&r, seed);
  make_dir();
  model m;
  model_init(&m, 40); /* 1.8 KB a block: 13 files a save */
  char d[300];
  in_dir("ck", d, sizeof d);
  fill(&m, 0);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  int64_t last = 0, saves = 0, no_current = 0, aimed_hits = 0;
  char cur[400];
  snprintf(cur, sizeof cur, "%s/current", d);
  /* How long one save takes here, to spread the kills over a few. */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 1; i <= 5; i++) {
    fill(&m, 0);
    ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double per_save = ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9) / 5;
  for (int kill_no = 0; kill_no < 30; kill_no++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      alarm(20); /* never outlives a broken parent for long */
      for (int64_t step = last + 1;; step++) {
        fill(&m, step);
        if (fr_ckpt_save(d, &m.c, m.trainable, m.state) != FR_OK) {
          fprintf(stderr, "child: %s\n", fr_err_msg());
          _exit(3);
        }
      }
    }
    if (kill_no % 3 == 2) { /* aimed: at most 2 s of watching */
      struct stat st;
      struct timespec w0, w1;
      clock_gettime(CLOCK_MONOTONIC, &w0);
      do clock_gettime(CLOCK_MONOTONIC, &w1);
      while (lstat(cur, &st) == 0 && w1.tv_sec - w0.tv_sec < 2);
      ck_assert_int_eq(kill(pid, SIGKILL), 0);
    } else { /* up to 4 saves' time, to the microsecond */
      useconds_t us = (useconds_t)fr_rng_below(&r, (uint64_t)(4 * per_save * 1e6) + 1);
      usleep(us);
      ck_assert_int_eq(kill(pid, SIGKILL), 0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "the writer ended by itself (status %d)", status);
    struct stat st;
    bool missing = lstat(cur, &st) != 0;
    no_current += missing;
    aimed_hits += missing && kill_no % 3 == 2;
    fr_ckpt c;
    int64_t step;
    check_loaded(&m, d, &c, &step);
    ck_assert_int_eq(c.from_previous, missing);
    ck_assert_msg(step >= last, "step %lld after %lld", (long long)step,
                  (long long)last);
    saves += step - last;
    fr_ckpt_release(&c);
    last = step;
  }
  /* One more save cleans what the kills left. */
  fill(&m, last + 1);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s | grep -v -x -e current -e previous)\"", d);
  ck_assert_msg(system(cmd) == 0, "leftovers in %s", d);
  printf("ckpt_survives_sigkill: 30 kills, %lld saves completed, %.1f ms a "
         "save; %lld kills left no DIR/current (%lld of the 10 aimed)\n",
         (long long)saves, per_save * 1e3, (long long)no_current,
         (long long)aimed_hits);
  ck_assert_msg(aimed_hits > 0, "no aimed kill landed between the renames");
  model_free(&m);
  rm_dir();
}
END_TEST

/* Damaged state.json in every way the random flips find: load fails with
 * an error naming it, or succeeds, never crashes. */
START_TEST(ckpt_hostile_state_json) {
  make_dir();
  model m;
  model_init(&m, 2);
  char d[300], p[400];
  in_dir("ck", d, sizeof d);
  fill(&m, 3);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  snprintf(p, sizeof p, "%s/current/state.json", d);
  uint8_t *text;
  size_t len;
  ck_assert_int_eq(fr_read_file(p, &text, &len), FR_OK);
  char *buf = malloc(len);
  fr_rng r;
  fr_rng_seed(&r, 99);
  uint8_t *t = calloc(1, (size_t)m.c.trainable_bytes),
          *s = calloc(SLOTS, (size_t)m.c.trainable_bytes);
  int ok = 0;
  for (int it = 0; it < 400; it++) {
    memcpy(buf, text, len);
    size_t n = it % 4 == 0 ? fr_rng_below(&r, len) : len;
    for (int f = 1 + (int)fr_rng_below(&r, 2); it % 4 && f > 0; f--)
      buf[fr_rng_below(&r, len)] = "0123456789\"{}[],:-x"[fr_rng_below(&r, 19)];
    write_bytes(p, buf, n);
    fr_ckpt c = m.c;
    fr_err_clear();
    fr_status st = fr_ckpt_load(d, &c, t, s);
    if (st == FR_OK) {
      ok++;
      fr_ckpt_release(&c);
    } else {
      ck_assert_msg(strstr(fr_err_msg(), d), "%s", fr_err_msg());
    }
  }
  ck_assert_int_gt(ok, 0);
  fr_free(text);
  free(buf);
  free(t);
  free(s);
  model_free(&m);
  rm_dir();
}
END_TEST

/* One save (what 0), load (1) or log epoch with a plot (2), with
 * allocation k failing (-1: none); *allocs: the allocations it made. */
static fr_status one_call(model *m, int what, long k, uint8_t *t, uint8_t *s,
                          unsigned long *allocs) {
  char d[300], js[300], svg[300];
  in_dir("ck", d, sizeof d);
  in_dir("log.jsonl", js, sizeof js);
  in_dir("p.svg", svg, sizeof svg);
  unlink(js);
  unsigned long a0 = fr_mem_allocs();
  fr_mem_fail_only(k);
  fr_err_clear();
  fr_status st;
  if (what == 0) {
    fill(m, 2 + k);
    st = fr_ckpt_save(d, &m->c, m->trainable, m->state);
  } else if (what == 1) {
    fr_ckpt c = m->c;
    st = fr_ckpt_load(d, &c, t, s);
    if (st == FR_OK) fr_ckpt_release(&c);
  } else {
    fr_trainlog *lg;
    fr_trainlog_opts o = {.json_path = js, .plot_path = svg};
    fr_epoch_stats e = fr_epoch_stats_none();
    e.epoch = 1;
    st = fr_trainlog_open(&lg, &o);
    if (st == FR_OK) {
      st = fr_trainlog_epoch(lg, &e);
      fr_trainlog_close(lg);
    }
  }
  fr_mem_fail_only(-1);
  *allocs = fr_mem_allocs() - a0;
  return st;
}

/* Each allocation of a save, a load and a log epoch fails in turn: the
 * call fails with a message, frees what it took, and a failed save leaves
 * the checkpoint before it loadable. */
START_TEST(ckpt_out_of_memory) {
  make_dir();
  model m;
  model_init(&m, 2);
  char d[300];
  in_dir("ck", d, sizeof d);
  fill(&m, 1);
  ck_assert_int_eq(fr_ckpt_save(d, &m.c, m.trainable, m.state), FR_OK);
  size_t base = fr_mem_in_use();
  uint8_t *t = calloc(1, (size_t)m.c.trainable_bytes),
          *s = calloc(SLOTS, (size_t)m.c.trainable_bytes);
  for (int what = 0; what < 3; what++) {
    unsigned long n, got;
    if (what == 0) { /* counted on a save that is then undone */
      char cmd[1000];
      snprintf(cmd, sizeof cmd, "cp -a %s %s.keep", d, d);
      ck_assert_int_eq(system(cmd), 0);
      ck_assert_int_eq(one_call(&m, what, -1, t, s, &n), FR_OK);
      snprintf(cmd, sizeof cmd, "rm -rf %s && mv %s.keep %s", d, d, d);
      ck_assert_int_eq(system(cmd), 0);
    } else {
      ck_assert_int_eq(one_call(&m, what, -1, t, s, &n), FR_OK);
    }
    ck_assert_uint_gt(n, 0);
    printf("ckpt_out_of_memory: %s: %lu allocations, each failed in turn\n",
           what == 0 ? "save" : what == 1 ? "load" : "log epoch", n);
    for (long k = 0; k < (long)n; k++) {
      fr_status st = one_call(&m, what, k, t, s, &got);
      ck_assert_msg(st != FR_OK, "what %d: allocation %ld of %lu failed, the "
                    "call succeeded", what, k, n);
      ck_assert_msg(fr_err_is_set(), "what %d, allocation %ld: no message",
                    what, k);
      ck_assert_msg(fr_mem_in_use() == base, "what %d, allocation %ld: %zu "
                    "bytes kept", what, k, fr_mem_in_use() - base);
      if (what == 0) { /* the last complete save still loads */
        fr_ckpt c;
        int64_t step;
        check_loaded(&m, d, &c, &step);
        ck_assert_int_eq(step, 1);
        fr_ckpt_release(&c);
      }
    }
  }
  free(t);
  free(s);
  model_free(&m);
  rm_dir();
}
END_TEST

/* ---- the epoch log ------------------------------------------------------ */

START_TEST(log_line_format) {
  fr_epoch_stats e = {.epoch = 3, .epochs = 20, .step = 1500,
                      .train_loss = 0.41234, .train_acc = 0.9123,
                      .val_loss = 0.30111, .val_acc = 0.94, .lr = 1e-3,
                      .seconds = 2.3101};
  char line[256];
  fr_trainlog_format(&e, line, sizeof line);
  ck_assert_str_eq(line, "epoch 3/20  train loss 0.4123 acc 91.2%  val loss "
                         "0.3011 acc 94.0%  lr 1.0e-03  2.31 s");
  e = fr_epoch_stats_none();
  e.epoch = 1;
  e.train_loss = 2.5e-5;
  e.seconds = 0.5;
  fr_trainlog_format(&e, line, sizeof line);
  ck_assert_str_eq(line, "epoch 1  train loss 2.500e-05  0.50 s");
  e.train_loss = INFINITY;
  fr_trainlog_format(&e, line, sizeof line);
  ck_assert_str_eq(line, "epoch 1  train loss inf  0.50 s");
  char small[10];
  fr_trainlog_format(&e, small, sizeof small); /* cut, terminated */
  ck_assert_str_eq(small, "epoch 1  ");
}
END_TEST

static int count(const char *s, const char *what) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
  return n;
}

/* Whether /usr/bin/python3 reads path as XML (skipped when absent). */
static void check_xml(const char *path) {
  if (access("/usr/bin/python3", X_OK) != 0) return;
  char cmd[600];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; "
           "r = E.parse(sys.argv[1]).getroot(); "
           "assert r.tag == \"{http://www.w3.org/2000/svg}svg\", r.tag' %s",
           path);
  ck_assert_msg(system(cmd) == 0, "%s is not well-formed SVG", path);
}

START_TEST(log_json_and_plot) {
  make_dir();
  char js[300], svg[300];
  in_dir("log.jsonl", js, sizeof js);
  in_dir("curves.svg", svg, sizeof svg);
  char *out_text;
  size_t out_len;
  FILE *out = open_memstream(&out_text, &out_len);
  fr_trainlog_opts o = {.out = out, .progress = stderr, .json_path = js,
                        .plot_path = svg, .title = "m<&>.onnx"};
  fr_trainlog *lg;
  ck_assert_int_eq(fr_trainlog_open(&lg, &o), FR_OK);
  for (int ep = 1; ep <= 4; ep++) {
    fr_epoch_stats e = fr_epoch_stats_none();
    e.epoch = ep;
    e.epochs = 6;
    e.step = 100 * ep;
    e.train_loss = 1.0 / ep;
    e.train_acc = 0.5 + 0.1 * ep;
    if (ep != 2) e.val_loss = 1.2 / ep, e.val_acc = 0.45 + 0.1 * ep;
    e.lr = 0.01;
    e.seconds = 1.5;
    ck_assert_int_eq(fr_trainlog_epoch(lg, &e), FR_OK);
  }
  fr_trainlog_close(lg);
  fclose(out);
  ck_assert_int_eq(count(out_text, "\n"), 4);
  ck_assert_ptr_nonnull(strstr(out_text, "epoch 2/6  train loss 0.5000 acc 70.0%  lr 1.0e-02  1.50 s\n"));
  free(out_text);
  /* A resumed run: a line cut short by a kill is cut off; epoch 4 again
   * replaces the first one in the plot (no val at 2 and 5-6 now); the log
   * has all lines. */
  FILE *f = fopen(js, "ab");
  fputs("{\"epoch\": 5, \"st", f);
  fclose(f);
  o.out = NULL;
  ck_assert_int_eq(fr_trainlog_open(&lg, &o), FR_OK);
  for (int ep = 4; ep <= 6; ep++) {
    fr_epoch_stats e = fr_epoch_stats_none();
    e.epoch = ep;
    e.step = 100 * ep;
    e.train_loss = 0.5 / ep;
    e.train_acc = 0.9;
    if (ep == 4) e.val_loss = 0.3, e.val_acc = 0.8;
    ck_assert_int_eq(fr_trainlog_epoch(lg, &e), FR_OK);
  }
  fr_trainlog_close(lg);
  /* Every line parses with the reader and has exactly the 8 keys. */
  uint8_t *text;
  size_t len;
  ck_assert_int_eq(fr_read_file(js, &text, &len), FR_OK);
  static const char *keys[] = {"epoch", "step", "train_loss", "train_acc",
                               "val_loss", "val_acc", "lr", "seconds"};
  int lines = 0;
  for (char *line = strtok((char *)text, "\n"); line; line = strtok(NULL, "\n")) {
    fr_json_doc d;
    ck_assert_msg(fr_json_parse(&d, line, strlen(line), "log") == FR_OK, "%s",
                  fr_err_msg());
    ck_assert_int_eq(d.root->type, FR_JSON_OBJECT);
    ck_assert_int_eq(d.root->n, 8);
    int k = 0;
    for (const fr_json *m = d.root->child; m; m = m->next, k++)
      ck_assert_str_eq(m->key, keys[k]);
    int64_t ep;
    ck_assert(fr_json_int(fr_json_get(d.root, "epoch"), &ep));
    ck_assert_int_eq(ep, lines < 4 ? lines + 1 : lines);
    ck_assert_int_eq(fr_json_get(d.root, "val_loss")->type,
                     lines == 1 || lines >= 5 ? FR_JSON_NULL : FR_JSON_NUMBER);
    if (lines == 1)
      ck_assert(fr_json_get(d.root, "train_acc")->num == 0.5 + 0.1 * 2);
    fr_json_free(&d);
    lines++;
  }
  ck_assert_int_eq(lines, 7);
  fr_free(text);
  /* The plot: well-formed, two panels, curves broken at the missing val
   * point, the title escaped, no NaN written. */
  ck_assert_int_eq(fr_read_file(svg, &text, &len), FR_OK);
  const char *s = (const char *)text;
  ck_assert_ptr_nonnull(strstr(s, "m&lt;&amp;&gt;.onnx"));
  ck_assert_int_eq(count(s, ">loss</text>"), 1);
  ck_assert_int_eq(count(s, ">accuracy (%)</text>"), 1);
  ck_assert_int_eq(count(s, ">epoch</text>"), 2);
  ck_assert_int_eq(count(s, ">validation</text>"), 2);
  /* train: one line per panel (6 epochs); val: epochs 1, then 3-4 */
  ck_assert_int_eq(count(s, "<polyline"), 2 + 2);
  ck_assert_int_eq(count(s, "<circle"), 2 * (6 + 3));
  ck_assert_ptr_null(strcasestr(s, "nan"));
  ck_assert_ptr_null(strcasestr(s, "inf"));
  fr_free(text);
  check_xml(svg);
  /* No data at all, one epoch, huge and tiny values: still well-formed. */
  fr_epoch_stats e[2] = {fr_epoch_stats_none(), fr_epoch_stats_none()};
  ck_assert_int_eq(fr_plot_svg(svg, e, 0, NULL), FR_OK);
  check_xml(svg);
  e[0].epoch = 1;
  e[0].train_loss = 1e30;
  e[0].val_loss = INFINITY;
  e[1].epoch = 2;
  e[1].train_loss = 1e-30;
  ck_assert_int_eq(fr_plot_svg(svg, e, 2, "\x01"), FR_OK);
  check_xml(svg);
  ck_assert_int_eq(fr_read_file(svg, &text, &len), FR_OK);
  ck_assert_ptr_nonnull(strstr((char *)text, "not measured"));
  ck_assert_ptr_null(strcasestr((char *)text, "nan"));
  fr_free(text);
  /* A log line that is not one of ours is an error naming the line. */
  write_bytes(js, "{\"epoch\": 1}\n", 13);
  ck_assert_int_eq(fr_trainlog_open(&lg, &o), FR_ERR_PARSE);
  msg_has(js, "line 1", "not an epoch");
  rm_dir();
}
END_TEST

/* The bar: nothing when stderr is no terminal; on a terminal (a pty) at
 * most 10 draws a second, and cleared before the epoch line. */
START_TEST(log_progress_bar) {
  make_dir();
  char p[300];
  FILE *file = fopen(in_dir("err.txt", p, sizeof p), "w+");
  fr_trainlog_opts o = {.progress = file};
  fr_trainlog *lg;
  ck_assert_int_eq(fr_trainlog_open(&lg, &o), FR_OK);
  for (int i = 0; i < 100; i++) fr_trainlog_progress(lg, i, 100, 0.5);
  fr_trainlog_close(lg);
  ck_assert_int_eq(ftell(file), 0);
  fclose(file);
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) || unlockpt(master)) {
    rm_dir(); /* no pty here: the first half stands */
    return;
  }
  FILE *tty = fopen(ptsname(master), "w");
  ck_assert_ptr_nonnull(tty);
  o.progress = tty;
  o.out = tty;
  ck_assert_int_eq(fr_trainlog_open(&lg, &o), FR_OK);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int calls = 0;
  do { /* 0.35 s of calls as fast as they come */
    fr_trainlog_progress(lg, calls % 1000, 1000, 0.25);
    calls++;
    clock_gettime(CLOCK_MONOTONIC, &t1);
  } while ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9 < 0.35);
  fr_epoch_stats e = fr_epoch_stats_none();
  e.epoch = 1;
  ck_assert_int_eq(fr_trainlog_epoch(lg, &e), FR_OK);
  fr_trainlog_close(lg);
  fclose(tty);
  char buf[8192];
  int fl = fcntl(master, F_GETFL);
  fcntl(master, F_SETFL, fl | O_NONBLOCK);
  ssize_t n = 0, got;
  while (n < (ssize_t)sizeof buf - 1 &&
         (got = read(master, buf + n, sizeof buf - 1 - (size_t)n)) > 0)
    n += got;
  buf[n > 0 ? n : 0] = 0;
  close(master);
  int draws = count(buf, "/1000 [");
  ck_assert_msg(calls > 1000 && draws >= 3 && draws <= 5,
                "%d draws for %d calls in 0.35 s", draws, calls);
  ck_assert_ptr_nonnull(strstr(buf, "loss 0.2500"));
  ck_assert_ptr_nonnull(strstr(buf, "\r\033[Kepoch 1")); /* cleared first */
  rm_dir();
}
END_TEST

int main(void) {
  Suite *s = suite_create("checkpoint");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60); /* the kill test takes a few seconds */
  tcase_add_test(tc, sha256_vectors);
  tcase_add_test(tc, json_reader);
  tcase_add_test(tc, json_hostile);
  tcase_add_test(tc, ckpt_round_trip);
  tcase_add_test(tc, ckpt_load_errors);
  tcase_add_test(tc, ckpt_falls_back_to_previous);
  tcase_add_test(tc, ckpt_survives_sigkill);
  tcase_add_test(tc, ckpt_hostile_state_json);
  tcase_add_test(tc, ckpt_out_of_memory);
  tcase_add_test(tc, log_line_format);
  tcase_add_test(tc, log_json_and_plot);
  tcase_add_test(tc, log_progress_bar);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? 1 : 0;
}
