#!/usr/bin/env bash
# Installs every Debian package that berth's build, tests and benchmarks need.
# Run as root on Debian 12. Safe to run again: apt-get skips what is present.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (apt-get install)" >&2
  exit 1
fi

packages=(
  # toolchain
  build-essential cmake ccache pkg-config git
  # wire contracts and RPC
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev libabsl-dev
  # the runtime: seccomp, capabilities, layer archives, JSON, systemd driver (sd-bus)
  libseccomp-dev libcap-dev libarchive-dev libzstd-dev zlib1g-dev nlohmann-json3-dev
  libsystemd-dev libssl-dev
  # images from registries (HTTP/TLS), Kubernetes objects in YAML
  libcurl4-openssl-dev libyaml-cpp-dev
  # CNI plugins: netlink (bridge, veth, addresses, routes) and nftables (masquerade, hostPort)
  libnl-3-dev libnl-route-3-dev libnftables-dev nftables
  # HTTP/WebSocket servers (streaming, API server) and the embedded control-plane store
  libboost-dev libsqlite3-dev
  # tests
  libgtest-dev libgmock-dev iproute2 dbus busybox-static util-linux procps psmisc curl openssl
  # peers measured side by side: containerd with runc, and conmon
  containerd runc conmon containernetworking-plugins
  # a real registry for the image-pull tests
  docker-registry
  # the control plane's HA store backend (etcdctl for snapshot restore)
  etcd-server etcd-client
)

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
