// See include/ember_system.h.
#define _GNU_SOURCE
#include "ember_system.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ember_sys_open_read(const char *path) {
  for (;;) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

int64_t ember_sys_read(int fd, void *buffer, size_t count) {
  for (;;) {
    ssize_t n = read(fd, buffer, count);
    if (n >= 0) return (int64_t)n;
    if (errno != EINTR) return -(int64_t)errno;
  }
}

int ember_sys_write_all(int fd, const void *buffer, size_t count) {
  const char *p = (const char *)buffer;
  while (count > 0) {
    ssize_t n = write(fd, p, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    p += n;
    count -= (size_t)n;
  }
  return 0;
}

int ember_sys_close(int fd) { return close(fd) == 0 ? 0 : -errno; }

int ember_sys_file_kind(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  switch (st.st_mode & S_IFMT) {
    case S_IFREG: return EMBER_FILE_REGULAR;
    case S_IFDIR: return EMBER_FILE_DIRECTORY;
    case S_IFIFO: return EMBER_FILE_FIFO;
    case S_IFCHR: return EMBER_FILE_CHARACTER;
    default: return EMBER_FILE_OTHER;
  }
}

int64_t ember_sys_file_size(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -(int64_t)errno;
  return (int64_t)st.st_size;
}

size_t ember_sys_error_text(int error, char *buffer, size_t capacity) {
  if (capacity == 0) return 0;
  const char *text = strerror(error);  // glibc and musl return static or thread-safe text
  size_t n = strlen(text);
  if (n >= capacity) n = capacity - 1;
  memcpy(buffer, text, n);
  buffer[n] = 0;
  return n;
}

const char *ember_sys_strerror(int error) { return strerror(error); }
