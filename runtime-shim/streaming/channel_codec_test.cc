#include "runtime-shim/streaming/channel_codec.h"

#include "gtest/gtest.h"

namespace berth::streaming {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// Payloads as recorded from kubectl/client-go sessions.
TEST(ChannelCodecTest, BinaryFrames) {
  EXPECT_EQ(EncodeChannelFrame(ChannelEncoding::kBinary, kStdoutChannel, "hi\n"), Bytes({0x01, 'h', 'i', '\n'}));
  EXPECT_EQ(EncodeChannelFrame(ChannelEncoding::kBinary, kStdoutChannel, ""), Bytes({0x01}));
  auto stdin_frame = DecodeChannelFrame(ChannelEncoding::kBinary, Bytes({0x00, 'l', 's', '\r'}));
  ASSERT_TRUE(stdin_frame.ok());
  EXPECT_EQ(stdin_frame->channel, kStdinChannel);
  EXPECT_EQ(stdin_frame->data, "ls\r");
  // v5 close of stdin: channel 255, data = the channel closed.
  auto close = DecodeChannelFrame(ChannelEncoding::kBinary, Bytes({0xff, 0x00}));
  ASSERT_TRUE(close.ok());
  EXPECT_EQ(close->channel, kCloseChannel);
  EXPECT_EQ(close->data, Bytes({0x00}));
  // Resize from kubectl's terminal size queue.
  auto resize = DecodeChannelFrame(ChannelEncoding::kBinary, "\x04{\"Width\":120,\"Height\":40}");
  ASSERT_TRUE(resize.ok());
  EXPECT_EQ(resize->channel, kResizeChannel);
  EXPECT_EQ(resize->data, "{\"Width\":120,\"Height\":40}");
}

TEST(ChannelCodecTest, Base64Frames) {
  EXPECT_EQ(EncodeChannelFrame(ChannelEncoding::kBase64, kStdoutChannel, "hello"), "1aGVsbG8=");
  EXPECT_EQ(EncodeChannelFrame(ChannelEncoding::kBase64, kStderrChannel, ""), "2");
  auto frame = DecodeChannelFrame(ChannelEncoding::kBase64, "0ZWNobyBoaQo=");
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->channel, kStdinChannel);
  EXPECT_EQ(frame->data, "echo hi\n");
}

TEST(ChannelCodecTest, BadFramesAreErrors) {
  EXPECT_FALSE(DecodeChannelFrame(ChannelEncoding::kBinary, "").ok());
  auto not_digit = DecodeChannelFrame(ChannelEncoding::kBase64, "xAAAA");
  EXPECT_TRUE(absl::IsInvalidArgument(not_digit.status()));
  EXPECT_NE(not_digit.status().message().find("not a digit"), std::string::npos);
  auto bad_base64 = DecodeChannelFrame(ChannelEncoding::kBase64, "0!!!");
  EXPECT_TRUE(absl::IsInvalidArgument(bad_base64.status()));
}

TEST(ChannelCodecTest, PortPrefixIsLittleEndian) {
  EXPECT_EQ(PortPrefix(8080), Bytes({0x90, 0x1f}));
  EXPECT_EQ(PortPrefix(80), Bytes({0x50, 0x00}));
}

TEST(ChannelCodecTest, NegotiationFollowsClientOrder) {
  EXPECT_EQ(ParseProtocolHeader(" v5.channel.k8s.io, v4.channel.k8s.io ,"),
            (std::vector<std::string>{"v5.channel.k8s.io", "v4.channel.k8s.io"}));
  auto v5 = NegotiateProtocol({"v5.channel.k8s.io", "v4.channel.k8s.io"}, RemoteCommandProtocols());
  ASSERT_TRUE(v5.ok());
  EXPECT_EQ(v5->version, 5);
  auto v4 = NegotiateProtocol({"v4.base64.channel.k8s.io", "v5.channel.k8s.io"}, RemoteCommandProtocols());
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->encoding, ChannelEncoding::kBase64);
  EXPECT_EQ(v4->version, 4);
  auto none = NegotiateProtocol({}, RemoteCommandProtocols());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(std::string(none->name), "");
  auto bad = NegotiateProtocol({"v9.channel.k8s.io"}, RemoteCommandProtocols());
  EXPECT_TRUE(absl::IsNotFound(bad.status()));
  EXPECT_NE(bad.status().message().find("v9.channel.k8s.io"), std::string::npos);
  EXPECT_FALSE(NegotiateProtocol({"v5.channel.k8s.io"}, PortForwardProtocols()).ok());
}

}  // namespace
}  // namespace berth::streaming
