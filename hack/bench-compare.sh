#!/usr/bin/env bash
# Runs berth-bench against berth-agent and against containerd (the
# reference), each in its own temporary root, with the same pod count and
# concurrency, with pod networking and with host networking; prints both
# JSON lines and berth/containerd ratios, then stops everything.
#
#   hack/bench-compare.sh [--count 50] [--concurrency 1] [--build-dir build]
#                         [--berth-cni berth|reference]
#
# berth's pods get berth's own plugins (berth-bridge + berth-host-local) when
# they are built, else (or with --berth-cni reference) Debian's reference
# bridge + host-local, the chain containerd gets. Without a built berth-agent
# it benchmarks containerd alone.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
count=50
concurrency=1
build_dir=$src/build
berth_cni=berth
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) count=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --berth-cni) berth_cni=$2; shift 2 ;;
    *) echo "usage: $0 [--count N] [--concurrency C] [--build-dir DIR] [--berth-cni berth|reference]" >&2; exit 2 ;;
  esac
done

find_binary() { find "$build_dir" -name "$1" -type f -perm -u+x 2>/dev/null | head -n 1; }
bench=$(find_binary berth-bench)
agent=$(find_binary berth-agent)
shim=$(find_binary berth-shim)
berth_bridge=$(find_binary berth-bridge)
berth_host_local=$(find_binary berth-host-local)
if [[ $berth_cni == berth && ( -z $berth_bridge || -z $berth_host_local ) ]]; then
  echo "berth-bridge / berth-host-local not built under $build_dir: berth uses the reference plugins" >&2
  berth_cni=reference
fi
[[ -n $bench ]] || { echo "berth-bench not built under $build_dir" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-bench-XXXXXX)
berth_root=$work/berth
ctrd_root=$work/containerd
cgroup_parent=/berth-bench-${work##*-}
agent_pid=
# berth runs in a network namespace of its own with the same bridge +
# host-local chain (Debian's reference plugins) as containerd's config, so its
# pods get a real CNI network and nothing touches the machine's interfaces.
berth_netns=berth-bench-${work##*-}

# Removes a cgroup directory tree in every hierarchy, deepest first.
remove_cgroup_tree() {
  local dir
  for dir in $(find /sys/fs/cgroup -depth -type d -path "*$1*" 2>/dev/null); do
    for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    rmdir "$dir" 2>/dev/null || true
  done
}

cleanup() {
  set +e
  if [[ -n $agent_pid ]] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -TERM "$agent_pid"
    timeout 15 tail --pid="$agent_pid" -f /dev/null || kill -KILL "$agent_pid"
  fi
  # berth's shims outlive the agent by design: end those started for this run.
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$berth_root/"; then
      kill -KILL "${p#/proc/}" 2>/dev/null
    fi
  done
  remove_cgroup_tree "$cgroup_parent"
  ip netns del "$berth_netns" 2>/dev/null
  "$here/containerd-up.sh" --stop "$ctrd_root" >/dev/null
  for mnt in $(awk -v r="$work/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$mnt" 2>/dev/null || umount -l "$mnt"
  done
  rm -rf "$work"
}
trap cleanup EXIT

"$here/build-busybox-image.sh" "$work/images" >/dev/null
images="$work/images/busybox.tar $work/images/pause.tar"
image=docker.io/library/busybox:latest

# run_bench LABEL ENDPOINT SHIM_NAME [--host-network]: the JSON line.
run_bench() {
  local label=$1 endpoint=$2 shim_name=$3; shift 3
  echo "== $label" >&2
  # A run with failed calls still reports what it measured.
  { "$bench" pods --endpoint "$endpoint" --count "$count" --concurrency "$concurrency" \
    --image "$image" --shim-name "$shim_name" "$@" || echo "berth-bench: $label had errors" >&2; } |
    tee /dev/stderr | tail -n 1
}

declare -A results
if [[ -n $agent ]]; then
  mkdir -p "$berth_root/state" "$berth_root/run" "$berth_root/net.d"
  bridge_type=bridge ipam_type=host-local cni_bin_dir=/usr/lib/cni
  if [[ $berth_cni == berth ]]; then
    bridge_type=berth-bridge ipam_type=berth-host-local
    cni_bin_dir=$(dirname "$berth_bridge"),$(dirname "$berth_host_local")
  fi
  echo "== berth's CNI chain: $bridge_type + $ipam_type" >&2
  cat >"$berth_root/net.d/10-berth-bench.conflist" <<EOF
{"cniVersion":"1.0.0","name":"berth-bench","plugins":[{"type":"$bridge_type","bridge":"berth-bench0","isGateway":false,"ipMasq":false,"ipam":{"type":"$ipam_type","ranges":[[{"subnet":"10.245.0.0/24"}]],"dataDir":"$berth_root/ipam"}}]}
EOF
  ip netns add "$berth_netns"
  ip -n "$berth_netns" link set lo up
  for archive in $images; do
    "$agent" images import "$archive" --state-dir "$berth_root/state" >/dev/null
  done
  shim_flag=()
  [[ -n $shim ]] && shim_flag=(--shim "$shim")
  # nsenter --net only: `ip netns exec` would remount /sys and hide the cgroups.
  setsid nsenter --net="/run/netns/$berth_netns" -- "$agent" --listen "unix://$berth_root/run/berth.sock" \
    --state-dir "$berth_root/state" --run-dir "$berth_root/run" --cgroup-parent "$cgroup_parent" \
    --cni-conf-dir "$berth_root/net.d" --cni-bin-dir "$cni_bin_dir" "${shim_flag[@]}" \
    </dev/null >"$berth_root/agent.log" 2>&1 &
  agent_pid=$!
  # berth-bench waits until the socket answers.
  results[berth]=$(run_bench "berth, pod network" "unix://$berth_root/run/berth.sock" berth-shim \
    --server-pid "$agent_pid")
  results[berth_host]=$(run_bench "berth, host network" "unix://$berth_root/run/berth.sock" \
    berth-shim --server-pid "$agent_pid" --host-network)
else
  echo "berth-agent not built under $build_dir: containerd only" >&2
fi

ctrd_pid=$(IMAGES=$images "$here/containerd-up.sh" "$ctrd_root" | tail -n 1)
results[containerd]=$(run_bench "containerd, pod network" "unix://$ctrd_root/containerd.sock" \
  containerd-shim --server-pid "$ctrd_pid")
results[containerd_host]=$(run_bench "containerd, host network" \
  "unix://$ctrd_root/containerd.sock" containerd-shim --server-pid "$ctrd_pid" --host-network)

echo
for key in berth berth_host containerd containerd_host; do
  [[ -n ${results[$key]:-} ]] && echo "$key ${results[$key]}"
done
if [[ -n ${results[berth]:-} ]]; then
  python3 - "${results[berth]}" "${results[containerd]}" "${results[berth_host]}" \
    "${results[containerd_host]}" <<'EOF'
import json, sys
def ratios(label, berth, ctrd):
    b, c = json.loads(berth), json.loads(ctrd)
    def r(x, y):
        return "n/a" if not y else f"{x / y:.2f}"
    print(f"berth/containerd, {label}:")
    for call in b["calls"]:
        print(f"  {call:<18} p50 {r(b['calls'][call]['p50_ms'], c['calls'][call]['p50_ms'])}"
              f"  p99 {r(b['calls'][call]['p99_ms'], c['calls'][call]['p99_ms'])}")
    print(f"  shim RSS/pod {r(b['shim']['rss_kib_per_pod'], c['shim']['rss_kib_per_pod'])}"
          f"  shim PSS/pod {r(b['shim']['pss_kib_per_pod'], c['shim']['pss_kib_per_pod'])}"
          f"  server RSS {r(b['server']['rss_kib'], c['server']['rss_kib'])}")
ratios("pod network", sys.argv[1], sys.argv[2])
ratios("host network", sys.argv[3], sys.argv[4])
EOF
fi
