// Linux system calls without libc, for berth-shim-monitor (which links no
// libc on x86_64 and aarch64) and the small pieces it shares with berth-shim.
// Every call returns the kernel's result: >= 0, or -errno.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include <cstddef>
#include <cstdint>

#include <errno.h>
#if !defined(__x86_64__) && !defined(__aarch64__)
#include <unistd.h>
#endif

namespace berth::shim::sys {

#if defined(__x86_64__)
inline long Call6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
inline long Call6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
}
#else
inline long Call6(long n, long a, long b, long c, long d, long e, long f) {
  long ret = ::syscall(n, a, b, c, d, e, f);
  return ret < 0 ? -errno : ret;
}
#endif

template <typename A = long, typename B = long, typename C = long, typename D = long,
          typename E = long, typename F = long>
inline long Call(long n, A a = 0, B b = 0, C c = 0, D d = 0, E e = 0, F f = 0) {
  return Call6(n, (long)a, (long)b, (long)c, (long)d, (long)e, (long)f);
}

// Calls `f` again while it fails with EINTR.
template <typename F>
inline long Retry(F f) {
  long r;
  do {
    r = f();
  } while (r == -EINTR);
  return r;
}

inline long Read(int fd, void* buf, size_t n) { return Call(SYS_read, fd, buf, n); }
inline long Write(int fd, const void* buf, size_t n) { return Call(SYS_write, fd, buf, n); }
inline long Writev(int fd, const struct iovec* iov, int n) { return Call(SYS_writev, fd, iov, n); }
inline long Close(int fd) { return Call(SYS_close, fd); }
inline long OpenAt(int dir, const char* path, int flags, int mode = 0) {
  return Call(SYS_openat, dir, path, flags, mode);
}
inline long Open(const char* path, int flags, int mode = 0) {
  return OpenAt(AT_FDCWD, path, flags, mode);
}
inline long Mkdir(const char* path, int mode) { return Call(SYS_mkdirat, AT_FDCWD, path, mode); }
inline long Rename(const char* from, const char* to) {
  return Call(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to);
}
inline long Unlink(const char* path) { return Call(SYS_unlinkat, AT_FDCWD, path, 0); }
// rename(2) that fails with EEXIST instead of replacing `to`.
inline long RenameNoReplace(const char* from, const char* to) {
  return Call(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */);
}
// 0 when `path` exists (without following a final symlink), else -errno.
inline long Exists(const char* path) {
  return Call(SYS_faccessat, AT_FDCWD, path, 0 /* F_OK */, 0);
}
inline long SeekEnd(int fd) { return Call(SYS_lseek, fd, 0, 2 /* SEEK_END */); }
inline long Ioctl(int fd, unsigned long request, void* arg) { return Call(SYS_ioctl, fd, request, arg); }
// A child that shares nothing but copies of our memory and fds (fork(2)):
// 0 in the child, its pid in the parent, or -errno.
inline long Fork() { return Call(SYS_clone, SIGCHLD, 0, 0, 0, 0); }
inline long Execve(const char* path, char* const* argv, char* const* envp) {
  return Call(SYS_execve, path, argv, envp);
}
inline long Fdatasync(int fd) { return Call(SYS_fdatasync, fd); }
inline long Fcntl(int fd, int cmd, long arg = 0) { return Call(SYS_fcntl, fd, cmd, arg); }
inline long Poll(struct pollfd* fds, unsigned n) {
  return Call(SYS_ppoll, fds, n, nullptr, nullptr, 0);
}
inline long Accept4(int fd, int flags) { return Call(SYS_accept4, fd, nullptr, nullptr, flags); }
inline long Recv(int fd, void* buf, size_t n) { return Call(SYS_recvfrom, fd, buf, n, 0, 0, 0); }
inline long Send(int fd, const void* buf, size_t n, int flags) {
  return Call(SYS_sendto, fd, buf, n, flags, 0, 0);
}
inline long SendMsg(int fd, const struct msghdr* msg, int flags) {
  return Call(SYS_sendmsg, fd, msg, flags);
}
inline long SetSockOpt(int fd, int level, int name, const void* value, unsigned len) {
  return Call(SYS_setsockopt, fd, level, name, value, len);
}
inline long Kill(pid_t pid, int sig) { return Call(SYS_kill, pid, sig); }
inline long Wait4(pid_t pid, int* status, int options) {
  return Call(SYS_wait4, pid, status, options, nullptr);
}
inline long GetPid() { return Call(SYS_getpid); }
inline long Prctl(int option, unsigned long arg) { return Call(SYS_prctl, option, arg, 0, 0, 0); }
// `mask` is the kernel's 64-bit sigset.
inline long BlockSignals(uint64_t mask) {
  return Call(SYS_rt_sigprocmask, SIG_BLOCK, &mask, nullptr, sizeof(mask));
}
inline long SignalFd(uint64_t mask, int flags) {
  return Call(SYS_signalfd4, -1, &mask, sizeof(mask), flags);
}
inline long IgnoreSignal(int sig) {
  struct {
    unsigned long handler, flags, restorer;
    uint64_t mask;
  } action = {1 /* SIG_IGN */, 0, 0, 0};
  return Call(SYS_rt_sigaction, sig, &action, nullptr, sizeof(uint64_t));
}
inline uint64_t SignalBit(int sig) { return uint64_t{1} << (sig - 1); }
inline int64_t RealtimeNanos() {
  struct timespec ts = {};
  Call(SYS_clock_gettime, CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}
[[noreturn]] inline void Exit(int code) {
  for (;;) Call(SYS_exit_group, code);
}

// Writes all of `data` (retrying short writes and EINTR): 0 or -errno.
inline long WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    long w = Retry([&] { return Write(fd, data, n); });
    if (w < 0) return w;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

// strerror's text for the errors the monitor may meet; nullptr for others.
const char* ErrnoText(long err);

}  // namespace berth::shim::sys
