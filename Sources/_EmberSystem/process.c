// Clock, process and formatting calls for Ember's Swift code: see include/ember_system.h.
#define _GNU_SOURCE
#include "ember_system.h"

#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double ember_sys_monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t ember_sys_unix_time(void) { return (int64_t)time(NULL); }

int64_t ember_sys_peak_rss_bytes(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -(int64_t)errno;
  return (int64_t)usage.ru_maxrss * 1024;  // Linux reports kilobytes
}

int ember_sys_format_g(double value, int digits, char *buffer, size_t capacity) {
  if (digits < 0) digits = 0;
  if (digits > 40) digits = 40;
  return snprintf(buffer, capacity, "%.*g", digits, value);  // Ember never calls setlocale
}

void ember_sys_exit(int status) { _exit(status); }

const char *ember_sys_getenv(const char *name) { return getenv(name); }

static int argument_count;
static char **arguments;

void ember_sys_set_arguments(int argc, char **argv) {
  argument_count = argc;
  arguments = argv;
}

int ember_sys_argument_count(void) { return argument_count; }

const char *ember_sys_argument(int i) { return i >= 0 && i < argument_count ? arguments[i] : NULL; }

int ember_sys_set_mmap_threshold(size_t bytes) {
#if defined(__GLIBC__)
  return mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1 ? 0 : -EINVAL;
#else
  (void)bytes;
  return -ENOSYS;
#endif
}
