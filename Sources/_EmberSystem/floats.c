// Scanning float arrays for the model validator: see include/ember_system.h.
#include "ember_system.h"

#include <string.h>

// |v| as bits, four lanes to a vector (SSE2 on any x86_64, NEON on ARM; vector extensions, no
// intrinsics). For finite values the bits are ≥ 0 as int32 and ordered as the magnitudes, so
// signed compares give both the maximum and the test for NaN/±∞ (bits ≥ those of infinity).
typedef int32_t ember_v4i __attribute__((vector_size(16)));

size_t ember_sys_scan_floats(const float *values, size_t n, float *max_abs) {
  const int32_t inf = 0x7F800000;
  ember_v4i top0 = {0, 0, 0, 0}, top1 = top0;
  int32_t top = 0;
  size_t i = 0;
  // Blocks of 256 without branches; the first bad index is looked up only after a block holds one.
  while (i < n) {
    size_t stop = n - i < 256 ? n : i + 256;
    ember_v4i bad = {0, 0, 0, 0};
    int32_t tailBad = 0;
    size_t j = i;
    for (; j + 8 <= stop; j += 8) {
      ember_v4i x0, x1;
      memcpy(&x0, values + j, sizeof x0);
      memcpy(&x1, values + j + 4, sizeof x1);
      x0 &= 0x7FFFFFFF;
      x1 &= 0x7FFFFFFF;
      bad |= (x0 >= inf) | (x1 >= inf);
      ember_v4i m0 = x0 > top0, m1 = x1 > top1;
      top0 = (x0 & m0) | (top0 & ~m0);
      top1 = (x1 & m1) | (top1 & ~m1);
    }
    for (; j < stop; j++) {
      int32_t a;
      memcpy(&a, values + j, sizeof a);
      a &= 0x7FFFFFFF;
      tailBad |= a >= inf;
      top = a > top ? a : top;
    }
    if (tailBad | bad[0] | bad[1] | bad[2] | bad[3]) {
      for (j = i; j < stop; j++) {
        int32_t a;
        memcpy(&a, values + j, sizeof a);
        if ((a & 0x7FFFFFFF) >= inf) return j;
      }
    }
    i = stop;
  }
  for (int k = 0; k < 4; k++) {
    top = top0[k] > top ? top0[k] : top;
    top = top1[k] > top ? top1[k] : top;
  }
  memcpy(max_abs, &top, sizeof top);
  return n;
}

void ember_sys_abs_sums(const float *w, size_t outputs, size_t inputs, double *cols, float *max_abs,
                        double *max_row, double *max_col) {
  // Eight rows at a time: eight independent row sums (each in input order) and each column
  // summed in output order, as one running sum per column.
  float top = 0;
  double rowMax = 0;
  for (size_t i = 0; i < inputs; i++) cols[i] = 0;
  size_t o = 0;
  for (; o + 8 <= outputs; o += 8) {
    double r[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const float *row = w + o * inputs;
    for (size_t i = 0; i < inputs; i++) {
      double c = cols[i];
      for (int k = 0; k < 8; k++) {
        float a = __builtin_fabsf(row[k * inputs + i]);
        top = a > top ? a : top;
        r[k] += (double)a;
        c += (double)a;
      }
      cols[i] = c;
    }
    for (int k = 0; k < 8; k++) rowMax = r[k] > rowMax ? r[k] : rowMax;
  }
  for (; o < outputs; o++) {
    double r = 0;
    const float *row = w + o * inputs;
    for (size_t i = 0; i < inputs; i++) {
      float a = __builtin_fabsf(row[i]);
      top = a > top ? a : top;
      r += (double)a;
      cols[i] += (double)a;
    }
    rowMax = r > rowMax ? r : rowMax;
  }
  double colMax = 0;
  for (size_t i = 0; i < inputs; i++) colMax = cols[i] > colMax ? cols[i] : colMax;
  *max_abs = top;
  *max_row = rowMax;
  *max_col = colMax;
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
