// The SPDY/3 name/value header block and its compression.
//
// Uncompressed, a block is a 32-bit count of pairs, then per pair a 32-bit
// name length, the name (lowercase), a 32-bit value length and the value;
// several values of one name are joined by NUL. On the wire each block is
// compressed with zlib using the dictionary the SPDY/3 spec defines; a
// connection keeps one deflate context for what it sends and one inflate
// context for what it receives, across every frame (each block ends with a
// sync flush), so both ends must see every block in order.
#pragma once

#include <zlib.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::streaming {

// Pairs in order; names lowercase. A name given twice is sent as one pair
// with NUL-joined values; a received NUL-joined value comes back as pairs.
using SpdyHeaders = std::vector<std::pair<std::string, std::string>>;

// The first value of `name` in `headers` ("" when absent).
std::string SpdyHeaderValue(const SpdyHeaders& headers, absl::string_view name);

// The zlib dictionary of SPDY/3 (section 2.6.10.1 of the draft), 1423 bytes.
absl::string_view SpdyHeaderDictionary();

// The uncompressed block, and back. Decode: InvalidArgument for a truncated
// block, a length past the end, an empty or uppercase name.
std::string EncodeSpdyHeaderBlock(const SpdyHeaders& headers);
absl::StatusOr<SpdyHeaders> DecodeSpdyHeaderBlock(absl::string_view block);

// One direction's deflate context.
class SpdyHeaderCompressor {
 public:
  SpdyHeaderCompressor();
  ~SpdyHeaderCompressor();
  SpdyHeaderCompressor(const SpdyHeaderCompressor&) = delete;
  SpdyHeaderCompressor& operator=(const SpdyHeaderCompressor&) = delete;

  // The compressed block of `headers`, ending with a sync flush.
  std::string Compress(const SpdyHeaders& headers);

 private:
  z_stream zs_{};
};

// One direction's inflate context.
class SpdyHeaderDecompressor {
 public:
  SpdyHeaderDecompressor();
  ~SpdyHeaderDecompressor();
  SpdyHeaderDecompressor(const SpdyHeaderDecompressor&) = delete;
  SpdyHeaderDecompressor& operator=(const SpdyHeaderDecompressor&) = delete;

  // The headers of one compressed block. InvalidArgument when zlib refuses
  // it (the context is then unusable: the connection must end), the block
  // inflates past 1 MiB, or the block inside is malformed.
  absl::StatusOr<SpdyHeaders> Decompress(absl::string_view compressed);

 private:
  z_stream zs_{};
  bool failed_ = false;
};

}  // namespace berth::streaming
