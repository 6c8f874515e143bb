#include "os_thread.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#include <pthread.h>
#endif
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__FreeBSD__)
#include <pthread_np.h>
#endif

#if defined(__linux__) && defined(__GLIBC__)
// pthread_detach moved into libc in glibc 2.34 under a new symbol version; bind to the original
// one, which every glibc keeps, so that a prebuild loads on glibc 2.28 (see portable_abi.cc).
#if defined(__x86_64__)
__asm__(".symver pthread_detach,pthread_detach@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver pthread_detach,pthread_detach@GLIBC_2.17");
#endif
#endif

namespace bgthread {

void PinAddon() {
#if defined(_WIN32)
  HMODULE module = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                     reinterpret_cast<LPCWSTR>(&PinAddon), &module);
#elif !defined(__linux__)
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&PinAddon), &info) != 0 && info.dli_fname != nullptr) {
    dlopen(info.dli_fname, RTLD_LAZY | RTLD_NODELETE);  // the handle is deliberately never closed
  }
#endif
}

size_t MaxThreadNameBytes() {
#if defined(__linux__)
  return 15;  // 16 with the NUL; pthread_setname_np fails with ERANGE beyond
#elif defined(__APPLE__)
  return 63;
#elif defined(__FreeBSD__)
  return 19;
#else
  return 0;
#endif
}

std::string TruncateUtf8(const std::string& name, size_t limit) {
  if (limit == 0 || name.size() <= limit) return name;
  size_t end = limit;
  // Step back over continuation bytes (10xxxxxx) so that no sequence is cut in half.
  while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) end--;
  return name.substr(0, end);
}

namespace {

void SetCurrentThreadName(const std::string& name) {
  const std::string cut = TruncateUtf8(name, MaxThreadNameBytes());
#if defined(__linux__)
  prctl(PR_SET_NAME, cut.c_str(), 0, 0, 0);  // the calling thread; older than pthread_setname_np
#elif defined(__APPLE__)
  pthread_setname_np(cut.c_str());
#elif defined(__FreeBSD__)
  pthread_set_name_np(pthread_self(), cut.c_str());
#elif defined(_WIN32)
  // SetThreadDescription exists from Windows 10 1607 on: look it up rather than link to it.
  using SetDescription = HRESULT(WINAPI*)(HANDLE, PCWSTR);
  static const auto set_description = reinterpret_cast<SetDescription>(reinterpret_cast<void*>(
      GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "SetThreadDescription")));
  if (set_description == nullptr) return;
  int wide_len = MultiByteToWideChar(CP_UTF8, 0, cut.c_str(), -1, nullptr, 0);
  if (wide_len <= 0) return;
  std::wstring wide(static_cast<size_t>(wide_len), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, cut.c_str(), -1, &wide[0], wide_len);
  set_description(GetCurrentThread(), wide.c_str());
#else
  (void)cut;
#endif
}

}  // namespace

int64_t NameCurrentThread(const std::string& name) {
  try {
    SetCurrentThreadName(name);
  } catch (...) {
    // A name that cannot be copied (out of memory) is not worth losing the thread over.
  }
  return CurrentNativeThreadId();
}

int64_t CurrentNativeThreadId() {
#if defined(__linux__)
  return static_cast<int64_t>(syscall(SYS_gettid));  // gettid() itself needs glibc 2.30
#elif defined(__APPLE__)
  uint64_t id = 0;
  pthread_threadid_np(nullptr, &id);
  return static_cast<int64_t>(id);
#elif defined(__FreeBSD__)
  return static_cast<int64_t>(pthread_getthreadid_np());
#elif defined(_WIN32)
  return static_cast<int64_t>(GetCurrentThreadId());
#else
  return -1;
#endif
}

void DetachThread(uv_thread_t* tid) {
#if defined(_WIN32)
  CloseHandle(*tid);  // a uv_thread_t is the thread's HANDLE
#else
  pthread_detach(*tid);
#endif
}

}  // namespace bgthread
