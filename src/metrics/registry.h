// Metrics: counters, gauges and fixed-bucket histograms in a Registry that renders them in the
// Prometheus text exposition format (version 0.0.4). Standard library only, so any layer may
// count things; the HTTP endpoint that serves Render() lives in src/api/.
//
//   Registry r;
//   Counter& puts = r.AddCounter("synod_puts_total", "Puts applied").Get();
//   puts.Inc();                                            // lock-free
//   auto& handled = r.AddCounter("rpc_total", "RPCs", {"method", "code"});
//   handled.With({"Put", "OK"}).Inc();                      // one short lock to find the series
//   r.AddGaugeCallback("synod_db_bytes", "Store size", [&] { return store.bytes(); });
//   std::string text = r.Render();
//
// Thread safety: every method is thread-safe. Updating a metric (Inc, Set, Observe) is a few
// relaxed atomic operations; finding a labelled series takes its family's mutex once (callers
// on hot paths keep the reference: series live as long as the registry). Callbacks run on the
// thread that calls Render(), under the registry's lock: they must be thread-safe, short, and
// must not call the registry.
//
// Consistency: a scrape is not a snapshot; each value is read once, and a histogram's _count
// is the sum of the bucket counts it rendered, so _count always equals the +Inf bucket.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/assert.h"

namespace synod::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// Label name -> value pairs, in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds (inclusive), strictly increasing and finite; the +Inf
  // bucket is implicit.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  struct Reading {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count() const { return cumulative.back(); }
  };
  Reading Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

// Buckets: `count` bounds from `start`, each `factor` times the previous.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// The series of one metric name, one per combination of label values.
template <typename M>
class Family {
 public:
  // The series with these label values (in the order of the family's label names), created on
  // first use. REQUIRES: as many values as label names.
  M& With(const std::vector<std::string>& values);
  // The only series of a family without labels.
  M& Get() { return With({}); }
  // Calls visit(label values, series) for every series, in label-value order, under the
  // family's lock (series created meanwhile wait).
  template <typename Visit>
  void ForEach(Visit visit) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, series] : series_) visit(values, *series);
  }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  friend class Registry;
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<M>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<M>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> series_;  // guarded by mu_
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Adding a name twice returns the first family when type, labels (and bounds) agree; any
  // other clash, or a name or label name outside Prometheus's alphabet, is a bug (assertion).
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<double> bounds,
                                  std::vector<std::string> label_names = {});

  // A series whose value is read by `read` at each Render (process figures, state owned by
  // another thread). Several calls with one name add series with different `labels`.
  void AddGaugeCallback(const std::string& name, const std::string& help,
                        std::function<double()> read, Labels labels = {});
  // The same for a value that only grows (process_cpu_seconds_total).
  void AddCounterCallback(const std::string& name, const std::string& help,
                          std::function<double()> read, Labels labels = {});

  // Every family, sorted by name; series sorted by label values.
  std::string Render() const;

  class Entry;

 private:
  Entry& Add(const std::string& name, const std::string& help, MetricType type,
             const std::vector<std::string>& label_names);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;  // guarded by mu_; never erased
};

// The Prometheus text format's escapes: a label value escapes \ " and newline; help text
// escapes \ and newline.
std::string EscapeLabelValue(std::string_view v);
std::string EscapeHelp(std::string_view v);
// A sample value as Prometheus reads it: shortest round-trip form, +Inf, -Inf, NaN.
std::string FormatValue(double v);

template <typename M>
M& Family<M>::With(const std::vector<std::string>& values) {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    SYNOD_ASSERT(values.size() == label_names_.size(), "one value per label name");
    it = series_.emplace(values, make_()).first;
  }
  return *it->second;
}

}  // namespace synod::metrics
