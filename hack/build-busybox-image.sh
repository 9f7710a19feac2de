#!/usr/bin/env bash
# Builds two image archives from Debian's busybox-static, for tests and hosts
# without a registry:
#   OUT_DIR/busybox.tar  docker.io/library/busybox:latest  Cmd ["sh"]
#   OUT_DIR/pause.tar    localhost/berth/pause:1.0         Entrypoint ["/bin/sleep","2147483647"]
# Each is an OCI image layout (oci-layout, index.json, blobs/sha256/...) that
# also carries a docker-archive manifest.json, so berth and
# `ctr -n k8s.io images import` both accept it. Output is reproducible byte
# for byte: sorted entries, fixed mtimes, numeric owner 0, gzip without name
# or timestamp.
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
out_dir=$1

busybox=/bin/busybox
if [[ ! -x $busybox ]]; then
  echo "$busybox not found: install the busybox-static package" >&2
  exit 1
fi

case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
  amd64 | x86_64) arch=amd64 ;;
  arm64 | aarch64) arch=arm64 ;;
  armhf | armel | armv7l) arch=arm ;;
  i386 | i686) arch=386 ;;
  ppc64el | ppc64le) arch=ppc64le ;;
  s390x) arch=s390x ;;
  riscv64) arch=riscv64 ;;
  *) echo "unknown architecture $(dpkg --print-architecture)" >&2; exit 1 ;;
esac

export LC_ALL=C
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Deterministic tar of the directory $1 (entries relative to it, sorted) to stdout.
det_tar() {
  local dir=$1
  (cd "$dir" && find . -mindepth 1 | sed 's|^\./||' | sort) >"$work/list"
  tar --create --file=- --directory="$dir" --no-recursion --files-from="$work/list" \
    --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
size_of() { stat -c %s "$1"; }

# --- the shared rootfs layer ---
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,tmp,root,home/berth}
cp "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [[ $applet == busybox ]] && continue
  ln -s busybox "$rootfs/bin/$applet"
done
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
berth:x:1000:1000:berth:/home/berth:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
berth:x:1000:
nogroup:x:65534:
EOF
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
chmod 0755 "$rootfs" "$rootfs"/{bin,etc,home,home/berth}
chmod 0700 "$rootfs/root"
chmod 1777 "$rootfs/tmp"

det_tar "$rootfs" >"$work/layer.tar"
diff_id=$(sha256_of "$work/layer.tar")
gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"
layer_hex=$(sha256_of "$work/layer.tar.gz")
layer_size=$(size_of "$work/layer.tar.gz")

path_env='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# build_archive NAME TAG PROCESS_JSON OUT_FILE
build_archive() {
  local name=$1 tag=$2 process=$3 out=$4
  local dir=$work/archive-$tag
  rm -rf "$dir"
  mkdir -p "$dir/blobs/sha256"
  cp "$work/layer.tar.gz" "$dir/blobs/sha256/$layer_hex"

  printf '{"architecture":"%s","config":{"Env":["%s"],%s},"created":"1970-01-01T00:00:00Z","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$path_env" "$process" "$diff_id" >"$work/config.json"
  local config_hex config_size
  config_hex=$(sha256_of "$work/config.json")
  config_size=$(size_of "$work/config.json")
  mv "$work/config.json" "$dir/blobs/sha256/$config_hex"

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config_hex" "$config_size" "$layer_hex" "$layer_size" >"$work/manifest"
  local manifest_hex manifest_size
  manifest_hex=$(sha256_of "$work/manifest")
  manifest_size=$(size_of "$work/manifest")
  mv "$work/manifest" "$dir/blobs/sha256/$manifest_hex"

  printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest_hex" "$manifest_size" "$name" "$tag" >"$dir/index.json"
  printf '[{"Config":"blobs/sha256/%s","RepoTags":["%s"],"Layers":["blobs/sha256/%s"]}]' \
    "$config_hex" "$name" "$layer_hex" >"$dir/manifest.json"

  find "$dir" -type d -exec chmod 0755 {} +
  find "$dir" -type f -exec chmod 0644 {} +
  det_tar "$dir" >"$out.tmp"
  mv "$out.tmp" "$out"
  echo "$out: $name id sha256:$config_hex"
}

mkdir -p "$out_dir"
build_archive docker.io/library/busybox:latest latest '"Cmd":["sh"]' "$out_dir/busybox.tar"
build_archive localhost/berth/pause:1.0 1.0 '"Entrypoint":["/bin/sleep","2147483647"]' "$out_dir/pause.tar"
