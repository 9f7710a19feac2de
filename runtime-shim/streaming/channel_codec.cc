#include "runtime-shim/streaming/channel_codec.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace berth::streaming {

std::string EncodeChannelFrame(ChannelEncoding encoding, uint8_t channel, absl::string_view data) {
  std::string out;
  if (encoding == ChannelEncoding::kBinary) {
    out.reserve(data.size() + 1);
    out.push_back(static_cast<char>(channel));
    out.append(data.data(), data.size());
    return out;
  }
  out.push_back(static_cast<char>('0' + channel));
  out += absl::Base64Escape(data);
  return out;
}

absl::StatusOr<ChannelFrame> DecodeChannelFrame(ChannelEncoding encoding, absl::string_view payload) {
  if (payload.empty()) return absl::InvalidArgumentError("websocket message: empty, no channel byte");
  ChannelFrame frame;
  if (encoding == ChannelEncoding::kBinary) {
    frame.channel = static_cast<uint8_t>(payload[0]);
    frame.data.assign(payload.data() + 1, payload.size() - 1);
    return frame;
  }
  char c = payload[0];
  if (c < '0' || c > '9') {
    return absl::InvalidArgumentError(
        absl::StrCat("websocket message: channel '", absl::CHexEscape(absl::string_view(&c, 1)),
                     "' is not a digit (base64 protocol)"));
  }
  frame.channel = static_cast<uint8_t>(c - '0');
  if (!absl::Base64Unescape(payload.substr(1), &frame.data)) {
    return absl::InvalidArgumentError(
        absl::StrCat("websocket message on channel ", frame.channel, ": data is not base64"));
  }
  return frame;
}

const std::vector<ChannelProtocol>& RemoteCommandProtocols() {
  static const auto* protocols = new std::vector<ChannelProtocol>{
      {"v5.channel.k8s.io", ChannelEncoding::kBinary, 5},
      {"v4.channel.k8s.io", ChannelEncoding::kBinary, 4},
      {"v4.base64.channel.k8s.io", ChannelEncoding::kBase64, 4},
      {"channel.k8s.io", ChannelEncoding::kBinary, 1},
      {"base64.channel.k8s.io", ChannelEncoding::kBase64, 1},
      {"", ChannelEncoding::kBinary, 1},
  };
  return *protocols;
}

const std::vector<ChannelProtocol>& PortForwardProtocols() {
  static const auto* protocols = new std::vector<ChannelProtocol>{
      {"v4.channel.k8s.io", ChannelEncoding::kBinary, 4},
      {"v4.base64.channel.k8s.io", ChannelEncoding::kBase64, 4},
      {"", ChannelEncoding::kBinary, 4},
  };
  return *protocols;
}

const std::vector<ChannelProtocol>& SpdyRemoteCommandProtocols() {
  static const auto* protocols = new std::vector<ChannelProtocol>{
      {"v4.channel.k8s.io", ChannelEncoding::kBinary, 4},
      {"v3.channel.k8s.io", ChannelEncoding::kBinary, 3},
      {"v2.channel.k8s.io", ChannelEncoding::kBinary, 2},
      {"channel.k8s.io", ChannelEncoding::kBinary, 1},
      {"", ChannelEncoding::kBinary, 1},  // no X-Stream-Protocol-Version: the kubelet's v1
  };
  return *protocols;
}

const std::vector<ChannelProtocol>& SpdyPortForwardProtocols() {
  static const auto* protocols = new std::vector<ChannelProtocol>{
      {"portforward.k8s.io", ChannelEncoding::kBinary, 1},
      {"", ChannelEncoding::kBinary, 1},
  };
  return *protocols;
}

std::vector<std::string> ParseProtocolHeader(absl::string_view header) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(header, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

absl::StatusOr<ChannelProtocol> NegotiateProtocol(const std::vector<std::string>& offered,
                                                  const std::vector<ChannelProtocol>& supported) {
  std::vector<std::string> wanted = offered;
  if (wanted.empty()) wanted.push_back("");
  for (const auto& name : wanted) {
    for (const auto& protocol : supported) {
      if (name == protocol.name) return protocol;
    }
  }
  std::vector<std::string> names;
  for (const auto& protocol : supported) {
    if (*protocol.name) names.push_back(protocol.name);
  }
  return absl::NotFoundError(absl::StrCat("requested protocol(s) [", absl::StrJoin(offered, ", "),
                                          "] are not supported; supported: [", absl::StrJoin(names, ", "),
                                          "]"));
}

std::string PortPrefix(uint16_t port) {
  std::string out(2, '\0');
  out[0] = static_cast<char>(port & 0xff);
  out[1] = static_cast<char>(port >> 8);
  return out;
}

}  // namespace berth::streaming
