// Test helper: a temporary directory that stands in for /sys/fs/cgroup and /proc.
#pragma once

#include <stdlib.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth {

class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/berth-cgroups-test-XXXXXX";
    char* dir = ::mkdtemp(tmpl);
    EXPECT_NE(dir, nullptr);
    path_ = dir ? dir : "/nonexistent";
  }
  ~TempTree() { (void)RemoveAll(path_); }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& path() const { return path_; }
  std::string Path(const std::string& relative) const { return absl::StrCat(path_, "/", relative); }

  // Writes `content` at `relative`, making its parent dirs.
  void Write(const std::string& relative, const std::string& content) const {
    std::string full = Path(relative);
    ASSERT_TRUE(MkdirAll(full.substr(0, full.find_last_of('/'))).ok());
    ASSERT_TRUE(AtomicWriteFile(full, content, 0644, false).ok());
  }

 private:
  std::string path_;
};

}  // namespace berth
