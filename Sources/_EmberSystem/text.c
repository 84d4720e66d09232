// Byte scanning for EmberText's CSV reader: see include/ember_system.h.
#include "ember_system.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define EMBER_SPLIT_SIMD 1
#elif defined(__ARM_NEON) && defined(__ARM_ARCH) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <arm_neon.h>
#define EMBER_SPLIT_SIMD 1
#endif

// Masks of sixteen bytes at p (readable): `stop` marks quote, CR, LF and NUL bytes, `*delims`
// the delimiter. Each byte owns WIDTH bits of a mask (1 with SSE2's movemask, 4 with NEON's
// narrowing shift), so byte i of the block is bit i·WIDTH.
#if defined(__SSE2__)
#define WIDTH 1
typedef unsigned block_mask;
static inline block_mask block_masks(const uint8_t *p, uint8_t delimiter, block_mask *delims) {
  __m128i v = _mm_loadu_si128((const __m128i *)p);
  *delims = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)delimiter)));
  __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
                              _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_setzero_si128())));
  return (unsigned)_mm_movemask_epi8(stop);
}
#elif defined(EMBER_SPLIT_SIMD)
#define WIDTH 4
typedef uint64_t block_mask;
static inline uint64_t nibbles(uint8x16_t equal) {
  return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(equal), 4)), 0);
}
static inline block_mask block_masks(const uint8_t *p, uint8_t delimiter, block_mask *delims) {
  uint8x16_t v = vld1q_u8(p);
  *delims = nibbles(vceqq_u8(v, vdupq_n_u8(delimiter)));
  uint8x16_t stop = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8('"')), vceqq_u8(v, vdupq_n_u8('\n'))),
                             vorrq_u8(vceqq_u8(v, vdupq_n_u8('\r')), vceqq_u8(v, vdupq_n_u8(0))));
  return nibbles(stop);
}
#endif

// ember_text_split_fields from offset p, with `n` fields ended so far and the open field at
// field_start.
static size_t split_from(const uint8_t *buffer, size_t p, size_t field_start, size_t n, size_t end, uint8_t delimiter,
                         int32_t *bounds, size_t limit, size_t *fields) {
#if defined(EMBER_SPLIT_SIMD)
  while (p + 16 <= end) {
    block_mask d;
    block_mask stop = block_masks(buffer + p, delimiter, &d);
    // Delimiters before the first stop byte end fields; the stop byte ends the run.
    block_mask before = stop ? d & ((stop & -stop) - 1) : d;
    while (before) {
      size_t q = p + (size_t)__builtin_ctzll((unsigned long long)before) / WIDTH;
      bounds[2 * n] = (int32_t)field_start;
      bounds[2 * n + 1] = (int32_t)q;
      field_start = q + 1;
      if (++n == limit) {
        *fields = n;
        return field_start;
      }
      before &= ~((((block_mask)1 << WIDTH) - 1) << ((q - p) * WIDTH));  // this byte's bits
    }
    if (stop) {
      *fields = n;
      return p + (size_t)__builtin_ctzll((unsigned long long)stop) / WIDTH;
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

#if defined(__x86_64__)
#include <immintrin.h>

// The same, 64 bytes at a time (AVX-512 BW), then split_from for the last 63 bytes or fewer.
__attribute__((target("avx512f,avx512bw,avx512vl"))) static size_t split_wide(const uint8_t *buffer, size_t start,
                                                                            size_t end, uint8_t delimiter,
                                                                            int32_t *bounds, size_t limit,
                                                                            size_t *fields) {
  size_t p = start, field_start = start, n = 0;
  const __m512i delim = _mm512_set1_epi8((char)delimiter), quote = _mm512_set1_epi8('"');
  const __m512i lf = _mm512_set1_epi8('\n'), cr = _mm512_set1_epi8('\r');
  while (p + 64 <= end) {
    __m512i v = _mm512_loadu_si512((const void *)(buffer + p));
    uint64_t d = _mm512_cmpeq_epi8_mask(v, delim);
    uint64_t stop = _mm512_cmpeq_epi8_mask(v, quote) | _mm512_cmpeq_epi8_mask(v, lf) |
                    _mm512_cmpeq_epi8_mask(v, cr) | _mm512_testn_epi8_mask(v, v);
    uint64_t before = stop ? d & ((stop & -stop) - 1) : d;
    while (before) {
      size_t q = p + (size_t)__builtin_ctzll(before);
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
      return p + (size_t)__builtin_ctzll(stop);
    }
    p += 64;
  }
  return split_from(buffer, p, field_start, n, end, delimiter, bounds, limit, fields);
}
#endif

size_t ember_text_split_fields(const uint8_t *buffer, size_t start, size_t end, uint8_t delimiter, int32_t *bounds,
                               size_t limit, size_t *fields) {
  if (limit == 0) {
    *fields = 0;
    return start;
  }
#if defined(__x86_64__)
  if (ember_sys_cpu_features() & EMBER_CPU_AVX512BW) return split_wide(buffer, start, end, delimiter, bounds, limit, fields);
#endif
  return split_from(buffer, start, start, 0, end, delimiter, bounds, limit, fields);
}
