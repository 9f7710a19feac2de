// The attach socket's framing: <bundle>/attach.sock, served by
// berth-shim-monitor, read by the streaming server's AttachSession.
// Both directions carry frames of
//   [kind: 1 byte][length: 4 bytes, big endian][payload: length bytes]
// shim -> client: kAttachStdout, kAttachStderr (a tty container has stdout only).
// client -> shim: kAttachStdin (at most kMaxAttachInput bytes), kAttachCloseStdin
// (empty; closes the container's stdin when it was created with stdin_once),
// kAttachResize (4 bytes: columns, rows, each 16-bit big endian; tty only).
// The shim closes the connection when the container has exited and its output
// is drained, and drops a client that cannot take a frame at once (slow).
// Header-only, no libc: the monitor includes it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace berth::shim {

inline constexpr char kAttachSocketName[] = "attach.sock";

inline constexpr uint8_t kAttachStdin = 0;
inline constexpr uint8_t kAttachStdout = 1;
inline constexpr uint8_t kAttachStderr = 2;
inline constexpr uint8_t kAttachCloseStdin = 3;
inline constexpr uint8_t kAttachResize = 4;

inline constexpr size_t kAttachHeaderSize = 5;
inline constexpr size_t kMaxAttachInput = 4096;

inline void EncodeAttachHeader(uint8_t kind, uint32_t length, unsigned char* out) {
  out[0] = kind;
  out[1] = static_cast<unsigned char>(length >> 24);
  out[2] = static_cast<unsigned char>(length >> 16);
  out[3] = static_cast<unsigned char>(length >> 8);
  out[4] = static_cast<unsigned char>(length);
}

inline uint32_t DecodeAttachLength(const unsigned char* header) {
  return (uint32_t{header[1]} << 24) | (uint32_t{header[2]} << 16) | (uint32_t{header[3]} << 8) |
         uint32_t{header[4]};
}

inline void EncodeAttachResize(uint16_t columns, uint16_t rows, unsigned char* out) {
  out[0] = static_cast<unsigned char>(columns >> 8);
  out[1] = static_cast<unsigned char>(columns);
  out[2] = static_cast<unsigned char>(rows >> 8);
  out[3] = static_cast<unsigned char>(rows);
}

}  // namespace berth::shim
