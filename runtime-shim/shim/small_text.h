// A fixed-capacity text builder that never allocates: for berth-shim-monitor,
// which has no heap, and the pieces it shares with berth-shim.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace berth::shim {

class TextSpan {
 public:
  TextSpan(char* buffer, size_t capacity) : data_(buffer), capacity_(capacity) {}

  TextSpan& Append(std::string_view text) {
    size_t n = text.size() <= capacity_ - size_ ? text.size() : capacity_ - size_;
    for (size_t i = 0; i < n; ++i) data_[size_ + i] = text[i];
    size_ += n;
    if (n < text.size()) truncated_ = true;
    return *this;
  }
  TextSpan& Append(char c) { return Append(std::string_view(&c, 1)); }
  TextSpan& AppendInt(int64_t value) {
    char digits[24];
    size_t n = 0;
    uint64_t v = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    do {
      digits[sizeof(digits) - 1 - n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    if (value < 0) digits[sizeof(digits) - 1 - n++] = '-';
    return Append(std::string_view(digits + sizeof(digits) - n, n));
  }
  void Clear() {
    size_ = 0;
    truncated_ = false;
  }
  // NUL-terminates (within the capacity) and returns the text as a C string.
  const char* CStr() {
    if (size_ == capacity_) {
      --size_;
      truncated_ = true;
    }
    data_[size_] = '\0';
    return data_;
  }

  std::string_view view() const { return std::string_view(data_, size_); }
  size_t size() const { return size_; }
  bool truncated() const { return truncated_; }

 private:
  char* data_;
  size_t capacity_;
  size_t size_ = 0;
  bool truncated_ = false;
};

// A TextSpan over its own storage.
template <size_t N>
class Text : public TextSpan {
 public:
  Text() : TextSpan(storage_, N) {}
  Text(const Text&) = delete;
  Text& operator=(const Text&) = delete;

 private:
  char storage_[N];
};

}  // namespace berth::shim
