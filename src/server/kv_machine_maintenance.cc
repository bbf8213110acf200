// KvMachine's maintenance side (kv_machine.h): alarms, backups' checkpoints, defragmentation.
#include <algorithm>

#include "base/assert.h"
#include "server/kv_machine.h"

namespace synod::server {
namespace {

// etcd's AlarmRequest.AlarmAction numbers.
constexpr int32_t kActivate = 1;
constexpr int32_t kDeactivate = 2;

}  // namespace

// Activating an alarm already raised, or deactivating one that is not, changes nothing and
// answers with no alarm (etcd does the same), so a command applied twice by a replay is
// harmless. The list is written with the entry's index, so it survives restarts and rides in
// snapshots like the keys.
std::any KvMachine::ApplyAlarm(raft::LogIndex index, int32_t action, uint64_t member,
                               int32_t type) {
  std::vector<mvcc::Alarm> next = Alarms();
  const mvcc::Alarm alarm{member, type};
  const auto it = std::find(next.begin(), next.end(), alarm);
  AlarmOutcome out;
  const bool known_type = type == kAlarmNoSpace || type == kAlarmCorrupt;
  if (action == kActivate && known_type && member != 0 && it == next.end()) {
    next.push_back(alarm);
    out.changed.push_back(alarm);
  } else if (action == kDeactivate && it != next.end()) {
    next.erase(it);
    out.changed.push_back(alarm);
  }
  if (out.changed.empty()) {
    ApplyEmpty(index);
  } else {
    auto done = store_->ApplyAlarms(mvcc::RaftIndex(index.value), next);
    if (!done.ok()) {
      const std::string msg = "store cannot record the alarms of index " +
                              std::to_string(index.value) + ": " + done.error().ToString();
      Log(msg);
      SYNOD_ASSERT(false, msg.c_str());
    }
    const Status s = LoadAlarms();
    SYNOD_ASSERT(s.ok(), "alarms just written must read back");
    Log(std::string(action == kActivate ? "alarm raised" : "alarm cleared") + ": type " +
        std::to_string(type) + " of member " + std::to_string(member));
  }
  out.revision = store_->revision();
  return std::any(std::move(out));
}

Status KvMachine::LoadAlarms() {
  auto alarms = store_->Alarms();
  if (!alarms.ok()) return alarms.error().ToStatus();
  const bool no_space = std::any_of(alarms.value().begin(), alarms.value().end(),
                                    [](const mvcc::Alarm& a) { return a.type == kAlarmNoSpace; });
  std::lock_guard lock(alarms_mu_);
  alarms_ = std::move(alarms.value());
  no_space_.store(no_space);
  return Status::Ok();
}

std::vector<mvcc::Alarm> KvMachine::Alarms() const {
  std::lock_guard lock(alarms_mu_);
  return alarms_;
}

Result<mvcc::CheckpointInfo> KvMachine::Checkpoint(const std::string& dir) const {
  std::shared_lock<std::shared_mutex> lock(swap_mu_);
  // The store serializes a checkpoint with applies itself (its write lock).
  auto info = store_->CreateCheckpoint(dir);
  if (!info.ok()) return info.error().ToStatus();
  return info.value();
}

Status KvMachine::Defragment() const {
  std::shared_lock<std::shared_mutex> lock(swap_mu_);
  auto done = store_->Defragment();
  if (!done.ok()) return done.error().ToStatus();
  return Status::Ok();
}

}  // namespace synod::server
