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

/// A short description of the errno value `error` (e.g. "No such file or directory"): static
/// text of the C library (glibc and musl keep it constant for known values).
const char *ember_sys_strerror(int error);

/// A short description of the errno value `error` (e.g. "No such file or directory"), copied
/// into `buffer` (NUL-terminated, truncated to `capacity`). Returns the length written.
size_t ember_sys_error_text(int error, char *buffer, size_t capacity);

// ---- Files (files.c) -------------------------------------------------------------------

/// Opens a model file read-only without blocking (a FIFO with no writer must not hang);
/// close-on-exec. Returns a file descriptor, or -errno.
int ember_sys_open_model(const char *path);

/// Opens `path` write-only (close-on-exec; truncated when `truncate`), for devices, FIFOs and
/// files written in place. Returns a fd, or -errno.
int ember_sys_open_write(const char *path, int truncate);

/// The kind of the file at `path` (EMBER_FILE_*), following symbolic links when `follow`;
/// EMBER_FILE_LINK for a link when not following. Returns -errno (e.g. -ENOENT).
int ember_sys_path_kind(const char *path, int follow);
enum { EMBER_FILE_LINK = 6 };

/// The permission bits (0–07777) of the file at `path`, or -errno.
int ember_sys_path_mode(const char *path);

/// 1 when both paths name the same existing file (device and inode), else 0.
int ember_sys_same_file(const char *a, const char *b);

/// The target of the symbolic link `path` into `buffer` (not NUL-terminated). Returns its
/// length, or -errno.
int64_t ember_sys_read_link(const char *path, char *buffer, size_t capacity);

/// Maps `size` bytes of `fd` read-only (private). Returns 0 and sets *address, or -errno.
int ember_sys_map_read(int fd, size_t size, const void **address);

/// Unmaps a mapping made by ember_sys_map_read.
void ember_sys_unmap(const void *address, size_t size);

/// Drops the resident pages of a mapping made by ember_sys_map_read (they are read again
/// from the file if touched later): the memory of bytes already copied out.
void ember_sys_release_pages(const void *address, size_t size);

/// Creates a unique temporary file from `template_path` (ending in XXXXXX, replaced in
/// place), close-on-exec, with permission bits `mode`. Returns a fd, or -errno.
int ember_sys_make_temporary(char *template_path, int mode);

/// fsync(fd). Returns 0, or -errno.
int ember_sys_fsync(int fd);

/// Opens the directory `path` and fsyncs it (after a rename into it); errors are ignored.
void ember_sys_fsync_directory(const char *path);

/// rename(from, to). Returns 0, or -errno.
int ember_sys_rename(const char *from, const char *to);

/// unlink(path). Returns 0, or -errno.
int ember_sys_unlink(const char *path);

/// Remembers a temporary file to remove if the process receives SIGINT, SIGTERM or SIGHUP
/// before it is committed (the handler removes every registered file, then re-raises the
/// signal with its default action). Installs the handlers on first use. Up to 16 files.
void ember_sys_register_temporary(const char *path);

/// Forgets a temporary file registered with ember_sys_register_temporary.
void ember_sys_unregister_temporary(const char *path);

// ---- CPU features (cpu.c) ---------------------------------------------------------------

/// x86_64 instruction sets the CPU has and the operating system saves the state of, as bits:
/// read once from CPUID leaves 1 and 7 and XCR0 (the compiler's __builtin_cpu_supports runs a
/// start-up constructor that reads many more leaves, each a trap to the hypervisor in a VM).
/// 0 on other CPUs. Used by the kernels, the CRC and the text loops to pick their wide paths.
enum {
  EMBER_CPU_AVX2_FMA = 1,   ///< AVX2 and FMA (YMM state saved)
  EMBER_CPU_AVX512 = 2,     ///< AVX-512 F and VL (opmask and ZMM state saved)
  EMBER_CPU_AVX512BW = 4,   ///< AVX-512 BW as well as F and VL
  EMBER_CPU_CLMUL = 8,      ///< PCLMULQDQ and SSE4.1
};
int ember_sys_cpu_features(void);

// ---- Threads (threads.c) ----------------------------------------------------------------

/// Logical CPUs available to this process (at least 1).
int ember_sys_cpu_count(void);

/// Runs body(context, i) for every i in [0, count) on up to `threads` threads: worker w
/// takes i = w, w + workers, … (workers = min(threads, count)). The calling thread is worker
/// 0; the others come from a pool started on first use and kept for the process. Returns
/// when every call has returned. While the pool is busy (another thread's call, or a call
/// from inside a body) the loop runs inline on the calling thread instead: never a deadlock.
void ember_sys_parallel_for(size_t count, size_t threads, void *context, void (*body)(void *context, size_t i));

/// Runs body(context, i, worker) for every i in [0, count) on up to `threads` threads that
/// each take the next unclaimed i until none is left (`worker`: which of them runs it, 0 for
/// the calling thread, < threads). The calling thread first runs side(side_context) when `side`
/// is not NULL, then claims items too; returns when every call has returned. While the pool is
/// busy, runs `side` and then the loop inline.
void ember_sys_parallel_claim(size_t count, size_t threads, void *context,
                              void (*body)(void *context, size_t i, size_t worker), void *side_context,
                              void (*side)(void *side_context));

/// A mutex for callers that cannot use pthread types (Embedded Swift). Never fails.
typedef struct ember_sys_mutex ember_sys_mutex;
ember_sys_mutex *ember_sys_mutex_new(void);
void ember_sys_mutex_free(ember_sys_mutex *m);
void ember_sys_mutex_lock(ember_sys_mutex *m);
void ember_sys_mutex_unlock(ember_sys_mutex *m);

/// A copy of `text` from malloc (free it with ember_sys_free), or NULL when out of memory.
char *ember_sys_strdup(const char *text);

/// free(pointer).
void ember_sys_free(void *pointer);

/// `bytes` of zeroed memory aligned to `alignment` (a power of two); *allocation receives the
/// pointer to pass to ember_sys_free. Pages of a large block are not touched until written.
/// Aborts when out of memory.
void *ember_sys_zeroed(size_t bytes, size_t alignment, void **allocation);

/// Keeps a copy of `message` (NULL clears it) for the calling thread only; returns 0, or -1
/// when out of memory (the old message is then cleared). For the C API's ember_last_error.
int ember_sys_set_thread_message(const char *message);

/// The calling thread's message set by ember_sys_set_thread_message, or NULL. Valid until
/// the thread sets another one.
const char *ember_sys_thread_message(void);

// ---- Process, clock, formatting (process.c) ---------------------------------------------

/// Seconds on a monotonic clock (CLOCK_MONOTONIC).
double ember_sys_monotonic_seconds(void);

/// Seconds since 1970-01-01 UTC (CLOCK_REALTIME).
int64_t ember_sys_unix_time(void);

/// Peak resident set size of this process in bytes (getrusage), or -errno.
int64_t ember_sys_peak_rss_bytes(void);

/// Allocations of at least `bytes` are mapped on their own and returned to the system when
/// freed (glibc's M_MMAP_THRESHOLD, which otherwise grows with the largest block freed).
/// Returns 0, or -errno (-ENOSYS without glibc).
int ember_sys_set_mmap_threshold(size_t bytes);

/// printf("%.<digits>g", value) in the C locale into `buffer`; returns the length (or -1).
int ember_sys_format_g(double value, int digits, char *buffer, size_t capacity);

/// Ends the process with `status` (stdio is not used by Ember, nothing to flush).
void ember_sys_exit(int status) __attribute__((noreturn));

/// Records the process arguments (a C `main` that calls Swift does this first: Embedded Swift
/// has no CommandLine).
void ember_sys_set_arguments(int argc, char **argv);

/// The number of process arguments recorded by ember_sys_set_arguments (0 if none).
int ember_sys_argument_count(void);

/// Argument `i` (0 = the program), or NULL when out of range.
const char *ember_sys_argument(int i);

/// The value of environment variable `name`, or NULL.
const char *ember_sys_getenv(const char *name);

/// The index of the first value of values[0..<n] that is NaN or ±∞, or n when all are
/// finite; then *max_abs receives the largest magnitude (0 for n = 0). O(n), vectorised.
size_t ember_sys_scan_floats(const float *values, size_t n, float *max_abs);

/// For the row-major outputs × inputs matrix `w` (all values finite): the largest |w|, the
/// largest row sum Σ_i |w_oi| and the largest column sum Σ_o |w_oi|, each sum in double and in
/// index order (rows over inputs, columns over outputs); `cols` is scratch for `inputs`
/// doubles. O(outputs · inputs).
void ember_sys_abs_sums(const float *w, size_t outputs, size_t inputs, double *cols, float *max_abs,
                        double *max_row, double *max_col);

/// Writes the transpose of the row-major rows × cols matrix `src` into `dst`: element (r, c)
/// goes to dst[c * dst_stride + r] (dst_stride ≥ rows); other elements of `dst` are left as
/// they are. A copy, bit for bit, in cache-sized tiles. O(rows · cols).
void ember_sys_transpose_floats(const float *src, size_t rows, size_t cols, float *dst, size_t dst_stride);

/// Splits a run of unquoted CSV fields that starts at a field start `start` (< `end`;
/// `buffer[end]` must be readable and is normally the reader's NUL sentinel): each
/// `delimiter` ends a field, whose start and end offsets go to bounds[2k], bounds[2k+1].
/// Stops at the first quote, CR, LF or NUL byte, or at `end`, and returns its offset (the
/// open field runs from just after the last delimiter to there); or, after `limit` (> 0)
/// fields, returns the offset just past the last delimiter. *fields receives the number of
/// fields ended. Sixteen bytes at a time where the CPU has SSE2, else byte by byte.
size_t ember_text_split_fields(const uint8_t *buffer, size_t start, size_t end, uint8_t delimiter, int32_t *bounds,
                               size_t limit, size_t *fields);

/// One numeric feature as the row encoder reads it from a CSV record: the plain decimal in
/// field `field` becomes out[slot] = the float nearest min(max((v − mean) / std, −limit), limit).
typedef struct {
  double mean;
  double std;
  int32_t field;
  int32_t slot;
} ember_text_numeric;

/// Reads bytes[0..<count] when it is a short decimal — an optional '-', digits, an optional '.'
/// and digits, 1 to 19 digits in all, nothing else — into its digits as one integer, how many
/// follow the point and its sign (1 when negative), and returns 1; returns 0 for anything else.
/// Eight fraction digits are checked and read at once. EmberText's decimal parser starts here.
/// O(count).
int ember_text_short_decimal(const uint8_t *bytes, size_t count, uint64_t *digits, int32_t *fraction,
                             int32_t *negative);

/// Reads bytes[0..<count] when it is a plain decimal — an optional '-', digits, an optional '.'
/// and digits, 1 to 19 digits in all whose integer is at most 2^53, at most 22 after the point,
/// nothing else — into *value (the nearest double: one correctly rounded division) and returns
/// 1; returns 0 for anything else (which the general parser reads). O(count).
int ember_text_plain_double(const uint8_t *bytes, size_t count, double *value);

/// Encodes the numeric `features` of one CSV record (`fields` fields; field i is
/// base[bounds[2i]..<bounds[2i+1]]) in order, as ``ember_text_numeric`` says, and returns how
/// many it encoded: `count`, or the index of the first feature whose field is absent or not a
/// plain decimal (``ember_text_plain_double``). With AVX-512 four fields are read at a time,
/// each as the 16 bytes that end where it ends: a field ending at offset e ≥ 16 may be read
/// from base + e − 16 on (bytes before it, never before base). O(bytes of the fields read).
size_t ember_text_encode_plain(const uint8_t *base, const int32_t *bounds, size_t fields,
                               const ember_text_numeric *features, size_t count, double limit, float *out);

#ifdef __cplusplus
}
#endif
#endif
