/* image.c: PNG and JPEG decoding for data sets, with libpng and libjpeg.
 * frost only: compiled artifacts carry no image decoder (data.c takes the
 * decoder as a function pointer, fr_data_opts.decode_image).
 *
 * The files are hostile. Both libraries report errors by jumping out
 * (libpng's longjmp, libjpeg's error_exit): each decoder runs in a
 * function of its own that sets the jump point and keeps every state that
 * outlives the jump in a struct of its caller, so the caller frees what was
 * allocated and turns the library's message into one naming the file.
 * libjpeg's warnings (corrupt data, a premature end of file: it would fill
 * the rest with gray) are errors too. The size in the header is checked
 * before any pixel is allocated (decompression bombs), and a progressive
 * JPEG may not have more scans than a real one would. libpng allocates
 * through fr_malloc; libjpeg's own pools do not (they are bounded by the
 * size check). */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#include "runtime.h"

/* Refuses a size the sample loader will not take. */
static fr_status check_size(const char *path, const char *kind, uint64_t w,
                            uint64_t h) {
  if (w == 0 || h == 0)
    return fr_err(FR_ERR_INVALID, "%s: a %s image of %llux%llu pixels", path,
                  kind, (unsigned long long)w, (unsigned long long)h);
  if (w > FR_IMAGE_MAX_SIDE || h > FR_IMAGE_MAX_SIDE ||
      w * h > (uint64_t)FR_IMAGE_MAX_PIXELS)
    return fr_err(FR_ERR_UNSUPPORTED,
                  "%s: a %s image of %llux%llu pixels, larger than frost "
                  "reads (%d per side, %lld pixels)",
                  path, kind, (unsigned long long)w, (unsigned long long)h,
                  FR_IMAGE_MAX_SIDE, (long long)FR_IMAGE_MAX_PIXELS);
  return FR_OK;
}

/* ---- PNG ------------------------------------------------------------------ */

/* What the PNG decoder keeps across libpng's longjmp. */
typedef struct png_job {
  const char *path;
  const uint8_t *buf;
  size_t len, off;
  png_bytep *rows;
  fr_image *out;
  fr_status st;  /* set by our own checks; FR_OK when libpng failed */
  bool nomem;    /* an allocation of libpng failed */
  char msg[200]; /* libpng's error */
} png_job;

static void png_read_mem(png_structp p, png_bytep dst, size_t n) {
  png_job *j = png_get_io_ptr(p);
  if (n > j->len - j->off) png_error(p, "truncated file");
  memcpy(dst, j->buf + j->off, n);
  j->off += n;
}

static void png_on_error(png_structp p, png_const_charp m) {
  png_job *j = png_get_error_ptr(p);
  snprintf(j->msg, sizeof j->msg, "%s", m);
  png_longjmp(p, 1);
}

static void png_on_warning(png_structp p, png_const_charp m) {
  (void)p;
  (void)m; /* not an error: libpng goes on with a valid image */
}

static png_voidp png_alloc(png_structp p, png_alloc_size_t n) {
  png_voidp q = fr_malloc(n);
  if (!q) ((png_job *)png_get_mem_ptr(p))->nomem = true;
  return q;
}

static void png_dealloc(png_structp p, png_voidp q) {
  (void)p;
  fr_free(q);
}

/* Decodes into j->out; false when libpng jumped out or a check failed. */
static bool png_body(png_structp p, png_infop info, png_job *j) {
  if (setjmp(png_jmpbuf(p))) return false;
  png_set_read_fn(p, j, png_read_mem);
  /* sizes are checked below, with a message of frost's */
  png_set_user_limits(p, 0x7fffffff, 0x7fffffff);
  png_set_chunk_cache_max(p, 1000);
  png_set_chunk_malloc_max(p, 8 << 20);
  png_read_info(p, info);
  png_uint_32 w, h;
  int depth, ctype;
  png_get_IHDR(p, info, &w, &h, &depth, &ctype, NULL, NULL, NULL);
  if ((j->st = check_size(j->path, "PNG", w, h)) != FR_OK) return false;
  if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(p);
  if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(p);
  if (depth == 16) png_set_scale_16(p);
  if (ctype & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(p);
  png_set_interlace_handling(p);
  png_read_update_info(p, info);
  int c = png_get_channels(p, info);
  size_t rowbytes = png_get_rowbytes(p, info);
  if ((c != 1 && c != 3) || rowbytes != (size_t)w * (size_t)c) {
    j->st = fr_err(FR_ERR_UNSUPPORTED, "%s: a PNG of %d channels", j->path, c);
    return false;
  }
  fr_image *im = j->out;
  im->px = fr_malloc((size_t)h * rowbytes);
  j->rows = fr_malloc(sizeof *j->rows * h);
  if (!im->px || !j->rows) {
    j->st = fr_err_nomem(NULL);
    return false;
  }
  for (png_uint_32 y = 0; y < h; y++) j->rows[y] = im->px + y * rowbytes;
  png_read_image(p, j->rows);
  png_read_end(p, NULL);
  im->h = (int)h;
  im->w = (int)w;
  im->c = c;
  return true;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static fr_status decode_png(const char *path, const uint8_t *buf, size_t len,
                            fr_image *out) {
  /* The size, from the IHDR that must come first, is checked before
   * libpng reads anything. Deflate packs at most 1032 bytes into one, and
   * a byte holds at most 8 pixels (1 bit each): a small file that claims a
   * big image is refused before its rows are allocated. */
  if (len >= 24 && !memcmp(buf + 12, "IHDR", 4)) {
    uint32_t w = be32(buf + 16), h = be32(buf + 20);
    FR_TRY(check_size(path, "PNG", w, h));
    if ((uint64_t)w * h > ((uint64_t)len * 1032 + 1024) * 8)
      return fr_err(FR_ERR_PARSE,
                    "%s: a PNG of %ux%u pixels cannot be held in %zu bytes "
                    "(truncated, or a decompression bomb)",
                    path, (unsigned)w, (unsigned)h, len);
  }
  png_job j = {.path = path, .buf = buf, .len = len, .out = out};
  png_structp p = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &j,
                                           png_on_error, png_on_warning, &j,
                                           png_alloc, png_dealloc);
  if (!p) return fr_err_nomem(NULL);
  png_infop info = png_create_info_struct(p);
  bool ok = info && png_body(p, info, &j);
  if (!info) j.nomem = true;
  png_destroy_read_struct(&p, info ? &info : NULL, NULL); /* clears info */
  fr_free(j.rows);
  if (ok) return FR_OK;
  fr_image_free(out);
  if (j.st != FR_OK) return j.st;
  if (j.nomem) return fr_err_nomem(NULL);
  return fr_err(FR_ERR_PARSE, "%s: PNG: %s", path, j.msg);
}

/* ---- JPEG ----------------------------------------------------------------- */

/* Scans a progressive JPEG may have: a real one has about ten; a forged
 * one can have thousands, each costing a pass over the whole image. */
enum { MAX_JPEG_SCANS = 1000 };

/* What the JPEG decoder keeps across libjpeg's error_exit. */
typedef struct jpeg_job {
  struct jpeg_decompress_struct ci;
  struct jpeg_error_mgr err;
  struct jpeg_progress_mgr progress;
  jmp_buf jump;
  bool created;
  const char *path;
  fr_image *out;
  fr_status st;
  char msg[JMSG_LENGTH_MAX + 32];
} jpeg_job;

static jpeg_job *job_of(j_common_ptr c) {
  return (jpeg_job *)((char *)c->err - offsetof(jpeg_job, err));
}

static void jpeg_on_error(j_common_ptr c) {
  jpeg_job *j = job_of(c);
  c->err->format_message(c, j->msg);
  if (c->err->msg_code == JERR_OUT_OF_MEMORY) j->st = fr_err_nomem(NULL);
  longjmp(j->jump, 1);
}

/* level -1 is a warning: corrupt data that libjpeg would paper over. */
static void jpeg_on_message(j_common_ptr c, int level) {
  if (level < 0) jpeg_on_error(c);
}

static void jpeg_on_progress(j_common_ptr c) {
  j_decompress_ptr d = (j_decompress_ptr)c;
  if (d->input_scan_number > MAX_JPEG_SCANS) {
    jpeg_job *j = job_of(c);
    snprintf(j->msg, sizeof j->msg, "more than %d scans", MAX_JPEG_SCANS);
    longjmp(j->jump, 1);
  }
}

static bool jpeg_body(jpeg_job *j, const uint8_t *buf, size_t len) {
  if (setjmp(j->jump)) return false;
  jpeg_create_decompress(&j->ci);
  j->created = true;
  j->progress.progress_monitor = jpeg_on_progress;
  j->ci.progress = &j->progress;
  jpeg_mem_src(&j->ci, buf, (unsigned long)len);
  jpeg_read_header(&j->ci, TRUE);
  if ((j->st = check_size(j->path, "JPEG", j->ci.image_width,
                          j->ci.image_height)) != FR_OK)
    return false;
  switch (j->ci.jpeg_color_space) {
  case JCS_GRAYSCALE: j->ci.out_color_space = JCS_GRAYSCALE; break;
  case JCS_YCbCr:
  case JCS_RGB: j->ci.out_color_space = JCS_RGB; break;
  default:
    j->st = fr_err(FR_ERR_UNSUPPORTED,
                   "%s: a JPEG in CMYK or another colour space; frost reads "
                   "gray and colour (YCbCr, RGB) JPEGs",
                   j->path);
    return false;
  }
  jpeg_start_decompress(&j->ci);
  int c = j->ci.output_components;
  size_t w = j->ci.output_width, h = j->ci.output_height;
  if (c != 1 && c != 3) {
    j->st = fr_err(FR_ERR_UNSUPPORTED, "%s: a JPEG of %d channels", j->path, c);
    return false;
  }
  fr_image *im = j->out;
  if (!(im->px = fr_malloc(w * h * (size_t)c))) {
    j->st = fr_err_nomem(NULL);
    return false;
  }
  while (j->ci.output_scanline < j->ci.output_height) {
    JSAMPROW row = im->px + (size_t)j->ci.output_scanline * w * (size_t)c;
    jpeg_read_scanlines(&j->ci, &row, 1);
  }
  jpeg_finish_decompress(&j->ci);
  im->h = (int)h;
  im->w = (int)w;
  im->c = c;
  return true;
}

static fr_status decode_jpeg(const char *path, const uint8_t *buf, size_t len,
                             fr_image *out) {
  jpeg_job *j = fr_calloc(1, sizeof *j);
  if (!j) return fr_err_nomem(NULL);
  j->path = path;
  j->out = out;
  j->ci.err = jpeg_std_error(&j->err);
  j->err.error_exit = jpeg_on_error;
  j->err.emit_message = jpeg_on_message;
  bool ok = jpeg_body(j, buf, len);
  if (j->created) jpeg_destroy_decompress(&j->ci);
  fr_status st = FR_OK;
  if (!ok) {
    fr_image_free(out);
    st = j->st != FR_OK ? j->st
                        : fr_err(FR_ERR_PARSE, "%s: JPEG: %s", path, j->msg);
  }
  fr_free(j);
  return st;
}

fr_status fr_image_decode(const char *path, const uint8_t *buf, size_t len,
                          fr_image *out) {
  *out = (fr_image){0};
  if (len >= 8 && !png_sig_cmp(buf, 0, 8))
    return decode_png(path, buf, len, out);
  if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
    return decode_jpeg(path, buf, len, out);
  return fr_err(FR_ERR_PARSE, "%s: not a PNG or JPEG image", path);
}
