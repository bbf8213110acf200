// Conversion between the Raft core's messages (raft/types.h) and their protobuf form
// (raft_wire.proto). The protobuf classes are only forward-declared here, so including this
// header does not pull generated code into the includer; callers that build or inspect the
// protobuf objects include "transport/raft_wire.pb.h" themselves.
#pragma once

#include "base/status.h"
#include "raft/types.h"

namespace synod::raftpb {
class Message;
}  // namespace synod::raftpb

namespace synod::transport {

// Every field of `m` is written; `out` is cleared first.
void MessageToProto(const raft::Message& m, raftpb::Message* out);

// The inverse. Entry and snapshot bytes are moved out of `pb` rather than copied, so `pb` is
// left with empty data fields. kCorruption for values no synod node sends (an unknown message
// or entry type), which a reader must treat like a bad checksum.
Result<raft::Message> MessageFromProto(raftpb::Message* pb);

}  // namespace synod::transport
