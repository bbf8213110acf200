#include "report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace synod::bench {
namespace {

struct Quantile {
  const char* text;  // as printed
  const char* json;  // JSON key
  double p;
};
constexpr Quantile kQuantiles[] = {
    {"p50", "p50", 50}, {"p90", "p90", 90}, {"p99", "p99", 99}, {"p99.9", "p99_9", 99.9}};

double Ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

std::string Format(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a);
  return buf;
}

double Throughput(const RunResult& r) {
  return r.elapsed_s > 0 ? static_cast<double>(r.ok) / r.elapsed_s : 0.0;
}

// The next 1-2-5 boundary above `ns` (1 us, 2 us, 5 us, 10 us, ...): bins people read at a
// glance. A fine bucket goes to the bin holding its lower bound, so a bin's edge is blurred by
// at most one fine bucket (0.79%).
uint64_t NextBinEdge(uint64_t ns) {
  uint64_t decade = 1000;
  while (true) {
    for (uint64_t m : {1, 2, 5}) {
      if (m * decade > ns) return m * decade;
    }
    if (decade > UINT64_MAX / 100) return UINT64_MAX;
    decade *= 10;
  }
}

std::string TextHistogram(const LatencyHistogram& h) {
  if (h.count() == 0) return "";
  std::string out = "latency histogram (ms):\n";
  size_t i = LatencyHistogram::BucketIndex(h.min());
  uint64_t lower = 0;
  uint64_t cumulative = 0;
  while (cumulative < h.count() && i < LatencyHistogram::kBucketCount) {
    const uint64_t edge = NextBinEdge(LatencyHistogram::BucketLower(i));
    uint64_t in_bin = 0;
    for (; i < LatencyHistogram::kBucketCount && LatencyHistogram::BucketLower(i) < edge; ++i) {
      in_bin += h.bucket_count(i);
    }
    cumulative += in_bin;
    if (in_bin > 0) {
      const double share = static_cast<double>(in_bin) / static_cast<double>(h.count());
      char line[200];
      std::snprintf(line, sizeof line, "  %9.3f - %9.3f  %-40s %10llu  %5.1f%%  (%.1f%%)\n",
                    Ms(lower), Ms(edge),
                    std::string(static_cast<size_t>(share * 40 + 0.5), '#').c_str(),
                    static_cast<unsigned long long>(in_bin), share * 100,
                    100.0 * static_cast<double>(cumulative) / static_cast<double>(h.count()));
      out += line;
    }
    lower = edge;
  }
  return out;
}

}  // namespace

std::string GrpcCodeName(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(std::size(kNames))) return kNames[code];
  return "CODE_" + std::to_string(code);
}

std::string TextReport(const BenchOptions& o, const RunResult& r) {
  std::string targets;
  for (const auto& t : r.targets) targets += (targets.empty() ? "" : ",") + t;
  char head[512];
  std::snprintf(head, sizeof head,
                "synod-bench %s%s: %u conns x %u clients -> %s (target %s)\n"
                "  keys %u B (space %llu, %s), values %u B\n",
                WorkloadName(o.workload),
                o.workload == Workload::kRange
                    ? (o.serializable ? " (serializable)" : " (linearizable)")
                    : "",
                o.conns, o.clients, targets.c_str(), TargetName(o.target), o.key_size,
                static_cast<unsigned long long>(o.key_space), KeyDistName(o.key_dist), o.val_size);
  std::string out = head;
  out += "requests:   " + std::to_string(r.ok) + " ok, " + std::to_string(r.errors) +
         " errors in " + Format("%.3f", r.elapsed_s) + " s\n";
  out += "throughput: " + Format("%.1f", Throughput(r)) + " req/s\n";
  const LatencyHistogram& h = r.latency_ns;
  out += "latency:   ";
  for (const Quantile& q : kQuantiles) {
    out += std::string(" ") + q.text + " " + Format("%.3f", Ms(h.Percentile(q.p))) + " ms,";
  }
  out += " max " + Format("%.3f", Ms(h.max())) + " ms, mean " + Format("%.3f", h.Mean() / 1e6) +
         " ms\n";
  if (r.errors_by_code.empty()) {
    out += "errors by gRPC code: none\n";
  } else {
    out += "errors by gRPC code:\n";
    for (const auto& [code, n] : r.errors_by_code) {
      out += "  " + GrpcCodeName(code) + " " + std::to_string(n) + " (first: \"" +
             r.error_examples.at(code) + "\")\n";
    }
  }
  return out + TextHistogram(h);
}

std::string JsonReport(const BenchOptions& o, const RunResult& r) {
  nlohmann::json j;
  j["workload"] = WorkloadName(o.workload);
  nlohmann::json opts;
  opts["conns"] = o.conns;
  opts["clients"] = o.clients;
  opts["total"] = o.total;
  opts["duration_s"] = o.duration_s;
  opts["key_size"] = o.key_size;
  opts["val_size"] = o.val_size;
  opts["key_space"] = o.key_space;
  opts["key_dist"] = KeyDistName(o.key_dist);
  if (o.key_dist == KeyDist::kZipfian) opts["zipf_exponent"] = o.zipf_exponent;
  opts["consistency"] = o.serializable ? "s" : "l";
  opts["target"] = TargetName(o.target);
  opts["timeout_s"] = o.timeout_s;
  opts["seed"] = o.seed;
  j["options"] = opts;
  j["targets"] = r.targets;
  if (!r.leader.empty()) j["leader"] = r.leader;
  j["elapsed_s"] = r.elapsed_s;
  j["requests"] = {{"ok", r.ok}, {"errors", r.errors}, {"total", r.ok + r.errors}};
  j["throughput_rps"] = Throughput(r);
  nlohmann::json errors = nlohmann::json::object();
  nlohmann::json examples = nlohmann::json::object();
  for (const auto& [code, n] : r.errors_by_code) {
    errors[GrpcCodeName(code)] = n;
    examples[GrpcCodeName(code)] = r.error_examples.at(code);
  }
  j["errors_by_code"] = errors;
  j["error_examples"] = examples;
  const LatencyHistogram& h = r.latency_ns;
  nlohmann::json latency;
  for (const Quantile& q : kQuantiles) latency[q.json] = Ms(h.Percentile(q.p));
  latency["max"] = Ms(h.max());
  latency["min"] = Ms(h.min());
  latency["mean"] = h.Mean() / 1e6;
  latency["count"] = h.count();
  j["latency_ms"] = latency;
  nlohmann::json buckets = nlohmann::json::array();
  for (size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    if (h.bucket_count(i) == 0) continue;
    buckets.push_back(
        {LatencyHistogram::BucketLower(i), LatencyHistogram::BucketUpper(i), h.bucket_count(i)});
  }
  j["histogram"] = {{"unit", "ns"},
                    {"relative_error_max", LatencyHistogram::kRelativeErrorMax},
                    {"buckets_lower_upper_count", buckets}};
  return j.dump(2) + "\n";
}

std::string ProgressLine(const Progress& now, const Progress& before) {
  const double dt = now.elapsed_s - before.elapsed_s;
  const double rate = dt > 0 ? static_cast<double>(now.ok - before.ok) / dt : 0.0;
  char line[160];
  std::snprintf(line, sizeof line, "synod-bench: %.0f s, %llu ok, %llu errors, %.0f req/s now",
                now.elapsed_s, static_cast<unsigned long long>(now.ok),
                static_cast<unsigned long long>(now.errors), rate);
  return line;
}

}  // namespace synod::bench
