// CPU features: see include/ember_system.h.
#include "ember_system.h"

#if defined(__x86_64__)
#include <cpuid.h>

static int read_features(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  int features = ((c >> 1) & 1) && ((c >> 19) & 1) ? EMBER_CPU_CLMUL : 0;
  int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx) return features;
  unsigned xcr0, xcr0_high;
  __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0_high) : "c"(0));
  (void)xcr0_high;
  if ((xcr0 & 0x6) != 0x6) return features;  // the OS saves XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return features;
  int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
  if (avx2 && fma) features |= EMBER_CPU_AVX2_FMA;
  // …and opmask, upper ZMM and ZMM16–31 state for AVX-512.
  if (avx512f && avx512vl && (xcr0 & 0xE6) == 0xE6) {
    features |= EMBER_CPU_AVX512;
    if (avx512bw) features |= EMBER_CPU_AVX512BW;
  }
  return features;
}
#else
static int read_features(void) { return 0; }
#endif

int ember_sys_cpu_features(void) {
  static int known = -1;
  int f = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (f < 0) {
    f = read_features();
    __atomic_store_n(&known, f, __ATOMIC_RELAXED);
  }
  return f;
}
