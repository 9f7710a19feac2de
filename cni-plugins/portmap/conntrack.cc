#include "cni-plugins/portmap/conntrack.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace berth::portmap {
namespace {

// The attribute of type `type` among those in [data, data+len), or null.
const nlattr* FindAttr(const char* data, size_t len, uint16_t type) {
  size_t off = 0;
  while (off + NLA_HDRLEN <= len) {
    const auto* a = reinterpret_cast<const nlattr*>(data + off);
    if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len) return nullptr;
    if ((a->nla_type & NLA_TYPE_MASK) == type) return a;
    off += NLA_ALIGN(a->nla_len);
  }
  return nullptr;
}

const char* Payload(const nlattr* a) { return reinterpret_cast<const char*>(a) + NLA_HDRLEN; }
size_t PayloadLen(const nlattr* a) { return a->nla_len - NLA_HDRLEN; }

// A ctnetlink request: nlmsghdr + nfgenmsg + `attrs` (already encoded).
std::string Request(uint16_t msg, uint16_t flags, int family, uint32_t seq,
                    const std::string& attrs) {
  std::string out(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)), '\0');
  auto* h = reinterpret_cast<nlmsghdr*>(out.data());
  h->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
  h->nlmsg_flags = NLM_F_REQUEST | flags;
  h->nlmsg_seq = seq;
  auto* g = reinterpret_cast<nfgenmsg*>(out.data() + NLMSG_HDRLEN);
  g->nfgen_family = static_cast<uint8_t>(family);
  g->version = NFNETLINK_V0;
  out += attrs;
  reinterpret_cast<nlmsghdr*>(out.data())->nlmsg_len = static_cast<uint32_t>(out.size());
  return out;
}

// Reads replies to `seq` until DONE (a dump) or the ACK; calls `on_msg` for
// each data message. An error reply other than ENOENT is returned.
absl::Status ReadReplies(int fd, uint32_t seq, const std::function<void(const nlmsghdr*)>& on_msg) {
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("ctnetlink recv");
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<size_t>(n));
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) return absl::OkStatus();
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        if (err == 0 || err == ENOENT) return absl::OkStatus();
        return ErrnoError(err, "ctnetlink");
      }
      on_msg(h);
    }
  }
}

}  // namespace

absl::StatusOr<int> DeleteUdpConntrackToPort(int family, uint16_t port) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return ErrnoError("ctnetlink socket");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    int err = errno;
    close(fd);
    return ErrnoError(err, "ctnetlink bind");
  }
  // Dump, keeping the original tuples that match.
  std::vector<std::string> tuples;
  std::string dump = Request(IPCTNL_MSG_CT_GET, NLM_F_DUMP, family, 1, "");
  absl::Status status;
  if (send(fd, dump.data(), dump.size(), 0) < 0) {
    status = ErrnoError("ctnetlink dump");
  } else {
    status = ReadReplies(fd, 1, [&](const nlmsghdr* h) {
      const char* attrs = static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(nfgenmsg));
      size_t len = h->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(sizeof(nfgenmsg));
      const nlattr* orig = FindAttr(attrs, len, CTA_TUPLE_ORIG);
      if (orig == nullptr) return;
      const nlattr* proto = FindAttr(Payload(orig), PayloadLen(orig), CTA_TUPLE_PROTO);
      if (proto == nullptr) return;
      const nlattr* num = FindAttr(Payload(proto), PayloadLen(proto), CTA_PROTO_NUM);
      const nlattr* dport = FindAttr(Payload(proto), PayloadLen(proto), CTA_PROTO_DST_PORT);
      if (num == nullptr || dport == nullptr || PayloadLen(num) < 1 || PayloadLen(dport) < 2) {
        return;
      }
      uint16_t be_port = 0;
      std::memcpy(&be_port, Payload(dport), 2);
      if (static_cast<uint8_t>(*Payload(num)) == IPPROTO_UDP && ntohs(be_port) == port) {
        tuples.emplace_back(reinterpret_cast<const char*>(orig), NLA_ALIGN(orig->nla_len));
      }
    });
  }
  int deleted = 0;
  uint32_t seq = 2;
  for (const std::string& tuple : tuples) {
    if (!status.ok()) break;
    std::string del = Request(IPCTNL_MSG_CT_DELETE, NLM_F_ACK, family, seq, tuple);
    if (send(fd, del.data(), del.size(), 0) < 0) {
      status = ErrnoError("ctnetlink delete");
      break;
    }
    status = ReadReplies(fd, seq++, [](const nlmsghdr*) {});
    if (status.ok()) ++deleted;
  }
  close(fd);
  if (!status.ok()) return status;
  return deleted;
}

}  // namespace berth::portmap
