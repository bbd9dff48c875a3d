/* test_file.c: ir/file.c, the one reader of the files frost is given. Paths
 * that are not regular files (a FIFO with no writer, a folder, /dev/zero, a
 * socket, links to them) are refused at open without blocking; reads stop
 * at the size the file had when it was opened, so a file that shrinks is
 * reported as truncated and one that grows is read as it was. The CLI cases
 * are in tests/hostile/hostile.sh. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "testutil.h"

static char dir[256];

static void make_dir(void) { ft_tmpdir(dir, sizeof dir, "file"); }

static void rm_dir(void) { ft_rmdir(dir); }

static const char *in_dir(const char *name, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s", dir, name);
  return buf;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fputs(text, f) >= 0, 1);
  ck_assert_int_eq(fclose(f), 0);
}

/* fr_file_open refuses path with a message containing want. */
static void refused(const char *path, const char *want) {
  fr_file f;
  ck_assert_int_eq(fr_file_open(&f, path), FR_ERR_IO);
  ck_assert_int_eq(f.fd, -1);
  ck_assert_msg(strstr(fr_err_msg(), want) && strstr(fr_err_msg(), path),
                "'%s' for %s", fr_err_msg(), path);
  uint8_t *buf;
  size_t len;
  ck_assert_int_eq(fr_read_file(path, &buf, &len), FR_ERR_IO);
}

START_TEST(regular_file_read_whole) {
  make_dir();
  char p[300];
  write_text(in_dir("a.txt", p, sizeof p), "hello");
  uint8_t *buf;
  size_t len;
  ck_assert_int_eq(fr_read_file(p, &buf, &len), FR_OK);
  ck_assert_uint_eq(len, 5);
  ck_assert_str_eq((char *)buf, "hello");
  fr_free(buf);
  /* the descriptor is blocking again once the file is known to be one */
  fr_file f;
  ck_assert_int_eq(fr_file_open(&f, p), FR_OK);
  ck_assert_int_eq(fcntl(f.fd, F_GETFL) & O_NONBLOCK, 0);
  ck_assert_int_ne(fcntl(f.fd, F_GETFD) & FD_CLOEXEC, 0);
  ck_assert_uint_eq(f.size, 5);
  fr_file_close(&f);
  rm_dir();
}
END_TEST

START_TEST(not_regular_refused) {
  make_dir();
  char fifo[300], link[300], sock[300], linkfifo[300];
  /* no writer: a blocking open would never return */
  ck_assert_int_eq(mkfifo(in_dir("fifo", fifo, sizeof fifo), 0600), 0);
  refused(fifo, "is a FIFO, not a regular file");
  ck_assert_int_eq(symlink(fifo, in_dir("to-fifo", linkfifo, sizeof linkfifo)), 0);
  refused(linkfifo, "is a FIFO");
  refused(dir, "is a folder, not a regular file");
  refused("/dev/zero", "is a character device, not a regular file");
  refused("/dev/urandom", "is a character device");
  ck_assert_int_eq(symlink("/dev/zero", in_dir("zero", link, sizeof link)), 0);
  refused(link, "is a character device");
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  in_dir("sock", sock, sizeof sock);
  ck_assert_uint_lt(strlen(sock), sizeof a.sun_path);
  memcpy(a.sun_path, sock, strlen(sock) + 1);
  ck_assert_int_eq(bind(s, (const struct sockaddr *)&a, sizeof a), 0);
  refused(sock, "is a socket, not a regular file");
  close(s);
  fr_file f;
  ck_assert_int_eq(fr_file_open(&f, in_dir("none", link, sizeof link)), FR_ERR_IO);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "cannot open (No such file"));
  rm_dir();
}
END_TEST

/* Shrunk after open: the read reports a truncated file, it does not loop
 * or return short data. */
START_TEST(shrinks_while_read) {
  make_dir();
  char p[300];
  write_text(in_dir("s.bin", p, sizeof p), "0123456789");
  fr_file f;
  ck_assert_int_eq(fr_file_open(&f, p), FR_OK);
  ck_assert_int_eq(truncate(p, 4), 0);
  char buf[10];
  ck_assert_int_eq(fr_file_read_at(&f, 0, buf, 10), FR_ERR_PARSE);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "truncated: the file ended at 4 bytes"));
  ck_assert_int_eq(fr_file_read_at(&f, 0, buf, 4), FR_OK);
  fr_file_close(&f);
  rm_dir();
}
END_TEST

/* Grown after open: reads stop at the size at open. */
START_TEST(grows_while_read) {
  make_dir();
  char p[300];
  write_text(in_dir("g.bin", p, sizeof p), "0123");
  fr_file f;
  ck_assert_int_eq(fr_file_open(&f, p), FR_OK);
  write_text(p, "0123456789");
  char buf[10];
  ck_assert_int_eq(fr_file_read_at(&f, 0, buf, 4), FR_OK);
  ck_assert_int_eq(memcmp(buf, "0123", 4), 0);
  ck_assert_int_eq(fr_file_read_at(&f, 0, buf, 5), FR_ERR_PARSE);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "truncated: 5 bytes wanted at offset 0, the file has 4"));
  ck_assert_int_eq(fr_file_read_at(&f, 5, buf, 0), FR_ERR_PARSE);
  ck_assert_int_eq(fr_file_read_at(&f, UINT64_MAX, buf, 1), FR_ERR_PARSE);
  fr_file_close(&f);
  rm_dir();
}
END_TEST

START_TEST(memory_cap) {
  make_dir();
  char p[300];
  write_text(in_dir("big.txt", p, sizeof p), "0123456789abcdef0123456789abcdef");
  size_t old = fr_mem_limit();
  fr_mem_set_limit(fr_mem_in_use() + 16);
  uint8_t *buf;
  size_t len;
  ck_assert_int_eq(fr_read_file(p, &buf, &len), FR_ERR_NOMEM);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "does not fit under the memory limit"));
  fr_mem_set_limit(old);
  rm_dir();
}
END_TEST

START_TEST(output_targets) {
  make_dir();
  char fifo[300], file[300], link[300], sub[300];
  ck_assert_int_eq(mkfifo(in_dir("fifo", fifo, sizeof fifo), 0600), 0);
  write_text(in_dir("file", file, sizeof file), "x");
  ck_assert_int_eq(symlink("/dev/null", in_dir("null", link, sizeof link)), 0);
  ck_assert_int_eq(fr_file_check_target(file), FR_OK);
  ck_assert_int_eq(fr_file_check_target(in_dir("absent", sub, sizeof sub)), FR_OK);
  ck_assert_int_eq(fr_file_check_target(dir), FR_OK);
  ck_assert_int_eq(fr_file_check_target(fifo), FR_ERR_IO);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "cannot write (a FIFO is there)"));
  ck_assert_int_eq(fr_file_check_target(link), FR_ERR_IO);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "(a character device is there)"));
  ck_assert_int_eq(fr_file_make_dir(in_dir("sub", sub, sizeof sub)), FR_OK);
  ck_assert_int_eq(fr_file_make_dir(sub), FR_OK);
  ck_assert_int_eq(fr_file_make_dir(fifo), FR_ERR_IO);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "cannot create the folder (a FIFO is there)"));
  ck_assert_int_eq(fr_file_make_dir(file), FR_ERR_IO);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "(a regular file is there)"));
  rm_dir();
}
END_TEST

FT_MAIN(file, regular_file_read_whole, not_regular_refused, shrinks_while_read,
        grows_while_read, memory_cap, output_targets)
