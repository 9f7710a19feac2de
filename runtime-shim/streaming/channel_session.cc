#include "runtime-shim/streaming/channel_session.h"

namespace berth::streaming {

ChannelSession::ChannelSession(WebSocket ws, ChannelProtocol protocol)
    : transport_(std::make_unique<WebSocketTransport>(std::move(ws), protocol)) {}

ChannelSession::ChannelSession(std::unique_ptr<ChannelTransport> transport) : transport_(std::move(transport)) {}

void ChannelSession::Run() { transport_->Start(this, shared_from_this()); }

}  // namespace berth::streaming
