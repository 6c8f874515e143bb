#include "loop.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

#include "adopted.h"
#include "os_thread.h"

namespace bgthread {

namespace {

// Python's threading.stack_size() minimum; the maximum keeps a typo from reserving the machine.
constexpr double kMinStackSize = 32768;
constexpr double kMaxStackSize = 1024.0 * 1024 * 1024;
// Timeouts at or above this many seconds (about 292 years) wait forever.
constexpr double kForeverSeconds = 9.2e9;
// Bounds of how long settled() waits for the thread to finish (see Loop::Settled).
constexpr uint64_t kMaxReapSpinNs = 50 * 1000;
constexpr uint64_t kMinReapSpinNs = 1000;

uint64_t IdentArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "ident must be a number");
  return static_cast<uint64_t>(info[i].As<Napi::Number>().DoubleValue());
}

// Seconds from JS: negative means forever (TypeScript has already mapped null/Infinity to -1).
double SecondsArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "timeout must be a number");
  double seconds = info[i].As<Napi::Number>().DoubleValue();
  if (std::isnan(seconds)) throw Napi::RangeError::New(info.Env(), "timeout must not be NaN");
  return seconds >= kForeverSeconds ? -1 : seconds;
}

// How long a parked OS thread waits for its next thread: BACKGROUND_THREAD_PARKED_IDLE_SECONDS
// (seconds, 0: never park), read once per env, or kParkedIdleSeconds.
uint64_t ParkedIdleNs(Napi::Env env) {
  const char* text = std::getenv("BACKGROUND_THREAD_PARKED_IDLE_SECONDS");
  if (text == nullptr || *text == '\0') return static_cast<uint64_t>(kParkedIdleSeconds * 1e9);
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (*end != '\0' || !(seconds >= 0 && seconds <= kForeverSeconds)) {
    Napi::RangeError error = Napi::RangeError::New(
        env, "BACKGROUND_THREAD_PARKED_IDLE_SECONDS must be a number of seconds >= 0, not \"" +
                 std::string(text) + "\"");
    error.Set("code", Napi::String::New(env, "ERR_INVALID_PARKED_IDLE_SECONDS"));
    throw error;
  }
  return static_cast<uint64_t>(seconds * 1e9);
}

}  // namespace

void CallJs(Napi::Env env, Napi::Function /*unused*/, Loop* addon, Event* event) {
  std::unique_ptr<Event> owned(event);
  // At teardown Node hands leftover items back without an env: free them, touch nothing else.
  if (env == nullptr || addon == nullptr || event == nullptr) return;
  addon->OnEvent(env, *event);
}

Loop::Loop(Napi::Env env, Napi::Object exports)
    : env_(env), shared_(std::make_shared<LoopShared>()) {
  PinAddon();  // threads may outlive the env that loaded us (see os_thread.h)
  DefineAddon(
      exports,
      {
          InstanceMethod("init", &Loop::InitLoop),
          InstanceValue("minStackSize", Napi::Number::New(env, kMinStackSize)),
          InstanceValue("maxStackSize", Napi::Number::New(env, kMaxStackSize)),
          InstanceValue("maxThreadNameBytes",
                        Napi::Number::New(env, static_cast<double>(MaxThreadNameBytes()))),
          InstanceValue("parkedThreadName", Napi::String::New(env, kParkedThreadName)),
          InstanceValue("maxParkedPerStackSize",
                        Napi::Number::New(env, static_cast<double>(kMaxParkedPerStackSize))),
          InstanceValue("defaultParkedIdleSeconds",
                        Napi::Number::New(env, static_cast<double>(kParkedIdleSeconds))),
      });
}

// init(onEvent) -> this loop's binding: onEvent(kind, thread, nativeId) receives every thread's
// kRun and kEnded (onEvent(kLeftBehind, ident, 0) an isolate's), on this loop. Once per env.
Napi::Value Loop::InitLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!on_event_.IsEmpty()) throw Napi::Error::New(env, "init() was already called");
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "onEvent must be a function");
  shared_->parked_idle_ns = ParkedIdleNs(env);
  on_event_ = Napi::Persistent(info[0].As<Napi::Function>());
  joiners_.Init(env);

  // join()'s answer once the env is stopping (see Join), made while JS can still run. Resolved
  // with a thenable whose then() never calls back, it stays pending and leaves no deferred behind.
  {
    Napi::Object thenable = Napi::Object::New(env);
    thenable.Set("then", Napi::Function::New(env, [](const Napi::CallbackInfo&) {}));
    napi_deferred deferred;
    napi_value promise;
    NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &deferred, &promise), Napi::Value());
    NAPI_THROW_IF_FAILED(env, napi_resolve_deferred(env, deferred, thenable), Napi::Value());
    never_settles_ = Napi::Persistent(Napi::Object(env, promise));
  }

  shared_->events = EventQueue::New(
      env, "BackgroundThread", 0 /* unbounded: calls never block */, 1, this,
      [](Napi::Env, LoopShared* shared, Loop*) {
        uv_mutex_lock(&shared->mutex);
        shared->gone = true;
        WakeParked(*shared);
        uv_mutex_unlock(&shared->mutex);
      },
      shared_.get());
  // The queue holds the loop open only while holds_ > 0 (see Hold).
  napi_unref_threadsafe_function(env, shared_->events);

  // Registered after the TSFN, so it runs before the TSFN's own cleanup (hooks run LIFO).
  NAPI_THROW_IF_FAILED(env, napi_add_async_cleanup_hook(env, OnTeardown, this, nullptr),
                       Napi::Value());
  return DefineProperties(Napi::Object::New(env),
                          {
                              InstanceMethod("start", &Loop::Start),
                              InstanceMethod("settled", &Loop::Settled),
                              InstanceMethod("join", &Loop::Join),
                              InstanceMethod("joinSync", &Loop::JoinSync),
                              InstanceMethod("identifyCurrentThread", &Loop::IdentifyCurrentThread),
                              InstanceMethod("adopt", &Loop::AdoptJs),
                              InstanceMethod("dropAdopted", &Loop::DropAdoptedJs),
                              InstanceMethod("bindAdopted", &Loop::BindAdoptedJs),
                              InstanceMethod("adoptedExited", &Loop::AdoptedExitedJs),
                              InstanceMethod("finishAdopted", &Loop::FinishAdoptedJs),
                              InstanceMethod("nativeId", &Loop::NativeId),
                              InstanceMethod("liveCount", &Loop::LiveCount),
                              InstanceMethod("liveThreads", &Loop::LiveThreads),
                              InstanceMethod("pollWithoutBlocking", &Loop::PollWithoutBlocking),
                              InstanceMethod("holdIsolateOpen", &Loop::HoldIsolateOpen),
                              InstanceMethod("finishAtTurnEnd", &Loop::FinishAtTurnEnd),
                          });
}

// start(name, stackSize, daemon, thread) -> [ident, nativeId]; throws an Error with the libuv
// `code`.
Napi::Value Loop::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsNumber() || !info[2].IsBoolean() || !info[3].IsObject()) {
    throw Napi::TypeError::New(
        env, "start(name: string, stackSize: number, daemon: boolean, thread: object)");
  }
  const double stack = info[1].As<Napi::Number>().DoubleValue();
  // Checked in TypeScript first; checked again because libuv aborts on a bad size.
  if (!(stack == 0 || (stack >= kMinStackSize && stack <= kMaxStackSize)) ||
      stack != std::floor(stack)) {
    throw Napi::RangeError::New(env, "stackSize out of range");
  }
  const bool daemon = info[2].As<Napi::Boolean>().Value();
  auto record = std::make_shared<ThreadRecord>(
      shared_, NextIdent(), info[0].As<Napi::String>().Utf8Value(), static_cast<size_t>(stack));
  const bool wait = live_.empty();  // the first fast path of record.h
  const int err = StartThread(record, wait);
  if (err != 0) {
    Napi::Error error = Napi::Error::New(env, uv_strerror(err));
    error.Set("code", Napi::String::New(env, uv_err_name(err)));
    error.Set("errno", Napi::Number::New(env, err));
    throw error;
  }
  // Written before kRunning, which StartThread saw when it waited; 0: not known yet (NativeId).
  const int64_t native_id = wait ? record->native_id : 0;
  const uint64_t ident = Register(env, std::move(record), daemon, info[3].As<Napi::Object>());

  Napi::Array ids = Napi::Array::New(env, 2);
  ids.Set(0u, Napi::Number::New(env, static_cast<double>(ident)));
  ids.Set(1u, Napi::Number::New(env, static_cast<double>(native_id)));
  return ids;
}

// settled(ident): the target (and any Promise it returned) has settled; let the thread end.
// The loop's only thread is reaped here (the second fast path of record.h); the spin budget
// shrinks after each miss, so that a busy machine does not pay it every time, and grows back
// after each hit.
Napi::Value Loop::Settled(const Napi::CallbackInfo& info) {
  const uint64_t ident = IdentArg(info, 0);
  auto it = live_.find(ident);
  if (it == live_.end()) return info.Env().Undefined();
  std::shared_ptr<ThreadRecord> record = it->second.record;

  const bool reap_here = live_.size() == 1;
  uv_mutex_lock(&shared_->mutex);
  const bool settling = record->state == ThreadState::kRunning;
  if (settling) {
    record->state = ThreadState::kSettled;
    record->reaper_waiting = reap_here;
  }
  uv_mutex_unlock(&shared_->mutex);
  // After the unlock: the woken OS thread then finds the mutex free.
  if (settling) uv_cond_broadcast(&record->changed);
  if (!settling || !reap_here) return info.Env().Undefined();

  SpinUntil(*record, ThreadState::kFinished, reap_spin_ns_);
  uv_mutex_lock(&shared_->mutex);
  const bool finished = record->state == ThreadState::kFinished;
  if (!finished) record->reaper_waiting = false;  // the thread will post kEnded after all
  uv_mutex_unlock(&shared_->mutex);

  reap_spin_ns_ = finished ? std::min(reap_spin_ns_ * 2, kMaxReapSpinNs)
                           : std::max(reap_spin_ns_ / 2, kMinReapSpinNs);
  if (finished) Reap(info.Env(), ident);
  return info.Env().Undefined();
}

// join(ident, seconds, keepAlive) -> Promise<boolean>: true once the OS thread has ended,
// false when `seconds` (negative: forever) pass first. The timeout is a libuv timer.
//
// Once the env is stopping (a Worker being terminated), every Node-API call that can run JS fails
// and node-addon-api swallows what it cannot throw: join() returned undefined, and a loop of
// `await Promise.all(joins)` never yielded to libuv. Only V8's termination ends such a loop, and
// it can be lost: V8 reports and clears it when it lands in a JS promise hook (async_hooks,
// AsyncLocalStorage) run from C++, as in our napi_create_promise. The Worker spun forever and its
// terminate() never resolved. A Promise that never settles lets the loop yield: Node's uv_stop
// and teardown run.
Napi::Value Loop::Join(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t ident = IdentArg(info, 0);
  const double seconds = SecondsArg(info, 1);
  bool keep_alive = false;
  if (napi_get_value_bool(env, info[2], &keep_alive) != napi_ok) {
    keep_alive = info[2].ToBoolean().Value();  // not a boolean (never from src/)
  }

  // The first call that needs JS; nothing has changed yet when it fails. A pending exception
  // propagates if it can still be thrown; it may be the termination itself, which Node-API's
  // TryCatch caught in this call: once the env is stopping it cannot be thrown, and we answer as
  // for any other failure then.
  napi_deferred deferred;
  napi_value promise;
  if (napi_create_promise(env, &deferred, &promise) != napi_ok) {
    bool pending = false;
    napi_value error;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &error) == napi_ok &&
        napi_throw(env, error) == napi_ok) {
      return Napi::Value();
    }
    return never_settles_.Value();  // the env is stopping (see above)
  }

  auto it = live_.find(ident);
  if (it != live_.end() && IsFinished(*it->second.record)) {
    Reap(env, ident);
    it = live_.end();
  }
  if (it == live_.end() || seconds == 0) {
    napi_value result;
    napi_get_boolean(env, it == live_.end(), &result);
    napi_resolve_deferred(env, deferred, result);
  } else {
    joiners_.Add(env, deferred, ident, seconds, keep_alive);
  }
  return Napi::Value(env, promise);
}

// joinSync(ident, seconds) -> 1 ended, 0 timed out, -1 the thread's end needs this loop (waiting
// here would deadlock). A timed wait on the thread's condition variable.
Napi::Value Loop::JoinSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t ident = IdentArg(info, 0);
  const double seconds = SecondsArg(info, 1);
  auto it = live_.find(ident);
  if (it == live_.end()) return Napi::Number::New(env, 1);
  std::shared_ptr<ThreadRecord> record = it->second.record;

  // Waiting would deadlock while the thread's end needs this loop: an event-loop target that has
  // not settled, or a Worker that ended uncleanly (its 'exit' event, on this loop, ends it).
  auto needs_loop = [&record] {
    return record->module_target ? record->body_gone : record->state < ThreadState::kSettled;
  };
  uv_mutex_lock(&shared_->mutex);
  if (seconds < 0) {
    while (record->state != ThreadState::kFinished && !needs_loop()) {
      uv_cond_wait(&record->changed, &shared_->mutex);
    }
  } else {
    // Spurious wake-ups happen: wait against a deadline, passing the time left (relative ns).
    const uint64_t deadline = uv_hrtime() + static_cast<uint64_t>(seconds * 1e9);
    while (record->state != ThreadState::kFinished && !needs_loop()) {
      const uint64_t now = uv_hrtime();
      if (now >= deadline) break;
      uv_cond_timedwait(&record->changed, &shared_->mutex, deadline - now);
    }
  }
  const bool finished = record->state == ThreadState::kFinished;
  const bool deadlock = !finished && needs_loop();
  uv_mutex_unlock(&shared_->mutex);

  if (finished) Reap(env, ident);
  return Napi::Number::New(env, finished ? 1 : deadlock ? -1 : 0);
}

// identifyCurrentThread() -> [ident, nativeId] for the calling JS thread (the MainThread object).
Napi::Value Loop::IdentifyCurrentThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array ids = Napi::Array::New(env, 2);
  ids.Set(0u, Napi::Number::New(env, static_cast<double>(NextIdent())));
  ids.Set(1u, Napi::Number::New(env, static_cast<double>(CurrentNativeThreadId())));
  return ids;
}

// adopt(name, daemon, thread) -> ident: registers a thread whose body is a module target's run
// in an isolate (src/isolate/body.ts) or a remote job. It is alive from now until finishAdopted.
Napi::Value Loop::AdoptJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsBoolean() || !info[2].IsObject()) {
    throw Napi::TypeError::New(env, "adopt(name: string, daemon: boolean, thread: object)");
  }
  const bool daemon = info[1].As<Napi::Boolean>().Value();
  auto record = std::make_shared<ThreadRecord>(shared_, NextIdent(),
                                               info[0].As<Napi::String>().Utf8Value(), 0);
  Adopt(record);
  const uint64_t ident = Register(env, std::move(record), daemon, info[2].As<Napi::Object>());
  return Napi::Number::New(env, static_cast<double>(ident));
}

// dropAdopted(ident): the run could not be handed to an isolate; the thread never was.
Napi::Value Loop::DropAdoptedJs(const Napi::CallbackInfo& info) {
  auto it = live_.find(IdentArg(info, 0));
  if (it == live_.end() || !it->second.record->module_target) return info.Env().Undefined();
  DropAdopted(it->second.record);
  Unregister(info.Env(), it);
  return info.Env().Undefined();
}

// bindAdopted(ident) -> nativeId, in the isolate's env: this OS thread is now the body of
// `ident`, and takes its name. If this env tears down before finishAdopted, that ends it.
Napi::Value Loop::BindAdoptedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<ThreadRecord> record = FindAdopted(IdentArg(info, 0));
  if (record == nullptr) throw Napi::Error::New(env, "no module thread with this ident");
  bound_.push_back(record);
  return Napi::Number::New(env, static_cast<double>(BindAdopted(*record)));
}

// adoptedExited(ident), in the isolate's env at its process 'exit' event: see AdoptedExited.
Napi::Value Loop::AdoptedExitedJs(const Napi::CallbackInfo& info) {
  std::shared_ptr<ThreadRecord> record = FindAdopted(IdentArg(info, 0));
  if (record != nullptr) AdoptedExited(*record);
  return info.Env().Undefined();
}

// finishAdopted(ident): the run has ended (any env may say so; only the first call counts).
// The isolate calls it when its thread has ended there (finishAtTurnEnd does, natively, on the
// warm path); the creator on the isolate's 'exit', for an isolate that died under the run or
// before it could bind.
Napi::Value Loop::FinishAdoptedJs(const Napi::CallbackInfo& info) {
  FinishBound(IdentArg(info, 0));
  return info.Env().Undefined();
}

void Loop::FinishBound(uint64_t ident) {
  bound_.erase(
      std::remove_if(bound_.begin(), bound_.end(),
                     [ident](const std::shared_ptr<ThreadRecord>& r) { return r->ident == ident; }),
      bound_.end());
  std::shared_ptr<ThreadRecord> record = FindAdopted(ident);
  if (record != nullptr) FinishAdopted(record);
}

// nativeId(ident) -> the kernel id of a live thread's OS thread, waiting (microseconds) for a new
// thread to report in; null for a module thread no isolate has bound yet, or unknown here.
Napi::Value Loop::NativeId(const Napi::CallbackInfo& info) {
  auto it = live_.find(IdentArg(info, 0));
  if (it == live_.end()) return info.Env().Null();
  if (!it->second.record->module_target) WaitUntilRunning(*it->second.record);
  uv_mutex_lock(&shared_->mutex);
  const int64_t native_id = it->second.record->native_id;
  uv_mutex_unlock(&shared_->mutex);
  if (native_id == 0) return info.Env().Null();
  return Napi::Number::New(info.Env(), static_cast<double>(native_id));
}

// liveCount() -> how many threads this loop has started that have not ended.
Napi::Value Loop::LiveCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(live_.size()));
}

// liveThreads() -> those threads' objects, in the order they were started (by ident).
Napi::Value Loop::LiveThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<const Entry*> entries;
  entries.reserve(live_.size());
  for (const auto& item : live_) entries.push_back(&item.second);
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->record->ident < b->record->ident; });
  Napi::Array threads = Napi::Array::New(env, entries.size());
  for (size_t i = 0; i < entries.size(); i++) {
    threads.Set(static_cast<uint32_t>(i), entries[i]->thread.Value());
  }
  return threads;
}

// pollWithoutBlocking(on): while on, this loop's poll phase does not block, yet nothing here holds
// the loop open. An active idle handle makes libuv poll with a zero timeout whether it is ref'd
// or not; unref'd, it does not count towards the loop being alive. Node keeps its own idle handle
// on for ref'd immediates only: src/thread/context.ts turns this on while a daemon thread's
// (unref'd) immediates are pending, so that they run at once whenever something else keeps the loop
// alive.
Napi::Value Loop::PollWithoutBlocking(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (tearing_down_) return env.Undefined();
  if (idle_.loop == nullptr) {
    uv_loop_t* loop = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_get_uv_event_loop(env, &loop), Napi::Value());
    uv_idle_init(loop, &idle_);
    idle_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&idle_));
  }
  if (info[0].ToBoolean().Value()) {
    uv_idle_start(&idle_, [](uv_idle_t*) {});
  } else {
    uv_idle_stop(&idle_);
  }
  return env.Undefined();
}

// holdIsolateOpen(), once, by an isolate's runner: from now on a handle of ours holds this loop
// open (the runner unrefs its port), so that LeftBehind can ask libuv whether anything else
// would.
Napi::Value Loop::HoldIsolateOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (tearing_down_ || hold_open_.loop != nullptr) return env.Undefined();
  uv_loop_t* loop = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_get_uv_event_loop(env, &loop), Napi::Value());
  uv_async_init(loop, &hold_open_, [](uv_async_t*) {});  // active (and ref'd) from now on
  hold_open_.data = this;
  uv_prepare_init(loop, &prepare_);
  prepare_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&prepare_));
  return env.Undefined();
}

// What a module thread may leave on its isolate once its export has settled, that would run
// later: threads of its own (this env's registry, daemon ones too), and whatever would keep a
// Node process from ending, which libuv answers (uv_loop_alive) once our own hold is let go:
// ref'd handles (timers, immediates, sockets, servers, ports, Workers, child processes),
// requests in flight (file system, DNS, the thread pool's work: crypto, zlib), handles being
// closed (their callbacks are still to run). What is unref'd is not counted, as in a process.
bool Loop::LeftBehind() {
  if (!live_.empty()) return true;
  uv_handle_t* hold = reinterpret_cast<uv_handle_t*>(&hold_open_);
  uv_unref(hold);
  const bool alive = uv_loop_alive(hold_open_.loop) != 0;
  uv_ref(hold);
  return alive;
}

// finishAtTurnEnd(ident), in an isolate whose thread's export has settled: finishes the run at
// this loop's next prepare phase, once the turn is over: its microtasks, the unhandled rejections
// Node raises after them (an uncaught error ends the isolate first, as that thread's), its
// immediates and close callbacks. If the thread has left something behind (LeftBehind),
// kLeftBehind(ident) goes to JS instead, which decides. libuv passes through
// the prepare phase before it polls anyway: this costs no turn of the loop, where a setImmediate
// costs one (some 15 us of CPU in a Worker on these machines, as much as the rest of a warm run).
Napi::Value Loop::FinishAtTurnEnd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t ident = IdentArg(info, 0);
  if (prepare_.loop == nullptr) throw Napi::Error::New(env, "holdIsolateOpen() was not called");
  if (tearing_down_) return env.Undefined();
  finish_at_turn_end_ = ident;
  uv_prepare_start(&prepare_,
                   [](uv_prepare_t* prepare) { static_cast<Loop*>(prepare->data)->OnTurnEnd(); });
  return env.Undefined();
}

void Loop::OnTurnEnd() {
  uv_prepare_stop(&prepare_);
  const uint64_t ident = finish_at_turn_end_;
  finish_at_turn_end_ = 0;
  if (ident == 0 || tearing_down_) return;
  if (!LeftBehind()) {
    FinishBound(ident);
    return;
  }
  auto event = std::make_unique<Event>(Event{EventKind::kLeftBehind, ident, 0});
  uv_mutex_lock(&shared_->mutex);
  PostEvent(*shared_, event);  // not posted (the env is going away): freed here
  uv_mutex_unlock(&shared_->mutex);
}

void Loop::OnEvent(napi_env env, const Event& event) {
  if (tearing_down_) return;
  switch (event.kind) {
    case EventKind::kRun: {
      auto it = live_.find(event.ident);
      if (it != live_.end()) Notify(env, event.kind, it->second.thread.Value(), event.native_id);
      break;
    }
    case EventKind::kEnded:
      Reap(env, event.ident);
      break;
    case EventKind::kLeftBehind:
      Notify(env, event.kind, Napi::Number::New(env, static_cast<double>(event.ident)), 0);
      break;
  }
}

uint64_t Loop::Register(napi_env env, std::shared_ptr<ThreadRecord> record, bool daemon,
                        Napi::Object thread) {
  const uint64_t ident = record->ident;
  live_.emplace(ident, Entry{std::move(record), Napi::Persistent(thread), daemon});
  if (!daemon) Hold(env);
  return ident;
}

Loop::Entry Loop::Unregister(napi_env env, Registry::iterator it) {
  Entry entry = std::move(it->second);
  live_.erase(it);
  if (!entry.daemon) Unhold(env);
  return entry;
}

bool Loop::IsFinished(const ThreadRecord& record) {
  uv_mutex_lock(&shared_->mutex);
  const bool finished = record.state == ThreadState::kFinished;
  uv_mutex_unlock(&shared_->mutex);
  return finished;
}

// The thread has finished (kFinished): tell JS, forget it, settle its joiners. While JS drains
// what the thread wrote and threw (an excepthook may run) it is still listed, as a Python thread
// is while its excepthook runs; a join from there finds it finished and returns (reaping).
void Loop::Reap(napi_env env, uint64_t ident) {
  auto it = live_.find(ident);
  if (it == live_.end() || it->second.reaping) return;  // joinSync got there first; or in JS now
  it->second.reaping = true;
  // Its OS thread has let go of it (record.h): it parks or ends on its own, no join needed.
  Notify(env, EventKind::kEnded, it->second.thread.Value(), it->second.record->native_id);
  it = live_.find(ident);  // JS may have started threads: the iterator may be stale
  if (it != live_.end()) Unregister(env, it);  // (gone if JS tore the env down)
  joiners_.ResolveAll(env, ident);
}

// Calls onEvent(kind, subject, nativeId). Never throws into C++: at teardown that would be fatal.
void Loop::Notify(napi_env env, EventKind kind, napi_value subject, int64_t native_id) {
  napi_value fn, recv, argv[3];
  if (napi_get_reference_value(env, on_event_, &fn) != napi_ok || fn == nullptr) return;
  argv[1] = subject;
  if (napi_get_undefined(env, &recv) != napi_ok ||
      napi_create_uint32(env, static_cast<uint32_t>(kind), &argv[0]) != napi_ok ||
      napi_create_double(env, static_cast<double>(native_id), &argv[2]) != napi_ok) {
    return;
  }
  if (napi_call_function(env, recv, fn, 3, argv, nullptr) == napi_pending_exception) {
    // onEvent catches everything a target throws; what escapes is our bug: report it loudly.
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}

void Loop::Hold(napi_env env) {
  if (holds_++ == 0) napi_ref_threadsafe_function(env, shared_->events);
}

void Loop::Unhold(napi_env env) {
  if (--holds_ == 0) napi_unref_threadsafe_function(env, shared_->events);
}

void Loop::HandleClosed() {
  if (--closing_handles_ == 0 && cleanup_handle_ != nullptr) {
    napi_remove_async_cleanup_hook(cleanup_handle_);  // teardown may go on now
  }
}

void Loop::OnTeardown(napi_async_cleanup_hook_handle handle, void* arg) {
  static_cast<Loop*>(arg)->Teardown(handle);
}

// The env is going away (process exit, Worker end): no more JS. Module threads bound to it
// end; threads that still wait, and parked OS threads, are woken to end on their own
// (LoopShared::gone); handles are closed, and teardown waits for that (one loop turn).
void Loop::Teardown(napi_async_cleanup_hook_handle handle) {
  tearing_down_ = true;
  cleanup_handle_ = handle;
  // This env is an isolate running a module thread: that thread has run its last JavaScript.
  for (auto& record : bound_) AdoptedBodyGone(record);
  bound_.clear();
  // Module threads this env created can no longer be joined: the registry lets go of them.
  for (auto& item : live_) {
    if (item.second.record->module_target) ForgetAdopted(item.first);
  }

  uv_mutex_lock(&shared_->mutex);
  shared_->gone = true;
  for (auto& item : live_) uv_cond_broadcast(&item.second.record->changed);
  WakeParked(*shared_);
  uv_mutex_unlock(&shared_->mutex);
  live_.clear();

  joiners_.CloseAll(env_);
  for (uv_handle_t* handle :
       {reinterpret_cast<uv_handle_t*>(&idle_), reinterpret_cast<uv_handle_t*>(&hold_open_),
        reinterpret_cast<uv_handle_t*>(&prepare_)}) {
    if (handle->loop == nullptr) continue;  // never initialized
    HandleClosing();
    uv_close(handle, [](uv_handle_t* closed) { static_cast<Loop*>(closed->data)->HandleClosed(); });
  }
  if (closing_handles_ == 0) napi_remove_async_cleanup_hook(handle);
}

}  // namespace bgthread

using bgthread::Loop;
NODE_API_ADDON(Loop)
