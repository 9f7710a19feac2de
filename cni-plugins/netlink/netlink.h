// A small wrapper over libnl (libnl-3 + libnl-route-3) for what the bridge
// plugin needs: links (bridge, veth pairs, master, up, MTU, promiscuous,
// hairpin), addresses and routes, each as one netlink request answered by
// one reply: no cache fills (rtnl_link_alloc_cache dumps every link).
//
// A Netlink talks to the namespace its socket was opened in: Open() for the
// calling thread's, OpenIn(netns) for another one (the socket stays bound to
// it, so the caller never has to run inside it).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cni-plugins/netlink/ip_prefix.h"
#include "cni-plugins/netlink/netns.h"

struct nl_sock;

namespace berth::netlink {

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;        // IFLA_INFO_KIND: "bridge", "veth", ... ("" for none)
  unsigned mtu = 0;
  unsigned flags = 0;      // IFF_*
  int master = 0;          // ifindex of the master (bridge), 0 when none
  std::string mac;         // "0a:58:..." (lower case)
  std::string alias;       // IFLA_IFALIAS ("" when none)
  bool up() const;
  bool promisc() const;
};

struct RouteInfo {
  IpPrefix dst;            // 0.0.0.0/0 for a default route
  std::optional<IpPrefix> gateway;
  int ifindex = 0;
};

// Options for a new veth pair.
struct VethSpec {
  std::string name;        // this side, in the socket's namespace
  std::string peer_name;   // the other side
  const Netns* peer_netns = nullptr;  // where the peer is created (null: here)
  unsigned mtu = 0;        // 0: the kernel's default
  int master = 0;          // enslave this side to this bridge at creation (0: none)
  bool up = false;         // bring this side up at creation
  std::string mac;         // "aa:bb:cc:dd:ee:ff" for this side ("" : random)
  std::string peer_mac;    // "aa:bb:cc:dd:ee:ff" for the peer ("" : random)
};

class Netlink {
 public:
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // A socket in the calling thread's network namespace.
  static absl::StatusOr<std::unique_ptr<Netlink>> Open();
  // A socket in `netns` (the calling thread only visits it to make the socket).
  static absl::StatusOr<std::unique_ptr<Netlink>> OpenIn(const Netns& netns);

  // The link's index by name: one SIOCGIFINDEX ioctl on this socket (in its
  // namespace), much cheaper than a full RTM_GETLINK. NotFound when missing.
  absl::StatusOr<int> LinkIndex(const std::string& name);

  // A link's index, flags, MAC and kind by device ioctls, with no netlink
  // reply to build: much cheaper than GetLink for a link with many
  // attributes (a bridge). kind is the ethtool driver name, which matches
  // IFLA_INFO_KIND for bridge and veth; mtu, master and alias are not read.
  // NotFound when there is no such link.
  absl::StatusOr<LinkInfo> QuickLink(const std::string& name);

  // A link's primary IPv4 address and prefix by ioctls (SIOCGIFADDR,
  // SIOCGIFNETMASK): NotFound when it has none. Secondary addresses are
  // not seen (ListAddresses sees all).
  absl::StatusOr<IpPrefix> PrimaryIpv4(const std::string& name);

  // One RTM_GETLINK; NotFound when there is no such link.
  absl::StatusOr<LinkInfo> GetLink(const std::string& name);
  absl::StatusOr<LinkInfo> GetLink(int index);

  // A new bridge; AlreadyExists when the name is taken. With `mac`, the
  // bridge keeps that address (else the kernel's follows its ports' MACs).
  absl::Status CreateBridge(const std::string& name, unsigned mtu, bool promisc,
                            const std::string& mac = "");
  // A new veth pair (see VethSpec); AlreadyExists when a name is taken.
  absl::Status CreateVeth(const VethSpec& spec);
  // Deletes a link (a veth takes its peer with it); NotFound when missing.
  absl::Status DeleteLink(const std::string& name);
  absl::Status DeleteLink(int index);

  absl::Status SetUp(int index);
  // Sets the link's alias (IFLA_IFALIAS, up to 255 bytes) by name.
  absl::Status SetAlias(const std::string& name, const std::string& alias);
  absl::Status SetMaster(int index, int master_index);
  absl::Status SetMtu(int index, unsigned mtu);
  absl::Status SetPromisc(int index, bool on);
  // Hairpin mode of a bridge port (IFLA_BRPORT_MODE, RTM_SETLINK AF_BRIDGE).
  absl::Status SetHairpin(int index, bool on);
  // NotFound when `index` is not a bridge port.
  absl::StatusOr<bool> GetHairpin(int index);

  // Adds `address` ("10.22.0.5/16") to the link; IFA_F_NODAD when `nodad`
  // (IPv6). AlreadyExists when it is there.
  absl::Status AddAddress(int index, const IpPrefix& address, bool nodad = false);
  absl::Status DeleteAddress(int index, const IpPrefix& address);
  // The link's addresses of `family` (AF_INET, AF_INET6, or AF_UNSPEC for both).
  absl::StatusOr<std::vector<IpPrefix>> ListAddresses(int index, int family);

  // A route to `dst` through `index`, via `gateway` when given.
  // AlreadyExists when the same route is there.
  absl::Status AddRoute(const IpPrefix& dst, const std::optional<IpPrefix>& gateway, int index);
  // The main table's routes through `index` of `family`.
  absl::StatusOr<std::vector<RouteInfo>> ListRoutes(int index, int family);

 private:
  explicit Netlink(struct nl_sock* sock) : sock_(sock) {}
  // An AF_INET datagram socket of the same namespace, for the inet device
  // ioctls a netlink socket does not serve (-1 when it could not be made).
  int inet_fd_ = -1;
  absl::Status ChangeFlags(int index, unsigned flags, unsigned mask, const char* what);
  struct nl_sock* sock_;
};

// A random locally administered unicast MAC ("0a:..." style).
std::string RandomMac();

// The status for a libnl error code (negative NLE_*), "<what>: <message>":
// NLE_EXIST -> AlreadyExists, NLE_OBJ_NOTFOUND / NLE_NODEV -> NotFound,
// NLE_PERM -> PermissionDenied, NLE_INVAL/NLE_RANGE -> InvalidArgument,
// NLE_BUSY/NLE_AGAIN -> Unavailable, else Internal.
absl::Status NlError(int err, const std::string& what);

}  // namespace berth::netlink
