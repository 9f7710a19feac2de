// Small file-descriptor helpers for the shim: an owning fd and whole writes.
#pragma once

#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace berth::shim {

// Owns one fd; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Writes all of `data`, retrying on EINTR and short writes.
absl::Status WriteFully(int fd, absl::string_view data, absl::string_view what);

// Reads until EOF (or `max` bytes), retrying on EINTR.
absl::Status ReadToEof(int fd, std::string* out, size_t max, absl::string_view what);

// A pipe with both ends close-on-exec.
absl::Status MakePipe(UniqueFd* read_end, UniqueFd* write_end);

}  // namespace berth::shim
