// The bytes of the sync and start pipes between the shim and the container
// init (container_init.h), shared with berth-shim-monitor.
#pragma once

namespace berth::shim {

inline constexpr char kSyncReady = 'R';
inline constexpr char kSyncError = 'E';
inline constexpr char kStartByte = 'S';

}  // namespace berth::shim
