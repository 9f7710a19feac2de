// SPDY/3.1 framing from byte sequences written out by hand from the spec,
// and header blocks compressed elsewhere (Python's zlib with the SPDY/3
// dictionary) inflated here.
#include <zlib.h>

#include <string>

#include "gtest/gtest.h"
#include "runtime-shim/streaming/spdy_frame.h"
#include "runtime-shim/streaming/spdy_header_block.h"

namespace berth::streaming {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

SpdyFrame ReadOne(const std::string& wire) {
  SpdyFrameReader reader;
  reader.Append(wire);
  auto frame = reader.Next();
  EXPECT_TRUE(frame.ok()) << frame.status();
  if (!frame.ok() || !frame->has_value()) {
    ADD_FAILURE() << "no frame";
    return {};
  }
  EXPECT_EQ(reader.buffered(), 0u);
  return **frame;
}

TEST(SpdyHeaderBlock, DictionaryIsTheSpecsByItsAdler32) {
  // The dictionary id in every SPDY/3 header block's zlib header
  // (bytes 2-5: e3 c6 a7 c2) is the Adler-32 of the dictionary.
  auto dict = SpdyHeaderDictionary();
  EXPECT_EQ(dict.size(), 1423u);
  EXPECT_EQ(adler32(1, reinterpret_cast<const Bytef*>(dict.data()), static_cast<uInt>(dict.size())), 0xe3c6a7c2u);
}

TEST(SpdyHeaderBlock, UncompressedLayout) {
  std::string block = EncodeSpdyHeaderBlock({{"StreamType", "error"}});
  EXPECT_EQ(block, Bytes({0, 0, 0, 1, 0, 0, 0, 10}) + "streamtype" + Bytes({0, 0, 0, 5}) + "error");
  // A name twice: one pair, values NUL-joined; decoded back into two pairs.
  std::string two = EncodeSpdyHeaderBlock({{"a", "1"}, {"a", "2"}});
  EXPECT_EQ(two, Bytes({0, 0, 0, 1, 0, 0, 0, 1}) + "a" + Bytes({0, 0, 0, 3, '1', 0, '2'}));
  auto back = DecodeSpdyHeaderBlock(two);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, (SpdyHeaders{{"a", "1"}, {"a", "2"}}));
}

TEST(SpdyHeaderBlock, BadBlocksAreRefused) {
  EXPECT_FALSE(DecodeSpdyHeaderBlock(Bytes({0, 0})).ok());
  EXPECT_FALSE(DecodeSpdyHeaderBlock(Bytes({0, 0, 0, 1, 0, 0, 0, 9, 'a'})).ok());  // name past the end
  auto upper = DecodeSpdyHeaderBlock(Bytes({0, 0, 0, 1, 0, 0, 0, 1, 'A', 0, 0, 0, 0}));
  EXPECT_NE(upper.status().message().find("not lowercase"), std::string::npos) << upper.status();
  EXPECT_FALSE(DecodeSpdyHeaderBlock(Bytes({0, 0, 0, 0, 7})).ok());  // trailing bytes
}

TEST(SpdyHeaderBlock, InflatesBlocksCompressedWithTheDictionaryInOneContext) {
  // Two consecutive blocks from one deflate context (level 9, sync flush):
  // {streamtype: error}, then {streamtype: stdout}, which refers back to the first.
  const std::string first(
      "\x78\xf9\xe3\xc6\xa7\xc2\x02\xa6\x23\x46\x70\x3a\x2b\x29\x4a\x4d\xcc\x85\x16\x25\xac\xa9\xa0\x80\x06\x00\x00"
      "\x00\xff\xff",
      30);
  const std::string second("\xc2\x2a\x05\x4c\xcc\x29\xf9\xa5\x25\x00\x00\x00\x00\xff\xff", 15);
  SpdyHeaderDecompressor decompressor;
  auto a = decompressor.Decompress(first);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, (SpdyHeaders{{"streamtype", "error"}}));
  auto b = decompressor.Decompress(second);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, (SpdyHeaders{{"streamtype", "stdout"}}));
  // The second block alone, in a fresh context, is not a valid stream.
  SpdyHeaderDecompressor fresh;
  EXPECT_FALSE(fresh.Decompress(second).ok());
}

TEST(SpdyHeaderBlock, CompressorRoundTripAcrossFrames) {
  SpdyHeaderCompressor compressor;
  SpdyHeaderDecompressor decompressor;
  std::string first = compressor.Compress({{"streamtype", "data"}, {"port", "8080"}, {"requestid", "0"}});
  // zlib header with the dictionary flag and the dictionary's id.
  ASSERT_GE(first.size(), 6u);
  EXPECT_EQ(static_cast<uint8_t>(first[1]) & 0x20, 0x20);
  EXPECT_EQ(first.substr(2, 4), Bytes({0xe3, 0xc6, 0xa7, 0xc2}));
  // Ends in a sync flush.
  EXPECT_EQ(first.substr(first.size() - 4), Bytes({0, 0, 0xff, 0xff}));
  for (int i = 0; i < 3; ++i) {
    std::string block = i == 0 ? first : compressor.Compress({{"streamtype", "data"}, {"requestid", std::to_string(i)}});
    auto headers = decompressor.Decompress(block);
    ASSERT_TRUE(headers.ok()) << headers.status();
    EXPECT_EQ(SpdyHeaderValue(*headers, "streamtype"), "data");
    EXPECT_EQ(SpdyHeaderValue(*headers, "requestid"), std::to_string(i));
  }
}

TEST(SpdyFrame, DataFrame) {
  std::string wire = EncodeSpdyData(1, kSpdyFlagFin, "hi");
  EXPECT_EQ(wire, Bytes({0, 0, 0, 1, 1, 0, 0, 2, 'h', 'i'}));
  EXPECT_EQ(EncodeSpdyDataHeader(0x7fffffff, 0, 0x123456), Bytes({0x7f, 0xff, 0xff, 0xff, 0, 0x12, 0x34, 0x56}));
  SpdyFrame frame = ReadOne(wire);
  EXPECT_EQ(frame.type, SpdyFrameType::kData);
  EXPECT_EQ(frame.stream_id, 1u);
  EXPECT_TRUE(frame.fin());
  EXPECT_EQ(frame.data, "hi");
}

TEST(SpdyFrame, ControlFramesByHand) {
  // RST_STREAM stream 1, CANCEL (5).
  std::string rst = Bytes({0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 5});
  EXPECT_EQ(EncodeSpdyRstStream(1, SpdyRstStatus::kCancel), rst);
  SpdyFrame f = ReadOne(rst);
  EXPECT_EQ(f.type, SpdyFrameType::kRstStream);
  EXPECT_EQ(f.stream_id, 1u);
  EXPECT_EQ(f.status, 5u);
  // PING 7.
  std::string ping = Bytes({0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 7});
  EXPECT_EQ(EncodeSpdyPing(7), ping);
  EXPECT_EQ(ReadOne(ping).ping_id, 7u);
  // WINDOW_UPDATE stream 3 by 64 KiB.
  std::string wu = Bytes({0x80, 3, 0, 9, 0, 0, 0, 8, 0, 0, 0, 3, 0, 1, 0, 0});
  EXPECT_EQ(EncodeSpdyWindowUpdate(3, 65536), wu);
  f = ReadOne(wu);
  EXPECT_EQ(f.type, SpdyFrameType::kWindowUpdate);
  EXPECT_EQ(f.stream_id, 3u);
  EXPECT_EQ(f.delta_window_size, 65536u);
  // SETTINGS: INITIAL_WINDOW_SIZE (7) = 1 MiB.
  std::string settings = Bytes({0x80, 3, 0, 4, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0x10, 0, 0});
  EXPECT_EQ(EncodeSpdySettings(0, {{0, kSpdySettingInitialWindowSize, 1 << 20}}), settings);
  f = ReadOne(settings);
  ASSERT_EQ(f.settings.size(), 1u);
  EXPECT_EQ(f.settings[0].id, kSpdySettingInitialWindowSize);
  EXPECT_EQ(f.settings[0].value, 1u << 20);
  // GOAWAY last good stream 5, OK.
  std::string goaway = Bytes({0x80, 3, 0, 7, 0, 0, 0, 8, 0, 0, 0, 5, 0, 0, 0, 0});
  EXPECT_EQ(EncodeSpdyGoAway(5, 0), goaway);
  EXPECT_EQ(ReadOne(goaway).last_good_stream_id, 5u);
}

TEST(SpdyFrame, SynStreamReplyHeadersRoundTrip) {
  SpdyHeaderCompressor compressor;
  std::string syn = EncodeSpdySynStream(compressor, 1, 0, 0, 0, {{"streamtype", "error"}});
  // Header: control, version 3, type 1, flags 0, then stream 1, associated 0, priority/slot 0.
  EXPECT_EQ(syn.substr(0, 4), Bytes({0x80, 3, 0, 1}));
  EXPECT_EQ(static_cast<size_t>(static_cast<uint8_t>(syn[7])), syn.size() - 8);
  EXPECT_EQ(syn.substr(8, 10), Bytes({0, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  std::string reply = EncodeSpdySynReply(compressor, 1, 0, {});
  std::string headers = EncodeSpdyHeaders(compressor, 3, kSpdyFlagFin, {{"a", "b"}});
  std::string syn_pri = EncodeSpdySynStream(compressor, 5, 1, 7, kSpdyFlagUnidirectional, {{"x", "y"}});
  EXPECT_EQ(static_cast<uint8_t>(syn_pri[16]), 0xe0);

  // Fed one byte at a time: frames come out whole, in order.
  SpdyFrameReader reader;
  std::vector<SpdyFrame> frames;
  for (char c : syn + reply + headers + syn_pri) {
    reader.Append(std::string(1, c));
    auto next = reader.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    if (next->has_value()) frames.push_back(std::move(**next));
  }
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].type, SpdyFrameType::kSynStream);
  EXPECT_EQ(frames[0].stream_id, 1u);
  EXPECT_EQ(frames[0].headers, (SpdyHeaders{{"streamtype", "error"}}));
  EXPECT_EQ(frames[1].type, SpdyFrameType::kSynReply);
  EXPECT_TRUE(frames[1].headers.empty());
  EXPECT_EQ(frames[2].type, SpdyFrameType::kHeaders);
  EXPECT_TRUE(frames[2].fin());
  EXPECT_EQ(frames[2].headers, (SpdyHeaders{{"a", "b"}}));
  EXPECT_EQ(frames[3].stream_id, 5u);
  EXPECT_EQ(frames[3].associated_stream_id, 1u);
  EXPECT_EQ(frames[3].priority, 7);
  EXPECT_EQ(frames[3].flags, kSpdyFlagUnidirectional);
}

TEST(SpdyFrame, ReaderRefusesOtherVersionsAndSkipsUnknownTypes) {
  SpdyFrameReader skip;
  // Type 10 (CREDENTIAL, not used here) then a PING: the PING comes out.
  skip.Append(Bytes({0x80, 3, 0, 10, 0, 0, 0, 2, 0xaa, 0xbb}) + EncodeSpdyPing(9));
  auto next = skip.Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->ping_id, 9u);

  SpdyFrameReader v2;
  v2.Append(Bytes({0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1}));
  auto bad = v2.Next();
  EXPECT_NE(bad.status().message().find("version 2"), std::string::npos) << bad.status();

  SpdyFrameReader short_rst;
  short_rst.Append(Bytes({0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1}));
  EXPECT_FALSE(short_rst.Next().ok());

  SpdyFrameReader garbage_headers;
  garbage_headers.Append(Bytes({0x80, 3, 0, 2, 0, 0, 0, 8, 0, 0, 0, 1, 1, 2, 3, 4}));
  EXPECT_FALSE(garbage_headers.Next().ok());
}

}  // namespace
}  // namespace berth::streaming
