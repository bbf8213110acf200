#include "raft/raw_node.h"

#include "raft/raft.h"
#include "raft/storage.h"

namespace synod::raft {

Result<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  if (config.id == kNoNode) return Status(ErrorCode::kInvalidArgument, "node id must not be 0");
  if (config.storage == nullptr) return Status(ErrorCode::kInvalidArgument, "no storage");
  if (config.heartbeat_interval_ticks == 0 ||
      config.election_timeout_ticks <= config.heartbeat_interval_ticks) {
    return Status(ErrorCode::kInvalidArgument,
                  "election timeout must be longer than the heartbeat interval (> 0)");
  }
  if (config.inflight_msgs_max == 0 || config.append_bytes_max == 0) {
    return Status(ErrorCode::kInvalidArgument, "inflight and append limits must be positive");
  }
  if (config.read_mode == ReadMode::kLeaseBased && !config.check_quorum) {
    return Status(ErrorCode::kInvalidArgument, "lease reads need check_quorum");
  }
  if (config.applied > config.storage->LastIndex()) {
    return Status(ErrorCode::kInvalidArgument, "applied index past the stored log");
  }
  return std::unique_ptr<RawNode>(new RawNode(std::make_unique<Raft>(config)));
}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {}
RawNode::~RawNode() = default;

void RawNode::Tick() { raft_->Tick(); }
Status RawNode::Step(const Message& m) { return raft_->Step(m); }
ProposeResult RawNode::Propose(std::span<const Payload> data) {
  return raft_->Propose(data, EntryType::kNormal);
}
ProposeResult RawNode::ProposeConfChange(const ConfChange& cc) {
  return raft_->ProposeConfChange(cc);
}
ConfState RawNode::ApplyConfChange(const ConfChange& cc) { return raft_->ApplyConfChange(cc); }
void RawNode::ReadIndex(uint64_t context) { raft_->ReadIndex(context); }
void RawNode::Campaign() { raft_->Campaign(/*transfer=*/false); }
void RawNode::TransferLeadership(NodeId target) { raft_->TransferLeadership(target); }
void RawNode::ReportUnreachable(NodeId id) { raft_->ReportUnreachable(id); }
void RawNode::ReportSnapshot(NodeId id, bool success) { raft_->ReportSnapshot(id, success); }
bool RawNode::HasReady() const { return raft_->HasReady(); }
Ready RawNode::GetReady() { return raft_->GetReady(); }
void RawNode::Advance() { raft_->Advance(); }
NodeStatus RawNode::GetStatus() const { return raft_->GetStatus(); }
NodeId RawNode::id() const { return raft_->id(); }
NodeId RawNode::leader() const { return raft_->leader(); }
Term RawNode::term() const { return raft_->term(); }
Role RawNode::role() const { return raft_->role(); }

}  // namespace synod::raft
