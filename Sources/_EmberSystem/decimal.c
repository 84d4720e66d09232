// Plain decimals → double, and the row encoder's numeric cells: see include/ember_system.h.
#include "ember_system.h"

#include <string.h>

// 10^k for k in 0...22: every one exact as a double.
static const double exact_powers[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const uint64_t integer_powers[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// Whether all eight bytes of the little-endian word v are ASCII digits: a byte is a digit when
// its high nibble is 3 and adding 6 to it leaves the high nibble at 3 (no carry out of 9).
static inline int eight_digits(uint64_t v) {
  const uint64_t high = 0xF0F0F0F0F0F0F0F0ull;
  return ((v & high) | (((v + 0x0606060606060606ull) & high) >> 4)) == 0x3333333333333333ull;
}

// The number eight ASCII digits spell (the first digit in the lowest byte): adjacent digits
// combined into pairs, pairs into fours, fours into eight, one multiplication per level.
static inline uint64_t eight_value(uint64_t v) {
  uint64_t x = v & 0x0F0F0F0F0F0F0F0Full;
  x = (x * 2561) >> 8;                                        // 10·d0 + d1 in each 16-bit lane
  x = ((x & 0x00FF00FF00FF00FFull) * 6553601) >> 16;          // 100·p0 + p1 in each 32-bit lane
  return ((x & 0x0000FFFF0000FFFFull) * 42949672960001ull) >> 32;  // 10^4·q0 + q1
}

static inline uint64_t load8(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

// A plain decimal read as integers: its digits as one integer, how many follow the point, its sign.
typedef struct {
  uint64_t digits;
  uint32_t fraction;
  uint32_t negative;
} plain_parts;

// The short decimal in p[0..<n]: optional '-', digits, optional '.' and digits, 1 to 19 digits
// in all, nothing else (every decimal the parser reads in one loop). Integer work only.
static inline __attribute__((always_inline)) int short_decimal(const uint8_t *p, size_t n, plain_parts *out) {
  if (n == 0) return 0;
  const uint8_t *end = p + n;
  uint32_t negative = *p == '-';
  p += negative;
  const uint8_t *digits = p;
  uint64_t w = 0;
  unsigned d;
  while (p < end && (d = (unsigned)*p - '0') <= 9) {
    w = w * 10 + d;
    p++;
  }
  size_t count = (size_t)(p - digits), fraction = 0;
  if (p < end) {
    if (*p != '.') return 0;
    p++;
    size_t k = (size_t)(end - p);
    // 1 to 8 fraction digits ending a field of at least 8 bytes: its last 8 bytes, those
    // before the fraction replaced by '0', checked and read at once.
    if (k - 1 < 8 && n >= 8) {
      uint64_t before = k == 8 ? 0 : (~0ull >> (8 * k));
      uint64_t v = (load8(end - 8) & ~before) | (0x3030303030303030ull & before);
      if (eight_digits(v)) {
        count += k;
        if (count > 19) return 0;
        w = w * integer_powers[k] + eight_value(v);
        fraction = k;
        p = end;
        goto done;
      }
    }
    const uint8_t *fraction_start = p;
    while (p < end && (d = (unsigned)*p - '0') <= 9) {
      w = w * 10 + d;
      p++;
    }
    fraction = (size_t)(p - fraction_start);
    count += fraction;
  }
done:
  if (p != end || count == 0 || count > 19) return 0;
  out->digits = w;
  out->fraction = (uint32_t)fraction;
  out->negative = negative;
  return 1;
}

// A short decimal whose digits make at most 2^53 with at most 22 after the point: its double is
// one correctly rounded division, left to the caller, so that a loop over cells keeps several
// divisions in flight instead of waiting on each.
static inline __attribute__((always_inline)) int plain_decimal(const uint8_t *p, size_t n, plain_parts *out) {
  return short_decimal(p, n, out) && out->digits <= (1ull << 53) && out->fraction <= 22;
}

int ember_text_short_decimal(const uint8_t *bytes, size_t count, uint64_t *digits, int32_t *fraction,
                             int32_t *negative) {
  plain_parts d;
  if (!short_decimal(bytes, count, &d)) return 0;
  *digits = d.digits;
  *fraction = (int32_t)d.fraction;
  *negative = (int32_t)d.negative;
  return 1;
}

// The nearest double: both operands exact, so one correctly rounded division gives it; the
// sign set by a bit (a branch on it would be mispredicted on every other cell of signed data).
static inline double plain_value(plain_parts d) {
  double v = (double)d.digits / exact_powers[d.fraction];
  uint64_t bits;
  memcpy(&bits, &v, 8);
  bits ^= (uint64_t)d.negative << 63;
  memcpy(&v, &bits, 8);
  return v;
}

int ember_text_plain_double(const uint8_t *bytes, size_t count, double *value) {
  plain_parts d;
  if (!plain_decimal(bytes, count, &d)) return 0;
  *value = plain_value(d);
  return 1;
}

// The first phase of ember_text_encode_plain for a block: each feature's field read into its
// parts, in order, until one is not a plain decimal; returns how many were read.
static size_t read_scalar(const uint8_t *base, const int32_t *bounds, size_t fields,
                          const ember_text_numeric *features, size_t n, plain_parts *parts) {
  size_t read = 0;
  for (; read < n; read++) {
    const ember_text_numeric *f = &features[read];
    if ((size_t)f->field >= fields) break;
    int32_t s = bounds[2 * f->field], e = bounds[2 * f->field + 1];
    if (!plain_decimal(base + s, (size_t)(e - s), &parts[read])) break;
  }
  return read;
}

#if defined(__x86_64__)
#include <immintrin.h>

// read_scalar, four cells at a time: each cell's 16 bytes (ending where it ends) in one lane of
// a 64-byte register; one compare per kind of byte for all four (digits, '.', a leading '-');
// the point removed by taking, at and before it, the byte to the left; then the digits of each
// lane to one integer (pairs, fours, eights, sixteen). A group with any cell longer than 16
// bytes, ending within 16 bytes of base, or not a short decimal, goes to read_scalar, which
// decides; so do cells whose digits pass 2^53. Same parts as read_scalar.
__attribute__((target("avx512f,avx512bw,avx512vl"))) static size_t read_wide(const uint8_t *base,
                                                                           const int32_t *bounds, size_t fields,
                                                                           const ember_text_numeric *features,
                                                                           size_t n, plain_parts *parts) {
  const __m512i iota = _mm512_set4_epi32(0x0f0e0d0c, 0x0b0a0908, 0x07060504, 0x03020100);
  const __m512i lane_of = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    int32_t end[4];
    uint32_t start[4];
    int plain = 1;
    for (int j = 0; j < 4; j++) {
      const ember_text_numeric *f = &features[i + j];
      if ((size_t)f->field >= fields) return i + read_scalar(base, bounds, fields, features + i, n - i, parts + i);
      int32_t s = bounds[2 * f->field], e = bounds[2 * f->field + 1];
      uint32_t len = (uint32_t)(e - s);
      plain &= (len - 1 < 16) & (e >= 16);
      end[j] = e;
      start[j] = 16 - len;  // the cell's first byte in its lane
    }
    if (!plain) goto scalar;
    {
      __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(base + end[0] - 16)));
      v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(base + end[1] - 16)), 1);
      v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(base + end[2] - 16)), 2);
      v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(base + end[3] - 16)), 3);
      __m128i first4 = _mm_set_epi32((int)(start[3] * 0x01010101u), (int)(start[2] * 0x01010101u),
                                     (int)(start[1] * 0x01010101u), (int)(start[0] * 0x01010101u));
      __m512i first = _mm512_permutexvar_epi32(lane_of, _mm512_castsi128_si512(first4));
      __mmask64 cell = _mm512_cmpge_epu8_mask(iota, first);
      __mmask64 lead = _mm512_cmpeq_epi8_mask(iota, first);
      __m512i d = _mm512_sub_epi8(v, _mm512_set1_epi8('0'));
      __mmask64 digits = _mm512_mask_cmple_epu8_mask(cell, d, _mm512_set1_epi8(9));
      __mmask64 dots = _mm512_mask_cmpeq_epi8_mask(cell, v, _mm512_set1_epi8('.'));
      __mmask64 minus = _mm512_mask_cmpeq_epi8_mask(lead, v, _mm512_set1_epi8('-'));
      if ((digits | dots | minus) != cell) goto scalar;
      uint64_t before = 0;
      uint32_t fraction[4];
      for (int j = 0; j < 4; j++) {
        uint32_t dot = (uint32_t)(dots >> (16 * j)) & 0xFFFF;
        if ((dot & (dot - 1)) != 0 || ((digits >> (16 * j)) & 0xFFFF) == 0) goto scalar;
        fraction[j] = dot ? 15 - (uint32_t)__builtin_ctz(dot) : 0;
        before |= (uint64_t)(dot ? (dot << 1) - 1 : 0) << (16 * j);
      }
      // Digits only, the point closed up: at and before it, the byte to the left.
      __m512i c = _mm512_maskz_mov_epi8(digits, d);
      c = _mm512_mask_mov_epi8(c, before, _mm512_bslli_epi128(c, 1));
      __m512i pairs = _mm512_maddubs_epi16(c, _mm512_set1_epi16(0x010A));       // 10·a + b
      __m512i fours = _mm512_madd_epi16(pairs, _mm512_set1_epi32(0x00010064));  // 100·p + q
      __m512i packed = _mm512_packus_epi32(fours, fours);
      __m512i eights = _mm512_madd_epi16(packed, _mm512_set1_epi32(0x00012710));  // 10^4·r + s
      __m512i value = _mm512_add_epi64(_mm512_mul_epu32(eights, _mm512_set1_epi64(100000000)),
                                       _mm512_srli_epi64(eights, 32));
      uint64_t lanes[8];
      _mm512_storeu_si512((void *)lanes, value);
      for (int j = 0; j < 4; j++) {
        if (lanes[2 * j] > (1ull << 53)) goto scalar;
        parts[i + j].digits = lanes[2 * j];
        parts[i + j].fraction = fraction[j];
        parts[i + j].negative = (uint32_t)((minus >> (16 * j)) & 0xFFFF) != 0;
      }
      continue;
    }
  scalar : {
    size_t r = read_scalar(base, bounds, fields, features + i, 4, parts + i);
    if (r < 4) return i + r;
  }
  }
  return i + read_scalar(base, bounds, fields, features + i, n - i, parts + i);
}
#endif

static size_t read_block(const uint8_t *base, const int32_t *bounds, size_t fields,
                         const ember_text_numeric *features, size_t n, plain_parts *parts) {
#if defined(__x86_64__)
  if (n >= 4 && (ember_sys_cpu_features() & EMBER_CPU_AVX512BW)) return read_wide(base, bounds, fields, features, n, parts);
#endif
  return read_scalar(base, bounds, fields, features, n, parts);
}

size_t ember_text_encode_plain(const uint8_t *base, const int32_t *bounds, size_t fields,
                               const ember_text_numeric *features, size_t count, double limit, float *out) {
  // In blocks: the fields read as integers first, then the divisions in a loop of their own.
  enum { BLOCK = 32 };
  plain_parts parts[BLOCK];
  for (size_t first = 0; first < count; first += BLOCK) {
    size_t n = count - first < BLOCK ? count - first : BLOCK;
    size_t read = read_block(base, bounds, fields, features + first, n, parts);
    for (size_t i = 0; i < read; i++) {
      const ember_text_numeric *f = &features[first + i];
      double z = (plain_value(parts[i]) - f->mean) / f->std;
      // The encoder's clamp, as Swift's min(max(z, −limit), limit) picks, then rounded to float.
      z = -limit >= z ? -limit : z;
      z = limit < z ? limit : z;
      out[f->slot] = (float)z;
    }
    if (read < n) return first + read;
  }
  return count;
}
