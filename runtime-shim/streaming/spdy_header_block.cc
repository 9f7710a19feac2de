#include "runtime-shim/streaming/spdy_header_block.h"

#include <cstdint>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace berth::streaming {
namespace {

constexpr size_t kMaxInflatedBlock = 1 << 20;

void PutU32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

uint32_t GetU32(absl::string_view in) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(in[i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// The dictionary is, per the spec, these words each preceded by its length
// as 4 bytes big-endian, then the text below as is.
std::string BuildDictionary() {
  static const char* const kWords[] = {
      "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
      "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
      "content-base", "content-encoding", "content-language", "content-length", "content-location",
      "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
      "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
      "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
      "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
      "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
      "public", "set-cookie", "keep-alive", "origin"};
  static const char kText[] =
      "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
      "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
      "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
      "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
      "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
      "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
      "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
  std::string dict;
  for (const char* word : kWords) {
    PutU32(&dict, static_cast<uint32_t>(strlen(word)));
    dict += word;
  }
  dict += kText;
  return dict;
}

}  // namespace

std::string SpdyHeaderValue(const SpdyHeaders& headers, absl::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

absl::string_view SpdyHeaderDictionary() {
  static const std::string* dict = new std::string(BuildDictionary());
  return *dict;
}

std::string EncodeSpdyHeaderBlock(const SpdyHeaders& headers) {
  // One pair per name, in first-seen order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& [name, value] : headers) {
    std::string lower = absl::AsciiStrToLower(name);
    auto& v = values[lower];
    if (v.empty()) order.push_back(lower);
    v.push_back(value);
  }
  std::string out;
  PutU32(&out, static_cast<uint32_t>(order.size()));
  for (const auto& name : order) {
    std::string joined = absl::StrJoin(values[name], absl::string_view("\0", 1));
    PutU32(&out, static_cast<uint32_t>(name.size()));
    out += name;
    PutU32(&out, static_cast<uint32_t>(joined.size()));
    out += joined;
  }
  return out;
}

absl::StatusOr<SpdyHeaders> DecodeSpdyHeaderBlock(absl::string_view block) {
  auto take_string = [&block](const char* what) -> absl::StatusOr<std::string> {
    if (block.size() < 4) return absl::InvalidArgumentError(absl::StrCat("spdy header block: truncated ", what, " length"));
    uint32_t n = GetU32(block);
    block.remove_prefix(4);
    if (n > block.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("spdy header block: ", what, " length ", n, " is past the end (", block.size(), " left)"));
    }
    std::string s(block.substr(0, n));
    block.remove_prefix(n);
    return s;
  };
  if (block.size() < 4) return absl::InvalidArgumentError("spdy header block: shorter than its pair count");
  uint32_t count = GetU32(block);
  block.remove_prefix(4);
  if (count > block.size() / 8) {
    return absl::InvalidArgumentError(absl::StrCat("spdy header block: ", count, " pairs cannot fit in ", block.size(), " bytes"));
  }
  SpdyHeaders headers;
  for (uint32_t i = 0; i < count; ++i) {
    auto name = take_string("name");
    if (!name.ok()) return name.status();
    if (name->empty()) return absl::InvalidArgumentError("spdy header block: empty header name");
    if (absl::AsciiStrToLower(*name) != *name) {
      return absl::InvalidArgumentError(absl::StrCat("spdy header block: header name \"", *name, "\" is not lowercase"));
    }
    auto value = take_string("value");
    if (!value.ok()) return value.status();
    for (absl::string_view v : absl::StrSplit(*value, absl::ByChar('\0'))) headers.emplace_back(*name, std::string(v));
  }
  if (!block.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("spdy header block: ", block.size(), " bytes after the last pair"));
  }
  return headers;
}

SpdyHeaderCompressor::SpdyHeaderCompressor() {
  deflateInit(&zs_, Z_DEFAULT_COMPRESSION);
  auto dict = SpdyHeaderDictionary();
  deflateSetDictionary(&zs_, reinterpret_cast<const Bytef*>(dict.data()), static_cast<uInt>(dict.size()));
}

SpdyHeaderCompressor::~SpdyHeaderCompressor() { deflateEnd(&zs_); }

std::string SpdyHeaderCompressor::Compress(const SpdyHeaders& headers) {
  std::string block = EncodeSpdyHeaderBlock(headers);
  std::string out;
  zs_.next_in = reinterpret_cast<Bytef*>(block.data());
  zs_.avail_in = static_cast<uInt>(block.size());
  char chunk[4096];
  do {
    zs_.next_out = reinterpret_cast<Bytef*>(chunk);
    zs_.avail_out = sizeof(chunk);
    deflate(&zs_, Z_SYNC_FLUSH);
    out.append(chunk, sizeof(chunk) - zs_.avail_out);
  } while (zs_.avail_out == 0);
  return out;
}

SpdyHeaderDecompressor::SpdyHeaderDecompressor() { inflateInit(&zs_); }

SpdyHeaderDecompressor::~SpdyHeaderDecompressor() { inflateEnd(&zs_); }

absl::StatusOr<SpdyHeaders> SpdyHeaderDecompressor::Decompress(absl::string_view compressed) {
  if (failed_) return absl::FailedPreconditionError("spdy header block: the inflate context failed earlier");
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs_.avail_in = static_cast<uInt>(compressed.size());
  std::string block;
  char chunk[4096];
  while (zs_.avail_in > 0) {
    zs_.next_out = reinterpret_cast<Bytef*>(chunk);
    zs_.avail_out = sizeof(chunk);
    int rc = inflate(&zs_, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      auto dict = SpdyHeaderDictionary();
      rc = inflateSetDictionary(&zs_, reinterpret_cast<const Bytef*>(dict.data()), static_cast<uInt>(dict.size()));
      if (rc != Z_OK) {
        failed_ = true;
        return absl::InvalidArgumentError("spdy header block: compressed with a dictionary other than SPDY/3's");
      }
      continue;
    }
    block.append(chunk, sizeof(chunk) - zs_.avail_out);
    if (rc == Z_BUF_ERROR && zs_.avail_out != 0) break;  // needs more input than the frame has
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      failed_ = true;
      return absl::InvalidArgumentError(absl::StrCat("spdy header block: inflate: ", zs_.msg ? zs_.msg : "error ", rc));
    }
    if (block.size() > kMaxInflatedBlock) {
      failed_ = true;
      return absl::InvalidArgumentError("spdy header block: inflates past 1 MiB");
    }
  }
  // Output zlib still holds after the input ran out.
  for (;;) {
    zs_.next_out = reinterpret_cast<Bytef*>(chunk);
    zs_.avail_out = sizeof(chunk);
    int rc = inflate(&zs_, Z_SYNC_FLUSH);
    block.append(chunk, sizeof(chunk) - zs_.avail_out);
    if (rc != Z_OK || zs_.avail_out != 0) break;
    if (block.size() > kMaxInflatedBlock) {
      failed_ = true;
      return absl::InvalidArgumentError("spdy header block: inflates past 1 MiB");
    }
  }
  return DecodeSpdyHeaderBlock(block);
}

}  // namespace berth::streaming
