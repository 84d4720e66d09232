// Scanning float arrays for the model validator: see include/ember_system.h.
#include "ember_system.h"

#include <string.h>

// Eight lanes of |v| bits, kept in a plain array so that the compiler vectorises the loops
// (SSE2 on any x86_64, NEON on ARM) without intrinsics.
#define LANES 8

size_t ember_sys_scan_floats(const float *values, size_t n, float *max_abs) {
  // |v| as bits: for finite values their order is the order of the magnitudes, and a value
  // is not finite exactly when its bits are ≥ those of infinity, i.e. when adding 2^23 sets
  // the sign bit. Blocks of 64 without branches; the first bad index is looked up only after
  // a block holds one.
  const uint32_t inf = 0x7F800000u;
  uint32_t top[LANES] = {0};
  size_t i = 0;
  while (i < n) {
    size_t stop = n - i < 64 ? n : i + 64;
    uint32_t bad[LANES] = {0}, block[LANES] = {0};
    size_t j = i;
    for (; j + LANES <= stop; j += LANES) {
      uint32_t bits[LANES];
      memcpy(bits, values + j, sizeof bits);
      for (int k = 0; k < LANES; k++) {
        uint32_t a = bits[k] & 0x7FFFFFFFu;
        bad[k] |= (a + 0x00800000u) & 0x80000000u;
        block[k] = a > block[k] ? a : block[k];
      }
    }
    for (; j < stop; j++) {
      uint32_t bits;
      memcpy(&bits, values + j, sizeof bits);
      uint32_t a = bits & 0x7FFFFFFFu;
      bad[0] |= (a + 0x00800000u) & 0x80000000u;
      block[0] = a > block[0] ? a : block[0];
    }
    uint32_t any = 0;
    for (int k = 0; k < LANES; k++) any |= bad[k];
    if (any) {
      for (j = i; j < stop; j++) {
        uint32_t bits;
        memcpy(&bits, values + j, sizeof bits);
        if ((bits & 0x7FFFFFFFu) >= inf) return j;
      }
    }
    for (int k = 0; k < LANES; k++) top[k] = block[k] > top[k] ? block[k] : top[k];
    i = stop;
  }
  uint32_t m = 0;
  for (int k = 0; k < LANES; k++) m = top[k] > m ? top[k] : m;
  memcpy(max_abs, &m, sizeof m);
  return n;
}

void ember_sys_transpose_floats(const float *src, size_t rows, size_t cols, float *dst, size_t dst_stride) {
  // Tiles of 16 × 16: the tile's source lines and destination lines both stay in L1, so
  // every cache line is read and written once instead of once per element.
  enum { TILE = 16 };
  for (size_t r0 = 0; r0 < rows; r0 += TILE) {
    size_t r1 = rows - r0 < TILE ? rows : r0 + TILE;
    for (size_t c0 = 0; c0 < cols; c0 += TILE) {
      size_t c1 = cols - c0 < TILE ? cols : c0 + TILE;
      for (size_t c = c0; c < c1; c++) {
        for (size_t r = r0; r < r1; r++) dst[c * dst_stride + r] = src[r * cols + c];
      }
    }
  }
}
