// The allocator of the static x86_64 ember-micro (musl): it replaces musl's malloc family,
// whose allocator maps and unmaps pages for short-lived blocks of a few kilobytes — at start-up
// that was a fifth of a one-row `score` (docs/DEPLOYMENT.md, issue 12).
//
// Blocks up to 256 KiB come from size classes (four per power of two, 16 bytes to 256 KiB),
// carved from 1 MiB regions and kept on per-class free lists for reuse: memory stays bounded by
// the largest live set. Larger blocks are their own mappings. Every block is preceded by a
// 16-byte header (its class, or its mapping's length, and its offset from the block's start
// for aligned requests). One lock: the CLI allocates outside its per-row loops.
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define HEADER 16u
#define LARGE_CLASS 0xFFFFFFFFu
#define REGION (1u << 20)
#define MAX_SMALL (256u << 10)
#define CLASSES 64

typedef struct {
  uint32_t cls;     // size class, or LARGE_CLASS
  uint32_t offset;  // bytes from the block's start to this header
  size_t length;    // a large block's mapping length
} header;

typedef struct free_block { struct free_block *next; } free_block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static free_block *free_lists[CLASSES];
static uint8_t *region_next, *region_end;

// Class c's block size: 16, 32, 48, 64, then four steps per power of two (80, 96, 112, 128,
// 160, …), up to 256 KiB (class 63).
static size_t class_size(unsigned c) {
  if (c < 4) return 16u * (c + 1);
  unsigned group = (c - 4) / 4, step = (c - 4) % 4;
  size_t base = (size_t)64 << group;
  return base + (base / 4) * (step + 1);
}

static unsigned class_of(size_t n) {
  if (n <= 64) return n == 0 ? 0 : (unsigned)((n - 1) / 16);
  // 2^top ≤ n − 1 < 2^(top+1): group top − 6, step the quarter of 2^top that n − 1 falls in.
  size_t m = n - 1;
  unsigned top = 63u - (unsigned)__builtin_clzll((unsigned long long)m);
  unsigned step = (unsigned)((m - ((size_t)1 << top)) >> (top - 2));
  return 4 + (top - 6) * 4 + step;
}

static void *map(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

// A block of at least n bytes (header included); its start, 16-byte aligned; *cls its class;
// *fresh whether its bytes were never handed out (then zero: new mappings are).
static uint8_t *block(size_t n, uint32_t *cls, size_t *length, int *fresh) {
  *fresh = 1;
  if (n <= MAX_SMALL) {
    unsigned c = class_of(n);
    size_t size = class_size(c);
    *cls = c;
    pthread_mutex_lock(&lock);
    free_block *b = free_lists[c];
    if (b) {
      *fresh = 0;
      free_lists[c] = b->next;
      pthread_mutex_unlock(&lock);
      return (uint8_t *)b;
    }
    if ((size_t)(region_end - region_next) < size) {
      uint8_t *r = map(REGION);
      if (!r) {
        pthread_mutex_unlock(&lock);
        return NULL;
      }
      region_next = r;
      region_end = r + REGION;
    }
    uint8_t *p = region_next;
    region_next += size;
    pthread_mutex_unlock(&lock);
    return p;
  }
  size_t pages = (n + 4095) & ~(size_t)4095;
  if (pages < n) return NULL;
  *cls = LARGE_CLASS;
  *length = pages;
  return map(pages);
}

// An allocation of n bytes aligned to `align` (a power of two ≥ 16); *fresh as for block().
static void *allocate_block(size_t n, size_t align, int *fresh) {
  size_t extra = align > HEADER ? align : 0;
  size_t total = n + HEADER + extra;
  if (total < n) {
    errno = ENOMEM;
    return NULL;
  }
  uint32_t cls;
  size_t length = 0;
  uint8_t *b = block(total, &cls, &length, fresh);
  if (!b) {
    errno = ENOMEM;
    return NULL;
  }
  uintptr_t user = ((uintptr_t)b + HEADER + align - 1) & ~(uintptr_t)(align - 1);
  header *h = (header *)(user - HEADER);
  h->cls = cls;
  h->offset = (uint32_t)((uint8_t *)h - b);
  h->length = length;
  return (void *)user;
}

static void *allocate(size_t n, size_t align) {
  int fresh;
  return allocate_block(n, align, &fresh);
}

static header *header_of(void *p) { return (header *)((uint8_t *)p - HEADER); }

// Usable bytes of the allocation at p.
static size_t usable(void *p) {
  header *h = header_of(p);
  size_t size = h->cls == LARGE_CLASS ? h->length : class_size(h->cls);
  return size - h->offset - HEADER;
}

void *malloc(size_t n) { return allocate(n, 16); }

void free(void *p) {
  if (!p) return;
  header *h = header_of(p);
  uint8_t *b = (uint8_t *)h - h->offset;
  if (h->cls == LARGE_CLASS) {
    munmap(b, h->length);
    return;
  }
  free_block *f = (free_block *)b;
  pthread_mutex_lock(&lock);
  f->next = free_lists[h->cls];
  free_lists[h->cls] = f;
  pthread_mutex_unlock(&lock);
}

void *calloc(size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  int fresh;
  void *p = allocate_block(n, 16, &fresh);
  // Never-used memory is zero already, and stays out of memory until written (the runtime's
  // scratch relies on that); only a reused block is cleared.
  if (p && !fresh) memset(p, 0, n);
  return p;
}

void *realloc(void *p, size_t n) {
  if (!p) return malloc(n);
  if (n == 0) {
    free(p);
    return malloc(0);
  }
  size_t have = usable(p);
  if (n <= have && (header_of(p)->cls == LARGE_CLASS || n > have / 2)) return p;
  void *q = malloc(n);
  if (!q) return NULL;
  memcpy(q, p, n < have ? n : have);
  free(p);
  return q;
}

void *aligned_alloc(size_t align, size_t n) {
  if (align == 0 || (align & (align - 1)) != 0) {
    errno = EINVAL;
    return NULL;
  }
  return allocate(n, align < 16 ? 16 : align);
}

int posix_memalign(void **out, size_t align, size_t n) {
  if (align < sizeof(void *) || (align & (align - 1)) != 0) return EINVAL;
  void *p = allocate(n, align < 16 ? 16 : align);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void *memalign(size_t align, size_t n) { return aligned_alloc(align, n); }

size_t malloc_usable_size(void *p) { return p ? usable(p) : 0; }
