// The Kubernetes WebSocket channel framing (channel.k8s.io and its base64
// variant) and the subprotocols the streaming server speaks.
//
// Binary protocols: each WebSocket binary message is one channel byte then
// the data. Base64 protocols: each text message is the channel as an ASCII
// digit ('0' + channel) then the data in standard base64.
//
// remotecommand channels: 0 stdin, 1 stdout, 2 stderr, 3 error (a
// metav1.Status from v4 on, plain text before), 4 resize; v5 adds the
// close message on channel 255 whose one data byte names the channel the
// client stops writing to (stdin).
// portforward channels: 2*i data and 2*i+1 error for the i-th requested port;
// the server's first message on each carries the port as 2 bytes little-endian.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::streaming {

enum class ChannelEncoding { kBinary, kBase64 };

inline constexpr uint8_t kStdinChannel = 0;
inline constexpr uint8_t kStdoutChannel = 1;
inline constexpr uint8_t kStderrChannel = 2;
inline constexpr uint8_t kErrorChannel = 3;
inline constexpr uint8_t kResizeChannel = 4;
inline constexpr uint8_t kCloseChannel = 255;

struct ChannelFrame {
  uint8_t channel = 0;
  std::string data;
};

// One WebSocket message payload for `channel` carrying `data`.
std::string EncodeChannelFrame(ChannelEncoding encoding, uint8_t channel, absl::string_view data);

// The channel and data of one received message payload. An empty payload, a
// base64 channel that is not a digit, or bad base64 is InvalidArgument.
absl::StatusOr<ChannelFrame> DecodeChannelFrame(ChannelEncoding encoding, absl::string_view payload);

struct ChannelProtocol {
  const char* name;           // the Sec-WebSocket-Protocol value ("" when none was offered)
  ChannelEncoding encoding;
  int version;                // remotecommand: 1 (before v4), 4 or 5; portforward: 4
};

// The subprotocols of each endpoint, in the server's order of preference.
const std::vector<ChannelProtocol>& RemoteCommandProtocols();
const std::vector<ChannelProtocol>& PortForwardProtocols();
// The X-Stream-Protocol-Version values of SPDY/3.1 upgrades: remotecommand
// v4 (error stream Status JSON), v3 (resize stream), v2 and v1 (plain-text
// errors); port-forward portforward.k8s.io. Encoding is always binary.
const std::vector<ChannelProtocol>& SpdyRemoteCommandProtocols();
const std::vector<ChannelProtocol>& SpdyPortForwardProtocols();

// Splits Sec-WebSocket-Protocol header values ("a, b") into names.
std::vector<std::string> ParseProtocolHeader(absl::string_view header);

// The first of `offered` (client order) that `supported` has; with nothing
// offered, the "" entry. NotFound naming both lists when none matches.
absl::StatusOr<ChannelProtocol> NegotiateProtocol(const std::vector<std::string>& offered,
                                                  const std::vector<ChannelProtocol>& supported);

// The 2-byte little-endian port prefix of a portforward channel.
std::string PortPrefix(uint16_t port);

}  // namespace berth::streaming
