// The memcpy of the static x86_64 ember-micro (musl): musl's copies with `rep movsq` and byte
// moves, which costs tens of cycles even for the few bytes of a Swift small string — one such
// copy per output row (a float's text) took 3 % of a 100,000-row `score` (docs/DEPLOYMENT.md,
// issue 12). Here up to 32 bytes are two overlapping loads and two stores, up to 256 a loop of
// 32-byte steps, longer copies `rep movsb` (fast-string microcode on every x86_64 CPU since
// 2013).
//
// memmove is here too (musl's jumps into its memcpy's object, which would then be linked beside
// this one): a copy onto an overlapping source goes forwards when dst < src (every step here
// loads before it stores and reads only bytes no earlier store has reached), backwards
// otherwise. tools/micro/memcpy_check.c checks both; build.sh runs it. Compiled with
// -fno-builtin, so that the loops are not turned back into calls to memcpy.
#include <stddef.h>
#include <stdint.h>

typedef uint64_t u64 __attribute__((aligned(1), may_alias));
typedef uint32_t u32 __attribute__((aligned(1), may_alias));
typedef uint16_t u16 __attribute__((aligned(1), may_alias));
typedef long long v16 __attribute__((vector_size(16), aligned(1), may_alias));

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (n <= 16) {
    if (n >= 8) {
      uint64_t a = *(const u64 *)s, b = *(const u64 *)(s + n - 8);
      *(u64 *)d = a;
      *(u64 *)(d + n - 8) = b;
    } else if (n >= 4) {
      uint32_t a = *(const u32 *)s, b = *(const u32 *)(s + n - 4);
      *(u32 *)d = a;
      *(u32 *)(d + n - 4) = b;
    } else if (n >= 2) {
      uint16_t a = *(const u16 *)s, b = *(const u16 *)(s + n - 2);
      *(u16 *)d = a;
      *(u16 *)(d + n - 2) = b;
    } else if (n == 1) {
      *d = *s;
    }
    return dst;
  }
  if (n <= 32) {
    v16 a = *(const v16 *)s, b = *(const v16 *)(s + n - 16);
    *(v16 *)d = a;
    *(v16 *)(d + n - 16) = b;
    return dst;
  }
  if (n <= 256) {
    // The last 32 bytes are read first (a forward copy onto its own source may overwrite them)
    // and written last.
    v16 y = *(const v16 *)(s + n - 32), z = *(const v16 *)(s + n - 16);
    for (size_t i = 0; i + 32 < n; i += 32) {
      v16 a = *(const v16 *)(s + i), b = *(const v16 *)(s + i + 16);
      *(v16 *)(d + i) = a;
      *(v16 *)(d + i + 16) = b;
    }
    *(v16 *)(d + n - 32) = y;
    *(v16 *)(d + n - 16) = z;
    return dst;
  }
  __asm__ __volatile__("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if ((uintptr_t)d - (uintptr_t)s >= n) return memcpy(dst, src, n);  // dst < src, or apart
  // dst inside (src, src + n): 8 bytes at a time from the end, the first n mod 8 read first.
  size_t head = n % 8;
  unsigned char h[8];
  for (size_t i = 0; i < head; i++) h[i] = s[i];
  for (size_t i = n; i >= head + 8; i -= 8) {
    uint64_t v = *(const u64 *)(s + i - 8);
    *(u64 *)(d + i - 8) = v;
  }
  for (size_t i = 0; i < head; i++) d[i] = h[i];
  return dst;
}
