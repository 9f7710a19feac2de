# cni-bench: CNI ADD/DEL latency, berth's bridge + host-local against the
# reference plugins, plus the kernel's veth floor (see cni-bench.cc).
berth_cc_binary(cni-bench SRCS cni-bench.cc
  DEPS berth_cni_netlink berth_common nlohmann_json::nlohmann_json absl::strings absl::str_format
       Threads::Threads)
add_dependencies(cni-bench berth-bridge berth-host-local)
target_compile_definitions(cni-bench PRIVATE
  BERTH_CNI_BENCH_BERTH_DIR="$<TARGET_FILE_DIR:berth-host-local>")
