#include "cni-plugins/netlink/netlink.h"

#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/sockios.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/socket.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <sys/random.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace berth::netlink {
namespace {

struct LinkDeleter {
  void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;

struct MsgDeleter {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
using MsgPtr = std::unique_ptr<nl_msg, MsgDeleter>;

// Sends `msg` (taking it) and waits for the kernel's ack.
absl::Status Request(nl_sock* sock, MsgPtr msg, const std::string& what) {
  int err = nl_send_sync(sock, msg.release());  // frees the message
  if (err < 0) return NlError(err, what);
  return absl::OkStatus();
}

// A copy of the socket's callbacks (nl_socket_get_cb takes a reference,
// which is given back here).
nl_cb* CloneSocketCb(nl_sock* sock) {
  nl_cb* orig = nl_socket_get_cb(sock);
  nl_cb* cb = nl_cb_clone(orig);
  nl_cb_put(orig);
  return cb;
}

int ValidTrampoline(nl_msg* msg, void* arg) {
  (*static_cast<std::function<void(nlmsghdr*)>*>(arg))(nlmsg_hdr(msg));
  return NL_OK;
}

// Sends a dump request (taking it) and calls `fn` on each reply message.
absl::Status Dump(nl_sock* sock, MsgPtr msg, const std::string& what,
                  std::function<void(nlmsghdr*)> fn) {
  int err = nl_send_auto(sock, msg.get());
  if (err < 0) return NlError(err, what);
  nl_cb* cb = CloneSocketCb(sock);
  if (cb == nullptr) return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory"));
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, ValidTrampoline, &fn);
  err = nl_recvmsgs(sock, cb);
  nl_cb_put(cb);
  if (err < 0) return NlError(err, what);
  return absl::OkStatus();
}

MsgPtr NewMsg(int type, int flags) { return MsgPtr(nlmsg_alloc_simple(type, flags)); }

absl::Status PutLinkHeader(nl_msg* msg, int family, int index, unsigned flags, unsigned change) {
  ifinfomsg ifi = {};
  ifi.ifi_family = static_cast<unsigned char>(family);
  ifi.ifi_index = index;
  ifi.ifi_flags = flags;
  ifi.ifi_change = change;
  if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) {
    return absl::ResourceExhaustedError("netlink message too small");
  }
  return absl::OkStatus();
}

IpPrefix FromAttr(int family, const nlattr* attr, int length) {
  IpPrefix out;
  out.family = family;
  int len = std::min<int>(nla_len(attr), out.AddrLen());
  std::memcpy(out.addr.data(), nla_data(attr), len);
  out.length = length;
  return out;
}

}  // namespace

bool LinkInfo::up() const { return (flags & IFF_UP) != 0; }
bool LinkInfo::promisc() const { return (flags & IFF_PROMISC) != 0; }

absl::Status NlError(int err, const std::string& what) {
  int e = err < 0 ? -err : err;
  std::string msg = absl::StrCat(what, ": ", nl_geterror(e));
  switch (e) {
    case NLE_EXIST:
      return absl::AlreadyExistsError(msg);
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return absl::NotFoundError(msg);
    case NLE_PERM:
      return absl::PermissionDeniedError(msg);
    case NLE_INVAL:
    case NLE_RANGE:
      return absl::InvalidArgumentError(msg);
    case NLE_BUSY:
    case NLE_AGAIN:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

Netlink::~Netlink() {
  nl_socket_free(sock_);
  if (inet_fd_ >= 0) close(inet_fd_);
}

absl::StatusOr<std::unique_ptr<Netlink>> Netlink::Open() {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) return absl::ResourceExhaustedError("allocate a netlink socket");
  std::unique_ptr<Netlink> out(new Netlink(sock));
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
    return NlError(err, "connect a NETLINK_ROUTE socket");
  }
  // One recvmsg per reply instead of a MSG_PEEK to size the buffer first:
  // a buffer that holds the largest datagram a dump sends (32 KiB).
  nl_socket_disable_msg_peek(sock);
  nl_socket_set_msg_buf_size(sock, 64 * 1024);
  out->inet_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  return out;
}

absl::StatusOr<std::unique_ptr<Netlink>> Netlink::OpenIn(const Netns& netns) {
  absl::StatusOr<std::unique_ptr<Netlink>> out = absl::UnknownError("not opened");
  absl::Status s = WithThreadInNetns(netns, [&] {
    out = Open();
    return out.status();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int> Netlink::LinkIndex(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not an interface name"));
  }
  ifreq req = {};
  std::memcpy(req.ifr_name, name.data(), name.size());
  // Any socket serves device ioctls for its namespace, netlink ones included.
  if (ioctl(nl_socket_get_fd(sock_), SIOCGIFINDEX, &req) < 0) {
    int err = errno;
    if (err == ENODEV) return absl::NotFoundError(absl::StrCat("link ", name, ": no such device"));
    return absl::InternalError(absl::StrCat("index of link ", name, ": ", strerror(err)));
  }
  return req.ifr_ifindex;
}

absl::StatusOr<IpPrefix> Netlink::PrimaryIpv4(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not an interface name"));
  }
  if (inet_fd_ < 0) return absl::UnavailableError("no AF_INET socket for device ioctls");
  int fd = inet_fd_;
  ifreq req = {};
  std::memcpy(req.ifr_name, name.data(), name.size());
  req.ifr_addr.sa_family = AF_INET;
  if (ioctl(fd, SIOCGIFADDR, &req) < 0) {
    if (errno == EADDRNOTAVAIL || errno == ENODEV) return absl::NotFoundError(absl::StrCat(name, ": no IPv4 address"));
    return ErrnoError(absl::StrCat("IPv4 address of ", name));
  }
  IpPrefix out;
  out.family = AF_INET;
  std::memcpy(out.addr.data(), &reinterpret_cast<sockaddr_in*>(&req.ifr_addr)->sin_addr, 4);
  if (ioctl(fd, SIOCGIFNETMASK, &req) < 0) return ErrnoError(absl::StrCat("IPv4 netmask of ", name));
  uint32_t mask = ntohl(reinterpret_cast<sockaddr_in*>(&req.ifr_netmask)->sin_addr.s_addr);
  out.length = __builtin_popcount(mask);
  return out;
}

absl::StatusOr<LinkInfo> Netlink::QuickLink(const std::string& name) {
  ASSIGN_OR_RETURN(int index, LinkIndex(name));
  int fd = nl_socket_get_fd(sock_);
  LinkInfo info;
  info.index = index;
  info.name = name;
  ifreq req = {};
  std::memcpy(req.ifr_name, name.data(), name.size());
  if (ioctl(fd, SIOCGIFFLAGS, &req) < 0) return ErrnoError(absl::StrCat("flags of link ", name));
  info.flags = static_cast<unsigned short>(req.ifr_flags);
  if (ioctl(fd, SIOCGIFHWADDR, &req) < 0) return ErrnoError(absl::StrCat("MAC of link ", name));
  const auto* b = reinterpret_cast<const uint8_t*>(req.ifr_hwaddr.sa_data);
  for (int i = 0; i < 6; ++i) absl::StrAppend(&info.mac, i == 0 ? "" : ":", absl::Hex(b[i], absl::kZeroPad2));
  ethtool_drvinfo drv = {};
  drv.cmd = ETHTOOL_GDRVINFO;
  req.ifr_data = reinterpret_cast<char*>(&drv);
  if (ioctl(fd, SIOCETHTOOL, &req) == 0) info.kind.assign(drv.driver, strnlen(drv.driver, sizeof drv.driver));
  return info;
}

namespace {

// One RTM_GETLINK (by index, or by name when index is 0) without statistics
// (RTEXT_FILTER_SKIP_STATS), parsed for the few fields LinkInfo has.
absl::StatusOr<LinkInfo> QueryLink(nl_sock* sock, int index, const std::string& name) {
  std::string what = index > 0 ? absl::StrCat("get link #", index) : absl::StrCat("get link ", name);
  MsgPtr msg = NewMsg(RTM_GETLINK, 0);
  if (absl::Status s = PutLinkHeader(msg.get(), AF_UNSPEC, index, 0, 0); !s.ok()) return s;
  if (index <= 0 && nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0) {
    return absl::ResourceExhaustedError("netlink message too small");
  }
  nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  int err = nl_send_auto(sock, msg.get());
  if (err < 0) return NlError(err, what);
  std::optional<LinkInfo> found;
  std::function<void(nlmsghdr*)> parse = [&](nlmsghdr* hdr) {
    if (hdr->nlmsg_type != RTM_NEWLINK) return;
    auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(hdr));
    nlattr* tb[IFLA_MAX + 1] = {};
    if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return;
    LinkInfo info;
    info.index = ifi->ifi_index;
    info.flags = ifi->ifi_flags;
    if (tb[IFLA_IFNAME] != nullptr) info.name = nla_get_string(tb[IFLA_IFNAME]);
    if (tb[IFLA_MTU] != nullptr) info.mtu = nla_get_u32(tb[IFLA_MTU]);
    if (tb[IFLA_MASTER] != nullptr) info.master = static_cast<int>(nla_get_u32(tb[IFLA_MASTER]));
    if (tb[IFLA_IFALIAS] != nullptr && nla_len(tb[IFLA_IFALIAS]) > 0) {
      info.alias.assign(static_cast<const char*>(nla_data(tb[IFLA_IFALIAS])),
                        strnlen(static_cast<const char*>(nla_data(tb[IFLA_IFALIAS])),
                                static_cast<size_t>(nla_len(tb[IFLA_IFALIAS]))));
    }
    if (tb[IFLA_ADDRESS] != nullptr && nla_len(tb[IFLA_ADDRESS]) > 0) {
      const auto* b = static_cast<const uint8_t*>(nla_data(tb[IFLA_ADDRESS]));
      std::string mac;
      for (int i = 0; i < nla_len(tb[IFLA_ADDRESS]); ++i) {
        absl::StrAppend(&mac, i == 0 ? "" : ":", absl::Hex(b[i], absl::kZeroPad2));
      }
      info.mac = mac;
    }
    if (tb[IFLA_LINKINFO] != nullptr) {
      nlattr* li[IFLA_INFO_MAX + 1] = {};
      if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) == 0 && li[IFLA_INFO_KIND] != nullptr) {
        info.kind = nla_get_string(li[IFLA_INFO_KIND]);
      }
    }
    found = info;
  };
  nl_cb* cb = CloneSocketCb(sock);
  if (cb == nullptr) return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory"));
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, ValidTrampoline, &parse);
  err = nl_recvmsgs(sock, cb);
  nl_cb_put(cb);
  if (err < 0) return NlError(err, what);  // the error was the answer: no ack follows
  if (err = nl_wait_for_ack(sock); err < 0) return NlError(err, what);
  if (!found) return absl::InternalError(absl::StrCat(what, ": no link in the reply"));
  return *found;
}

}  // namespace

absl::StatusOr<LinkInfo> Netlink::GetLink(const std::string& name) { return QueryLink(sock_, 0, name); }

absl::StatusOr<LinkInfo> Netlink::GetLink(int index) { return QueryLink(sock_, index, ""); }

std::string RandomMac() {
  uint8_t b[6] = {};
  if (getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    auto t = std::chrono::steady_clock::now().time_since_epoch().count();
    for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>((t >> (8 * i)) ^ getpid());
  }
  b[0] = static_cast<uint8_t>((b[0] & 0xfe) | 0x02);
  char buf[18];
  snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
  return buf;
}

namespace {

absl::Status SetLinkMac(rtnl_link* link, const std::string& text) {
  nl_addr* mac = nullptr;
  if (nl_addr_parse(text.c_str(), AF_LLC, &mac) < 0 || nl_addr_get_len(mac) != 6) {
    if (mac != nullptr) nl_addr_put(mac);
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a MAC address"));
  }
  rtnl_link_set_addr(link, mac);
  nl_addr_put(mac);
  return absl::OkStatus();
}

}  // namespace

absl::Status Netlink::CreateBridge(const std::string& name, unsigned mtu, bool promisc,
                                   const std::string& mac) {
  LinkPtr link(rtnl_link_alloc());
  if (!link) return absl::ResourceExhaustedError("allocate a link");
  if (int err = rtnl_link_set_type(link.get(), "bridge"); err < 0) {
    return NlError(err, "set link type bridge");
  }
  rtnl_link_set_name(link.get(), name.c_str());
  if (mtu > 0) rtnl_link_set_mtu(link.get(), mtu);
  if (promisc) rtnl_link_set_flags(link.get(), IFF_PROMISC);
  if (!mac.empty()) {
    if (absl::Status s = SetLinkMac(link.get(), mac); !s.ok()) return s;
  }
  int err = rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) return NlError(err, absl::StrCat("create bridge ", name));
  return absl::OkStatus();
}

absl::Status Netlink::CreateVeth(const VethSpec& spec) {
  rtnl_link* link = rtnl_link_veth_alloc();
  if (link == nullptr) return absl::ResourceExhaustedError("allocate a veth link");
  rtnl_link* peer = rtnl_link_veth_get_peer(link);
  rtnl_link_set_name(link, spec.name.c_str());
  rtnl_link_set_name(peer, spec.peer_name.c_str());
  if (spec.mtu > 0) {
    rtnl_link_set_mtu(link, spec.mtu);
    rtnl_link_set_mtu(peer, spec.mtu);
  }
  if (spec.peer_netns != nullptr) rtnl_link_set_ns_fd(peer, spec.peer_netns->fd());
  if (!spec.mac.empty()) {
    if (absl::Status s = SetLinkMac(link, spec.mac); !s.ok()) {
      rtnl_link_put(peer);
      rtnl_link_veth_release(link);
      return s;
    }
  }
  if (!spec.peer_mac.empty()) {
    if (absl::Status s = SetLinkMac(peer, spec.peer_mac); !s.ok()) {
      rtnl_link_put(peer);
      rtnl_link_veth_release(link);
      return s;
    }
  }
  if (spec.master > 0) rtnl_link_set_master(link, spec.master);
  if (spec.up) rtnl_link_set_flags(link, IFF_UP);
  int err = rtnl_link_add(sock_, link, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(peer);  // get_peer took a reference
  rtnl_link_veth_release(link);
  if (err < 0) {
    return NlError(err, absl::StrCat("create veth pair ", spec.name, " / ", spec.peer_name));
  }
  return absl::OkStatus();
}

absl::Status Netlink::DeleteLink(const std::string& name) {
  auto msg = NewMsg(RTM_DELLINK, 0);
  if (absl::Status s = PutLinkHeader(msg.get(), AF_UNSPEC, 0, 0, 0); !s.ok()) return s;
  if (nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0) {
    return absl::ResourceExhaustedError("netlink message too small");
  }
  return Request(sock_, std::move(msg), absl::StrCat("delete link ", name));
}

absl::Status Netlink::DeleteLink(int index) {
  auto msg = NewMsg(RTM_DELLINK, 0);
  if (absl::Status s = PutLinkHeader(msg.get(), AF_UNSPEC, index, 0, 0); !s.ok()) return s;
  return Request(sock_, std::move(msg), absl::StrCat("delete link #", index));
}

absl::Status Netlink::ChangeFlags(int index, unsigned flags, unsigned mask, const char* what) {
  auto msg = NewMsg(RTM_NEWLINK, 0);
  if (absl::Status s = PutLinkHeader(msg.get(), AF_UNSPEC, index, flags, mask); !s.ok()) return s;
  return Request(sock_, std::move(msg), absl::StrCat(what, " link #", index));
}

absl::Status Netlink::SetAlias(const std::string& name, const std::string& alias) {
  if (alias.size() > 255) return absl::InvalidArgumentError(absl::StrCat("alias of ", name, " is too long"));
  auto msg = NewMsg(RTM_NEWLINK, 0);
  if (absl::Status s = PutLinkHeader(msg.get(), AF_UNSPEC, 0, 0, 0); !s.ok()) return s;
  if (nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0 ||
      nla_put_string(msg.get(), IFLA_IFALIAS, alias.c_str()) < 0) {
    return absl::ResourceExhaustedError("netlink message too small");
  }
  return Request(sock_, std::move(msg), absl::StrCat("set the alias of ", name));
}

absl::Status Netlink::SetUp(int index) { return ChangeFlags(index, IFF_UP, IFF_UP, "bring up"); }

absl::Status Netlink::SetPromisc(int index, bool on) {
  return ChangeFlags(index, on ? IFF_PROMISC : 0, IFF_PROMISC, on ? "set promisc on" : "set promisc off");
}

absl::Status Netlink::SetMaster(int index, int master_index) {
  auto msg = NewMsg(RTM_NEWLINK, 0);
  if (absl::Status s = PutLinkHeader(msg.get(), AF_UNSPEC, index, 0, 0); !s.ok()) return s;
  nla_put_u32(msg.get(), IFLA_MASTER, static_cast<uint32_t>(master_index));
  return Request(sock_, std::move(msg), absl::StrCat("set master of link #", index, " to #", master_index));
}

absl::Status Netlink::SetMtu(int index, unsigned mtu) {
  auto msg = NewMsg(RTM_NEWLINK, 0);
  if (absl::Status s = PutLinkHeader(msg.get(), AF_UNSPEC, index, 0, 0); !s.ok()) return s;
  nla_put_u32(msg.get(), IFLA_MTU, mtu);
  return Request(sock_, std::move(msg), absl::StrCat("set mtu ", mtu, " on link #", index));
}

absl::Status Netlink::SetHairpin(int index, bool on) {
  auto msg = NewMsg(RTM_SETLINK, 0);
  if (absl::Status s = PutLinkHeader(msg.get(), AF_BRIDGE, index, 0, 0); !s.ok()) return s;
  // The bridge reads IFLA_PROTINFO as port attributes only when flagged nested.
  nlattr* protinfo = nla_nest_start(msg.get(), IFLA_PROTINFO | NLA_F_NESTED);
  if (protinfo == nullptr || nla_put_u8(msg.get(), IFLA_BRPORT_MODE, on ? 1 : 0) < 0) {
    return absl::ResourceExhaustedError("netlink message too small");
  }
  nla_nest_end(msg.get(), protinfo);
  return Request(sock_, std::move(msg), absl::StrCat("set hairpin ", on ? "on" : "off", " on link #", index));
}

absl::StatusOr<bool> Netlink::GetHairpin(int index) {
  auto msg = NewMsg(RTM_GETLINK, NLM_F_DUMP);
  if (absl::Status s = PutLinkHeader(msg.get(), AF_BRIDGE, 0, 0, 0); !s.ok()) return s;
  std::optional<bool> found;
  absl::Status s = Dump(sock_, std::move(msg), "dump bridge ports", [&](nlmsghdr* hdr) {
    if (hdr->nlmsg_type != RTM_NEWLINK) return;
    auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(hdr));
    if (ifi->ifi_index != index) return;
    nlattr* tb[IFLA_MAX + 1] = {};
    if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0 || tb[IFLA_PROTINFO] == nullptr) {
      return;
    }
    nlattr* port[IFLA_BRPORT_MAX + 1] = {};
    if (nla_parse_nested(port, IFLA_BRPORT_MAX, tb[IFLA_PROTINFO], nullptr) < 0) return;
    found = port[IFLA_BRPORT_MODE] != nullptr && nla_get_u8(port[IFLA_BRPORT_MODE]) != 0;
  });
  if (!s.ok()) return s;
  if (!found) return absl::NotFoundError(absl::StrCat("link #", index, " is not a bridge port"));
  return *found;
}

namespace {

MsgPtr AddressMsg(int type, int flags, int index, const IpPrefix& address, bool nodad) {
  MsgPtr msg = NewMsg(type, flags);
  ifaddrmsg ifa = {};
  ifa.ifa_family = static_cast<unsigned char>(address.family);
  ifa.ifa_prefixlen = static_cast<unsigned char>(address.length);
  ifa.ifa_flags = nodad ? IFA_F_NODAD : 0;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<unsigned>(index);
  if (nlmsg_append(msg.get(), &ifa, sizeof ifa, NLMSG_ALIGNTO) < 0) return nullptr;
  nla_put(msg.get(), IFA_LOCAL, address.AddrLen(), address.addr.data());
  nla_put(msg.get(), IFA_ADDRESS, address.AddrLen(), address.addr.data());
  if (address.family == AF_INET && address.length < 31 && type == RTM_NEWADDR) {
    IpPrefix broadcast = address;
    for (int bit = address.length; bit < 32; ++bit) broadcast.addr[bit / 8] |= 0x80 >> (bit % 8);
    nla_put(msg.get(), IFA_BROADCAST, 4, broadcast.addr.data());
  }
  return msg;
}

}  // namespace

absl::Status Netlink::AddAddress(int index, const IpPrefix& address, bool nodad) {
  MsgPtr msg = AddressMsg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, index, address, nodad);
  if (!msg) return absl::ResourceExhaustedError("netlink message too small");
  return Request(sock_, std::move(msg), absl::StrCat("add address ", address.ToString(), " to link #", index));
}

absl::Status Netlink::DeleteAddress(int index, const IpPrefix& address) {
  MsgPtr msg = AddressMsg(RTM_DELADDR, 0, index, address, false);
  if (!msg) return absl::ResourceExhaustedError("netlink message too small");
  return Request(sock_, std::move(msg),
                 absl::StrCat("delete address ", address.ToString(), " from link #", index));
}

absl::StatusOr<std::vector<IpPrefix>> Netlink::ListAddresses(int index, int family) {
  MsgPtr msg = NewMsg(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg ifa = {};
  ifa.ifa_family = static_cast<unsigned char>(family);
  nlmsg_append(msg.get(), &ifa, sizeof ifa, NLMSG_ALIGNTO);
  std::vector<IpPrefix> out;
  absl::Status s = Dump(sock_, std::move(msg), absl::StrCat("list addresses of link #", index),
                        [&](nlmsghdr* hdr) {
                          if (hdr->nlmsg_type != RTM_NEWADDR) return;
                          auto* a = static_cast<ifaddrmsg*>(nlmsg_data(hdr));
                          if (static_cast<int>(a->ifa_index) != index) return;
                          if (a->ifa_family != AF_INET && a->ifa_family != AF_INET6) return;
                          nlattr* tb[IFA_MAX + 1] = {};
                          if (nlmsg_parse(hdr, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0) return;
                          nlattr* attr = tb[IFA_LOCAL] != nullptr ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
                          if (attr == nullptr) return;
                          out.push_back(FromAttr(a->ifa_family, attr, a->ifa_prefixlen));
                        });
  if (!s.ok()) return s;
  return out;
}

absl::Status Netlink::AddRoute(const IpPrefix& dst, const std::optional<IpPrefix>& gateway, int index) {
  MsgPtr msg = NewMsg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  rtmsg rtm = {};
  rtm.rtm_family = static_cast<unsigned char>(dst.family);
  rtm.rtm_dst_len = static_cast<unsigned char>(dst.length);
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_protocol = RTPROT_BOOT;
  rtm.rtm_scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm.rtm_type = RTN_UNICAST;
  if (nlmsg_append(msg.get(), &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0) {
    return absl::ResourceExhaustedError("netlink message too small");
  }
  if (dst.length > 0) {
    IpPrefix network = dst.Network();
    nla_put(msg.get(), RTA_DST, network.AddrLen(), network.addr.data());
  }
  if (gateway) nla_put(msg.get(), RTA_GATEWAY, gateway->AddrLen(), gateway->addr.data());
  nla_put_u32(msg.get(), RTA_OIF, static_cast<uint32_t>(index));
  return Request(sock_, std::move(msg),
                 absl::StrCat("add route to ", dst.Network().ToString(),
                              gateway ? absl::StrCat(" via ", gateway->AddrString()) : "",
                              " on link #", index));
}

absl::StatusOr<std::vector<RouteInfo>> Netlink::ListRoutes(int index, int family) {
  MsgPtr msg = NewMsg(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg rtm = {};
  rtm.rtm_family = static_cast<unsigned char>(family);
  nlmsg_append(msg.get(), &rtm, sizeof rtm, NLMSG_ALIGNTO);
  std::vector<RouteInfo> out;
  absl::Status s = Dump(sock_, std::move(msg), absl::StrCat("list routes of link #", index),
                        [&](nlmsghdr* hdr) {
                          if (hdr->nlmsg_type != RTM_NEWROUTE) return;
                          auto* r = static_cast<rtmsg*>(nlmsg_data(hdr));
                          if (r->rtm_type != RTN_UNICAST) return;
                          nlattr* tb[RTA_MAX + 1] = {};
                          if (nlmsg_parse(hdr, sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0) return;
                          unsigned table = tb[RTA_TABLE] != nullptr ? nla_get_u32(tb[RTA_TABLE]) : r->rtm_table;
                          if (table != RT_TABLE_MAIN) return;
                          if (tb[RTA_OIF] == nullptr || static_cast<int>(nla_get_u32(tb[RTA_OIF])) != index) return;
                          RouteInfo info;
                          info.ifindex = index;
                          if (tb[RTA_DST] != nullptr) {
                            info.dst = FromAttr(r->rtm_family, tb[RTA_DST], r->rtm_dst_len);
                          } else {
                            info.dst.family = r->rtm_family;
                            info.dst.length = 0;
                          }
                          if (tb[RTA_GATEWAY] != nullptr) {
                            IpPrefix gw = FromAttr(r->rtm_family, tb[RTA_GATEWAY], 0);
                            gw.length = gw.MaxLength();
                            info.gateway = gw;
                          }
                          out.push_back(info);
                        });
  if (!s.ok()) return s;
  return out;
}

}  // namespace berth::netlink
