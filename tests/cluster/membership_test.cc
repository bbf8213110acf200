// Membership changes on real synod processes, driven by Debian's etcdctl: member list, add
// (voter and learner), promote, update and remove, with etcd's errors; a cluster grown from 3
// to 4 through a learner that catches up from a snapshot and is then promoted (and survives a
// restart of every member); the leader removed while a writer writes (a new leader, no
// acknowledged write lost, the old leader stops by itself); and automatic promotion with
// --auto-promote-learners. Every wait is bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <thread>

#include "acked_writer.h"
#include "cluster_fixture.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One line of `etcdctl member list`: "id, started|unstarted, name, peers, clients, learner".
struct ListedMember {
  std::string id, status, name, peer_urls, client_urls;
  bool learner = false;
};

std::vector<std::string> SplitFields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(", ", start);
    out.push_back(line.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 2;
  }
}

std::map<std::string, ListedMember> ParseMemberList(const std::string& out) {
  std::map<std::string, ListedMember> by_id;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> f = SplitFields(line);
    EXPECT_EQ(f.size(), 6u) << line;
    if (f.size() != 6) continue;
    by_id[f[0]] = ListedMember{f[0], f[1], f[2], f[3], f[4], f[5] == "true"};
  }
  return by_id;
}

std::string Hex(uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(id));
  return buf;
}

class MembershipTest : public ClusterFixture {
 protected:
  void Start(std::vector<std::string> flags = {}) {
    StartCluster(ClusterSpec{3, std::move(flags), false, true});
  }

  CommandResult Etcdctl(std::vector<std::string> args, std::string endpoints = "") {
    if (endpoints.empty()) endpoints = cluster_->endpoint(leader_);
    std::vector<std::string> argv = {EtcdctlPath(), "--endpoints=" + endpoints, "--dial-timeout=3s",
                                     "--command-timeout=15s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", {"ETCDCTL_API=3"}, 30s);
  }

  std::string EtcdctlOk(std::vector<std::string> args, std::string endpoints = "") {
    const CommandResult r = Etcdctl(std::move(args), std::move(endpoints));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
  }

  // Fails with etcdctl's "Error: <message>" on stderr.
  void EtcdctlFails(std::vector<std::string> args, const std::string& message) {
    const CommandResult r = Etcdctl(std::move(args));
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE(r.err.find("Error: " + message), std::string::npos) << r.err;
  }

  std::map<std::string, ListedMember> MemberList(std::string endpoints = "") {
    return ParseMemberList(EtcdctlOk({"member", "list"}, std::move(endpoints)));
  }

  // The member's id in hex, as etcdctl prints it.
  std::string MemberId(int i) {
    etcdserverpb::StatusResponse st;
    const grpc::Status s = cluster_->client(i).Status(3s, &st);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return Hex(st.header().member_id());
  }

  // `etcdctl member add`; the new member's hex id from "Member <id> added to cluster <id>".
  std::string AddMember(int i, bool learner) {
    std::vector<std::string> args = {"member", "add", "m" + std::to_string(i + 1),
                                     "--peer-urls=" + cluster_->peer_url(i)};
    if (learner) args.push_back("--learner");
    const std::string out = EtcdctlOk(args);
    EXPECT_NE(out.find("ETCD_INITIAL_CLUSTER_STATE=\"existing\""), std::string::npos) << out;
    const std::string head = "Member ";
    const size_t end = out.find(" added to cluster ");
    if (out.rfind(head, 0) != 0 || end == std::string::npos) {
      ADD_FAILURE() << "unexpected member add output: " << out;
      return "";
    }
    // etcdctl pads the id to 16 columns.
    std::string id = out.substr(head.size(), end - head.size());
    id.erase(0, id.find_first_not_of(' '));
    return id;
  }

  // Waits until the member at `endpoint` (default: the leader) lists member `id` under `name`
  // with client URLs, which the member publishes through the log once it has started.
  bool WaitForStarted(const std::string& id, const std::string& name,
                      std::chrono::milliseconds timeout, const std::string& endpoint = "") {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      const auto list = MemberList(endpoint);
      auto it = list.find(id);
      if (it != list.end() && it->second.status == "started" && it->second.name == name &&
          !it->second.client_urls.empty()) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // Retries `member promote` while the learner is still catching up.
  CommandResult PromoteWhenReady(const std::string& id, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    CommandResult r;
    while (Clock::now() < deadline) {
      r = Etcdctl({"member", "promote", id});
      if (r.exit_code == 0 || r.err.find("in sync with leader") == std::string::npos) break;
      std::this_thread::sleep_for(200ms);
    }
    return r;
  }

  void PutKeys(const std::string& prefix, int n) {
    for (int k = 0; k < n; ++k) {
      const grpc::Status s =
          cluster_->client(leader_).Put(prefix + std::to_string(k), "v" + std::to_string(k), 5s);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }
};

TEST_F(MembershipTest, EtcdctlListAddPromoteUpdateRemove) {
  ASSERT_NO_FATAL_FAILURE(Start());
  // Members publish their names and client URLs through the log once a leader is known.
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      ASSERT_TRUE(
          WaitForStarted(MemberId(j), "m" + std::to_string(j + 1), 10s, cluster_->endpoint(i)))
          << "member " << j << " as member " << i << " lists it";
    }
  }
  // The list every member gives: three started voters, each with its name and client URL.
  for (int i = 0; i < 3; ++i) {
    const auto list = MemberList(cluster_->endpoint(i));
    ASSERT_EQ(list.size(), 3u);
    for (int j = 0; j < 3; ++j) {
      const ListedMember& m = list.at(MemberId(j));
      EXPECT_EQ(m.status, "started");
      EXPECT_EQ(m.name, "m" + std::to_string(j + 1));
      EXPECT_EQ(m.peer_urls, cluster_->peer_url(j));
      EXPECT_EQ(m.client_urls, "http://" + cluster_->endpoint(j));
      EXPECT_FALSE(m.learner);
    }
  }
  ASSERT_TRUE(cluster_->client(leader_).Put("before", "add", 5s).ok());

  // A learner announced but not started: unstarted, and not promotable.
  const int fourth = cluster_->AddMember();
  const std::string id = AddMember(fourth, /*learner=*/true);
  auto list = MemberList();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list.at(id).status, "unstarted");
  EXPECT_EQ(list.at(id).peer_urls, cluster_->peer_url(fourth));
  EXPECT_TRUE(list.at(id).learner);
  EtcdctlFails({"member", "promote", id},
               "etcdserver: can only promote a learner member which is in sync with leader");
  // etcd's limit of one learner, URLs already taken, and malformed ones.
  EtcdctlFails({"member", "add", "m9", "--learner", "--peer-urls=http://127.0.0.1:1"},
               "etcdserver: too many learner members in cluster");
  EtcdctlFails({"member", "add", "m9", "--peer-urls=" + cluster_->peer_url(0)},
               "etcdserver: Peer URLs already exists");
  EtcdctlFails({"member", "add", "m9", "--peer-urls=http://127.0.0.1:99999"},
               "etcdserver: given member URLs are invalid");

  // Started with --initial-cluster-state existing, it catches up, still a learner.
  std::string error;
  ASSERT_TRUE(cluster_->Start(fourth, &error)) << error;
  ASSERT_TRUE(WaitForValue(fourth, "before", "add", 15s));
  EXPECT_TRUE(WaitForStarted(id, "m4", 10s));
  list = MemberList();
  EXPECT_TRUE(list.at(id).learner) << "promoted without --auto-promote-learners";
  EXPECT_EQ(MemberId(fourth), id);
  etcdserverpb::StatusResponse joined, founder;
  ASSERT_TRUE(cluster_->client(fourth).Status(3s, &joined).ok());
  ASSERT_TRUE(cluster_->client(leader_).Status(3s, &founder).ok());
  EXPECT_EQ(joined.header().cluster_id(), founder.header().cluster_id());

  const CommandResult promoted = PromoteWhenReady(id, 15s);
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  EXPECT_NE(promoted.out.find(" " + id + " promoted in cluster"), std::string::npos)
      << promoted.out;
  EXPECT_FALSE(MemberList().at(id).learner);
  EtcdctlFails({"member", "promote", id}, "etcdserver: can only promote a learner member");
  EtcdctlFails({"member", "promote", "1234"}, "etcdserver: member not found");
  EtcdctlFails({"member", "remove", "1234"}, "etcdserver: member not found");
  EtcdctlFails({"member", "update", "1234", "--peer-urls=http://127.0.0.1:2"},
               "etcdserver: member not found");

  // New peer URLs are replicated: every member lists them.
  const std::string urls =
      cluster_->peer_url(fourth) + ",http://localhost:" +
      cluster_->peer_url(fourth).substr(cluster_->peer_url(fourth).rfind(':') + 1);
  const std::string updated =
      EtcdctlOk({"member", "update", id, "--peer-urls=" + urls}, cluster_->endpoint(fourth));
  EXPECT_NE(updated.find(" " + id + " updated in cluster"), std::string::npos) << updated;
  for (int i = 0; i < 4; ++i) {
    const auto deadline = Clock::now() + 5s;
    std::string seen;
    while (Clock::now() < deadline) {
      seen = MemberList(cluster_->endpoint(i)).at(id).peer_urls;
      if (seen == urls) break;
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(seen, urls) << "member " << i;
  }

  // Removed (asked of a follower, which passes it on to the leader), the member stops by
  // itself; the others list three members again.
  const std::string removed =
      EtcdctlOk({"member", "remove", id}, cluster_->endpoint((leader_ + 1) % 3));
  EXPECT_NE(removed.find(" " + id + " removed from cluster"), std::string::npos) << removed;
  EXPECT_TRUE(WaitForExit(fourth, 15s)) << "a removed member keeps running";
  EXPECT_TRUE(WaitForLog(fourth, "permanently removed", 1s));
  EXPECT_EQ(MemberList().size(), 3u);
  EXPECT_EQ(MemberList().count(id), 0u);
  ASSERT_TRUE(cluster_->client(leader_).Put("after", "remove", 5s).ok());
}

// 3 -> 4: a learner far behind (the log before it is compacted) catches up through a snapshot,
// is promoted, and counts toward the quorum: with one founder down, writes still commit. Every
// member restarted keeps the four-member configuration.
TEST_F(MembershipTest, GrowThreeToFourThroughLearnerAndSnapshot) {
  ASSERT_NO_FATAL_FAILURE(Start({"--snapshot-count=200"}));
  ASSERT_NO_FATAL_FAILURE(PutKeys("grow/", 600));
  const int fourth = cluster_->AddMember();
  const std::string id = AddMember(fourth, /*learner=*/true);
  std::string error;
  ASSERT_TRUE(cluster_->Start(fourth, &error)) << error;
  ASSERT_TRUE(WaitForValue(fourth, "grow/599", "v599", 20s));
  EXPECT_TRUE(WaitForLog(fourth, "installed snapshot at index", 5s))
      << "the learner should have caught up from a snapshot";
  const CommandResult promoted = PromoteWhenReady(id, 15s);
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;

  etcdserverpb::RangeResponse r;
  ASSERT_TRUE(cluster_->client(fourth).GetPrefix("grow/", 5s, &r).ok());
  EXPECT_EQ(r.kvs_size(), 600);

  // Four voters: a quorum is three, so one founder down leaves a working cluster.
  const int down = (leader_ + 1) % 3;
  cluster_->Kill9(down);
  ASSERT_TRUE(cluster_->client(leader_).Put("grow/with-one-down", "ok", 10s).ok());
  ASSERT_TRUE(WaitForValue(fourth, "grow/with-one-down", "ok", 10s));

  // Every member restarted: the configuration (rebuilt from the log) still has four voters.
  for (int i = 0; i < 4; ++i) cluster_->Kill9(i);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(cluster_->Start(i, &error)) << error;
  leader_ = cluster_->WaitForLeader(15s);
  ASSERT_GE(leader_, 0) << cluster_->last_wait_error();
  const auto list = MemberList();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_FALSE(list.at(id).learner);
  int killed = 0;
  for (int i = 0; i < 4 && killed < 2; ++i) {
    if (i == leader_) continue;
    cluster_->Kill9(i);
    ++killed;
  }
  // Two of four left: no quorum, so a write must fail rather than succeed.
  EXPECT_FALSE(cluster_->client(leader_).Put("grow/no-quorum", "x", 3s).ok());
}

// The leader removes itself while a writer keeps writing: it steps down and stops, the other
// two elect a new leader, writes resume, and every acknowledged write is on both survivors.
TEST_F(MembershipTest, LeaderRemovedNewLeaderAndNoAcknowledgedWriteLost) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const int old_leader = leader_;
  AckedWriter writer(cluster_.get());
  ASSERT_TRUE(writer.WaitForAcks(50));
  const std::string id = MemberId(old_leader);
  const auto removed_at = Clock::now();
  const std::string out = EtcdctlOk({"member", "remove", id});
  EXPECT_NE(out.find("removed from cluster"), std::string::npos) << out;
  EXPECT_TRUE(WaitForExit(old_leader, 15s)) << "the removed leader keeps running";
  const int fresh = cluster_->WaitForLeader(10s);
  ASSERT_GE(fresh, 0) << cluster_->last_wait_error();
  EXPECT_NE(fresh, old_leader);
  std::cerr
      << "new leader known "
      << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - removed_at).count()
      << " ms after the removal was asked\n";
  const int before = writer.acked_count();
  EXPECT_TRUE(writer.WaitForAcks(before + 50)) << "writes did not resume";
  writer.Stop();
  const std::map<std::string, std::string>& acked = writer.acked();

  for (int i = 0; i < cluster_->size(); ++i) {
    if (i == old_leader) continue;
    etcdserverpb::RangeResponse r;
    ASSERT_TRUE(cluster_->client(i).GetPrefix("ack/", 5s, &r).ok());
    std::map<std::string, std::string> seen;
    for (const auto& kv : r.kvs()) seen[kv.key()] = kv.value();
    for (const auto& [k, v] : acked) {
      ASSERT_EQ(seen[k], v) << "acknowledged " << k << " missing on member " << i;
    }
  }
  leader_ = fresh;
  const auto list = MemberList();
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list.count(id), 0u);
}

// With --auto-promote-learners the leader promotes a learner once it has caught up.
TEST_F(MembershipTest, AutoPromotesCaughtUpLearnerWithFlag) {
  ASSERT_NO_FATAL_FAILURE(Start({"--auto-promote-learners"}));
  ASSERT_NO_FATAL_FAILURE(PutKeys("auto/", 100));
  const int fourth = cluster_->AddMember();
  const std::string id = AddMember(fourth, /*learner=*/true);
  // Not started: never caught up, so never promoted.
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(MemberList().at(id).learner);
  std::string error;
  ASSERT_TRUE(cluster_->Start(fourth, &error)) << error;
  const auto deadline = Clock::now() + 20s;
  bool learner = true;
  while (learner && Clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    learner = MemberList().at(id).learner;
  }
  EXPECT_FALSE(learner) << "the caught-up learner was not promoted";
  EXPECT_TRUE(WaitForLog(leader_, "promoting learner", 1s));
  ASSERT_TRUE(WaitForValue(fourth, "auto/99", "v99", 10s));
}

}  // namespace
}  // namespace synod::cluster_test
