#!/bin/bash
# Link launcher for berth-bridge (CMake RULE_LAUNCH_LINK): the command line
# CMake built, with abseil's and libnl's shared libraries swapped for their
# static archives (Debian ships both) and libstdc++/libgcc linked statically.
# A plugin is a process per call, and loading ~40 shared libraries was most of
# its start-up time. Libraries without a static archive (libnftables, libc)
# stay shared.
set -euo pipefail
out=()
grouped=0
for arg in "$@"; do
  if [[ "$arg" =~ ^(/.*/lib(absl_[A-Za-z0-9_]+|nl-3|nl-route-3))\.so(\.[0-9.]+)?$ ]] &&
     [[ -f "${BASH_REMATCH[1]}.a" ]]; then
    if [[ $grouped == 0 ]]; then
      out+=("-Wl,--start-group")
      grouped=1
    fi
    out+=("${BASH_REMATCH[1]}.a")
  else
    out+=("$arg")
  fi
done
if [[ $grouped == 1 ]]; then
  out+=("-Wl,--end-group")
fi
# The compiler first, then our flags.
exec "${out[0]}" -static-libstdc++ -static-libgcc "${out[@]:1}"
