// Byte scanning for EmberText's CSV reader: see include/ember_system.h.
#include "ember_system.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// Bit i of the result is set when p[i] is a stop byte (quote, CR, LF, NUL) or the delimiter
// (in *delims). Sixteen bytes at p must be readable.
#if defined(__SSE2__)
static inline unsigned block_masks(const uint8_t *p, __m128i delim, unsigned *delims) {
  __m128i v = _mm_loadu_si128((const __m128i *)p);
  unsigned d = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, delim));
  __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
                              _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_setzero_si128())));
  *delims = d;
  return (unsigned)_mm_movemask_epi8(stop);
}
#endif

size_t ember_text_split_fields(const uint8_t *buffer, size_t start, size_t end, uint8_t delimiter, int32_t *bounds,
                               size_t limit, size_t *fields) {
  size_t p = start, field_start = start, n = 0;
  if (limit == 0) {
    *fields = 0;
    return start;
  }
#if defined(__SSE2__)
  __m128i delim = _mm_set1_epi8((char)delimiter);
  while (p + 16 <= end) {
    unsigned d;
    unsigned stop = block_masks(buffer + p, delim, &d);
    // Delimiters before the first stop byte end fields; the stop byte ends the run.
    unsigned before = stop ? d & ((stop & -stop) - 1) : d;
    while (before) {
      size_t q = p + (size_t)__builtin_ctz(before);
      bounds[2 * n] = (int32_t)field_start;
      bounds[2 * n + 1] = (int32_t)q;
      field_start = q + 1;
      if (++n == limit) {
        *fields = n;
        return field_start;
      }
      before &= before - 1;
    }
    if (stop) {
      *fields = n;
      return p + (size_t)__builtin_ctz(stop);
    }
    p += 16;
  }
#endif
  for (;; p++) {  // the tail, byte by byte (the sentinel NUL at `end` stops it)
    uint8_t c = buffer[p];
    if (c == delimiter) {
      bounds[2 * n] = (int32_t)field_start;
      bounds[2 * n + 1] = (int32_t)p;
      field_start = p + 1;
      if (++n == limit) {
        *fields = n;
        return field_start;
      }
    } else if (c == '"' || c == '\n' || c == '\r' || c == 0 || p >= end) {
      *fields = n;
      return p;
    }
  }
}
