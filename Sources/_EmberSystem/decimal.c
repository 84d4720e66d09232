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

// The plain decimal in p[0..<n]: optional '-', digits, optional '.' and digits, 1 to 19 digits
// in all, nothing else; its digits as one integer (≤ 2^53) and how many follow the point (≤ 22).
static inline __attribute__((always_inline)) int plain_decimal(const uint8_t *p, size_t n, double *value) {
  const uint8_t *end = p + n;
  if (n == 0) return 0;
  int negative = *p == '-';
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
  if (p != end || count == 0 || count > 19 || w > (1ull << 53) || fraction > 22) return 0;
  // Both operands exact, so the one correctly rounded division is the decimal's nearest double.
  double v = (double)w / exact_powers[fraction];
  *value = negative ? -v : v;
  return 1;
}

int ember_text_plain_double(const uint8_t *bytes, size_t count, double *value) {
  return plain_decimal(bytes, count, value);
}

size_t ember_text_encode_plain(const uint8_t *base, const int32_t *bounds, size_t fields,
                               const ember_text_numeric *features, size_t count, double limit, float *out) {
  for (size_t i = 0; i < count; i++) {
    const ember_text_numeric f = features[i];
    if ((size_t)f.field >= fields) return i;
    int32_t s = bounds[2 * f.field], e = bounds[2 * f.field + 1];
    double v;
    if (!plain_decimal(base + s, (size_t)(e - s), &v)) return i;
    double z = (v - f.mean) / f.std;
    // The encoder's clamp, as Swift's min(max(z, −limit), limit) picks, then rounded to float.
    z = -limit >= z ? -limit : z;
    z = limit < z ? limit : z;
    out[f.slot] = (float)z;
  }
  return count;
}
