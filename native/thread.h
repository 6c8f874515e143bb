// One OS thread's life, and what it shares with the event loop (env) that started it.
#pragma once

#include <napi.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace bgthread {

// What a thread tells its event loop. Allocated by the loop when the thread is created, handed
// to the thread-safe function by the thread, freed by CallJs (with or without an env).
enum class EventKind : uint32_t { kRun = 0, kEnded = 1 };
struct Event {
  EventKind kind;
  uint64_t ident;
  int64_t native_id;  // kRun: the thread's kernel id
};

class Addon;
void CallJs(Napi::Env env, Napi::Function unused, Addon* addon, Event* event);
using EventQueue = Napi::TypedThreadSafeFunction<Addon, Event, CallJs>;

// What an env shares with its OS threads. A thread can outlive its env (a Worker terminated
// under it), so this is reference-counted. `mutex` guards `gone`, every ThreadRecord::state and
// every thread-side use of `events`: the env's cleanup hook and the TSFN finalizer set `gone`
// under it, so no thread touches a TSFN that teardown freed (nodejs/node#55706).
struct EnvShared {
  EnvShared() { uv_mutex_init(&mutex); }
  ~EnvShared() { uv_mutex_destroy(&mutex); }
  EnvShared(const EnvShared&) = delete;
  EnvShared& operator=(const EnvShared&) = delete;

  uv_mutex_t mutex;
  bool gone = false;
  EventQueue events;  // unbounded queue: a call never blocks, so holding `mutex` across it is safe
};

// A thread's state. This table is the one description of its transitions; each is made under
// env->mutex and broadcast on ThreadRecord::changed.
//
//   transition            made by (where)                  posted / done
//   -> kStarting          Addon::Start (loop)              uv_thread_create_ex, mutex held
//   kStarting -> kRunning ThreadMain (the OS thread)       kRun: the loop runs the target
//   kRunning -> kSettled  Addon::Settled (loop)            the thread is woken to end
//   kRunning -> kFinished ThreadMain, once env gone        nothing: no loop to run the target
//   kSettled -> kFinished ThreadMain                       kEnded, but not while the loop waits
//                                                          for it (reaper_waiting), and not
//                                                          to a gone env (the thread detaches)
//   kFinished -> reaped   Addon::Reap (loop)               uv_thread_join (unless detached),
//                                                          out of the registry, JS told, joins
//                                                          resolved
// A module target's thread (module_thread.h) runs in an isolate, a Worker's OS thread (Node's):
//   -> kRunning           AdoptModuleThread (creator)      the record becomes findable
//   kRunning -> kFinished FinishModuleThread (any env)     kEnded: from the isolate as the export
//                                                          settled, its teardown after a clean
//                                                          exit, or the creator on its 'exit'
//   kRunning -> kFinished DropModuleThread (creator)       nothing: no isolate ever ran it
//
// Two fast paths when the thread is its loop's only one (the rest of the time, neither waits, so
// that creations overlap and the loop does other threads' work meanwhile):
//   - Addon::Start waits (SpinUntil, then `changed`) for kRunning, so that kRun is queued before
//     the loop next polls: dispatching it then wakes nothing.
//   - Addon::Settled spins briefly (adaptive budget) for kFinished and reaps there and then; the
//     thread, seeing reaper_waiting, posts no kEnded: one wake-up of the loop saved.
enum class ThreadState : uint8_t {
  kStarting,
  kRunning,
  kSettled,
  kFinished,  // the thread has made its last decision; it only unlocks and returns now
};

// Owned jointly by the env's registry (until reaped) and by the thread (until it returns).
struct ThreadRecord {
  ThreadRecord(std::shared_ptr<EnvShared> env, uint64_t ident, std::string name,
               size_t stack_size);
  ~ThreadRecord();
  ThreadRecord(const ThreadRecord&) = delete;
  ThreadRecord& operator=(const ThreadRecord&) = delete;

  const std::shared_ptr<EnvShared> env;
  const uint64_t ident;
  const std::string name;
  const size_t stack_size;  // 0: the platform's default
  std::shared_ptr<ThreadRecord> self;  // set by StartThread, moved out by the new thread at once
  std::unique_ptr<Event> run_event;    // handed to the TSFN by the thread
  std::unique_ptr<Event> ended_event;  // idem

  // Changed only under env->mutex; atomic so that a waiter may spin on it without the lock.
  std::atomic<ThreadState> state{ThreadState::kStarting};
  // Guarded by env->mutex:
  uv_cond_t changed;  // broadcast on every state change
  bool reaper_waiting = false;  // the loop waits for kFinished itself: do not post kEnded
  bool detached = false;  // nobody will join: the thread frees itself
  bool module_target = false;  // runs in an isolate (module_thread.h); set before it is shared
  bool exited_cleanly = false;  // module target: its isolate's JavaScript ran to its 'exit' event
  bool body_gone = false;       // module target: the isolate's env is gone, without a clean exit
  int64_t native_id = 0;  // written by the thread before kRunning
  uv_thread_t tid;        // written by the creator, which holds env->mutex until kRunning
};

// Creates the OS thread: 0, or a negative libuv error (UV_EAGAIN when the OS refuses a thread).
// With `wait`, returns only once the thread runs and has posted kRun. Call on the env's JS thread.
int StartThread(const std::shared_ptr<ThreadRecord>& record, bool wait);

// Waits until the thread has reported in (kRunning or later): spins briefly, then sleeps.
void WaitUntilRunning(ThreadRecord& record);

// Lets a finished thread that nobody will join free itself; call with env->mutex held. Idempotent.
void DetachOnce(ThreadRecord& record);

// Hands `event` to the env's loop; call with env.mutex held. False when the env is gone: the
// caller then owns the thread's end (nobody will reap it).
bool PostEvent(EnvShared& env, std::unique_ptr<Event>& event);

// Every live ident is unique in the process and never reused, across envs.
uint64_t NextIdent();

// Waits up to `budget_ns` for record.state to reach at least `state`, without the lock, yielding
// the CPU between looks. A thread that reports within microseconds is seen at once; sleeping on
// the condition variable and being woken costs more than that on these machines.
bool SpinUntil(const ThreadRecord& record, ThreadState state, uint64_t budget_ns);

}  // namespace bgthread
