// The metav1.Status objects the remotecommand error channel carries (v4 and
// later): what kubectl reads to learn how the command ended.
#pragma once

#include <string>

namespace berth::streaming {

// {"metadata":{},"status":"Success"}
std::string SuccessStatusJson();

// Failure with reason NonZeroExitCode and details.causes
// [{"reason":"ExitCode","message":"<code>"}], which kubectl turns into its
// own exit code.
std::string NonZeroExitStatusJson(int exit_code);

// Failure with reason InternalError and `message` (the command could not be
// started, the container is not running, ...).
std::string InternalErrorStatusJson(const std::string& message);

}  // namespace berth::streaming
