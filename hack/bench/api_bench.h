// berth-bench api: the API server under load (see api_bench.cc).
#pragma once

namespace berth::bench {

// argv[1] is "api"; flags follow. Prints one JSON line per backend.
int RunApiBench(int argc, char** argv);

}  // namespace berth::bench
