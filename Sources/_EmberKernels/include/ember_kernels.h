// Dense kernels for the Ember runtime: a packed single-precision matrix product and fused
// activation passes. Each entry point dispatches once, at first use, to the widest SIMD level
// the CPU has (AVX-512, AVX2+FMA, or the portable baseline), so one binary runs everywhere.
// Results for a row never depend on which other rows share its batch.
#ifndef EMBER_KERNELS_H
#define EMBER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Column padding every packed right-hand matrix uses (ldb and ldc are multiples of it).
#define EK_PAD 16

/// C[m×n] = A[m×k]·B[k×n] (+ bias[n] when bias != NULL). Row-major; lda ≥ k; ldb, ldc ≥ n,
/// multiples of EK_PAD; B's padding columns must be zero. Writes whole EK_PAD column blocks
/// of C (up to round_up(n, EK_PAD)).
void ek_gemm(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
             const float *bias, float *c, size_t ldc);

/// Activation codes (the schema's Activation enum).
enum { EK_IDENTITY = 0, EK_SILU = 1, EK_RELU = 2, EK_TANH = 3, EK_SOFTPLUS = 4, EK_GELU = 5 };

/// In place z ← act(z) over n floats; when deriv != NULL also deriv[i] = act'(z_i).
void ek_activate(int kind, float *z, float *deriv, size_t n);

/// out[i] = dot(a row i, w) + bias for m rows of length k (a's row stride lda).
void ek_gemv_rows(size_t m, size_t k, const float *a, size_t lda, const float *w, float bias, float *out);

/// x[i] *= y[i] for n floats.
void ek_mul(float *x, const float *y, size_t n);

/// Vectorised exp(x) for n floats (relative error below 2e-7 on [-87, 88]).
void ek_exp(const float *x, float *out, size_t n);

/// Scalar e^x and natural logarithm that give the same bits on every CPU, C library and build
/// (IEEE basic operations only; detmath.c): within about 1 ulp for double; the float versions
/// are computed in double and rounded once.
double ek_det_exp(double x);
double ek_det_log(double x);
float ek_det_expf(float x);
float ek_det_logf(float x);
/// erf(x) within a few ulp (series below 2, continued fraction of erfc above).
double ek_det_erf(double x);
/// 1 − erf(x) without cancellation for x ≥ 2 (same bits everywhere).
double ek_det_erfc(double x);
/// log(1 + t) for t > −1, small t kept (same bits everywhere).
double ek_det_log1p(double t);
/// Softplus (EK_SOFTPLUS) or GELU (EK_GELU) of `x` and its derivative (into *deriv), computed
/// in double with the functions above and rounded once.
float ek_det_activation(int kind, float x, float *deriv);

/// The SIMD level chosen: 3 AVX-512, 2 AVX2+FMA, 1 baseline.
int ek_simd_level(void);

#ifdef __cplusplus
}
#endif
#endif
