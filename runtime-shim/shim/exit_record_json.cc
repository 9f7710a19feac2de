#include "runtime-shim/shim/exit_record_json.h"

namespace berth::shim {
namespace {

// The length of the valid UTF-8 sequence at the start of `s`, 0 if invalid
// (overlong forms, surrogates and values past U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

void AppendJsonString(std::string_view text, TextSpan* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->Append('"');
  while (!text.empty()) {
    const unsigned char c = static_cast<unsigned char>(text[0]);
    size_t used = 1;
    if (c == '"' || c == '\\') {
      out->Append('\\').Append(static_cast<char>(c));
    } else if (c == '\n') {
      out->Append("\\n");
    } else if (c == '\t') {
      out->Append("\\t");
    } else if (c == '\r') {
      out->Append("\\r");
    } else if (c < 0x20 || c == 0x7F) {
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->Append(std::string_view(escaped, sizeof(escaped)));
    } else if (c < 0x80) {
      out->Append(static_cast<char>(c));
    } else if (size_t length = Utf8SequenceLength(text); length > 0) {
      out->Append(std::string_view(text.data(), length));
      used = length;
    } else {
      out->Append("\\ufffd");
    }
    text.remove_prefix(used);
  }
  out->Append('"');
}

bool AppendExitRecordJson(const ExitFields& fields, TextSpan* out) {
  out->Append("{\"exit_code\":").AppendInt(fields.exit_code);
  out->Append(",\"signal\":").AppendInt(fields.signal);
  out->Append(",\"oom_killed\":").Append(fields.oom_killed ? "true" : "false");
  out->Append(",\"started_at\":").AppendInt(fields.started_at);
  out->Append(",\"finished_at\":").AppendInt(fields.finished_at);
  out->Append(",\"reason\":");
  AppendJsonString(fields.reason, out);
  out->Append(",\"message\":");
  AppendJsonString(fields.message, out);
  out->Append('}');
  return !out->truncated();
}

}  // namespace berth::shim
