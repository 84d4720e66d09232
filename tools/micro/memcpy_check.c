// Checks tools/micro/memcpy.c (build.sh links it with this file, statically with musl, and runs
// it): every size 0…1100 at every source and destination offset 0…15 copies exactly the bytes
// asked and touches none around them, and memmove (musl's, which calls memcpy for a forward copy
// onto an overlapping source) gives the bytes a byte-by-byte copy gives, forwards and backwards,
// at every distance 1…40. Prints "ok" or aborts.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char src[1300], dst[1300], want[1300];
// Called through pointers the compiler cannot see through: otherwise it expands the calls itself.
static void *(*volatile copy)(void *, const void *, size_t) = memcpy;
static void *(*volatile move)(void *, const void *, size_t) = memmove;

static void fail(const char *what, size_t n, size_t a, size_t b) {
  printf("%s: n=%zu offsets %zu %zu\n", what, n, a, b);
  abort();
}

int main(void) {
  for (size_t i = 0; i < sizeof src; i++) src[i] = (unsigned char)(i * 131 + 7);
  for (size_t n = 0; n <= 1100; n++)
    for (size_t a = 0; a < 16; a++)
      for (size_t b = 0; b < 16; b += (n > 300 ? 5 : 1)) {
        memset(dst, 0xA5, sizeof dst);
        void *r = copy(dst + 64 + b, src + a, n);
        if (r != dst + 64 + b) fail("return value", n, a, b);
        for (size_t i = 0; i < sizeof dst; i++) {
          unsigned char expect = (i >= 64 + b && i < 64 + b + n) ? src[a + i - 64 - b] : 0xA5;
          if (dst[i] != expect) fail("memcpy", n, a, b);
        }
      }
  for (size_t n = 0; n <= 1100; n += (n < 300 ? 1 : 7))
    for (size_t gap = 1; gap <= 40; gap++)
      for (int forward = 0; forward < 2; forward++) {
        for (size_t i = 0; i < sizeof dst; i++) dst[i] = want[i] = (unsigned char)(i * 29 + n);
        size_t from = forward ? 100 + gap : 100, to = forward ? 100 : 100 + gap;
        unsigned char tmp[1300];
        for (size_t i = 0; i < n; i++) tmp[i] = want[from + i];
        for (size_t i = 0; i < n; i++) want[to + i] = tmp[i];
        move(dst + to, dst + from, n);
        if (memcmp(dst, want, sizeof dst) != 0) fail(forward ? "memmove forward" : "memmove backward", n, gap, 0);
      }
  printf("ok\n");
  return 0;
}
