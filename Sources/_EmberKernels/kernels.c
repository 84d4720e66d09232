// SIMD-level dispatch for the kernels in kernels_impl.h.
#include "ember_kernels.h"

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

#if defined(__x86_64__)
#include <cpuid.h>
#endif

static int ek_level = 0;

// The CPU's and the operating system's support, from two CPUID leaves and XCR0 (the
// compiler's __builtin_cpu_supports runs a start-up constructor that reads many more leaves,
// each a trap to the hypervisor in a VM: a measurable part of a 1 ms cold start).
static int detect(void) {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 1;
  int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx) return 1;
  unsigned xcr0, xcr0_high;
  __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0_high) : "c"(0));
  (void)xcr0_high;
  if ((xcr0 & 0x6) != 0x6) return 1;  // the OS saves XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 1;
  int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512vl = (b >> 31) & 1;
  // …and opmask, upper ZMM and ZMM16–31 state for AVX-512.
  if (avx512f && avx512vl && avx2 && fma && (xcr0 & 0xE6) == 0xE6) return 3;
  if (avx2 && fma) return 2;
#endif
  return 1;
}

int ek_simd_level(void) {
  int level = __atomic_load_n(&ek_level, __ATOMIC_RELAXED);
  if (level == 0) {
    level = detect();
    __atomic_store_n(&ek_level, level, __ATOMIC_RELAXED);
  }
  return level;
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
