#include "runtime-shim/streaming/attach_session.h"

#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/shim/attach_protocol.h"
#include "runtime-shim/streaming/exec_status.h"

namespace berth::streaming {
namespace {

std::string ShimFrame(uint8_t kind, const std::string& payload) {
  std::string frame(shim::kAttachHeaderSize, '\0');
  shim::EncodeAttachHeader(kind, static_cast<uint32_t>(payload.size()),
                           reinterpret_cast<unsigned char*>(frame.data()));
  return frame + payload;
}

}  // namespace

AttachSession::AttachSession(WebSocket ws, ChannelProtocol protocol, ::runtime::v1::AttachRequest request,
                             StreamingRuntime* runtime)
    : ChannelSession(std::move(ws), protocol), request_(std::move(request)), runtime_(runtime) {}

AttachSession::AttachSession(std::unique_ptr<ChannelTransport> transport, ::runtime::v1::AttachRequest request,
                             StreamingRuntime* runtime)
    : ChannelSession(std::move(transport)), request_(std::move(request)), runtime_(runtime) {}

void AttachSession::Begin() {
  auto fd = runtime_->ConnectAttach(request_.container_id());
  if (!fd.ok()) {
    BERTH_LOG(Warning) << "streaming attach failed" << Kv("container", request_.container_id())
                       << Kv("error", fd.status().message());
    return Finish(std::string(fd.status().message()));
  }
  shim_ = std::make_unique<asio::posix::stream_descriptor>(executor(), *fd);
  // An empty message on the lowest writable channel: the streams are ready.
  Send(request_.stdout() ? kStdoutChannel : request_.stderr() ? kStderrChannel : kErrorChannel, "");
  ReadShim();
}

void AttachSession::ReadShim() {
  if (finished_ || !shim_ || !shim_->is_open()) return;
  auto self = std::static_pointer_cast<AttachSession>(shared_from_this());
  shim_->async_read_some(asio::buffer(read_buffer_), [self](boost::system::error_code ec, size_t n) {
    if (ec || n == 0) {
      // The container exited (or the shim dropped us as too slow).
      self->Finish("");
      return;
    }
    self->shim_input_.append(self->read_buffer_.data(), n);
    self->ForwardShimFrames();
  });
}

void AttachSession::ForwardShimFrames() {
  while (!finished_ && shim_input_.size() >= shim::kAttachHeaderSize) {
    const auto* header = reinterpret_cast<const unsigned char*>(shim_input_.data());
    const size_t length = shim::DecodeAttachLength(header);
    if (shim_input_.size() < shim::kAttachHeaderSize + length) break;
    const uint8_t kind = header[0];
    std::string data = shim_input_.substr(shim::kAttachHeaderSize, length);
    shim_input_.erase(0, shim::kAttachHeaderSize + length);
    const bool wanted = (kind == shim::kAttachStdout && request_.stdout()) ||
                        (kind == shim::kAttachStderr && request_.stderr());
    if (!wanted || data.empty()) continue;
    auto self = std::static_pointer_cast<AttachSession>(shared_from_this());
    // Read on once this frame is written (backpressure); the rest waits in shim_input_.
    Send(kind == shim::kAttachStdout ? kStdoutChannel : kStderrChannel, data,
         [self] { self->ForwardShimFrames(); });
    return;
  }
  ReadShim();
}

void AttachSession::WriteToShim(uint8_t kind, std::string payload) {
  if (finished_ || !shim_ || !shim_->is_open()) return ReadNext();
  shim_output_ = ShimFrame(kind, payload);
  auto self = std::static_pointer_cast<AttachSession>(shared_from_this());
  asio::async_write(*shim_, asio::buffer(shim_output_), [self](boost::system::error_code, size_t) {
    self->ReadNext();  // a failed write means the container is gone: the read side ends the session
  });
}

void AttachSession::OnFrame(ChannelFrame frame) {
  if (finished_) return ReadNext();
  switch (frame.channel) {
    case kStdinChannel: {
      if (!request_.stdin() || stdin_closed_ || frame.data.empty()) return ReadNext();
      if (frame.data.size() > shim::kMaxAttachInput) {
        // Larger than one shim frame: send it in pieces, one after the other.
        std::string rest = frame.data.substr(shim::kMaxAttachInput);
        frame.data.resize(shim::kMaxAttachInput);
        shim_output_ = ShimFrame(shim::kAttachStdin, frame.data);
        auto self = std::static_pointer_cast<AttachSession>(shared_from_this());
        asio::async_write(*shim_, asio::buffer(shim_output_),
                          [self, rest = std::move(rest)](boost::system::error_code ec, size_t) mutable {
                            if (ec) return self->ReadNext();
                            self->OnFrame(ChannelFrame{kStdinChannel, std::move(rest)});
                          });
        return;
      }
      return WriteToShim(shim::kAttachStdin, std::move(frame.data));
    }
    case kResizeChannel: {
      if (!request_.tty()) return ReadNext();
      auto size = nlohmann::json::parse(frame.data, nullptr, /*allow_exceptions=*/false);
      if (!size.is_object() || size.value("Width", -1) < 0 || size.value("Height", -1) < 0) {
        BERTH_LOG(Warning) << "streaming attach: bad resize message" << Kv("data", frame.data);
        return ReadNext();
      }
      std::string payload(4, '\0');
      shim::EncodeAttachResize(static_cast<uint16_t>(size.value("Width", 0)),
                               static_cast<uint16_t>(size.value("Height", 0)),
                               reinterpret_cast<unsigned char*>(payload.data()));
      return WriteToShim(shim::kAttachResize, std::move(payload));
    }
    case kCloseChannel:
      // The client's end of stdin (v5's close message, SPDY's stdin FIN).
      if (!frame.data.empty() && frame.data[0] == kStdinChannel && request_.stdin() && !stdin_closed_) {
        stdin_closed_ = true;
        return WriteToShim(shim::kAttachCloseStdin, "");
      }
      return ReadNext();
    default:
      return ReadNext();
  }
}

void AttachSession::Finish(const std::string& error) {
  if (finished_) return;
  finished_ = true;
  std::string status;
  if (protocol().version >= 4) {
    status = error.empty() ? SuccessStatusJson() : InternalErrorStatusJson(error);
  } else {
    status = error;
  }
  if (!status.empty()) Send(kErrorChannel, status);
  CloseWhenSent();
  if (shim_) {
    boost::system::error_code ignored;
    shim_->close(ignored);
  }
}

void AttachSession::OnClientGone() {
  if (finished_ || !shim_ || !shim_->is_open()) return;
  // The client's stdin ends with it: with stdinOnce that closes the container's.
  if (request_.stdin() && !stdin_closed_) {
    stdin_closed_ = true;
    std::string frame = ShimFrame(shim::kAttachCloseStdin, "");
    (void)::send(shim_->native_handle(), frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  // Detach: the container goes on.
  finished_ = true;
  boost::system::error_code ignored;
  shim_->close(ignored);
}

}  // namespace berth::streaming
