// One thread's record: its life (the state table), the events it posts to its loop, and what it
// shares with the loop (env) that started it. The OS threads that carry records: carrier.h.
#pragma once

#include <napi.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "carrier.h"

namespace bgthread {

// What a thread tells its event loop. Allocated by the loop when the thread is created, handed
// to the thread-safe function by the thread, freed by CallJs (with or without an env).
// kLeftBehind is the loop's own (Loop::OnTurnEnd, in an isolate): the run's export settled, but
// its thread left something pending on the loop, so the isolate's JavaScript decides its end.
enum class EventKind : uint32_t { kRun = 0, kEnded = 1, kLeftBehind = 2 };
struct Event {
  EventKind kind;
  uint64_t ident;
  int64_t native_id;  // kRun: the thread's kernel id
};

class Loop;
struct ThreadRecord;
void CallJs(Napi::Env env, Napi::Function unused, Loop* addon, Event* event);
using EventQueue = Napi::TypedThreadSafeFunction<Loop, Event, CallJs>;

// What an env shares with its OS threads. A thread can outlive its env (a Worker terminated
// under it), so this is reference-counted. `mutex` guards `gone`, every ThreadRecord::state and
// every thread-side use of `events`, and the list of parked OS threads: the env's cleanup hook
// and the TSFN finalizer set `gone` under it, so no thread touches a TSFN that teardown freed
// (nodejs/node#55706). A waiter is woken after the unlock wherever what it waits on outlives the
// unlock: woken under the lock, it would only sleep again on the mutex (a second futex wake).
struct LoopShared {
  LoopShared() { uv_mutex_init(&mutex); }
  ~LoopShared() { uv_mutex_destroy(&mutex); }
  LoopShared(const LoopShared&) = delete;
  LoopShared& operator=(const LoopShared&) = delete;

  uv_mutex_t mutex;
  bool gone = false;
  std::deque<ParkedList> parked;  // one list per stack size; a deque never moves its elements
  uint64_t parked_idle_ns = static_cast<uint64_t>(kParkedIdleSeconds * 1e9);  // set before use
  EventQueue events;  // unbounded queue: a call never blocks, so holding `mutex` across it is safe
};

// A thread's state. This table is the one description of its transitions; each is made under
// env->mutex and broadcast on ThreadRecord::changed.
//
//   transition            made by (where)                  posted / done
//   -> kStarting          Loop::Start (loop)              a parked OS thread is handed the
//                                                          record, or uv_thread_create_ex
//   kStarting -> kRunning CarryThread (the OS thread)        kRun: the loop runs the target
//   kRunning -> kSettled  Loop::Settled (loop)            the thread is woken to end
//   kRunning -> kFinished CarryThread, once env gone         nothing: no loop to run the target
//   kSettled -> kFinished CarryThread                        kEnded, but not while the loop waits
//                                                          for it (reaper_waiting), and not
//                                                          to a gone env; the OS thread has
//                                                          taken the parked name, and parks
//                                                          or ends next
//   kFinished -> reaped   Loop::Reap (loop)               out of the registry, JS told, joins
//                                                          resolved
// A module target's thread (adopted.h) runs in an isolate, a Worker's OS thread (Node's):
//   -> kRunning           Adopt (creator)      the record becomes findable
//   kRunning -> kFinished FinishAdopted (any env)     kEnded: from the isolate as the export
//                                                          settled, its teardown after a clean
//                                                          exit, or the creator on its 'exit'
//   kRunning -> kFinished DropAdopted (creator)       nothing: no isolate ever ran it
//
// Two fast paths when the thread is its loop's only one (the rest of the time, neither waits, so
// that creations overlap and the loop does other threads' work meanwhile):
//   - Loop::Start waits (SpinUntil, then `changed`) for kRunning, so that kRun is queued before
//     the loop next polls: dispatching it then wakes nothing.
//   - Loop::Settled spins briefly (adaptive budget) for kFinished and reaps there and then; the
//     thread, seeing reaper_waiting, posts no kEnded: one wake-up of the loop saved.
enum class ThreadState : uint8_t {
  kStarting,
  kRunning,
  kSettled,
  kFinished,  // the thread has made its last decision; it only unlocks and returns now
};

// Owned jointly by the env's registry (until reaped) and by the OS thread that carries it (until
// it is finished).
struct ThreadRecord {
  ThreadRecord(std::shared_ptr<LoopShared> env, uint64_t ident, std::string name,
               size_t stack_size);
  ~ThreadRecord();
  ThreadRecord(const ThreadRecord&) = delete;
  ThreadRecord& operator=(const ThreadRecord&) = delete;

  const std::shared_ptr<LoopShared> env;
  const uint64_t ident;
  const std::string name;
  const size_t stack_size;             // 0: the platform's default
  std::shared_ptr<ThreadRecord> self;  // set by StartThread, moved out by the new thread at once
  std::unique_ptr<Event> run_event;    // handed to the TSFN by the thread
  std::unique_ptr<Event> ended_event;  // idem

  // Changed only under env->mutex; atomic so that a waiter may spin on it without the lock.
  std::atomic<ThreadState> state{ThreadState::kStarting};
  // Guarded by env->mutex:
  uv_cond_t changed;            // broadcast on every state change
  bool reaper_waiting = false;  // the loop waits for kFinished itself: do not post kEnded
  bool module_target = false;   // runs in an isolate (adopted.h); set before it is shared
  bool exited_cleanly = false;  // module target: its isolate's JavaScript ran to its 'exit' event
  bool body_gone = false;       // module target: the isolate's env is gone, without a clean exit
  int64_t native_id = 0;        // written by the thread before kRunning
};

// Waits until the thread has reported in (kRunning or later): spins briefly, then sleeps.
void WaitUntilRunning(ThreadRecord& record);

// Hands `event` to the env's loop; call with env.mutex held. False when the env is gone: the
// caller then owns the thread's end (nobody will reap it).
bool PostEvent(LoopShared& env, std::unique_ptr<Event>& event);

// Every live ident is unique in the process and never reused, across envs.
uint64_t NextIdent();

// Waits up to `budget_ns` for record.state to reach at least `state`, without the lock, yielding
// the CPU between looks. A thread that reports within microseconds is seen at once; sleeping on
// the condition variable and being woken costs more than that on these machines.
bool SpinUntil(const ThreadRecord& record, ThreadState state, uint64_t budget_ns);

// Looks, yielding the CPU between looks, until done() or `budget_ns` have passed: a thread that
// answers within microseconds is seen at once; sleeping on a condition variable and being woken
// costs more than that on these machines.
template <typename Done>
bool Spin(uint64_t budget_ns, Done done) {
  const uint64_t deadline = uv_hrtime() + budget_ns;
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (done()) return true;
      std::this_thread::yield();  // on one core, this is what lets the other thread run
    }
    if (uv_hrtime() >= deadline) return false;
  }
}

}  // namespace bgthread
