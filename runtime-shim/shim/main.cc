// berth-shim: the per-container parent process. See README.md.
//   berth-shim create --bundle DIR
//   berth-shim exec --bundle DIR [--tty] -- ARG...
//   berth-shim pidns-init --pidfile FILE
//   berth-shim compress-log FILE
#include <cstdio>
#include <cstring>
#include <string>

#include "runtime-shim/shim/container_shim.h"
#include "runtime-shim/shim/exec_command.h"
#include "runtime-shim/shim/log_compressor.h"
#include "runtime-shim/shim/pidns_init.h"

namespace {

int Usage() {
  std::fputs(
      "usage: berth-shim create --bundle DIR\n"
      "       berth-shim exec --bundle DIR [--tty] -- ARG...\n"
      "       berth-shim pidns-init --pidfile FILE\n"
      "       berth-shim compress-log FILE\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  if (command == "compress-log") {
    if (argc != 3) return Usage();
    absl::Status status = berth::shim::CompressLogFile(argv[2]);
    if (!status.ok()) {
      std::fprintf(stderr, "berth-shim compress-log: %s\n", std::string(status.message()).c_str());
      return 1;
    }
    return 0;
  }
  std::string bundle, pidfile;
  berth::shim::ExecOptions exec;
  for (int i = 2; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--bundle") == 0 && i + 1 < argc) {
      bundle = argv[++i];
    } else if (std::strcmp(arg, "--pidfile") == 0 && i + 1 < argc) {
      pidfile = argv[++i];
    } else if (std::strcmp(arg, "--tty") == 0) {
      exec.tty = true;
    } else if (std::strcmp(arg, "--") == 0 && command == "exec") {
      for (++i; i < argc; ++i) exec.args.push_back(argv[i]);
    } else {
      std::fprintf(stderr, "berth-shim %s: unexpected argument \"%s\"\n", command.c_str(), arg);
      return Usage();
    }
  }
  if (command == "create" && !bundle.empty()) return berth::shim::RunCreateCommand(bundle);
  if (command == "exec" && !bundle.empty()) {
    exec.bundle = bundle;
    return berth::shim::RunExecCommand(exec);
  }
  if (command == "pidns-init" && !pidfile.empty()) {
    return berth::shim::RunPidNamespaceInit(pidfile);
  }
  return Usage();
}
