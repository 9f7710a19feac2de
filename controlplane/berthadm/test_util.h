// Test helpers: a shell command's output (the openssl CLI as an independent
// check) and a temporary directory removed at the end.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/strip.h"
#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::berthadm {

// stdout of a shell command and its exit status (-1 when it did not exit).
inline std::pair<std::string, int> RunShell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return {out, -1};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// stdout of a shell command that must succeed (the openssl CLI, as an
// independent check), without surrounding whitespace.
inline std::string Shell(const std::string& command) {
  auto [out, rc] = RunShell(command);
  EXPECT_EQ(rc, 0) << command;
  return std::string(absl::StripAsciiWhitespace(out));
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berthadm-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace berth::berthadm
