// Files for Ember's Swift code: see include/ember_system.h.
#define _GNU_SOURCE
#include "ember_system.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int kind_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return EMBER_FILE_REGULAR;
    case S_IFDIR: return EMBER_FILE_DIRECTORY;
    case S_IFIFO: return EMBER_FILE_FIFO;
    case S_IFCHR: return EMBER_FILE_CHARACTER;
    case S_IFLNK: return EMBER_FILE_LINK;
    default: return EMBER_FILE_OTHER;
  }
}

int ember_sys_open_model(const char *path) {
  for (;;) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

int ember_sys_open_write(const char *path, int truncate) {
  for (;;) {
    int fd = open(path, O_WRONLY | O_CLOEXEC | (truncate ? O_TRUNC : 0));
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

int ember_sys_path_kind(const char *path, int follow) {
  struct stat st;
  if ((follow ? stat(path, &st) : lstat(path, &st)) != 0) return -errno;
  return kind_of(st.st_mode);
}

int ember_sys_path_mode(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return -errno;
  return (int)(st.st_mode & 07777);
}

int ember_sys_same_file(const char *a, const char *b) {
  struct stat sa, sb;
  if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int64_t ember_sys_read_link(const char *path, char *buffer, size_t capacity) {
  ssize_t n = readlink(path, buffer, capacity);
  return n < 0 ? -(int64_t)errno : (int64_t)n;
}

int ember_sys_map_read(int fd, size_t size, const void **address) {
  // Populated at once: loading reads every byte (checksum, verifier), and one call costs less
  // than a page fault per 16 pages.
  void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) return -errno;
  *address = p;
  return 0;
}

void ember_sys_unmap(const void *address, size_t size) { munmap((void *)address, size); }

void ember_sys_release_pages(const void *address, size_t size) {
  // Clean pages of a read-only private file mapping: dropped now, read again from the page
  // cache if touched later.
  (void)madvise((void *)address, size, MADV_DONTNEED);
}

int ember_sys_make_temporary(char *template_path, int mode) {
  int fd = mkstemp(template_path);
  if (fd < 0) return -errno;
  (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  (void)fchmod(fd, (mode_t)mode);
  return fd;
}

int ember_sys_fsync(int fd) { return fsync(fd) == 0 ? 0 : -errno; }

void ember_sys_fsync_directory(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

int ember_sys_rename(const char *from, const char *to) { return rename(from, to) == 0 ? 0 : -errno; }

int ember_sys_unlink(const char *path) { return unlink(path) == 0 ? 0 : -errno; }

// Temporary files to remove on a fatal signal. Fixed slots of C strings, so that the handler
// calls only async-signal-safe functions (unlink, signal, raise).
#define TEMPORARY_SLOTS 16
static char *volatile temporaries[TEMPORARY_SLOTS];
static volatile int handlers_installed;

static void remove_temporaries(int sig) {
  for (int i = 0; i < TEMPORARY_SLOTS; i++) {
    char *p = temporaries[i];
    if (p) unlink(p);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void ember_sys_register_temporary(const char *path) {
  if (!handlers_installed) {
    handlers_installed = 1;
    int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
      struct sigaction action;
      memset(&action, 0, sizeof action);
      action.sa_handler = remove_temporaries;
      sigemptyset(&action.sa_mask);
      sigaction(signals[i], &action, NULL);
    }
  }
  for (int i = 0; i < TEMPORARY_SLOTS; i++) {
    if (!temporaries[i]) {
      temporaries[i] = strdup(path);
      return;
    }
  }
}

void ember_sys_unregister_temporary(const char *path) {
  for (int i = 0; i < TEMPORARY_SLOTS; i++) {
    char *p = temporaries[i];
    if (p && strcmp(p, path) == 0) {
      temporaries[i] = NULL;
      free(p);
    }
  }
}
