#include "joiners.h"

#include <algorithm>
#include <cmath>

#include "loop.h"

namespace bgthread {

void Joiners::Init(napi_env env) {
  env_ = env;
  Napi::Env js(env);
  async_resource_ = Napi::Persistent(Napi::Object::New(js));
  NAPI_THROW_IF_FAILED_VOID(
      js, napi_async_init(env, async_resource_.Value(),
                          Napi::String::New(js, "BackgroundThreadJoin"), &async_context_));
}

void Joiners::Add(napi_env env, napi_deferred deferred, uint64_t ident, double seconds,
                  bool keep_alive) {
  auto* joiner = new Joiner{this, ident, deferred, keep_alive, seconds > 0, {}};
  by_ident_[ident].push_back(joiner);
  if (keep_alive) addon_.Hold(env);
  if (joiner->has_timer) {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    uv_timer_init(loop, &joiner->timer);
    joiner->timer.data = joiner;
    // The loop's cached time is as old as this loop turn (seconds, after synchronous work):
    // count the timeout from now, as setTimeout does.
    uv_update_time(loop);
    uv_timer_start(&joiner->timer, OnTimeout, static_cast<uint64_t>(std::ceil(seconds * 1000)), 0);
    if (!keep_alive) uv_unref(reinterpret_cast<uv_handle_t*>(&joiner->timer));
  }
}

void Joiners::ResolveAll(napi_env env, uint64_t ident) {
  auto it = by_ident_.find(ident);
  if (it == by_ident_.end()) return;
  std::vector<Joiner*> joiners = std::move(it->second);
  by_ident_.erase(it);
  for (Joiner* joiner : joiners) Settle(env, joiner, true);
}

void Joiners::CloseAll(napi_env env) {
  for (auto& item : by_ident_) {
    for (Joiner* joiner : item.second) {
      if (joiner->has_timer) {
        addon_.HandleClosing();
        uv_close(reinterpret_cast<uv_handle_t*>(&joiner->timer), OnClosed);
      } else {
        delete joiner;
      }
    }
  }
  by_ident_.clear();
  if (async_context_ != nullptr) {
    napi_async_destroy(env, async_context_);
    async_context_ = nullptr;
  }
}

void Joiners::Settle(napi_env env, Joiner* joiner, bool ended) {
  napi_value result;
  if (napi_get_boolean(env, ended, &result) == napi_ok) {
    napi_resolve_deferred(env, joiner->deferred, result);
  }
  if (joiner->keep_alive) addon_.Unhold(env);
  if (joiner->has_timer) {
    uv_timer_stop(&joiner->timer);
    addon_.HandleClosing();
    uv_close(reinterpret_cast<uv_handle_t*>(&joiner->timer), OnClosed);
  } else {
    delete joiner;
  }
}

void Joiners::OnTimeout(uv_timer_t* timer) {
  Joiner* joiner = static_cast<Joiner*>(timer->data);
  Joiners& self = *joiner->owner;
  auto it = self.by_ident_.find(joiner->ident);
  if (it != self.by_ident_.end()) {
    auto& joiners = it->second;
    joiners.erase(std::remove(joiners.begin(), joiners.end(), joiner), joiners.end());
    if (joiners.empty()) self.by_ident_.erase(it);
  }
  // A libuv callback is outside any JS scope: open one, so that the Promise's reactions run.
  napi_env env = self.env_;
  napi_handle_scope handles;
  if (napi_open_handle_scope(env, &handles) != napi_ok) return;
  napi_callback_scope scope;
  if (napi_open_callback_scope(env, self.async_resource_.Value(), self.async_context_, &scope) ==
      napi_ok) {
    self.Settle(env, joiner, false);
    napi_close_callback_scope(env, scope);
  }
  napi_close_handle_scope(env, handles);
}

void Joiners::OnClosed(uv_handle_t* handle) {
  Joiner* joiner = static_cast<Joiner*>(handle->data);
  Loop& addon = joiner->owner->addon_;
  delete joiner;
  addon.HandleClosed();
}

}  // namespace bgthread
