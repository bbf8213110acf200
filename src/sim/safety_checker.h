// Raft's safety properties (Raft §5.2-§5.4, Figure 3), checked from outside the implementation
// as the simulation runs. Each check is incremental, so it can run on every event:
//
//  - Election Safety: at most one leader per term.
//  - Log Matching: two durable logs holding an entry with the same index and term hold the
//    same entry and, inductively, the same prefix. Checked by recording, for every durable
//    (index, term), the payload's fingerprint and the term of the entry before it.
//  - Leader Completeness: a node that becomes leader holds every entry known committed.
//  - State Machine Safety: no two nodes apply different entries at one index; the state
//    machine images at one index (snapshots) are identical.
//  - Commitment rule (§5.4.2): a leader's commit index, once it moves past where it stood when
//    the leader was elected, lands only on entries of the leader's own term (older entries
//    are committed indirectly, never by counting their replicas).
//  - Read index safety (thesis §6.4): a read is answered at a read index at least as high as
//    every entry committed before the read reached the cluster, or it could miss a write
//    that completed before it started.
//
// "Known committed" means applied by some node: an entry is applied only once committed. The
// first violation is kept; later checks still run but do not overwrite it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "raft/types.h"

namespace synod::sim {

// A node's log as the checker sees it: the term at an index, or nullopt if the log has no
// entry there. Indexes up to `snapshot_index` are covered by a snapshot.
struct LogView {
  raft::LogIndex snapshot_index;
  raft::Term snapshot_term;
  std::function<std::optional<raft::Term>(raft::LogIndex)> term_at;
};

class SafetyChecker {
 public:
  void OnLeader(raft::NodeId id, raft::Term term);
  void OnDurableAppend(raft::NodeId id, std::optional<raft::Term> prev_term,
                       const std::vector<raft::Entry>& entries);
  void OnBecameLeader(raft::NodeId id, raft::Term term, const LogView& log);
  void OnApply(raft::NodeId id, const raft::Entry& entry);
  // A leader of `term`, elected when its commit index was `start_commit`, reports commit
  // index `commit`, where its log holds an entry of `entry_term`.
  void OnLeaderCommit(raft::NodeId id, raft::Term term, raft::LogIndex start_commit,
                      raft::LogIndex commit, raft::Term entry_term);
  // The leader `id` committed `index` (an entry of `term`) by counting the voters of `conf`.
  void RecordQuorumCommit(raft::NodeId id, raft::LogIndex index, raft::Term term,
                          const raft::ConfState& conf);
  struct QuorumCommit {
    raft::NodeId leader;
    raft::LogIndex index;
    raft::Term term;
    raft::ConfState conf;
  };
  // The most recent commit a leader made by counting replicas, if any.
  const std::optional<QuorumCommit>& last_quorum_commit() const { return last_quorum_commit_; }
  // A read that reached node `id` when `committed_before` was the highest committed index
  // got read index `read_index`.
  void OnReadIndex(raft::NodeId id, raft::LogIndex read_index, raft::LogIndex committed_before);
  // A node's state machine reached `index` with the given image fingerprint (a snapshot it
  // took or installed).
  void OnStateAt(raft::NodeId id, raft::LogIndex index, raft::Term term, uint64_t image_hash);

  // Records a violation found elsewhere (durability, linearizability, liveness).
  void Fail(std::string message);

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  raft::LogIndex committed_max() const { return committed_max_; }
  // Term and payload fingerprint of the entry known committed at `index`, if any.
  std::optional<std::pair<raft::Term, uint64_t>> CommittedAt(raft::LogIndex index) const;
  uint64_t leaders_seen() const { return leaders_.size(); }

 private:
  struct Key {
    uint64_t index, term;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return k.index * 0x9e3779b97f4a7c15ULL ^ k.term; }
  };
  struct Durable {
    uint64_t payload_hash;
    std::optional<uint64_t> prev_term;
    raft::NodeId first_writer;
  };
  struct Committed {
    uint64_t term = 0;  // 0: nothing known at this index
    uint64_t payload_hash = 0;
    raft::NodeId first_applier;
  };

  // Lookups only; no iteration, so the hash map's order never matters.
  std::unordered_map<uint64_t, raft::NodeId> leaders_;  // term -> leader
  std::unordered_map<Key, Durable, KeyHash> durable_;
  std::vector<Committed> committed_;  // by index
  raft::LogIndex committed_max_;
  std::unordered_map<uint64_t, std::pair<uint64_t, raft::NodeId>> images_;  // index -> hash
  std::optional<QuorumCommit> last_quorum_commit_;
  std::string failure_;
};

uint64_t EntryFingerprint(const raft::Entry& e);

}  // namespace synod::sim
