// berth-portmap: hostPort -> pod port with nftables DNAT (see rules.h).
#include "cni-plugins/common/plugin.h"
#include "cni-plugins/portmap/portmap.h"

int main() {
  berth::cniplugin::Handlers handlers;
  handlers.add = berth::portmap::Add;
  handlers.del = berth::portmap::Del;
  handlers.check = berth::portmap::Check;
  handlers.gc = berth::portmap::Gc;
  return berth::cniplugin::RunPlugin(handlers);
}
