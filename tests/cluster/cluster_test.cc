// synod as separate processes on 127.0.0.1: three members serving etcdctl, a leader killed
// with SIGKILL, the whole cluster killed and restarted, garbage on the client and peer ports,
// a damaged WAL. Each test
// starts its own cluster on free ports and is bounded in time (ctest TIMEOUT, plus a deadline
// on every wait and every call).
#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "acked_writer.h"
#include "cluster_fixture.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

template <typename Message>
Message FromJson(const std::string& json) {
  Message m;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &m, options);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return m;
}

class ClusterTest : public ClusterFixture {
 protected:

  // etcdctl against `endpoints` (default: the whole cluster).
  CommandResult Etcdctl(std::vector<std::string> args, const std::string& input = "",
                        std::string endpoints = "") {
    if (endpoints.empty()) endpoints = cluster_->endpoints();
    std::vector<std::string> argv = {EtcdctlPath(), "--endpoints=" + endpoints,
                                     "--dial-timeout=3s", "--command-timeout=10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, input, {"ETCDCTL_API=3"}, 30s);
  }

  std::string EtcdctlOk(std::vector<std::string> args, const std::string& input = "",
                        std::string endpoints = "") {
    const CommandResult r = Etcdctl(std::move(args), input, std::move(endpoints));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
  }

};

TEST_F(ClusterTest, EtcdctlPutGetDeleteTxnStatus) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  if (access(EtcdctlPath().c_str(), X_OK) != 0) GTEST_SKIP() << "no etcdctl";

  EXPECT_EQ(EtcdctlOk({"put", "foo", "bar"}), "OK\n");
  EXPECT_EQ(EtcdctlOk({"get", "foo"}), "foo\nbar\n");
  // Every member serves the write, through a linearizable read.
  for (int i = 0; i < cluster_->size(); ++i) {
    EXPECT_EQ(EtcdctlOk({"get", "foo", "--print-value-only"}, "", cluster_->endpoint(i)),
              "bar\n");
  }

  for (const char* k : {"dir/a", "dir/b", "dir/c"}) EtcdctlOk({"put", k, std::string("v") + k});
  EXPECT_EQ(EtcdctlOk({"get", "dir/", "--prefix", "--keys-only"}),
            "dir/a\n\ndir/b\n\ndir/c\n\n");
  auto limited = FromJson<etcdserverpb::RangeResponse>(
      EtcdctlOk({"get", "dir/", "--prefix", "--limit=2", "-w", "json"}));
  ASSERT_EQ(limited.kvs_size(), 2);
  EXPECT_TRUE(limited.more());
  EXPECT_EQ(limited.count(), 3);
  EXPECT_NE(limited.header().cluster_id(), 0u);
  EXPECT_NE(limited.header().member_id(), 0u);
  EXPECT_GE(limited.header().raft_term(), 1u);

  // Reads at an old revision.
  auto first = FromJson<etcdserverpb::RangeResponse>(EtcdctlOk({"get", "foo", "-w", "json"}));
  const int64_t rev = first.kvs(0).mod_revision();
  EtcdctlOk({"put", "foo", "baz"});
  EXPECT_EQ(EtcdctlOk({"get", "foo", "--print-value-only", "--rev=" + std::to_string(rev)}),
            "bar\n");
  EXPECT_EQ(EtcdctlOk({"get", "foo", "--print-value-only"}), "baz\n");
  const CommandResult future = Etcdctl({"get", "foo", "--rev=1000000"});
  EXPECT_NE(future.exit_code, 0);
  EXPECT_NE(future.err.find("required revision is a future revision"), std::string::npos)
      << future.err;

  EXPECT_EQ(EtcdctlOk({"del", "dir/", "--prefix"}), "3\n");
  EXPECT_EQ(EtcdctlOk({"get", "dir/", "--prefix"}), "");

  // txn: compares, blank line, success ops, blank line, failure ops.
  EXPECT_EQ(EtcdctlOk({"txn"}, "value(\"foo\") = \"baz\"\n\nput foo won\n\nput foo lost\n\n"),
            "SUCCESS\n\nOK\n");
  EXPECT_EQ(EtcdctlOk({"txn"}, "value(\"foo\") = \"nope\"\n\nput foo won\n\nget foo\n\n"),
            "FAILURE\n\nfoo\nwon\n");

  // Compaction, then a read below it.
  auto now = FromJson<etcdserverpb::RangeResponse>(EtcdctlOk({"get", "foo", "-w", "json"}));
  EXPECT_NE(EtcdctlOk({"compact", std::to_string(now.header().revision())}).find("compacted"),
            std::string::npos);
  const CommandResult compacted = Etcdctl({"get", "foo", "--rev=" + std::to_string(rev)});
  EXPECT_NE(compacted.err.find("required revision has been compacted"), std::string::npos)
      << compacted.err;

  const std::string table = EtcdctlOk({"endpoint", "status", "-w", "table"});
  EXPECT_NE(table.find("3.4.0-synod"), std::string::npos) << table;
  // Beyond --max-request-bytes (1.5 MiB) but below the client's own 2 MiB limit: etcd's error.
  // etcdctl reads the value from stdin.
  const CommandResult big = Etcdctl({"put", "big"}, std::string(1800 * 1024, 'x'));
  EXPECT_NE(big.exit_code, 0);
  EXPECT_NE(big.err.find("etcdserver: request is too large"), std::string::npos) << big.err;

  const std::string members = EtcdctlOk({"member", "list"});
  for (const char* name : {", m1, ", ", m2, ", ", m3, "}) {
    EXPECT_NE(members.find(name), std::string::npos) << members;
  }
  const std::string health = EtcdctlOk({"endpoint", "health"});
  EXPECT_EQ(health.find("unhealthy"), std::string::npos) << health;
}

// A writer keeps writing through whichever member answers while the leader is killed with
// SIGKILL: a new leader must appear within 3 s and every acknowledged write must survive.
TEST_F(ClusterTest, LeaderKilledNewLeaderAndNoAcknowledgedWriteLost) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  AckedWriter writer(cluster_.get());
  ASSERT_TRUE(writer.WaitForAcks(50));
  const auto killed_at = Clock::now();
  cluster_->Kill9(leader_);
  const int old_leader = leader_;
  const int fresh = cluster_->WaitForLeader(10s);
  const auto elected_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at).count();
  ASSERT_GE(fresh, 0);
  EXPECT_NE(fresh, old_leader);
  EXPECT_LT(elected_ms, 3000) << "new leader after " << elected_ms << " ms";
  std::cerr << "new leader elected " << elected_ms << " ms after the kill\n";
  const int before = writer.acked_count();
  EXPECT_TRUE(writer.WaitForAcks(before + 50)) << "writes did not resume";
  std::cerr << "writes resumed " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                        Clock::now() - killed_at).count()
            << " ms after the kill\n";
  writer.Stop();
  const std::map<std::string, std::string>& acked = writer.acked();

  for (int i = 0; i < cluster_->size(); ++i) {
    if (!cluster_->running(i)) continue;
    etcdserverpb::RangeResponse r;
    ASSERT_TRUE(cluster_->client(i).GetPrefix("ack/", 5s, &r).ok());
    std::map<std::string, std::string> seen;
    for (const auto& kv : r.kvs()) seen[kv.key()] = kv.value();
    for (const auto& [k, v] : acked) {
      ASSERT_EQ(seen[k], v) << "acknowledged " << k << " missing on member " << i;
    }
  }
  // The killed member comes back and catches up.
  std::string error;
  ASSERT_TRUE(cluster_->Start(old_leader, &error)) << error;
  etcdserverpb::RangeResponse r;
  const auto deadline = Clock::now() + 20s;
  grpc::Status last;
  while (Clock::now() < deadline) {
    last = cluster_->client(old_leader).GetPrefix("ack/", 2s, &r);
    if (last.ok() && r.kvs_size() >= static_cast<int>(acked.size())) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(r.kvs_size(), static_cast<int>(acked.size())) << last.error_message();
  const auto caught_up_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                Clock::now() - (deadline - 20s)).count();
  std::cerr << "restarted member caught up " << caught_up_ms << " ms after its restart\n";
}

// Every member killed with SIGKILL, then restarted: all of them hold the same data.
TEST_F(ClusterTest, AllKilledAndRestartedKeepData) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  // Half the writes through the leader, half through a follower (which forwards them), each
  // timed: the figures in the test log are synod's sequential put latency on this machine.
  constexpr int kKeys = 200;
  std::vector<int64_t> leader_us, follower_us;
  for (int i = 0; i < kKeys; ++i) {
    const bool via_leader = i < kKeys / 2;
    const int member = via_leader ? leader_ : (leader_ + 1) % cluster_->size();
    const auto start = Clock::now();
    ASSERT_TRUE(cluster_->client(member).Put("k/" + std::to_string(i), "v" + std::to_string(i),
                                             5s).ok()) << i;
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    (via_leader ? leader_us : follower_us).push_back(us);
  }
  for (auto* v : {&leader_us, &follower_us}) {
    std::sort(v->begin(), v->end());
    std::cerr << "put latency via the " << (v == &leader_us ? "leader" : "follower")
              << ": p50 " << (*v)[v->size() / 2] << " us, p99 " << (*v)[v->size() * 99 / 100]
              << " us\n";
  }
  etcdserverpb::RangeResponse before;
  ASSERT_TRUE(cluster_->client(0).GetPrefix("k/", 5s, &before).ok());
  ASSERT_EQ(before.kvs_size(), kKeys);

  for (int i = 0; i < cluster_->size(); ++i) cluster_->Kill9(i);
  std::string error;
  ASSERT_TRUE(cluster_->StartAll(&error)) << error;
  ASSERT_GE(cluster_->WaitForLeader(15s), 0) << cluster_->last_wait_error();

  for (int i = 0; i < cluster_->size(); ++i) {
    etcdserverpb::RangeResponse after;
    ASSERT_TRUE(cluster_->client(i).GetPrefix("k/", 5s, &after).ok()) << "member " << i;
    // Linearizable first (the member has applied everything committed), then local only.
    ASSERT_TRUE(cluster_->client(i).GetPrefix("k/", 5s, &after, /*serializable=*/true).ok());
    ASSERT_EQ(after.kvs_size(), kKeys) << "member " << i;
    for (int k = 0; k < kKeys; ++k) {
      EXPECT_EQ(after.kvs(k).key(), before.kvs(k).key());
      EXPECT_EQ(after.kvs(k).value(), before.kvs(k).value());
      EXPECT_EQ(after.kvs(k).mod_revision(), before.kvs(k).mod_revision());
    }
  }
  // A clean stop exits 0.
  for (int i = 0; i < cluster_->size(); ++i) {
    const int status = cluster_->Terminate(i);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "member " << i << ": " << status;
  }
}

// A member down while the others write far past what their logs keep comes back through a
// snapshot: the leader sends its packed store, the member swaps it in and serves the data.
TEST_F(ClusterTest, LaggingMemberCatchesUpFromSnapshot) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--snapshot-count=500"}));
  const int lagging = (leader_ + 1) % cluster_->size();
  cluster_->Kill9(lagging);
  // Snapshots every 500 entries keep 250 entries of log behind them (server.cc), so 2000
  // writes leave the lagging member behind every log.
  constexpr int kKeys = 2000;
  constexpr int kWriters = 4;
  std::atomic<bool> failed{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < kKeys && !failed.load(); i += kWriters) {
        if (!cluster_->client(leader_).Put("s/" + std::to_string(i), "v", 5s).ok()) {
          failed = true;
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  ASSERT_FALSE(failed.load());

  std::string error;
  ASSERT_TRUE(cluster_->Start(lagging, &error)) << error;
  etcdserverpb::RangeResponse r;
  grpc::Status last;
  const auto deadline = Clock::now() + 30s;
  while (Clock::now() < deadline) {
    last = cluster_->client(lagging).GetPrefix("s/", 2s, &r);
    if (last.ok() && r.kvs_size() == kKeys) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(r.kvs_size(), kKeys) << last.error_message();
  EXPECT_TRUE(WaitForLog(lagging, "installed a snapshot image", 10s));
}

// Two of three members killed: the survivor cannot commit or confirm reads, and says so with
// etcd's errors instead of hanging; serializable reads still answer from its own store.
TEST_F(ClusterTest, QuorumLossAnswersWithEtcdErrors) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_TRUE(cluster_->client(0).Put("before", "x", 5s).ok());
  const int survivor = (leader_ + 1) % cluster_->size();
  // The put was acknowledged once a quorum had it, which need not include the survivor: wait
  // until the survivor has applied it before taking the others away.
  etcdserverpb::RangeResponse seen;
  const auto applied_by = Clock::now() + 10s;
  while (Clock::now() < applied_by) {
    if (cluster_->client(survivor).Get("before", 2s, &seen, /*serializable=*/true).ok() &&
        seen.kvs_size() == 1) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(seen.kvs_size(), 1) << "the survivor never applied the first put";
  for (int i = 0; i < cluster_->size(); ++i) {
    if (i != survivor) cluster_->Kill9(i);
  }
  const auto start = Clock::now();
  const grpc::Status put = cluster_->client(survivor).Put("after", "y", 15s);
  const auto put_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  EXPECT_FALSE(put.ok());
  EXPECT_TRUE(put.error_message() == "etcdserver: no leader" ||
              put.error_message() == "etcdserver: request timed out" ||
              put.error_message() == "etcdserver: leader changed")
      << put.error_message();
  EXPECT_LT(put_ms, 12000);
  std::cerr << "put without quorum: \"" << put.error_message() << "\" after " << put_ms
            << " ms\n";
  etcdserverpb::RangeResponse r;
  EXPECT_FALSE(cluster_->client(survivor).Get("before", 15s, &r).ok());
  ASSERT_TRUE(cluster_->client(survivor).Get("before", 5s, &r, /*serializable=*/true).ok());
  ASSERT_EQ(r.kvs_size(), 1);
  EXPECT_EQ(r.kvs(0).value(), "x");
}

// Bytes that are not HTTP/2 on the client port: that connection is closed, the member lives.
// Connects to 127.0.0.1:port, writes bytes that are neither HTTP/2 nor a peer frame, and
// reports whether the server closed the connection within 10 s (it may answer first).
bool GarbageGetsConnectionClosed(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 512; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  EXPECT_EQ(write(fd, garbage.data(), garbage.size()), static_cast<ssize_t>(garbage.size()));
  bool closed = false;
  const auto deadline = Clock::now() + 10s;
  while (!closed && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[1024];
    const ssize_t n = read(fd, buf, sizeof(buf));
    closed = n <= 0;
  }
  close(fd);
  return closed;
}

// Garbage on a client port closes that connection; the member keeps serving.
TEST_F(ClusterTest, GarbageOnClientPortClosesOnlyThatConnection) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int member = (leader_ + 1) % cluster_->size();
  const std::string ep = cluster_->endpoint(member);
  EXPECT_TRUE(GarbageGetsConnectionClosed(std::stoi(ep.substr(ep.rfind(':') + 1))))
      << "connection with garbage still open after 10 s";

  EXPECT_TRUE(cluster_->running(member));
  ASSERT_TRUE(cluster_->client(member).Put("after-garbage", "ok", 5s).ok());
  etcdserverpb::RangeResponse r;
  ASSERT_TRUE(cluster_->client(member).Get("after-garbage", 5s, &r).ok());
  ASSERT_EQ(r.kvs_size(), 1);
  EXPECT_EQ(r.kvs(0).value(), "ok");
}

// Garbage on a peer port closes that connection; the member's real peer links are untouched,
// so it keeps replicating: a write through the leader reaches it.
TEST_F(ClusterTest, GarbageOnPeerPortClosesOnlyThatConnection) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int member = (leader_ + 1) % cluster_->size();
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(GarbageGetsConnectionClosed(cluster_->peer_port(member)))
        << "peer connection with garbage still open after 10 s (round " << round << ")";
  }
  EXPECT_TRUE(cluster_->running(member));
  ASSERT_TRUE(cluster_->client(leader_).Put("after-peer-garbage", "ok", 5s).ok());
  // A linearizable read on the member needs its link to the leader, and returns the write.
  etcdserverpb::RangeResponse r;
  ASSERT_TRUE(cluster_->client(member).Get("after-peer-garbage", 5s, &r).ok());
  ASSERT_EQ(r.kvs_size(), 1);
  EXPECT_EQ(r.kvs(0).value(), "ok");
  EXPECT_EQ(cluster_->WaitForLeader(5s), leader_) << "the garbage must not move leadership";
}

// A byte flipped inside a WAL record that later records follow is corruption, not a torn
// tail: the member refuses to start, naming the file and the offset, and the others go on.
TEST_F(ClusterTest, FlippedByteInWalRefusesStartNamingFileAndOffset) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int member = (leader_ + 1) % cluster_->size();
  const std::string marker = "flip-target-value-0123456789";
  ASSERT_TRUE(cluster_->client(leader_).Put("flip", marker, 5s).ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(cluster_->client(leader_).Put("after-" + std::to_string(i), "v", 5s).ok());
  }
  // The member has the entries once it serves the last one (a linearizable read).
  etcdserverpb::RangeResponse r;
  ASSERT_TRUE(cluster_->client(member).Get("after-49", 5s, &r).ok());
  ASSERT_EQ(r.kvs_size(), 1);
  ASSERT_EQ(cluster_->Terminate(member), 0);

  // Find the marker in the member's WAL and flip one of its bytes.
  std::string damaged;
  int64_t flipped_at = -1;
  for (const auto& e : std::filesystem::directory_iterator(cluster_->data_dir(member) + "/wal")) {
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const size_t at = bytes.find(marker);
    if (at == std::string::npos) continue;
    f.clear();
    f.seekp(static_cast<std::streamoff>(at + 4));
    f.put(static_cast<char>(bytes[at + 4] ^ 0x20));
    ASSERT_TRUE(f.good());
    damaged = e.path().string();
    flipped_at = static_cast<int64_t>(at + 4);
    break;
  }
  ASSERT_FALSE(damaged.empty()) << "marker not found in the WAL of member " << member;

  std::string error;
  ASSERT_TRUE(cluster_->Start(member, &error)) << error;
  const auto deadline = Clock::now() + 20s;
  bool exited = false;
  while (!(exited = cluster_->Exited(member)) && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(exited) << "a member with a damaged WAL is still running after 20 s";
  const std::string log = cluster_->LogTail(member, 4000);
  EXPECT_NE(log.find("corrupt record in " + damaged + " at offset "), std::string::npos)
      << "flipped byte at " << flipped_at << " of " << damaged << "; log:\n" << log;
  EXPECT_NE(log.find("refusing to start"), std::string::npos) << log;

  // The other two still form a quorum.
  ASSERT_TRUE(cluster_->client(leader_).Put("after-flip", "ok", 5s).ok());
}

}  // namespace
}  // namespace synod::cluster_test
