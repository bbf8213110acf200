// The vocabulary of the Raft core: ids, log entries, hard state, membership and messages.
// These are synod's own types; the wire encoding (protobuf) lives at the edge, never here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/strong_int.h"

namespace synod::raft {

using NodeId = StrongInt<struct NodeIdTag>;    // 0 means "none"
using GroupId = StrongInt<struct GroupIdTag>;  // one Raft group per range, later many per node
using Term = StrongInt<struct TermTag>;
using LogIndex = StrongInt<struct LogIndexTag>;

inline constexpr NodeId kNoNode{0};

// Immutable bytes shared between the log, messages and the state machine without copying:
// an entry proposed once is referenced by the leader's log, every append message and every
// apply, so copies cost a reference count, not a memcpy.
class Payload {
 public:
  Payload() = default;
  explicit Payload(std::string bytes)
      : bytes_(std::make_shared<const std::string>(std::move(bytes))) {}
  std::string_view view() const { return bytes_ ? std::string_view(*bytes_) : std::string_view(); }
  size_t size() const { return bytes_ ? bytes_->size() : 0; }
  bool empty() const { return size() == 0; }
  bool operator==(const Payload& o) const { return view() == o.view(); }

 private:
  std::shared_ptr<const std::string> bytes_;
};

enum class EntryType : uint8_t {
  kNormal = 0,      // application command (empty data: the leader's no-op of its term)
  kConfChange = 1,  // data is an encoded ConfChange (see confchange.h)
};

struct Entry {
  Term term;
  LogIndex index;
  EntryType type = EntryType::kNormal;
  Payload data;

  // Bytes an entry accounts for in size limits (payload plus a fixed header estimate).
  size_t ByteSize() const { return data.size() + 24; }
  bool operator==(const Entry&) const = default;
};

// What must be on stable storage before any message that depends on it is sent (Raft §5.1,
// Figure 2 "Persistent state on all servers"), plus the commit index, which is persisted so a
// restarted node need not wait for a leader to re-learn it (a performance choice, not safety).
struct HardState {
  Term term;
  NodeId vote = kNoNode;
  LogIndex commit;
  bool operator==(const HardState&) const = default;
  bool IsEmpty() const { return *this == HardState{}; }
};

// Membership of a group. During a joint configuration (Raft §6 / thesis §4.3), voters_outgoing
// holds the old voter set and decisions need a majority of both.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  std::vector<NodeId> voters_outgoing;
  // Learners that are voters in the outgoing config and become learners when the joint
  // config is left (a voter demoted to learner).
  std::vector<NodeId> learners_next;
  // When true the leader proposes the change that leaves the joint config on its own.
  bool auto_leave = false;
  bool operator==(const ConfState&) const = default;
};

struct SnapshotMetadata {
  ConfState conf_state;
  LogIndex index;
  Term term;
  bool operator==(const SnapshotMetadata&) const = default;
};

struct Snapshot {
  SnapshotMetadata metadata;
  Payload data;  // the state machine image, opaque to Raft
  bool IsEmpty() const { return metadata.index == LogIndex(0); }
  bool operator==(const Snapshot&) const = default;
};

enum class MessageType : uint8_t {
  kAppend,              // AppendEntries (§5.3); carries entries, may be empty
  kAppendResponse,      // ack with the index matched, or a rejection with a hint (§5.3)
  kVote,                // RequestVote (§5.2)
  kVoteResponse,
  kPreVote,             // thesis §9.6: a trial election that does not bump terms
  kPreVoteResponse,
  kHeartbeat,           // leader's liveness and commit propagation; carries no entries
  kHeartbeatResponse,
  kSnapshot,            // InstallSnapshot (§7)
  kTimeoutNow,          // leadership transfer: start an election now (thesis §3.10)
  kReadIndex,           // a follower forwards a read to the leader (thesis §6.4)
  kReadIndexResponse,
  kPropose,             // a follower forwards proposals to the leader
};

const char* MessageTypeName(MessageType t);

struct Message {
  GroupId group;
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term;  // 0 for messages that carry no term (kPropose, kReadIndex from a follower)
  // kAppend: term and index of the entry just before `entries`.
  // kVote/kPreVote: term and index of the candidate's last entry.
  Term log_term;
  LogIndex index;
  std::vector<Entry> entries;
  LogIndex commit;
  bool reject = false;
  // kAppendResponse with reject: the follower's hint for the leader's next probe (§5.3 fast
  // backtracking): the largest index <= index whose term is <= log_term.
  LogIndex reject_hint;
  std::optional<Snapshot> snapshot;
  // kVote/kPreVote: this election is a leadership transfer, grant even if a leader is known.
  bool transfer = false;
  // kReadIndex/kReadIndexResponse: the caller's request id; kHeartbeat(+Response): the
  // leader's tick at sending, echoed back, which times the leader's lease.
  uint64_t context = 0;
};

}  // namespace synod::raft
