#include "runtime-shim/shim/mount_options.h"

#include <sys/mount.h>

#include <utility>

namespace berth::shim {
namespace {

struct FlagOption {
  const char* name;
  bool clear;
  unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"ro", false, MS_RDONLY},          {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},      {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},        {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},      {"exec", true, MS_NOEXEC},
    {"bind", false, MS_BIND},          {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},  {"norelatime", true, MS_RELATIME},
    {"noatime", false, MS_NOATIME},    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME}, {"diratime", true, MS_NODIRATIME},
    {"strictatime", false, MS_STRICTATIME}, {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},   {"dirsync", false, MS_DIRSYNC},
    {"mand", false, MS_MANDLOCK},      {"nomand", true, MS_MANDLOCK},
    {"defaults", false, 0},
};

constexpr std::pair<const char*, unsigned long> kPropagationOptions[] = {
    {"private", MS_PRIVATE},   {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},       {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},     {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

}  // namespace

bool MountOptions::bind() const { return (flags & MS_BIND) != 0; }
bool MountOptions::readonly() const { return (flags & MS_RDONLY) != 0; }

MountOptions ParseMountOptions(const std::vector<std::string>& options, const std::string& type) {
  MountOptions result;
  if (type == "bind") result.flags |= MS_BIND;
  for (const std::string& option : options) {
    bool known = false;
    for (const FlagOption& f : kFlagOptions) {
      if (option == f.name) {
        if (f.clear) {
          result.flags &= ~f.flag;
        } else {
          result.flags |= f.flag;
        }
        known = true;
        break;
      }
    }
    for (const auto& [name, flag] : kPropagationOptions) {
      if (known) break;
      if (option == name) {
        result.propagation = flag;
        known = true;
      }
    }
    if (known) continue;
    if (!result.data.empty()) result.data += ',';
    result.data += option;
  }
  return result;
}

}  // namespace berth::shim
