// SPDY/3.1 framing: encoding each frame type and an incremental reader.
//
// Control frames: 1 bit set, version (15 bits, 3), type (16 bits), flags
// (8 bits), length (24 bits), then the type's fields. Data frames: 1 bit
// clear, stream id (31 bits), flags (8 bits, FIN = 1), length (24 bits),
// then the data. All integers big-endian. SYN_STREAM, SYN_REPLY and HEADERS
// carry a header block compressed with the connection's context of that
// direction (spdy_header_block.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime-shim/streaming/spdy_header_block.h"

namespace berth::streaming {

inline constexpr uint16_t kSpdyVersion = 3;
inline constexpr uint8_t kSpdyFlagFin = 0x01;
inline constexpr uint8_t kSpdyFlagUnidirectional = 0x02;  // SYN_STREAM
inline constexpr uint32_t kSpdyInitialWindow = 64 * 1024;
inline constexpr size_t kSpdyFrameHeaderSize = 8;
inline constexpr uint32_t kSpdyMaxFrameLength = (1u << 24) - 1;

enum class SpdyFrameType : uint16_t {
  kData = 0,  // not a control type: data frames have no type field
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

// RST_STREAM status codes.
enum class SpdyRstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kUnsupportedVersion = 4,
  kCancel = 5,
  kInternalError = 6,
  kFlowControlError = 7,
  kStreamInUse = 8,
  kStreamAlreadyClosed = 9,
  kFrameTooLarge = 11,
};

// SETTINGS ids this code reads.
inline constexpr uint32_t kSpdySettingMaxConcurrentStreams = 4;
inline constexpr uint32_t kSpdySettingInitialWindowSize = 7;

struct SpdySetting {
  uint8_t flags = 0;
  uint32_t id = 0;  // 24 bits
  uint32_t value = 0;
};

// One decoded frame; which fields mean something depends on `type`.
struct SpdyFrame {
  SpdyFrameType type = SpdyFrameType::kData;
  uint8_t flags = 0;
  uint32_t stream_id = 0;             // data, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
  uint32_t associated_stream_id = 0;  // SYN_STREAM
  uint8_t priority = 0;               // SYN_STREAM, 0 (highest) to 7
  SpdyHeaders headers;                // SYN_STREAM, SYN_REPLY, HEADERS
  std::string data;                   // data
  uint32_t status = 0;                // RST_STREAM, GOAWAY
  uint32_t last_good_stream_id = 0;   // GOAWAY
  uint32_t ping_id = 0;               // PING
  uint32_t delta_window_size = 0;     // WINDOW_UPDATE
  std::vector<SpdySetting> settings;  // SETTINGS

  bool fin() const { return (flags & kSpdyFlagFin) != 0; }
};

// The 8 bytes in front of `length` bytes of data on `stream_id`.
std::string EncodeSpdyDataHeader(uint32_t stream_id, uint8_t flags, uint32_t length);
std::string EncodeSpdyData(uint32_t stream_id, uint8_t flags, absl::string_view data);

std::string EncodeSpdySynStream(SpdyHeaderCompressor& compressor, uint32_t stream_id, uint32_t associated_stream_id,
                                uint8_t priority, uint8_t flags, const SpdyHeaders& headers);
std::string EncodeSpdySynReply(SpdyHeaderCompressor& compressor, uint32_t stream_id, uint8_t flags,
                               const SpdyHeaders& headers);
std::string EncodeSpdyHeaders(SpdyHeaderCompressor& compressor, uint32_t stream_id, uint8_t flags,
                              const SpdyHeaders& headers);
std::string EncodeSpdyRstStream(uint32_t stream_id, SpdyRstStatus status);
std::string EncodeSpdySettings(uint8_t flags, const std::vector<SpdySetting>& settings);
std::string EncodeSpdyPing(uint32_t ping_id);
std::string EncodeSpdyGoAway(uint32_t last_good_stream_id, uint32_t status);
std::string EncodeSpdyWindowUpdate(uint32_t stream_id, uint32_t delta_window_size);

// Cuts frames out of a byte stream (one direction of one connection; it
// owns that direction's inflate context). Feed bytes with Append, take
// frames with Next until it returns nullopt (needs more bytes). An error
// (a version other than 3, a frame over 16 MiB, a short control frame, a
// header block that does not inflate) ends the connection: the reader is
// not usable after it. Control frames of unknown types are skipped, as the
// spec asks.
class SpdyFrameReader {
 public:
  void Append(absl::string_view bytes);
  absl::StatusOr<std::optional<SpdyFrame>> Next();

  // Bytes appended and not yet cut into frames.
  size_t buffered() const { return buffer_.size() - pos_; }

 private:
  absl::StatusOr<SpdyFrame> DecodeControl(uint16_t type, uint8_t flags, absl::string_view body);

  std::string buffer_;
  size_t pos_ = 0;
  SpdyHeaderDecompressor decompressor_;
};

}  // namespace berth::streaming
