#include "record.h"

#include <atomic>
#include <utility>

namespace bgthread {

namespace {

// Trivially destructible, so process.exit() (which skips nothing here) cannot race a destructor.
std::atomic<uint64_t> last_ident{0};

// How long a waiter looks for a new thread to report in before it sleeps on the condvar.
constexpr uint64_t kStartSpinNs = 200 * 1000;

}  // namespace

bool PostEvent(LoopShared& env, std::unique_ptr<Event>& event) {
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

ThreadRecord::ThreadRecord(std::shared_ptr<LoopShared> env_, uint64_t ident_, std::string name_,
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

void WaitUntilRunning(ThreadRecord& record) {
  if (SpinUntil(record, ThreadState::kRunning, kStartSpinNs)) return;
  LoopShared& env = *record.env;
  uv_mutex_lock(&env.mutex);
  while (record.state == ThreadState::kStarting) uv_cond_wait(&record.changed, &env.mutex);
  uv_mutex_unlock(&env.mutex);
}

bool SpinUntil(const ThreadRecord& record, ThreadState state, uint64_t budget_ns) {
  return Spin(budget_ns, [&] { return record.state.load(std::memory_order_acquire) >= state; });
}

}  // namespace bgthread
