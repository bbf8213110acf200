// synod-bench's option parsing and key choice: defaults, every option read, and a clear error
// (exit 2, naming the option) for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "keys.h"
#include "options.h"
#include "watch_value.h"

namespace synod::bench {
namespace {

ParseOutcome Parse(std::vector<std::string> args) {
  return ParseOptions(args);
}

void ExpectError(std::vector<std::string> args, const std::string& fragment) {
  const ParseOutcome o = Parse(args);
  EXPECT_FALSE(o.run);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.message.find(fragment), std::string::npos) << o.message;
}

TEST(BenchOptions, Defaults) {
  const ParseOutcome o = Parse({"put"});
  ASSERT_TRUE(o.run) << o.message;
  EXPECT_EQ(o.options.workload, Workload::kPut);
  ASSERT_EQ(o.options.endpoints.size(), 1u);
  EXPECT_EQ(o.options.endpoints[0].address(), "127.0.0.1:2379");
  EXPECT_EQ(o.options.conns, 1u);
  EXPECT_EQ(o.options.clients, 1u);
  EXPECT_EQ(o.options.total, 10000u);
  EXPECT_EQ(o.options.duration_s, 0);
  EXPECT_EQ(o.options.key_size, 8u);
  EXPECT_EQ(o.options.val_size, 256u);
  EXPECT_EQ(o.options.target, Target::kAll);
  EXPECT_FALSE(o.options.serializable);
}

TEST(BenchOptions, EveryOptionIsRead) {
  const ParseOutcome o = Parse({"range",
                                "--endpoints",
                                "http://127.0.0.1:2379, h2:22379",
                                "--conns",
                                "10",
                                "--clients",
                                "100",
                                "--duration",
                                "2.5",
                                "--key-size",
                                "12",
                                "--val-size",
                                "0",
                                "--key-space",
                                "5000",
                                "--key-dist",
                                "zipfian",
                                "--zipf-exponent",
                                "0.5",
                                "--consistency",
                                "s",
                                "--target",
                                "followers",
                                "--json",
                                "out.json",
                                "--seed",
                                "99",
                                "--timeout",
                                "3",
                                "--quiet"});
  ASSERT_TRUE(o.run) << o.message;
  const BenchOptions& b = o.options;
  EXPECT_EQ(b.workload, Workload::kRange);
  ASSERT_EQ(b.endpoints.size(), 2u);
  EXPECT_EQ(b.endpoints[0].host, "127.0.0.1");
  EXPECT_EQ(b.endpoints[0].port, 2379);
  EXPECT_EQ(b.endpoints[1].address(), "h2:22379");
  EXPECT_EQ(b.conns, 10u);
  EXPECT_EQ(b.clients, 100u);
  EXPECT_EQ(b.total, 0u);  // --duration alone: no request limit
  EXPECT_DOUBLE_EQ(b.duration_s, 2.5);
  EXPECT_EQ(b.key_size, 12u);
  EXPECT_EQ(b.val_size, 0u);
  EXPECT_EQ(b.key_space, 5000u);
  EXPECT_EQ(b.key_dist, KeyDist::kZipfian);
  EXPECT_DOUBLE_EQ(b.zipf_exponent, 0.5);
  EXPECT_TRUE(b.serializable);
  EXPECT_EQ(b.target, Target::kFollowers);
  EXPECT_EQ(b.json_path, "out.json");
  EXPECT_EQ(b.seed, 99u);
  EXPECT_DOUBLE_EQ(b.timeout_s, 3);
  EXPECT_TRUE(b.quiet);
}

TEST(BenchOptions, WorkloadNames) {
  EXPECT_EQ(Parse({"txn-put"}).options.workload, Workload::kTxnPut);
  EXPECT_EQ(Parse({"delete"}).options.workload, Workload::kDelete);
  EXPECT_EQ(Parse({"watch"}).options.workload, Workload::kWatch);
  EXPECT_EQ(Parse({"lease"}).options.workload, Workload::kLease);
  ExpectError({"lease-keepalive"}, "unknown workload 'lease-keepalive'");
  ExpectError({"frobnicate"}, "unknown workload 'frobnicate'");
  ExpectError({}, "workload");
}

TEST(BenchOptions, HelpDescribesEveryOption) {
  const ParseOutcome o = Parse({"--help"});
  EXPECT_FALSE(o.run);
  EXPECT_EQ(o.exit_code, 0);
  for (const char* opt :
       {"--endpoints",   "--conns",    "--clients",   "--total",    "--duration",
        "--key-size",    "--val-size", "--key-space", "--key-dist", "--zipf-exponent",
        "--consistency", "--target",   "--json",      "--seed",     "--timeout",
        "--quiet",       "--watchers", "--rate",      "--prefix",   "--ttl"}) {
    EXPECT_NE(o.message.find(opt), std::string::npos) << opt;
  }
}

TEST(BenchOptions, WatchAndLeaseOptions) {
  ParseOutcome o = Parse({"watch"});
  ASSERT_TRUE(o.run) << o.message;
  EXPECT_EQ(o.options.watchers, 1000u);
  EXPECT_DOUBLE_EQ(o.options.rate, 1000);
  EXPECT_EQ(o.options.watch_prefix, "synod-bench/watch/");
  EXPECT_EQ(o.options.total, 10000u);
  // Watch spreads watchers, not clients, over the connections.
  o = Parse({"watch", "--conns", "10", "--watchers", "25", "--rate", "12.5", "--prefix", "p/"});
  ASSERT_TRUE(o.run) << o.message;
  EXPECT_EQ(o.options.conns, 10u);
  EXPECT_EQ(o.options.watchers, 25u);
  EXPECT_DOUBLE_EQ(o.options.rate, 12.5);
  EXPECT_EQ(o.options.watch_prefix, "p/");
  ExpectError({"watch", "--conns", "10", "--watchers", "5"}, "--watchers (5) must be at least");
  ExpectError({"watch", "--rate", "0"}, "--rate");
  ExpectError({"watch", "--prefix", ""}, "--prefix");
  ExpectError({"put", "--rate", "10"}, "watch workload only");
  ExpectError({"put", "--ttl", "10"}, "lease workload only");
  ExpectError({"lease", "--ttl", "0"}, "--ttl");

  o = Parse({"lease", "--ttl", "7", "--clients", "4", "--conns", "2"});
  ASSERT_TRUE(o.run) << o.message;
  EXPECT_EQ(o.options.workload, Workload::kLease);
  EXPECT_EQ(o.options.lease_ttl_s, 7);
  EXPECT_EQ(Parse({"lease"}).options.lease_ttl_s, 60);
}

TEST(BenchWatchValue, StampRoundTripsAndPrefixEnd) {
  const std::string v = WatchValue(199, 0x0123456789abcdefULL, 40);
  EXPECT_EQ(v, "00000000000000c70123456789abcdefxxxxxxxx");
  uint64_t seq = 0, sent = 0;
  ASSERT_TRUE(ParseWatchValue(v, &seq, &sent));
  EXPECT_EQ(seq, 199u);
  EXPECT_EQ(sent, 0x0123456789abcdefULL);
  EXPECT_EQ(WatchValue(1, 2, 0).size(), kWatchStampBytes);  // never shorter than the stamp
  EXPECT_FALSE(ParseWatchValue("00000000000000c7", &seq, &sent));
  EXPECT_FALSE(ParseWatchValue("00000000000000c7012345678XXbcdef", &seq, &sent));
  EXPECT_FALSE(ParseWatchValue("some other writer's value, long enough", &seq, &sent));

  EXPECT_EQ(PrefixEnd("w/"), "w0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff")), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff")), std::string(1, '\0'));
}

TEST(BenchOptions, BadInputNamesTheProblem) {
  ExpectError({"put", "--conns", "0"}, "--conns");
  ExpectError({"put", "--conns", "ten"}, "--conns");
  ExpectError({"put", "--conns", "10", "--clients", "5"}, "--clients (5) must be at least");
  ExpectError({"put", "--total", "0"}, "--total");
  ExpectError({"put", "--duration", "-1"}, "--duration");
  ExpectError({"put", "--key-dist", "pareto"}, "--key-dist");
  ExpectError({"put", "--key-dist", "zipfian", "--zipf-exponent", "1"}, "--zipf-exponent");
  ExpectError({"put", "--key-space", "1000", "--key-size", "2"}, "needs keys of 3 bytes");
  ExpectError({"put", "--consistency", "s"}, "range workload only");
  ExpectError({"range", "--consistency", "x"}, "--consistency");
  ExpectError({"put", "--target", "boss"}, "--target");
  ExpectError({"put", "--target", "followers"}, "at least two endpoints");
  ExpectError({"put", "--endpoints", "localhost"}, "not host:port");
  ExpectError({"put", "--endpoints", "a:1,b:99999"}, "1..65535");
  ExpectError({"put", "--endpoints", "https://a:1"}, "TLS");
  ExpectError({"put", "--endpoints", "a:1,"}, "not host:port");
  ExpectError({"put", "--bogus"}, "bogus");
}

TEST(BenchKeys, FormatAndDigits) {
  EXPECT_EQ(FormatKey(42, 8), "00000042");
  EXPECT_EQ(FormatKey(0, 1), "0");
  EXPECT_EQ(DigitsFor(1), 1u);
  EXPECT_EQ(DigitsFor(10), 1u);
  EXPECT_EQ(DigitsFor(11), 2u);
  EXPECT_EQ(DigitsFor(100000000), 8u);
}

TEST(BenchKeys, SequentialIsSharedAndWraps) {
  KeyShared shared;
  shared.dist = KeyDist::kSequential;
  shared.key_space = 5;
  KeyChooser a(&shared, 1), b(&shared, 2);
  std::vector<uint64_t> got;
  for (int i = 0; i < 4; ++i) {
    got.push_back(a.NextIndex());
    got.push_back(b.NextIndex());
  }
  EXPECT_EQ(got, (std::vector<uint64_t>{0, 1, 2, 3, 4, 0, 1, 2}));
}

TEST(BenchKeys, ZipfianFavoursLowIndicesInRange) {
  const uint64_t n = 1000;
  const double s = 0.99;
  Zipfian zipf(n, s);
  Random random(3);
  std::map<uint64_t, uint64_t> hits;
  const int draws = 200000;
  for (int i = 0; i < draws; ++i) {
    const uint64_t k = zipf.Next(random);
    ASSERT_LT(k, n);
    ++hits[k];
  }
  double zeta = 0;
  for (uint64_t i = 1; i <= n; ++i) zeta += 1.0 / std::pow(static_cast<double>(i), s);
  // Index 0 and 1 are sampled exactly by the method; check them against 1/zeta and 2^-s/zeta.
  EXPECT_NEAR(static_cast<double>(hits[0]) / draws, 1.0 / zeta, 0.01);
  EXPECT_NEAR(static_cast<double>(hits[1]) / draws, std::pow(2.0, -s) / zeta, 0.01);
  EXPECT_GT(hits[0], hits[10]);
  EXPECT_GT(hits[10], hits[500]);
}

}  // namespace
}  // namespace synod::bench
