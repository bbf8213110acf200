#include "options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>

namespace synod::bench {
namespace {

constexpr uint32_t kConnsMax = 10000;
constexpr uint32_t kClientsMax = 100000;
constexpr uint32_t kKeySizeMax = 1024;
constexpr uint32_t kValSizeMax = 16u << 20;
constexpr uint32_t kWatchersMax = 1000000;
constexpr double kRateMax = 1e6;
constexpr int64_t kLeaseTtlMax = 9000000000;  // etcd's MaxLeaseTTL

const char* kDescription =
    "synod-bench: a load generator for the etcd v3 gRPC API (measures synod and etcd alike)\n"
    "\n"
    "  synod-bench WORKLOAD [options]\n"
    "\n"
    "Workloads: put, range, txn-put (a txn with one put), delete (one key), watch (fan-out:\n"
    "--watchers watches on one prefix, one Watch stream per connection, while one writer\n"
    "puts under it at --rate puts/s; reports each event's delivery latency and every missed\n"
    "or duplicated event), lease (one request = grant, one keep-alive, revoke). Keys are the\n"
    "decimal index 0 .. key-space-1 zero-padded to --key-size bytes. With both --total and\n"
    "--duration, the first reached ends the run; with neither, --total 10000 (watch: puts).\n"
    "Exit status: 0 when some request succeeded, 1 when none did or the endpoints could not\n"
    "be reached, 2 for bad options, 3 when a watcher missed, repeated or reordered an event.";

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// "host:port" or "http://host:port"; `error` set on failure.
bool ParseEndpoint(std::string text, Endpoint* out, std::string* error) {
  text = Trim(text);
  if (text.rfind("https://", 0) == 0) {
    *error = "endpoint '" + text + "': TLS is not supported (use host:port or http://)";
    return false;
  }
  if (text.rfind("http://", 0) == 0) text = text.substr(7);
  if (!text.empty() && text.back() == '/') text.pop_back();
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    *error = "endpoint '" + text + "' is not host:port";
    return false;
  }
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    *error = "endpoint '" + text + "': port '" + port_text + "' is not a number in 1..65535";
    return false;
  }
  out->host = text.substr(0, colon);
  out->port = static_cast<uint16_t>(port);
  return true;
}

bool ParseWorkload(const std::string& name, Workload* out, std::string* error) {
  if (name == "put")
    *out = Workload::kPut;
  else if (name == "range")
    *out = Workload::kRange;
  else if (name == "txn-put")
    *out = Workload::kTxnPut;
  else if (name == "delete")
    *out = Workload::kDelete;
  else if (name == "watch")
    *out = Workload::kWatch;
  else if (name == "lease")
    *out = Workload::kLease;
  else {
    *error =
        "unknown workload '" + name + "'; available: put, range, txn-put, delete, watch, lease";
    return false;
  }
  return true;
}

ParseOutcome Fail(std::string message) {
  ParseOutcome o;
  o.exit_code = 2;
  o.message = "synod-bench: " + std::move(message) + "\nRun with --help for the options.";
  return o;
}

// Checks that CLI11 cannot express: relations between options.
std::string CheckRelations(const BenchOptions& o, bool consistency_given, bool watch_given,
                           bool ttl_given) {
  if (o.workload == Workload::kWatch && o.watchers < o.conns) {
    return "--watchers (" + std::to_string(o.watchers) + ") must be at least --conns (" +
           std::to_string(o.conns) + "): every connection carries at least one watcher";
  }
  if (watch_given && o.workload != Workload::kWatch) {
    return "--watchers, --rate and --prefix apply to the watch workload only";
  }
  if (ttl_given && o.workload != Workload::kLease) {
    return "--ttl applies to the lease workload only";
  }
  if (o.workload != Workload::kWatch && o.clients < o.conns) {
    return "--clients (" + std::to_string(o.clients) + ") must be at least --conns (" +
           std::to_string(o.conns) + "): every connection carries at least one client";
  }
  if (DigitsFor(o.key_space) > o.key_size) {
    return "--key-space " + std::to_string(o.key_space) + " needs keys of " +
           std::to_string(DigitsFor(o.key_space)) + " bytes; --key-size is " +
           std::to_string(o.key_size);
  }
  if (consistency_given && o.workload != Workload::kRange) {
    return "--consistency applies to the range workload only";
  }
  if (o.target == Target::kFollowers && o.endpoints.size() < 2) {
    return "--target followers needs at least two endpoints";
  }
  return "";
}

}  // namespace

ParseOutcome ParseOptions(const std::vector<std::string>& args) {
  BenchOptions o;
  std::string workload, endpoints = "127.0.0.1:2379", consistency = "l";
  std::string key_dist = "uniform", target = "all";
  CLI::App app{kDescription, "synod-bench"};
  app.add_option("workload", workload, "put | range | txn-put | delete | watch | lease")
      ->required();
  app.add_option("--endpoints", endpoints,
                 "comma-separated host:port list of the members to reach (http:// allowed)")
      ->capture_default_str();
  app.add_option("--conns", o.conns, "gRPC channels (TCP connections), spread over the targets")
      ->check(CLI::Range(1u, kConnsMax))
      ->capture_default_str();
  app.add_option("--clients", o.clients,
                 "concurrent outstanding requests, spread evenly over the connections (not "
                 "used by watch: its writer keeps to --rate)")
      ->check(CLI::Range(1u, kClientsMax))
      ->capture_default_str();
  app.add_option("--total", o.total,
                 "number of requests to send (watch: puts; default 10000 without "
                 "--duration)")
      ->check(CLI::PositiveNumber);
  app.add_option("--duration", o.duration_s,
                 "seconds to run (a decimal number; watch: seconds of putting; then the "
                 "run waits for the events still due until --timeout seconds pass without "
                 "one)")
      ->check(CLI::PositiveNumber);
  app.add_option("--key-size", o.key_size, "bytes per key")
      ->check(CLI::Range(1u, kKeySizeMax))
      ->capture_default_str();
  app.add_option("--val-size", o.val_size,
                 "bytes per value (put, txn-put, watch; a watch value is at least 32 bytes: "
                 "the put's sequence number and send time)")
      ->check(CLI::Range(0u, kValSizeMax))
      ->capture_default_str();
  app.add_option("--key-space", o.key_space, "number of distinct keys")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--key-dist", key_dist,
                 "sequential | uniform | zipfian: how each request picks its key (zipfian: "
                 "key i drawn with probability proportional to 1/(i+1)^s, s = "
                 "--zipf-exponent)")
      ->check(CLI::IsMember({"sequential", "uniform", "zipfian"}))
      ->capture_default_str();
  app.add_option("--zipf-exponent", o.zipf_exponent,
                 "the exponent s of --key-dist zipfian, in (0, 1); 0.99 is YCSB's")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  auto* consistency_opt =
      app.add_option("--consistency", consistency,
                     "range only: l (linearizable, through the leader's read index) or s "
                     "(serializable, the member's local state)")
          ->check(CLI::IsMember({"l", "s"}))
          ->capture_default_str();
  app.add_option("--target", target,
                 "leader | followers | all: which endpoints get connections (the leader is "
                 "found by Maintenance.Status on each endpoint)")
      ->check(CLI::IsMember({"leader", "followers", "all"}))
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "deadline of each request in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  auto* watchers_opt =
      app.add_option("--watchers", o.watchers,
                     "watch: watchers on --prefix, spread evenly over --conns connections; "
                     "each connection opens one Watch stream carrying its watchers' ids, as "
                     "etcd's clients multiplex watches")
          ->check(CLI::Range(1u, kWatchersMax))
          ->capture_default_str();
  auto* rate_opt = app.add_option("--rate", o.rate,
                                  "watch: puts per second of the one writer (on the first "
                                  "target; open loop: sent on schedule, not after the "
                                  "previous put returns)")
                       ->check(CLI::Range(0.001, kRateMax))
                       ->capture_default_str();
  auto* prefix_opt = app.add_option("--prefix", o.watch_prefix,
                                    "watch: the prefix watched and written under (keys are "
                                    "the prefix then the zero-padded index)")
                         ->capture_default_str();
  auto* ttl_opt = app.add_option("--ttl", o.lease_ttl_s, "lease: TTL in seconds of each grant")
                      ->check(CLI::Range(int64_t{1}, kLeaseTtlMax))
                      ->capture_default_str();
  app.add_option("--json", o.json_path, "also write the results as JSON to this file");
  app.add_option("--seed", o.seed, "seed of the key choices and the value bytes")
      ->capture_default_str();
  app.add_flag("--quiet", o.quiet, "no progress line on stderr");

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    ParseOutcome help;
    help.message = app.help();
    return help;
  } catch (const CLI::ParseError& e) {
    return Fail(e.what());
  }

  std::string error;
  if (!ParseWorkload(workload, &o.workload, &error)) return Fail(error);
  size_t start = 0;
  while (start <= endpoints.size()) {
    const size_t comma = std::min(endpoints.find(',', start), endpoints.size());
    Endpoint e;
    if (!ParseEndpoint(endpoints.substr(start, comma - start), &e, &error)) return Fail(error);
    o.endpoints.push_back(e);
    start = comma + 1;
  }
  if (o.zipf_exponent <= 0 || o.zipf_exponent >= 1) {
    return Fail("--zipf-exponent must lie strictly between 0 and 1");
  }
  o.key_dist = key_dist == "sequential" ? KeyDist::kSequential
               : key_dist == "zipfian"  ? KeyDist::kZipfian
                                        : KeyDist::kUniform;
  o.serializable = consistency == "s";
  o.target = target == "leader"      ? Target::kLeader
             : target == "followers" ? Target::kFollowers
                                     : Target::kAll;
  if (o.total == 0 && o.duration_s == 0) o.total = 10000;
  if (o.watch_prefix.empty()) return Fail("--prefix must not be empty");
  error = CheckRelations(o, consistency_opt->count() > 0,
                         watchers_opt->count() + rate_opt->count() + prefix_opt->count() > 0,
                         ttl_opt->count() > 0);
  if (!error.empty()) return Fail(error);
  ParseOutcome ok;
  ok.run = true;
  ok.options = std::move(o);
  return ok;
}

const char* WorkloadName(Workload w) {
  switch (w) {
    case Workload::kPut:
      return "put";
    case Workload::kRange:
      return "range";
    case Workload::kTxnPut:
      return "txn-put";
    case Workload::kDelete:
      return "delete";
    case Workload::kWatch:
      return "watch";
    case Workload::kLease:
      return "lease";
  }
  return "?";
}

const char* TargetName(Target t) {
  switch (t) {
    case Target::kAll:
      return "all";
    case Target::kLeader:
      return "leader";
    case Target::kFollowers:
      return "followers";
  }
  return "?";
}

const char* KeyDistName(KeyDist d) {
  switch (d) {
    case KeyDist::kSequential:
      return "sequential";
    case KeyDist::kUniform:
      return "uniform";
    case KeyDist::kZipfian:
      return "zipfian";
  }
  return "?";
}

}  // namespace synod::bench
