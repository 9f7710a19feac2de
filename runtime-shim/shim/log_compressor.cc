#include "runtime-shim/shim/log_compressor.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "runtime-shim/shim/fd.h"

namespace berth::shim {
namespace {

std::string TempPathFor(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return absl::StrCat(dir, ".", name, ".gz.tmp");
}

// Deflates all of `in` into `out` as one gzip member.
absl::Status Deflate(int in, int out, const std::string& path) {
  z_stream z = {};
  // windowBits 15 + 16: a gzip header and trailer.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError(absl::StrCat("gzip ", path, ": deflateInit2 failed"));
  }
  unsigned char input[64 * 1024];
  unsigned char output[64 * 1024];
  absl::Status status;
  int flush = Z_NO_FLUSH;
  while (status.ok() && flush != Z_FINISH) {
    ssize_t n = ::read(in, input, sizeof(input));
    if (n < 0) {
      if (errno == EINTR) continue;
      status = ErrnoError(absl::StrCat("read ", path));
      break;
    }
    flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = input;
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = output;
      z.avail_out = sizeof(output);
      deflate(&z, flush);
      status = WriteFully(out, absl::string_view(reinterpret_cast<char*>(output), sizeof(output) - z.avail_out),
                          absl::StrCat("write ", path, ".gz"));
    } while (status.ok() && z.avail_out == 0);
  }
  deflateEnd(&z);
  return status;
}

}  // namespace

absl::Status CompressLogFile(const std::string& path) {
  UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return ErrnoError(absl::StrCat("open ", path));
  const std::string tmp = TempPathFor(path);
  const std::string gz = absl::StrCat(path, ".gz");
  UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!out.valid()) return ErrnoError(absl::StrCat("create ", tmp));
  absl::Status status = Deflate(in.get(), out.get(), path);
  if (status.ok() && ::close(out.Release()) != 0) status = ErrnoError(absl::StrCat("close ", tmp));
  if (status.ok() && ::rename(tmp.c_str(), gz.c_str()) != 0) {
    status = ErrnoError(absl::StrCat("rename ", tmp, " to ", gz));
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  if (::unlink(path.c_str()) != 0) {
    // Pruned by the monitor while we worked: leave nothing behind.
    if (errno != ENOENT) return ErrnoError(absl::StrCat("unlink ", path));
    ::unlink(gz.c_str());
  }
  return absl::OkStatus();
}

}  // namespace berth::shim
