#include "sim/kv.h"

#include "base/assert.h"
#include "sim/codec.h"
#include "sim/hash.h"

namespace synod::sim {
namespace {

void PutOptional(ByteWriter& w, const std::optional<std::string>& v) {
  w.PutU8(v ? 1 : 0);
  if (v) w.PutBytes(*v);
}

bool GetOptional(ByteReader& r, std::optional<std::string>* v) {
  uint8_t has = 0;
  if (!r.GetU8(&has) || has > 1) return false;
  if (has == 0) {
    v->reset();
    return true;
  }
  std::string s;
  if (!r.GetBytes(&s)) return false;
  *v = std::move(s);
  return true;
}

}  // namespace

std::string EncodeCommand(const Command& cmd) {
  ByteWriter w;
  w.PutU8(static_cast<uint8_t>(cmd.kind));
  w.PutU64(cmd.client);
  w.PutU64(cmd.request);
  w.PutBytes(cmd.key);
  w.PutBytes(cmd.value);
  PutOptional(w, cmd.expected);
  return w.Take();
}

std::optional<Command> DecodeCommand(std::string_view bytes) {
  ByteReader r(bytes);
  Command cmd;
  uint8_t kind = 0;
  if (!r.GetU8(&kind) || kind < 1 || kind > 4 || !r.GetU64(&cmd.client) ||
      !r.GetU64(&cmd.request) || !r.GetBytes(&cmd.key) || !r.GetBytes(&cmd.value) ||
      !GetOptional(r, &cmd.expected) || !r.done()) {
    return std::nullopt;
  }
  cmd.kind = static_cast<CommandKind>(kind);
  return cmd;
}

ApplyStatus KvStateMachine::Apply(const Command& cmd, CommandResult* result) {
  *result = CommandResult{};
  if (cmd.kind == CommandKind::kProbe) return ApplyStatus::kApplied;
  Session& session = sessions_[cmd.client];
  if (cmd.request < session.request) return ApplyStatus::kStale;
  if (cmd.request == session.request) {
    *result = session.result;
    return ApplyStatus::kDuplicate;
  }
  switch (cmd.kind) {
    case CommandKind::kGet:
      result->value = Get(cmd.key);
      break;
    case CommandKind::kPut:
      data_[cmd.key] = cmd.value;
      break;
    case CommandKind::kCas: {
      const std::optional<std::string> current = Get(cmd.key);
      result->cas_succeeded = current == cmd.expected;
      if (result->cas_succeeded) data_[cmd.key] = cmd.value;
      break;
    }
    case CommandKind::kProbe:
      SYNOD_UNREACHABLE("probe handled above");
  }
  session.request = cmd.request;
  session.result = *result;
  return ApplyStatus::kApplied;
}

std::optional<std::string> KvStateMachine::Get(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::string KvStateMachine::Image() const {
  ByteWriter w;
  w.PutU32(static_cast<uint32_t>(data_.size()));
  for (const auto& [k, v] : data_) {
    w.PutBytes(k);
    w.PutBytes(v);
  }
  w.PutU32(static_cast<uint32_t>(sessions_.size()));
  for (const auto& [client, s] : sessions_) {
    w.PutU64(client);
    w.PutU64(s.request);
    w.PutU8(s.result.cas_succeeded ? 1 : 0);
    PutOptional(w, s.result.value);
  }
  return w.Take();
}

bool KvStateMachine::Restore(std::string_view image) {
  ByteReader r(image);
  std::map<std::string, std::string> data;
  std::map<uint64_t, Session> sessions;
  uint32_t n = 0;
  if (!r.GetU32(&n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!r.GetBytes(&k) || !r.GetBytes(&v)) return false;
    data.emplace(std::move(k), std::move(v));
  }
  if (!r.GetU32(&n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t client = 0;
    Session s;
    uint8_t cas = 0;
    if (!r.GetU64(&client) || !r.GetU64(&s.request) || !r.GetU8(&cas) ||
        !GetOptional(r, &s.result.value)) {
      return false;
    }
    s.result.cas_succeeded = cas != 0;
    sessions.emplace(client, std::move(s));
  }
  if (!r.done()) return false;
  data_ = std::move(data);
  sessions_ = std::move(sessions);
  return true;
}

uint64_t KvStateMachine::Hash() const {
  Hasher h;
  for (const auto& [k, v] : data_) {
    h.Add(k);
    h.Add(v);
  }
  for (const auto& [client, s] : sessions_) {
    h.Add(client);
    h.Add(s.request);
  }
  return h.value();
}

}  // namespace synod::sim
