#!/usr/bin/env bash
# Installs the dependencies, configures, builds (-j2, ccache) and runs every
# test with ctest: unit tests two at a time, end-to-end tests one at a time.
# Run as root on Debian 12 (the tests use namespaces, mounts and cgroups).
#
#   hack/test.sh                 everything
#   BERTH_SKIP_DEPS=1 hack/test.sh   skip apt-get (dependencies already there)
#   BERTH_TEST_LABEL=unit hack/test.sh   only one ctest label (unit, e2e, containerd)
#   BERTH_SANITIZE=address hack/test.sh  build with a sanitizer (own build dir)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "hack/test.sh: run as root (tests use namespaces, mounts and cgroups)" >&2
  exit 1
fi
if [ "${BERTH_SKIP_DEPS:-0}" != 1 ]; then
  bash hack/install-deps.sh
fi

build_dir=${BERTH_BUILD_DIR:-build}
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ -n "${BERTH_SANITIZE:-}" ]; then
  build_dir=${BERTH_BUILD_DIR:-build-${BERTH_SANITIZE}}
  cmake_args+=(-DBERTH_SANITIZE="${BERTH_SANITIZE}")
fi
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/berth-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

cmake -S . -B "$build_dir" "${cmake_args[@]}"
cmake --build "$build_dir" -j2

ctest_args=(--test-dir "$build_dir" --output-on-failure -j2 --timeout 900)
if [ -n "${BERTH_TEST_LABEL:-}" ]; then
  ctest_args+=(-L "$BERTH_TEST_LABEL")
fi
ctest "${ctest_args[@]}"
