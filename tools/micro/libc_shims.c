// What Embedded Swift's standard library needs from the C library that musl does not have:
// arc4random_buf (random seeds for Set/Dictionary hashing), over getrandom(2).
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

void arc4random_buf(void *buffer, size_t count) {
  uint8_t *p = (uint8_t *)buffer;
  while (count > 0) {
    ssize_t n = getrandom(p, count, 0);
    if (n > 0) {
      p += n;
      count -= (size_t)n;
    } else if (n < 0 && errno != EINTR) {
      // No getrandom (very old kernel): hash seeds need not be secret; use the clock.
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      uint64_t x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15u ^ (uint64_t)(uintptr_t)buffer;
      for (; count > 0; count--, p++) {
        x ^= x >> 29;
        x *= 0xBF58476D1CE4E5B9u;
        *p = (uint8_t)(x >> 56);
      }
    }
  }
}

// roundevenf (C23; glibc has it, Debian's musl 1.2.3 does not), used by the kernels' baseline
// path: in the default rounding mode (Ember never changes it) rintf rounds half to even.
#include <math.h>
float roundevenf(float x) { return rintf(x); }
