#include "runtime-shim/streaming/spdy_frame.h"

#include "absl/strings/str_cat.h"

namespace berth::streaming {
namespace {

constexpr uint32_t kStreamIdMask = 0x7fffffff;

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

void PutU32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

// 8 bits of flags then 24 bits of length.
void PutFlagsLength(std::string* out, uint8_t flags, uint32_t length) {
  PutU32(out, static_cast<uint32_t>(flags) << 24 | (length & kSpdyMaxFrameLength));
}

uint32_t GetU32(absl::string_view in, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(in[at + i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

std::string ControlFrame(SpdyFrameType type, uint8_t flags, absl::string_view body) {
  std::string out;
  out.reserve(kSpdyFrameHeaderSize + body.size());
  PutU16(&out, 0x8000 | kSpdyVersion);
  PutU16(&out, static_cast<uint16_t>(type));
  PutFlagsLength(&out, flags, static_cast<uint32_t>(body.size()));
  out.append(body.data(), body.size());
  return out;
}

std::string StreamIdAnd(uint32_t stream_id, absl::string_view rest) {
  std::string body;
  PutU32(&body, stream_id & kStreamIdMask);
  body.append(rest.data(), rest.size());
  return body;
}

absl::Status ShortFrame(const char* what, size_t need, size_t got) {
  return absl::InvalidArgumentError(absl::StrCat("spdy ", what, " frame: ", got, " bytes, needs ", need));
}

}  // namespace

std::string EncodeSpdyDataHeader(uint32_t stream_id, uint8_t flags, uint32_t length) {
  std::string out;
  PutU32(&out, stream_id & kStreamIdMask);
  PutFlagsLength(&out, flags, length);
  return out;
}

std::string EncodeSpdyData(uint32_t stream_id, uint8_t flags, absl::string_view data) {
  std::string out = EncodeSpdyDataHeader(stream_id, flags, static_cast<uint32_t>(data.size()));
  out.append(data.data(), data.size());
  return out;
}

std::string EncodeSpdySynStream(SpdyHeaderCompressor& compressor, uint32_t stream_id, uint32_t associated_stream_id,
                                uint8_t priority, uint8_t flags, const SpdyHeaders& headers) {
  std::string body;
  PutU32(&body, stream_id & kStreamIdMask);
  PutU32(&body, associated_stream_id & kStreamIdMask);
  body.push_back(static_cast<char>((priority & 0x7) << 5));
  body.push_back(0);  // slot
  body += compressor.Compress(headers);
  return ControlFrame(SpdyFrameType::kSynStream, flags, body);
}

std::string EncodeSpdySynReply(SpdyHeaderCompressor& compressor, uint32_t stream_id, uint8_t flags,
                               const SpdyHeaders& headers) {
  return ControlFrame(SpdyFrameType::kSynReply, flags, StreamIdAnd(stream_id, compressor.Compress(headers)));
}

std::string EncodeSpdyHeaders(SpdyHeaderCompressor& compressor, uint32_t stream_id, uint8_t flags,
                              const SpdyHeaders& headers) {
  return ControlFrame(SpdyFrameType::kHeaders, flags, StreamIdAnd(stream_id, compressor.Compress(headers)));
}

std::string EncodeSpdyRstStream(uint32_t stream_id, SpdyRstStatus status) {
  std::string code;
  PutU32(&code, static_cast<uint32_t>(status));
  return ControlFrame(SpdyFrameType::kRstStream, 0, StreamIdAnd(stream_id, code));
}

std::string EncodeSpdySettings(uint8_t flags, const std::vector<SpdySetting>& settings) {
  std::string body;
  PutU32(&body, static_cast<uint32_t>(settings.size()));
  for (const auto& s : settings) {
    PutU32(&body, static_cast<uint32_t>(s.flags) << 24 | (s.id & 0xffffff));
    PutU32(&body, s.value);
  }
  return ControlFrame(SpdyFrameType::kSettings, flags, body);
}

std::string EncodeSpdyPing(uint32_t ping_id) {
  std::string body;
  PutU32(&body, ping_id);
  return ControlFrame(SpdyFrameType::kPing, 0, body);
}

std::string EncodeSpdyGoAway(uint32_t last_good_stream_id, uint32_t status) {
  std::string code;
  PutU32(&code, status);
  return ControlFrame(SpdyFrameType::kGoAway, 0, StreamIdAnd(last_good_stream_id, code));
}

std::string EncodeSpdyWindowUpdate(uint32_t stream_id, uint32_t delta_window_size) {
  std::string delta;
  PutU32(&delta, delta_window_size & kStreamIdMask);
  return ControlFrame(SpdyFrameType::kWindowUpdate, 0, StreamIdAnd(stream_id, delta));
}

void SpdyFrameReader::Append(absl::string_view bytes) {
  if (pos_ > 0 && pos_ >= buffer_.size() / 2) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

absl::StatusOr<std::optional<SpdyFrame>> SpdyFrameReader::Next() {
  for (;;) {
    absl::string_view in(buffer_);
    in.remove_prefix(pos_);
    if (in.size() < kSpdyFrameHeaderSize) return std::nullopt;
    uint32_t word0 = GetU32(in, 0);
    uint32_t word1 = GetU32(in, 4);
    uint8_t flags = static_cast<uint8_t>(word1 >> 24);
    uint32_t length = word1 & kSpdyMaxFrameLength;
    if (in.size() < kSpdyFrameHeaderSize + length) return std::nullopt;
    absl::string_view body = in.substr(kSpdyFrameHeaderSize, length);
    pos_ += kSpdyFrameHeaderSize + length;
    if ((word0 & 0x80000000u) == 0) {
      SpdyFrame frame;
      frame.type = SpdyFrameType::kData;
      frame.stream_id = word0 & kStreamIdMask;
      frame.flags = flags;
      frame.data.assign(body.data(), body.size());
      return frame;
    }
    uint16_t version = static_cast<uint16_t>((word0 >> 16) & 0x7fff);
    if (version != kSpdyVersion) {
      return absl::InvalidArgumentError(absl::StrCat("spdy control frame: version ", version, ", only 3 is spoken"));
    }
    uint16_t type = static_cast<uint16_t>(word0 & 0xffff);
    switch (static_cast<SpdyFrameType>(type)) {
      case SpdyFrameType::kSynStream:
      case SpdyFrameType::kSynReply:
      case SpdyFrameType::kRstStream:
      case SpdyFrameType::kSettings:
      case SpdyFrameType::kPing:
      case SpdyFrameType::kGoAway:
      case SpdyFrameType::kHeaders:
      case SpdyFrameType::kWindowUpdate: {
        auto frame = DecodeControl(type, flags, body);
        if (!frame.ok()) return frame.status();
        return std::optional<SpdyFrame>(std::move(*frame));
      }
      default:
        continue;  // unknown control type (CREDENTIAL, NOOP, ...): ignored
    }
  }
}

absl::StatusOr<SpdyFrame> SpdyFrameReader::DecodeControl(uint16_t type, uint8_t flags, absl::string_view body) {
  SpdyFrame frame;
  frame.type = static_cast<SpdyFrameType>(type);
  frame.flags = flags;
  switch (frame.type) {
    case SpdyFrameType::kSynStream: {
      if (body.size() < 10) return ShortFrame("SYN_STREAM", 10, body.size());
      frame.stream_id = GetU32(body, 0) & kStreamIdMask;
      frame.associated_stream_id = GetU32(body, 4) & kStreamIdMask;
      frame.priority = static_cast<uint8_t>(static_cast<uint8_t>(body[8]) >> 5);
      auto headers = decompressor_.Decompress(body.substr(10));
      if (!headers.ok()) return headers.status();
      frame.headers = std::move(*headers);
      break;
    }
    case SpdyFrameType::kSynReply:
    case SpdyFrameType::kHeaders: {
      if (body.size() < 4) return ShortFrame(frame.type == SpdyFrameType::kSynReply ? "SYN_REPLY" : "HEADERS", 4, body.size());
      frame.stream_id = GetU32(body, 0) & kStreamIdMask;
      auto headers = decompressor_.Decompress(body.substr(4));
      if (!headers.ok()) return headers.status();
      frame.headers = std::move(*headers);
      break;
    }
    case SpdyFrameType::kRstStream:
      if (body.size() != 8) return ShortFrame("RST_STREAM", 8, body.size());
      frame.stream_id = GetU32(body, 0) & kStreamIdMask;
      frame.status = GetU32(body, 4);
      break;
    case SpdyFrameType::kSettings: {
      if (body.size() < 4) return ShortFrame("SETTINGS", 4, body.size());
      uint32_t count = GetU32(body, 0);
      if (body.size() != 4 + 8ull * count) return ShortFrame("SETTINGS", 4 + 8ull * count, body.size());
      for (uint32_t i = 0; i < count; ++i) {
        uint32_t id_word = GetU32(body, 4 + 8 * i);
        frame.settings.push_back({static_cast<uint8_t>(id_word >> 24), id_word & 0xffffff, GetU32(body, 8 + 8 * i)});
      }
      break;
    }
    case SpdyFrameType::kPing:
      if (body.size() != 4) return ShortFrame("PING", 4, body.size());
      frame.ping_id = GetU32(body, 0);
      break;
    case SpdyFrameType::kGoAway:
      if (body.size() != 8) return ShortFrame("GOAWAY", 8, body.size());
      frame.last_good_stream_id = GetU32(body, 0) & kStreamIdMask;
      frame.status = GetU32(body, 4);
      break;
    case SpdyFrameType::kWindowUpdate:
      if (body.size() != 8) return ShortFrame("WINDOW_UPDATE", 8, body.size());
      frame.stream_id = GetU32(body, 0) & kStreamIdMask;
      frame.delta_window_size = GetU32(body, 4) & kStreamIdMask;
      break;
    case SpdyFrameType::kData:
      break;
  }
  return frame;
}

}  // namespace berth::streaming
