// A small Prometheus registry: counters, gauges and histograms, each a family
// with fixed label names, rendered in the text exposition format 0.0.4.
// Thread-safe; an update is an atomic add (no lock), looking up a labelled
// child takes the family's lock (callers on hot paths keep the reference:
// children live as long as the registry).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace berth::agent::metrics {

class Counter {
 public:
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  // For counters mirrored from elsewhere (a process's CPU time) by a collector.
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending (+Inf is implied).
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts, one per bound then +Inf (== count()).
  std::vector<uint64_t> CumulativeCounts() const;
  uint64_t Count() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 (the +Inf bucket)
  std::atomic<double> sum_{0};
};

// The prometheus client's default buckets (.005 .. 10 seconds).
std::vector<double> DefaultBuckets();
// start, start*factor, ... (count bounds).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// A metric name with its help text, type and label names; children by label values.
class Family {
 public:
  virtual ~Family() = default;
  const std::string& name() const { return name_; }
  virtual void Render(std::string* out) const = 0;

 protected:
  Family(std::string name, std::string help, std::string type, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), type_(std::move(type)), label_names_(std::move(label_names)) {}
  void RenderHeader(std::string* out) const;
  // `{a="x",b="y"}` for these values (plus `extra` such as le="0.5"), "" when empty.
  std::string LabelText(const std::vector<std::string>& values, std::string_view extra = "") const;

  std::string name_, help_, type_;
  std::vector<std::string> label_names_;
};

template <typename T>
class MetricFamily : public Family {
 public:
  MetricFamily(std::string name, std::string help, std::string type, std::vector<std::string> label_names,
               std::function<std::unique_ptr<T>()> make)
      : Family(std::move(name), std::move(help), std::move(type), std::move(label_names)), make_(std::move(make)) {}

  // The child for these label values (one per label name, in order), made on first use.
  T& WithLabels(const std::vector<std::string>& values) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& child = children_[values];
    if (!child) child = make_();
    return *child;
  }
  T& Get() { return WithLabels({}); }
  void Render(std::string* out) const override;

 private:
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

template <>
void MetricFamily<Counter>::Render(std::string* out) const;
template <>
void MetricFamily<Gauge>::Render(std::string* out) const;
template <>
void MetricFamily<Histogram>::Render(std::string* out) const;

class Registry {
 public:
  // Names must be unique; a second Add* of a name returns the first family.
  MetricFamily<Counter>& AddCounter(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names = {});
  MetricFamily<Gauge>& AddGauge(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names = {});
  MetricFamily<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names, std::vector<double> bounds);
  // Runs before each Render (gauges read from elsewhere at scrape time).
  void AddCollector(std::function<void()> collect);

  // Every family, sorted by name, in the text format (version 0.0.4).
  std::string Render() const;

 private:
  template <typename T>
  MetricFamily<T>& Add(const std::string& name, const std::string& help, const std::string& type,
                       std::vector<std::string> label_names, std::function<std::unique_ptr<T>()> make);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
  std::vector<std::function<void()>> collectors_;
};

inline constexpr char kTextContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Values as the Go client writes them (strconv 'g', shortest): 1, 0.005, 1e-05, 1e+06, +Inf, NaN.
std::string FormatValue(double v);
// Label values: backslash, double quote and newline escaped.
std::string EscapeLabelValue(std::string_view v);
// HELP text: backslash and newline escaped.
std::string EscapeHelp(std::string_view v);

}  // namespace berth::agent::metrics
