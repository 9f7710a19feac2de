// The API server's validation of a Pod create (ValidatePodCreate's common rules),
// with field errors in the Kubernetes wording:
//   spec.containers[0].name: Invalid value: "Foo": a lowercase RFC 1123 label must ...
//   spec.containers: Required value
//   spec.containers[1].name: Duplicate value: "app"
// Validate a defaulted pod (SetDefaultsPod) as the API server does.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/k8s/pod.h"

namespace berth::k8s {

struct FieldError {
  enum class Type { kRequired, kInvalid, kDuplicate, kNotSupported, kNotFound, kForbidden, kTooLong };
  Type type;
  std::string field;     // "spec.containers[0].name"
  std::string bad_value; // already rendered: "\"Foo\"" for strings, "0" for numbers
  std::string detail;
  // "<field>: <Type>[: <value>][: <detail>]", as field.Error.Error().
  std::string ToString() const;
};

using ErrorList = std::vector<FieldError>;

// Every error found, in the order the API server reports them.
ErrorList ValidatePod(const Pod& pod);

// OK, or InvalidArgument "Pod \"<name>\" is invalid: <err>" (one error) or
// "... is invalid: [<err>, <err>]" (several), as the API server's Status message.
absl::Status ValidatePodStatus(const Pod& pod);

// The name checks alone; each returns the messages (empty when valid).
std::vector<std::string> IsDNS1123Label(const std::string& value);
std::vector<std::string> IsDNS1123Subdomain(const std::string& value);
std::vector<std::string> IsQualifiedName(const std::string& value);
std::vector<std::string> IsValidLabelValue(const std::string& value);
std::vector<std::string> IsValidPortName(const std::string& value);

}  // namespace berth::k8s
