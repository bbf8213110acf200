// Maintenance on real synod processes, driven by Debian's etcdctl (3.4) and a gRPC client:
// snapshot save and a restore into a new cluster (synodctl), defrag, the NOSPACE alarm with a
// small --quota-backend-bytes and the operator's way out of it, move-leader (and its refusal
// of a target that is not a voter), endpoint hashkv.
// Each test starts its own cluster on free ports; every wait is bounded.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "test_files.h"
#include "cluster_fixture.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string SynodctlPath() {
  const char* env = std::getenv("SYNODCTL_BINARY");
  return env != nullptr ? env : SYNODCTL_BINARY_DEFAULT;
}

std::string Sha256(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), n);
}

std::string Hex(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(id));
  return buf;
}

class MaintenanceTest : public ClusterFixture {
 protected:
  void Start(int size, std::vector<std::string> flags = {}) {
    ClusterFixture::StartCluster(ClusterSpec{size, std::move(flags), false, true});
  }

  CommandResult Etcdctl(std::vector<std::string> args, const std::string& endpoints) {
    std::vector<std::string> argv = {EtcdctlPath(), "--endpoints=" + endpoints, "--dial-timeout=3s",
                                     "--command-timeout=20s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", {"ETCDCTL_API=3"}, 40s);
  }

  std::string EtcdctlOk(std::vector<std::string> args, const std::string& endpoints) {
    const CommandResult r = Etcdctl(std::move(args), endpoints);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
  }

  etcdserverpb::StatusResponse StatusOf(LocalCluster& c, int i) {
    etcdserverpb::StatusResponse s;
    const grpc::Status st = c.client(i).Status(5s, &s);
    EXPECT_TRUE(st.ok()) << i << ": " << st.error_message();
    return s;
  }

  std::unique_ptr<etcdserverpb::Maintenance::Stub> Maintenance(const std::string& endpoint) {
    return etcdserverpb::Maintenance::NewStub(
        grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  }

  // Member i's db size once it is below `limit` (RocksDB deletes replaced files in the
  // background, a moment after the defragmentation answered), or the last size seen.
  int64_t DbSizeBelow(LocalCluster& c, int i, int64_t limit) {
    const auto deadline = Clock::now() + 5s;
    int64_t size = StatusOf(c, i).dbsize();
    while (size >= limit && Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
      size = StatusOf(c, i).dbsize();
    }
    return size;
  }

  // Waits until every member has applied the same revision (followers apply a moment after
  // the leader answers).
  bool WaitSameRevision(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      std::set<int64_t> revisions;
      for (int i = 0; i < cluster_->size(); ++i) {
        etcdserverpb::RangeResponse r;
        if (cluster_->client(i).Get("none", 2s, &r, /*serializable=*/true).ok()) {
          revisions.insert(r.header().revision());
        } else {
          revisions.insert(-1 - i);
        }
      }
      if (revisions.size() == 1) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

TEST_F(MaintenanceTest, SnapshotSaveThenRestoreIntoNewSingleMemberCluster) {
  ASSERT_NO_FATAL_FAILURE(Start(3));
  const std::string leader = cluster_->endpoint(leader_);
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(cluster_->client(leader_)
                    .Put("key" + std::to_string(i), std::string(300, 'a' + i % 26), 5s)
                    .ok());
  }
  EtcdctlOk({"del", "key7"}, leader);
  EtcdctlOk({"compact", "10"}, leader);
  etcdserverpb::RangeResponse before;
  ASSERT_TRUE(cluster_->client(leader_).GetPrefix("key", 5s, &before).ok());
  ASSERT_EQ(before.kvs_size(), 59);

  // Through a follower: any member can back up the key space.
  const int follower = (leader_ + 1) % 3;
  ASSERT_TRUE(WaitSameRevision(5s));
  const std::string file = cluster_->dir() + "/backup.db";
  const std::string out = EtcdctlOk({"snapshot", "save", file}, cluster_->endpoint(follower));
  EXPECT_NE(out.find("Snapshot saved at " + file), std::string::npos) << out;
  const std::string bytes = ReadFile(file);
  ASSERT_GT(bytes.size(), 32u);
  EXPECT_EQ(bytes.size() % 512, 32u);  // what etcdctl checks before keeping the file
  const std::string_view image(bytes.data(), bytes.size() - 32);
  EXPECT_EQ(Sha256(image), bytes.substr(image.size()));

  // A damaged copy is refused; the real one builds a data dir.
  std::string damaged = bytes;
  damaged[damaged.size() / 3] ^= 0x01;
  std::ofstream(cluster_->dir() + "/damaged.db", std::ios::binary) << damaged;
  LocalCluster restored(SynodPath(), 1);
  CommandResult r =
      RunCommand({SynodctlPath(), "snapshot", "restore", cluster_->dir() + "/damaged.db",
                  "--data-dir", restored.data_dir(0)},
                 "", {}, 30s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("SHA-256 mismatch"), std::string::npos) << r.err;
  std::filesystem::remove_all(restored.data_dir(0));
  r = RunCommand({SynodctlPath(), "snapshot", "restore", file, "--data-dir", restored.data_dir(0),
                  "--name", "m1"},
                 "", {}, 30s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  std::string error;
  ASSERT_TRUE(restored.StartAll(&error)) << error;
  ASSERT_EQ(restored.WaitForLeader(15s), 0) << restored.LogTail(0);
  etcdserverpb::RangeResponse after;
  ASSERT_TRUE(restored.client(0).GetPrefix("key", 5s, &after).ok());
  ASSERT_EQ(after.kvs_size(), before.kvs_size());
  for (int i = 0; i < after.kvs_size(); ++i) {
    EXPECT_EQ(after.kvs(i).key(), before.kvs(i).key());
    EXPECT_EQ(after.kvs(i).value(), before.kvs(i).value());
    EXPECT_EQ(after.kvs(i).mod_revision(), before.kvs(i).mod_revision());
    EXPECT_EQ(after.kvs(i).create_revision(), before.kvs(i).create_revision());
    EXPECT_EQ(after.kvs(i).version(), before.kvs(i).version());
  }
  EXPECT_EQ(after.header().revision(), before.header().revision());
  // The new cluster goes on from the backup's revision, and kept its compaction.
  etcdserverpb::PutResponse put;
  ASSERT_TRUE(restored.client(0).Put("new", "v", 5s, &put).ok());
  EXPECT_EQ(put.header().revision(), before.header().revision() + 1);
  const CommandResult old = Etcdctl({"get", "key1", "--rev=5"}, restored.endpoint(0));
  EXPECT_NE(old.err.find("required revision has been compacted"), std::string::npos) << old.err;
}

TEST_F(MaintenanceTest, DefragShrinksEveryMemberAndKeepsData) {
  ASSERT_NO_FATAL_FAILURE(Start(3));
  const std::string leader = cluster_->endpoint(leader_);
  const std::string value(20000, 'x');
  for (int i = 0; i < 150; ++i) {
    ASSERT_TRUE(cluster_->client(leader_).Put("big" + std::to_string(i), value, 5s).ok());
  }
  ASSERT_TRUE(cluster_->client(leader_).Put("keep", "me", 5s).ok());
  EtcdctlOk({"del", "big", "--prefix"}, leader);
  etcdserverpb::PutResponse last;
  ASSERT_TRUE(cluster_->client(leader_).Put("keep2", "me", 5s, &last).ok());
  EtcdctlOk({"compact", std::to_string(last.header().revision())}, leader);
  ASSERT_TRUE(WaitSameRevision(5s));
  std::vector<int64_t> sizes;
  for (int i = 0; i < 3; ++i) sizes.push_back(StatusOf(*cluster_, i).dbsize());

  const std::string out = EtcdctlOk({"defrag"}, cluster_->endpoints());
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(out.find("Finished defragmenting etcd member[" + cluster_->endpoint(i) + "]"),
              std::string::npos)
        << out;
    const int64_t now = DbSizeBelow(*cluster_, i, sizes[i] / 2);
    // 3 MB of values were written and deleted: the rewrite leaves a fraction.
    EXPECT_LT(now, sizes[i] / 2) << "member " << i << ": " << sizes[i] << " -> " << now;
  }
  EXPECT_EQ(EtcdctlOk({"get", "keep", "--print-value-only"}, leader), "me\n");
  EXPECT_EQ(EtcdctlOk({"get", "big", "--prefix", "--keys-only"}, leader), "");
}

TEST_F(MaintenanceTest, NoSpaceAlarmRefusesWritesUntilSpaceIsFreedAndDisarmed) {
  constexpr int64_t kQuota = 2 << 20;
  ASSERT_NO_FATAL_FAILURE(Start(3, {"--quota-backend-bytes=" + std::to_string(kQuota)}));
  const std::string leader = cluster_->endpoint(leader_);
  const std::string value(100000, 'q');
  int written = 0;
  grpc::Status st;
  for (; written < 200; ++written) {
    st = cluster_->client(leader_).Put("fill" + std::to_string(written), value, 5s);
    if (!st.ok()) break;
  }
  ASSERT_FALSE(st.ok()) << "no write refused after " << written << " puts of 100 kB";
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(st.error_message(), "etcdserver: mvcc: database space exceeded");
  EXPECT_GT(written, 5);

  // Every member knows the alarm (it went through the log) and refuses puts, whatever its size.
  const std::string alarm_line =
      "memberID:" + std::to_string(StatusOf(*cluster_, leader_).header().member_id()) +
      " alarm:NOSPACE";
  for (int i = 0; i < 3; ++i) {
    const std::string list = EtcdctlOk({"alarm", "list"}, cluster_->endpoint(i));
    EXPECT_NE(list.find(alarm_line), std::string::npos) << i << ": " << list;
    const CommandResult put = Etcdctl({"put", "x", "y"}, cluster_->endpoint(i));
    EXPECT_NE(put.exit_code, 0);
    EXPECT_NE(put.err.find("etcdserver: mvcc: database space exceeded"), std::string::npos)
        << put.err;
  }
  const CommandResult txn = RunCommand({EtcdctlPath(), "--endpoints=" + leader, "txn"},
                                       "\nput t1 v\n\n\n", {"ETCDCTL_API=3"}, 30s);
  EXPECT_NE(txn.err.find("database space exceeded"), std::string::npos) << txn.out << txn.err;

  // The way out without downtime: delete, compact, defrag, disarm.
  EXPECT_NE(EtcdctlOk({"del", "fill", "--prefix"}, leader).find(std::to_string(written)),
            std::string::npos);
  etcdserverpb::StatusResponse s = StatusOf(*cluster_, leader_);
  EtcdctlOk({"compact", std::to_string(s.header().revision())}, leader);
  EtcdctlOk({"defrag"}, cluster_->endpoints());
  for (int i = 0; i < 3; ++i) {
    EXPECT_LT(DbSizeBelow(*cluster_, i, kQuota), kQuota) << "member " << i;
  }
  const std::string disarmed = EtcdctlOk({"alarm", "disarm"}, leader);
  EXPECT_NE(disarmed.find(alarm_line), std::string::npos) << disarmed;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(EtcdctlOk({"alarm", "list"}, cluster_->endpoint(i)), "") << i;
  }
  // The size a member checks is refreshed once a second: within a few, writes pass again.
  const auto deadline = Clock::now() + 5s;
  while (!cluster_->client(leader_).Put("after", "ok", 5s).ok() && Clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(EtcdctlOk({"put", "after" + std::to_string(i), "ok"}, cluster_->endpoint(i)), "OK\n");
  }
}

TEST_F(MaintenanceTest, MoveLeaderHandsOverAndFollowersRefuse) {
  ASSERT_NO_FATAL_FAILURE(Start(3));
  const int target = (leader_ + 1) % 3;
  const uint64_t target_id = StatusOf(*cluster_, target).header().member_id();
  const uint64_t old_id = StatusOf(*cluster_, leader_).header().member_id();

  // etcdctl finds the leader among the endpoints and asks it.
  const std::string out = EtcdctlOk({"move-leader", Hex(target_id)}, cluster_->endpoints());
  EXPECT_NE(out.find("Leadership transferred from " + Hex(old_id) + " to " + Hex(target_id)),
            std::string::npos)
      << out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(StatusOf(*cluster_, i).leader(), target_id) << "member " << i;
  }
  EXPECT_TRUE(cluster_->client(target).Put("after-move", "v", 5s).ok());

  // A member that does not lead refuses, as etcd does.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  etcdserverpb::MoveLeaderRequest req;
  req.set_targetid(old_id);
  etcdserverpb::MoveLeaderResponse resp;
  const grpc::Status st = Maintenance(cluster_->endpoint(leader_))->MoveLeader(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(), "etcdserver: not leader");
}

// A target that is not a voter (an unknown id, a learner) can never take over: the leader
// answers etcd's error at once instead of waiting for the transfer to time out.
TEST_F(MaintenanceTest, MoveLeaderToNonVoterFailsFast) {
  ASSERT_NO_FATAL_FAILURE(Start(3));
  const uint64_t leader_id = StatusOf(*cluster_, leader_).header().member_id();
  uint64_t learner_id = 0;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    etcdserverpb::MemberAddRequest req;
    req.add_peerurls("http://127.0.0.1:1");  // announced, never started
    req.set_islearner(true);
    etcdserverpb::MemberAddResponse resp;
    const grpc::Status st =
        etcdserverpb::Cluster::NewStub(
            grpc::CreateChannel(cluster_->endpoint(leader_), grpc::InsecureChannelCredentials()))
            ->MemberAdd(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    learner_id = resp.member().id();
  }
  for (const uint64_t target : {uint64_t{0x1234}, learner_id}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    etcdserverpb::MoveLeaderRequest req;
    req.set_targetid(target);
    etcdserverpb::MoveLeaderResponse resp;
    const auto start = Clock::now();
    const grpc::Status st = Maintenance(cluster_->endpoint(leader_))->MoveLeader(&ctx, req, &resp);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Hex(target);
    EXPECT_EQ(st.error_message(), "etcdserver: bad leader transferee") << Hex(target);
    EXPECT_LT(took.count(), 1000) << "not failed fast for " << Hex(target);
  }
  // etcdctl prints etcd's error.
  const CommandResult r = Etcdctl({"move-leader", Hex(learner_id)}, cluster_->endpoints());
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.err.find("etcdserver: bad leader transferee"), std::string::npos) << r.err;
  // Leadership stayed where it was.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(StatusOf(*cluster_, i).leader(), leader_id);
}

TEST_F(MaintenanceTest, HashKvEqualOnEveryMemberAtTheSameRevision) {
  ASSERT_NO_FATAL_FAILURE(Start(3));
  const std::string leader = cluster_->endpoint(leader_);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(
        cluster_->client(i % 3).Put("h" + std::to_string(i % 15), std::to_string(i), 5s).ok());
  }
  EtcdctlOk({"del", "h3"}, leader);
  EtcdctlOk({"compact", "20"}, leader);
  etcdserverpb::PutResponse last;
  ASSERT_TRUE(cluster_->client(leader_).Put("h99", "last", 5s, &last).ok());
  ASSERT_TRUE(WaitSameRevision(5s));

  // etcdctl endpoint hashkv: "<endpoint>, <hash>" per member.
  const std::string out = EtcdctlOk({"endpoint", "hashkv"}, cluster_->endpoints());
  std::set<std::string> hashes;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const size_t comma = line.find(", ");
    ASSERT_NE(comma, std::string::npos) << out;
    hashes.insert(line.substr(comma + 2));
  }
  EXPECT_EQ(hashes.size(), 1u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;

  // At a past revision too, with the compaction each member applied.
  std::set<uint32_t> past;
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    etcdserverpb::HashKVRequest req;
    req.set_revision(30);
    etcdserverpb::HashKVResponse resp;
    const grpc::Status st = Maintenance(cluster_->endpoint(i))->HashKV(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.compact_revision(), 20);
    EXPECT_EQ(resp.hash_revision(), 30);
    past.insert(resp.hash());
  }
  EXPECT_EQ(past.size(), 1u);
  EXPECT_EQ(past.count(0), 0u);
  // Below the compaction: etcd's error.
  grpc::ClientContext ctx;
  etcdserverpb::HashKVRequest req;
  req.set_revision(5);
  etcdserverpb::HashKVResponse resp;
  const grpc::Status st = Maintenance(leader)->HashKV(&ctx, req, &resp);
  EXPECT_EQ(st.error_message(), "etcdserver: mvcc: required revision has been compacted");
}

}  // namespace
}  // namespace synod::cluster_test
