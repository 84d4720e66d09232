// A small persistent thread pool for Ember's Swift code: see include/ember_system.h.
#define _GNU_SOURCE
#include "ember_system.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ember_sys_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

// One job at a time: `generation` counts jobs; a worker w < workers runs its share of the
// current job (or claims items of a claimed job), then reports. The caller is worker 0.
#define MAX_POOL 255
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;   // serialises callers
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;
static size_t started;          // pool threads running (ids 1...started)
static unsigned long generation;
static size_t job_count, job_workers, pending;
static void *job_context;
static void (*job_body)(void *, size_t);

// A claimed job (job_body NULL): every participant takes the next unclaimed item until none
// is left; body(context, i, worker) is told which participant runs it.
static size_t claim_next;
static void (*claim_body)(void *, size_t, size_t);

static void claim(size_t worker) {
  for (;;) {
    size_t i = __atomic_fetch_add(&claim_next, 1, __ATOMIC_RELAXED);
    if (i >= job_count) return;
    claim_body(job_context, i, worker);
  }
}

static void run_share(size_t w) {
  if (!job_body) {
    claim(w);
    return;
  }
  for (size_t i = w; i < job_count; i += job_workers) job_body(job_context, i);
}

// Waiting threads first poll for a while (about 0.1 ms) before they sleep: jobs often come
// back to back (batch after batch), and waking a sleeping thread costs more than that.
#define SPIN_POLLS 4000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
  __asm__ __volatile__("yield");
#endif
}

static void *worker_main(void *arg) {
  size_t id = (size_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&state_lock);
  for (;;) {
    if (generation == seen) {
      pthread_mutex_unlock(&state_lock);
      for (int k = 0; k < SPIN_POLLS && __atomic_load_n(&generation, __ATOMIC_ACQUIRE) == seen; k++) cpu_relax();
      pthread_mutex_lock(&state_lock);
    }
    while (generation == seen) pthread_cond_wait(&work_ready, &state_lock);
    seen = generation;
    if (id >= job_workers) continue;
    pthread_mutex_unlock(&state_lock);
    run_share(id);
    pthread_mutex_lock(&state_lock);
    size_t left = pending - 1;
    __atomic_store_n(&pending, left, __ATOMIC_RELEASE);
    if (left == 0) pthread_cond_signal(&work_done);
  }
  return NULL;
}

// Starts `pool` pool threads (ids 1...pool) if fewer run; returns how many run. Holds state_lock.
static size_t start_pool(size_t pool) {
  while (started < pool) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1 << 20);
    int failed = pthread_create(&t, &attr, worker_main, (void *)(started + 1));
    pthread_attr_destroy(&attr);
    if (failed) break;
    started++;
  }
  return started < pool ? started : pool;
}

// Posts a job to the pool (state_lock held on entry, released on return).
static void post(size_t count, size_t workers, void *context, void (*body)(void *, size_t)) {
  job_count = count;
  job_workers = workers;
  job_context = context;
  job_body = body;
  __atomic_store_n(&pending, workers - 1, __ATOMIC_RELAXED);
  __atomic_store_n(&generation, generation + 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&work_ready);
  pthread_mutex_unlock(&state_lock);
}

static void wait_done(void) {
  for (int k = 0; k < SPIN_POLLS && __atomic_load_n(&pending, __ATOMIC_ACQUIRE) > 0; k++) cpu_relax();
  pthread_mutex_lock(&state_lock);
  while (pending > 0) pthread_cond_wait(&work_done, &state_lock);
  pthread_mutex_unlock(&state_lock);
}

void ember_sys_parallel_for(size_t count, size_t threads, void *context, void (*body)(void *, size_t)) {
  size_t workers = threads < count ? threads : count;
  if (workers > MAX_POOL + 1) workers = MAX_POOL + 1;
  if (workers <= 1) {
    for (size_t i = 0; i < count; i++) body(context, i);
    return;
  }
  if (pthread_mutex_trylock(&pool_lock) != 0) {
    // The pool is busy (another caller, or a nested call from a body): run inline. Results
    // never depend on the thread count, only the time does.
    for (size_t i = 0; i < count; i++) body(context, i);
    return;
  }
  pthread_mutex_lock(&state_lock);
  workers = start_pool(workers - 1) + 1;  // fewer threads than asked: still correct
  post(count, workers, context, body);
  run_share(0);
  wait_done();
  pthread_mutex_unlock(&pool_lock);
}

void ember_sys_parallel_claim(size_t count, size_t threads, void *context, void (*body)(void *, size_t, size_t),
                              void *side_context, void (*side)(void *)) {
  size_t workers = threads < count ? threads : count;
  if (workers > MAX_POOL + 1) workers = MAX_POOL + 1;
  if (workers <= 1 || pthread_mutex_trylock(&pool_lock) != 0) {
    if (side) side(side_context);
    for (size_t i = 0; i < count; i++) body(context, i, 0);
    return;
  }
  pthread_mutex_lock(&state_lock);
  workers = start_pool(workers - 1) + 1;
  claim_body = body;
  __atomic_store_n(&claim_next, 0, __ATOMIC_RELAXED);
  post(count, workers, context, NULL);
  if (side) side(side_context);
  claim(0);
  wait_done();
  pthread_mutex_unlock(&pool_lock);
}

struct ember_sys_mutex { pthread_mutex_t m; };

ember_sys_mutex *ember_sys_mutex_new(void) {
  ember_sys_mutex *m = malloc(sizeof *m);
  if (!m) abort();
  pthread_mutex_init(&m->m, NULL);
  return m;
}

void ember_sys_mutex_free(ember_sys_mutex *m) {
  pthread_mutex_destroy(&m->m);
  free(m);
}

void ember_sys_mutex_lock(ember_sys_mutex *m) { pthread_mutex_lock(&m->m); }
void ember_sys_mutex_unlock(ember_sys_mutex *m) { pthread_mutex_unlock(&m->m); }

char *ember_sys_strdup(const char *text) { return strdup(text); }

void ember_sys_free(void *pointer) { free(pointer); }

void *ember_sys_zeroed(size_t bytes, size_t alignment, void **allocation) {
  // calloc: large blocks come fresh from the kernel, zero without being touched, so pages
  // only enter memory when they are first written (scratch that a run never uses costs nothing).
  char *raw = calloc(1, bytes + alignment);
  if (!raw) abort();
  *allocation = raw;
  uintptr_t p = ((uintptr_t)raw + alignment - 1) / alignment * alignment;
  return (void *)p;
}

// A pthread key with free() as destructor: the message goes away with its thread.
static pthread_key_t message_key;
static pthread_once_t message_once = PTHREAD_ONCE_INIT;

static void make_message_key(void) { pthread_key_create(&message_key, free); }

int ember_sys_set_thread_message(const char *message) {
  pthread_once(&message_once, make_message_key);
  free(pthread_getspecific(message_key));
  pthread_setspecific(message_key, NULL);
  if (!message) return 0;
  char *copy = strdup(message);
  if (!copy) return -1;
  pthread_setspecific(message_key, copy);
  return 0;
}

const char *ember_sys_thread_message(void) {
  pthread_once(&message_once, make_message_key);
  return pthread_getspecific(message_key);
}
