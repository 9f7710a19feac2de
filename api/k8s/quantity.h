// resource.Quantity and intstr.IntOrString, as the Kubernetes API serves them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace berth::k8s {

// A resource quantity ("100m", "1Gi", "1e3", "0.5"). The amount is kept exactly in
// nano-units; the suffix family of the input (binary SI, decimal SI, decimal
// exponent) picks the canonical form, as resource.Quantity does.
class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;
  // Parses the API's quantity syntax; the error names the regular expression
  // as the API server's message does.
  static absl::StatusOr<Quantity> Parse(std::string_view text);
  static Quantity FromMilli(int64_t milli, Format format = Format::kDecimalSI);

  // Rounded up away from zero to whole units / thousandths, as Value()/MilliValue().
  int64_t Value() const;
  int64_t MilliValue() const;
  bool IsZero() const { return nano_ == 0; }
  Format format() const { return format_; }
  // The canonical string form ("500m", "512Mi", "1k", "1e3").
  std::string String() const;

  // -1, 0, 1 as this is less than, equal to or more than `other`.
  int Cmp(const Quantity& other) const;
  bool operator==(const Quantity& other) const { return Cmp(other) == 0; }

 private:
  __int128 nano_ = 0;
  Format format_ = Format::kDecimalSI;
};

// A value that is an int32 or a string (a port number or a port name).
struct IntOrString {
  bool is_string = false;
  int32_t int_value = 0;
  std::string str_value;

  static IntOrString Int(int32_t v) { return IntOrString{false, v, ""}; }
  static IntOrString Str(std::string s) { return IntOrString{true, 0, std::move(s)}; }
  std::string ToString() const { return is_string ? str_value : std::to_string(int_value); }
  bool operator==(const IntOrString&) const = default;
};

}  // namespace berth::k8s
