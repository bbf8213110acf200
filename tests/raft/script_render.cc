#include "script_render.h"

#include <sstream>

namespace synod::raft::testing {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c < 0x20 || c > 0x7e) {
      static const char kHex[] = "0123456789abcdef";
      const auto u = static_cast<unsigned char>(c);
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string EntryList(const std::vector<Entry>& ents) {
  std::string out = "[";
  for (size_t i = 0; i < ents.size(); ++i) {
    if (i > 0) out += ", ";
    out += RenderEntry(ents[i]);
  }
  return out + "]";
}

std::string TermIndex(Term t, LogIndex i) {
  return std::to_string(t.value) + "/" + std::to_string(i.value);
}

// The fields each message type uses (see types.h); others are left out to keep lines short.
void RenderFields(const Message& m, std::ostringstream& o) {
  switch (m.type) {
    case MessageType::kAppend:
      o << " log=" << TermIndex(m.log_term, m.index) << " commit=" << m.commit;
      if (!m.entries.empty()) o << " entries=" << EntryList(m.entries);
      break;
    case MessageType::kAppendResponse:
      o << " index=" << m.index;
      if (m.reject) o << " reject hint=" << TermIndex(m.log_term, m.reject_hint);
      break;
    case MessageType::kVote:
    case MessageType::kPreVote:
      o << " log=" << TermIndex(m.log_term, m.index);
      if (m.transfer) o << " transfer";
      break;
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
      if (m.reject) o << " reject";
      break;
    case MessageType::kHeartbeat: o << " commit=" << m.commit << " round=" << m.context; break;
    case MessageType::kHeartbeatResponse: o << " round=" << m.context; break;
    case MessageType::kSnapshot:
      if (m.snapshot) o << " snapshot=" << RenderSnapshot(*m.snapshot);
      break;
    case MessageType::kTimeoutNow: break;
    case MessageType::kReadIndex: o << " ctx=" << m.context; break;
    case MessageType::kReadIndexResponse:
      o << " ctx=" << m.context << " index=" << m.index;
      break;
    case MessageType::kPropose: o << " entries=" << EntryList(m.entries); break;
  }
}

}  // namespace

std::string RenderIds(const std::vector<NodeId>& ids) {
  std::string out = "(";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(ids[i].value);
  }
  return out + ")";
}

std::string RenderConfState(const ConfState& cs) {
  std::string out = "voters=" + RenderIds(cs.voters);
  if (!cs.voters_outgoing.empty()) out += " outgoing=" + RenderIds(cs.voters_outgoing);
  if (!cs.learners.empty()) out += " learners=" + RenderIds(cs.learners);
  if (!cs.learners_next.empty()) out += " learners_next=" + RenderIds(cs.learners_next);
  if (cs.auto_leave) out += " autoleave";
  return out;
}

std::string RenderConfChange(const ConfChange& cc) {
  if (cc.changes.empty()) return "leave-joint";
  std::string out;
  for (const ConfChangeSingle& c : cc.changes) {
    if (!out.empty()) out += " ";
    switch (c.type) {
      case ConfChangeType::kAddVoter: out += "v"; break;
      case ConfChangeType::kAddLearner: out += "l"; break;
      case ConfChangeType::kRemoveNode: out += "r"; break;
    }
    out += std::to_string(c.node.value);
  }
  switch (cc.transition) {
    case ConfChangeTransition::kAuto: break;
    case ConfChangeTransition::kJointImplicit: out += " transition=implicit"; break;
    case ConfChangeTransition::kJointExplicit: out += " transition=explicit"; break;
  }
  return out;
}

std::string RenderEntry(const Entry& e) {
  std::string out = TermIndex(e.term, e.index);
  if (e.type == EntryType::kConfChange) {
    auto cc = DecodeConfChange(e.data.view());
    return out + " EntryConfChange " + (cc ? RenderConfChange(*cc) : "<undecodable>");
  }
  return out + " EntryNormal " + Quote(e.data.view());
}

std::string RenderMessage(const Message& m) {
  std::ostringstream o;
  o << m.from << "->" << m.to << " " << MessageTypeName(m.type) << " term=" << m.term;
  RenderFields(m, o);
  return o.str();
}

std::string RenderHardState(const HardState& hs) {
  std::ostringstream o;
  o << "term=" << hs.term << " vote=" << hs.vote << " commit=" << hs.commit;
  return o.str();
}

std::string RenderSnapshot(const Snapshot& s) {
  return TermIndex(s.metadata.term, s.metadata.index) + " " +
         RenderConfState(s.metadata.conf_state);
}

std::string RenderReady(const Ready& rd, const std::string& indent) {
  std::ostringstream o;
  if (rd.soft_state) {
    o << indent << "soft: " << RoleName(rd.soft_state->role)
      << " leader=" << rd.soft_state->leader << "\n";
  }
  if (rd.hard_state) o << indent << "hard: " << RenderHardState(*rd.hard_state) << "\n";
  if (rd.snapshot) o << indent << "snapshot: " << RenderSnapshot(*rd.snapshot) << "\n";
  if (!rd.entries.empty()) {
    o << indent << "entries:\n";
    for (const Entry& e : rd.entries) o << indent << "  " << RenderEntry(e) << "\n";
  }
  if (!rd.committed_entries.empty()) {
    o << indent << "committed:\n";
    for (const Entry& e : rd.committed_entries) o << indent << "  " << RenderEntry(e) << "\n";
  }
  for (const ReadState& r : rd.read_states) {
    o << indent << "read: ctx=" << r.context << " index=" << r.index << "\n";
  }
  if (!rd.messages.empty()) {
    o << indent << "messages:\n";
    for (const Message& m : rd.messages) o << indent << "  " << RenderMessage(m) << "\n";
  }
  return o.str();
}

const char* ProgressStateName(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe: return "probe";
    case ProgressState::kReplicate: return "replicate";
    case ProgressState::kSnapshot: return "snapshot";
  }
  return "?";
}

std::string RenderStatus(const NodeStatus& s) {
  std::ostringstream o;
  o << s.id << ": " << RoleName(s.role) << " term=" << s.term << " vote=" << s.vote
    << " leader=" << s.leader << " commit=" << s.commit << " applied=" << s.applied
    << " last=" << s.last_index << "\n";
  o << "  " << RenderConfState(s.conf_state) << "\n";
  if (s.role != Role::kLeader) return o.str();
  o << "  lease=" << (s.lease_valid ? "valid" : "invalid") << "\n";
  for (const auto& [id, pr] : s.progress) {
    o << "  " << id << ": " << ProgressStateName(pr.state) << " match=" << pr.match
      << " next=" << pr.next;
    if (pr.inflight_msgs > 0) o << " inflight=" << pr.inflight_msgs;
    if (pr.learner) o << " learner";
    if (pr.recent_active) o << " active";
    o << "\n";
  }
  return o.str();
}

}  // namespace synod::raft::testing
