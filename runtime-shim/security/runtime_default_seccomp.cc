// berth's RuntimeDefault seccomp profile: an allowlist written for berth,
// grouped by what the calls are for. Anything not listed fails with EPERM.
// Deliberately absent (so blocked): module loading and kexec, reboot, swap,
// mount/umount2/pivot_root, unshare/setns, bpf, perf_event_open, ptrace and
// process_vm_*, the kernel keyring, acct, clock and time setting,
// open_by_handle_at, userfaultfd, lookup_dcookie, quotactl, syslog, vhangup,
// iopl/ioperm, io_uring, and the obsolete create_module, get_kernel_syms,
// query_module, nfsservctl, uselib, ustat, sysfs and _sysctl.
#include <sched.h>

#include <cerrno>
#include <cstdint>

#include "nlohmann/json.hpp"
#include "runtime-shim/security/seccomp.h"

namespace berth {
namespace {

// Names for x86_64 and aarch64, plus the 32-bit spellings (stat64, _llseek,
// socketcall, ...) so the list also serves a profile that adds a compat ABI;
// names the filter's ABIs lack are dropped by libseccomp.
constexpr const char* kAllowed[] = {
    // Reading and writing descriptors.
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "lseek", "_llseek", "sendfile", "sendfile64", "splice", "tee", "vmsplice",
    "copy_file_range", "ioctl", "fcntl", "fcntl64", "flock",
    // Opening, closing, duplicating.
    "open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3", "pipe",
    "pipe2", "memfd_create", "name_to_handle_at",
    // Durability and sizes.
    "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "sync_file_range2",
    "arm_sync_file_range", "truncate", "truncate64", "ftruncate", "ftruncate64", "fallocate",
    "fadvise64", "fadvise64_64", "arm_fadvise64_64", "readahead",
    // File metadata.
    "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "newfstatat", "fstatat64", "statx",
    "statfs", "statfs64", "fstatfs", "fstatfs64", "access", "faccessat", "faccessat2", "chmod",
    "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat",
    "lchown", "lchown32", "utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
    "umask", "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr",
    "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
    // Directory tree.
    "getdents", "getdents64", "readlink", "readlinkat", "mkdir", "mkdirat", "rmdir", "rename",
    "renameat", "renameat2", "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat",
    "mknod", "mknodat", "chdir", "fchdir", "getcwd", "chroot",
    // Waiting on many descriptors.
    "select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create", "timerfd_settime",
    "timerfd_settime64", "timerfd_gettime", "timerfd_gettime64", "inotify_init",
    "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    // Asynchronous I/O (io_uring stays out: a large, often-exploited surface).
    "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64",
    // Memory.
    "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "pkey_mprotect", "pkey_alloc",
    "pkey_free", "madvise", "mincore", "mlock", "mlock2", "munlock", "mlockall", "munlockall",
    "msync", "membarrier", "remap_file_pages", "get_mempolicy", "set_mempolicy", "mbind",
    "map_shadow_stack", "cachestat",
    // Processes and threads (clone is below, with its flags checked).
    "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid",
    "set_tid_address", "set_robust_list", "get_robust_list", "futex", "futex_time64",
    "futex_waitv", "rseq", "restart_syscall", "arch_prctl", "set_thread_area",
    "get_thread_area", "set_tls", "cacheflush", "breakpoint", "prctl", "seccomp",
    "pidfd_open", "pidfd_send_signal", "landlock_create_ruleset", "landlock_add_rule",
    "landlock_restrict_self",
    // Identity and process attributes (the capability checks still apply).
    "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
    "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
    "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid",
    "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32", "getresuid",
    "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32", "setgroups",
    "setgroups32", "setfsuid", "setfsuid32", "setfsgid", "setfsgid32", "capget", "capset",
    "getrlimit", "ugetrlimit", "setrlimit", "prlimit64", "getrusage", "times", "uname",
    "sysinfo", "getrandom", "getcpu",
    // Scheduling.
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
    "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_getattr", "sched_setattr", "getpriority", "setpriority", "ioprio_get", "ioprio_set",
    // Signals.
    "kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigpending", "rt_sigtimedwait", "rt_sigtimedwait_time64",
    "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaction", "sigprocmask", "sigreturn",
    "sigsuspend", "sigpending", "sigaltstack", "signal", "pause", "alarm",
    // Reading clocks and sleeping (setting clocks stays blocked).
    "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
    "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "gettimeofday", "time",
    "getitimer", "setitimer", "timer_create", "timer_settime", "timer_settime64",
    "timer_gettime", "timer_gettime64", "timer_getoverrun", "timer_delete",
    // Sockets.
    "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
    "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom", "send", "recv", "sendmsg",
    "recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64", "shutdown", "socketcall",
    // System V and POSIX IPC (namespaced by the pod's IPC namespace).
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "semctl", "shmget", "shmat", "shmdt", "shmctl", "ipc", "mq_open",
    "mq_unlink", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_notify", "mq_getsetattr",
};

// Every namespace-creating clone flag; clone(2) keeps the exit signal in the
// low byte, so CLONE_NEWTIME (0x80) is not among them.
constexpr uint64_t kCloneNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                                          CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                          CLONE_NEWNET;

// personality(2) values that change nothing dangerous: Linux, the 32-bit
// Linux personality, and 0xffffffff, which only queries.
constexpr uint64_t kPlainPersonalities[] = {0x0, 0x8, 0xffffffff};

// The native 64-bit ABI only. Each 32-bit compat ABI (x86, x32, arm) would
// multiply libseccomp's compile time (about 1.5 ms native, +10 ms each) on
// every container start; a 32-bit binary under this profile is killed with
// SIGSYS, and a Localhost profile can list SCMP_ARCH_X86 / SCMP_ARCH_ARM.
nlohmann::json Architectures() {
#if defined(__x86_64__)
  return {"SCMP_ARCH_X86_64"};
#elif defined(__aarch64__)
  return {"SCMP_ARCH_AARCH64"};
#else
  return nlohmann::json::array();  // seccomp_init's native architecture
#endif
}

std::string BuildProfile() {
  nlohmann::json syscalls = nlohmann::json::array();
  syscalls.push_back({{"names", kAllowed}, {"action", "SCMP_ACT_ALLOW"}});
  syscalls.push_back(
      {{"names", {"clone"}},
       {"action", "SCMP_ACT_ALLOW"},
       {"args",
        {{{"index", 0}, {"value", kCloneNamespaceFlags}, {"valueTwo", 0},
          {"op", "SCMP_CMP_MASKED_EQ"}}}}});
  // No flags to inspect behind clone3's struct pointer: answer ENOSYS so libc
  // falls back to clone, where the flags are checked.
  syscalls.push_back({{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOSYS}});
  for (uint64_t persona : kPlainPersonalities) {
    syscalls.push_back(
        {{"names", {"personality"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"args", {{{"index", 0}, {"value", persona}, {"op", "SCMP_CMP_EQ"}}}}});
  }
  nlohmann::json profile = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", EPERM},
      {"architectures", Architectures()},
      {"syscalls", syscalls},
  };
  return profile.dump();
}

}  // namespace

std::string RuntimeDefaultSeccompProfile() {
  static const std::string* const profile = new std::string(BuildProfile());
  return *profile;
}

}  // namespace berth
