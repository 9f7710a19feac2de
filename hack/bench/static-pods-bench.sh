#!/usr/bin/env bash
# The node agent's benchmark (issue 6): N static pods (busybox `sleep`, image
# present) dropped into the manifest dir at once, then the agent idle with
# them running.
#
#   hack/bench/static-pods-bench.sh [--count 100] [--idle 60] [--build-dir build]
#
# Starts berth-agent in a temporary root and a network namespace of its own
# (no CNI config: pods get a loopback-only network), writes N manifests to a
# staging dir and renames them into --pod-manifest-path in one `mv`, then polls
# /pods every 50 ms until every pod is Running with its container running.
# Prints p50 / p99 / max of file-renamed -> first seen Running; then, with
# nothing changing for --idle seconds, the agent's CPU (utime + stime from
# /proc/PID/stat, kubelet and runtime together; each container's berth-shim
# is a process of its own) and RSS (VmRSS). The last line is one JSON object.
# Removes the pods, stops the agent and cleans up. Run as root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
count=100
idle=60
build_dir=$src/build
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) count=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "usage: $0 [--count N] [--idle SECONDS] [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
for tool in curl jq nsenter ip; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
agent=$build_dir/agent/berth-agent
shim=$build_dir/runtime-shim/berth-shim
[[ -x $agent ]] || { echo "no berth-agent at $agent (--build-dir)" >&2; exit 1; }
[[ -x $shim ]] || shim=$(find "$build_dir" -name berth-shim -type f -perm -u+x | head -n 1)

work=$(mktemp -d /tmp/berth-static-bench-XXXXXX)
root=$work/root
netns=berth-static-bench-${work##*-}
cgroup_parent=/berth-static-bench-${work##*-}
port=10248
agent_pid=

remove_cgroup_tree() {
  local dir
  for dir in $(find /sys/fs/cgroup -depth -type d -path "*$1*" 2>/dev/null); do
    for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    rmdir "$dir" 2>/dev/null || true
  done
}

pods_json() { nsenter --net="/run/netns/$netns" -- curl -sf --max-time 5 "http://127.0.0.1:$port/pods"; }

cleanup() {
  set +e
  rm -f "$root"/manifests/*.yaml
  if [[ -n $agent_pid ]] && kill -0 "$agent_pid" 2>/dev/null; then
    # Let the agent stop the pods (1 s grace each), then stop it.
    for _ in $(seq 1 600); do
      [[ $(pods_json | jq '.items | length' 2>/dev/null) == 0 ]] && break
      sleep 0.1
    done
    kill -TERM "$agent_pid"
    timeout 15 tail --pid="$agent_pid" -f /dev/null || kill -KILL "$agent_pid"
  fi
  # Shims outlive the agent by design: end any left from this run.
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$root/"; then
      kill -KILL "${p#/proc/}" 2>/dev/null
    fi
  done
  remove_cgroup_tree "$cgroup_parent"
  ip netns del "$netns" 2>/dev/null
  for mnt in $(awk -v r="$work/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$mnt" 2>/dev/null || umount -l "$mnt"
  done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$root"/{state,run,net.d,manifests,staging,logs,device-plugins}
"$src/hack/build-busybox-image.sh" "$work/images" >/dev/null
for archive in "$work/images/busybox.tar" "$work/images/pause.tar"; do
  "$agent" images import "$archive" --state-dir "$root/state" >/dev/null
done
ip netns add "$netns"
ip -n "$netns" link set lo up
# nsenter --net only: `ip netns exec` would remount /sys and hide the cgroups.
setsid nsenter --net="/run/netns/$netns" -- "$agent" --listen "unix://$root/run/berth.sock" \
  --state-dir "$root/state" --run-dir "$root/run" --cgroup-parent "$cgroup_parent" \
  --cni-conf-dir "$root/net.d" --shim "$shim" --device-plugins-dir "$root/device-plugins" \
  --pod-manifest-path "$root/manifests" --pod-logs-dir "$root/logs" --healthz-port "$port" \
  </dev/null >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 1 200); do
  pods_json >/dev/null 2>&1 && break
  kill -0 "$agent_pid" 2>/dev/null || { cat "$work/agent.log" >&2; exit 1; }
  sleep 0.05
done

for i in $(seq -w 1 "$count"); do
  cat >"$root/staging/bench-$i.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: bench-$i}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: docker.io/library/busybox:latest, imagePullPolicy: Never, command: [sleep, "3600"]}
EOF
done
t0=$(date +%s.%N)
mv "$root"/staging/*.yaml "$root/manifests/"
declare -A seen=()
deadline=$(( $(date +%s) + 120 ))
while (( ${#seen[@]} < count )); do
  (( $(date +%s) < deadline )) || { echo "only ${#seen[@]} of $count pods running after 120 s" >&2; exit 1; }
  now=$(date +%s.%N)
  running=$(pods_json | jq -r '.items[] | select(.status.phase == "Running"
      and ([.status.containerStatuses[]? | select(.state.running)] | length) == (.spec.containers | length))
      | .metadata.name' 2>/dev/null || true)
  for name in $running; do
    [[ -n ${seen[$name]:-} ]] || seen[$name]=$now
  done
  sleep 0.05
done
latencies=$(for name in "${!seen[@]}"; do echo "${seen[$name]} - $t0" | bc -l; done | sort -n)
pct() { echo "$latencies" | awk -v q="$1" '{ v[NR] = $1 } END { i = int(q * NR + 0.999999); if (i < 1) i = 1; printf "%.3f", v[i] }'; }
p50=$(pct 0.50); p99=$(pct 0.99); max=$(pct 1.0)
echo "$count pods: file renamed -> Running p50 ${p50} s, p99 ${p99} s, max ${max} s"

# Idle: nothing changes for $idle seconds.
sleep 2
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$agent_pid/stat"; }
c0=$(cpu); s0=$(date +%s.%N)
sleep "$idle"
c1=$(cpu); s1=$(date +%s.%N)
cpu_pct=$(echo "100 * ($c1 - $c0) / $ticks / ($s1 - $s0)" | bc -l)
rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$agent_pid/status")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$agent_pid/status")
printf 'idle with %d pods for %d s: agent CPU %.2f %% of one core, RSS %.1f MiB, %d threads\n' \
  "$count" "$idle" "$cpu_pct" "$(echo "$rss_kib / 1024" | bc -l)" "$threads"
printf '{"pods":%d,"start_p50_s":%s,"start_p99_s":%s,"start_max_s":%s,"idle_s":%d,"idle_cpu_percent":%.3f,"rss_kib":%d}\n' \
  "$count" "$p50" "$p99" "$max" "$idle" "$cpu_pct" "$rss_kib"
