// Clock helpers: wall-clock nanoseconds (CRI timestamps) and RFC 3339.
#pragma once

#include <cstdint>
#include <string>

namespace berth {

// Nanoseconds since the Unix epoch, from CLOCK_REALTIME.
int64_t NowUnixNanos();

// Nanoseconds from CLOCK_MONOTONIC, for durations and deadlines.
int64_t MonotonicNanos();

// "2006-01-02T15:04:05.999999999Z" with nanoseconds, as CRI logs use.
std::string FormatRfc3339Nano(int64_t unix_nanos);

}  // namespace berth
