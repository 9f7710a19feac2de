// berth-cri: a small crictl-like CRI client. See README.md.
#include <stdlib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "hack/berth-cri/cli_args.h"
#include "hack/berth-cri/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto invocation = berth::cri_cli::ParseCommandLine(args, [](const std::string& name) {
    const char* value = getenv(name.c_str());
    return std::string(value == nullptr ? "" : value);
  });
  if (!invocation.ok()) {
    std::fprintf(stderr, "berth-cri: %s\n", std::string(invocation.status().message()).c_str());
    return 2;
  }
  return berth::cri_cli::RunInvocation(*invocation);
}
