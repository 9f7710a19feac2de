// berth-bridge: the CNI bridge plugin (see bridge_plugin.h and README.md).
#include <signal.h>

#include "cni-plugins/bridge/bridge_plugin.h"

int main() {
  berth::bridge::TraceMark("main");
  // A delegate that exits before reading its stdin must not kill us.
  signal(SIGPIPE, SIG_IGN);
  berth::cniplugin::Handlers handlers;
  handlers.add = berth::bridge::Add;
  handlers.del = berth::bridge::Del;
  handlers.check = berth::bridge::Check;
  handlers.gc = berth::bridge::Gc;
  handlers.status = berth::bridge::Status;
  int rc = berth::cniplugin::RunPlugin(handlers);
  berth::bridge::TraceMark("result written");
  return rc;
}
