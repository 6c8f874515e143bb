#include "adopted.h"

#include <mutex>
#include <unordered_map>

#include "os_thread.h"

namespace bgthread {

namespace {

// Across envs: the creator adopts, the Worker's env finds. Never destroyed (allocated once and
// left), so that process exit cannot race its destructor against a Worker tearing down.
struct AdoptedRecords {
  std::mutex mutex;  // guards `records` only; never held while taking an env mutex
  std::unordered_map<uint64_t, std::shared_ptr<ThreadRecord>> records;
};

AdoptedRecords& Adopted() {
  static AdoptedRecords* adopted = new AdoptedRecords();
  return *adopted;
}

}  // namespace

void Adopt(const std::shared_ptr<ThreadRecord>& record) {
  record->state = ThreadState::kRunning;
  record->module_target = true;
  AdoptedRecords& adopted = Adopted();
  std::lock_guard<std::mutex> lock(adopted.mutex);
  adopted.records.emplace(record->ident, record);
}

std::shared_ptr<ThreadRecord> FindAdopted(uint64_t ident) {
  AdoptedRecords& adopted = Adopted();
  std::lock_guard<std::mutex> lock(adopted.mutex);
  auto it = adopted.records.find(ident);
  return it == adopted.records.end() ? nullptr : it->second;
}

int64_t BindAdopted(ThreadRecord& record) {
  const int64_t native_id = NameCurrentThread(record.name);
  LoopShared& env = *record.env;
  uv_mutex_lock(&env.mutex);
  record.native_id = native_id;
  uv_mutex_unlock(&env.mutex);
  return native_id;
}

void ForgetAdopted(uint64_t ident) {
  AdoptedRecords& adopted = Adopted();
  std::lock_guard<std::mutex> lock(adopted.mutex);
  adopted.records.erase(ident);
}

namespace {

// Returns whether this call made the change (the first one does).
bool SetFinished(ThreadRecord& record, bool post) {
  LoopShared& env = *record.env;
  uv_mutex_lock(&env.mutex);
  const bool first = record.state != ThreadState::kFinished;
  if (first) {
    record.state = ThreadState::kFinished;
    uv_cond_broadcast(&record.changed);  // joinSync() waiters
    if (post) PostEvent(env, record.ended_event);
  }
  uv_mutex_unlock(&env.mutex);
  return first;
}

}  // namespace

void AdoptedExited(ThreadRecord& record) {
  LoopShared& env = *record.env;
  uv_mutex_lock(&env.mutex);
  record.exited_cleanly = true;
  uv_mutex_unlock(&env.mutex);
}

void AdoptedBodyGone(const std::shared_ptr<ThreadRecord>& record) {
  LoopShared& env = *record->env;
  uv_mutex_lock(&env.mutex);
  const bool clean = record->exited_cleanly;
  if (!clean) {
    record->body_gone = true;
    uv_cond_broadcast(&record->changed);  // joinSync() waiters: the end needs the creator's loop
  }
  uv_mutex_unlock(&env.mutex);
  if (clean) FinishAdopted(record);  // takes the adopted records' lock, then the env's: not nested
}

void FinishAdopted(const std::shared_ptr<ThreadRecord>& record) {
  ForgetAdopted(record->ident);
  SetFinished(*record, true);
}

void DropAdopted(const std::shared_ptr<ThreadRecord>& record) {
  ForgetAdopted(record->ident);
  SetFinished(*record, false);
}

}  // namespace bgthread
