// operator new/delete over malloc/free for the FlatBuffers C++ shim in ember-micro, so that
// the static binaries need no libstdc++ (the shim is built without exceptions and RTTI; it
// calls only these and memcmp/strncmp). A failed non-nothrow allocation aborts.
#include <new>
#include <stdlib.h>

namespace std {
const nothrow_t nothrow{};
}

void *operator new(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}
void *operator new[](size_t n) { return operator new(n); }
void *operator new(size_t n, const std::nothrow_t &) noexcept { return malloc(n ? n : 1); }
void *operator new[](size_t n, const std::nothrow_t &) noexcept { return malloc(n ? n : 1); }
void operator delete(void *p) noexcept { free(p); }
void operator delete[](void *p) noexcept { free(p); }
void operator delete(void *p, size_t) noexcept { free(p); }
void operator delete[](void *p, size_t) noexcept { free(p); }
