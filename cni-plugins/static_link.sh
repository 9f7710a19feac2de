#!/bin/bash
# Link launcher for berth-bridge (CMake RULE_LAUNCH_LINK): the command line
# CMake built, with abseil's and libnl's shared libraries swapped for their
# static archives (Debian ships both) and libstdc++/libgcc linked statically.
# A plugin is a process per call, and loading ~40 shared libraries was most of
# its start-up time. Libraries without a static archive (libnftables, libc)
# stay shared, except libnftables: when nftables_lazy.cc's object is on the
# line it provides the nft_* calls (dlopen on first use), and the library is
# dropped so that it is not loaded by every run.
set -euo pipefail
lazy_nft=0
for arg in "$@"; do
  if [[ "$arg" == *nftables_lazy.cc.o ]]; then lazy_nft=1; fi
done
out=()
grouped=0
for arg in "$@"; do
  if [[ $lazy_nft == 1 && "$arg" =~ /libnftables\.so(\.[0-9.]+)?$ ]]; then
    continue
  fi
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
