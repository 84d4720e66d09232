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

size_t ember_text_encode_plain(const uint8_t *base, const int32_t *bounds, size_t fields,
                               const ember_text_numeric *features, size_t count, double limit, float *out) {
  // In blocks: the fields read as integers first, then the divisions in a loop of their own.
  enum { BLOCK = 32 };
  plain_parts parts[BLOCK];
  for (size_t first = 0; first < count; first += BLOCK) {
    size_t n = count - first < BLOCK ? count - first : BLOCK, read = 0;
    for (; read < n; read++) {
      const ember_text_numeric *f = &features[first + read];
      if ((size_t)f->field >= fields) break;
      int32_t s = bounds[2 * f->field], e = bounds[2 * f->field + 1];
      if (!plain_decimal(base + s, (size_t)(e - s), &parts[read])) break;
    }
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
