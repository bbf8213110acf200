// What the fault tests share beyond the fixture: a fixture in a private network namespace,
// member addresses, bounded waits on the members' view of leadership, recorded reads and a
// convergence check.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cluster_fixture.h"
#include "local_cluster.h"
#include "op_history.h"

namespace synod::cluster_test {

// Runs the test inside a network namespace of its own (skipped where that is impossible) with
// no firewall rule at the start, and heals every cut and resumes every paused member at the
// end, printing the rules when the test failed.
class NetnsClusterFixture : public ClusterFixture {
 protected:
  void SetUp() override;
  void TearDown() override;
};

// 127.0.0.2, 127.0.0.3, ...: one address per member, so iptables can tell them apart; the
// test's own clients connect from 127.0.0.1 and are never cut off.
std::vector<std::string> MemberHosts(int count);

long long MillisSince(std::chrono::steady_clock::time_point start);

// The member that every one of `members` names as leader, once it is one of them, or -1 after
// `timeout`.
int WaitForLeaderAmong(LocalCluster& cluster, const std::vector<int>& members,
                       std::chrono::milliseconds timeout);

// True once member i names no leader, or one other than itself (it stepped down).
bool WaitUntilNoLeader(LocalCluster& cluster, int i, std::chrono::milliseconds timeout);

// A linearizable read of `key` through member i, recorded in `history` as client `client`.
void RecordedGet(LocalCluster& cluster, int i, const std::string& key, uint64_t client,
                 OpHistory* history);

// Every running member holds the same keys, values and revisions under each prefix: after a
// write through the leader reached every member (bounded wait), their serializable reads must
// be equal. Reports differences with EXPECT.
void ExpectConverged(LocalCluster& cluster, const std::vector<std::string>& prefixes);

}  // namespace synod::cluster_test
