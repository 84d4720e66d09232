// The operating-system calls Ember's Swift code makes, as plain C functions. Swift modules
// built in Embedded mode cannot import Glibc or Musl, so every call into libc that the text
// layer, the file format and the runtime need goes through here; the normal build uses the
// same functions, so one source serves both builds.
//
// Conventions: functions that can fail return a negative errno value (-EINTR is retried
// internally and never returned); they never read or write the thread-local `errno` of the
// caller. Strings are NUL-terminated UTF-8 paths.
#ifndef EMBER_SYSTEM_H
#define EMBER_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What `ember_sys_file_kind` reports.
enum {
  EMBER_FILE_REGULAR = 1,
  EMBER_FILE_DIRECTORY = 2,
  EMBER_FILE_FIFO = 3,
  EMBER_FILE_CHARACTER = 4,
  EMBER_FILE_OTHER = 5,
};

/// Opens `path` read-only (close-on-exec). Returns a file descriptor, or -errno.
int ember_sys_open_read(const char *path);

/// Reads up to `count` bytes into `buffer`, retrying on EINTR. Returns the number of bytes
/// read (0 at end of file), or -errno.
int64_t ember_sys_read(int fd, void *buffer, size_t count);

/// Writes all `count` bytes, retrying on EINTR and short writes. Returns 0, or -errno.
int ember_sys_write_all(int fd, const void *buffer, size_t count);

/// Closes `fd`. Returns 0, or -errno.
int ember_sys_close(int fd);

/// The kind of file `fd` refers to (EMBER_FILE_*), or -errno.
int ember_sys_file_kind(int fd);

/// The size in bytes of the file `fd` refers to, or -errno.
int64_t ember_sys_file_size(int fd);

/// A short description of the errno value `error` (e.g. "No such file or directory"), copied
/// into `buffer` (NUL-terminated, truncated to `capacity`). Returns the length written.
size_t ember_sys_error_text(int error, char *buffer, size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
