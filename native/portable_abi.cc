// A prebuild made on this machine (glibc 2.36, GCC 12) must load wherever Node 18+ runs: glibc
// 2.28 and the libstdc++ of GCC 10 (GLIBCXX_3.4.28). Header code of GCC 12 would reference two
// newer symbols; hidden definitions here satisfy those references inside the addon instead.
// `npm run test:package` checks the symbol versions the prebuild needs.
#include <new>  // first: it defines __GLIBC__ (through <features.h>)

#if defined(__linux__) && defined(__GLIBC__)

// glibc 2.32: libstdc++ reads it to skip atomics in shared_ptr when the process has one thread.
// 0 means "there are threads": the atomics are always used, which is what an addon that starts
// threads needs anyway.
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}

// GLIBCXX_3.4.29 (GCC 11): thrown by std::allocator when an array size overflows.
namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length() {
  throw std::bad_array_new_length();
}
}  // namespace std

#endif
