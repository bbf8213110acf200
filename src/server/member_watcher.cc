#include "server/member_watcher.h"

#include <string>

#include "base/assert.h"
#include "server/command.pb.h"
#include "server/member_checks.h"

namespace synod::server {

MemberWatcher::MemberWatcher(MemberWatcherOptions options, node::Node* node,
                             MemberRegistry* members)
    : opts_(std::move(options)), node_(node), members_(members) {
  SYNOD_ASSERT(node_ != nullptr && members_ != nullptr, "the watcher needs a node and members");
  SYNOD_ASSERT(opts_.interval.count() > 0, "a positive tick interval");
  for (const MemberRecord& m : members_->List()) peers_.insert(m.id);
  thread_ = std::thread([this] { Run(); });
}

MemberWatcher::~MemberWatcher() {
  Stop();
}

void MemberWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MemberWatcher::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, opts_.interval, [this] { return stopping_; })) {
    lock.unlock();
    TickOnce();
    lock.lock();
  }
}

void MemberWatcher::TickOnce() {
  if (opts_.is_removed && opts_.is_removed()) {
    // A tick after the node saw the removal: the messages of that Ready have left.
    if (!removal_reported_ && opts_.on_removed) {
      if (opts_.log) opts_.log("the member has been permanently removed from the cluster");
      opts_.on_removed();
    }
    removal_reported_ = true;
    return;
  }
  const std::vector<MemberRecord> list = members_->List();
  const node::NodeInfo info = node_->Info();
  DropRemovedPeers(list);
  if (info.leader == raft::kNoNode) return;
  Publish(list);
  if (opts_.auto_promote_learners && info.role == raft::Role::kLeader) MaybePromote(info, list);
}

void MemberWatcher::Publish(const std::vector<MemberRecord>& list) {
  if (publishing_.load()) return;
  for (const MemberRecord& m : list) {
    if (m.id != opts_.self_id) continue;
    if (m.name == opts_.name && m.client_urls == opts_.client_urls) return;
    serverpb::Command c;
    etcdserverpb::Member* a = c.mutable_member_attributes();
    a->set_id(opts_.self_id);
    a->set_name(opts_.name);
    for (const std::string& u : opts_.client_urls) a->add_clienturls(u);
    publishing_.store(true);
    node_->Propose(c.SerializeAsString(), [this](Result<std::any>) { publishing_.store(false); });
    return;
  }
}

void MemberWatcher::MaybePromote(const node::NodeInfo& info,
                                 const std::vector<MemberRecord>& list) {
  if (promoting_.load()) return;
  for (const MemberRecord& m : list) {
    if (!m.learner || !IsLearner(info, m.id) || !LearnerReady(info, m.id)) continue;
    // Caught up to the leader's whole log, not only etcd's 90%: the new voter then counts
    // toward commits at once instead of slowing them while it finishes catching up.
    auto it = info.progress.find(raft::NodeId(m.id));
    if (it == info.progress.end() || it->second.match < info.commit) continue;
    serverpb::MemberChange change;
    etcdserverpb::Member* out = change.mutable_member();
    out->set_id(m.id);
    for (const std::string& u : m.peer_urls) out->add_peerurls(u);
    raft::ConfChange cc;
    cc.changes.push_back({raft::ConfChangeType::kAddVoter, raft::NodeId(m.id)});
    cc.context = change.SerializeAsString();
    if (opts_.log) opts_.log("promoting learner " + std::to_string(m.id) + ": caught up");
    promoting_.store(true);
    node_->ProposeConfChange(std::move(cc), [this, id = m.id](Result<raft::ConfState> r) {
      promoting_.store(false);
      if (!r.ok() && opts_.log) {
        opts_.log("promoting learner " + std::to_string(id) + " failed: " + r.status().ToString());
      }
    });
    return;
  }
}

void MemberWatcher::DropRemovedPeers(const std::vector<MemberRecord>& list) {
  std::set<uint64_t> now;
  for (const MemberRecord& m : list) now.insert(m.id);
  for (uint64_t id : peers_) {
    if (now.count(id) == 0 && id != opts_.self_id && opts_.remove_peer) opts_.remove_peer(id);
  }
  peers_ = std::move(now);
}

}  // namespace synod::server
