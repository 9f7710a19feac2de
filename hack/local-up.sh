#!/usr/bin/env bash
# Brings berth up on this host and runs a demo static pod; or takes it down again.
#
#   hack/local-up.sh [up] [--no-deps] [--build]   install deps, build, import busybox,
#                                                 start berth-agent, drop the demo pod's
#                                                 manifest into its static pod dir
#   hack/local-up.sh down [--purge]               remove every pod, stop the agent;
#                                                 --purge also wipes state, run dir and logs
#   hack/local-up.sh status                       is the agent up, which pods run
#
# Run as root on Debian 12. `up` is idempotent: with the agent already running
# it only (re)writes the demo manifest; the agent keeps the pod running.
#
# Every path and flag can be changed through the environment:
#   BERTH_STATE_DIR      /var/lib/berth              agent --state-dir
#   BERTH_RUN_DIR        /run/berth                  agent --run-dir
#   BERTH_SOCKET         $BERTH_RUN_DIR/berth.sock   CRI socket
#   BERTH_BUILD_DIR      <repo>/build                CMake build directory
#   BERTH_CGROUP_PARENT  /berth                      agent --cgroup-parent
#   BERTH_LOG_FILE       /var/log/berth-agent.log    agent's stdout and stderr
#   BERTH_PID_FILE       $BERTH_RUN_DIR/agent.pid
#   BERTH_CACHE_DIR      /var/cache/berth            built image archives
#   BERTH_DEMO_DIR       <repo>/hack/demo            demo-pod.yaml
#   BERTH_MANIFEST_DIR   /etc/kubernetes/manifests   agent --pod-manifest-path
#   BERTH_JOBS           2                           make -j
#   BERTH_READY_TIMEOUT  30                          seconds to wait for the agent
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

state_dir=${BERTH_STATE_DIR:-/var/lib/berth}
run_dir=${BERTH_RUN_DIR:-/run/berth}
socket=${BERTH_SOCKET:-$run_dir/berth.sock}
build_dir=${BERTH_BUILD_DIR:-$repo/build}
cgroup_parent=${BERTH_CGROUP_PARENT:-/berth}
log_file=${BERTH_LOG_FILE:-/var/log/berth-agent.log}
pid_file=${BERTH_PID_FILE:-$run_dir/agent.pid}
cache_dir=${BERTH_CACHE_DIR:-/var/cache/berth}
demo_dir=${BERTH_DEMO_DIR:-$repo/hack/demo}
manifest_dir=${BERTH_MANIFEST_DIR:-/etc/kubernetes/manifests}
demo_manifest=$manifest_dir/berth-demo.yaml
jobs=${BERTH_JOBS:-2}
ready_timeout=${BERTH_READY_TIMEOUT:-30}

agent=$build_dir/agent/berth-agent
shim=$build_dir/runtime-shim/shim/berth-shim
cri=$build_dir/hack/berth-cri/berth-cri
endpoint=unix://$socket
image_ref=docker.io/library/busybox:latest

say() { echo "local-up: $*"; }
die() { echo "local-up: error: $*" >&2; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cri() { "$cri" --runtime-endpoint "$endpoint" "$@"; }

# A directory we may rm -rf: absolute, not "/" and not a top-level system dir.
check_removable() {
  local dir=$1
  [[ $dir == /* ]] || die "refusing to remove \"$dir\": not an absolute path"
  case "$(realpath -m "$dir")" in
    / | /bin | /boot | /dev | /etc | /home | /lib | /lib64 | /opt | /proc | /root | /run | /sbin | /srv | /sys | /tmp | /usr | /var | /var/lib | /var/log | /var/cache)
      die "refusing to remove \"$dir\"" ;;
  esac
}

# The log directories of the demo pod (the kubelet's layout:
# /var/log/pods/<namespace>_<name>_<uid>).
demo_log_dirs() {
  local dir
  for dir in /var/log/pods/default_demo-*; do
    [[ -d $dir ]] && echo "$dir"
  done
  return 0
}

# The pid of our berth-agent, or nothing when it is not running.
agent_pid() {
  [[ -f $pid_file ]] || return 0
  local pid
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  [[ -r /proc/$pid/cmdline ]] || return 0
  # The same program with our socket: not a recycled pid.
  if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "berth-agent .*--listen $endpoint "; then
    echo "$pid"
  fi
}

agent_answers() { cri --timeout 2s version >/dev/null 2>&1; }

# Waits (bounded) until the agent answers Version; fails early if it died.
wait_for_agent() {
  local pid=$1 deadline=$((SECONDS + ready_timeout))
  while ((SECONDS < deadline)); do
    agent_answers && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "--- last lines of $log_file ---" >&2
      tail -n 20 "$log_file" >&2 || true
      die "berth-agent (pid $pid) exited before it answered on $endpoint"
    fi
    sleep 0.2
  done
  die "berth-agent (pid $pid) did not answer on $endpoint within ${ready_timeout}s; see $log_file"
}

start_agent() {
  mkdir -p "$state_dir" "$run_dir" "$(dirname "$log_file")" "$(dirname "$pid_file")"
  say "starting berth-agent (log: $log_file)"
  setsid "$agent" --listen "$endpoint" --state-dir "$state_dir" --run-dir "$run_dir" \
    --cgroup-parent "$cgroup_parent" --shim "$shim" --pod-manifest-path "$manifest_dir" \
    </dev/null >>"$log_file" 2>&1 &
  local pid=$!
  echo "$pid" >"$pid_file"
  wait_for_agent "$pid"
  say "berth-agent is up (pid $pid, $endpoint)"
}

stop_agent() {
  local pid=$1 deadline=$((SECONDS + 15))
  say "stopping berth-agent (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "berth-agent ignored SIGTERM for 15s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

install_deps() {
  say "installing Debian packages (hack/install-deps.sh; skip with --no-deps)"
  "$repo/hack/install-deps.sh"
}

build() {
  local force=$1
  if [[ $force == no && -x $agent && -x $shim && -x $cri ]]; then
    say "using the binaries in $build_dir (rebuild with --build)"
    return
  fi
  say "building berth-agent, berth-shim and berth-cri in $build_dir"
  cmake -S "$repo" -B "$build_dir" >/dev/null
  make -C "$build_dir" -j"$jobs" berth-agent berth-shim berth-cri
}

# Builds the busybox image archive once, into the cache dir.
busybox_archive() {
  local archive=$cache_dir/images/busybox.tar
  if [[ ! -f $archive ]]; then
    say "building the busybox image into $cache_dir/images" >&2
    "$repo/hack/build-busybox-image.sh" "$cache_dir/images" >&2
  fi
  echo "$archive"
}

image_in_store() {
  "$agent" images list --state-dir "$state_dir" 2>/dev/null | grep -q -- " $image_ref\(,\|$\)"
}

import_image() {
  local archive
  archive=$(busybox_archive)
  say "importing $image_ref into $state_dir"
  "$agent" images import "$archive" --state-dir "$state_dir" >/dev/null
}

# The id of the demo's running container, else nothing.
demo_container_id() { cri ps --name '^hello$' -q 2>/dev/null | head -n1; }

# Writes the demo manifest (a hidden temp file renamed into place: the agent
# reads every other file in the dir) and waits for the pod to run.
run_demo() {
  mkdir -p "$manifest_dir"
  if cmp -s "$demo_dir/demo-pod.yaml" "$demo_manifest"; then
    say "the demo manifest is in place ($demo_manifest)"
  else
    say "writing the demo static pod manifest $demo_manifest"
    cp "$demo_dir/demo-pod.yaml" "$manifest_dir/.berth-demo.yaml.tmp"
    mv -f "$manifest_dir/.berth-demo.yaml.tmp" "$demo_manifest"
  fi
  local deadline=$((SECONDS + 60)) container_id=""
  while ((SECONDS < deadline)); do
    container_id=$(demo_container_id)
    [[ -n $container_id ]] && break
    sleep 0.2
  done
  [[ -n $container_id ]] || die "the demo pod is not running after 60s; see $log_file and '$agent pods'"
  "$agent" pods || true
  show_demo "$container_id"
}

show_demo() {
  local id=$1 line="" deadline=$((SECONDS + 10))
  # The first line comes as soon as the shell in the container starts.
  while ((SECONDS < deadline)); do
    line=$(cri logs --tail 1 "$id" 2>/dev/null || true)
    [[ -n $line ]] && break
    sleep 0.2
  done
  [[ -n $line ]] && say "demo says: $line"
  local short=${id:0:13}
  cat <<EOF

berth is up, running the static pod in $demo_manifest.
The agent's view (also JSON at http://127.0.0.1:10248/pods):

  $agent pods

The runtime's, over CRI with berth-cri ($cri):

  export CONTAINER_RUNTIME_ENDPOINT=$endpoint
  $cri pods
  $cri ps
  $cri logs -f $short
  $cri exec $short ps

Edit $demo_manifest and the agent rolls the pod; remove it and the pod stops.
Take it all down with: $repo/hack/local-up.sh down   (add --purge to wipe all state)
EOF
}

cmd_up() {
  local deps=yes force_build=no
  for arg in "$@"; do
    case $arg in
      --no-deps) deps=no ;;
      --build) force_build=yes ;;
      -h | --help) usage ;;
      *) die "up: unknown flag $arg" ;;
    esac
  done
  [[ $(id -u) -eq 0 ]] || die "run as root (mounts, cgroups, namespaces)"
  [[ $deps == yes ]] && install_deps
  build "$force_build"

  local pid
  pid=$(agent_pid)
  if [[ -n $pid ]]; then
    say "berth-agent is already running (pid $pid)"
    wait_for_agent "$pid"
    # The agent reads its image store at start: import and restart if missing.
    if [[ -z $(cri images -q "$image_ref") ]]; then
      import_image
      stop_agent "$pid"
      start_agent
    fi
  else
    if [[ -S $socket ]] && agent_answers; then
      die "something else already serves $endpoint (not the pid in $pid_file); stop it first"
    fi
    image_in_store || import_image
    start_agent
  fi
  run_demo
}

# Best-effort removal of empty cgroup directories under the parent, deepest first.
remove_cgroups() {
  local hierarchy dir left=""
  for hierarchy in /sys/fs/cgroup /sys/fs/cgroup/*; do
    [[ -d $hierarchy && ! -L $hierarchy && -e $hierarchy/cgroup.procs ]] || continue
    dir=$hierarchy$cgroup_parent
    [[ -d $dir ]] || continue
    find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [[ -d $dir ]] && left+=" $dir"
  done
  if [[ -n $left ]]; then
    say "cgroups still in use (processes left in them):$left"
  fi
}

# Mount points at or below $1, deepest first.
mounts_under() {
  awk -v dir="$1" '{ if ($5 == dir || index($5, dir "/") == 1) print $5 }' /proc/self/mountinfo |
    awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-
}

# Shims (and anything else) still running with our dirs in their arguments.
processes_under() {
  local proc
  for proc in /proc/[0-9]*; do
    [[ ${proc#/proc/} == "$$" ]] && continue
    if tr '\0' ' ' 2>/dev/null <"$proc/cmdline" | grep -q -F -e "$state_dir/" -e "$run_dir/"; then
      echo "${proc#/proc/}"
    fi
  done
}

has_entries() { [[ -d $1 && -n $(ls -A "$1") ]]; }

cmd_down() {
  local purge=no
  for arg in "$@"; do
    case $arg in
      --purge) purge=yes ;;
      -h | --help) usage ;;
      *) die "down: unknown flag $arg" ;;
    esac
  done
  [[ $(id -u) -eq 0 ]] || die "run as root"
  [[ -x $cri && -x $agent ]] || die "no berth-cri or berth-agent in $build_dir (set BERTH_BUILD_DIR)"

  # The demo manifest goes first: the agent stops the pod gracefully, and an
  # agent started below to clean up does not run it again.
  if [[ -f $demo_manifest ]]; then
    rm -f "$demo_manifest"
    say "removed the demo manifest $demo_manifest"
  fi
  local pid
  pid=$(agent_pid)
  if [[ -n $pid ]]; then
    local deadline=$((SECONDS + 20))
    while [[ -n $(demo_container_id) ]] && ((SECONDS < deadline)); do sleep 0.2; done
  fi
  # Pods are removed through the agent; start it for that if it is down but
  # left state behind.
  if [[ -z $pid ]] && { has_entries "$state_dir/sandboxes" || has_entries "$state_dir/containers"; }; then
    say "berth-agent is not running; starting it to remove what it left"
    start_agent
    pid=$(agent_pid)
  fi
  if [[ -n $pid ]]; then
    wait_for_agent "$pid"
    local id count=0
    for id in $(cri pods -q); do
      cri stopp "$id" >/dev/null || say "stopping pod $id failed"
      cri rmp "$id" >/dev/null || say "removing pod $id failed"
      count=$((count + 1))
    done
    say "removed $count pod(s)"
    stop_agent "$pid"
  else
    say "berth-agent is not running"
  fi
  remove_cgroups

  local leftovers=() mounts=()
  mapfile -t leftovers < <(processes_under)
  mapfile -t mounts < <(mounts_under "$run_dir"; mounts_under "$state_dir")
  if [[ $purge == yes ]]; then
    if ((${#leftovers[@]})); then
      say "killing processes still using $state_dir or $run_dir: ${leftovers[*]}"
      kill -KILL "${leftovers[@]}" 2>/dev/null || true
      remove_cgroups
    fi
    local point
    for point in "${mounts[@]}"; do umount "$point" 2>/dev/null || umount -l "$point" || true; done
    local log_dirs=()
    mapfile -t log_dirs < <(demo_log_dirs)
    for dir in "$state_dir" "$run_dir" "$cache_dir" "${log_dirs[@]}"; do
      check_removable "$dir"
      rm -rf "$dir"
    done
    rm -f "$log_file"
    say "purged $state_dir, $run_dir, $cache_dir, ${log_dirs[*]:-(no demo logs)} and $log_file"
    return
  fi
  ((${#leftovers[@]})) && say "processes still using $state_dir or $run_dir: ${leftovers[*]}"
  ((${#mounts[@]})) && say "mounts left: ${mounts[*]}"
  local left=() path
  for path in "$state_dir" "$run_dir" "$cache_dir" "$log_file" $(demo_log_dirs); do
    [[ -n $path && -e $path ]] && left+=("$path")
  done
  if ((${#left[@]} == 0)); then
    say "berth is down; nothing of it is left on disk"
    return
  fi
  say "berth is down. Left in place (the next 'up' reuses the images in $state_dir):"
  printf '  %s\n' "${left[@]}"
  say "wipe it with: $repo/hack/local-up.sh down --purge"
}

cmd_status() {
  local pid
  pid=$(agent_pid)
  if [[ -z $pid ]]; then
    say "berth-agent is not running"
    return 1
  fi
  say "berth-agent is running (pid $pid, $endpoint)"
  "$agent" pods || true
  cri pods
  cri ps -a
}

command=up
if [[ $# -gt 0 && $1 != -* ]]; then
  command=$1
  shift
fi
case $command in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  help) usage ;;
  *) echo "local-up: unknown command \"$command\"" >&2; usage ;;
esac
