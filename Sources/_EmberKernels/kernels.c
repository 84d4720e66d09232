// SIMD-level dispatch for the kernels in kernels_impl.h.
#include "ember_kernels.h"
#include "ember_system.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#define EK_SUFFIX avx512
#define EK_TARGET __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define EK_MR 8
#define EK_NB 2
#include "kernels_impl.h"
#undef EK_SUFFIX
#undef EK_TARGET
#undef EK_MR
#undef EK_NB

#define EK_SUFFIX avx2
#define EK_TARGET __attribute__((target("avx2,fma")))
#define EK_MR 4
#define EK_NB 1
#include "kernels_impl.h"
#undef EK_SUFFIX
#undef EK_TARGET
#undef EK_MR
#undef EK_NB
#endif

#define EK_SUFFIX base
#define EK_TARGET
#if defined(__x86_64__) && !defined(__FMA__)
#define EK_FMA(a, b, c) ((a) * (b) + (c))
#endif
#define EK_MR 4
#define EK_NB 1
#include "kernels_impl.h"
#undef EK_SUFFIX
#undef EK_TARGET
#undef EK_MR
#undef EK_NB

// The widest kernels the CPU and the operating system support (_EmberSystem's CPUID reading,
// done once).
int ek_simd_level(void) {
  int f = ember_sys_cpu_features();
  if ((f & EMBER_CPU_AVX512) && (f & EMBER_CPU_AVX2_FMA)) return 3;
  if (f & EMBER_CPU_AVX2_FMA) return 2;
  return 1;
}

#if defined(__x86_64__)
#define EK_DISPATCH(name, ...)                         \
  switch (ek_simd_level()) {                           \
  case 3: name##_avx512(__VA_ARGS__); return;          \
  case 2: name##_avx2(__VA_ARGS__); return;            \
  default: name##_base(__VA_ARGS__); return;           \
  }
#else
#define EK_DISPATCH(name, ...) name##_base(__VA_ARGS__);
#endif

void ek_gemm(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
             const float *bias, float *c, size_t ldc) {
  EK_DISPATCH(gemm, m, n, k, a, lda, b, ldb, bias, c, ldc)
}

void ek_activate(int kind, float *z, float *deriv, size_t n) { EK_DISPATCH(activate, kind, z, deriv, n) }

void ek_gemv_rows(size_t m, size_t k, const float *a, size_t lda, const float *w, float bias, float *out) {
  EK_DISPATCH(gemv_rows, m, k, a, lda, w, bias, out)
}

void ek_mul(float *x, const float *y, size_t n) { EK_DISPATCH(mul, x, y, n) }

void ek_exp(const float *x, float *out, size_t n) { EK_DISPATCH(exp, x, out, n) }
