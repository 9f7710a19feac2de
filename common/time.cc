#include "common/time.h"

#include <cstdio>
#include <ctime>

namespace berth {

int64_t NowUnixNanos() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string FormatRfc3339Nano(int64_t unix_nanos) {
  // Floor division: a time before 1970 has a negative second and a
  // non-negative fraction (-1 ns is 1969-12-31T23:59:59.999999999Z).
  int64_t secs64 = unix_nanos / 1000000000;
  int64_t frac = unix_nanos % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    secs64 -= 1;
  }
  time_t secs = static_cast<time_t>(secs64);
  long nanos = static_cast<long>(frac);
  tm parts;
  gmtime_r(&secs, &parts);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, nanos);
  return buf;
}

}  // namespace berth
