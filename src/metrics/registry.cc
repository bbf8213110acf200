#include "metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <variant>

namespace synod::metrics {
namespace {

bool ValidName(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  SYNOD_UNREACHABLE("metric type");
}

struct CallbackSeries {
  Labels labels;
  std::function<double()> read;
};

// `name{l1="v1",l2="v2",extra="x"} value\n`; no braces without labels.
void AppendSample(std::string* out, std::string_view name, const Labels& labels,
                  const std::pair<std::string, std::string>* extra, std::string_view value) {
  out->append(name);
  if (!labels.empty() || extra != nullptr) {
    out->push_back('{');
    bool first = true;
    auto append_label = [&](const std::pair<std::string, std::string>& l) {
      if (!first) out->push_back(',');
      first = false;
      out->append(l.first).append("=\"").append(EscapeLabelValue(l.second)).push_back('"');
    };
    for (const auto& l : labels) append_label(l);
    if (extra != nullptr) append_label(*extra);
    out->push_back('}');
  }
  out->push_back(' ');
  out->append(value).push_back('\n');
}

Labels Zip(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  Labels labels;
  for (size_t i = 0; i < names.size(); ++i) labels.emplace_back(names[i], values[i]);
  return labels;
}

}  // namespace

class Registry::Entry {
 public:
  using Series = std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
                              std::unique_ptr<Family<Histogram>>, std::vector<CallbackSeries>>;
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms
  Series series;

  void Render(std::string* out) const;
};

void Registry::Entry::Render(std::string* out) const {
  out->append("# HELP ").append(name).append(" ").append(EscapeHelp(help)).push_back('\n');
  out->append("# TYPE ").append(name).append(" ").append(TypeName(type)).push_back('\n');
  if (const auto* f = std::get_if<std::unique_ptr<Family<Counter>>>(&series)) {
    (*f)->ForEach([&](const std::vector<std::string>& values, const Counter& c) {
      AppendSample(out, name, Zip(label_names, values), nullptr, std::to_string(c.value()));
    });
  } else if (const auto* g = std::get_if<std::unique_ptr<Family<Gauge>>>(&series)) {
    (*g)->ForEach([&](const std::vector<std::string>& values, const Gauge& v) {
      AppendSample(out, name, Zip(label_names, values), nullptr, FormatValue(v.value()));
    });
  } else if (const auto* h = std::get_if<std::unique_ptr<Family<Histogram>>>(&series)) {
    (*h)->ForEach([&](const std::vector<std::string>& values, const Histogram& hist) {
      const Labels labels = Zip(label_names, values);
      const Histogram::Reading r = hist.Read();
      const std::string bucket = name + "_bucket";
      for (size_t i = 0; i < r.cumulative.size(); ++i) {
        const std::pair<std::string, std::string> le{
            "le", i < bounds.size() ? FormatValue(bounds[i]) : "+Inf"};
        AppendSample(out, bucket, labels, &le, std::to_string(r.cumulative[i]));
      }
      AppendSample(out, name + "_sum", labels, nullptr, FormatValue(r.sum));
      AppendSample(out, name + "_count", labels, nullptr, std::to_string(r.count()));
    });
  } else {
    for (const CallbackSeries& c : std::get<std::vector<CallbackSeries>>(series)) {
      AppendSample(out, name, c.labels, nullptr, FormatValue(c.read()));
    }
  }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    SYNOD_ASSERT(std::isfinite(bounds_[i]), "bucket bounds are finite (+Inf is implicit)");
    SYNOD_ASSERT(i == 0 || bounds_[i - 1] < bounds_[i], "bucket bounds strictly increase");
  }
}

void Histogram::Observe(double v) {
  // Buckets are inclusive upper bounds: v lands in the first bucket whose bound is >= v.
  const size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Reading Histogram::Read() const {
  Reading r;
  r.cumulative.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    r.cumulative[i] = total;
  }
  r.sum = sum_.load(std::memory_order_relaxed);
  return r;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  SYNOD_ASSERT(start > 0 && factor > 1 && count > 0, "exponential buckets grow from > 0");
  std::vector<double> bounds;
  double b = start;
  for (int i = 0; i < count; ++i, b *= factor) bounds.push_back(b);
  return bounds;
}

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Entry& Registry::Add(const std::string& name, const std::string& help, MetricType type,
                               const std::vector<std::string>& label_names) {
  SYNOD_ASSERT(ValidName(name, /*colon_allowed=*/true),
               "metric name outside [a-zA-Z_:][a-zA-Z0-9_:]*");
  for (const std::string& l : label_names) {
    SYNOD_ASSERT(ValidName(l, /*colon_allowed=*/false) && !l.starts_with("__") && l != "le",
                 "label name outside [a-zA-Z_][a-zA-Z0-9_]*, or reserved");
  }
  std::unique_ptr<Entry>& e = entries_[name];
  if (e == nullptr) {
    e = std::make_unique<Entry>();
    e->name = name;
    e->help = help;
    e->type = type;
    e->label_names = label_names;
  }
  SYNOD_ASSERT(e->type == type && e->label_names == label_names,
               "a metric name added twice with another type or other labels");
  return *e;
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = Add(name, help, MetricType::kCounter, label_names);
  if (e.series.index() == 0 && std::get<0>(e.series) == nullptr) {
    std::get<0>(e.series).reset(
        new Family<Counter>(std::move(label_names), [] { return std::make_unique<Counter>(); }));
  }
  auto* f = std::get_if<std::unique_ptr<Family<Counter>>>(&e.series);
  SYNOD_ASSERT(f != nullptr, "a counter name already used by a callback");
  return **f;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = Add(name, help, MetricType::kGauge, label_names);
  if (e.series.index() == 0) {
    SYNOD_ASSERT(std::get<0>(e.series) == nullptr, "fresh entry");
    e.series = std::unique_ptr<Family<Gauge>>(
        new Family<Gauge>(std::move(label_names), [] { return std::make_unique<Gauge>(); }));
  }
  auto* f = std::get_if<std::unique_ptr<Family<Gauge>>>(&e.series);
  SYNOD_ASSERT(f != nullptr, "a gauge name already used by a callback");
  return **f;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<double> bounds,
                                          std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = Add(name, help, MetricType::kHistogram, label_names);
  if (e.series.index() == 0) {
    SYNOD_ASSERT(std::get<0>(e.series) == nullptr, "fresh entry");
    e.bounds = bounds;
    // Checks the bounds now rather than at the first series.
    (void)Histogram(bounds);
    e.series = std::unique_ptr<Family<Histogram>>(new Family<Histogram>(
        std::move(label_names), [bounds] { return std::make_unique<Histogram>(bounds); }));
  }
  SYNOD_ASSERT(e.bounds == bounds, "a histogram added twice with other buckets");
  return *std::get<std::unique_ptr<Family<Histogram>>>(e.series);
}

void Registry::AddGaugeCallback(const std::string& name, const std::string& help,
                                std::function<double()> read, Labels labels) {
  std::vector<std::string> names;
  for (const auto& l : labels) names.push_back(l.first);
  std::lock_guard lock(mu_);
  Entry& e = Add(name, help, MetricType::kGauge, names);
  if (e.series.index() == 0) {
    SYNOD_ASSERT(std::get<0>(e.series) == nullptr, "fresh entry");
    e.series = std::vector<CallbackSeries>();
  }
  auto* v = std::get_if<std::vector<CallbackSeries>>(&e.series);
  SYNOD_ASSERT(v != nullptr, "a callback name already used by a gauge");
  v->push_back(CallbackSeries{std::move(labels), std::move(read)});
}

void Registry::AddCounterCallback(const std::string& name, const std::string& help,
                                  std::function<double()> read, Labels labels) {
  std::vector<std::string> names;
  for (const auto& l : labels) names.push_back(l.first);
  std::lock_guard lock(mu_);
  Entry& e = Add(name, help, MetricType::kCounter, names);
  if (e.series.index() == 0 && std::get<0>(e.series) == nullptr) {
    e.series = std::vector<CallbackSeries>();
  }
  auto* v = std::get_if<std::vector<CallbackSeries>>(&e.series);
  SYNOD_ASSERT(v != nullptr, "a callback name already used by a counter");
  v->push_back(CallbackSeries{std::move(labels), std::move(read)});
}

std::string Registry::Render() const {
  // Under the lock: callback lists grow in place. Registration is rare and updates of existing
  // series never take this lock, so a scrape delays only the creation of new families.
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, e] : entries_) e->Render(&out);
  return out;
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  SYNOD_ASSERT(r.ec == std::errc(), "a double fits in 32 characters");
  return std::string(buf, r.ptr);
}

}  // namespace synod::metrics
