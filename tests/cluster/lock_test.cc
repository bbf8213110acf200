// Locks and elections on real synod processes: `etcdctl lock` (two processes exclude each
// other; the waiter gets the lock when the holder exits, or when a killed holder's lease
// ends), `etcdctl elect` and `etcdctl elect -l`, the Lock and Election gRPC services, and
// fencing: a holder that stops keeping its lease alive loses the lock to another client, and
// its later write carrying its old token is refused by every member, even once the newer
// holder released the lock (the lock's high-water mark). Each test starts its own
// 3-member cluster; every wait is bounded.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_files.h"
#include "cluster_fixture.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "v3electionpb/v3election.grpc.pb.h"
#include "v3lockpb/v3lock.grpc.pb.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::unique_ptr<grpc::ClientContext> Deadline(std::chrono::milliseconds timeout) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + timeout);
  return c;
}

class LockTest : public ClusterFixture {
 protected:
  void StartCluster() { ClusterFixture::StartCluster(ClusterSpec{3, {}, false, true}); }

  void TearDown() override {
    for (Child& c : children_) c.Stop(SIGKILL, 5s);
    ClusterFixture::TearDown();
  }

  // Starts `etcdctl <args>` in the background; its output goes to the returned log file.
  std::string Spawn(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv = {EtcdctlPath(), "--endpoints=" + cluster_->endpoints(),
                                     "--dial-timeout=3s", "--command-timeout=10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = cluster_->dir() + "/" + name + ".log";
    std::string error;
    children_.emplace_back();
    EXPECT_TRUE(Child::Spawn(argv, log, &children_.back(), &error, {"ETCDCTL_API=3"})) << error;
    return log;
  }

  // Waits up to `timeout` for `text` in the file; false on timeout.
  static bool WaitFor(const std::string& log, const std::string& text,
                      std::chrono::milliseconds timeout) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (ReadFile(log).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  std::shared_ptr<grpc::Channel> Channel(int member) {
    return grpc::CreateChannel(cluster_->endpoint(member), grpc::InsecureChannelCredentials());
  }

  // A lease of `ttl` seconds nobody keeps alive; 0 on failure.
  int64_t Grant(const std::shared_ptr<grpc::Channel>& ch, int64_t ttl) {
    auto stub = etcdserverpb::Lease::NewStub(ch);
    etcdserverpb::LeaseGrantRequest req;
    req.set_ttl(ttl);
    etcdserverpb::LeaseGrantResponse resp;
    const grpc::Status s = stub->LeaseGrant(Deadline(5s).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return s.ok() ? resp.id() : 0;
  }

  // The create revision of `key` (the lock's fencing token); 0 if it does not exist.
  int64_t CreateRevision(const std::string& key) {
    etcdserverpb::RangeResponse r;
    const grpc::Status s = cluster_->client(leader_).Get(key, 5s, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return s.ok() && r.kvs_size() == 1 ? r.kvs(0).create_revision() : 0;
  }

  // A put of `key` carrying the fence `lock`=`token` in synod's metadata.
  grpc::Status FencedPut(int member, const std::string& key, const std::string& value,
                         const std::string& lock, int64_t token) {
    auto stub = etcdserverpb::KV::NewStub(Channel(member));
    auto ctx = Deadline(5s);
    ctx->AddMetadata("synod-fence", lock + "=" + std::to_string(token));
    etcdserverpb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    etcdserverpb::PutResponse resp;
    return stub->Put(ctx.get(), req, &resp);
  }

  std::vector<Child> children_;
};

TEST_F(LockTest, EtcdctlLockExcludesUntilTheHolderExitsOrItsLeaseEnds) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  children_.reserve(4);
  const std::string a = Spawn("lock-a", {"lock", "--ttl=3", "jobs"});
  ASSERT_TRUE(WaitFor(a, "jobs/", 15s)) << ReadFile(a);
  const std::string b = Spawn("lock-b", {"lock", "--ttl=3", "jobs"});
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(ReadFile(b).find("jobs/"), std::string::npos) << "both hold the lock: " << ReadFile(b);

  // A exits (SIGINT: etcdctl unlocks and leaves): B gets the lock.
  const auto released = Clock::now();
  EXPECT_EQ(children_[0].Stop(SIGINT, 10s), 0);
  ASSERT_TRUE(WaitFor(b, "jobs/", 15s)) << ReadFile(b);
  EXPECT_LT(Clock::now() - released, 10s);

  // B dies without unlocking: C waits for B's lease (3 s) to end.
  const std::string c = Spawn("lock-c", {"lock", "--ttl=3", "jobs"});
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(ReadFile(c).find("jobs/"), std::string::npos) << ReadFile(c);
  children_[1].Stop(SIGKILL, 5s);
  ASSERT_TRUE(WaitFor(c, "jobs/", 30s)) << ReadFile(c);
  EXPECT_NE(ReadFile(c), ReadFile(b));  // another key: another lease
}

TEST_F(LockTest, EtcdctlElectAndObserve) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  children_.reserve(3);
  const std::string watch = Spawn("observe", {"elect", "-l", "pick"});
  const std::string one = Spawn("elect-one", {"elect", "pick", "one"});
  ASSERT_TRUE(WaitFor(one, "one", 15s)) << ReadFile(one);
  ASSERT_TRUE(WaitFor(watch, "one", 15s)) << ReadFile(watch);
  const std::string two = Spawn("elect-two", {"elect", "pick", "two"});
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(ReadFile(two).find("two"), std::string::npos) << ReadFile(two);
  EXPECT_EQ(ReadFile(watch).find("two"), std::string::npos) << ReadFile(watch);

  EXPECT_EQ(children_[1].Stop(SIGINT, 10s), 0);  // "one" resigns
  ASSERT_TRUE(WaitFor(two, "two", 15s)) << ReadFile(two);
  ASSERT_TRUE(WaitFor(watch, "two", 15s)) << ReadFile(watch);
}

TEST_F(LockTest, LockServiceWaitsForTheHolderAndUnlocks) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int follower = (leader_ + 1) % cluster_->size();
  auto lock = v3lockpb::Lock::NewStub(Channel(follower));
  const int64_t lease_a = Grant(Channel(leader_), 30);
  const int64_t lease_b = Grant(Channel(leader_), 30);
  ASSERT_NE(lease_a, 0);
  ASSERT_NE(lease_b, 0);

  v3lockpb::LockRequest req;
  req.set_name("svc");
  req.set_lease(lease_a);
  v3lockpb::LockResponse first;
  grpc::Status s = lock->Lock(Deadline(10s).get(), req, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(first.key().rfind("svc/", 0), 0u) << first.key();
  const int64_t token_a = CreateRevision(first.key());
  EXPECT_GT(token_a, 0);
  EXPECT_GE(first.header().revision(), token_a);

  std::atomic<bool> acquired{false};
  v3lockpb::LockResponse second;
  grpc::Status second_status;
  std::thread waiter([&] {
    auto other = v3lockpb::Lock::NewStub(Channel(leader_));
    v3lockpb::LockRequest r = req;
    r.set_lease(lease_b);
    second_status = other->Lock(Deadline(20s).get(), r, &second);
    acquired = true;
  });
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(acquired.load()) << "two holders";

  v3lockpb::UnlockRequest unlock;
  unlock.set_key(first.key());
  v3lockpb::UnlockResponse unlocked;
  s = lock->Unlock(Deadline(5s).get(), unlock, &unlocked);
  EXPECT_TRUE(s.ok()) << s.error_message();
  waiter.join();
  ASSERT_TRUE(second_status.ok()) << second_status.error_message();
  EXPECT_NE(second.key(), first.key());
  EXPECT_GT(CreateRevision(second.key()), token_a);
  EXPECT_EQ(CreateRevision(first.key()), 0);

  // A lock on a lease that does not exist fails as a put with it would.
  v3lockpb::LockRequest bad = req;
  bad.set_lease(0x7777);
  v3lockpb::LockResponse none;
  s = lock->Lock(Deadline(5s).get(), bad, &none);
  EXPECT_EQ(s.error_message(), "etcdserver: requested lease not found");

  // A member stopped (SIGTERM) while a Lock waits on it answers the waiter and exits cleanly.
  grpc::Status cut;
  std::thread stuck([&] {
    auto other = v3lockpb::Lock::NewStub(Channel(follower));
    v3lockpb::LockRequest r = req;
    r.set_lease(Grant(Channel(leader_), 30));
    v3lockpb::LockResponse ignored;
    cut = other->Lock(Deadline(20s).get(), r, &ignored);
  });
  std::this_thread::sleep_for(1500ms);
  const auto stopping = Clock::now();
  EXPECT_EQ(cluster_->Terminate(follower), 0);
  stuck.join();
  EXPECT_LT(Clock::now() - stopping, 5s);
  EXPECT_FALSE(cut.ok());
}

TEST_F(LockTest, ElectionServiceCampaignLeaderProclaimObserveResign) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  auto election = v3electionpb::Election::NewStub(Channel(leader_));
  const int64_t lease_a = Grant(Channel(leader_), 30);
  const int64_t lease_b = Grant(Channel(leader_), 30);

  v3electionpb::LeaderRequest who;
  who.set_name("chair");
  v3electionpb::LeaderResponse nobody;
  grpc::Status s = election->Leader(Deadline(5s).get(), who, &nobody);
  EXPECT_EQ(s.error_message(), "election: no leader");

  v3electionpb::CampaignRequest ca;
  ca.set_name("chair");
  ca.set_lease(lease_a);
  ca.set_value("alice");
  v3electionpb::CampaignResponse won;
  s = election->Campaign(Deadline(10s).get(), ca, &won);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(won.leader().name(), "chair");
  EXPECT_EQ(won.leader().lease(), lease_a);
  EXPECT_EQ(won.leader().rev(), CreateRevision(won.leader().key()));

  // An observer on another member sees alice, then her proclaimed value, then bob.
  auto observer_stub = v3electionpb::Election::NewStub(Channel((leader_ + 1) % 3));
  auto observe_ctx = Deadline(30s);
  auto stream = observer_stub->Observe(observe_ctx.get(), who);
  v3electionpb::LeaderResponse seen;
  ASSERT_TRUE(stream->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "alice");

  v3electionpb::LeaderResponse leader;
  s = election->Leader(Deadline(5s).get(), who, &leader);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(leader.kv().key(), won.leader().key());
  EXPECT_EQ(leader.kv().value(), "alice");

  v3electionpb::ProclaimRequest pr;
  *pr.mutable_leader() = won.leader();
  pr.set_value("alice 2");
  v3electionpb::ProclaimResponse proclaimed;
  s = election->Proclaim(Deadline(5s).get(), pr, &proclaimed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(stream->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "alice 2");

  std::atomic<bool> elected{false};
  v3electionpb::CampaignResponse bob_won;
  grpc::Status bob_status;
  std::thread bob([&] {
    auto stub = v3electionpb::Election::NewStub(Channel((leader_ + 2) % 3));
    v3electionpb::CampaignRequest cb = ca;
    cb.set_lease(lease_b);
    cb.set_value("bob");
    bob_status = stub->Campaign(Deadline(20s).get(), cb, &bob_won);
    elected = true;
  });
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(elected.load());

  v3electionpb::ResignRequest rr;
  *rr.mutable_leader() = won.leader();
  v3electionpb::ResignResponse resigned;
  s = election->Resign(Deadline(5s).get(), rr, &resigned);
  EXPECT_TRUE(s.ok()) << s.error_message();
  bob.join();
  ASSERT_TRUE(bob_status.ok()) << bob_status.error_message();
  EXPECT_GT(bob_won.leader().rev(), won.leader().rev());
  ASSERT_TRUE(stream->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "bob");

  // Alice no longer leads: her proclamation is refused.
  s = election->Proclaim(Deadline(5s).get(), pr, &proclaimed);
  EXPECT_EQ(s.error_message(), "election: not leader");
  observe_ctx->TryCancel();
}

TEST_F(LockTest, StaleFencingTokenOfAPausedHolderIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int follower = (leader_ + 1) % cluster_->size();
  // A takes the lock on a 2 s lease that it will not keep alive (it "pauses").
  const int64_t lease_a = Grant(Channel(leader_), 2);
  auto lock = v3lockpb::Lock::NewStub(Channel(leader_));
  v3lockpb::LockRequest ra;
  ra.set_name("fence");
  ra.set_lease(lease_a);
  v3lockpb::LockResponse held_a;
  grpc::Status s = lock->Lock(Deadline(10s).get(), ra, &held_a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const int64_t token_a = CreateRevision(held_a.key());
  ASSERT_GT(token_a, 0);
  s = FencedPut(leader_, "guarded", "a1", "fence", token_a);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // B asks for the lock meanwhile and gets it once A's lease has expired.
  const int64_t lease_b = Grant(Channel(leader_), 60);
  v3lockpb::LockRequest rb = ra;
  rb.set_lease(lease_b);
  v3lockpb::LockResponse held_b;
  const auto asked = Clock::now();
  s = v3lockpb::Lock::NewStub(Channel(follower))->Lock(Deadline(30s).get(), rb, &held_b);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(Clock::now() - asked, 1s);  // it waited for A's lease
  const int64_t token_b = CreateRevision(held_b.key());
  EXPECT_GT(token_b, token_a);
  EXPECT_EQ(CreateRevision(held_a.key()), 0);
  s = FencedPut(follower, "guarded", "b1", "fence", token_b);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // A resumes and writes with its old token, through any member: refused.
  for (int m = 0; m < cluster_->size(); ++m) {
    s = FencedPut(m, "guarded", "a2", "fence", token_a);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << m;
    EXPECT_NE(s.error_message().find("fencing token"), std::string::npos) << s.error_message();
  }
  // A malformed fence is refused before it reaches the log.
  s = FencedPut(leader_, "guarded", "x", "fence", 0);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Every member holds B's write.
  for (int m = 0; m < cluster_->size(); ++m) {
    etcdserverpb::RangeResponse r;
    ASSERT_TRUE(cluster_->client(m).Get("guarded", 5s, &r).ok());
    ASSERT_EQ(r.kvs_size(), 1);
    EXPECT_EQ(r.kvs(0).value(), "b1") << m;
  }
}

// The lock's high-water mark: A's lease ends, B takes the lock (a newer token) and releases it
// without writing anything. Nobody holds the lock, and A's old token is still refused through
// every member, also after every member restarted.
TEST_F(LockTest, OldTokenRefusedAfterTheNewerHolderReleased) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int follower = (leader_ + 1) % cluster_->size();
  const int64_t lease_a = Grant(Channel(leader_), 2);
  v3lockpb::LockRequest ra;
  ra.set_name("hw");
  ra.set_lease(lease_a);
  v3lockpb::LockResponse held_a;
  grpc::Status s =
      v3lockpb::Lock::NewStub(Channel(leader_))->Lock(Deadline(10s).get(), ra, &held_a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const int64_t token_a = CreateRevision(held_a.key());
  ASSERT_GT(token_a, 0);
  s = FencedPut(leader_, "hw-guarded", "a1", "hw", token_a);
  ASSERT_TRUE(s.ok()) << s.error_message();

  const int64_t lease_b = Grant(Channel(follower), 60);
  v3lockpb::LockRequest rb = ra;
  rb.set_lease(lease_b);
  v3lockpb::LockResponse held_b;
  s = v3lockpb::Lock::NewStub(Channel(follower))->Lock(Deadline(30s).get(), rb, &held_b);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GT(CreateRevision(held_b.key()), token_a);
  v3lockpb::UnlockRequest ub;
  ub.set_key(held_b.key());
  v3lockpb::UnlockResponse unlocked;
  s = v3lockpb::Lock::NewStub(Channel(follower))->Unlock(Deadline(10s).get(), ub, &unlocked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(CreateRevision(held_b.key()), 0);
  ASSERT_EQ(CreateRevision(held_a.key()), 0);  // nobody holds "hw"

  auto expect_refused_everywhere = [&](const std::string& when) {
    for (int m = 0; m < cluster_->size(); ++m) {
      const grpc::Status put = FencedPut(m, "hw-guarded", "a2", "hw", token_a);
      EXPECT_EQ(put.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << when << m;
      EXPECT_NE(put.error_message().find("fencing token"), std::string::npos)
          << when << put.error_message();
    }
    // Each member's own store still holds A's first write.
    for (int m = 0; m < cluster_->size(); ++m) {
      etcdserverpb::RangeResponse r;
      ASSERT_TRUE(cluster_->client(m).Get("hw-guarded", 5s, &r, /*serializable=*/true).ok());
      ASSERT_EQ(r.kvs_size(), 1);
      EXPECT_EQ(r.kvs(0).value(), "a1") << when << m;
    }
  };
  expect_refused_everywhere("member ");
  // The mark is part of every member's store: it survives a restart of the whole cluster.
  for (int m = 0; m < cluster_->size(); ++m) cluster_->Kill9(m);
  std::string error;
  for (int m = 0; m < cluster_->size(); ++m) ASSERT_TRUE(cluster_->Start(m, &error)) << error;
  leader_ = cluster_->WaitForLeader(15s);
  ASSERT_GE(leader_, 0) << cluster_->last_wait_error();
  expect_refused_everywhere("after restart, member ");
}

}  // namespace
}  // namespace synod::cluster_test
