// Membership changes during a partition, with real processes in the fault tests' private
// network (netns.h): a 3-member cluster, one follower cut off from the rest, a 4th member added
// (as a learner, started, caught up, promoted) and the leader removed through the Cluster API
// while the follower is away; then the partition heals. A register workload (recorded,
// checked linearizable) and an acknowledged-write writer run throughout. Measured times go to
// the test log ("measured: ...").
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "acked_writer.h"
#include "cluster_fixture.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "fault_support.h"
#include "netns.h"
#include "op_history.h"
#include "register_workload.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::unique_ptr<etcdserverpb::Cluster::Stub> ClusterStub(const std::string& endpoint) {
  return etcdserverpb::Cluster::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
}

std::unique_ptr<etcdserverpb::Maintenance::Stub> MaintenanceStub(const std::string& endpoint) {
  return etcdserverpb::Maintenance::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
}

void SetDeadline(grpc::ClientContext* ctx, std::chrono::milliseconds timeout) {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
}

// One member's view of the configuration, one line per member sorted by id: "id name peers
// clients learner". Empty when the member does not answer.
std::string MemberListOf(const std::string& endpoint) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, 2s);
  etcdserverpb::MemberListRequest req;
  etcdserverpb::MemberListResponse resp;
  if (!ClusterStub(endpoint)->MemberList(&ctx, req, &resp).ok()) return "";
  std::map<uint64_t, std::string> lines;
  for (const etcdserverpb::Member& m : resp.members()) {
    std::string line = std::to_string(m.id()) + " " + m.name();
    for (const std::string& u : m.peerurls()) line += " p=" + u;
    for (const std::string& u : m.clienturls()) line += " c=" + u;
    lines[m.id()] = line + (m.islearner() ? " learner" : " voter");
  }
  std::string out;
  for (const auto& [id, line] : lines) out += line + "\n";
  return out;
}

std::set<uint64_t> VoterIds(const std::string& list) {
  std::set<uint64_t> ids;
  size_t start = 0;
  while (start < list.size()) {
    const size_t end = list.find('\n', start);
    const std::string line = list.substr(start, end - start);
    if (line.size() > 6 && line.substr(line.size() - 6) == " voter") {
      ids.insert(std::stoull(line.substr(0, line.find(' '))));
    }
    start = end == std::string::npos ? list.size() : end + 1;
  }
  return ids;
}

class FaultMembershipTest : public NetnsClusterFixture {
 protected:
  uint64_t MemberId(int i) {
    etcdserverpb::StatusResponse st;
    const grpc::Status s = cluster_->client(i).Status(3s, &st);
    EXPECT_TRUE(s.ok()) << "member " << i << ": " << s.error_message();
    return st.header().member_id();
  }

  // A put through whichever of `members` takes it first (the leader may just have changed).
  grpc::Status PutVia(const std::vector<int>& members, const std::string& key,
                      const std::string& value, etcdserverpb::PutResponse* out = nullptr) {
    grpc::Status s;
    const auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      for (int i : members) {
        s = cluster_->client(i).Put(key, value, 3s, out);
        if (s.ok()) return s;
      }
      std::this_thread::sleep_for(100ms);
    }
    return s;
  }
};

// See the file comment. Fails when: the majority cannot add or promote the member or remove
// its leader while a follower is cut off; no new leader among the two remaining voters; the
// removed leader keeps running; writes stop; after healing, the follower does not catch up or
// still holds the old configuration; the live members' member lists or HashKV differ; an
// acknowledged write is missing; or the history is not linearizable.
TEST_F(FaultMembershipTest, MemberAddedAndLeaderRemovedDuringPartition) {
  ClusterSpec spec;
  spec.hosts = MemberHosts(3);
  ASSERT_NO_FATAL_FAILURE(StartCluster(std::move(spec)));
  // The 4th member's place (on its own address) exists before any client thread runs: adding
  // it later would move LocalCluster's members under the workload's feet.
  const int fourth = cluster_->AddMember({}, MemberHosts(4)[3]);
  const int cut_off = (leader_ + 1) % 3;
  const uint64_t cut_off_id = MemberId(cut_off);
  std::vector<int> majority;
  for (int i = 0; i < 3; ++i) {
    if (i != cut_off) majority.push_back(i);
  }

  OpHistory history;
  RegisterWorkloadOptions options;
  RegisterWorkload workload(*cluster_, history, options);
  workload.Start();
  AckedWriter writer(cluster_.get());
  ASSERT_TRUE(writer.WaitForAcks(50, 15s)) << "the writer made no progress on a healthy cluster";

  std::string error;
  ASSERT_TRUE(Firewall::Partition(
      {cluster_->host(cut_off)},
      {cluster_->host(majority[0]), cluster_->host(majority[1]), cluster_->host(fourth)}, &error))
      << error;
  const int leader = WaitForLeaderAmong(*cluster_, majority, 10s);
  ASSERT_GE(leader, 0) << "the majority has no leader after the cut";

  // Added as a learner (a voter that has not started would leave the three reachable voters of
  // four with no spare), started with --initial-cluster-state=existing, caught up, promoted.
  uint64_t fourth_id = 0;
  {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 10s);
    etcdserverpb::MemberAddRequest req;
    req.add_peerurls(cluster_->peer_url(fourth));
    req.set_islearner(true);
    etcdserverpb::MemberAddResponse resp;
    const grpc::Status s = ClusterStub(cluster_->endpoint(leader))->MemberAdd(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << "member add while a follower is cut off: " << s.error_message();
    fourth_id = resp.member().id();
    ASSERT_NE(fourth_id, 0u);
  }
  ASSERT_TRUE(cluster_->Start(fourth, &error)) << error;
  const auto started = Clock::now();
  ASSERT_TRUE(PutVia(majority, "fm/added", "1").ok());
  ASSERT_TRUE(WaitForValue(fourth, "fm/added", "1", 30s)) << "the new member never caught up";
  std::cerr << "measured: new member caught up " << MillisSince(started) << " ms after start\n";
  grpc::Status promoted;
  const auto promote_deadline = Clock::now() + 20s;
  while (Clock::now() < promote_deadline) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 5s);
    etcdserverpb::MemberPromoteRequest req;
    req.set_id(fourth_id);
    etcdserverpb::MemberPromoteResponse resp;
    promoted = ClusterStub(cluster_->endpoint(leader))->MemberPromote(&ctx, req, &resp);
    if (promoted.ok() || promoted.error_message().find("in sync") == std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(promoted.ok()) << "promote: " << promoted.error_message();
  const std::set<uint64_t> four = VoterIds(MemberListOf(cluster_->endpoint(leader)));
  ASSERT_EQ(four.size(), 4u) << MemberListOf(cluster_->endpoint(leader));
  // Four voters, one unreachable: the other three are a quorum.
  ASSERT_TRUE(PutVia({leader}, "fm/four-voters", "1").ok());

  // The current leader is removed; the remaining voters are the other two reachable members
  // and the cut-off follower, so those two must elect a leader by themselves.
  const int removed = WaitForLeaderAmong(*cluster_, {majority[0], majority[1], fourth}, 10s);
  ASSERT_GE(removed, 0) << "no leader among the reachable voters";
  const uint64_t removed_id = MemberId(removed);
  std::vector<int> survivors;
  for (int i : {majority[0], majority[1], fourth}) {
    if (i != removed) survivors.push_back(i);
  }
  const int acked_before_removal = writer.acked_count();
  const auto removal = Clock::now();
  {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 10s);
    etcdserverpb::MemberRemoveRequest req;
    req.set_id(removed_id);
    etcdserverpb::MemberRemoveResponse resp;
    // Asked of a follower, which passes it on to the leader.
    const grpc::Status s =
        ClusterStub(cluster_->endpoint(survivors[0]))->MemberRemove(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << "remove the leader: " << s.error_message();
  }
  int new_leader = WaitForLeaderAmong(*cluster_, survivors, 15s);
  ASSERT_GE(new_leader, 0) << "no new leader among the two remaining reachable voters";
  std::cerr << "measured: new leader (" << (new_leader == fourth ? "the added member" : "a founder")
            << ") " << MillisSince(removal) << " ms after the leader's removal\n";
  EXPECT_TRUE(WaitForExit(removed, 15s)) << "the removed leader keeps running";
  std::cerr << "measured: removed leader had exited " << MillisSince(removal)
            << " ms after its removal (when first checked)\n";
  EXPECT_NE(cluster_->LogTail(removed, 1 << 20).find("permanently removed"), std::string::npos);
  EXPECT_TRUE(writer.WaitForAcks(acked_before_removal + 50, 20s))
      << "writes did not go on after the removal";
  ASSERT_TRUE(PutVia({new_leader}, "fm/after-removal", "1").ok());
  // The hard case, whichever member the election picked: the leader is the added member,
  // which the cut-off follower's configuration does not list, so after healing the follower
  // must answer a leader it has no address for.
  if (new_leader != fourth) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 10s);
    etcdserverpb::MoveLeaderRequest req;
    req.set_targetid(fourth_id);
    etcdserverpb::MoveLeaderResponse resp;
    const grpc::Status s =
        MaintenanceStub(cluster_->endpoint(new_leader))->MoveLeader(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << "move the leadership to the added member: " << s.error_message();
    new_leader = WaitForLeaderAmong(*cluster_, survivors, 10s);
    ASSERT_EQ(new_leader, fourth) << "the added member did not take over";
  }
  // The cut-off member still knows nothing of this.
  EXPECT_EQ(VoterIds(MemberListOf(cluster_->endpoint(cut_off))).count(fourth_id), 0u);

  ASSERT_TRUE(Firewall::HealAll(&error)) << error;
  const auto healed = Clock::now();
  std::vector<int> live = survivors;
  live.push_back(cut_off);
  ASSERT_TRUE(PutVia(survivors, "fm/healed", "1").ok());
  EXPECT_TRUE(WaitForValue(cut_off, "fm/healed", "1", 60s))
      << "the healed follower never caught up";
  std::cerr << "measured: healed follower caught up " << MillisSince(healed)
            << " ms after healing\n";
  // Every live member lists the same configuration: the survivors and the healed follower,
  // all voters, the removed leader gone.
  const std::set<uint64_t> expected = {MemberId(survivors[0]), MemberId(survivors[1]), cut_off_id};
  ASSERT_EQ(expected.size(), 3u);
  std::map<int, std::string> lists;
  bool agreed = false;
  long long voters_ms = -1;  // when the healed follower first listed the expected voters
  const auto list_deadline = Clock::now() + 30s;
  while (!agreed && Clock::now() < list_deadline) {
    for (int i : live) lists[i] = MemberListOf(cluster_->endpoint(i));
    if (voters_ms < 0 && VoterIds(lists[cut_off]) == expected) voters_ms = MillisSince(healed);
    agreed = VoterIds(lists[live[0]]) == expected;
    for (int i : live) agreed = agreed && lists[i] == lists[live[0]];
    if (!agreed) std::this_thread::sleep_for(100ms);
  }
  std::cerr << "measured: healed follower listed the new voters " << voters_ms
            << " ms after healing\n";
  for (int i : live) {
    EXPECT_EQ(VoterIds(lists[i]), expected) << "member " << i << " lists:\n" << lists[i];
    EXPECT_EQ(lists[i], lists[live[0]]) << "members " << i << " and " << live[0] << " differ";
  }
  EXPECT_EQ(VoterIds(lists[cut_off]).count(removed_id), 0u);
  std::cerr << "measured: every live member listed the same members " << MillisSince(healed)
            << " ms after healing\n";
  std::this_thread::sleep_for(2s);  // the workload runs on the healed cluster a little

  workload.Stop();
  writer.Stop();
  ASSERT_GE(WaitForLeaderAmong(*cluster_, live, 15s), 0) << "no leader after healing";
  // Final reads through every live member, recorded: a lost write shows in the history.
  for (int i : live) {
    for (int k = 0; k < options.keys; ++k) {
      RecordedGet(*cluster_, i, options.key_prefix + std::to_string(k), 100, &history);
    }
  }
  // No acknowledged write lost, on any live member.
  const std::map<std::string, std::string>& acked = writer.acked();
  for (int i : live) {
    etcdserverpb::RangeResponse r;
    ASSERT_TRUE(cluster_->client(i).GetPrefix("ack/", 10s, &r).ok());
    std::map<std::string, std::string> seen;
    for (const auto& kv : r.kvs()) seen[kv.key()] = kv.value();
    int lost = 0;
    for (const auto& [k, v] : acked) lost += seen[k] == v ? 0 : 1;
    EXPECT_EQ(lost, 0) << "acknowledged writes missing on member " << i << " of " << acked.size();
  }
  // The logs converged: every live member hashes its store equally at the same revision.
  etcdserverpb::PutResponse last;
  ASSERT_TRUE(PutVia(live, "fm/last", "1", &last).ok());
  const int64_t revision = last.header().revision();
  std::set<uint32_t> hashes;
  for (int i : live) {
    ASSERT_TRUE(WaitForValue(i, "fm/last", "1", 20s)) << "member " << i;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 5s);
    etcdserverpb::HashKVRequest req;
    req.set_revision(revision);
    etcdserverpb::HashKVResponse resp;
    const grpc::Status s = MaintenanceStub(cluster_->endpoint(i))->HashKV(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << "member " << i << ": " << s.error_message();
    EXPECT_EQ(resp.hash_revision(), revision);
    hashes.insert(resp.hash());
  }
  EXPECT_EQ(hashes.size(), 1u) << "the live members' stores differ at revision " << revision;
  ExpectConverged(*cluster_, {options.key_prefix, "ack/", "fm/"});

  const OpHistory::Counts c = history.counts();
  std::cerr << "measured: membership history: " << c.ok << " ok, " << c.fail << " fail, "
            << c.unknown << " unknown operations (" << c.dropped << " never sent); " << acked.size()
            << " acknowledged writes\n";
  EXPECT_GT(c.ok, 100u) << "too few operations succeeded to say anything";
  const auto check = Clock::now();
  const Status verdict =
      CheckLinearizable(history.Snapshot(), cluster_->dir() + "/membership.history");
  std::cerr << "measured: membership lincheck " << MillisSince(check) << " ms\n";
  EXPECT_TRUE(verdict.ok()) << verdict.ToString();
}

}  // namespace
}  // namespace synod::cluster_test
