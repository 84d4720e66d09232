// CPU features for the text loops' wide paths: see cpu.h.
#include "cpu.h"

#if defined(EMBER_SYSTEM_AVX512)
#include <cpuid.h>

int ember_sys_avx512bw(void) {
  static int known = -1;
  int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (k >= 0) return k;
  unsigned a, b, c, d, x0 = 0, x1 = 0;
  k = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) && ((c >> 27) & 1)) {
    __asm__ volatile("xgetbv" : "=a"(x0), "=d"(x1) : "c"(0));
    if ((x0 & 0xE6) == 0xE6 && __get_cpuid_count(7, 0, &a, &b, &c, &d))
      k = ((b >> 16) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);
  }
  __atomic_store_n(&known, k, __ATOMIC_RELAXED);
  return k;
}
#endif
