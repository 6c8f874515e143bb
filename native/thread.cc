#include "thread.h"

#include <atomic>
#include <thread>
#include <utility>

#include "os_thread.h"

namespace bgthread {

namespace {

// Trivially destructible, so process.exit() (which skips nothing here) cannot race a destructor.
std::atomic<uint64_t> last_ident{0};

// How long a waiter looks for a new thread to report in before it sleeps on the condvar.
constexpr uint64_t kStartSpinNs = 200 * 1000;

void ThreadMain(void* arg) {
  // Take over the reference the creator left in the record: no allocation, and no free, on this
  // thread. A thread that never calls malloc or free gets no malloc tcache (~0.6 KiB each).
  std::shared_ptr<ThreadRecord> self = std::move(static_cast<ThreadRecord*>(arg)->self);
  EnvShared& env = *self->env;

  // Outside the lock: naming and gettid are syscalls, and the creator holds the mutex.
  const int64_t native_id = NameCurrentThread(self->name);

  uv_mutex_lock(&env.mutex);
  self->native_id = native_id;
  self->run_event->native_id = native_id;
  self->state = ThreadState::kRunning;
  PostEvent(env, self->run_event);
  uv_cond_broadcast(&self->changed);  // start() or nativeId() returns

  while (self->state == ThreadState::kRunning && !env.gone) {
    uv_cond_wait(&self->changed, &env.mutex);
  }

  self->state = ThreadState::kFinished;
  uv_cond_broadcast(&self->changed);  // joinSync() waiters
  if (self->reaper_waiting) {
    // The loop is waiting to join this thread right now (Addon::Settled): no kEnded needed.
  } else if (!PostEvent(env, self->ended_event)) {
    DetachOnce(*self);  // the env is gone: nobody will join this thread
  }
  uv_mutex_unlock(&env.mutex);
  // `self` (and with it maybe the env's shared state) is released here, outside the lock.
}

}  // namespace

void DetachOnce(ThreadRecord& record) {
  if (record.detached) return;
  DetachThread(&record.tid);
  record.detached = true;
}

bool PostEvent(EnvShared& env, std::unique_ptr<Event>& event) {
  if (env.gone) return false;
  napi_status status = env.events.NonBlockingCall(event.get());
  if (status != napi_ok) {
    // napi_closing: the TSFN is being torn down; make no further use of it.
    env.gone = true;
    return false;
  }
  event.release();  // the TSFN owns it now; CallJs frees it
  return true;
}

ThreadRecord::ThreadRecord(std::shared_ptr<EnvShared> env_, uint64_t ident_, std::string name_,
                           size_t stack_size_)
    : env(std::move(env_)),
      ident(ident_),
      name(std::move(name_)),
      stack_size(stack_size_),
      run_event(new Event{EventKind::kRun, ident_, 0}),
      ended_event(new Event{EventKind::kEnded, ident_, 0}) {
  uv_cond_init(&changed);
}

ThreadRecord::~ThreadRecord() { uv_cond_destroy(&changed); }

uint64_t NextIdent() { return last_ident.fetch_add(1, std::memory_order_relaxed) + 1; }

int StartThread(const std::shared_ptr<ThreadRecord>& record, bool wait) {
  record->self = record;  // the new thread's reference, moved out by ThreadMain
  uv_thread_options_t options;
  options.flags = UV_THREAD_HAS_STACK_SIZE;
  options.stack_size = record->stack_size;

  EnvShared& env = *record->env;
  uv_mutex_lock(&env.mutex);  // held while creating, so the thread sees `tid` written
  const int err = uv_thread_create_ex(&record->tid, &options, ThreadMain, record.get());
  uv_mutex_unlock(&env.mutex);
  if (err != 0) {
    record->self.reset();
    return err;
  }
  if (wait) WaitUntilRunning(*record);
  return 0;
}

void WaitUntilRunning(ThreadRecord& record) {
  if (SpinUntil(record, ThreadState::kRunning, kStartSpinNs)) return;
  EnvShared& env = *record.env;
  uv_mutex_lock(&env.mutex);
  while (record.state == ThreadState::kStarting) uv_cond_wait(&record.changed, &env.mutex);
  uv_mutex_unlock(&env.mutex);
}

bool SpinUntil(const ThreadRecord& record, ThreadState state, uint64_t budget_ns) {
  const uint64_t deadline = uv_hrtime() + budget_ns;
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (record.state.load(std::memory_order_acquire) >= state) return true;
      std::this_thread::yield();  // on one core, this is what lets the other thread run
    }
    if (uv_hrtime() >= deadline) return false;
  }
}

}  // namespace bgthread
