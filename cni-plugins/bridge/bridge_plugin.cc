#include "cni-plugins/bridge/bridge_plugin.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cni-plugins/bridge/bridge_config.h"
#include "cni-plugins/bridge/ipam_delegate.h"
#include "cni-plugins/bridge/ipam_result.h"
#include "cni-plugins/netlink/netlink.h"
#include "cni-plugins/netlink/netns.h"
#include "cni-plugins/nft/masquerade.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::bridge {
namespace {

// BERTH_CNI_TRACE=1: phase timings (microseconds since the first mark) on
// stderr, for profiling a plugin run as the runtime runs it.
class Trace {
 public:
  static void Mark(const char* phase) {
    static const bool on = [] {
      const char* v = std::getenv("BERTH_CNI_TRACE");
      return v != nullptr && *v != '\0' && std::string(v) != "0";
    }();
    if (!on) return;
    static const auto start = std::chrono::steady_clock::now();
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    std::fprintf(stderr, "berth-bridge trace: %-28s %6lld us\n", phase, static_cast<long long>(us.count()));
  }
};

using cniplugin::CniError;
using cniplugin::PluginArgs;
using netlink::IpPrefix;
using netlink::LinkInfo;
using netlink::Netlink;
using netlink::Netns;

// The container's netns: a missing or bad path is the caller's env (code 4).
absl::StatusOr<Netns> OpenPodNetns(const std::string& path) {
  auto netns = Netns::Open(path);
  if (!netns.ok()) {
    return CniError(cniplugin::kInvalidEnv, absl::StrCat("CNI_NETNS: ", netns.status().message()));
  }
  return netns;
}

absl::Status Context(const absl::Status& s, absl::string_view what) {
  if (s.ok()) return s;
  // Keep a CNI code the status carries; annotate the message.
  int code = cniplugin::CniCode(s);
  return CniError(code, absl::StrCat(what, ": ", s.message()));
}

absl::StatusOr<LinkInfo> EnsureBridge(Netlink& nl, const BridgeConfig& config) {
  // Usually the bridge is there and up: device ioctls tell (a bridge's
  // RTM_GETLINK reply is costly for the kernel to build). Anything else goes
  // the netlink way, which names the kind in its error.
  if (auto quick = nl.QuickLink(config.bridge);
      quick.ok() && quick->kind == "bridge" && quick->up() && (!config.promisc_mode || quick->promisc())) {
    return quick;
  }
  auto br = nl.GetLink(config.bridge);
  if (br.status().code() == absl::StatusCode::kNotFound) {
    absl::Status created = nl.CreateBridge(config.bridge, config.mtu, config.promisc_mode,
                                             netlink::RandomMac());
    if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) return created;
    br = nl.GetLink(config.bridge);
  }
  if (!br.ok()) return br.status();
  if (br->kind != "bridge") {
    return CniError(cniplugin::kPluginSpecific,
                    absl::StrCat("bridge \"", config.bridge, "\" exists but is a ",
                                 br->kind.empty() ? "device" : br->kind, ", not a bridge"));
  }
  if (config.promisc_mode && !br->promisc()) RETURN_IF_ERROR(nl.SetPromisc(br->index, true));
  if (!br->up()) RETURN_IF_ERROR(nl.SetUp(br->index));
  return br;
}

// The reference bridge's ensureAddr: the gateway address on the bridge; a
// different IPv4 address (or an overlapping IPv6 one) is an error unless
// forceAddress, which replaces it.
absl::Status EnsureGatewayAddress(Netlink& nl, const LinkInfo& br, const IpPrefix& gw, bool force) {
  // Usually the gateway is already the bridge's primary IPv4 address: two
  // ioctls tell, without an address dump.
  if (gw.family == AF_INET) {
    if (auto primary = nl.PrimaryIpv4(br.name); primary.ok() && *primary == gw) return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto addrs, nl.ListAddresses(br.index, gw.family));
  for (const auto& a : addrs) {
    if (a == gw) return absl::OkStatus();
    if (gw.family == AF_INET || a.Contains(gw) || gw.Contains(a)) {
      if (!force) {
        return CniError(cniplugin::kPluginSpecific,
                        absl::StrCat("bridge \"", br.name, "\" already has an IP address ",
                                     a.ToString(), " different from ", gw.ToString(),
                                     " (set forceAddress to replace it)"));
      }
      absl::Status s = nl.DeleteAddress(br.index, a);
      if (!s.ok() && s.code() != absl::StatusCode::kNotFound) return s;
    }
  }
  absl::Status s = nl.AddAddress(br.index, gw, /*nodad=*/gw.family == AF_INET6);
  if (s.code() == absl::StatusCode::kAlreadyExists) return absl::OkStatus();  // a concurrent ADD
  return s;
}

absl::Status EnableForwarding(int family) {
  std::string path = family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding"
                                        : "/proc/sys/net/ipv4/ip_forward";
  auto current = ReadFile(path);
  if (current.ok() && absl::StripAsciiWhitespace(*current) == "1") return absl::OkStatus();
  return WriteKnob(path, "1");
}

// The container side: addresses (IPv6 without DAD), up, routes (without a
// gw: via the family's gateway, else on-link).
absl::Status ConfigureContainer(Netlink& cnl, int index, const IpamResult& ipam) {
  for (const auto& ip : ipam.ips) {
    absl::Status s = cnl.AddAddress(index, ip.address, /*nodad=*/ip.address.family == AF_INET6);
    if (!s.ok() && s.code() != absl::StatusCode::kAlreadyExists) return s;
  }
  RETURN_IF_ERROR(cnl.SetUp(index));
  for (const auto& r : ipam.routes) {
    std::optional<IpPrefix> gw = r.gw;
    if (!gw) {
      for (const auto& ip : ipam.ips) {
        if (ip.address.family == r.dst.family && ip.gateway) {
          gw = ip.gateway;
          break;
        }
      }
    }
    absl::Status s = cnl.AddRoute(r.dst, gw, index);
    if (!s.ok() && s.code() != absl::StatusCode::kAlreadyExists) return s;
  }
  return absl::OkStatus();
}

// Everything ADD did that a failure must undo.
struct AddState {
  std::optional<IpamDelegate> ipam;  // started, not waited
  bool ipam_allocated = false;
  std::string host_veth;             // created
  bool masquerade = false;
  // A netlink socket in the pod's netns, opened while IPAM runs.
  std::unique_ptr<Netlink> pod_netlink;
  absl::Status pod_netlink_opened;
};

void Undo(const PluginArgs& args, const BridgeConfig& config, AddState& state, Netlink* nl) {
  if (state.ipam) {
    auto r = state.ipam->Wait();
    state.ipam.reset();
    state.ipam_allocated = r.ok();
  }
  if (state.masquerade) {
    (void)cniplugin::DeleteMasquerade(config.network_name, args.container_id, args.ifname);
  }
  if (!state.host_veth.empty() && nl != nullptr) (void)nl->DeleteLink(state.host_veth);
  if (state.ipam_allocated) {
    (void)IpamDelegate::Run(args, config.ipam_type, "DEL");
  }
}

absl::StatusOr<nlohmann::json> AddAttached(const PluginArgs& args, const BridgeConfig& config,
                                           const Netns& netns, Netlink& nl, AddState& state) {
  ASSIGN_OR_RETURN(LinkInfo br, EnsureBridge(nl, config));
  Trace::Mark("bridge ready");

  std::string host_name = HostVethName(config.network_name, args.container_id, args.ifname);
  // Both MACs chosen here (random, as the kernel would), so the result needs
  // no RTM_GETLINK of either end: an index lookup each is enough.
  netlink::VethSpec spec{.name = host_name,
                         .peer_name = args.ifname,
                         .peer_netns = &netns,
                         .mtu = config.mtu,
                         .master = br.index,
                         .up = true,
                         .mac = netlink::RandomMac(),
                         .peer_mac = config.runtime_mac.empty() ? netlink::RandomMac()
                                                                : config.runtime_mac};
  std::string owner = VethOwner(config.network_name, args.container_id, args.ifname);
  absl::Status created = nl.CreateVeth(spec);
  if (created.code() == absl::StatusCode::kAlreadyExists) {
    // (A socket of its own there: the one opened alongside IPAM is not ours
    // until IPAM is waited for.)
    ASSIGN_OR_RETURN(auto pod_side, Netlink::OpenIn(netns));
    if (pod_side->LinkIndex(args.ifname).ok()) {
      return CniError(cniplugin::kPluginSpecific,
                      absl::StrCat("container interface \"", args.ifname, "\" already exists in ",
                                   args.netns));
    }
    // The host name is taken: by this attachment's own earlier veth (its
    // other end in another netns), which goes; or by another attachment's (a
    // hash collision), which stays while this one takes a random name (DEL
    // then finds it from the pod side).
    auto existing = nl.GetLink(host_name);
    if (existing.ok() && existing->alias == owner) {
      absl::Status stale = nl.DeleteLink(existing->index);
      if (!stale.ok() && stale.code() != absl::StatusCode::kNotFound) return stale;
    } else {
      spec.name = host_name = RandomHostVethName();
    }
    created = nl.CreateVeth(spec);
  }
  RETURN_IF_ERROR(Context(created, "create the pod's veth pair"));
  Trace::Mark("veth created");
  state.host_veth = host_name;
  RETURN_IF_ERROR(nl.SetAlias(host_name, owner));
  if (config.hairpin_mode) {
    ASSIGN_OR_RETURN(int host_index, nl.LinkIndex(host_name));
    RETURN_IF_ERROR(nl.SetHairpin(host_index, true));
  }
  Trace::Mark("alias set");

  IpamResult ipam;
  if (state.ipam) {
    auto raw = state.ipam->Wait();
    state.ipam.reset();
    if (!raw.ok()) return raw.status();
    state.ipam_allocated = true;
    ASSIGN_OR_RETURN(ipam, ParseIpamResult(*raw));
    if (ipam.ips.empty()) {
      return CniError(cniplugin::kPluginSpecific,
                      absl::StrCat("ipam plugin ", config.ipam_type, " returned no IP addresses"));
    }
  }
  Trace::Mark("ipam result");
  // Opened alongside IPAM (see Add), else here.
  if (state.pod_netlink == nullptr) {
    RETURN_IF_ERROR(state.pod_netlink_opened);
    ASSIGN_OR_RETURN(state.pod_netlink, Netlink::OpenIn(netns));
  }
  Netlink* cnl = state.pod_netlink.get();
  ASSIGN_OR_RETURN(int pod_index, cnl->LinkIndex(args.ifname));
  std::vector<IpPrefix> gateways = ApplyGateways(&ipam, config.is_gateway, config.is_default_gateway);
  bool forward[2] = {false, false};
  for (const auto& gw : gateways) {
    RETURN_IF_ERROR(Context(EnsureGatewayAddress(nl, br, gw, config.force_address),
                            absl::StrCat("gateway ", gw.ToString(), " on ", config.bridge)));
    forward[gw.family == AF_INET6 ? 1 : 0] = true;
  }
  if (forward[0]) RETURN_IF_ERROR(Context(EnableForwarding(AF_INET), "enable IPv4 forwarding"));
  if (forward[1]) RETURN_IF_ERROR(Context(EnableForwarding(AF_INET6), "enable IPv6 forwarding"));

  Trace::Mark("gateway and forwarding");
  RETURN_IF_ERROR(Context(ConfigureContainer(*cnl, pod_index, ipam),
                          absl::StrCat("configure ", args.ifname, " in ", args.netns)));
  Trace::Mark("container configured");
  if (config.ip_masq) {
    std::vector<std::string> cidrs;
    for (const auto& ip : ipam.ips) cidrs.push_back(ip.address.ToString());
    state.masquerade = true;
    RETURN_IF_ERROR(Context(
        cniplugin::AddMasquerade(config.network_name, args.container_id, args.ifname, cidrs),
        "ipMasq"));
  }
  Trace::Mark("ipmasq");
  std::vector<ResultInterface> interfaces = {
      {br.name, br.mac, ""}, {host_name, spec.mac, ""}, {args.ifname, spec.peer_mac, args.netns}};
  return ResultJson(args.cni_version, interfaces, ipam, 2);
}

}  // namespace

void TraceMark(const char* phase) { Trace::Mark(phase); }

absl::StatusOr<nlohmann::json> Add(const PluginArgs& args) {
  Trace::Mark("ADD");
  ASSIGN_OR_RETURN(BridgeConfig config, ParseBridgeConfig(args.config));
  ASSIGN_OR_RETURN(Netns netns, OpenPodNetns(args.netns));
  AddState state;
  Trace::Mark("config parsed");
  // IPAM runs (its own process, or a thread for berth-host-local) while the
  // bridge and veth are made.
  // The pod's netlink socket (a setns there and back) is opened alongside:
  // it is first needed once the veth exists, after IPAM's result.
  if (!config.ipam_type.empty()) {
    ASSIGN_OR_RETURN(IpamDelegate ipam,
                     IpamDelegate::Start(args, config.ipam_type, "ADD", [&netns, &state] {
                       auto opened = Netlink::OpenIn(netns);
                       if (opened.ok()) {
                         state.pod_netlink = std::move(*opened);
                       } else {
                         state.pod_netlink_opened = opened.status();
                       }
                     }));
    state.ipam.emplace(std::move(ipam));
  }
  Trace::Mark("ipam started");
  auto nl = Netlink::Open();
  if (!nl.ok()) {
    Undo(args, config, state, nullptr);
    return nl.status();
  }
  auto result = AddAttached(args, config, netns, **nl, state);
  if (!result.ok()) Undo(args, config, state, nl->get());
  Trace::Mark("ADD done");
  return result;
}

absl::StatusOr<nlohmann::json> Del(const PluginArgs& args) {
  Trace::Mark("DEL");
  ASSIGN_OR_RETURN(BridgeConfig config, ParseBridgeConfig(args.config));
  // IPAM release and the masquerade rules go in parallel with the veth's
  // removal, which is mostly the kernel waiting for RCU grace periods.
  // A failure to start IPAM (say, its binary is gone) is reported, but the
  // veth and the rules still go.
  std::optional<IpamDelegate> ipam;
  absl::Status ipam_status;
  if (!config.ipam_type.empty()) {
    auto started = IpamDelegate::Start(args, config.ipam_type, "DEL");
    if (started.ok()) {
      ipam.emplace(std::move(*started));
    } else {
      ipam_status = started.status();
    }
  }
  absl::Status masq;
  std::thread masq_thread;
  if (config.ip_masq) {
    masq_thread = std::thread([&] {
      masq = cniplugin::DeleteMasquerade(config.network_name, args.container_id, args.ifname);
      Trace::Mark("masquerade removed");
    });
  }
  // A pod namespace that is gone takes the veth pair with it: the kernel
  // removes the devices of a released namespace asynchronously, so there is
  // nothing to wait ~15-20 ms for. berth's runtime releases the namespace
  // before DEL for that reason (the reference bridge also leaves the links to
  // the namespace's end then). Otherwise one request: the host side by its
  // name (the pod side goes with it).
  absl::Status link;
  bool netns_gone = !args.netns.empty() && access(args.netns.c_str(), F_OK) != 0 && errno == ENOENT;
  auto nl = netns_gone ? absl::StatusOr<std::unique_ptr<Netlink>>(nullptr) : Netlink::Open();
  if (netns_gone) {
    Trace::Mark("netns gone: the kernel removes the veth");
  } else if (!nl.ok()) {
    link = nl.status();
  } else {
    // Only a veth whose alias says it is this attachment's.
    auto host = (*nl)->GetLink(HostVethName(config.network_name, args.container_id, args.ifname));
    if (host.ok() && host->alias == VethOwner(config.network_name, args.container_id, args.ifname)) {
      link = (*nl)->DeleteLink(host->index);
    } else {
      link = host.ok() || host.status().code() == absl::StatusCode::kNotFound
                 ? absl::Status(absl::NotFoundError("not ours"))
                 : host.status();
    }
    if (link.code() == absl::StatusCode::kNotFound) {
      link = absl::OkStatus();
      // Not ours by name (or gone): the pod side, when the netns is still there.
      if (auto netns = Netns::Open(args.netns); !args.netns.empty() && netns.ok()) {
        auto cnl = Netlink::OpenIn(*netns);
        link = cnl.ok() ? (*cnl)->DeleteLink(args.ifname) : cnl.status();
        if (link.code() == absl::StatusCode::kNotFound) link = absl::OkStatus();
      }
    }
  }
  Trace::Mark("veth deleted");
  if (masq_thread.joinable()) masq_thread.join();
  if (ipam) ipam_status = ipam->Wait().status();
  Trace::Mark("DEL done");
  RETURN_IF_ERROR(ipam_status);
  RETURN_IF_ERROR(Context(masq, "ipMasq"));
  RETURN_IF_ERROR(Context(link, absl::StrCat("delete ", args.ifname, "'s veth")));
  return nlohmann::json();
}

absl::StatusOr<nlohmann::json> Check(const PluginArgs& args) {
  ASSIGN_OR_RETURN(BridgeConfig config, ParseBridgeConfig(args.config));
  if (config.prev_result.is_null()) {
    return CniError(cniplugin::kInvalidConfig, "bridge config: prevResult is required for CHECK");
  }
  ASSIGN_OR_RETURN(IpamResult prev, ParseIpamResult(config.prev_result));
  if (!config.ipam_type.empty()) {
    ASSIGN_OR_RETURN(auto ignored,
                     IpamDelegate::Run(args, config.ipam_type, "CHECK"));
    (void)ignored;
  }
  ASSIGN_OR_RETURN(Netns netns, OpenPodNetns(args.netns));
  ASSIGN_OR_RETURN(auto nl, Netlink::Open());
  ASSIGN_OR_RETURN(LinkInfo br, nl->GetLink(config.bridge));
  // The host veth the result named (an interface without a sandbox that is
  // not the bridge), else the name ADD gives it.
  std::string host_name = HostVethName(config.network_name, args.container_id, args.ifname);
  if (auto ifs = config.prev_result.find("interfaces"); ifs != config.prev_result.end() && ifs->is_array()) {
    for (const auto& i : *ifs) {
      if (i.is_object() && !i.contains("sandbox") && i.value("name", "") != config.bridge &&
          !i.value("name", "").empty()) {
        host_name = i.value("name", "");
      }
    }
  }
  auto host = nl->GetLink(host_name);
  if (!host.ok()) {
    return CniError(cniplugin::kPluginSpecific, absl::StrCat("host veth ", host_name, ": ", host.status().message()));
  }
  if (host->alias != VethOwner(config.network_name, args.container_id, args.ifname)) {
    return CniError(cniplugin::kPluginSpecific,
                    absl::StrCat("host veth ", host_name, " belongs to another attachment (", host->alias, ")"));
  }
  if (host->master != br.index) {
    return CniError(cniplugin::kPluginSpecific,
                    absl::StrCat("host veth ", host_name, " is not attached to ", config.bridge));
  }
  ASSIGN_OR_RETURN(auto cnl, Netlink::OpenIn(netns));
  auto pod = cnl->GetLink(args.ifname);
  if (!pod.ok()) {
    return CniError(cniplugin::kPluginSpecific,
                    absl::StrCat(args.ifname, " in ", args.netns, ": ", pod.status().message()));
  }
  ASSIGN_OR_RETURN(auto addrs, cnl->ListAddresses(pod->index, AF_UNSPEC));
  for (const auto& ip : prev.ips) {
    bool found = false;
    for (const auto& a : addrs) found = found || a == ip.address;
    if (!found) {
      return CniError(cniplugin::kPluginSpecific,
                      absl::StrCat(args.ifname, " in ", args.netns, " lacks address ", ip.address.ToString()));
    }
  }
  return nlohmann::json();
}

absl::StatusOr<nlohmann::json> Gc(const PluginArgs& args) {
  ASSIGN_OR_RETURN(BridgeConfig config, ParseBridgeConfig(args.config));
  if (config.ipam_type.empty()) return nlohmann::json();
  return IpamDelegate::Run(args, config.ipam_type, "GC");
}

absl::StatusOr<nlohmann::json> Status(const PluginArgs& args) {
  ASSIGN_OR_RETURN(BridgeConfig config, ParseBridgeConfig(args.config));
  if (config.ipam_type.empty()) return nlohmann::json();
  return IpamDelegate::Run(args, config.ipam_type, "STATUS");
}

}  // namespace berth::bridge
