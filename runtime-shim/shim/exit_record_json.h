// exit.json without a JSON library: the fields of ExitRecord
// (runtime-shim/spec/container_spec.h), so ExitRecordFromJson parses it.
// No allocation and no libc: berth-shim-monitor links it without libc.
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime-shim/shim/small_text.h"

namespace berth::shim {

struct ExitFields {
  int32_t exit_code = 0;
  int32_t signal = 0;
  bool oom_killed = false;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  std::string_view reason;
  std::string_view message;
};

// Appends the JSON object. Strings are escaped; bytes that are not valid
// UTF-8 become U+FFFD. Returns false when `out` was too small.
bool AppendExitRecordJson(const ExitFields& fields, TextSpan* out);

// Appends `text` as a JSON string literal (with the quotes).
void AppendJsonString(std::string_view text, TextSpan* out);

}  // namespace berth::shim
