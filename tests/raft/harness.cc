#include "harness.h"

#include "base/assert.h"

namespace synod::raft::testing {

Harness::Harness(int voters, int learners, HarnessOptions opts) : opts_(opts) {
  ConfState cs;
  for (int i = 1; i <= voters; ++i) cs.voters.push_back(NodeId(i));
  for (int i = voters + 1; i <= voters + learners; ++i) cs.learners.push_back(NodeId(i));
  for (int i = 1; i <= voters + learners; ++i) {
    Node n;
    n.storage = std::make_unique<MemoryStorage>();
    // Every member starts from the same bootstrap snapshot holding the initial membership.
    Snapshot boot;
    boot.metadata.index = LogIndex(1);
    boot.metadata.term = Term(1);
    boot.metadata.conf_state = cs;
    SYNOD_ASSERT(n.storage->ApplySnapshot(boot), "bootstrap snapshot");
    // No hard state: a fresh member has never voted or acked a leader.
    n.conf = cs;
    n.applied_index = LogIndex(1);
    CreateRaw(NodeId(i), n);
    nodes_.emplace(NodeId(i), std::move(n));
  }
}

void Harness::CreateRaw(NodeId id, Node& n) {
  Config c;
  c.id = id;
  c.storage = n.storage.get();
  c.applied = n.applied_index;
  c.election_timeout_ticks = opts_.election_timeout_ticks;
  c.heartbeat_interval_ticks = opts_.heartbeat_interval_ticks;
  c.random_seed = opts_.seed;
  c.pre_vote = opts_.pre_vote;
  c.check_quorum = opts_.check_quorum;
  c.read_mode = opts_.read_mode;
  c.forward_proposals = opts_.forward_proposals;
  c.bugs = opts_.bugs;
  auto r = RawNode::Create(c);
  SYNOD_ASSERT(r.ok(), "harness config must be valid");
  n.raw = std::move(r.value());
}

std::vector<NodeId> Harness::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

void Harness::HandleReady(NodeId id, Node& n) {
  Ready rd = n.raw->GetReady();
  // 1. persist
  if (rd.snapshot) SYNOD_ASSERT(n.storage->ApplySnapshot(*rd.snapshot), "snapshot persist");
  n.storage->Append(rd.entries);
  if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
  // 2. send
  for (Message& m : rd.messages) queue_.push_back(std::move(m));
  // 3. apply
  if (rd.snapshot) {
    n.applied_index = rd.snapshot->metadata.index;
    n.conf = rd.snapshot->metadata.conf_state;
  }
  for (const Entry& e : rd.committed_entries) {
    if (e.type == EntryType::kConfChange) {
      auto cc = DecodeConfChange(e.data.view());
      SYNOD_ASSERT(cc.has_value(), "undecodable conf change");
      n.conf = n.raw->ApplyConfChange(*cc);
    }
    n.applied.push_back(e);
    n.applied_index = e.index;
  }
  for (const ReadState& r : rd.read_states) n.reads.push_back(r);
  n.raw->Advance();
  if (snapshot_every > 0 &&
      n.applied_index.value >= n.storage->FirstIndex().value + snapshot_every) {
    (void)n.storage->CreateSnapshot(n.applied_index, n.conf, Payload("state"));
    (void)n.storage->Compact(n.applied_index);
  }
  (void)id;
}

bool Harness::ProcessReadies() {
  bool any = false;
  for (auto& [id, n] : nodes_) {
    while (n.raw->HasReady()) {
      HandleReady(id, n);
      any = true;
    }
  }
  return any;
}

bool Harness::Deliverable(const Message& m) const {
  if (isolated_.count(m.from) || isolated_.count(m.to)) return false;
  if (cut_.count({m.from, m.to})) return false;
  if (!nodes_.count(m.to)) return false;
  return !filter || filter(m);
}

void Harness::Stabilize(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    const bool ready = ProcessReadies();
    if (queue_.empty() && !ready) return;
    std::deque<Message> batch;
    batch.swap(queue_);
    for (const Message& m : batch) {
      if (!Deliverable(m)) continue;
      (void)nodes_.at(m.to).raw->Step(m);
    }
  }
}

void Harness::TickAll(int n) {
  for (int i = 0; i < n; ++i) {
    for (auto& [id, node] : nodes_) node.raw->Tick();
  }
}

void Harness::Elect(NodeId id) {
  node(id).Campaign();
  Stabilize();
}

void Harness::Restart(NodeId id) {
  Node& n = nodes_.at(id);
  // The state machine is rebuilt: here, only from the storage snapshot forward.
  n.applied.clear();
  n.applied_index = n.storage->FirstIndex() - 1;
  n.conf = n.storage->GetSnapshot().metadata.conf_state;
  CreateRaw(id, n);
}

void Harness::AddNode(NodeId id) {
  Node n;
  n.storage = std::make_unique<MemoryStorage>();
  CreateRaw(id, n);
  nodes_.emplace(id, std::move(n));
}

}  // namespace synod::raft::testing
