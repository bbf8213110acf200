// MemberWatcher: the timer that keeps this member's view of the membership in step, every
// `interval`:
// - publishes this member's name and client URLs through the log until the member list holds
//   them (etcd's "publish": others list them from then on);
// - with --auto-promote-learners, on the leader, promotes one caught-up learner at a time
//   (member_checks.h LearnerReady), a membership change like `member promote`;
// - drops the peer links of members removed from the list, one tick after their removal
//   (the leader's last message to them must leave first);
// - once the node reports this member removed, calls `on_removed` (the server stops itself).
// Free of gRPC; owns one thread and holds no lock while proposing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "node/node.h"
#include "server/member_registry.h"

namespace synod::server {

struct MemberWatcherOptions {
  std::chrono::milliseconds interval{200};
  uint64_t self_id = 0;
  std::string name;
  std::vector<std::string> client_urls;
  bool auto_promote_learners = false;
  std::function<void(uint64_t peer)> remove_peer;  // the transport's RemovePeer
  std::function<bool()> is_removed;                // the node saw this member removed (any thread)
  std::function<void()> on_removed;
  std::function<void(std::string_view)> log;
};

class MemberWatcher {
 public:
  // Starts the thread. `node` and `members` must outlive the watcher.
  MemberWatcher(MemberWatcherOptions options, node::Node* node, MemberRegistry* members);
  ~MemberWatcher();  // Stop()s
  MemberWatcher(const MemberWatcher&) = delete;
  MemberWatcher& operator=(const MemberWatcher&) = delete;

  void Stop();  // joins the thread; idempotent

 private:
  void Run();
  void TickOnce();
  void Publish(const std::vector<MemberRecord>& list);
  void MaybePromote(const node::NodeInfo& info, const std::vector<MemberRecord>& list);
  void DropRemovedPeers(const std::vector<MemberRecord>& list);

  const MemberWatcherOptions opts_;
  node::Node* const node_;
  MemberRegistry* const members_;
  bool removal_reported_ = false;
  std::atomic<bool> promoting_{false};  // one promotion in flight
  std::atomic<bool> publishing_{false};
  std::set<uint64_t> peers_;  // members seen at the last tick
  std::mutex mu_;             // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace synod::server
