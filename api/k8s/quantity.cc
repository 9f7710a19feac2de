#include "api/k8s/quantity.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace berth::k8s {
namespace {

using i128 = __int128;

constexpr char kQuantityError[] =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

i128 Pow(i128 base, int exp) {
  i128 r = 1;
  for (int i = 0; i < exp; ++i) r *= base;
  return r;
}

std::string ToDecimal(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return neg ? "-" + s : s;
}

// Ceiling of a/b away from zero, for b > 0.
i128 DivUp(i128 a, i128 b) {
  i128 q = a / b;
  if (a % b != 0) q += a > 0 ? 1 : -1;
  return q;
}

int64_t Clamp(i128 v) {
  if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

constexpr i128 kLimit = static_cast<i128>(1) << 120;

}  // namespace

absl::StatusOr<Quantity> Quantity::Parse(std::string_view text) {
  auto bad = [] { return absl::InvalidArgumentError(kQuantityError); };
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) neg = text[i++] == '-';
  // Digits with at most one '.', at least one digit.
  i128 mantissa = 0;
  int frac_digits = 0, digits = 0;
  bool dot = false;
  for (; i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'); ++i) {
    if (text[i] == '.') {
      if (dot) return bad();
      dot = true;
      continue;
    }
    ++digits;
    if (mantissa > kLimit / 10) return absl::InvalidArgumentError("quantity too large");
    mantissa = mantissa * 10 + (text[i] - '0');
    if (dot) ++frac_digits;
  }
  if (digits == 0) return bad();
  std::string_view suffix = text.substr(i);
  Quantity q;
  // Scale the mantissa into nano-units: value = mantissa * 10^-frac * multiplier.
  int exp10 = 9 - frac_digits;  // power of ten applied to mantissa to get nanos
  i128 bin = 1;
  if (suffix.empty()) {
    q.format_ = Format::kDecimalSI;
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    static constexpr std::string_view kBin = "KMGTPE";
    size_t k = kBin.find(suffix[0]);
    if (k == std::string_view::npos) return bad();
    bin = Pow(1024, static_cast<int>(k) + 1);
    q.format_ = Format::kBinarySI;
  } else if (suffix.size() == 1 && std::string_view("numkMGTPE").find(suffix[0]) != std::string_view::npos) {
    static const std::pair<char, int> kDec[] = {{'n', -9}, {'u', -6}, {'m', -3}, {'k', 3},  {'M', 6},
                                                {'G', 9},  {'T', 12}, {'P', 15}, {'E', 18}};
    for (auto [c, e] : kDec) {
      if (c == suffix[0]) exp10 += e;
    }
    q.format_ = Format::kDecimalSI;
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view num = suffix.substr(1);
    bool eneg = false;
    if (!num.empty() && (num[0] == '+' || num[0] == '-')) {
      eneg = num[0] == '-';
      num.remove_prefix(1);
    }
    if (num.empty() || num.size() > 3) return bad();
    int e = 0;
    for (char c : num) {
      if (c < '0' || c > '9') return bad();
      e = e * 10 + (c - '0');
    }
    exp10 += eneg ? -e : e;
    q.format_ = Format::kDecimalExponent;
  } else {
    return bad();
  }
  if (mantissa > kLimit / bin) return absl::InvalidArgumentError("quantity too large");
  i128 v = mantissa * bin;
  if (exp10 >= 0) {
    for (int k = 0; k < exp10; ++k) {
      if (v > kLimit / 10) return absl::InvalidArgumentError("quantity too large");
      v *= 10;
    }
  } else {
    // Below one nano-unit: rounded up, as the API rounds to its smallest scale.
    i128 d = 1;
    for (int k = 0; k < -exp10 && d < kLimit; ++k) d *= 10;
    v = DivUp(v, d);
  }
  q.nano_ = neg ? -v : v;
  return q;
}

Quantity Quantity::FromMilli(int64_t milli, Format format) {
  Quantity q;
  q.nano_ = static_cast<i128>(milli) * 1000000;
  q.format_ = format;
  return q;
}

int64_t Quantity::Value() const { return Clamp(DivUp(nano_, 1000000000)); }
int64_t Quantity::MilliValue() const { return Clamp(DivUp(nano_, 1000000)); }

int Quantity::Cmp(const Quantity& other) const {
  return nano_ < other.nano_ ? -1 : (nano_ > other.nano_ ? 1 : 0);
}

std::string Quantity::String() const {
  if (nano_ == 0) return "0";
  const i128 kNano = 1000000000;
  i128 abs = nano_ < 0 ? -nano_ : nano_;
  std::string sign = nano_ < 0 ? "-" : "";
  if (format_ == Format::kBinarySI && abs % kNano == 0) {
    i128 units = abs / kNano;
    static constexpr const char* kBin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    int k = 0;
    while (k < 6 && units % 1024 == 0) {
      units /= 1024;
      ++k;
    }
    // Below 1Ki a binary quantity prints as plain digits, as the API does.
    return sign + ToDecimal(units) + kBin[k];
  }
  // Largest power of 1000 (from nano up) that divides the value.
  int e = -9;
  i128 units = abs;
  while (e < 18 && units % 1000 == 0) {
    units /= 1000;
    e += 3;
  }
  if (format_ == Format::kDecimalExponent) {
    return sign + ToDecimal(units) + (e == 0 ? "" : absl::StrCat("e", e));
  }
  static const std::pair<int, const char*> kSuffix[] = {{-9, "n"}, {-6, "u"}, {-3, "m"}, {0, ""},
                                                        {3, "k"},  {6, "M"},  {9, "G"},  {12, "T"},
                                                        {15, "P"}, {18, "E"}};
  for (auto [ex, s] : kSuffix) {
    if (ex == e) return sign + ToDecimal(units) + s;
  }
  return sign + ToDecimal(units);
}

}  // namespace berth::k8s
