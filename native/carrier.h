// The OS threads that carry function targets' threads (carriers), and the lists they park in
// between two threads. A carrier runs no JavaScript: it takes a thread's name, posts its events
// to the loop (record.h) and waits for it to settle.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstddef>
#include <memory>

namespace bgthread {

struct ThreadRecord;
struct LoopShared;

// An OS thread between two function targets' threads, waiting in its env's list until
// StartThread hands it the next one, its idle time runs out, or the env goes away. A function
// target's OS thread never runs user code, so reusing one is only a saved clone, stack mmap, exit
// and join. The object lives on the parked OS thread's own stack.
struct ParkedList;
struct Carrier {
  explicit Carrier(size_t stack_size);
  ~Carrier();
  Carrier(const Carrier&) = delete;
  Carrier& operator=(const Carrier&) = delete;

  const size_t stack_size;  // its stack's size: it takes only threads that asked for this size
  const uv_thread_t tid;    // the OS thread itself (uv_thread_self)
  // Guarded by LoopShared::mutex; whoever unlinks it from its list decides its way:
  uv_cond_t wake;                      // signalled when `next` is set, or `retired`, or at teardown
  std::shared_ptr<ThreadRecord> next;  // set by StartThread: run this one
  bool retired = false;                // set by RetireParked: end; the retirer joins the thread
  bool spin = false;                   // the only one parked of its size: look before sleeping
  std::atomic<bool> handed{false};     // `next` is set (read without the lock while spinning)
  ParkedList* list = nullptr;          // the list it is in, if any
  Carrier* newer = nullptr;            // its neighbours there
  Carrier* older = nullptr;
};

// The OS threads of one stack size that are parked, newest first (the next start() takes the
// newest: its stack is the warmest; the oldest run out of idle time first). Made by StartThread
// for each stack size a thread starts with, on the JS thread, and kept for the env's life: a
// parking OS thread allocates nothing.
struct ParkedList {
  explicit ParkedList(size_t stack_size_) : stack_size(stack_size_) {}
  const size_t stack_size;
  Carrier* newest = nullptr;
  size_t count = 0;
};

// How many OS threads of one stack size stay parked: enough for a hundred threads in flight to
// find theirs (each costs some 30 KiB of kernel and stack pages, and its stack's address space);
// and how long an unused one stays (the default of LoopShared::parked_idle_ns;
// BACKGROUND_THREAD_PARKED_IDLE_SECONDS sets it, 0: never park).
constexpr size_t kMaxParkedPerStackSize = 128;
constexpr double kParkedIdleSeconds = 5;
// The name a parked OS thread carries (ps -T, top -H): never an ended thread's name.
constexpr char kParkedThreadName[] = "bgthread:parked";

// Hands the thread to a parked OS thread of its stack size, or creates one: 0, or a negative
// libuv error (UV_EAGAIN when the OS refuses a thread even once this env's parked ones have
// ended). With `wait`, returns only once the thread runs and has posted kRun. Call on the env's
// JS thread.
int StartThread(const std::shared_ptr<ThreadRecord>& record, bool wait);

// Wakes this env's parked OS threads to end (LoopShared::gone is set); call with env.mutex held.
void WakeParked(LoopShared& env);

}  // namespace bgthread
