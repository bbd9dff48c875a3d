/* test_data.c: runtime/data.c and runtime/image.c, the data sets of `frost
 * train`. Every file is made at run time in a temporary folder: PNGs with
 * libpng, JPEGs with libjpeg, .npy with fr_npy_write, WAVs and broken PNGs
 * by hand. The layouts (class folders, manifests with labels or numbers),
 * image preprocessing checked against values worked out by hand, the
 * stratified split, batches, augmentation, WAV, and every bad input: one
 * error naming the file, an empty data set, nothing leaked (valgrind). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "testutil.h"

static char dir[256];

static void make_dir(void) { ft_tmpdir(dir, sizeof dir, "data"); }

static void rm_dir(void) { ft_rmdir(dir); }

/* dir/name in a rotating set of buffers (several live at once). */
static const char *P(const char *name) {
  static char bufs[8][512];
  static int k;
  char *b = bufs[k++ % 8];
  snprintf(b, 512, "%s/%s", dir, name);
  return b;
}

static void mkdirs(const char *name) {
  ck_assert_int_eq(mkdir(P(name), 0700), 0);
}

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(data, 1, n, f), n);
  ck_assert_int_eq(fclose(f), 0);
}

static void write_text(const char *path, const char *text) {
  write_bytes(path, text, strlen(text));
}

static uint8_t *read_all(const char *path, size_t *n) {
  uint8_t *b;
  ck_assert_int_eq(fr_read_file(path, &b, n), FR_OK);
  return b;
}

/* A copy of the first n bytes of src at dst. */
static void truncate_copy(const char *src, const char *dst, size_t n) {
  size_t len;
  uint8_t *b = read_all(src, &len);
  ck_assert_uint_lt(n, len);
  write_bytes(dst, b, n);
  fr_free(b);
}

static void write_npy(const char *path, fr_dtype t, int rank,
                      const int64_t *dims, const void *data) {
  fr_tensor x = {.dtype = t, .rank = rank, .data = (void *)data};
  memcpy(x.dims, dims, sizeof(int64_t) * (size_t)rank);
  ck_assert_int_eq(fr_npy_write(path, &x), FR_OK);
}

/* A one-element float32 .npy of value v. */
static void write_npy1(const char *path, float v) {
  write_npy(path, FR_F32, 1, FT_DIMS(1), &v);
}

/* px: (h, w, c) bytes, c 1 (gray), 2 (gray alpha), 3 (RGB) or 4 (RGBA). */
static void write_png(const char *path, int w, int h, int c,
                      const uint8_t *px) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL,
                                          NULL);
  png_infop info = png_create_info_struct(p);
  ck_assert(p && info);
  ck_assert_int_eq(setjmp(png_jmpbuf(p)), 0);
  png_init_io(p, f);
  static const int types[] = {0, PNG_COLOR_TYPE_GRAY,
                              PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                              PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, 8, types[c],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(p, info);
  for (int y = 0; y < h; y++)
    png_write_row(p, px + (size_t)y * (size_t)w * (size_t)c);
  png_write_end(p, NULL);
  png_destroy_write_struct(&p, &info);
  ck_assert_int_eq(fclose(f), 0);
}

/* px: (h, w, c) bytes, c 1 or 3; quality 100. */
static void write_jpeg(const char *path, int w, int h, int c,
                       const uint8_t *px) {
  struct jpeg_compress_struct ci;
  struct jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err);
  jpeg_create_compress(&ci);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  jpeg_stdio_dest(&ci, f);
  ci.image_width = (JDIMENSION)w;
  ci.image_height = (JDIMENSION)h;
  ci.input_components = c;
  ci.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, 100, TRUE);
  jpeg_start_compress(&ci, TRUE);
  while (ci.next_scanline < ci.image_height) {
    JSAMPROW row = (JSAMPROW)(px + (size_t)ci.next_scanline * (size_t)w * (size_t)c);
    jpeg_write_scanlines(&ci, &row, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  ck_assert_int_eq(fclose(f), 0);
}

/* A WAV file: format code fmt, ch channels, bits per sample, n frames of
 * data (bytes as given), and the data chunk's size field as said (the
 * true size when said < 0). */
static void write_wav(const char *path, int fmt, int ch, int bits, int rate,
                      const void *data, size_t bytes, long said) {
  uint8_t h[44];
  uint32_t data_size = said < 0 ? (uint32_t)bytes : (uint32_t)said;
  uint32_t riff = 36 + data_size;
  int align = ch * bits / 8;
  memcpy(h, "RIFF", 4);
  memcpy(h + 4, &riff, 4);
  memcpy(h + 8, "WAVEfmt ", 8);
  uint32_t fmt_size = 16, r = (uint32_t)rate, br = (uint32_t)(rate * align);
  uint16_t f16 = (uint16_t)fmt, c16 = (uint16_t)ch, a16 = (uint16_t)align,
           b16 = (uint16_t)bits;
  memcpy(h + 16, &fmt_size, 4);
  memcpy(h + 20, &f16, 2);
  memcpy(h + 22, &c16, 2);
  memcpy(h + 24, &r, 4);
  memcpy(h + 28, &br, 4);
  memcpy(h + 32, &a16, 2);
  memcpy(h + 34, &b16, 2);
  memcpy(h + 36, "data", 4);
  memcpy(h + 40, &data_size, 4);
  uint8_t *all = malloc(44 + bytes);
  memcpy(all, h, 44);
  memcpy(all + 44, data, bytes);
  write_bytes(path, all, 44 + bytes);
  free(all);
}

/* A progressive 8x8 RGB JPEG with a valid scan script of 2112 scans: per
 * component, the DC and then each of the 63 AC coefficients alone, each
 * sent one bit at a time from bit 10 down (a real one has about ten). */
static void write_jpeg_many_scans(const char *path) {
  enum { N = 3 * 64 * 11 };
  static jpeg_scan_info scans[N];
  int n = 0;
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < 64; k++)
      for (int al = 10; al >= 0; al--)
        scans[n++] = (jpeg_scan_info){.comps_in_scan = 1,
                                      .component_index = {c},
                                      .Ss = k, .Se = k,
                                      .Ah = al == 10 ? 0 : al + 1, .Al = al};
  struct jpeg_compress_struct ci;
  struct jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err);
  jpeg_create_compress(&ci);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  jpeg_stdio_dest(&ci, f);
  ci.image_width = 8;
  ci.image_height = 8;
  ci.input_components = 3;
  ci.in_color_space = JCS_RGB;
  jpeg_set_defaults(&ci);
  ci.scan_info = scans;
  ci.num_scans = n;
  jpeg_start_compress(&ci, TRUE);
  uint8_t px[3 * 8];
  memset(px, 99, sizeof px);
  while (ci.next_scanline < ci.image_height) {
    JSAMPROW row = px;
    jpeg_write_scanlines(&ci, &row, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  ck_assert_int_eq(fclose(f), 0);
}

/* ---- PNGs by hand (libpng writes no broken ones) ---------------------- */

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
  }
  return ~c;
}

static size_t put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
  return 4;
}

/* A PNG signature and an IHDR of w x h RGB pixels, with a valid CRC, then
 * an IEND: a header that claims an image and holds no pixels. */
static void write_png_header_only(const char *path, uint32_t w, uint32_t h) {
  uint8_t b[64];
  size_t n = 0;
  memcpy(b, "\x89PNG\r\n\x1a\n", 8);
  n = 8;
  n += put_be32(b + n, 13);
  size_t crc_from = n;
  memcpy(b + n, "IHDR", 4);
  n += 4;
  n += put_be32(b + n, w);
  n += put_be32(b + n, h);
  b[n++] = 8; /* depth */
  b[n++] = 2; /* RGB */
  b[n++] = 0;
  b[n++] = 0;
  b[n++] = 0;
  n += put_be32(b + n, crc32_of(b + crc_from, n - crc_from));
  n += put_be32(b + n, 0);
  memcpy(b + n, "IEND", 4);
  n += 4;
  n += put_be32(b + n, crc32_of((const uint8_t *)"IEND", 4));
  write_bytes(path, b, n);
}

/* ---- checks ------------------------------------------------------------- */

static void load_ok(const char *path, const fr_data_opts *o, fr_dataset *d) {
  fr_err_clear();
  fr_status st = fr_dataset_load(path, o, d);
  ck_assert_msg(st == FR_OK, "%s: %s", path, fr_err_msg());
}

/* Loading path fails with status want, a message naming name (and saying
 * what when what is not NULL), and an empty data set. */
static void load_fails(const char *path, const fr_data_opts *o,
                       fr_status want, const char *name, const char *what) {
  fr_dataset d;
  memset(&d, 0x55, sizeof d);
  fr_err_clear();
  fr_status st = fr_dataset_load(path, o, &d);
  ck_assert_msg(st == want, "%s: status %d, expected %d (%s)", path, st,
                want, fr_err_msg());
  ck_assert_msg(strstr(fr_err_msg(), name), "'%s' does not name %s",
                fr_err_msg(), name);
  if (what)
    ck_assert_msg(strstr(fr_err_msg(), what), "'%s' does not say '%s'",
                  fr_err_msg(), what);
  ck_assert_int_eq(d.n, 0);
  ck_assert_ptr_null(d.x);
  ck_assert_ptr_null(d.label);
  ck_assert_ptr_null(d.paths);
  ck_assert_ptr_null(d.arena.head);
}

static const fr_data_opts images = {.decode_image = fr_image_decode};

static void near(float got, float want, float tol, const char *what, int i) {
  ck_assert_msg(fabsf(got - want) <= tol, "%s[%d]: got %g, expected %g",
                what, i, (double)got, (double)want);
}

/* ---- layouts ------------------------------------------------------------ */

START_TEST(folder_layout) {
  make_dir();
  mkdirs("d");
  mkdirs("d/dog");
  mkdirs("d/cat");
  mkdirs("d/.git");      /* hidden: not a class */
  write_text(P("d/README"), "not a sample\n");
  float a[6] = {1, 2, 3, 4, 5, 6};
  double b[6] = {-1, -2, -3, -4, -5, -6};
  uint8_t c[6] = {0, 1, 2, 253, 254, 255};
  write_npy(P("d/cat/b.npy"), FR_F64, 2, FT_DIMS(2, 3), b);
  write_npy(P("d/cat/a.npy"), FR_F32, 2, FT_DIMS(2, 3), a);
  write_npy(P("d/cat/.hidden.npy"), FR_I64, 1, FT_DIMS(1), FT_DIMS(7));
  write_npy(P("d/dog/z.npy"), FR_U8, 2, FT_DIMS(2, 3), c);
  fr_dataset d;
  load_ok(P("d"), NULL, &d);
  ck_assert_int_eq(d.n, 3);
  ck_assert_int_eq(d.rank, 2);
  ck_assert_int_eq(d.dims[0], 2);
  ck_assert_int_eq(d.dims[1], 3);
  ck_assert_int_eq(d.numel, 6);
  ck_assert_int_eq(d.n_classes, 2);
  ck_assert_str_eq(d.class_names[0], "cat");
  ck_assert_str_eq(d.class_names[1], "dog");
  ck_assert_str_eq(d.paths[0], P("d/cat/a.npy"));
  ck_assert_str_eq(d.paths[1], P("d/cat/b.npy"));
  ck_assert_str_eq(d.paths[2], P("d/dog/z.npy"));
  ck_assert_int_eq(d.label[0], 0);
  ck_assert_int_eq(d.label[1], 0);
  ck_assert_int_eq(d.label[2], 1);
  ck_assert_ptr_null(d.y);
  ck_assert_int_eq(d.n_targets, 0);
  ck_assert_int_eq(d.sample_rate, 0);
  for (int i = 0; i < 6; i++) {
    near(d.x[i], a[i], 0, "f32", i);
    near(d.x[6 + i], (float)b[i], 0, "f64", i);
    near(d.x[12 + i], c[i], 0, "u8", i);
  }
  /* gather: a batch in a given order */
  int order[3] = {2, 0, 1};
  float x[12];
  int32_t lab[2];
  fr_dataset_gather(&d, order, 1, 2, x, lab, NULL);
  ck_assert_int_eq(lab[0], 0);
  ck_assert_int_eq(lab[1], 0);
  near(x[0], 1, 0, "gather", 0);
  near(x[6], -1, 0, "gather", 6);
  fr_dataset_gather(&d, order, 0, 1, x, lab, NULL);
  ck_assert_int_eq(lab[0], 1);
  near(x[5], 255, 0, "gather", 5);
  fr_dataset_free(&d);
  ck_assert_ptr_null(d.x);
  rm_dir();
}
END_TEST

START_TEST(manifest_labels) {
  make_dir();
  mkdirs("m");
  mkdirs("m/imgs");
  write_npy1(P("m/imgs/a, b.npy"), 1);
  write_npy1(P("m/imgs/c.npy"), 2);
  write_npy1(P("m/d.npy"), 3);
  write_npy1(P("m/e.npy"), 4);
  write_npy1(P("abs.npy"), 5);
  write_npy1(P("m/say \"hi\".npy"), 6);
  /* a BOM, CRLF, a quoted path with a comma, a blank line, spaces, a class
   * first seen on the last line, an absolute path, no final newline */
  char text[1024];
  snprintf(text, sizeof text,
           "\xEF\xBB\xBFpath,label\r\n\"imgs/a, b.npy\",zebra\r\n"
           "imgs/c.npy , ant\r\n\r\n d.npy,zebra\r\n%s,\"ant\"\r\ne.npy,mole\r\n"
           "\"say \"\"hi\"\".npy\",ant",
           P("abs.npy"));
  write_text(P("m/list.csv"), text);
  fr_dataset d;
  load_ok(P("m/list.csv"), NULL, &d);
  ck_assert_int_eq(d.n, 6);
  ck_assert_int_eq(d.n_classes, 3);
  ck_assert_str_eq(d.paths[5], P("m/say \"hi\".npy"));
  near(d.x[5], 6, 0, "x", 5);
  ck_assert_str_eq(d.class_names[0], "ant");
  ck_assert_str_eq(d.class_names[1], "mole");
  ck_assert_str_eq(d.class_names[2], "zebra");
  int32_t want[5] = {2, 0, 2, 0, 1};
  float xs[5] = {1, 2, 3, 5, 4};
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(d.label[i], want[i]);
    near(d.x[i], xs[i], 0, "x", i);
  }
  ck_assert_str_eq(d.paths[0], P("m/imgs/a, b.npy"));
  ck_assert_str_eq(d.paths[3], P("abs.npy"));
  ck_assert_int_eq(d.rank, 1);
  fr_dataset_free(&d);
  /* a manifest in the current folder: paths as written; "class" works as
   * the column name too, and a trailing newline is fine */
  char cwd[512];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir(P("m")), 0);
  write_text("here.csv", "file,Class\nd.npy,x\ne.npy,y\n");
  fr_err_clear();
  fr_status st = fr_dataset_load("here.csv", NULL, &d);
  ck_assert_int_eq(chdir(cwd), 0);
  ck_assert_msg(st == FR_OK, "%s", fr_err_msg());
  ck_assert_str_eq(d.paths[0], "d.npy");
  ck_assert_int_eq(d.n_classes, 2);
  fr_dataset_free(&d);
  rm_dir();
}
END_TEST

START_TEST(manifest_numbers) {
  make_dir();
  write_npy1(P("a.npy"), 1);
  write_npy1(P("b.npy"), 2);
  write_text(P("t.csv"), "path,age,task 2\na.npy,1.5,3\n\"b.npy\",-2e3,0\n");
  fr_dataset d;
  load_ok(P("t.csv"), NULL, &d);
  ck_assert_int_eq(d.n, 2);
  ck_assert_ptr_null(d.label);
  ck_assert_int_eq(d.n_classes, 0);
  ck_assert_int_eq(d.n_targets, 2);
  ck_assert_str_eq(d.target_names[0], "age");
  ck_assert_str_eq(d.target_names[1], "task 2");
  float want[4] = {1.5f, 3, -2000, 0};
  for (int i = 0; i < 4; i++) near(d.y[i], want[i], 0, "y", i);
  float x[1], y[2];
  int32_t lab[1];
  fr_dataset_gather(&d, (int[]){1}, 0, 1, x, lab, y);
  near(x[0], 2, 0, "x", 0);
  near(y[0], -2000, 0, "y", 0);
  ck_assert_int_eq(lab[0], -1);
  fr_dataset_free(&d);
  /* one number column not named label: a regression target */
  write_text(P("r.csv"), "path,value\na.npy,0.25\n");
  load_ok(P("r.csv"), NULL, &d);
  ck_assert_int_eq(d.n_targets, 1);
  near(d.y[0], 0.25f, 0, "y", 0);
  fr_dataset_free(&d);
  rm_dir();
}
END_TEST

/* Multi-task: label columns by name (in another order than the header's),
 * an empty cell -1, other columns ignored; the split groups by the first
 * column (its empty cells one more group), windows and pooled clips keep
 * every column (relabel), one column becomes the labels (eval --task). */
START_TEST(manifest_columns) {
  make_dir();
  char text[2048] = "path,size,word,accent\n";
  const char *words[8] = {"yes", "no", "yes", "", "no", "yes", "no", ""};
  const char *accents[8] = {"us", "", "gb", "gb", "us", "us", "", "gb"};
  for (int i = 0; i < 8; i++) {
    char name[32], line[96];
    snprintf(name, sizeof name, "%d.npy", i);
    write_npy1(P(name), (float)i);
    snprintf(line, sizeof line, "%s,%d,%s,%s\n", name, i * 3, words[i], accents[i]);
    strcat(text, line);
  }
  write_text(P("t.csv"), text);
  const char *cols[2] = {"accent", "word"};
  fr_data_opts o = {.label_columns = cols, .n_label_columns = 2};
  fr_dataset d;
  load_ok(P("t.csv"), &o, &d);
  ck_assert_int_eq(d.n, 8);
  ck_assert_ptr_null(d.label);
  ck_assert_ptr_null(d.y);
  ck_assert_int_eq(d.n_targets, 0);
  ck_assert_int_eq(d.n_columns, 2);
  ck_assert_str_eq(d.columns[0].name, "accent");
  ck_assert_int_eq(d.columns[0].n_classes, 2);
  ck_assert_str_eq(d.columns[0].class_names[0], "gb");
  ck_assert_str_eq(d.columns[1].class_names[1], "yes");
  const int32_t acc[8] = {1, -1, 0, 0, 1, 1, -1, 0}, wd[8] = {1, 0, 1, -1, 0, 1, 0, -1};
  for (int i = 0; i < 8; i++) {
    ck_assert_int_eq(d.columns[0].label[i], acc[i]);
    ck_assert_int_eq(d.columns[1].label[i], wd[i]);
  }
  int32_t lab[2];
  fr_dataset_gather_column(&d, 1, (int[]){3, 5}, 0, 2, lab);
  ck_assert_int_eq(lab[0], -1);
  ck_assert_int_eq(lab[1], 1);
  /* the split: half of each accent group, gb (3), us (3), none (2) */
  fr_dataset tr, va;
  ck_assert_int_eq(fr_dataset_split(&d, 0.5, 3, &tr, &va), FR_OK);
  ck_assert_int_eq(va.n, 5); /* round(1.5) = 2 of 3, 2 of 3, 1 of 2 */
  int none = 0;
  for (int i = 0; i < va.n; i++) {
    int v = (int)va.x[i];
    ck_assert_int_eq(va.columns[0].label[i], acc[v]);
    ck_assert_int_eq(va.columns[1].label[i], wd[v]);
    none += acc[v] < 0;
  }
  ck_assert_int_eq(none, 1);
  ck_assert_str_eq(tr.columns[1].class_names[0], "no");
  fr_dataset_free(&tr);
  fr_dataset_free(&va);
  /* relabel: new samples take the labels of rows 7, 0 */
  ck_assert_int_eq(fr_dataset_relabel(&d, (int[]){7, 0}, 2), FR_OK);
  ck_assert_int_eq(d.columns[0].label[0], 0);
  ck_assert_int_eq(d.columns[1].label[0], -1);
  ck_assert_int_eq(d.columns[1].label[1], 1);
  /* one column as the labels */
  fr_dataset_use_column(&d, 1);
  ck_assert_int_eq(d.n_classes, 2);
  ck_assert_str_eq(d.class_names[0], "no");
  ck_assert_int_eq(d.label[0], -1);
  ck_assert_int_eq(d.label[1], 1);
  fr_dataset_free(&d);
  /* errors: a missing column, a column named twice, a folder */
  const char *bad[1] = {"colour"};
  fr_data_opts ob = {.label_columns = bad, .n_label_columns = 1};
  load_fails(P("t.csv"), &ob, FR_ERR_INVALID, P("t.csv"), "no column 'colour'");
  write_text(P("u.csv"), "path,word,word\n0.npy,a,b\n");
  load_fails(P("u.csv"), &o, FR_ERR_INVALID, "u.csv", "no column 'accent'");
  const char *w1[1] = {"word"};
  fr_data_opts ow = {.label_columns = w1, .n_label_columns = 1};
  load_fails(P("u.csv"), &ow, FR_ERR_PARSE, "u.csv", "two columns are named 'word'");
  mkdirs("f");
  mkdirs("f/a");
  write_npy1(P("f/a/0.npy"), 0);
  load_fails(P("f"), &ow, FR_ERR_USAGE, P("f"), "CSV manifest");
  rm_dir();
}
END_TEST

/* ---- images ------------------------------------------------------------- */

/* A 2x2 RGB image: R varies along x (0, 255), G along y (0, 255), B is 51.
 * Resized to 4x4 (bilinear, half-pixel centres), each side [a, b] becomes
 * [a, (3a+b)/4, (a+3b)/4, b]: R and G take [0, .25, .75, 1] along their
 * axis, B stays 0.2. With mean (.5, .25, .2) and std (.5, .25, .1):
 * R -> [-1, -.5, .5, 1], G -> [-1, 0, 2, 3], B -> 0. */
static const uint8_t rgb2x2[12] = {0, 0, 51, 255, 0, 51, 0, 255, 51, 255, 255, 51};
static const float r4[4] = {-1, -0.5f, 0.5f, 1}, g4[4] = {-1, 0, 2, 3};

START_TEST(image_values) {
  make_dir();
  mkdirs("i");
  mkdirs("i/c");
  write_png(P("i/c/a.png"), 2, 2, 3, rgb2x2);
  fr_data_opts o = {.resize_h = 4, .resize_w = 4,
                    .mean = {0.5f, 0.25f, 0.2f}, .n_mean = 3,
                    .std = {0.5f, 0.25f, 0.1f}, .n_std = 3,
                    .decode_image = fr_image_decode};
  fr_dataset d;
  load_ok(P("i"), &o, &d); /* NCHW */
  ck_assert_int_eq(d.rank, 3);
  ck_assert_int_eq(d.dims[0], 3);
  ck_assert_int_eq(d.dims[1], 4);
  ck_assert_int_eq(d.dims[2], 4);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++) {
      near(d.x[0 * 16 + y * 4 + x], r4[x], 1e-5f, "R", y * 4 + x);
      near(d.x[1 * 16 + y * 4 + x], g4[y], 1e-5f, "G", y * 4 + x);
      near(d.x[2 * 16 + y * 4 + x], 0, 1e-5f, "B", y * 4 + x);
    }
  fr_dataset_free(&d);
  o.nhwc = true;
  load_ok(P("i"), &o, &d);
  ck_assert_int_eq(d.dims[0], 4);
  ck_assert_int_eq(d.dims[1], 4);
  ck_assert_int_eq(d.dims[2], 3);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++) {
      near(d.x[(y * 4 + x) * 3 + 0], r4[x], 1e-5f, "R", y * 4 + x);
      near(d.x[(y * 4 + x) * 3 + 1], g4[y], 1e-5f, "G", y * 4 + x);
      near(d.x[(y * 4 + x) * 3 + 2], 0, 1e-5f, "B", y * 4 + x);
    }
  fr_dataset_free(&d);
  /* no resize, one mean and std for all channels, to gray: BT.601 luma */
  fr_data_opts g = {.channels = 1, .mean = {0.5f}, .n_mean = 1,
                    .std = {2}, .n_std = 1, .decode_image = fr_image_decode};
  load_ok(P("i"), &g, &d);
  ck_assert_int_eq(d.dims[0], 1);
  ck_assert_int_eq(d.dims[1], 2);
  ck_assert_int_eq(d.dims[2], 2);
  for (int i = 0; i < 4; i++) {
    const uint8_t *p = rgb2x2 + 3 * i;
    float luma = (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) / 255;
    near(d.x[i], (luma - 0.5f) / 2, 1e-5f, "gray", i);
  }
  fr_dataset_free(&d);
  /* one side resized only: the other kept */
  fr_data_opts h = {.resize_h = 4, .decode_image = fr_image_decode};
  load_ok(P("i"), &h, &d);
  ck_assert_int_eq(d.dims[1], 4);
  ck_assert_int_eq(d.dims[2], 2);
  near(d.x[1 * 8 + 1 * 2 + 0], 0.25f, 1e-5f, "G", 0);
  fr_dataset_free(&d);
  rm_dir();
}
END_TEST

START_TEST(image_formats) {
  make_dir();
  mkdirs("f");
  mkdirs("f/a");
  /* an 8x8 gray JPEG of 200 everywhere, an RGBA PNG (alpha dropped), a
   * gray+alpha PNG: channels as the first image (gray JPEG, 1), RGB made
   * gray */
  uint8_t gray[64], rgba[4 * 64], ga[2 * 64];
  memset(gray, 200, sizeof gray);
  for (int i = 0; i < 64; i++) {
    rgba[4 * i] = 100;
    rgba[4 * i + 1] = 100;
    rgba[4 * i + 2] = 100;
    rgba[4 * i + 3] = (uint8_t)i;
    ga[2 * i] = 10;
    ga[2 * i + 1] = 0;
  }
  write_jpeg(P("f/a/1.jpg"), 8, 8, 1, gray);
  write_png(P("f/a/2.png"), 8, 8, 4, rgba);
  write_png(P("f/a/3.PNG"), 8, 8, 2, ga);
  fr_dataset d;
  load_ok(P("f"), &images, &d);
  ck_assert_int_eq(d.n, 3);
  ck_assert_int_eq(d.dims[0], 1);
  for (int i = 0; i < 64; i++) {
    near(d.x[i], 200 / 255.0f, 1.5f / 255, "jpeg", i);
    near(d.x[64 + i], 100 / 255.0f, 1e-5f, "rgba", i);
    near(d.x[128 + i], 10 / 255.0f, 1e-6f, "ga", i);
  }
  fr_dataset_free(&d);
  /* channels 3: gray copied into R, G, B; an RGB JPEG */
  uint8_t rgb[3 * 64];
  for (int i = 0; i < 64; i++) {
    rgb[3 * i] = 250;
    rgb[3 * i + 1] = 128;
    rgb[3 * i + 2] = 5;
  }
  write_jpeg(P("f/a/4.jpeg"), 8, 8, 3, rgb);
  fr_data_opts o = {.channels = 3, .decode_image = fr_image_decode};
  load_ok(P("f"), &o, &d);
  ck_assert_int_eq(d.n, 4);
  ck_assert_int_eq(d.dims[0], 3);
  for (int k = 0; k < 3; k++) {
    near(d.x[k * 64 + 5], 200 / 255.0f, 1.5f / 255, "gray->rgb", k);
    near(d.x[3 * 192 + k * 64 + 9], rgb[k] / 255.0f, 4.0f / 255, "jpeg rgb", k);
  }
  fr_dataset_free(&d);
  rm_dir();
}
END_TEST

START_TEST(image_sizes) {
  make_dir();
  mkdirs("s");
  mkdirs("s/a");
  mkdirs("s/b");
  uint8_t px[3 * 6 * 4];
  memset(px, 128, sizeof px);
  write_png(P("s/a/x.png"), 4, 4, 3, px);
  write_png(P("s/b/y.png"), 6, 4, 3, px);
  load_fails(P("s"), &images, FR_ERR_SHAPE, P("s/b/y.png"), "[3,4,6]");
  ck_assert_msg(strstr(fr_err_msg(), "[3,4,4]") && strstr(fr_err_msg(), P("s/a/x.png")),
                "%s", fr_err_msg());
  fr_data_opts o = {.resize_h = 5, .resize_w = 3, .decode_image = fr_image_decode};
  fr_dataset d;
  load_ok(P("s"), &o, &d);
  ck_assert_int_eq(d.dims[1], 5);
  ck_assert_int_eq(d.dims[2], 3);
  for (int i = 0; i < 2 * 45; i++) near(d.x[i], 128 / 255.0f, 1e-5f, "x", i);
  fr_dataset_free(&d);
  rm_dir();
}
END_TEST

/* ---- split -------------------------------------------------------------- */

/* An in-memory data set: counts[k] samples of class k, sample i holding
 * the value i. */
static void fake_set(fr_dataset *d, int n_classes, const int *counts) {
  *d = (fr_dataset){0};
  int n = 0;
  for (int k = 0; k < n_classes; k++) n += counts[k];
  d->n = n;
  d->rank = 1;
  d->dims[0] = 1;
  d->numel = 1;
  d->x = fr_malloc(sizeof(float) * (size_t)n);
  d->label = fr_malloc(sizeof(int32_t) * (size_t)n);
  d->paths = fr_arena_alloc(&d->arena, sizeof(char *) * (size_t)n);
  d->n_classes = n_classes;
  d->class_names = fr_arena_alloc(&d->arena, sizeof(char *) * (size_t)n_classes);
  for (int k = 0; k < n_classes; k++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", k);
    d->class_names[k] = fr_arena_strdup(&d->arena, name);
  }
  /* classes interleaved, so that order matters */
  int left[16];
  memcpy(left, counts, sizeof(int) * (size_t)n_classes);
  for (int i = 0, k = 0; i < n; k = (k + 1) % n_classes) {
    if (!left[k]) continue;
    left[k]--;
    char p[16];
    snprintf(p, sizeof p, "s%d", i);
    d->paths[i] = fr_arena_strdup(&d->arena, p);
    d->x[i] = (float)i;
    d->label[i] = k;
    i++;
  }
}

static int count_class(const fr_dataset *d, int k) {
  int m = 0;
  for (int i = 0; i < d->n; i++) m += d->label[i] == k;
  return m;
}

START_TEST(split_stratified) {
  const int counts[4] = {10, 5, 2, 1};
  fr_dataset d, tr, va;
  fake_set(&d, 4, counts);
  ck_assert_int_eq(fr_dataset_split(&d, 0.2, 7, &tr, &va), FR_OK);
  /* 20%: 2 of 10, 1 of 5, round(0.4) = 0 of 2, 0 of 1 */
  const int want_val[4] = {2, 1, 0, 0};
  for (int k = 0; k < 4; k++) {
    ck_assert_int_eq(count_class(&va, k), want_val[k]);
    ck_assert_int_eq(count_class(&tr, k), counts[k] - want_val[k]);
  }
  ck_assert_int_eq(tr.n + va.n, d.n);
  ck_assert_int_eq(tr.n_classes, 4);
  ck_assert_str_eq(va.class_names[3], "c3");
  /* disjoint, complete, each in d's order, x/label/path kept together */
  bool seen[18] = {0};
  const fr_dataset *parts[2] = {&tr, &va};
  for (int p = 0; p < 2; p++)
    for (int i = 0; i < parts[p]->n; i++) {
      int v = (int)parts[p]->x[i];
      ck_assert(!seen[v]);
      seen[v] = true;
      ck_assert_int_eq(parts[p]->label[i], d.label[v]);
      ck_assert_str_eq(parts[p]->paths[i], d.paths[v]);
      if (i) ck_assert_int_lt((int)parts[p]->x[i - 1], v);
    }
  /* the same seed draws the same split */
  fr_dataset tr2, va2;
  ck_assert_int_eq(fr_dataset_split(&d, 0.2, 7, &tr2, &va2), FR_OK);
  ck_assert_int_eq(va2.n, va.n);
  for (int i = 0; i < va.n; i++) ck_assert_float_eq(va2.x[i], va.x[i]);
  fr_dataset_free(&tr2);
  fr_dataset_free(&va2);
  /* another seed, another split (one of a few differs) */
  bool differs = false;
  for (uint64_t s = 8; s < 12 && !differs; s++) {
    ck_assert_int_eq(fr_dataset_split(&d, 0.2, s, &tr2, &va2), FR_OK);
    for (int i = 0; i < va.n; i++) differs |= va2.x[i] != va.x[i];
    fr_dataset_free(&tr2);
    fr_dataset_free(&va2);
  }
  ck_assert(differs);
  fr_dataset_free(&tr);
  fr_dataset_free(&va);
  /* a big fraction still leaves one of each class in train */
  ck_assert_int_eq(fr_dataset_split(&d, 0.9, 1, &tr, &va), FR_OK);
  for (int k = 0; k < 4; k++) ck_assert_int_ge(count_class(&tr, k), 1);
  ck_assert_int_eq(count_class(&va, 0), 9);
  ck_assert_int_eq(count_class(&va, 2), 1);
  fr_dataset_free(&tr);
  fr_dataset_free(&va);
  /* 0: everything in train */
  ck_assert_int_eq(fr_dataset_split(&d, 0, 1, &tr, &va), FR_OK);
  ck_assert_int_eq(tr.n, d.n);
  ck_assert_int_eq(va.n, 0);
  fr_dataset_free(&tr);
  fr_dataset_free(&va);
  /* out of range */
  ck_assert_int_eq(fr_dataset_split(&d, 1, 1, &tr, &va), FR_ERR_USAGE);
  ck_assert_int_eq(fr_dataset_split(&d, -0.1, 1, &tr, &va), FR_ERR_USAGE);
  ck_assert_int_eq(fr_dataset_split(&d, NAN, 1, &tr, &va), FR_ERR_USAGE);
  fr_dataset_free(&d);
}
END_TEST

START_TEST(split_numeric) {
  make_dir();
  char text[4096] = "path,v\n";
  for (int i = 0; i < 20; i++) {
    char name[32], line[64];
    snprintf(name, sizeof name, "%02d.npy", i);
    write_npy1(P(name), (float)i);
    snprintf(line, sizeof line, "%s,%d\n", name, i * 10);
    strcat(text, line);
  }
  write_text(P("n.csv"), text);
  fr_dataset d, tr, va;
  load_ok(P("n.csv"), NULL, &d);
  ck_assert_int_eq(fr_dataset_split(&d, 0.25, 3, &tr, &va), FR_OK);
  ck_assert_int_eq(va.n, 5);
  ck_assert_int_eq(tr.n, 15);
  ck_assert_ptr_null(va.label);
  ck_assert_str_eq(va.target_names[0], "v");
  for (int i = 0; i < va.n; i++) near(va.y[i], va.x[i] * 10, 0, "y", i);
  fr_dataset_free(&tr);
  fr_dataset_free(&va);
  fr_dataset_free(&d);
  rm_dir();
}
END_TEST

/* ---- augmentation ------------------------------------------------------- */

START_TEST(augment) {
  /* (1, 4, 4): value x + 10 y */
  float img[16], x[16];
  for (int i = 0; i < 16; i++) img[i] = (float)(i % 4 + 10 * (i / 4));
  const int64_t *chw = FT_DIMS(1, 4, 4);
  fr_rng r;
  /* scale 2, no rotation: x' = (x - 1.5) / 2 + 1.5 */
  fr_augment_opts zoom = {.scale_min = 2, .scale_max = 2};
  memcpy(x, img, sizeof img);
  fr_rng_seed(&r, 1);
  ck_assert_int_eq(fr_augment(x, 1, 3, chw, false, &r, &zoom), FR_OK);
  const float zx[4] = {0.75f, 1.25f, 1.75f, 2.25f};
  for (int y = 0; y < 4; y++)
    for (int k = 0; k < 4; k++)
      near(x[y * 4 + k], zx[k] + 10 * zx[y], 1e-4f, "zoom", y * 4 + k);
  /* scale 1, no rotation: unchanged */
  fr_augment_opts one = {.scale_min = 1, .scale_max = 1};
  memcpy(x, img, sizeof img);
  ck_assert_int_eq(fr_augment(x, 1, 3, chw, false, &r, &one), FR_OK);
  for (int i = 0; i < 16; i++) near(x[i], img[i], 0, "identity", i);
  /* flips: over many draws both outcomes, each exact */
  fr_augment_opts flip = {.hflip = true};
  int flipped = 0;
  for (int t = 0; t < 32; t++) {
    memcpy(x, img, sizeof img);
    ck_assert_int_eq(fr_augment(x, 1, 3, chw, false, &r, &flip), FR_OK);
    bool f = x[0] == 3;
    flipped += f;
    for (int i = 0; i < 16; i++)
      near(x[i], f ? img[(i / 4) * 4 + 3 - i % 4] : img[i], 0, "flip", i);
  }
  ck_assert(flipped > 0 && flipped < 32);
  /* crop: a shift by at most pad, zeros where it leaves the image */
  fr_augment_opts crop = {.crop_pad = 1};
  int moved = 0;
  for (int t = 0; t < 32; t++) {
    memcpy(x, img, sizeof img);
    ck_assert_int_eq(fr_augment(x, 1, 3, chw, false, &r, &crop), FR_OK);
    int found = 0;
    for (int oy = -1; oy <= 1; oy++)
      for (int ox = -1; ox <= 1; ox++) {
        bool same = true;
        for (int y = 0; y < 4; y++)
          for (int k = 0; k < 4; k++) {
            int sy = y + oy, sx = k + ox;
            float w = sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? img[sy * 4 + sx] : 0;
            same &= x[y * 4 + k] == w;
          }
        if (same) {
          found++;
          moved += oy || ox;
        }
      }
    ck_assert_int_eq(found, 1);
  }
  ck_assert_int_gt(moved, 0);
  /* a batch of two RGB images, NCHW and NHWC: the same seed gives the same
   * changes in either layout */
  float a[2 * 3 * 5 * 6], b[2 * 3 * 5 * 6];
  for (int n = 0; n < 2; n++)
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < 5; y++)
        for (int k = 0; k < 6; k++) {
          float v = (float)(n * 1000 + c * 100 + y * 6 + k);
          a[((n * 3 + c) * 5 + y) * 6 + k] = v;
          b[((n * 5 + y) * 6 + k) * 3 + c] = v;
        }
  fr_augment_opts all = {.crop_pad = 2, .hflip = true, .rotate_deg = 30,
                         .scale_min = 0.8f, .scale_max = 1.2f};
  fr_rng ra, rb;
  fr_rng_seed(&ra, 42);
  fr_rng_seed(&rb, 42);
  ck_assert_int_eq(fr_augment(a, 2, 3, FT_DIMS(3, 5, 6), false, &ra, &all), FR_OK);
  ck_assert_int_eq(fr_augment(b, 2, 3, FT_DIMS(5, 6, 3), true, &rb, &all), FR_OK);
  for (int n = 0; n < 2; n++)
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < 5; y++)
        for (int k = 0; k < 6; k++) {
          float va = a[((n * 3 + c) * 5 + y) * 6 + k];
          ck_assert(isfinite(va));
          near(b[((n * 5 + y) * 6 + k) * 3 + c], va, 0, "layouts", k);
        }
  ck_assert_int_eq(fr_augment(a, 1, 2, FT_DIMS(5, 6), false, &ra, &all),
                   FR_ERR_SHAPE);
  fr_augment_opts bad = {.scale_min = 2, .scale_max = 1};
  ck_assert_int_eq(fr_augment(a, 1, 3, FT_DIMS(3, 5, 6), false, &ra, &bad),
                   FR_ERR_USAGE);
  /* Noise: any rank; zero mean and the asked deviation, per sample. */
  enum { NN = 4000 };
  static float z[2 * NN];
  for (int i = 0; i < 2 * NN; i++) z[i] = 1.0f;
  fr_augment_opts noise = {.noise = 0.5f};
  ck_assert_int_eq(fr_augment(z, 2, 2, FT_DIMS(40, 100), false, &ra, &noise), FR_OK);
  for (int n = 0; n < 2; n++) {
    double s = 0, q = 0;
    for (int i = 0; i < NN; i++) {
      double d = z[n * NN + i] - 1.0;
      s += d;
      q += d * d;
    }
    double mean = s / NN, sd = sqrt(q / NN - mean * mean);
    ck_assert_msg(fabs(mean) < 0.03 && fabs(sd - 0.5) < 0.03,
                  "noise of sample %d: mean %g, deviation %g", n, mean, sd);
  }
  ck_assert(memcmp(z, z + NN, sizeof(float) * NN) != 0); /* drawn anew */
  noise.noise = -1;
  ck_assert_int_eq(fr_augment(z, 1, 2, FT_DIMS(40, 100), false, &ra, &noise),
                   FR_ERR_USAGE);
}
END_TEST

/* ---- WAV ---------------------------------------------------------------- */

START_TEST(wav) {
  make_dir();
  mkdirs("w");
  mkdirs("w/yes");
  mkdirs("w/no");
  int16_t s[4] = {-32768, 16384, 0, 32767};
  write_wav(P("w/yes/a.wav"), 1, 1, 16, 16000, s, sizeof s, -1);
  write_wav(P("w/no/b.wav"), 1, 1, 16, 16000, s, sizeof s, -1);
  float *f;
  int64_t n;
  int rate;
  ck_assert_int_eq(fr_wav_read(P("w/yes/a.wav"), &f, &n, &rate), FR_OK);
  ck_assert_int_eq(n, 4);
  ck_assert_int_eq(rate, 16000);
  near(f[0], -1, 0, "wav", 0);
  near(f[1], 0.5f, 0, "wav", 1);
  near(f[3], 32767 / 32768.0f, 0, "wav", 3);
  fr_free(f);
  fr_dataset d;
  load_ok(P("w"), NULL, &d);
  ck_assert_int_eq(d.n, 2);
  ck_assert_int_eq(d.rank, 1);
  ck_assert_int_eq(d.dims[0], 4);
  ck_assert_int_eq(d.sample_rate, 16000);
  ck_assert_str_eq(d.class_names[0], "no");
  fr_dataset_free(&d);
  /* another rate */
  write_wav(P("w/yes/c.wav"), 1, 1, 16, 8000, s, sizeof s, -1);
  load_fails(P("w"), NULL, FR_ERR_SHAPE, P("w/yes/c.wav"), "8000 Hz");
  rm_dir();
}
END_TEST

/* ---- bad input ---------------------------------------------------------- */

START_TEST(bad_folders) {
  make_dir();
  write_npy1(P("x.npy"), 1);
  /* no class folders */
  mkdirs("flat");
  write_npy1(P("flat/a.npy"), 1);
  load_fails(P("flat"), NULL, FR_ERR_INVALID, P("flat"), "no class folders");
  /* an empty class folder (hidden files do not count) */
  mkdirs("e");
  mkdirs("e/a");
  mkdirs("e/b");
  write_npy1(P("e/a/1.npy"), 1);
  write_npy1(P("e/b/.x.npy"), 1);
  load_fails(P("e"), NULL, FR_ERR_INVALID, P("e/b"), "empty class folder");
  /* a folder inside a class folder */
  mkdirs("e/b/deeper");
  load_fails(P("e"), NULL, FR_ERR_INVALID, P("e/b/deeper"), NULL);
  /* a path that does not exist, a FIFO as the data set or as a sample */
  load_fails(P("nothing"), NULL, FR_ERR_IO, P("nothing"), NULL);
  ck_assert_int_eq(mkfifo(P("fifo"), 0600), 0);
  load_fails(P("fifo"), NULL, FR_ERR_IO, P("fifo"), "FIFO");
  mkdirs("q");
  mkdirs("q/a");
  ck_assert_int_eq(mkfifo(P("q/a/s.npy"), 0600), 0);
  load_fails(P("q"), NULL, FR_ERR_IO, P("q/a/s.npy"), "FIFO");
  /* an unknown sample type */
  mkdirs("u");
  mkdirs("u/a");
  write_text(P("u/a/notes.txt"), "hello");
  load_fails(P("u"), NULL, FR_ERR_UNSUPPORTED, P("u/a/notes.txt"), NULL);
  rm_dir();
}
END_TEST

START_TEST(bad_manifests) {
  make_dir();
  write_npy1(P("a.npy"), 1);
  write_npy1(P("b.npy"), 2);
  struct {
    const char *text, *what;
    fr_status st; /* FR_OK: FR_ERR_PARSE */
  } cases[] = {
      {"path,label\na.npy,x\nb.npy\n", ":3: 1 field, the header has 2", FR_OK},
      {"path,label\na.npy,x,y\n", ":2: 3 fields", FR_OK},
      {"path,label\na.npy,\n", ":2: the label is empty", FR_OK},
      {"path,label\n,x\n", ":2: the path is empty", FR_OK},
      {"path,v,w\na.npy,1,2\nb.npy,1,zz\n", ":3: column 'w': 'zz' is not a number", FR_OK},
      {"path,v\na.npy,1.5x\n", "'1.5x' is not a number", FR_OK},
      {"path,v\na.npy,nan\n", "'nan' is not a number", FR_OK},
      {"path,v\na.npy,1e99\n", "'1e99' is not a number", FR_OK},
      {"path,v\na.npy, \n", ":2: column 'v' is empty", FR_OK},
      {"path\na.npy\n", "the header needs two columns", FR_OK},
      {"", "the header needs two columns", FR_OK},
      {"path,label\n", "no samples", FR_ERR_INVALID},
      {"path,\na.npy,1\n", "header column 2 has no name", FR_OK},
      {"path,label\n\"a.npy,x\n", ":2: a quoted field does not end", FR_OK},
      {"path,label\n\"a.npy\"z,x\n", ":2: text after a closing quote", FR_OK},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_text(P("m.csv"), cases[i].text);
    load_fails(P("m.csv"), NULL, cases[i].st ? cases[i].st : FR_ERR_PARSE,
               P("m.csv"), cases[i].what);
  }
  /* a NUL byte */
  write_bytes(P("m.csv"), "path,label\na\0.npy,x\n", 20);
  load_fails(P("m.csv"), NULL, FR_ERR_PARSE, P("m.csv"), "NUL");
  /* a listed file that does not exist */
  write_text(P("m.csv"), "path,label\na.npy,x\nmissing.npy,y\n");
  load_fails(P("m.csv"), NULL, FR_ERR_IO, P("missing.npy"), "cannot open");
  rm_dir();
}
END_TEST

START_TEST(bad_samples) {
  make_dir();
  mkdirs("d");
  mkdirs("d/a");
  /* a .npy of int64 (a labels file is not a sample) */
  write_npy(P("d/a/l.npy"), FR_I64, 1, FT_DIMS(1), FT_DIMS(3));
  load_fails(P("d"), NULL, FR_ERR_UNSUPPORTED, P("d/a/l.npy"), "of i64");
  unlink(P("d/a/l.npy"));
  /* mixed shapes: both named, with both shapes */
  write_npy(P("d/a/1.npy"), FR_F32, 2, FT_DIMS(1, 2), (float[]){1, 2});
  write_npy(P("d/a/2.npy"), FR_F32, 1, FT_DIMS(2), (float[]){1, 2});
  load_fails(P("d"), NULL, FR_ERR_SHAPE, P("d/a/2.npy"), "[2]");
  ck_assert(strstr(fr_err_msg(), "[1,2]") && strstr(fr_err_msg(), P("d/a/1.npy")));
  unlink(P("d/a/2.npy"));
  /* a truncated .npy */
  write_npy(P("d/a/2.npy"), FR_F32, 2, FT_DIMS(1, 2), (float[]){1, 2});
  truncate_copy(P("d/a/2.npy"), P("d/a/3.npy"), 130);
  load_fails(P("d"), NULL, FR_ERR_PARSE, P("d/a/3.npy"), "truncated");
  unlink(P("d/a/3.npy"));
  /* images: none without a decoder */
  uint8_t px[3 * 64 * 64];
  for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7 + i / 3);
  mkdirs("i");
  mkdirs("i/a");
  write_png(P("ok.png"), 64, 64, 3, px);
  write_jpeg(P("ok.jpg"), 64, 64, 3, px);
  truncate_copy(P("ok.png"), P("i/a/x.png"), 100);
  load_fails(P("i"), NULL, FR_ERR_UNSUPPORTED, P("i/a/x.png"), "not supported");
  /* a truncated PNG, a PNG of garbage, a truncated JPEG, a JPEG of
   * garbage, neither */
  load_fails(P("i"), &images, FR_ERR_PARSE, P("i/a/x.png"), "PNG");
  unlink(P("i/a/x.png"));
  uint8_t junk[300];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 31 + 7);
  memcpy(junk, "\x89PNG\r\n\x1a\n", 8);
  write_bytes(P("i/a/g.png"), junk, sizeof junk);
  load_fails(P("i"), &images, FR_ERR_PARSE, P("i/a/g.png"), "PNG");
  unlink(P("i/a/g.png"));
  size_t jlen;
  uint8_t *j = read_all(P("ok.jpg"), &jlen);
  ck_assert_uint_gt(jlen, 4000); /* the cut falls in the scan data */
  truncate_copy(P("ok.jpg"), P("i/a/t.jpg"), jlen / 2);
  load_fails(P("i"), &images, FR_ERR_PARSE, P("i/a/t.jpg"), "JPEG");
  unlink(P("i/a/t.jpg"));
  memcpy(junk, "\xFF\xD8\xFF", 3);
  write_bytes(P("i/a/g.jpg"), junk, sizeof junk);
  load_fails(P("i"), &images, FR_ERR_PARSE, P("i/a/g.jpg"), "JPEG");
  unlink(P("i/a/g.jpg"));
  /* corrupt scan data in the middle of a JPEG: libjpeg's warning is an
   * error, not gray pixels */
  uint8_t *bad = malloc(jlen);
  memcpy(bad, j, jlen);
  for (size_t i = jlen - 200; i < jlen - 100; i++) bad[i] = 0xFF;
  write_bytes(P("i/a/c.jpg"), bad, jlen);
  free(bad);
  fr_free(j);
  load_fails(P("i"), &images, FR_ERR_PARSE, P("i/a/c.jpg"), "JPEG");
  unlink(P("i/a/c.jpg"));
  /* too many scans: each would be a pass over the whole image */
  write_jpeg_many_scans(P("i/a/s.jpg"));
  load_fails(P("i"), &images, FR_ERR_PARSE, P("i/a/s.jpg"), "more than 1000 scans");
  unlink(P("i/a/s.jpg"));
  write_text(P("i/a/n.png"), "GIF89a...");
  load_fails(P("i"), &images, FR_ERR_PARSE, P("i/a/n.png"), "not a PNG or JPEG");
  unlink(P("i/a/n.png"));
  /* 0 pixels wide; too large (a decompression bomb's header) */
  write_png_header_only(P("i/a/z.png"), 0, 10);
  load_fails(P("i"), &images, FR_ERR_INVALID, P("i/a/z.png"), "0x10 pixels");
  unlink(P("i/a/z.png"));
  write_png_header_only(P("i/a/big.png"), 100000, 100000);
  load_fails(P("i"), &images, FR_ERR_UNSUPPORTED, P("i/a/big.png"),
             "larger than frost reads");
  unlink(P("i/a/big.png"));
  write_png_header_only(P("i/a/big.png"), 16384, 16384);
  load_fails(P("i"), &images, FR_ERR_PARSE, P("i/a/big.png"), "decompression bomb");
  unlink(P("i/a/big.png"));
  /* an options mistake: two means for RGB */
  write_png(P("i/a/ok.png"), 64, 64, 3, px);
  fr_data_opts two = {.n_mean = 2, .decode_image = fr_image_decode};
  load_fails(P("i"), &two, FR_ERR_USAGE, P("i/a/ok.png"), "one per channel");
  fr_data_opts zero_std = {.n_std = 1, .decode_image = fr_image_decode};
  load_fails(P("i"), &zero_std, FR_ERR_USAGE, "std 0", NULL);
  fr_data_opts chans = {.channels = 2, .decode_image = fr_image_decode};
  load_fails(P("i"), &chans, FR_ERR_USAGE, "channels 2", NULL);
  /* WAV: another format, truncated, not RIFF, no data chunk */
  mkdirs("w");
  mkdirs("w/a");
  uint8_t s8[8] = {0};
  write_wav(P("w/a/x.wav"), 1, 2, 8, 8000, s8, sizeof s8, -1);
  load_fails(P("w"), NULL, FR_ERR_UNSUPPORTED, P("w/a/x.wav"),
             "8-bit stereo PCM, frost reads 16-bit mono");
  write_wav(P("w/a/x.wav"), 3, 1, 32, 8000, s8, sizeof s8, -1);
  load_fails(P("w"), NULL, FR_ERR_UNSUPPORTED, P("w/a/x.wav"),
             "32-bit mono float");
  write_wav(P("w/a/x.wav"), 1, 1, 16, 8000, s8, sizeof s8, 1000);
  load_fails(P("w"), NULL, FR_ERR_PARSE, P("w/a/x.wav"), "truncated");
  write_text(P("w/a/x.wav"), "RIFX....WAVE");
  load_fails(P("w"), NULL, FR_ERR_PARSE, P("w/a/x.wav"), "not a WAV");
  write_bytes(P("w/a/x.wav"), "RIFF\4\0\0\0WAVE", 12);
  load_fails(P("w"), NULL, FR_ERR_PARSE, P("w/a/x.wav"), "no data chunk");
  rm_dir();
}
END_TEST

/* Every allocation of loading a mixed data set fails in turn: each run
 * ends in FR_ERR_NOMEM (or succeeds, once past the last allocation), and
 * valgrind sees nothing leak. */
START_TEST(out_of_memory) {
  make_dir();
  uint8_t px[3 * 8 * 8];
  memset(px, 77, sizeof px);
  write_png(P("a.png"), 8, 8, 3, px);
  write_jpeg(P("b.jpg"), 8, 8, 3, px);
  write_npy(P("c.npy"), FR_F64, 3, FT_DIMS(3, 4, 4), (double[48]){0});
  write_text(P("m.csv"), "path,label\na.png,x\nb.jpg,y\nc.npy,x\n");
  fr_data_opts o = {.resize_h = 4, .resize_w = 4, .decode_image = fr_image_decode};
  unsigned long before = fr_mem_allocs();
  fr_dataset d;
  load_ok(P("m.csv"), &o, &d);
  unsigned long total = fr_mem_allocs() - before;
  fr_dataset_free(&d);
  ck_assert_uint_gt(total, 10);
  for (unsigned long k = 0; k <= total; k++) {
    fr_mem_fail_after((long)k);
    fr_err_clear();
    fr_status st = fr_dataset_load(P("m.csv"), &o, &d);
    fr_mem_fail_after(-1);
    if (k < total)
      ck_assert_msg(st == FR_ERR_NOMEM, "allocation %lu: %d %s", k, st,
                    fr_err_msg());
    if (st == FR_OK) fr_dataset_free(&d);
    else ck_assert_ptr_null(d.x);
  }
  /* label columns, and their split */
  write_text(P("c.csv"), "path,a,b\nc.npy,x,\nc.npy,,y\nc.npy,x,z\nc.npy,w,y\n");
  const char *cols[2] = {"b", "a"};
  fr_data_opts oc = {.label_columns = cols, .n_label_columns = 2};
  before = fr_mem_allocs();
  load_ok(P("c.csv"), &oc, &d);
  fr_dataset tr, va;
  ck_assert_int_eq(fr_dataset_split(&d, 0.5, 1, &tr, &va), FR_OK);
  total = fr_mem_allocs() - before;
  fr_dataset_free(&tr);
  fr_dataset_free(&va);
  fr_dataset_free(&d);
  for (unsigned long k = 0; k <= total; k++) {
    fr_mem_fail_after((long)k);
    fr_err_clear();
    fr_status st = fr_dataset_load(P("c.csv"), &oc, &d);
    if (st == FR_OK) {
      st = fr_dataset_split(&d, 0.5, 1, &tr, &va);
      if (st == FR_OK) fr_dataset_free(&tr), fr_dataset_free(&va);
      fr_dataset_free(&d);
    }
    fr_mem_fail_after(-1);
    if (k < total)
      ck_assert_msg(st == FR_ERR_NOMEM, "allocation %lu: %d %s", k, st, fr_err_msg());
  }
  rm_dir();
}
END_TEST

FT_MAIN(data, folder_layout, manifest_labels, manifest_numbers, manifest_columns, image_values,
        image_formats, image_sizes, split_stratified, split_numeric, augment,
        wav, bad_folders, bad_manifests, bad_samples, out_of_memory)
