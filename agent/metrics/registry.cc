#include "agent/metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace berth::agent::metrics {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // The shortest digits that round-trip, then Go's %g choice: scientific when
  // the decimal exponent is < -4 or >= 6 (strconv's rule for shortest 'g').
  auto sci = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view text(buf, sci.ptr - buf);
  size_t e = text.find('e');
  int exponent = std::atoi(std::string(text.substr(e + 1)).c_str());
  if (exponent < -4 || exponent >= 6) return std::string(text);
  auto fixed = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr - buf);
}

namespace {

// Backslash and newline escaped, and the double quote when `quote`.
std::string Escape(std::string_view v, bool quote) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || (quote && c == '"')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) { return Escape(v, true); }

std::string EscapeHelp(std::string_view v) { return Escape(v, false); }

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  if (!bounds_.empty() && std::isinf(bounds_.back())) bounds_.pop_back();  // +Inf is always there
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  // The first bucket whose upper bound is >= v (le is inclusive).
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

uint64_t Histogram::Count() const { return CumulativeCounts().back(); }

std::vector<double> DefaultBuckets() { return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}; }

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i) {
    out.push_back(start);
    start *= factor;
  }
  return out;
}

void Family::RenderHeader(std::string* out) const {
  absl::StrAppend(out, "# HELP ", name_, " ", EscapeHelp(help_), "\n# TYPE ", name_, " ", type_, "\n");
}

std::string Family::LabelText(const std::vector<std::string>& values, std::string_view extra) const {
  if (values.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < values.size() && i < label_names_.size(); ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, label_names_[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  if (!extra.empty()) {
    if (!values.empty()) out += ",";
    out += extra;
  }
  out += "}";
  return out;
}

template <>
void MetricFamily<Counter>::Render(std::string* out) const {
  RenderHeader(out);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, c] : children_) {
    absl::StrAppend(out, name_, LabelText(values), " ", FormatValue(c->Value()), "\n");
  }
}

template <>
void MetricFamily<Gauge>::Render(std::string* out) const {
  RenderHeader(out);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, g] : children_) {
    absl::StrAppend(out, name_, LabelText(values), " ", FormatValue(g->Value()), "\n");
  }
}

template <>
void MetricFamily<Histogram>::Render(std::string* out) const {
  RenderHeader(out);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, h] : children_) {
    std::vector<uint64_t> counts = h->CumulativeCounts();
    const auto& bounds = h->bounds();
    for (size_t i = 0; i <= bounds.size(); ++i) {
      std::string le = absl::StrCat("le=\"", i < bounds.size() ? FormatValue(bounds[i]) : "+Inf", "\"");
      absl::StrAppend(out, name_, "_bucket", LabelText(values, le), " ", counts[i], "\n");
    }
    absl::StrAppend(out, name_, "_sum", LabelText(values), " ", FormatValue(h->Sum()), "\n");
    absl::StrAppend(out, name_, "_count", LabelText(values), " ", counts.back(), "\n");
  }
}

template <typename T>
MetricFamily<T>& Registry::Add(const std::string& name, const std::string& help, const std::string& type,
                               std::vector<std::string> label_names, std::function<std::unique_ptr<T>()> make) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& family = families_[name];
  if (!family) {
    family = std::make_unique<MetricFamily<T>>(name, help, type, std::move(label_names), std::move(make));
  }
  return static_cast<MetricFamily<T>&>(*family);
}

MetricFamily<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                            std::vector<std::string> label_names) {
  return Add<Counter>(name, help, "counter", std::move(label_names), [] { return std::make_unique<Counter>(); });
}

MetricFamily<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names) {
  return Add<Gauge>(name, help, "gauge", std::move(label_names), [] { return std::make_unique<Gauge>(); });
}

MetricFamily<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                                std::vector<std::string> label_names, std::vector<double> bounds) {
  return Add<Histogram>(name, help, "histogram", std::move(label_names),
                        [bounds] { return std::make_unique<Histogram>(bounds); });
}

void Registry::AddCollector(std::function<void()> collect) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::Render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, family] : families_) family->Render(&out);
  return out;
}

}  // namespace berth::agent::metrics
