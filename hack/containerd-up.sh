#!/usr/bin/env bash
# Starts Debian's containerd (CRI plugin) as a private instance under ROOT_DIR,
# the reference runtime for e2e tests and benchmarks:
#
#   IMAGES="busybox.tar pause.tar" hack/containerd-up.sh ROOT_DIR   # prints the pid
#   hack/containerd-up.sh --stop ROOT_DIR
#
# Layout: ROOT_DIR/containerd.sock (CRI and containerd API), ROOT_DIR/root and
# ROOT_DIR/state (containerd), ROOT_DIR/runc (runc state), ROOT_DIR/net.d
# (CNI: an L2-only bridge, see below), ROOT_DIR/ipam, ROOT_DIR/containerd.toml, ROOT_DIR/containerd.log.
# Sandbox image: localhost/berth/pause:1.0 (hack/build-busybox-image.sh).
#
# --stop kills containerd, its shims and every container process they started,
# removes the container cgroups runc made, unmounts everything under ROOT_DIR,
# (network namespaces included: they live under ROOT_DIR/state) and deletes
# its bridge.
set -euo pipefail

usage() {
  echo "usage: IMAGES=\"a.tar b.tar\" $0 ROOT_DIR | $0 --stop ROOT_DIR" >&2
  exit 2
}

# Polls `$@` every 0.1 s until it succeeds or `timeout_s` passes.
wait_until() {
  local timeout_s=$1; shift
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# A bridge name (at most 15 bytes) unique to ROOT_DIR.
bridge_name() { echo "bre2e$(echo -n "$1" | sha256sum | cut -c1-8)"; }

# A killed containerd may stay a zombie when nothing reaps it: count that as dead.
pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}
pid_dead() { ! pid_alive "$1"; }

start() {
  local root=$1
  mkdir -p "$root"
  root=$(cd "$root" && pwd)
  local sock=$root/containerd.sock
  if [[ -f $root/containerd.pid ]] && pid_alive "$(cat "$root/containerd.pid")"; then
    echo "containerd already running under $root (pid $(cat "$root/containerd.pid"))" >&2
    exit 1
  fi
  mkdir -p "$root/root" "$root/state" "$root/runc" "$root/net.d"
  # containerd 1.6 fails RunPodSandbox unless CNI gives eth0 an address
  # ("failed to find network info for sandbox"), so a loopback-only list is not
  # enough: an L2-only bridge (no host address, no route, no masquerade)
  # with host-local addresses kept under ROOT_DIR. containerd adds lo itself.
  local bridge
  bridge=$(bridge_name "$root")
  cat >"$root/net.d/10-berth-e2e.conflist" <<EOF
{"cniVersion":"1.0.0","name":"berth-e2e","plugins":[{"type":"bridge","bridge":"$bridge","isGateway":false,"ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.0.0/24"}]],"dataDir":"$root/ipam"}}]}
EOF
  cat >"$root/containerd.toml" <<EOF
version = 2
root = "$root/root"
state = "$root/state"
# Plugins that reach out of the machine, write outside ROOT_DIR or are not
# needed for CRI on overlayfs.
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.native",
]

[grpc]
  address = "$sock"
  uid = 0
  gid = 0

[ttrpc]
  address = "$sock.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/berth/pause:1.0"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  # This host denies lowering oom_score_adj (pause asks for -998), so
  # clamp to containerd's own value.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_cgroup = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$root/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$root/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
EOF
  setsid containerd --config "$root/containerd.toml" </dev/null >"$root/containerd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$root/containerd.pid"
  if ! wait_until 30 ctr --address "$sock" version; then
    echo "containerd did not answer on $sock within 30 s; log:" >&2
    tail -n 30 "$root/containerd.log" >&2
    exit 1
  fi
  # The CRI plugin loads after the API answers; `ctr plugins ls` shows it ok.
  if ! wait_until 30 bash -c "ctr --address '$sock' plugins ls | grep -E '^io.containerd.grpc.v1 +cri .* ok'"; then
    echo "containerd's CRI plugin did not come up; log:" >&2
    tail -n 30 "$root/containerd.log" >&2
    exit 1
  fi
  local image
  for image in ${IMAGES:-}; do
    ctr --address "$sock" -n k8s.io images import "$image" >/dev/null
  done
  echo "$pid"
}

# Every pid in every cgroup v1/v2 directory named after a container id.
container_cgroups() {
  local root=$1 id
  local task_dir=$root/state/io.containerd.runtime.v2.task
  [[ -d $task_dir ]] || return 0
  for id in $(ls "$task_dir"/*/ 2>/dev/null | grep -E '^[0-9a-f]{64}$' || true); do
    find /sys/fs/cgroup -mindepth 1 -type d -name "$id" 2>/dev/null || true
  done
}

stop() {
  local root=$1
  [[ -d $root ]] || return 0
  root=$(cd "$root" && pwd)
  local sock=$root/containerd.sock

  if [[ -f $root/containerd.pid ]]; then
    local pid
    pid=$(cat "$root/containerd.pid")
    if pid_alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      wait_until 10 pid_dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
      wait_until 5 pid_dead "$pid" || true
    fi
  fi

  # Shims of this instance: their command line names our socket.
  local p
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "-address $sock "; then
      kill -KILL "${p#/proc/}" 2>/dev/null || true
    fi
  done

  # Container processes and the cgroups runc made for them.
  local cgroups
  cgroups=$(container_cgroups "$root")
  local dir
  for dir in $cgroups; do
    [[ -f $dir/cgroup.procs ]] || continue
    for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  done
  for dir in $cgroups; do
    wait_until 5 rmdir "$dir" || echo "could not remove cgroup $dir" >&2
  done

  local bridge
  bridge=$(bridge_name "$root")
  if ip link show "$bridge" >/dev/null 2>&1; then ip link del "$bridge" || true; fi

  # Mounts under ROOT_DIR, deepest first.
  local mnt
  for mnt in $(awk -v r="$root/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || echo "could not unmount $mnt" >&2
  done
  # The shim socket directory is fixed by containerd 1.6; ours are named by a
  # hash of our socket path and were closed when the shims died.
  rm -f "$root/containerd.pid"
}

[[ $# -ge 1 ]] || usage
if [[ $1 == --stop ]]; then
  [[ $# -eq 2 ]] || usage
  stop "$2"
else
  [[ $# -eq 1 ]] || usage
  start "$1"
fi
