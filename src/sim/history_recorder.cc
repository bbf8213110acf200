#include "sim/history_recorder.h"

#include "base/assert.h"

namespace synod::sim {

HistoryRecorder::OpId HistoryRecorder::Invoke(lincheck::Operation op) {
  op.ret = lincheck::kNeverReturned;
  op.outcome = lincheck::Outcome::kUnknown;
  ops_.push_back(std::move(op));
  states_.push_back(State::kPending);
  return ops_.size() - 1;
}

void HistoryRecorder::Finish(OpId id) {
  SYNOD_ASSERT(id < ops_.size(), "unknown operation id");
  SYNOD_ASSERT(states_[id] == State::kPending, "operation finished twice");
  states_[id] = State::kDone;
}

void HistoryRecorder::Ok(OpId id, Micros ret_us, std::optional<std::string> output) {
  Finish(id);
  lincheck::Operation& op = ops_[id];
  SYNOD_ASSERT(ret_us >= op.call, "operation returned before it was called");
  op.outcome = lincheck::Outcome::kOk;
  op.ret = ret_us;
  if (op.kind == lincheck::OpKind::kRead) op.output = std::move(output);
  ++ok_;
}

void HistoryRecorder::CasFailed(OpId id, Micros ret_us) {
  Finish(id);
  lincheck::Operation& op = ops_[id];
  SYNOD_ASSERT(op.kind == lincheck::OpKind::kCas, "only a cas can fail its comparison");
  SYNOD_ASSERT(ret_us >= op.call, "operation returned before it was called");
  op.outcome = lincheck::Outcome::kFail;
  op.ret = ret_us;
  ++ok_;
}

void HistoryRecorder::Unknown(OpId id) {
  Finish(id);
  ++unknown_;
}

void HistoryRecorder::Drop(OpId id) {
  SYNOD_ASSERT(id < ops_.size() && states_[id] == State::kPending, "drop of a finished op");
  states_[id] = State::kDropped;
  ++dropped_;
}

lincheck::History HistoryRecorder::Build() const {
  lincheck::History h;
  h.initial = std::nullopt;  // every key starts absent
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (states_[i] == State::kDropped) continue;
    h.ops.push_back(ops_[i]);
  }
  return h;
}

}  // namespace synod::sim
