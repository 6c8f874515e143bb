// The per-env half of the addon: the JS surface and the registry of this event loop's live
// threads (the one registry: each entry holds the thread's record and its JS object), with the
// loop's keep-alive count and teardown. The joins that wait for a thread are in
// joiners.h, one thread's record in record.h. Everything here runs on the env's JS thread; what
// crosses to OS threads lives in LoopShared (record.h).
//
// Where a thread's way goes: Start (or AdoptJs) registers it; its events arrive in OnEvent
// (kRun: JS runs the target; kEnded: Reap); Settled lets it end; Join/JoinSync wait for it;
// Teardown ends what is left when the env goes away.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "joiners.h"
#include "record.h"

namespace bgthread {

class Loop : public Napi::Addon<Loop> {
 public:
  Loop(Napi::Env env, Napi::Object exports);

  // Called by CallJs on the JS thread for every event a thread posted.
  void OnEvent(napi_env env, const Event& event);

  // The loop stays open while holds > 0: live non-daemon threads and keep-alive joiners.
  void Hold(napi_env env);
  void Unhold(napi_env env);
  // A handle of this env is being closed / has closed; teardown waits for every one of them.
  void HandleClosing() { closing_handles_++; }
  void HandleClosed();

 private:
  struct Entry {
    std::shared_ptr<ThreadRecord> record;
    Napi::ObjectReference thread;  // the BackgroundThread its events go to
    bool daemon;
    bool reaping = false;  // its kEnded is being delivered: it is still listed meanwhile
  };
  using Registry = std::unordered_map<uint64_t, Entry>;

  // JS API (src/native/binding.ts declares the types). init (InitLoop) returns the object with all
  // the others, so that no thread is started, joined or bound in an env without its events and its
  // teardown hook.
  Napi::Value InitLoop(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Settled(const Napi::CallbackInfo& info);
  Napi::Value Join(const Napi::CallbackInfo& info);
  Napi::Value JoinSync(const Napi::CallbackInfo& info);
  Napi::Value IdentifyCurrentThread(const Napi::CallbackInfo& info);
  Napi::Value AdoptJs(const Napi::CallbackInfo& info);
  Napi::Value DropAdoptedJs(const Napi::CallbackInfo& info);
  Napi::Value BindAdoptedJs(const Napi::CallbackInfo& info);
  Napi::Value AdoptedExitedJs(const Napi::CallbackInfo& info);
  Napi::Value FinishAdoptedJs(const Napi::CallbackInfo& info);
  Napi::Value NativeId(const Napi::CallbackInfo& info);
  Napi::Value LiveCount(const Napi::CallbackInfo& info);
  Napi::Value LiveThreads(const Napi::CallbackInfo& info);
  Napi::Value PollWithoutBlocking(const Napi::CallbackInfo& info);
  Napi::Value HoldIsolateOpen(const Napi::CallbackInfo& info);
  Napi::Value FinishAtTurnEnd(const Napi::CallbackInfo& info);

  uint64_t Register(napi_env env, std::shared_ptr<ThreadRecord> record, bool daemon,
                    Napi::Object thread);
  Entry Unregister(napi_env env, Registry::iterator it);
  bool IsFinished(const ThreadRecord& record);
  void Reap(napi_env env, uint64_t ident);
  void Notify(napi_env env, EventKind kind, napi_value subject, int64_t native_id);
  void FinishBound(uint64_t ident);
  bool LeftBehind();
  void OnTurnEnd();
  static void OnTeardown(napi_async_cleanup_hook_handle handle, void* arg);
  void Teardown(napi_async_cleanup_hook_handle handle);

  napi_env env_;
  std::shared_ptr<LoopShared> shared_;
  Registry live_;                                     // started and not yet reaped
  std::vector<std::shared_ptr<ThreadRecord>> bound_;  // the module thread this isolate runs, if any
  Joiners joiners_{*this};
  Napi::FunctionReference on_event_;     // (kind, thread | ident, nativeId) => void; never throws
  Napi::ObjectReference never_settles_;  // a pending Promise: join() once the env stops (Join)
  uint64_t reap_spin_ns_ = 50 * 1000;    // adaptive, see Settled
  uint32_t holds_ = 0;                   // the events TSFN is ref'd while > 0
  bool tearing_down_ = false;
  size_t closing_handles_ = 0;  // join timers and the handles below being closed
  uv_idle_t idle_{};            // active while the poll must not block; .loop set once initialized
  // An isolate's (src/isolate/runner.ts, HoldIsolateOpen): the handle that holds its loop open,
  // and the run to finish at the loop's next prepare phase (FinishAtTurnEnd; 0: none).
  uv_async_t hold_open_{};  // ref'd, never sent; .loop set once initialized
  uv_prepare_t prepare_{};  // active while finish_at_turn_end_ != 0; unref'd; idem
  uint64_t finish_at_turn_end_ = 0;
  napi_async_cleanup_hook_handle cleanup_handle_ = nullptr;
};

}  // namespace bgthread
