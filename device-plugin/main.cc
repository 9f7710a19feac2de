// berth-gpu-plugin: the NVIDIA GPU device plugin. See README.md.
#include <signal.h>

#include <iostream>

#include "common/logging.h"
#include "common/stop_signals.h"
#include "device-plugin/gpu_plugin.h"
#include "device-plugin/plugin_flags.h"

int main(int argc, char** argv) {
  auto flags = berth::gpu::ParsePluginFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr << "berth-gpu-plugin: " << flags.status().message() << "\n\n" << berth::gpu::kPluginUsage;
    return 2;
  }
  if (flags->help) {
    std::cout << berth::gpu::kPluginUsage;
    return 0;
  }
  berth::SetLogLevel(flags->log_level == "debug"     ? berth::LogLevel::kDebug
                     : flags->log_level == "warning" ? berth::LogLevel::kWarning
                     : flags->log_level == "error"   ? berth::LogLevel::kError
                                                     : berth::LogLevel::kInfo);
  // Blocked before any thread starts, so only Run()'s signalfd sees them.
  berth::BlockStopSignals();

  auto plugin = berth::gpu::GpuPlugin::Create(*flags);
  if (!plugin.ok()) {
    std::cerr << "berth-gpu-plugin: " << plugin.status().message() << "\n";
    return 1;
  }
  if (auto s = (*plugin)->Run(); !s.ok()) {
    std::cerr << "berth-gpu-plugin: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
