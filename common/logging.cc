#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

namespace berth {

namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }
LogLevel GetLogLevel() { return g_level; }

LogLine::LogLine(LogLevel level, const char* file, int line) : level_(level) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts;
  gmtime_r(&ts.tv_sec, &parts);
  char when[64];
  std::snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                ts.tv_nsec / 1000);
  const char* base = file;
  for (const char* p = file; *p; ++p) {
    if (*p == '/') base = p + 1;
  }
  stream_ << when << ' ' << LevelName(level) << ' ' << base << ':' << line << "] ";
}

LogLine& LogLine::operator<<(const Kv& kv) {
  stream_ << ' ' << kv.key << '=';
  if (kv.value.find_first_of(" \t\"") != std::string::npos || kv.value.empty()) {
    stream_ << '"';
    for (char c : kv.value) {
      if (c == '"' || c == '\\') stream_ << '\\';
      stream_ << c;
    }
    stream_ << '"';
  } else {
    stream_ << kv.value;
  }
  return *this;
}

LogLine::~LogLine() {
  stream_ << '\n';
  std::string text = stream_.str();
  // One write per line so concurrent lines do not interleave.
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
  (void)level_;
}

}  // namespace berth
