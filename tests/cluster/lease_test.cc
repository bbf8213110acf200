// Leases on real synod processes, driven by Debian's etcdctl: grant, put --lease, keep-alive
// (kept alive well past the TTL), timetolive --keys, list, revoke (attached keys deleted), and
// expiry of a lease nobody keeps alive, also when the leader that granted it is killed. Each
// test starts its own 3-member cluster on free ports; every wait is bounded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_files.h"
#include "cluster_fixture.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int64_t Ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

class LeaseTest : public ClusterFixture {
 protected:
  void StartCluster() { ClusterFixture::StartCluster(ClusterSpec{3, {}, false, true}); }

  void TearDown() override {
    keep_alive_.Stop(SIGKILL, 5s);
    ClusterFixture::TearDown();
  }

  std::vector<std::string> EtcdctlArgv(std::vector<std::string> args, std::string endpoints) {
    if (endpoints.empty()) endpoints = cluster_->endpoints();
    std::vector<std::string> argv = {EtcdctlPath(), "--endpoints=" + endpoints, "--dial-timeout=3s",
                                     "--command-timeout=10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  CommandResult Etcdctl(std::vector<std::string> args, std::string endpoints = "") {
    return RunCommand(EtcdctlArgv(std::move(args), std::move(endpoints)), "", {"ETCDCTL_API=3"},
                      30s);
  }

  std::string EtcdctlOk(std::vector<std::string> args, std::string endpoints = "") {
    const CommandResult r = Etcdctl(std::move(args), std::move(endpoints));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
  }

  // `etcdctl lease grant`; the lease id in hex as etcdctl prints and takes it, "" on failure.
  std::string Grant(int ttl_seconds, int granted_expected) {
    const std::string out = EtcdctlOk({"lease", "grant", std::to_string(ttl_seconds)});
    // "lease <16 hex digits> granted with TTL(<n>s)" (no std::regex: GCC 12 warns inside it
    // under the sanitizers).
    const std::string head = "lease ", mid = " granted with TTL(";
    const size_t at = out.find(mid);
    if (out.rfind(head, 0) != 0 || at == std::string::npos ||
        out.find("s)", at) == std::string::npos) {
      ADD_FAILURE() << "unexpected grant output: " << out;
      return "";
    }
    const std::string id = out.substr(head.size(), at - head.size());
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << out;
    EXPECT_EQ(std::stoi(out.substr(at + mid.size())), granted_expected) << out;
    return id;
  }

  // Runs `etcdctl lease keep-alive` in the background against `endpoints`.
  void StartKeepAlive(const std::string& lease, const std::string& endpoints) {
    keep_alive_log_ = cluster_->dir() + "/keep-alive-" + lease + ".log";
    std::string error;
    ASSERT_TRUE(Child::Spawn(EtcdctlArgv({"lease", "keep-alive", lease}, endpoints),
                             keep_alive_log_, &keep_alive_, &error))
        << error;
  }

  // Whether `key` exists, asked of the first running member that answers (linearizable).
  std::optional<bool> Exists(const std::string& key) {
    for (int i = 0; i < cluster_->size(); ++i) {
      if (!cluster_->running(i)) continue;
      etcdserverpb::RangeResponse r;
      if (cluster_->client(i).Get(key, 2s, &r).ok()) return r.kvs_size() > 0;
    }
    return std::nullopt;
  }

  // Waits until `key` is gone; the time it took, or nullopt after `timeout`.
  std::optional<Clock::duration> WaitGone(const std::string& key, Clock::time_point since,
                                          std::chrono::milliseconds timeout) {
    while (Clock::now() - since < timeout) {
      if (Exists(key) == false) return Clock::now() - since;
      std::this_thread::sleep_for(100ms);
    }
    return std::nullopt;
  }

  Child keep_alive_;
  std::string keep_alive_log_;
};

TEST_F(LeaseTest, EtcdctlGrantKeepAliveTimeToLiveListRevoke) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string kept = Grant(3, 3);
  const std::string other = Grant(600, 600);
  ASSERT_FALSE(kept.empty());
  ASSERT_FALSE(other.empty());
  EXPECT_EQ(EtcdctlOk({"put", "--lease=" + kept, "kept/a", "1"}), "OK\n");
  EXPECT_EQ(EtcdctlOk({"put", "--lease=" + kept, "kept/b", "2"}), "OK\n");
  const CommandResult missing = Etcdctl({"put", "--lease=7777", "nolease", "x"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("etcdserver: requested lease not found"), std::string::npos)
      << missing.err;
  const CommandResult too_long = Etcdctl({"lease", "grant", "9000000001"});
  EXPECT_NE(too_long.err.find("etcdserver: too large lease TTL"), std::string::npos)
      << too_long.err;

  const std::string ttl = EtcdctlOk({"lease", "timetolive", kept, "--keys"});
  EXPECT_NE(ttl.find("lease " + kept + " granted with TTL(3s), remaining("), std::string::npos)
      << ttl;
  EXPECT_NE(ttl.find("attached keys([kept/a kept/b])"), std::string::npos) << ttl;
  const std::string list = EtcdctlOk({"lease", "list"});
  EXPECT_NE(list.find("found 2 leases"), std::string::npos) << list;
  EXPECT_NE(list.find(kept), std::string::npos) << list;
  EXPECT_NE(list.find(other), std::string::npos) << list;

  // Below the minimum (1.5 election timeouts of 1 s, rounded up): raised to 2 s.
  const std::string short_lived = Grant(1, 2);
  ASSERT_FALSE(short_lived.empty());
  // Kept alive through a follower for 3 TTLs: the keys stay; the unkept lease expires.
  const int follower = (leader_ + 1) % cluster_->size();
  StartKeepAlive(kept, cluster_->endpoint(follower));
  const auto start = Clock::now();
  std::this_thread::sleep_for(9s);
  EXPECT_EQ(Exists("kept/a"), true) << "kept-alive lease expired";
  EXPECT_EQ(Exists("kept/b"), true);
  const std::string after = EtcdctlOk({"lease", "timetolive", kept});
  EXPECT_EQ(after.find("already expired"), std::string::npos) << after;
  EXPECT_NE(EtcdctlOk({"lease", "timetolive", short_lived}).find("already expired"),
            std::string::npos);
  EXPECT_EQ(EtcdctlOk({"lease", "list"}).find(short_lived), std::string::npos);
  keep_alive_.Stop(SIGTERM, 5s);
  const std::string ka = ReadFile(keep_alive_log_);
  EXPECT_NE(ka.find("lease " + kept + " keepalived with TTL(3)"), std::string::npos) << ka;
  std::cerr << "keep-alive answers in " << Ms(Clock::now() - start)
            << " ms: " << std::count(ka.begin(), ka.end(), '\n') << "\n";

  // Revoke deletes the attached keys.
  EXPECT_NE(EtcdctlOk({"lease", "revoke", kept}).find("lease " + kept + " revoked"),
            std::string::npos);
  EXPECT_EQ(EtcdctlOk({"get", "kept/", "--prefix"}), "");
  EXPECT_NE(EtcdctlOk({"lease", "timetolive", kept}).find("already expired"), std::string::npos);
  // A keep-alive of a lease that is gone answers TTL 0, which the client reports as not found.
  const CommandResult late = Etcdctl({"lease", "keep-alive", "--once", kept});
  EXPECT_NE(late.exit_code, 0);
  EXPECT_NE(late.err.find("etcdserver: requested lease not found"), std::string::npos)
      << late.out << late.err;
  EXPECT_NE(EtcdctlOk({"lease", "keep-alive", "--once", other}).find("keepalived with TTL(600)"),
            std::string::npos);
  const CommandResult again = Etcdctl({"lease", "revoke", kept});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("etcdserver: requested lease not found"), std::string::npos)
      << again.err;

  // Expiry: a lease nobody keeps alive takes its keys with it within TTL + a bound, and not
  // long before its TTL.
  const std::string lapsing = Grant(4, 4);
  ASSERT_FALSE(lapsing.empty());
  const auto granted = Clock::now();
  EtcdctlOk({"put", "--lease=" + lapsing, "lapsing", "x"});
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(Exists("lapsing"), true) << "expired after only " << Ms(Clock::now() - granted);
  const auto gone = WaitGone("lapsing", granted, 4s + 3s);
  ASSERT_TRUE(gone.has_value()) << "lease of 4 s not expired after 7 s";
  EXPECT_GE(Ms(*gone), 3000);
  std::cerr << "4 s lease expired after " << Ms(*gone) << " ms\n";
}

// The leader dies: a lease kept alive (through a follower) survives the election, while a
// lease nobody keeps alive is still revoked, by the new leader, within TTL + election + bound.
TEST_F(LeaseTest, ExpiryContinuesAfterLeaderKilled) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int follower = (leader_ + 1) % cluster_->size();
  const std::string kept = Grant(6, 6);
  const std::string lapsing = Grant(4, 4);
  ASSERT_FALSE(kept.empty());
  ASSERT_FALSE(lapsing.empty());
  EtcdctlOk({"put", "--lease=" + kept, "kept", "x"});
  EtcdctlOk({"put", "--lease=" + lapsing, "lapsing", "x"});
  StartKeepAlive(kept, cluster_->endpoint(follower));
  std::this_thread::sleep_for(1s);

  const auto killed = Clock::now();
  cluster_->Kill9(leader_);
  const int fresh = cluster_->WaitForLeader(10s);
  ASSERT_GE(fresh, 0) << cluster_->last_wait_error();
  std::cerr << "new leader " << Ms(Clock::now() - killed) << " ms after the kill\n";
  // Promotion gives every lease at least TTL + election timeout from the new leadership.
  const auto gone = WaitGone("lapsing", killed, 4s + 10s + 3s);
  ASSERT_TRUE(gone.has_value()) << "no expiry after the leader was killed";
  std::cerr << "unkept lease revoked " << Ms(*gone) << " ms after the kill\n";
  EXPECT_EQ(Exists("kept"), true);
  // Keep going past two more TTLs of the kept lease, under the new leader.
  std::this_thread::sleep_for(12s);
  EXPECT_EQ(Exists("kept"), true) << "kept-alive lease lost across the leader change";
  const std::string list = EtcdctlOk({"lease", "list"}, cluster_->endpoint(fresh));
  EXPECT_NE(list.find(kept), std::string::npos) << list;
  EXPECT_EQ(list.find(lapsing), std::string::npos) << list;
}

// The KeepAlive stream at the gRPC level: requests pipelined on one stream (for a live lease,
// a lease that never existed, the live one again) get one answer each, with the
// granted TTL or 0; closing the client's side then ends the stream with OK once all are out.
TEST_F(LeaseTest, KeepAliveStreamAnswersEachRequestThenEndsOnHalfClose) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int follower = (leader_ + 1) % cluster_->size();
  auto channel =
      grpc::CreateChannel(cluster_->endpoint(follower), grpc::InsecureChannelCredentials());
  auto lease = etcdserverpb::Lease::NewStub(channel);
  etcdserverpb::LeaseGrantRequest grant;
  grant.set_ttl(30);
  etcdserverpb::LeaseGrantResponse granted;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    ASSERT_TRUE(lease->LeaseGrant(&ctx, grant, &granted).ok());
  }
  ASSERT_GT(granted.id(), 0);
  EXPECT_EQ(granted.ttl(), 30);
  EXPECT_GT(granted.header().revision(), 0);

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 20s);
  auto stream = lease->LeaseKeepAlive(&ctx);
  const int64_t ids[] = {granted.id(), granted.id() + 1, granted.id()};
  for (int64_t id : ids) {
    etcdserverpb::LeaseKeepAliveRequest req;
    req.set_id(id);
    ASSERT_TRUE(stream->Write(req));
  }
  ASSERT_TRUE(stream->WritesDone());
  std::vector<std::pair<int64_t, int64_t>> answers;
  etcdserverpb::LeaseKeepAliveResponse resp;
  while (stream->Read(&resp)) {
    answers.emplace_back(resp.id(), resp.ttl());
    EXPECT_NE(resp.header().member_id(), 0u);
  }
  const grpc::Status end = stream->Finish();
  EXPECT_TRUE(end.ok()) << end.error_message();
  // Answers may leave in any order (the executor builds them); each carries its lease id.
  std::vector<std::pair<int64_t, int64_t>> expected = {
      {granted.id(), 30}, {granted.id() + 1, 0}, {granted.id(), 30}};
  std::sort(answers.begin(), answers.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(answers, expected);
}

}  // namespace
}  // namespace synod::cluster_test
