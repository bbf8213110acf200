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

std::string LatencyLine(const LatencyHistogram& h) {
  std::string out;
  for (const Quantile& q : kQuantiles) {
    out += std::string(" ") + q.text + " " + Format("%.3f", Ms(h.Percentile(q.p))) + " ms,";
  }
  return out + " max " + Format("%.3f", Ms(h.max())) + " ms, mean " +
         Format("%.3f", h.Mean() / 1e6) + " ms\n";
}

nlohmann::json LatencyJson(const LatencyHistogram& h) {
  nlohmann::json latency;
  for (const Quantile& q : kQuantiles) latency[q.json] = Ms(h.Percentile(q.p));
  latency["max"] = Ms(h.max());
  latency["min"] = Ms(h.min());
  latency["mean"] = h.Mean() / 1e6;
  latency["count"] = h.count();
  return latency;
}

// Puts sent per second of sending: below --rate when the writer could not keep up (too many
// puts unanswered, or this process short of CPU).
double PutRate(const WatchStats& w) {
  const uint64_t puts = w.puts_ok + w.puts_failed;
  return puts > 1 && w.put_send_s > 0 ? static_cast<double>(puts - 1) / w.put_send_s : 0;
}

std::string U(uint64_t n) {
  return std::to_string(n);
}

// The head and counts of a watch run: the writer, the puts, the events and their problems.
std::string WatchText(const BenchOptions& o, const RunResult& r, const std::string& targets) {
  const WatchStats& w = *r.watch;
  char head[512];
  std::snprintf(head, sizeof head,
                "synod-bench watch: %u watchers on \"%s\" over %u streams (one per conn) -> %s "
                "(target %s)\n  writer: %.1f puts/s asked, keys %u B (space %llu), values %u B\n",
                o.watchers, o.watch_prefix.c_str(), o.conns, targets.c_str(), TargetName(o.target),
                o.rate, o.key_size, static_cast<unsigned long long>(o.key_space),
                std::max<uint32_t>(o.val_size, 32));
  std::string out = head;
  out += "puts:       " + U(w.puts_ok) + " ok, " + U(w.puts_failed) + " errors, sent in " +
         Format("%.3f", w.put_send_s) + " s (" + Format("%.1f", PutRate(w)) +
         " puts/s achieved); put latency p50 " +
         Format("%.3f", Ms(w.put_latency_ns.Percentile(50))) + " ms, p99 " +
         Format("%.3f", Ms(w.put_latency_ns.Percentile(99))) + " ms\n";
  out += "events:     " + U(r.ok) + " delivered of " + U(w.events_expected) + " expected (" +
         U(w.watchers_created) + " watchers x " + U(w.puts_ok) + " puts) in " +
         Format("%.3f", r.elapsed_s) + " s" + (w.drained ? "" : ", NOT ALL ARRIVED") + "\n";
  out += "throughput: " + Format("%.1f", Throughput(r)) + " events/s\n";
  out += "delivery latency:" + LatencyLine(r.latency_ns);
  if (w.problems() == 0) {
    out += "watch errors: none (every watcher saw every put once, in revision order)\n";
  } else {
    out += "watch errors: " + U(w.missed) + " missed (by " + U(w.watchers_missing_events) +
           " watchers), " + U(w.duplicated) + " duplicated, " + U(w.out_of_order) +
           " out of revision order, " + U(w.canceled) + " watches canceled\n";
  }
  if (w.unacked_events + w.stray_events > 0) {
    out += "also seen:  " + U(w.unacked_events) + " events of puts that failed, " +
           U(w.stray_events) + " events not written by this run\n";
  }
  return out;
}

// The head and counts of the closed-loop workloads.
std::string TextHead(const BenchOptions& o, const RunResult& r, const std::string& targets) {
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
  if (o.workload == Workload::kLease) {
    out += "  one request: grant (TTL " + std::to_string(o.lease_ttl_s) +
           " s), one keep-alive on the client's stream, revoke\n";
  }
  out += "requests:   " + std::to_string(r.ok) + " ok, " + std::to_string(r.errors) +
         " errors in " + Format("%.3f", r.elapsed_s) + " s\n";
  out += "throughput: " + Format("%.1f", Throughput(r)) + " req/s\n";
  out += "latency:   " + LatencyLine(r.latency_ns);
  if (o.workload == Workload::kLease) {
    for (int i = 0; i < kLeaseStepCount; ++i) {
      const LatencyHistogram& h = r.lease_step_ns[i];
      char line[200];
      std::snprintf(line, sizeof line, "  %-11s p50 %.3f ms, p99 %.3f ms, max %.3f ms (%llu)\n",
                    LeaseStepName(static_cast<LeaseStep>(i)), Ms(h.Percentile(50)),
                    Ms(h.Percentile(99)), Ms(h.max()), static_cast<unsigned long long>(h.count()));
      out += line;
    }
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
  std::string out;
  if (r.watch) {
    out = WatchText(o, r, targets);
  } else {
    out = TextHead(o, r, targets);
  }
  if (r.errors_by_code.empty()) {
    out += "errors by gRPC code: none\n";
  } else {
    out += "errors by gRPC code:\n";
    for (const auto& [code, n] : r.errors_by_code) {
      out += "  " + GrpcCodeName(code) + " " + std::to_string(n) + " (first: \"" +
             r.error_examples.at(code) + "\")\n";
    }
  }
  return out + TextHistogram(r.latency_ns);
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
  if (o.workload == Workload::kWatch) {
    opts["watchers"] = o.watchers;
    opts["rate"] = o.rate;
    opts["prefix"] = o.watch_prefix;
  }
  if (o.workload == Workload::kLease) opts["ttl_s"] = o.lease_ttl_s;
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
  j["latency_ms"] = LatencyJson(h);
  if (r.watch) {
    const WatchStats& w = *r.watch;
    j["watch"] = {{"watchers", w.watchers},
                  {"watchers_created", w.watchers_created},
                  {"streams", w.streams},
                  {"puts_ok", w.puts_ok},
                  {"puts_failed", w.puts_failed},
                  {"put_send_s", w.put_send_s},
                  {"put_elapsed_s", w.put_elapsed_s},
                  {"put_rate_achieved", PutRate(w)},
                  {"put_latency_ms", LatencyJson(w.put_latency_ns)},
                  {"events_expected", w.events_expected},
                  {"events_delivered", r.ok},
                  {"missed", w.missed},
                  {"watchers_missing_events", w.watchers_missing_events},
                  {"duplicated", w.duplicated},
                  {"out_of_order", w.out_of_order},
                  {"canceled", w.canceled},
                  {"unacked_events", w.unacked_events},
                  {"stray_events", w.stray_events},
                  {"drained", w.drained}};
  }
  if (o.workload == Workload::kLease) {
    nlohmann::json steps;
    for (int i = 0; i < kLeaseStepCount; ++i) {
      steps[LeaseStepName(static_cast<LeaseStep>(i))] = LatencyJson(r.lease_step_ns[i]);
    }
    j["lease_steps_ms"] = steps;
  }
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
  char line[200];
  if (now.puts) {
    std::snprintf(line, sizeof line,
                  "synod-bench: %.0f s, %llu puts, %llu events, %llu errors, %.0f events/s now",
                  now.elapsed_s, static_cast<unsigned long long>(*now.puts),
                  static_cast<unsigned long long>(now.ok),
                  static_cast<unsigned long long>(now.errors), rate);
    return line;
  }
  std::snprintf(line, sizeof line, "synod-bench: %.0f s, %llu ok, %llu errors, %.0f req/s now",
                now.elapsed_s, static_cast<unsigned long long>(now.ok),
                static_cast<unsigned long long>(now.errors), rate);
  return line;
}

}  // namespace synod::bench
