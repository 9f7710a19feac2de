// The little of a C runtime that berth-shim-monitor needs when it links no
// libc (x86_64 and aarch64): the entry point and the memory functions the
// compiler may call. Elsewhere the monitor links libc and has a plain main().
#include <cstddef>

#include "runtime-shim/shim/raw_syscalls.h"

namespace berth::shim {
int MonitorMain(int argc, char** argv);
}  // namespace berth::shim

#if defined(BERTH_MONITOR_NO_LIBC)

extern "C" {

void* memcpy(void* dst, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  auto* s = static_cast<const unsigned char*>(src);
  while (n-- > 0) *d++ = *s++;
  return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  auto* s = static_cast<const unsigned char*>(src);
  if (d < s) {
    while (n-- > 0) *d++ = *s++;
  } else {
    while (n-- > 0) d[n] = s[n];
  }
  return dst;
}

void* memset(void* dst, int c, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  while (n-- > 0) *d++ = static_cast<unsigned char>(c);
  return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
  auto* x = static_cast<const unsigned char*>(a);
  auto* y = static_cast<const unsigned char*>(b);
  for (; n > 0; --n, ++x, ++y) {
    if (*x != *y) return *x < *y ? -1 : 1;
  }
  return 0;
}

void* memchr(const void* p, int c, size_t n) {
  auto* s = static_cast<const unsigned char*>(p);
  for (; n > 0; --n, ++s) {
    if (*s == static_cast<unsigned char>(c)) return const_cast<unsigned char*>(s);
  }
  return nullptr;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

// The kernel starts us with argc, argv... on the stack.
[[noreturn]] __attribute__((used)) void berth_monitor_start(long* stack) {
  int argc = static_cast<int>(stack[0]);
  char** argv = reinterpret_cast<char**>(stack + 1);
  berth::shim::sys::Exit(berth::shim::MonitorMain(argc, argv));
}

}  // extern "C"

#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".global _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call berth_monitor_start\n"
    "  hlt\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n"
    ".global _start\n"
    "_start:\n"
    "  mov x29, #0\n"
    "  mov x30, #0\n"
    "  mov x0, sp\n"
    "  bl berth_monitor_start\n"
    "  brk #0\n");
#else
#error "BERTH_MONITOR_NO_LIBC needs x86_64 or aarch64"
#endif

#else  // with libc

int main(int argc, char** argv) { return berth::shim::MonitorMain(argc, argv); }

#endif
