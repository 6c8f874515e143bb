// The pending join(timeout) Promises of one env. Each is settled once: true by its thread's end
// (ResolveAll), false by its libuv timer. Everything here runs on the env's JS thread.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace bgthread {

class Loop;

class Joiners {
 public:
  // `addon` keeps the loop open for keep-alive joiners (Hold/Unhold) and counts the timers
  // being closed (HandleClosing/HandleClosed), which its teardown waits for.
  explicit Joiners(Loop& addon) : addon_(addon) {}
  Joiners(const Joiners&) = delete;
  Joiners& operator=(const Joiners&) = delete;

  // Creates the async context timeouts resolve in. Once, before the first Add.
  void Init(napi_env env);

  // Settles `deferred` (the caller's new Promise) at `ident`'s end, false after `seconds`
  // (negative: never; 0 is the caller's). A keep-alive joiner holds the loop open while it waits
  // (the caller is not a daemon thread).
  void Add(napi_env env, napi_deferred deferred, uint64_t ident, double seconds, bool keep_alive);

  // `ident` has ended: every joiner of it resolves true.
  void ResolveAll(napi_env env, uint64_t ident);

  // The env is going away: every joiner is dropped (its Promise dies with the env) and its
  // timer closed.
  void CloseAll(napi_env env);

 private:
  struct Joiner {
    Joiners* owner;
    uint64_t ident;
    napi_deferred deferred;
    bool keep_alive;
    bool has_timer;
    uv_timer_t timer;
  };

  void Settle(napi_env env, Joiner* joiner, bool ended);  // resolves and frees
  static void OnTimeout(uv_timer_t* timer);
  static void OnClosed(uv_handle_t* handle);

  Loop& addon_;
  napi_env env_ = nullptr;
  std::unordered_map<uint64_t, std::vector<Joiner*>> by_ident_;
  Napi::ObjectReference async_resource_;  // the async context timeouts resolve in
  napi_async_context async_context_ = nullptr;
};

}  // namespace bgthread
