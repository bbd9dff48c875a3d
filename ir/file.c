/* file.c: the one way frost reads a file it is given (a model, its external
 * data, a .npy or .pb input, the artifact's inputs), and the checks on the
 * paths it writes to.
 *
 * Any path may name something other than a regular file: a FIFO (opening it
 * waits for a writer, reading it waits for data), a character device
 * (/dev/zero and /dev/urandom never end), a folder, a socket, or a symbolic
 * link to one of these. A file is therefore opened without blocking
 * (O_NONBLOCK), its type and size are taken once from the opened descriptor
 * (fstat: what is checked is what is read, whatever the name points to
 * later), anything but a regular file is refused, and no read goes past the
 * size fstat gave. A file that shrinks while it is read is reported as
 * truncated; one that grows is read up to the size it had, and the whole-file
 * reader reports the change. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir.h"

/* The largest file read whole: protobuf-c cannot take more than 2 GiB. */
#define MAX_WHOLE_FILE ((uint64_t)2 << 30)

const char *fr_file_kind(unsigned mode) {
  switch (mode & S_IFMT) {
  case S_IFREG: return "a regular file";
  case S_IFDIR: return "a folder";
  case S_IFIFO: return "a FIFO";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFSOCK: return "a socket";
  case S_IFLNK: return "a symbolic link";
  default: return "not a file";
  }
}

fr_status fr_file_open(fr_file *f, const char *path) {
  f->fd = -1;
  f->size = 0;
  f->path = path;
  /* O_NONBLOCK: opening a FIFO with no writer returns at once. O_NOCTTY: a
   * terminal never becomes frost's. A socket cannot be opened at all
   * (ENXIO), so its type is looked up by name, for the message only. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    struct stat st;
    if (e == ENXIO && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
      return fr_err(FR_ERR_IO, "%s: is %s, not a regular file", path,
                    fr_file_kind(st.st_mode));
    return fr_err(FR_ERR_IO, "%s: cannot open (%s)", path, strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return fr_err(FR_ERR_IO, "%s: cannot open (%s)", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return fr_err(FR_ERR_IO, "%s: is %s, not a regular file", path,
                  fr_file_kind(st.st_mode));
  }
  /* Reads of a regular file do not block anyway; clear the flag so that
   * they behave the same on every file system. */
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
    int e = errno;
    close(fd);
    return fr_err(FR_ERR_IO, "%s: cannot open (%s)", path, strerror(e));
  }
  f->fd = fd;
  f->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
  return FR_OK;
}

fr_status fr_file_read_at(fr_file *f, uint64_t off, void *buf, size_t n) {
  if (off > f->size || n > f->size - off)
    return fr_err(FR_ERR_PARSE,
                  "%s: truncated: %zu bytes wanted at offset %llu, the file "
                  "has %llu",
                  f->path, n, (unsigned long long)off,
                  (unsigned long long)f->size);
  uint8_t *p = buf;
  while (n > 0) {
    ssize_t got = pread(f->fd, p, n, (off_t)off);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return fr_err(FR_ERR_IO, "%s: read error (%s)", f->path, strerror(errno));
    if (got == 0) /* shrunk since it was opened */
      return fr_err(FR_ERR_PARSE,
                    "%s: truncated: the file ended at %llu bytes while it "
                    "was read (it had %llu)",
                    f->path, (unsigned long long)off,
                    (unsigned long long)f->size);
    p += got;
    off += (uint64_t)got;
    n -= (size_t)got;
  }
  return FR_OK;
}

void fr_file_close(fr_file *f) {
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
}

fr_status fr_read_file(const char *path, uint8_t **buf, size_t *len) {
  fr_file f;
  FR_TRY(fr_file_open(&f, path));
  fr_status st = FR_OK;
  uint8_t *b = NULL;
  size_t n = (size_t)f.size;
  if (f.size > MAX_WHOLE_FILE) {
    st = fr_err(FR_ERR_NOMEM, "%s: file larger than 2 GiB", path);
  } else if (!fr_mem_fits(n + 1)) {
    st = fr_err(FR_ERR_NOMEM,
                "%s: file of %zu bytes does not fit under the memory limit "
                "of %zu bytes (raise it with --max-memory)",
                path, n, fr_mem_limit());
  } else if (!(b = fr_malloc(n + 1))) {
    st = fr_err(FR_ERR_NOMEM, "%s: out of memory reading the file", path);
  } else {
    st = fr_file_read_at(&f, 0, b, n);
  }
  /* Grown (or replaced in place) while it was read: what was read may mix
   * two versions of the file. */
  struct stat now;
  if (st == FR_OK && fstat(f.fd, &now) == 0 && (uint64_t)now.st_size != f.size)
    st = fr_err(FR_ERR_IO, "%s: the file changed size while it was read "
                "(%llu bytes, then %llu)", path, (unsigned long long)f.size,
                (unsigned long long)now.st_size);
  fr_file_close(&f);
  if (st != FR_OK) {
    fr_free(b);
    return st;
  }
  b[n] = 0;
  *buf = b;
  *len = n;
  return FR_OK;
}

fr_status fr_file_check_target(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
    return FR_OK;
  return fr_err(FR_ERR_IO, "%s: cannot write (%s is there)", path,
                fr_file_kind(st.st_mode));
}

fr_status fr_file_make_dir(const char *path) {
  if (mkdir(path, 0777) == 0) return FR_OK;
  int e = errno;
  struct stat st;
  if (e == EEXIST && stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return FR_OK;
    return fr_err(FR_ERR_IO, "%s: cannot create the folder (%s is there)",
                  path, fr_file_kind(st.st_mode));
  }
  return fr_err(FR_ERR_IO, "%s: cannot create the folder (%s)", path,
                strerror(e));
}
