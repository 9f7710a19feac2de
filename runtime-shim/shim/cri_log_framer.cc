#include "runtime-shim/shim/cri_log_framer.h"

namespace berth::shim {
namespace {

// Days since 1970-01-01 to a proleptic Gregorian date (era arithmetic over
// 400-year cycles of 146097 days, years starting on March 1).
void CivilFromDays(int64_t days, int64_t* year, int* month, int* day) {
  days += 719468;  // 0000-03-01 to 1970-01-01
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t shifted_month = (5 * day_of_year + 2) / 153;  // 0 = March
  *day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  *month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  *year = year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

void PutDigits(char* out, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

void FormatCriTimestamp(int64_t unix_nanos, char* out) {
  int64_t seconds = unix_nanos / 1000000000;
  int64_t nanos = unix_nanos % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  int64_t days = seconds / 86400;
  int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  int64_t year;
  int month, day;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0) year = 0;  // out of RFC 3339's range; never a real clock
  PutDigits(out, year, 4);
  out[4] = '-';
  PutDigits(out + 5, month, 2);
  out[7] = '-';
  PutDigits(out + 8, day, 2);
  out[10] = 'T';
  PutDigits(out + 11, second_of_day / 3600, 2);
  out[13] = ':';
  PutDigits(out + 14, second_of_day / 60 % 60, 2);
  out[16] = ':';
  PutDigits(out + 17, second_of_day % 60, 2);
  out[19] = '.';
  PutDigits(out + 20, nanos, 9);
  out[29] = 'Z';
}

CriLogFramer::CriLogFramer(const char* stream, char* buffer, size_t max_line, CriLogSink sink,
                           void* context)
    : stream_(stream), pending_(buffer), max_line_(max_line), sink_(sink), context_(context) {}

void CriLogFramer::Emit(std::string_view content, bool partial, int64_t now) {
  char prefix[kCriTimestampSize + 16];
  FormatCriTimestamp(now, prefix);
  size_t n = kCriTimestampSize;
  prefix[n++] = ' ';
  for (const char* s = stream_; *s != '\0' && n < sizeof(prefix) - 3; ++s) prefix[n++] = *s;
  prefix[n++] = ' ';
  prefix[n++] = partial ? 'P' : 'F';
  prefix[n++] = ' ';
  sink_(context_, std::string_view(prefix, n), content);
}

void CriLogFramer::Buffer(const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) pending_[pending_size_ + i] = data[i];
  pending_size_ += n;
}

void CriLogFramer::Append(std::string_view data, int64_t now) {
  while (!data.empty()) {
    size_t newline = data.find('\n');
    size_t room = max_line_ - pending_size_;
    if (newline != std::string_view::npos && newline <= room) {
      if (pending_size_ == 0) {
        Emit(std::string_view(data.data(), newline), false, now);
      } else {
        Buffer(data.data(), newline);
        Emit(std::string_view(pending_, pending_size_), false, now);
        pending_size_ = 0;
      }
      data.remove_prefix(newline + 1);
      continue;
    }
    if (data.size() < room) {
      Buffer(data.data(), data.size());
      return;
    }
    // The line outgrows the maximum: emit a full-size partial chunk.
    if (pending_size_ == 0) {
      Emit(std::string_view(data.data(), room), true, now);
    } else {
      Buffer(data.data(), room);
      Emit(std::string_view(pending_, pending_size_), true, now);
      pending_size_ = 0;
    }
    data.remove_prefix(room);
  }
}

void CriLogFramer::Flush(int64_t now) {
  if (pending_size_ == 0) return;
  Emit(std::string_view(pending_, pending_size_), false, now);
  pending_size_ = 0;
}

}  // namespace berth::shim
