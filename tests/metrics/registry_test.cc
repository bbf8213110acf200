// The registry's Prometheus text, byte for byte, and the /proc parsers on fixed input.
#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "metrics/process.h"

namespace synod::metrics {
namespace {

TEST(Registry, EmptyRendersNothing) {
  Registry r;
  EXPECT_EQ(r.Render(), "");
}

TEST(Registry, CounterAndGaugeWithoutLabels) {
  Registry r;
  Counter& c = r.AddCounter("synod_puts_total", "Puts applied.").Get();
  Gauge& g = r.AddGauge("synod_queue_depth", "Items queued.").Get();
  c.Inc();
  c.Inc(41);
  g.Set(2.5);
  g.Add(-1);
  EXPECT_EQ(r.Render(),
            "# HELP synod_puts_total Puts applied.\n"
            "# TYPE synod_puts_total counter\n"
            "synod_puts_total 42\n"
            "# HELP synod_queue_depth Items queued.\n"
            "# TYPE synod_queue_depth gauge\n"
            "synod_queue_depth 1.5\n");
}

TEST(Registry, FamiliesSortedByNameAndSeriesByLabelValues) {
  Registry r;
  auto& f = r.AddCounter("rpc_total", "RPCs.", {"method", "code"});
  f.With({"Range", "OK"}).Inc(3);
  f.With({"Put", "Unavailable"}).Inc();
  f.With({"Put", "OK"}).Inc(2);
  r.AddGauge("a_first", "Comes first.").Get().Set(-7);
  EXPECT_EQ(r.Render(),
            "# HELP a_first Comes first.\n"
            "# TYPE a_first gauge\n"
            "a_first -7\n"
            "# HELP rpc_total RPCs.\n"
            "# TYPE rpc_total counter\n"
            "rpc_total{method=\"Put\",code=\"OK\"} 2\n"
            "rpc_total{method=\"Put\",code=\"Unavailable\"} 1\n"
            "rpc_total{method=\"Range\",code=\"OK\"} 3\n");
}

TEST(Registry, EscapesLabelValuesAndHelp) {
  Registry r2;
  r2.AddGauge("g", "line one\nback\\slash \"quotes\" stay", {"path"}).With({"a\\b\"c\nd"}).Set(1);
  EXPECT_EQ(r2.Render(),
            "# HELP g line one\\nback\\\\slash \"quotes\" stay\n"
            "# TYPE g gauge\n"
            "g{path=\"a\\\\b\\\"c\\nd\"} 1\n");
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeHelp("a\"b"), "a\"b");
}

TEST(Registry, HistogramBucketsAreCumulativeAndInclusive) {
  Registry r;
  Histogram& h = r.AddHistogram("lat_seconds", "Latency.", {0.1, 0.5, 1}).Get();
  h.Observe(0.05);
  h.Observe(0.1);  // on a bound: counted in that bucket (le is "less or equal")
  h.Observe(0.3);
  h.Observe(2);
  EXPECT_EQ(r.Render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"0.1\"} 2\n"
            "lat_seconds_bucket{le=\"0.5\"} 3\n"
            "lat_seconds_bucket{le=\"1\"} 3\n"
            "lat_seconds_bucket{le=\"+Inf\"} 4\n"
            "lat_seconds_sum 2.45\n"
            "lat_seconds_count 4\n");
}

TEST(Registry, HistogramWithLabelsPutsLeLast) {
  Registry r;
  auto& f = r.AddHistogram("h", "H.", {1}, {"method"});
  f.With({"Put"}).Observe(0.5);
  EXPECT_EQ(r.Render(),
            "# HELP h H.\n"
            "# TYPE h histogram\n"
            "h_bucket{method=\"Put\",le=\"1\"} 1\n"
            "h_bucket{method=\"Put\",le=\"+Inf\"} 1\n"
            "h_sum{method=\"Put\"} 0.5\n"
            "h_count{method=\"Put\"} 1\n");
}

TEST(Registry, CallbacksAreReadAtRender) {
  Registry r;
  double v = 1;
  r.AddGaugeCallback("cb", "Read at scrape.", [&v] { return v; }, {{"kind", "x"}});
  r.AddGaugeCallback("cb", "Read at scrape.", [] { return 0.25; }, {{"kind", "y"}});
  r.AddCounterCallback("cpu_seconds_total", "CPU.", [] { return 12.5; });
  v = 3;
  EXPECT_EQ(r.Render(),
            "# HELP cb Read at scrape.\n"
            "# TYPE cb gauge\n"
            "cb{kind=\"x\"} 3\n"
            "cb{kind=\"y\"} 0.25\n"
            "# HELP cpu_seconds_total CPU.\n"
            "# TYPE cpu_seconds_total counter\n"
            "cpu_seconds_total 12.5\n");
}

TEST(Registry, AddingTheSameFamilyTwiceReturnsIt) {
  Registry r;
  Counter& a = r.AddCounter("c_total", "C.", {"x"}).With({"1"});
  Counter& b = r.AddCounter("c_total", "C.", {"x"}).With({"1"});
  EXPECT_EQ(&a, &b);
}

TEST(Registry, MisuseIsABug) {
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("bad name", "Spaces are not allowed.");
      },
      "metric name");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("c", "C.");
        r.AddGauge("c", "Now a gauge.");
      },
      "another type");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("c", "C.", {"a", "b"}).With({"only one"});
      },
      "one value per label name");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddHistogram("h", "H.", {1, 1});
      },
      "strictly increase");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddGauge("g", "G.", {"le"});
      },
      "reserved");
}

TEST(Registry, FormatValue) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(-0.001), "-0.001");
  EXPECT_EQ(FormatValue(1e21), "1e+21");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatValue(0.1 + 0.2), "0.30000000000000004");  // round-trips exactly
}

TEST(Registry, ExponentialBuckets) {
  EXPECT_EQ(ExponentialBuckets(0.001, 2, 4), (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
}

TEST(Registry, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  auto& counters = r.AddCounter("n_total", "N.", {"t"});
  Histogram& h = r.AddHistogram("h", "H.", {0.5}).Get();
  constexpr int kThreads = 4;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        counters.With({std::to_string(t % 2)}).Inc();
        h.Observe(i % 2 == 0 ? 0.25 : 1.0);
        if (i % 5000 == 0) (void)r.Render();  // scrapes race with updates
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counters.With({"0"}).value() + counters.With({"1"}).value(),
            uint64_t{kThreads * kEach});
  const Histogram::Reading reading = h.Read();
  EXPECT_EQ(reading.count(), uint64_t{kThreads * kEach});
  EXPECT_EQ(reading.cumulative[0], uint64_t{kThreads * kEach / 2});
  EXPECT_DOUBLE_EQ(reading.sum, kThreads * (kEach / 2 * 0.25 + kEach / 2 * 1.0));
}

TEST(Process, ParsesStatm) {
  EXPECT_EQ(ParseStatmVirtualPages("12345 678 90 1 0 2 0\n"), 12345u);
  EXPECT_EQ(ParseStatmResidentPages("12345 678 90 1 0 2 0\n"), 678u);
  EXPECT_EQ(ParseStatmResidentPages("12345"), std::nullopt);
  EXPECT_EQ(ParseStatmResidentPages(""), std::nullopt);
}

TEST(Process, ParsesStatWhoseCommandHasSpacesAndParens) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
  // stime cutime cstime priority nice threads itrealvalue starttime ...
  const std::string stat =
      "4242 (syn od) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 "
      "123400 1000000 500 18446744073709551615\n";
  const auto s = ParseProcStat(stat, 100);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(s->start_after_boot_seconds, 1234.0);
  EXPECT_EQ(ParseProcStat("4242 (x) S 1 2", 100), std::nullopt);
  EXPECT_EQ(ParseProcStat("no paren", 100), std::nullopt);
}

TEST(Process, ParsesBootTime) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"), 1700000000u);
  EXPECT_EQ(ParseBootTime("cpu 1\n"), std::nullopt);
}

TEST(Process, RealProcessFiguresArePlausible) {
  Registry r;
  AddProcessMetrics(&r);
  const std::string text = r.Render();
  auto value_of = [&](const std::string& name) {
    const size_t at = text.find("\n" + name + " ");
    EXPECT_NE(at, std::string::npos) << name;
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 2));
  };
  EXPECT_GT(value_of("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(value_of("process_virtual_memory_bytes"), value_of("process_resident_memory_bytes"));
  EXPECT_GE(value_of("process_cpu_seconds_total"), 0);
  EXPECT_GE(value_of("process_open_fds"), 3);  // stdin, stdout, stderr at least
  EXPECT_GT(value_of("process_max_fds"), value_of("process_open_fds"));
  EXPECT_GT(value_of("process_start_time_seconds"), 1.5e9);
}

}  // namespace
}  // namespace synod::metrics
