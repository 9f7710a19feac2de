#!/usr/bin/env bash
# Image pull benchmark, berth against containerd in one run, from the same
# local registry (Debian's docker-registry on 127.0.0.1, plain HTTP):
#
#   hack/bench/pull-bench.sh [--build-dir build] [--big-mb 200] [--layers 5] [--small 20] [--rounds 3]
#
# It builds and pushes a big multi-layer image of random (incompressible)
# data (big:1), a second one sharing all but its top layer (big:2), and
# `--small` one-layer images; starts berth-agent and containerd
# (hack/containerd-up.sh) each under its own temp root; then, per round and
# runtime, pulls through the CRI socket (berth-pull-bench): big:1 alone,
# big:2 alone, the small ones all at once; and removes them again. The
# registry's access log counts the blob GETs and bytes each pull fetched.
# Prints one line per measurement, then the medians and berth/containerd
# ratios (< 1: berth faster). Run as root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
hack=$(dirname "$here")
src=$(dirname "$hack")
build_dir=$src/build
big_mb=200
layers=5
small=20
rounds=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    --big-mb) big_mb=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --small) small=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [--build-dir DIR] [--big-mb N] [--layers N] [--small N] [--rounds N]" >&2; exit 2 ;;
  esac
done
((layers >= 2)) || { echo "--layers: need at least 2" >&2; exit 2; }

find_binary() { find "$build_dir" -name "$1" -type f -perm -u+x 2>/dev/null | head -n 1; }
agent=$(find_binary berth-agent)
driver=$(find_binary berth-pull-bench)
[[ -n $agent ]] || { echo "berth-agent not built under $build_dir" >&2; exit 1; }
[[ -n $driver ]] || { echo "berth-pull-bench not built under $build_dir" >&2; exit 1; }
command -v docker-registry >/dev/null || { echo "docker-registry is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-pull-bench-XXXXXX)
cgroup_parent=/berth-pull-bench-${work##*-}
registry_pid=
agent_pid=

cleanup() {
  set +e
  if [[ -n $agent_pid ]] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -TERM "$agent_pid"
    timeout 15 tail --pid="$agent_pid" -f /dev/null || kill -KILL "$agent_pid"
  fi
  if [[ -n $registry_pid ]]; then
    kill -TERM "$registry_pid" 2>/dev/null
    timeout 10 tail --pid="$registry_pid" -f /dev/null || kill -KILL "$registry_pid" 2>/dev/null
  fi
  "$hack/containerd-up.sh" --stop "$work/containerd" >/dev/null 2>&1
  for dir in $(find /sys/fs/cgroup -depth -type d -path "*$cgroup_parent*" 2>/dev/null); do rmdir "$dir" 2>/dev/null; done
  for mnt in $(awk -v r="$work/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$mnt" 2>/dev/null || umount -l "$mnt"
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Polls `$@` every 0.1 s until it succeeds or `timeout_s` passes.
wait_until() {
  local timeout_s=$1; shift
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# ---- the registry ----
port=
for candidate in $(shuf -i 20000-60000 -n 50); do
  if ! ss -Hltn "sport = :$candidate" | grep -q .; then port=$candidate; break; fi
done
[[ -n $port ]] || { echo "no free port" >&2; exit 1; }
reg=127.0.0.1:$port
mkdir -p "$work/registry"
cat >"$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $work/registry/storage
http:
  addr: $reg
  secret: pull-bench
EOF
reglog=$work/registry/access.log
setsid docker-registry serve "$work/registry/config.yml" </dev/null >"$reglog" 2>&1 &
registry_pid=$!
wait_until 30 curl -sf "http://$reg/v2/" || { echo "docker-registry did not come up" >&2; cat "$reglog" >&2; exit 1; }

# ---- images: random data, gzip layers, OCI manifests, pushed over the API ----
# make_layer NAME BYTES: $work/layers/NAME.tar.gz; sets layer_digest, layer_size, layer_diff_id.
make_layer() {
  local name=$1 bytes=$2 dir=$work/layers/$1.d
  mkdir -p "$dir"
  head -c "$bytes" /dev/urandom >"$dir/$name.bin"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$dir" -cf "$work/layers/$name.tar" .
  rm -rf "$dir"
  layer_diff_id=sha256:$(sha256sum "$work/layers/$name.tar" | cut -d' ' -f1)
  gzip -1 -n -f "$work/layers/$name.tar"
  layer_digest=sha256:$(sha256sum "$work/layers/$name.tar.gz" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$work/layers/$name.tar.gz")
  echo "$layer_digest $layer_size $layer_diff_id" >"$work/layers/$name.desc"
}

# push_blob REPO FILE DIGEST (monolithic upload; skipped when the repo has it).
push_blob() {
  local repo=$1 file=$2 digest=$3 location sep
  curl -sf -o /dev/null -I "http://$reg/v2/$repo/blobs/$digest" && return 0
  location=$(curl -sSf -o /dev/null -D - -X POST "http://$reg/v2/$repo/blobs/uploads/" |
    awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
  [[ $location == http* ]] || location=http://$reg$location
  sep='?'
  [[ $location == *\?* ]] && sep='&'
  curl -sSf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$file" "$location${sep}digest=$digest"
}

# push_image REPO TAG LAYER_NAME...
push_image() {
  local repo=$1 tag=$2; shift 2
  local diff_ids= descs= name digest size diff_id
  for name in "$@"; do
    read -r digest size diff_id <"$work/layers/$name.desc"
    push_blob "$repo" "$work/layers/$name.tar.gz" "$digest"
    diff_ids+="${diff_ids:+,}\"$diff_id\""
    descs+="${descs:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$digest\",\"size\":$size}"
  done
  local config=$work/layers/config-${repo//\//-}-$tag.json
  printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"],"Labels":{"bench":"%s:%s"}},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$repo" "$tag" "$diff_ids" >"$config"
  local config_digest=sha256:$(sha256sum "$config" | cut -d' ' -f1)
  push_blob "$repo" "$config" "$config_digest"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
    "$config_digest" "$(stat -c %s "$config")" "$descs" >"$config.manifest"
  curl -sSf -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    -T "$config.manifest" "http://$reg/v2/$repo/manifests/$tag"
}

mkdir -p "$work/layers"
layer_bytes=$((big_mb * 1024 * 1024 / layers))
echo "building big:1 ($layers layers of $((layer_bytes / 1024 / 1024)) MiB random data), big:2 (all but the top layer shared), $small small images" >&2
big1=() big2=()
for ((i = 0; i < layers; i++)); do
  make_layer "big$i" "$layer_bytes"
  big1+=("big$i")
  ((i < layers - 1)) && big2+=("big$i")
done
make_layer big-top2 "$layer_bytes"
big2+=(big-top2)
push_image bench/big 1 "${big1[@]}"
push_image bench/big 2 "${big2[@]}"
small_refs=()
for ((i = 1; i <= small; i++)); do
  make_layer "small$i" $((1024 * 1024))
  push_image "bench/small$i" 1 "small$i"
  small_refs+=("$reg/bench/small$i:1")
done
rm -f "$work"/layers/*.tar.gz
# The registry's files in the page cache, the same for both runtimes.
find "$work/registry/storage" -type f -exec cat {} + >/dev/null

# ---- the runtimes ----
mkdir -p "$work/berth/state" "$work/berth/run" "$work/berth/net.d"
setsid "$agent" --listen "unix://$work/berth/berth.sock" --state-dir "$work/berth/state" \
  --run-dir "$work/berth/run" --cgroup-parent "$cgroup_parent" --cni-conf-dir "$work/berth/net.d" \
  --insecure-registry "$reg" --registry-config= --image-import-dir= \
  </dev/null >"$work/berth/agent.log" 2>&1 &
agent_pid=$!
"$hack/containerd-up.sh" "$work/containerd" >/dev/null
declare -A endpoint=([berth]="unix://$work/berth/berth.sock" [containerd]="unix://$work/containerd/containerd.sock")

# registry_count FROM_LINE: "GETS BYTES" of the blob GETs logged after FROM_LINE
# (the access log line is written when a response completes: wait for it to settle).
registry_count() {
  local from=$1 last=-1 now
  for _ in $(seq 50); do
    now=$(wc -l <"$reglog")
    [[ $now == "$last" ]] && break
    last=$now
    sleep 0.1
  done
  tail -n +"$((from + 1))" "$reglog" | awk '$6 == "\"GET" && $7 ~ /\/blobs\// && $9 ~ /^2/ { n++; b += $10 } END { printf "%d %d\n", n, b }'
}

# measure RUNTIME LABEL REF...: pulls, prints a result line, appends to results.
results=$work/results.txt
measure() {
  local rt=$1 label=$2; shift 2
  local from out total gets bytes
  from=$(wc -l <"$reglog")
  out=$("$driver" --endpoint "${endpoint[$rt]}" "$@") || { echo "$rt $label: pull failed: $out" >&2; exit 1; }
  total=$(sed -E 's/.*"total_s":([0-9.e+-]+).*/\1/' <<<"$out")
  read -r gets bytes < <(registry_count "$from")
  printf '%-10s %-22s %8.2f s  %3d blob GETs  %8.1f MiB\n' "$rt" "$label" "$total" "$gets" "$(bc -l <<<"$bytes/1048576")" >&2
  echo "$rt $label $total $gets $bytes" >>"$results"
}

for ((round = 1; round <= rounds; round++)); do
  echo "== round $round" >&2
  for rt in berth containerd; do
    measure "$rt" "big:1" "$reg/bench/big:1"
    measure "$rt" "big:2 (1 new layer)" "$reg/bench/big:2"
    measure "$rt" "$small small, at once" "${small_refs[@]}"
    "$driver" --endpoint "${endpoint[$rt]}" --rm "$reg/bench/big:1" "$reg/bench/big:2" "${small_refs[@]}" >/dev/null
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "== medians over $rounds rounds (berth / containerd; ratio < 1: berth faster)"
for label in "big:1" "big:2 (1 new layer)" "$small small, at once"; do
  b=$(awk -v l="$label" 'index($0, "berth " l " ") == 1 { print $(NF - 2) }' "$results" | median)
  c=$(awk -v l="$label" 'index($0, "containerd " l " ") == 1 { print $(NF - 2) }' "$results" | median)
  bg=$(awk -v l="$label" 'index($0, "berth " l " ") == 1 { print $(NF - 1), $NF }' "$results" | tail -n 1)
  cg=$(awk -v l="$label" 'index($0, "containerd " l " ") == 1 { print $(NF - 1), $NF }' "$results" | tail -n 1)
  printf '%-22s berth %7.2f s  containerd %7.2f s  ratio %.2f   blobs/bytes berth %s, containerd %s\n' \
    "$label" "$b" "$c" "$(bc -l <<<"$b/$c")" "$bg" "$cg"
done
