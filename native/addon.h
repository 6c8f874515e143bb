// The per-env half of the addon: the registry of this event loop's live threads, their joiners,
// the loop's keep-alive count, and teardown. Everything here runs on the env's JS thread; what
// crosses to OS threads lives in EnvShared (thread.h).
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "thread.h"

namespace bgthread {

class Addon;

// One pending join(timeout): settled by the thread's end (true) or its timer (false).
struct Joiner {
  Addon* addon;
  uint64_t ident;
  napi_deferred deferred;
  bool keep_alive;  // holds the loop open while it waits (the caller is not a daemon thread)
  bool has_timer;
  uv_timer_t timer;
};

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);

  // Called by CallJs on the JS thread for every event a thread posted.
  void OnEvent(napi_env env, const Event& event);

 private:
  struct Entry {
    std::shared_ptr<ThreadRecord> record;
    bool daemon;
    std::vector<Joiner*> joiners;
  };

  // JS API (src/binding.ts declares the types).
  Napi::Value InitEvents(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Settled(const Napi::CallbackInfo& info);
  Napi::Value Join(const Napi::CallbackInfo& info);
  Napi::Value JoinSync(const Napi::CallbackInfo& info);
  Napi::Value IdentifyCurrentThread(const Napi::CallbackInfo& info);
  Napi::Value AdoptIsolatedThread(const Napi::CallbackInfo& info);
  Napi::Value DropIsolatedThread(const Napi::CallbackInfo& info);
  Napi::Value BindIsolatedThread(const Napi::CallbackInfo& info);
  Napi::Value ExitedCleanlyIsolatedThread(const Napi::CallbackInfo& info);
  Napi::Value FinishIsolatedThread(const Napi::CallbackInfo& info);
  Napi::Value NativeId(const Napi::CallbackInfo& info);
  Napi::Value PollWithoutBlocking(const Napi::CallbackInfo& info);

  bool IsFinished(const ThreadRecord& record);
  void Reap(napi_env env, uint64_t ident);
  void Notify(napi_env env, EventKind kind, uint64_t ident, int64_t native_id);
  void Hold(napi_env env);
  void Unhold(napi_env env);
  void Settle(napi_env env, Joiner* joiner, bool ended);
  static void OnJoinTimeout(uv_timer_t* timer);
  static void OnJoinerClosed(uv_handle_t* handle);
  static void OnIdleClosed(uv_handle_t* handle);
  void HandleClosed();
  static void OnTeardown(napi_async_cleanup_hook_handle handle, void* arg);
  void Teardown(napi_async_cleanup_hook_handle handle);

  napi_env env_;
  std::shared_ptr<EnvShared> shared_;
  std::unordered_map<uint64_t, Entry> live_;  // started and not yet reaped
  std::vector<std::shared_ptr<ThreadRecord>> bound_;  // isolated threads this env is the body of
  Napi::FunctionReference on_event_;          // (kind, ident, nativeId) => void; never throws
  Napi::ObjectReference async_resource_;      // the async context join timeouts resolve in
  napi_async_context async_context_ = nullptr;
  uint64_t reap_spin_ns_ = 50 * 1000;  // adaptive, see Settled
  uint32_t holds_ = 0;  // live non-daemon threads + keep-alive joiners; TSFN ref'd while > 0
  bool tearing_down_ = false;
  size_t closing_handles_ = 0;  // join timers and the idle handle being closed at teardown
  uv_idle_t idle_;              // active while the loop's poll must not block (PollWithoutBlocking)
  bool idle_initialized_ = false;
  napi_async_cleanup_hook_handle cleanup_handle_ = nullptr;
};

}  // namespace bgthread
