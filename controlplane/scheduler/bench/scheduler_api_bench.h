// berth-scheduler-bench api: the scheduler in berth-controlplane, driven
// through the API over HTTPS (see scheduler_api_bench.cc).
#pragma once

namespace berth::scheduler {

// argv[1] is "api"; flags follow.
int RunApiBench(int argc, char** argv);

}  // namespace berth::scheduler
