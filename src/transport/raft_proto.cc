#include "transport/raft_proto.h"

#include <string>
#include <utility>

#include "transport/raft_wire.pb.h"

namespace synod::transport {
namespace {

using google::protobuf::RepeatedField;

// Explicit tables in both directions: the wire numbers are fixed by raft_wire.proto and must
// not follow the C++ enum's declaration order.
raftpb::MessageType TypeToProto(raft::MessageType t) {
  using T = raft::MessageType;
  switch (t) {
    case T::kAppend:
      return raftpb::MSG_APPEND;
    case T::kAppendResponse:
      return raftpb::MSG_APPEND_RESPONSE;
    case T::kVote:
      return raftpb::MSG_VOTE;
    case T::kVoteResponse:
      return raftpb::MSG_VOTE_RESPONSE;
    case T::kPreVote:
      return raftpb::MSG_PRE_VOTE;
    case T::kPreVoteResponse:
      return raftpb::MSG_PRE_VOTE_RESPONSE;
    case T::kHeartbeat:
      return raftpb::MSG_HEARTBEAT;
    case T::kHeartbeatResponse:
      return raftpb::MSG_HEARTBEAT_RESPONSE;
    case T::kSnapshot:
      return raftpb::MSG_SNAPSHOT;
    case T::kTimeoutNow:
      return raftpb::MSG_TIMEOUT_NOW;
    case T::kReadIndex:
      return raftpb::MSG_READ_INDEX;
    case T::kReadIndexResponse:
      return raftpb::MSG_READ_INDEX_RESPONSE;
    case T::kPropose:
      return raftpb::MSG_PROPOSE;
  }
  SYNOD_UNREACHABLE("raft::MessageType without a wire value");
}

Result<raft::MessageType> TypeFromProto(int t) {
  using T = raft::MessageType;
  switch (t) {
    case raftpb::MSG_APPEND:
      return T::kAppend;
    case raftpb::MSG_APPEND_RESPONSE:
      return T::kAppendResponse;
    case raftpb::MSG_VOTE:
      return T::kVote;
    case raftpb::MSG_VOTE_RESPONSE:
      return T::kVoteResponse;
    case raftpb::MSG_PRE_VOTE:
      return T::kPreVote;
    case raftpb::MSG_PRE_VOTE_RESPONSE:
      return T::kPreVoteResponse;
    case raftpb::MSG_HEARTBEAT:
      return T::kHeartbeat;
    case raftpb::MSG_HEARTBEAT_RESPONSE:
      return T::kHeartbeatResponse;
    case raftpb::MSG_SNAPSHOT:
      return T::kSnapshot;
    case raftpb::MSG_TIMEOUT_NOW:
      return T::kTimeoutNow;
    case raftpb::MSG_READ_INDEX:
      return T::kReadIndex;
    case raftpb::MSG_READ_INDEX_RESPONSE:
      return T::kReadIndexResponse;
    case raftpb::MSG_PROPOSE:
      return T::kPropose;
    default:
      break;
  }
  return Status(ErrorCode::kCorruption, "unknown message type " + std::to_string(t));
}

raftpb::EntryType EntryTypeToProto(raft::EntryType t) {
  switch (t) {
    case raft::EntryType::kNormal:
      return raftpb::ENTRY_NORMAL;
    case raft::EntryType::kConfChange:
      return raftpb::ENTRY_CONF_CHANGE;
  }
  SYNOD_UNREACHABLE("raft::EntryType without a wire value");
}

Result<raft::EntryType> EntryTypeFromProto(int t) {
  switch (t) {
    case raftpb::ENTRY_NORMAL:
      return raft::EntryType::kNormal;
    case raftpb::ENTRY_CONF_CHANGE:
      return raft::EntryType::kConfChange;
    default:
      break;
  }
  return Status(ErrorCode::kCorruption, "unknown entry type " + std::to_string(t));
}

void IdsToProto(const std::vector<raft::NodeId>& ids, RepeatedField<uint64_t>* out) {
  out->Reserve(static_cast<int>(ids.size()));
  for (raft::NodeId id : ids) out->Add(id.value);
}

std::vector<raft::NodeId> IdsFromProto(const RepeatedField<uint64_t>& ids) {
  std::vector<raft::NodeId> out;
  out.reserve(ids.size());
  for (uint64_t id : ids) out.emplace_back(id);
  return out;
}

void SnapshotToProto(const raft::Snapshot& s, raftpb::Snapshot* out) {
  raftpb::SnapshotMetadata* md = out->mutable_metadata();
  const raft::ConfState& cs = s.metadata.conf_state;
  raftpb::ConfState* pcs = md->mutable_conf_state();
  IdsToProto(cs.voters, pcs->mutable_voters());
  IdsToProto(cs.learners, pcs->mutable_learners());
  IdsToProto(cs.voters_outgoing, pcs->mutable_voters_outgoing());
  IdsToProto(cs.learners_next, pcs->mutable_learners_next());
  pcs->set_auto_leave(cs.auto_leave);
  md->set_index(s.metadata.index.value);
  md->set_term(s.metadata.term.value);
  out->set_data(std::string(s.data.view()));
}

raft::Snapshot SnapshotFromProto(raftpb::Snapshot* pb) {
  raft::Snapshot s;
  const raftpb::SnapshotMetadata& md = pb->metadata();
  const raftpb::ConfState& pcs = md.conf_state();
  s.metadata.conf_state.voters = IdsFromProto(pcs.voters());
  s.metadata.conf_state.learners = IdsFromProto(pcs.learners());
  s.metadata.conf_state.voters_outgoing = IdsFromProto(pcs.voters_outgoing());
  s.metadata.conf_state.learners_next = IdsFromProto(pcs.learners_next());
  s.metadata.conf_state.auto_leave = pcs.auto_leave();
  s.metadata.index = raft::LogIndex(md.index());
  s.metadata.term = raft::Term(md.term());
  s.data = raft::Payload(std::move(*pb->mutable_data()));
  return s;
}

}  // namespace

void MessageToProto(const raft::Message& m, raftpb::Message* out) {
  out->Clear();
  out->set_group(m.group.value);
  out->set_type(TypeToProto(m.type));
  out->set_from(m.from.value);
  out->set_to(m.to.value);
  out->set_term(m.term.value);
  out->set_log_term(m.log_term.value);
  out->set_index(m.index.value);
  out->mutable_entries()->Reserve(static_cast<int>(m.entries.size()));
  for (const raft::Entry& e : m.entries) {
    raftpb::Entry* pe = out->add_entries();
    pe->set_term(e.term.value);
    pe->set_index(e.index.value);
    pe->set_type(EntryTypeToProto(e.type));
    pe->set_data(e.data.view().data(), e.data.size());
  }
  out->set_commit(m.commit.value);
  out->set_reject(m.reject);
  out->set_reject_hint(m.reject_hint.value);
  if (m.snapshot.has_value()) SnapshotToProto(*m.snapshot, out->mutable_snapshot());
  out->set_transfer(m.transfer);
  out->set_context(m.context);
}

Result<raft::Message> MessageFromProto(raftpb::Message* pb) {
  Result<raft::MessageType> type = TypeFromProto(pb->type());
  if (!type.ok()) return type.status();
  raft::Message m;
  m.group = raft::GroupId(pb->group());
  m.type = type.value();
  m.from = raft::NodeId(pb->from());
  m.to = raft::NodeId(pb->to());
  m.term = raft::Term(pb->term());
  m.log_term = raft::Term(pb->log_term());
  m.index = raft::LogIndex(pb->index());
  m.entries.reserve(pb->entries_size());
  for (raftpb::Entry& pe : *pb->mutable_entries()) {
    Result<raft::EntryType> etype = EntryTypeFromProto(pe.type());
    if (!etype.ok()) return etype.status();
    m.entries.push_back(raft::Entry{raft::Term(pe.term()), raft::LogIndex(pe.index()),
                                    etype.value(), raft::Payload(std::move(*pe.mutable_data()))});
  }
  m.commit = raft::LogIndex(pb->commit());
  m.reject = pb->reject();
  m.reject_hint = raft::LogIndex(pb->reject_hint());
  if (pb->has_snapshot()) m.snapshot = SnapshotFromProto(pb->mutable_snapshot());
  m.transfer = pb->transfer();
  m.context = pb->context();
  return m;
}

}  // namespace synod::transport
