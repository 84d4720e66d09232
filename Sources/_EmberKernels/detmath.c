// Elementary functions that give the same bits on every CPU, C library and build: only IEEE
// basic operations (no FMA contraction, no libm), so that an x86_64 glibc build, a static
// musl build and an aarch64 or armv7 build of Ember print byte-identical numbers. Accuracy:
// the double functions are within about 1 ulp; the float ones are computed in double and
// rounded once (nearly always correctly rounded).
#include "ember_kernels.h"

#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

static inline double from_bits(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static inline uint64_t to_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

// ln 2 split in a head with 32 significant bits (so k·head is exact for |k| < 2^21) and a tail.
static const double ln2_hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
static const double ln2_lo = 1.90821492927058770002e-10;  // 0x3dea39ef35793c76
static const double inv_ln2 = 1.44269504088896338700e+00;
static const double round_magic = 6755399441055744.0;  // 1.5 · 2^52: adding it rounds to an integer

double ek_det_exp(double x) {
  if (x != x) return x;                        // NaN
  if (x > 709.782712893383973096) return from_bits(0x7ff0000000000000ull);  // +inf
  if (x < -745.133219101941108420) return 0.0;
  // x = k·ln2 + r, |r| ≤ ln2/2, k the nearest integer to x/ln2 (ties to even).
  double t = x * inv_ln2 + round_magic;
  double kd = t - round_magic;
  int64_t k = (int64_t)kd;
  double r = (x - kd * ln2_hi) - kd * ln2_lo;
  // e^r by its Taylor series to r^13 (|r| ≤ 0.347: truncation below 2^-57 relative).
  double p = 1.0 / 6227020800.0;               // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r * r + r;                           // e^r − 1, keeping the small terms apart
  double y = 1.0 + p;
  // y · 2^k, in two steps when 2^k alone is not a normal double.
  if (k > 1023) return y * 2.0 * from_bits((uint64_t)(k - 1 + 1023) << 52);
  if (k < -1022) return (y * from_bits((uint64_t)(k + 1000 + 1023) << 52)) * from_bits((uint64_t)(-1000 + 1023) << 52);
  return y * from_bits((uint64_t)(k + 1023) << 52);
}

double ek_det_log(double x) {
  if (x != x) return x;                        // NaN
  if (x < 0) return from_bits(0x7ff8000000000000ull);   // NaN
  if (x == 0) return from_bits(0xfff0000000000000ull);  // −inf
  uint64_t b = to_bits(x);
  if (b >= 0x7ff0000000000000ull) return x;    // +inf
  int k = 0;
  if (b < 0x0010000000000000ull) {             // subnormal: scale into the normal range
    x *= 18014398509481984.0;                  // 2^54
    b = to_bits(x);
    k = -54;
  }
  // x = 2^k · m with m in [√½, √2).
  k += (int)((b >> 52) & 0x7ff) - 1023;
  b = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
  double m = from_bits(b);
  if (m > 1.41421356237309504880) {
    m *= 0.5;
    k += 1;
  }
  // log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716: the odd series to s^23.
  double f = m - 1.0;
  double s = f / (2.0 + f);
  double z = s * s;
  double q = 1.0 / 23.0;
  q = q * z + 1.0 / 21.0;
  q = q * z + 1.0 / 19.0;
  q = q * z + 1.0 / 17.0;
  q = q * z + 1.0 / 15.0;
  q = q * z + 1.0 / 13.0;
  q = q * z + 1.0 / 11.0;
  q = q * z + 1.0 / 9.0;
  q = q * z + 1.0 / 7.0;
  q = q * z + 1.0 / 5.0;
  q = q * z + 1.0 / 3.0;
  // 2s + 2s·z·q, written as f − f·(f − 2s·z·q·…) would lose nothing here; keep it simple:
  // f = 2s + s·f, so 2s = f − s·f.
  double hf = s * f;                           // f − 2s
  double lm = (f - hf) + 2.0 * s * z * q;
  double kd = (double)k;
  return kd * ln2_hi + (lm + kd * ln2_lo);
}

// The float functions return (float)ek_det_exp((double)x) and (float)ek_det_log((double)x),
// bit for bit, most of the time without computing them: a shorter evaluation in double (error
// below 2^-41 of the result; Estrin's scheme, so its steps overlap) is rounded to float when the
// rounding is unambiguous — when every double within 2^-34 of it (far more than both
// evaluations' errors together) rounds to the same float, so the full function's result, which
// lies there too, does as well. Otherwise (about one call in a few thousand: a value next to a
// rounding boundary) and outside the common range, the full function decides. Scores call these
// once or twice per row.
static inline int unambiguous(double y, float *out) {
  double margin = (y < 0 ? -y : y) * 0x1p-34;
  float lo = (float)(y - margin), hi = (float)(y + margin);
  *out = lo;
  return lo == hi;
}

float ek_det_expf(float x) {
  if (x == 0) return 1.0f;
  if (!(x >= -80.0f && x <= 80.0f)) return (float)ek_det_exp((double)x);  // and NaN
  double xd = (double)x;
  double t = xd * inv_ln2 + round_magic;
  double kd = t - round_magic;
  int64_t k = (int64_t)kd;
  double r = (xd - kd * ln2_hi) - kd * ln2_lo;
  // e^r, |r| ≤ 0.347, by its Taylor series to r^10 (truncation below 2^-42 relative).
  double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  double a0 = 1.0 + r, a1 = 0.5 + r * (1.0 / 6.0), a2 = 1.0 / 24.0 + r * (1.0 / 120.0);
  double a3 = 1.0 / 720.0 + r * (1.0 / 5040.0), a4 = 1.0 / 40320.0 + r * (1.0 / 362880.0);
  double b0 = a0 + r2 * a1, b1 = a2 + r2 * a3, b2 = a4 + r2 * (1.0 / 3628800.0);
  double y = ((b0 + r4 * b1) + r8 * b2) * from_bits((uint64_t)(k + 1023) << 52);
  float f;
  return unambiguous(y, &f) ? f : (float)ek_det_exp(xd);
}

float ek_det_logf(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  // Positive normal floats only (b's sign clear, exponent field 1…254).
  if (b - 0x00800000u >= 0x7f000000u) return (float)ek_det_log((double)x);
  int k = (int)(b >> 23) - 127;
  double m = from_bits(((uint64_t)(b & 0x007fffffu) << 29) | 0x3ff0000000000000ull);
  if (m > 1.41421356237309504880) {
    m *= 0.5;
    k += 1;
  }
  // log m = 2s·(1 + z/3 + z²/5 + … + z⁷/15), s = (m − 1)/(m + 1), z = s², z ≤ 0.0295
  // (truncation below 2^-44 relative).
  double f = m - 1.0;
  double s = f / (2.0 + f);
  double z = s * s, z2 = z * z, z4 = z2 * z2;
  double q = ((1.0 + z * (1.0 / 3.0)) + z2 * (1.0 / 5.0 + z * (1.0 / 7.0))) +
             z4 * ((1.0 / 9.0 + z * (1.0 / 11.0)) + z2 * (1.0 / 13.0 + z * (1.0 / 15.0)));
  double y = (double)k * 0.69314718055994530942 + 2.0 * s * q;
  float out;
  return unambiguous(y, &out) ? out : (float)ek_det_log((double)x);
}

// log(1 + t) for t ≥ 0 without losing small t: log(u)·t/(u − 1) with u = 1 + t rounded
// (Goldberg's correction; a few ulp).
static double det_log1p(double t) {
  double u = 1.0 + t;
  if (u == 1.0) return t;
  return ek_det_log(u) * t / (u - 1.0);
}

double ek_det_erf(double x) {
  if (x != x) return x;
  double a = x < 0 ? -x : x;
  double r;
  if (a < 2.0) {
    // 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1)): terms fall below 2^-60 of the sum by n = 40.
    double z = a * a;
    double term = a;  // x^(2n+1)/n!
    double sum = a;
    for (int n = 1; n < 60; n++) {
      term = -term * z / (double)n;
      double add = term / (double)(2 * n + 1);
      sum += add;
      if ((add < 0 ? -add : add) < 1e-18 * sum) break;
    }
    r = sum * 1.12837916709551257390;  // 2/√π
  } else if (a < 6.0) {
    // erfc(a) = e^(−a²)/√π · 1/(a + ½/(a + 1/(a + 3/2/(a + …)))), evaluated from a fixed depth.
    double f = a;
    for (int k = 80; k >= 1; k--) f = a + (0.5 * k) / f;
    double erfc = ek_det_exp(-a * a) * 0.56418958354775628695 / f;  // 1/√π
    r = 1.0 - erfc;
  } else {
    r = 1.0;
  }
  return x < 0 ? -r : r;
}

double ek_det_log1p(double t) {
  if (t != t) return t;
  if (t < -1.0) return __builtin_nan("");
  if (t == -1.0) return -__builtin_inf();
  // log(u)·t/(u − 1) with u = 1 + t rounded holds for every t > −1 (Goldberg).
  return det_log1p(t);
}

double ek_det_erfc(double x) {
  if (x != x) return x;
  if (x < 2.0) return 1.0 - ek_det_erf(x);  // ≥ 0.0046: at most a few ulp lost
  // The continued fraction of ek_det_erf, without the cancellation 1 − erfc: full relative
  // precision until e^(−x²) underflows (x ≈ 27).
  double f = x;
  for (int k = 80; k >= 1; k--) f = x + (0.5 * k) / f;
  return ek_det_exp(-x * x) * 0.56418958354775628695 / f;  // 1/√π
}

float ek_det_activation(int kind, float xf, float *deriv) {
  double x = (double)xf;
  if (kind == EK_SOFTPLUS) {
    double ax = x < 0 ? -x : x;
    double y = (x > 0 ? x : 0.0) + det_log1p(ek_det_exp(-ax));
    *deriv = (float)(1.0 / (1.0 + ek_det_exp(-x)));
    return (float)y;
  }
  // GELU: x·Φ(x), Φ′ = φ.
  double cdf = 0.5 * (1.0 + ek_det_erf(x * 0.70710678118654752440));
  *deriv = (float)(cdf + x * 0.39894228040143267794 * ek_det_exp(-0.5 * x * x));
  return (float)(x * cdf);
}
