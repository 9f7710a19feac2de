// Minimal structured logging to stderr: one line per event, with a level,
// a timestamp and key=value fields.
//
//   BERTH_LOG(Info) << "started container" << Kv("id", id);
#pragma once

#include <sstream>
#include <string>
#include "absl/strings/string_view.h"

namespace berth {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// One key=value field; the value is quoted when it has spaces.
struct Kv {
  Kv(absl::string_view k, absl::string_view v) : key(k), value(v) {}
  Kv(absl::string_view k, long long v) : key(k), value(std::to_string(v)) {}
  std::string key;
  std::string value;
};

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  template <typename T>
  LogLine& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }
  LogLine& operator<<(const Kv& kv);

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace berth

#define BERTH_LOG(level)                                                   \
  if (::berth::LogLevel::k##level < ::berth::GetLogLevel()) {              \
  } else                                                                   \
    ::berth::LogLine(::berth::LogLevel::k##level, __FILE__, __LINE__)
