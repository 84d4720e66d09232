// Checks tools/micro/malloc.c (build.sh links it with this file, statically with musl, and runs
// it): four threads allocate, fill, check, reallocate and free random blocks — small, large,
// zeroed and over-aligned — and every byte must read back as written, every alignment and
// usable size hold, every calloc'd block start zeroed. Prints "ok" or aborts.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <malloc.h>
#include <pthread.h>
static void *worker(void *arg) {
  uint64_t s = (uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
  void *live[256] = {0}; size_t sz[256] = {0};
  for (int it = 0; it < 60000; it++) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    int k = s % 256;
    if (live[k]) {
      unsigned char *p = live[k];
      for (size_t i = 0; i < sz[k]; i += 97) if (p[i] != (unsigned char)(k + i)) { printf("corrupt\n"); abort(); }
      if ((s >> 20) % 3 == 0) { size_t n = (s >> 24) % 5000; p = realloc(p, n); size_t m = n < sz[k] ? n : sz[k]; for (size_t i = 0; i < m; i += 97) if (p[i] != (unsigned char)(k + i)) { printf("realloc corrupt\n"); abort(); } live[k] = p; sz[k] = m; for (size_t i = 0; i < m; i++) p[i] = (unsigned char)(k + i); }
      else { free(p); live[k] = NULL; }
    } else {
      size_t n = (s >> 8) % ((s >> 40) % 50 == 0 ? 600000 : 3000);
      size_t align = (s >> 30) % 4 == 0 ? ((size_t)16 << ((s >> 33) % 6)) : 0;
      unsigned char *p;
      if (align) { if (posix_memalign((void **)&p, align, n)) abort(); if ((uintptr_t)p % align) { printf("misaligned\n"); abort(); } }
      else if ((s >> 34) % 4 == 0) { p = calloc(1, n); for (size_t i = 0; i < n; i++) if (p[i]) { printf("calloc not zero\n"); abort(); } }
      else p = malloc(n);
      if (malloc_usable_size(p) < n) { printf("usable\n"); abort(); }
      for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(k + i);
      live[k] = p; sz[k] = n;
    }
  }
  for (int k = 0; k < 256; k++) free(live[k]);
  return NULL;
}
int main(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)(i + 1));
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  printf("ok\n");
  return 0;
}
