// What libuv 1.46 (Node 20) cannot do for a thread, per platform: name it, read its kernel id,
// detach it. uv_thread_setname/getname/detach only arrived in libuv 1.50, and a binary that
// references them would not load on Node 20.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

namespace bgthread {

// Names the calling thread (best effort: truncated to the platform's limit on a UTF-8
// boundary, unnamed if that fails) and returns its kernel id (gettid on Linux), as `ps -T` and
// `top -H` show them.
int64_t NameCurrentThread(const std::string& name);

// The kernel's id of the calling thread, without naming it.
int64_t CurrentNativeThreadId();

// Lets a thread that nobody will join free its own resources when it ends.
void DetachThread(uv_thread_t* tid);

// Keeps this addon loaded for the life of the process. A Worker that loaded it unloads it when it
// ends, and a thread still returning through our code would jump into unmapped memory. Linux:
// linked with -z nodelete (binding.gyp, CMakeLists.txt), nothing to do here; macOS and the BSDs:
// one more dlopen() reference with RTLD_NODELETE, never closed; Windows: the module is pinned.
void PinAddon();

// Longest name the OS keeps, in bytes, without the terminating NUL (0: no limit we know).
size_t MaxThreadNameBytes();

// Cuts `name` to at most `limit` bytes without splitting a UTF-8 sequence (0: no cut).
std::string TruncateUtf8(const std::string& name, size_t limit);

}  // namespace bgthread
