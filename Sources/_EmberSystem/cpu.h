// CPU features of _EmberSystem's C code (cpu.c), internal to the module.
#ifndef EMBER_SYSTEM_CPU_H
#define EMBER_SYSTEM_CPU_H

#if defined(__x86_64__) && !defined(EMBER_NO_AVX512)
#define EMBER_SYSTEM_AVX512 1
/// Whether the CPU has AVX-512 F, BW and VL and the OS saves their state (CPUID leaves 1 and 7,
/// XCR0), read once.
int ember_sys_avx512bw(void);
#endif

#endif
