#include "sim/safety_checker.h"

#include "sim/hash.h"

namespace synod::sim {

using raft::Entry;
using raft::LogIndex;
using raft::NodeId;
using raft::Term;

namespace {
std::string N(NodeId id) {
  return "n" + std::to_string(id.value);
}
}  // namespace

uint64_t EntryFingerprint(const Entry& e) {
  return HashBytes(e.data.view()) ^ (static_cast<uint64_t>(e.type) << 63);
}

void SafetyChecker::Fail(std::string message) {
  if (failure_.empty()) failure_ = std::move(message);
}

void SafetyChecker::OnLeader(NodeId id, Term term) {
  auto [it, inserted] = leaders_.emplace(term.value, id);
  if (!inserted && it->second != id) {
    Fail("election safety: two leaders in term " + std::to_string(term.value) + ": " +
         N(it->second) + " and " + N(id) + " (Raft §5.2)");
  }
}

void SafetyChecker::OnDurableAppend(NodeId id, std::optional<Term> prev_term,
                                    const std::vector<Entry>& entries) {
  std::optional<uint64_t> prev;
  if (prev_term) prev = prev_term->value;
  for (const Entry& e : entries) {
    const Key key{e.index.value, e.term.value};
    const Durable mine{EntryFingerprint(e), prev, id};
    auto [it, inserted] = durable_.emplace(key, mine);
    if (!inserted) {
      const Durable& seen = it->second;
      const bool prev_differs =
          seen.prev_term && mine.prev_term && *seen.prev_term != *mine.prev_term;
      if (seen.payload_hash != mine.payload_hash || prev_differs) {
        Fail("log matching: entry index=" + std::to_string(e.index.value) + " term=" +
             std::to_string(e.term.value) + " differs between " + N(seen.first_writer) + " and " +
             N(id) + (prev_differs ? " (different previous term)" : " (payload)") + " (Raft §5.3)");
      }
      if (!seen.prev_term && mine.prev_term) it->second.prev_term = mine.prev_term;
    }
    prev = e.term.value;
  }
}

void SafetyChecker::OnBecameLeader(NodeId id, Term term, const LogView& log) {
  for (LogIndex i = log.snapshot_index + 1; i <= committed_max_; ++i) {
    if (i.value >= committed_.size()) break;
    const Committed& c = committed_[i.value];
    if (c.term == 0) continue;
    const std::optional<Term> t = log.term_at(i);
    if (!t || t->value != c.term) {
      Fail(
          "leader completeness: " + N(id) + " became leader of term " + std::to_string(term.value) +
          " without committed entry index=" + std::to_string(i.value) +
          " term=" + std::to_string(c.term) + " (it has " +
          (t ? "term " + std::to_string(t->value) : std::string("nothing")) + " there; Raft §5.4)");
      return;
    }
  }
}

void SafetyChecker::OnApply(NodeId id, const Entry& e) {
  if (e.index.value >= committed_.size()) committed_.resize(e.index.value * 2 + 16);
  Committed& c = committed_[e.index.value];
  const uint64_t fp = EntryFingerprint(e);
  if (c.term == 0) {
    c = Committed{e.term.value, fp, id};
  } else if (c.term != e.term.value || c.payload_hash != fp) {
    Fail("state machine safety: at index " + std::to_string(e.index.value) + " " +
         N(c.first_applier) + " applied an entry of term " + std::to_string(c.term) + " but " +
         N(id) + " applied " +
         (c.term != e.term.value ? "one of term " + std::to_string(e.term.value)
                                 : std::string("a different payload")) +
         " (Raft §5.4.3)");
  }
  if (e.index > committed_max_) committed_max_ = e.index;
}

void SafetyChecker::OnLeaderCommit(NodeId id, Term term, LogIndex start_commit, LogIndex commit,
                                   Term entry_term) {
  if (commit <= start_commit || entry_term == term) return;
  Fail("commitment rule: " + N(id) + ", leader of term " + std::to_string(term.value) +
       ", moved its commit index to " + std::to_string(commit.value) + ", an entry of term " +
       std::to_string(entry_term.value) +
       " (Raft §5.4.2: only entries of the leader's own term "
       "are committed by counting replicas)");
}

void SafetyChecker::RecordQuorumCommit(NodeId id, LogIndex index, Term term,
                                       const raft::ConfState& conf) {
  if (last_quorum_commit_ && last_quorum_commit_->index >= index) return;
  last_quorum_commit_ = QuorumCommit{id, index, term, conf};
}

void SafetyChecker::OnReadIndex(NodeId id, LogIndex read_index, LogIndex committed_before) {
  if (read_index >= committed_before) return;
  Fail("read index safety: " + N(id) + " got read index " + std::to_string(read_index.value) +
       " for a read that arrived after entry " + std::to_string(committed_before.value) +
       " was committed (thesis §6.4): the read can miss a completed write");
}

void SafetyChecker::OnStateAt(NodeId id, LogIndex index, Term term, uint64_t image_hash) {
  if (index.value < committed_.size()) {
    const Committed& c = committed_[index.value];
    if (c.term != 0 && c.term != term.value) {
      Fail("state machine safety: " + N(id) + " has a snapshot at index " +
           std::to_string(index.value) + " of term " + std::to_string(term.value) +
           " but the entry applied there has term " + std::to_string(c.term));
    }
  }
  auto [it, inserted] = images_.emplace(index.value, std::make_pair(image_hash, id));
  if (!inserted && it->second.first != image_hash) {
    Fail("state machine safety: state machines of " + N(it->second.second) + " and " + N(id) +
         " differ at index " + std::to_string(index.value));
  }
  if (index > committed_max_) committed_max_ = index;
}

std::optional<std::pair<Term, uint64_t>> SafetyChecker::CommittedAt(LogIndex index) const {
  if (index.value >= committed_.size() || committed_[index.value].term == 0) return std::nullopt;
  const Committed& c = committed_[index.value];
  return std::make_pair(Term(c.term), c.payload_hash);
}

}  // namespace synod::sim
