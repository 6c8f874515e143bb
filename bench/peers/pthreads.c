/* Raw pthreads peer for bench/run.mjs, compiled at bench time with `cc -O2 -pthread`.
 * One measurement per process, one line of JSON on stdout:
 *   pthreads latency N WARMUP            -> {"samples":[us,...],"startCall":[us,...]}
 *   pthreads throughput N INFLIGHT WARMUP -> {"n","inFlight","seconds","perSecond"}
 *   pthreads rss ALIVE STACK WARMUP      -> {"alive","stack","before","after","perThreadKiB","tasks"}
 *   pthreads cpu MS [TASKS]              -> {"ms","tasks","iterations","serialMs","parallelMs","speedup","serial","parallel"}
 *     spin(iterations) (the xorshift32 loop of module-work.mjs), calibrated here to ~MS, TASKS
 *     (default 2) times in a row on the main thread, then in TASKS pthreads at once: the
 *     machine's own parallelism.
 * STACK 0 = the default (glibc: RLIMIT_STACK, usually 8 MiB), else pthread_attr_setstacksize.
 * Times with clock_gettime(CLOCK_MONOTONIC); RSS from /proc/self/status (VmRSS).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err) {
  fprintf(stderr, "%s: %s\n", what, strerror(err));
  exit(1);
}

static long vm_rss(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) { kib = strtol(line + 6, NULL, 10); break; }
  }
  if (f) fclose(f);
  return kib * 1024;
}

static int task_count(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) if (e->d_name[0] != '.') n++;
  if (d) closedir(d);
  return n;
}

/* ---- start -> first line ---- */
static void *stamp(void *slot) {
  *(uint64_t *)slot = now_ns();  /* the thread's first statement */
  return NULL;
}

static void latency(int n, int print) {
  uint64_t *samples = malloc(sizeof(uint64_t) * (n ? n : 1));
  uint64_t *start_call = malloc(sizeof(uint64_t) * (n ? n : 1));
  for (int i = 0; i < n; i++) {
    pthread_t th;
    uint64_t reached = 0;
    uint64_t t0 = now_ns();
    int err = pthread_create(&th, NULL, stamp, &reached);
    if (err) die("pthread_create", err);
    start_call[i] = now_ns() - t0;
    pthread_join(th, NULL);  /* join makes `reached` visible */
    samples[i] = reached - t0;
  }
  if (print) {
    printf("{\"samples\":[");
    for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", samples[i] / 1000.0);
    printf("],\"startCall\":[");
    for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", start_call[i] / 1000.0);
    printf("]}\n");
  }
  free(samples);
  free(start_call);
}

/* ---- start + join throughput: a window of INFLIGHT threads, join the oldest, start a new one ---- */
static void *noop(void *arg) { return arg; }

static double throughput(int n, int in_flight) {
  pthread_t *ring = calloc(in_flight, sizeof(pthread_t));
  uint64_t t0 = now_ns();
  for (int i = 0; i < n; i++) {
    if (i >= in_flight) pthread_join(ring[i % in_flight], NULL);
    int err = pthread_create(&ring[i % in_flight], NULL, noop, NULL);
    if (err) die("pthread_create", err);
  }
  for (int i = n > in_flight ? n - in_flight : 0; i < n; i++) pthread_join(ring[i % in_flight], NULL);
  double seconds = (now_ns() - t0) / 1e9;
  free(ring);
  return seconds;
}

/* ---- RSS per live thread: threads blocked on a condition variable ---- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t all_in = PTHREAD_COND_INITIALIZER;
static int released = 0, waiting = 0;

static void *wait_gate(void *arg) {
  pthread_mutex_lock(&mu);
  waiting++;
  pthread_cond_signal(&all_in);
  while (!released) pthread_cond_wait(&cv, &mu);
  waiting--;
  pthread_mutex_unlock(&mu);
  return arg;
}

static void start_waiting(pthread_t *ths, int count, pthread_attr_t *attr) {
  released = 0;
  for (int i = 0; i < count; i++) {
    int err = pthread_create(&ths[i], attr, wait_gate, NULL);
    if (err) die("pthread_create", err);
  }
  pthread_mutex_lock(&mu);
  while (waiting < count) pthread_cond_wait(&all_in, &mu);
  pthread_mutex_unlock(&mu);
}

static void release_all(pthread_t *ths, int count) {
  pthread_mutex_lock(&mu);
  released = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < count; i++) pthread_join(ths[i], NULL);
}

static void rss(int alive, long stack, int warmup) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack) {
    int err = pthread_attr_setstacksize(&attr, (size_t)stack);
    if (err) die("pthread_attr_setstacksize", err);
  }
  pthread_t *ths = calloc(alive > warmup ? alive : warmup, sizeof(pthread_t));
  start_waiting(ths, warmup, &attr);
  release_all(ths, warmup);
  usleep(20000);  /* joined threads may linger in /proc for a moment */
  int tasks_before = task_count();
  long before = vm_rss();
  start_waiting(ths, alive, &attr);
  usleep(50000);
  long after = vm_rss();
  int live = task_count() - tasks_before;
  release_all(ths, alive);
  printf("{\"alive\":%d,\"stack\":%ld,\"before\":%ld,\"after\":%ld,\"tasks\":%d,\"perThreadKiB\":%.1f}\n",
         alive, stack, before, after, live, (after - before) / (double)alive / 1024.0);
  free(ths);
  pthread_attr_destroy(&attr);
}

/* ---- CPU-bound work: serial on the main thread, then two threads at once ---- */
static uint32_t spin(uint64_t iterations) {
  uint32_t x = 2463534242u;
  for (uint64_t i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
  }
  return x;
}

#define MAX_TASKS 64
struct work { uint64_t iterations, began, ended; uint32_t result; };

static void *work_run(void *arg) {
  struct work *w = arg;
  w->began = now_ns();
  w->result = spin(w->iterations);
  w->ended = now_ns();
  return NULL;
}

static double timed_spin(uint64_t n, uint32_t *sink) {
  uint64_t t0 = now_ns();
  *sink ^= spin(n);
  return (now_ns() - t0) / 1e6;
}

/* `tasks` runs of `iterations`; serial: in a row on this thread; else a thread each. Returns wall ms. */
static double all_runs(uint64_t iterations, int tasks, int parallel, struct work *w) {
  pthread_t th[MAX_TASKS];
  for (int i = 0; i < tasks; i++) w[i].iterations = iterations;
  uint64_t t0 = now_ns();
  for (int i = 0; i < tasks; i++) {
    if (!parallel) { work_run(&w[i]); continue; }
    int err = pthread_create(&th[i], NULL, work_run, &w[i]);
    if (err) die("pthread_create", err);
  }
  if (parallel) for (int i = 0; i < tasks; i++) pthread_join(th[i], NULL);
  double ms = (now_ns() - t0) / 1e6;
  for (int i = 0; i < tasks; i++) { w[i].began -= t0; w[i].ended -= t0; }
  return ms;
}

static void print_runs(const char *key, int tasks, struct work *w) {
  printf(",\"%s\":[", key);
  for (int i = 0; i < tasks; i++) {
    printf("%s{\"beganMs\":%.3f,\"workMs\":%.3f}", i ? "," : "", w[i].began / 1e6, (w[i].ended - w[i].began) / 1e6);
  }
  printf("]");
}

static void cpu(double ms, int tasks) {
  if (tasks < 1 || tasks > MAX_TASKS) { fprintf(stderr, "cpu: TASKS must be 1..%d\n", MAX_TASKS); exit(2); }
  uint32_t sink = 0;
  uint64_t n = 1u << 20;
  while (timed_spin(n, &sink) < 30 && n < (1ull << 40)) n *= 2;
  double best = timed_spin(n, &sink);
  for (int i = 0; i < 2; i++) { double t = timed_spin(n, &sink); if (t < best) best = t; }
  uint64_t iterations = (uint64_t)(n * ms / best + 0.5);
  struct work ws[MAX_TASKS], wp[MAX_TASKS];
  all_runs(iterations / 100 + 1, tasks, 0, ws);  /* warm-up: both paths once, with 1% of the work */
  all_runs(iterations / 100 + 1, tasks, 1, wp);
  double serial = all_runs(iterations, tasks, 0, ws);
  double parallel = all_runs(iterations, tasks, 1, wp);
  printf("{\"ms\":%g,\"tasks\":%d,\"iterations\":%llu,\"serialMs\":%.3f,\"parallelMs\":%.3f,\"speedup\":%.4f",
         ms, tasks, (unsigned long long)iterations, serial, parallel, serial / parallel);
  print_runs("serial", tasks, ws);
  print_runs("parallel", tasks, wp);
  for (int i = 0; i < tasks; i++) sink ^= ws[i].result ^ wp[i].result;
  printf(",\"sink\":%u}\n", sink);
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "latency") == 0) {
    latency(atoi(argv[3]), 0);
    latency(atoi(argv[2]), 1);
  } else if (argc >= 5 && strcmp(argv[1], "throughput") == 0) {
    int n = atoi(argv[2]), in_flight = atoi(argv[3]);
    throughput(atoi(argv[4]), in_flight);
    double seconds = throughput(n, in_flight);
    printf("{\"n\":%d,\"inFlight\":%d,\"seconds\":%.6f,\"perSecond\":%.1f}\n", n, in_flight, seconds, n / seconds);
  } else if (argc >= 5 && strcmp(argv[1], "rss") == 0) {
    rss(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
  } else if (argc >= 3 && strcmp(argv[1], "cpu") == 0) {
    cpu(atof(argv[2]), argc >= 4 ? atoi(argv[3]) : 2);
  } else {
    fprintf(stderr, "usage: %s latency N WARMUP | throughput N INFLIGHT WARMUP | rss ALIVE STACK WARMUP | cpu MS [TASKS]\n", argv[0]);
    return 2;
  }
  return 0;
}
