#include "carrier.h"

#include <utility>
#include <vector>

#include "os_thread.h"
#include "record.h"

namespace bgthread {

namespace {

// How long the only parked OS thread of its size looks for its next thread before it sleeps.
constexpr uint64_t kHandOffSpinNs = 50 * 1000;

ParkedList* ListFor(LoopShared& env, size_t stack_size) {
  for (ParkedList& list : env.parked) {
    if (list.stack_size == stack_size) return &list;
  }
  return nullptr;
}

void Link(ParkedList& list, Carrier& p) {
  p.list = &list;
  p.newer = nullptr;
  p.older = list.newest;
  if (list.newest != nullptr) list.newest->newer = &p;
  list.newest = &p;
  list.count++;
}

void Unlink(Carrier& p) {
  ParkedList& list = *p.list;
  if (p.newer != nullptr)
    p.newer->older = p.older;
  else
    list.newest = p.older;
  if (p.older != nullptr) p.older->newer = p.newer;
  p.list = nullptr;
  p.newer = p.older = nullptr;
  list.count--;
}

// Carries one thread from kStarting to kFinished (record.h's table). Returns whether the OS
// thread is parked now: listed before kEnded is posted, so that the loop, which may start the
// next thread as soon as it hears of this one's end, finds it. Not when the env is going away,
// parking is off, or enough OS threads of its stack size are parked already.
bool CarryThread(ThreadRecord& record, Carrier& self) {
  LoopShared& env = *record.env;
  // Outside the lock: naming and gettid are syscalls.
  const int64_t native_id = NameCurrentThread(record.name);

  uv_mutex_lock(&env.mutex);
  record.native_id = native_id;
  record.run_event->native_id = native_id;
  record.state = ThreadState::kRunning;
  PostEvent(env, record.run_event);
  uv_cond_broadcast(&record.changed);  // start() or nativeId() returns
  while (record.state == ThreadState::kRunning && !env.gone) {
    uv_cond_wait(&record.changed, &env.mutex);
  }
  uv_mutex_unlock(&env.mutex);

  // Before kFinished: once join() has returned, no OS thread carries this thread's name.
  NameCurrentThread(kParkedThreadName);

  uv_mutex_lock(&env.mutex);
  record.state = ThreadState::kFinished;
  ParkedList* list = ListFor(env, self.stack_size);  // made by StartThread: never null here
  const bool park = !env.gone && env.parked_idle_ns > 0 && list != nullptr &&
                    list->count < kMaxParkedPerStackSize;
  if (park) {
    Link(*list, self);
    self.spin = list->count == 1;
  }
  if (!record.reaper_waiting) {
    // Not while the loop waits to reap it right now (Loop::Settled); nothing to a gone env.
    PostEvent(env, record.ended_event);
  }
  uv_mutex_unlock(&env.mutex);
  uv_cond_broadcast(
      &record.changed);  // joinSync() waiters; `record` is the caller's until we return
  return park;
}

// Waits, parked, for the next thread. Null when the OS thread is to end: its idle time ran out,
// the env is going away, or it was retired (then `self.retired` is set and the retirer joins it).
// The only OS thread parked of its size looks for a while before it sleeps: threads started one
// after the other then find it awake (being woken from the condvar costs more than the spin on
// these machines). With more parked, a burst is ending and none spins.
std::shared_ptr<ThreadRecord> AwaitNext(LoopShared& env, Carrier& self) {
  if (self.spin)
    Spin(kHandOffSpinNs, [&self] { return self.handed.load(std::memory_order_acquire); });
  uv_mutex_lock(&env.mutex);
  const uint64_t deadline = uv_hrtime() + env.parked_idle_ns;
  while (self.next == nullptr && !self.retired && !env.gone) {
    const uint64_t now = uv_hrtime();  // spurious wake-ups happen: wait against the deadline
    if (now >= deadline) break;
    uv_cond_timedwait(&self.wake, &env.mutex, deadline - now);
  }
  // Handed a thread or retired: the other side unlinked it already.
  if (self.next == nullptr && !self.retired) Unlink(self);
  std::shared_ptr<ThreadRecord> next = std::move(self.next);
  self.handed.store(false, std::memory_order_relaxed);
  uv_mutex_unlock(&env.mutex);
  return next;
}

// An OS thread: carries the thread it was created for, then, parked, the next ones it is handed.
void CarrierMain(void* arg) {
  // Take over the reference the creator left in the record: no allocation on this thread. A
  // thread that never calls malloc or free gets no malloc tcache (~0.6 KiB each).
  std::shared_ptr<ThreadRecord> record = std::move(static_cast<ThreadRecord*>(arg)->self);
  const std::shared_ptr<LoopShared> env = record->env;  // outlives every record it carries
  Carrier self(record->stack_size);
  for (;;) {
    const bool parked = CarryThread(*record, self);
    record.reset();  // outside the lock: this may be the last reference
    if (!parked) break;
    record = AwaitNext(*env, self);
    if (record == nullptr) break;
  }
  // Ended on its own: nobody will join it. A retired one is joined by RetireParked.
  uv_mutex_lock(&env->mutex);
  const bool retired = self.retired;
  uv_mutex_unlock(&env->mutex);
  if (!retired) {
    uv_thread_t tid = self.tid;
    DetachThread(&tid);
  }
}

// Ends this env's parked OS threads and waits until they have exited, so that their stacks and
// thread slots are the OS's again (StartThread, when the OS refused a new thread). False if none.
bool RetireParked(LoopShared& env) {
  std::vector<uv_thread_t> tids;
  uv_mutex_lock(&env.mutex);
  for (ParkedList& list : env.parked) {
    while (Carrier* p = list.newest) {
      Unlink(*p);
      p->retired = true;
      tids.push_back(p->tid);  // copied: `p` lives on that thread's stack, gone once it returns
      uv_cond_signal(&p->wake);
    }
  }
  uv_mutex_unlock(&env.mutex);
  for (uv_thread_t& tid : tids) uv_thread_join(&tid);
  return !tids.empty();
}

int CreateCarrier(const std::shared_ptr<ThreadRecord>& record) {
  record->self = record;  // the new thread's reference, moved out by CarrierMain
  uv_thread_options_t options;
  options.flags = UV_THREAD_HAS_STACK_SIZE;
  options.stack_size = record->stack_size;
  uv_thread_t tid;
  const int err = uv_thread_create_ex(&tid, &options, CarrierMain, record.get());
  if (err != 0) record->self.reset();
  return err;
}

}  // namespace

Carrier::Carrier(size_t stack_size_) : stack_size(stack_size_), tid(uv_thread_self()) {
  uv_cond_init(&wake);
}

Carrier::~Carrier() { uv_cond_destroy(&wake); }

void WakeParked(LoopShared& env) {
  for (ParkedList& list : env.parked) {
    for (Carrier* p = list.newest; p != nullptr; p = p->older) uv_cond_signal(&p->wake);
  }
}

int StartThread(const std::shared_ptr<ThreadRecord>& record, bool wait) {
  LoopShared& env = *record->env;
  uv_mutex_lock(&env.mutex);
  ParkedList* list = ListFor(env, record->stack_size);
  if (list == nullptr) list = &env.parked.emplace_back(record->stack_size);
  Carrier* parked = list->newest;
  if (parked != nullptr) {
    Unlink(*parked);
    parked->next = record;
    parked->handed.store(true, std::memory_order_release);
  }
  uv_mutex_unlock(&env.mutex);
  // Signalled after the unlock, so that the woken thread does not wake only to wait for the
  // mutex. `parked` (on its thread's stack) outlives this: handed a thread, that OS thread ends
  // only after the loop settles it, and env.gone is set on this JS thread.
  if (parked != nullptr) uv_cond_signal(&parked->wake);

  if (parked == nullptr) {
    int err = CreateCarrier(record);
    // Parked OS threads hold thread slots and stacks: give them back and try once more.
    if (err == UV_EAGAIN && RetireParked(env)) err = CreateCarrier(record);
    if (err != 0) return err;
  }
  if (wait) WaitUntilRunning(*record);
  return 0;
}

}  // namespace bgthread
