// The member list and the leader's membership checks, in one process: MemberRegistry applied
// by hand (adds, promotions, removals, new URLs, published attributes, replays after a
// restart, snapshot bytes) and member_checks over hand-made leader views.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "server/command.pb.h"
#include "server/member_checks.h"
#include "server/member_registry.h"
#include "test_files.h"

namespace synod::server {
namespace {

using raft::LogIndex;
using raft::NodeId;

using cluster_test::TempDir;

std::vector<MemberRecord> Founders() {
  return {MemberRecord{1, "a", {"http://127.0.0.1:1"}, {}, false},
          MemberRecord{2, "b", {"http://127.0.0.1:2"}, {}, false},
          MemberRecord{3, "c", {"http://127.0.0.1:3"}, {}, false}};
}

std::string Context(uint64_t id, const std::string& url, bool learner) {
  serverpb::MemberChange c;
  c.mutable_member()->set_id(id);
  c.mutable_member()->add_peerurls(url);
  c.mutable_member()->set_islearner(learner);
  return c.SerializeAsString();
}

raft::ConfState Conf(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {}) {
  raft::ConfState cs;
  for (uint64_t v : voters) cs.voters.emplace_back(v);
  for (uint64_t l : learners) cs.learners.emplace_back(l);
  return cs;
}

TEST(MemberRegistry, SeedsFromInitialClusterAndReloadsFromItsFile) {
  TempDir dir;
  const std::string path = dir.path() + "/members";
  {
    auto r = MemberRegistry::Open(path, Founders());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value()->List(), Founders());
    EXPECT_EQ(r.value()->applied_index(), LogIndex(0));
  }
  // The file wins over the flags once it exists.
  auto again = MemberRegistry::Open(path, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value()->List(), Founders());
}

TEST(MemberRegistry, AddPromoteUpdateRemoveFollowTheConfiguration) {
  TempDir dir;
  auto opened = MemberRegistry::Open(dir.path() + "/members", Founders());
  ASSERT_TRUE(opened.ok());
  MemberRegistry& r = *opened.value();
  int changes = 0;
  r.set_on_change([&](const std::vector<MemberRecord>&) { ++changes; });

  r.ApplyConfChange(LogIndex(10), Context(4, "http://127.0.0.1:4", true), Conf({1, 2, 3}, {4}));
  ASSERT_TRUE(r.Find(4).has_value());
  EXPECT_TRUE(r.Find(4)->learner);
  EXPECT_EQ(r.Find(4)->peer_urls, std::vector<std::string>{"http://127.0.0.1:4"});
  EXPECT_TRUE(r.Find(4)->name.empty());

  r.ApplyAttributes(LogIndex(11), 4, "d", {"http://127.0.0.1:14"});
  EXPECT_EQ(r.Find(4)->name, "d");
  EXPECT_EQ(r.Find(4)->client_urls, std::vector<std::string>{"http://127.0.0.1:14"});

  r.ApplyConfChange(LogIndex(12), Context(4, "http://127.0.0.1:4", false), Conf({1, 2, 3, 4}));
  EXPECT_FALSE(r.Find(4)->learner);
  EXPECT_EQ(r.Find(4)->name, "d") << "a promotion keeps the published attributes";

  r.ApplyPeerUrls(LogIndex(13), 4, {"http://127.0.0.1:40", "http://localhost:40"});
  EXPECT_EQ(r.Find(4)->peer_urls.size(), 2u);

  r.ApplyConfChange(LogIndex(14), Context(1, "", false), Conf({2, 3, 4}));
  EXPECT_FALSE(r.Find(1).has_value());
  EXPECT_TRUE(r.WasRemoved(1));
  EXPECT_EQ(r.List().size(), 3u);
  EXPECT_EQ(changes, 5);

  // A removed id never comes back, even if a change names it again.
  r.ApplyConfChange(LogIndex(15), Context(1, "http://127.0.0.1:1", true), Conf({2, 3, 4}, {1}));
  EXPECT_FALSE(r.Find(1).has_value());
}

TEST(MemberRegistry, ReplayedEntriesAreSkippedAndSnapshotBytesRoundTrip) {
  TempDir dir;
  const std::string path = dir.path() + "/members";
  std::string image;
  {
    auto r = MemberRegistry::Open(path, Founders());
    ASSERT_TRUE(r.ok());
    r.value()->ApplyConfChange(LogIndex(20), Context(4, "http://127.0.0.1:4", true),
                               Conf({1, 2, 3}, {4}));
    image = r.value()->Encode();
  }
  auto r = MemberRegistry::Open(path, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()->applied_index(), LogIndex(20));
  // A restart replays the same entries: nothing changes (an older removal is not re-applied).
  r.value()->ApplyConfChange(LogIndex(19), Context(2, "", false), Conf({1, 3}, {4}));
  EXPECT_TRUE(r.value()->Find(2).has_value());
  EXPECT_EQ(r.value()->List().size(), 4u);

  TempDir other;
  auto fresh = MemberRegistry::Open(other.path() + "/members", {});
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(fresh.value()->Restore(image).ok());
  EXPECT_EQ(fresh.value()->List(), r.value()->List());
  EXPECT_EQ(fresh.value()->applied_index(), LogIndex(20));
  // Field 2 announcing 16 bytes where 3 follow.
  EXPECT_FALSE(fresh.value()
                   ->Restore(std::string("\x12\x10"
                                         "abc",
                                         5))
                   .ok());
}

node::NodeInfo Leader(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {}) {
  node::NodeInfo info;
  info.id = NodeId(1);
  info.role = raft::Role::kLeader;
  info.conf_state = Conf(voters, learners);
  for (uint64_t v : voters) {
    raft::ProgressStatus p;
    p.match = LogIndex(100);
    p.state = raft::ProgressState::kReplicate;
    p.recent_active = true;
    info.progress[NodeId(v)] = p;
  }
  for (uint64_t l : learners) {
    raft::ProgressStatus p;
    p.learner = true;
    info.progress[NodeId(l)] = p;
  }
  return info;
}

void Down(node::NodeInfo* info, uint64_t id) {
  info->progress[NodeId(id)].state = raft::ProgressState::kProbe;
  info->progress[NodeId(id)].recent_active = false;
}

TEST(MemberChecks, VotersAreAddedAndRemovedOnlyWithEnoughStartedMembers) {
  node::NodeInfo info = Leader({1, 2, 3});
  EXPECT_TRUE(EnoughStartedToAddVoter(info));
  EXPECT_TRUE(EnoughStartedToRemoveVoter(info, 2));
  Down(&info, 3);
  // 2 started of 4 voters after the add: no quorum.
  EXPECT_FALSE(EnoughStartedToAddVoter(info));
  // Removing a started member leaves 1 started of 2; removing the down one leaves 2 of 2.
  EXPECT_FALSE(EnoughStartedToRemoveVoter(info, 2));
  EXPECT_TRUE(EnoughStartedToRemoveVoter(info, 3));
  // A learner never counts toward a quorum: it can always go.
  node::NodeInfo with_learner = Leader({1, 2, 3}, {4});
  Down(&with_learner, 2);
  Down(&with_learner, 3);
  EXPECT_TRUE(EnoughStartedToRemoveVoter(with_learner, 4));
}

TEST(MemberChecks, LearnerIsReadyWithinTenPercentOfTheLeader) {
  node::NodeInfo info = Leader({1, 2, 3}, {4});
  EXPECT_TRUE(IsLearner(info, 4));
  EXPECT_FALSE(IsVoter(info, 4));
  EXPECT_FALSE(LearnerReady(info, 4));
  info.progress[NodeId(4)].match = LogIndex(89);
  EXPECT_FALSE(LearnerReady(info, 4));
  info.progress[NodeId(4)].match = LogIndex(90);
  EXPECT_TRUE(LearnerReady(info, 4));
  EXPECT_FALSE(LearnerReady(info, 7)) << "an unknown member is never ready";
}

}  // namespace
}  // namespace synod::server
