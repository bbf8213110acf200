#include "script_cluster.h"

#include <sstream>

#include "base/assert.h"
#include "script_render.h"

namespace synod::raft::testing {

void ScriptCluster::AddNode(NodeId id, const ScriptNodeOptions& opts,
                            const std::optional<ConfState>& bootstrap, LogIndex index) {
  SYNOD_ASSERT(!Has(id), "node added twice");
  Node n;
  n.opts = opts;
  n.storage = std::make_unique<MemoryStorage>();
  if (bootstrap) {
    // Founding members share a snapshot that holds the initial membership; nobody has voted
    // yet, so there is no hard state.
    Snapshot boot;
    boot.metadata.index = index;
    boot.metadata.term = Term(1);
    boot.metadata.conf_state = *bootstrap;
    SYNOD_ASSERT(n.storage->ApplySnapshot(boot), "bootstrap snapshot");
    n.conf = *bootstrap;
    n.applied_index = index;
  }
  CreateRaw(id, n);
  nodes_.emplace(id, std::move(n));
}

void ScriptCluster::CreateRaw(NodeId id, Node& n) {
  Config c;
  c.id = id;
  c.storage = n.storage.get();
  c.applied = n.applied_index;
  c.election_timeout_ticks = n.opts.election_timeout_ticks;
  c.heartbeat_interval_ticks = n.opts.heartbeat_interval_ticks;
  c.random_seed = n.opts.seed;
  c.pre_vote = n.opts.pre_vote;
  c.check_quorum = n.opts.check_quorum;
  c.read_mode = n.opts.lease ? ReadMode::kLeaseBased : ReadMode::kReadIndex;
  c.inflight_msgs_max = n.opts.inflight_msgs_max;
  c.append_bytes_max = n.opts.append_bytes_max;
  c.uncommitted_bytes_max = n.opts.uncommitted_bytes_max;
  c.lease_drift_ticks = n.opts.lease_drift_ticks;
  auto r = RawNode::Create(c);
  SYNOD_ASSERT(r.ok(), "script node options must be valid");
  n.raw = std::move(r.value());
}

RawNode& ScriptCluster::node(NodeId id) { return *nodes_.at(id).raw; }
MemoryStorage& ScriptCluster::storage(NodeId id) { return *nodes_.at(id).storage; }

std::vector<NodeId> ScriptCluster::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

bool ScriptCluster::ProcessReady(NodeId id, std::string& out) {
  Node& n = nodes_.at(id);
  if (!n.raw->HasReady()) return false;
  Ready rd = n.raw->GetReady();
  out += "> " + std::to_string(id.value) + " ready" + (rd.must_sync ? " (must sync)" : "") + "\n";
  out += RenderReady(rd, "  ");
  // 1. Persist: snapshot, then entries, then hard state.
  if (rd.snapshot) SYNOD_ASSERT(n.storage->ApplySnapshot(*rd.snapshot), "snapshot persist");
  n.storage->Append(rd.entries);
  if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
  // 2. Send.
  for (Message& m : rd.messages) queue_.push_back(std::move(m));
  // 3. Apply.
  if (rd.snapshot) {
    n.applied_index = rd.snapshot->metadata.index;
    n.conf = rd.snapshot->metadata.conf_state;
  }
  ApplyCommitted(n, rd.committed_entries, out);
  // 4. Advance.
  n.raw->Advance();
  return true;
}

void ScriptCluster::ApplyCommitted(Node& n, const std::vector<Entry>& ents, std::string& out) {
  for (const Entry& e : ents) {
    SYNOD_ASSERT(e.index == n.applied_index + 1, "committed entries must apply in order");
    n.applied_index = e.index;
    if (e.type != EntryType::kConfChange) continue;
    auto cc = DecodeConfChange(e.data.view());
    SYNOD_ASSERT(cc.has_value(), "undecodable conf change in the log");
    n.conf = n.raw->ApplyConfChange(*cc);
    out += "  conf after " + std::to_string(e.index.value) + ": " + RenderConfState(n.conf) +
           "\n";
  }
}

bool ScriptCluster::Deliver(const DeliverFilter& f, std::string& out) {
  std::deque<Message> keep;
  std::vector<Message> take;
  for (Message& m : queue_) {
    const bool selected = f.to.empty() || f.to.count(m.to) > 0;
    if (selected || f.drop.count(m.to) > 0) {
      take.push_back(std::move(m));
    } else {
      keep.push_back(std::move(m));
    }
  }
  queue_ = std::move(keep);
  if (take.empty()) return false;
  out += "> deliver\n";
  for (const Message& m : take) {
    const std::string line = "  " + RenderMessage(m);
    if (f.drop.count(m.to) > 0) {
      out += line + " [dropped]\n";
    } else if (Isolated(m.from) || Isolated(m.to)) {
      out += line + " [dropped: isolated]\n";
    } else if (!Has(m.to)) {
      out += line + " [dropped: no such node]\n";
    } else {
      out += line + "\n";
      Status s = nodes_.at(m.to).raw->Step(m);
      if (!s.ok()) out += "    error: " + s.ToString() + "\n";
    }
  }
  return true;
}

bool ScriptCluster::Stabilize(std::string& out) {
  constexpr int kRoundsMax = 10000;
  for (int round = 0; round < kRoundsMax; ++round) {
    bool any = false;
    for (auto& [id, n] : nodes_) {
      while (ProcessReady(id, out)) any = true;
    }
    if (Deliver(DeliverFilter{}, out)) any = true;
    if (!any) return true;
  }
  out += "did not stabilize after " + std::to_string(kRoundsMax) + " rounds\n";
  return false;
}

void ScriptCluster::Restart(NodeId id) {
  Node& n = nodes_.at(id);
  n.applied_index = n.storage->FirstIndex() - 1;
  n.conf = n.storage->GetSnapshot().metadata.conf_state;
  CreateRaw(id, n);
}

Status ScriptCluster::Compact(NodeId id) {
  Node& n = nodes_.at(id);
  const std::string data = "state@" + std::to_string(n.applied_index.value);
  Status s = n.storage->CreateSnapshot(n.applied_index, n.conf, Payload(data));
  if (!s.ok()) return s;
  return n.storage->Compact(n.applied_index);
}

std::string ScriptCluster::RenderQueue() const {
  std::string out;
  for (const Message& m : queue_) out += RenderMessage(m) + "\n";
  return out;
}

std::string ScriptCluster::RenderLog(NodeId id) {
  const MemoryStorage& st = *nodes_.at(id).storage;
  std::string out;
  const Snapshot snap = st.GetSnapshot();
  if (!snap.IsEmpty()) out += "snapshot: " + RenderSnapshot(snap) + "\n";
  if (st.LastIndex() >= st.FirstIndex()) {
    auto ents = st.Entries(st.FirstIndex(), st.LastIndex() + 1, UINT64_MAX);
    SYNOD_ASSERT(ents.ok(), "stored entries must be readable");
    for (const Entry& e : ents.value()) out += RenderEntry(e) + "\n";
  } else {
    out += "no entries\n";
  }
  out += "hard: " + RenderHardState(st.hard_state()) + "\n";
  return out;
}

}  // namespace synod::raft::testing
