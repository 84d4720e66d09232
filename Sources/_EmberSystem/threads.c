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
// current job, then reports. The caller runs worker 0's share itself.
#define MAX_POOL 255
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;   // serialises callers
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;
static size_t started;          // pool threads running (worker ids 1...started)
static unsigned long generation;
static size_t job_count, job_workers, pending;
static void *job_context;
static void (*job_body)(void *, size_t);

static void run_share(size_t w) {
  for (size_t i = w; i < job_count; i += job_workers) job_body(job_context, i);
}

static void *worker_main(void *arg) {
  size_t id = (size_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&state_lock);
  for (;;) {
    while (generation == seen) pthread_cond_wait(&work_ready, &state_lock);
    seen = generation;
    if (id >= job_workers) continue;
    pthread_mutex_unlock(&state_lock);
    run_share(id);
    pthread_mutex_lock(&state_lock);
    if (--pending == 0) pthread_cond_signal(&work_done);
  }
  return NULL;
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
  while (started < workers - 1) {
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
  if (workers - 1 > started) workers = started + 1;  // fewer threads than asked: still correct
  job_count = count;
  job_workers = workers;
  job_context = context;
  job_body = body;
  pending = workers - 1;
  generation++;
  pthread_cond_broadcast(&work_ready);
  pthread_mutex_unlock(&state_lock);
  run_share(0);
  pthread_mutex_lock(&state_lock);
  while (pending > 0) pthread_cond_wait(&work_done, &state_lock);
  pthread_mutex_unlock(&state_lock);
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
