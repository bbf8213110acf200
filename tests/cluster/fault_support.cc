#include "fault_support.h"

#include <gtest/gtest.h>

#include <csignal>
#include <iostream>
#include <map>
#include <thread>

#include "netns.h"

namespace synod::cluster_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

void NetnsClusterFixture::SetUp() {
  std::string why;
  if (!EnterPrivateNetwork(&why)) GTEST_SKIP() << why;
  std::string error;
  ASSERT_TRUE(Firewall::HealAll(&error)) << error;
}

void NetnsClusterFixture::TearDown() {
  std::string error;
  if (HasFailure()) std::cerr << "firewall rules:\n" << Firewall::Rules();
  (void)Firewall::HealAll(&error);
  if (cluster_ != nullptr) {
    for (int i = 0; i < cluster_->size(); ++i) (void)cluster_->Signal(i, SIGCONT);
  }
  ClusterFixture::TearDown();
}

std::vector<std::string> MemberHosts(int count) {
  std::vector<std::string> hosts;
  for (int i = 0; i < count; ++i) hosts.push_back("127.0.0." + std::to_string(i + 2));
  return hosts;
}

long long MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

int WaitForLeaderAmong(LocalCluster& cluster, const std::vector<int>& members,
                       std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::map<uint64_t, int> index_of;  // member id -> index
    std::map<uint64_t, int> votes;     // named leader -> members naming it
    for (int i : members) {
      etcdserverpb::StatusResponse st;
      if (!cluster.client(i).Status(500ms, &st).ok()) continue;
      index_of[st.header().member_id()] = i;
      if (st.leader() != 0) ++votes[st.leader()];
    }
    for (const auto& [leader, n] : votes) {
      if (n == static_cast<int>(members.size()) && index_of.count(leader) > 0) {
        return index_of[leader];
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

bool WaitUntilNoLeader(LocalCluster& cluster, int i, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    etcdserverpb::StatusResponse st;
    if (cluster.client(i).Status(500ms, &st).ok() &&
        (st.leader() == 0 || st.leader() != st.header().member_id())) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void RecordedGet(LocalCluster& cluster, int i, const std::string& key, uint64_t client,
                 OpHistory* history) {
  const OpHistory::OpId id = history->Invoke(client, key, lincheck::OpKind::kRead);
  etcdserverpb::RangeResponse r;
  const grpc::Status s = cluster.client(i).Get(key, 3s, &r);
  if (!s.ok()) {
    history->Error(id, s);
    ADD_FAILURE() << "final read of " << key << " through member " << i
                  << " failed: " << s.error_message();
    return;
  }
  std::optional<std::string> out;
  if (r.kvs_size() > 0) out = r.kvs(0).value();
  history->Ok(id, out);
}

void ExpectConverged(LocalCluster& cluster, const std::vector<std::string>& prefixes) {
  const int leader = cluster.WaitForLeader(15s);
  ASSERT_GE(leader, 0);
  const std::string marker = "converge/" + std::to_string(Clock::now().time_since_epoch().count());
  etcdserverpb::PutResponse put;
  ASSERT_TRUE(cluster.client(leader).Put(marker, "1", 5s, &put).ok());
  const int64_t revision = put.header().revision();
  for (int i = 0; i < cluster.size(); ++i) {
    if (!cluster.running(i)) continue;
    const auto deadline = Clock::now() + 20s;
    bool reached = false;
    while (!reached && Clock::now() < deadline) {
      etcdserverpb::RangeResponse r;
      reached =
          cluster.client(i).Get(marker, 2s, &r, /*serializable=*/true).ok() && r.kvs_size() == 1;
      if (!reached) std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(reached) << "member " << i << " never applied revision " << revision;
  }
  for (const std::string& prefix : prefixes) {
    std::vector<std::string> dumps;
    for (int i = 0; i < cluster.size(); ++i) {
      if (!cluster.running(i)) continue;
      etcdserverpb::RangeResponse r;
      ASSERT_TRUE(cluster.client(i).GetPrefix(prefix, 10s, &r, /*serializable=*/true).ok());
      std::string dump;
      for (const auto& kv : r.kvs()) {
        dump += kv.key() + "=" + kv.value() + "@" + std::to_string(kv.mod_revision()) + "/" +
                std::to_string(kv.version()) + "\n";
      }
      dumps.push_back(std::move(dump));
    }
    for (size_t i = 1; i < dumps.size(); ++i) {
      EXPECT_EQ(dumps[i], dumps[0]) << "members differ under " << prefix;
    }
  }
}

}  // namespace synod::cluster_test
