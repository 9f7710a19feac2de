#!/bin/bash
# Link launcher for berth-bridge (CMake RULE_LAUNCH_LINK): the command line
# CMake built, with abseil's and libnl's shared libraries swapped for their
# static archives (Debian ships both) and libstdc++/libgcc linked statically.
# A plugin is a process per call, and loading ~40 shared libraries was most of
# its start-up time. Libraries without a static archive (libnftables, libc)
# stay shared, except libnftables: when nftables_lazy.cc's object is on the
# line it provides the nft_* calls (dlopen on first use), and the library is
# dropped so that it is not loaded by every run.
# When no shared library is left on the line after that (berth-bridge,
# berth-host-local, berth-loopback), the plugin is linked fully static
# (-static: glibc too), so a call maps no ld.so and relocates no libc.so:
# about 0.3-0.5 ms of each ADD and DEL. berth-bridge's lazy libnftables then
# loads through static glibc's dlopen, which needs the shared glibc of the
# same version at run time (the build machine's, installed with it).
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
static_flags=(-static-libstdc++ -static-libgcc)
shared_left=0
for arg in "${out[@]:1}"; do
  if [[ "$arg" =~ \.so(\.[0-9.]+)?$ ]]; then shared_left=1; fi
done
if [[ $shared_left == 0 ]]; then
  static_flags+=(-static)
fi
# The compiler first, then our flags. The fully static link warns that
# dlopen/getaddrinfo need the shared glibc at run time (see above); libnl's
# getaddrinfo is never called by the plugins.
exec "${out[0]}" "${static_flags[@]}" "${out[@]:1}"
