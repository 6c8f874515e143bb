// One thread's life, the OS thread that carries it, and what both share with the event loop
// (env) that started it.
#pragma once

#include <napi.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace bgthread {

// What a thread tells its event loop. Allocated by the loop when the thread is created, handed
// to the thread-safe function by the thread, freed by CallJs (with or without an env).
// kLeftBehind is the loop's own (Addon::OnTurnEnd, in an isolate): the run's export settled, but
// its thread left something pending on the loop, so the isolate's JavaScript decides its end.
enum class EventKind : uint32_t { kRun = 0, kEnded = 1, kLeftBehind = 2 };
struct Event {
  EventKind kind;
  uint64_t ident;
  int64_t native_id;  // kRun: the thread's kernel id
};

class Addon;
struct ThreadRecord;
void CallJs(Napi::Env env, Napi::Function unused, Addon* addon, Event* event);
using EventQueue = Napi::TypedThreadSafeFunction<Addon, Event, CallJs>;

// An OS thread between two function targets' threads, waiting in its env's list until
// StartThread hands it the next one, its idle time runs out, or the env goes away. A function
// target's OS thread never runs user code, so reusing one is only a saved clone, stack mmap, exit
// and join. The object lives on the parked OS thread's own stack.
struct ParkedList;
struct ParkedThread {
  explicit ParkedThread(size_t stack_size);
  ~ParkedThread();
  ParkedThread(const ParkedThread&) = delete;
  ParkedThread& operator=(const ParkedThread&) = delete;

  const size_t stack_size;  // its stack's size: it takes only threads that asked for this size
  const uv_thread_t tid;    // the OS thread itself (uv_thread_self)
  // Guarded by EnvShared::mutex; whoever unlinks it from its list decides its way:
  uv_cond_t wake;                        // signalled when `next` is set, or `retired`, or at teardown
  std::shared_ptr<ThreadRecord> next;    // set by StartThread: run this one
  bool retired = false;                  // set by RetireParked: end; the retirer joins the thread
  bool spin = false;                     // the only one parked of its size: look before sleeping
  std::atomic<bool> handed{false};       // `next` is set (read without the lock while spinning)
  ParkedList* list = nullptr;            // the list it is in, if any
  ParkedThread* newer = nullptr;         // its neighbours there
  ParkedThread* older = nullptr;
};

// The OS threads of one stack size that are parked, newest first (the next start() takes the
// newest: its stack is the warmest; the oldest run out of idle time first). Made by StartThread
// for each stack size a thread starts with, on the JS thread, and kept for the env's life: a
// parking OS thread allocates nothing.
struct ParkedList {
  explicit ParkedList(size_t stack_size_) : stack_size(stack_size_) {}
  const size_t stack_size;
  ParkedThread* newest = nullptr;
  size_t count = 0;
};

// How many OS threads of one stack size stay parked: enough for a hundred threads in flight to
// find theirs (each costs some 30 KiB of kernel and stack pages, and its stack's address space);
// and how long an unused one stays (the default of EnvShared::parked_idle_ns;
// BACKGROUND_THREAD_PARKED_IDLE_SECONDS sets it, 0: never park).
constexpr size_t kMaxParkedPerStackSize = 128;
constexpr double kParkedIdleSeconds = 5;
// The name a parked OS thread carries (ps -T, top -H): never an ended thread's name.
constexpr char kParkedThreadName[] = "bgthread:parked";

// What an env shares with its OS threads. A thread can outlive its env (a Worker terminated
// under it), so this is reference-counted. `mutex` guards `gone`, every ThreadRecord::state and
// every thread-side use of `events`, and the list of parked OS threads: the env's cleanup hook
// and the TSFN finalizer set `gone` under it, so no thread touches a TSFN that teardown freed
// (nodejs/node#55706). A waiter is woken after the unlock wherever what it waits on outlives the
// unlock: woken under the lock, it would only sleep again on the mutex (a second futex wake).
struct EnvShared {
  EnvShared() { uv_mutex_init(&mutex); }
  ~EnvShared() { uv_mutex_destroy(&mutex); }
  EnvShared(const EnvShared&) = delete;
  EnvShared& operator=(const EnvShared&) = delete;

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
//   -> kStarting          Addon::Start (loop)              a parked OS thread is handed the
//                                                          record, or uv_thread_create_ex
//   kStarting -> kRunning RunThread (the OS thread)        kRun: the loop runs the target
//   kRunning -> kSettled  Addon::Settled (loop)            the thread is woken to end
//   kRunning -> kFinished RunThread, once env gone         nothing: no loop to run the target
//   kSettled -> kFinished RunThread                        kEnded, but not while the loop waits
//                                                          for it (reaper_waiting), and not
//                                                          to a gone env; the OS thread has
//                                                          taken the parked name, and parks
//                                                          or ends next
//   kFinished -> reaped   Addon::Reap (loop)               out of the registry, JS told, joins
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

// Owned jointly by the env's registry (until reaped) and by the OS thread that carries it (until
// it is finished).
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
  bool module_target = false;  // runs in an isolate (module_thread.h); set before it is shared
  bool exited_cleanly = false;  // module target: its isolate's JavaScript ran to its 'exit' event
  bool body_gone = false;       // module target: the isolate's env is gone, without a clean exit
  int64_t native_id = 0;  // written by the thread before kRunning
};

// Hands the thread to a parked OS thread of its stack size, or creates one: 0, or a negative
// libuv error (UV_EAGAIN when the OS refuses a thread even once this env's parked ones have
// ended). With `wait`, returns only once the thread runs and has posted kRun. Call on the env's
// JS thread.
int StartThread(const std::shared_ptr<ThreadRecord>& record, bool wait);

// Wakes this env's parked OS threads to end (EnvShared::gone is set); call with env.mutex held.
void WakeParked(EnvShared& env);

// Waits until the thread has reported in (kRunning or later): spins briefly, then sleeps.
void WaitUntilRunning(ThreadRecord& record);

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
