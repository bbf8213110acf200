#include "server/fence.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "server/command.pb.h"

namespace synod::server {

Status AddFence(std::string_view value, serverpb::Command* command) {
  const size_t eq = value.rfind('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status(ErrorCode::kInvalidArgument, "synod-fence: want <lock name>=<token>");
  }
  const std::string_view digits = value.substr(eq + 1);
  int64_t token = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), token);
  if (ec != std::errc() || end != digits.data() + digits.size() || token <= 0) {
    return Status(ErrorCode::kInvalidArgument, "synod-fence: the token is not a revision > 0");
  }
  if (static_cast<size_t>(command->fences_size()) >= kFencesMax) {
    return Status(ErrorCode::kInvalidArgument, "synod-fence: too many fences");
  }
  serverpb::Fence* f = command->add_fences();
  f->set_name(std::string(value.substr(0, eq)));
  f->set_token(token);
  return Status::Ok();
}

mvcc::Outcome<std::optional<int64_t>> LockHolder(const mvcc::Store& store,
                                                 const std::string& name) {
  mvcc::RangeRequest r;
  r.key = name + "/";
  r.range_end = mvcc::PrefixEnd(r.key);
  r.limit = 1;
  r.sort_order = mvcc::SortOrder::kAscend;
  r.sort_target = mvcc::SortTarget::kCreate;
  r.keys_only = true;
  auto got = store.Range(r);
  if (!got.ok()) return got.error();
  if (got.value().result.kvs.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(got.value().result.kvs.front().create_revision);
}

std::optional<mvcc::Error> CheckFences(const mvcc::Store& store, const serverpb::Command& command,
                                       const FenceMarkMap& marks) {
  for (const serverpb::Fence& f : command.fences()) {
    // No key was created at a revision above the store's: such a token was never a holder's,
    // and as a mark it would refuse every later holder.
    if (f.token() > store.revision()) {
      return mvcc::Error(mvcc::Errc::kStaleFence,
                         f.name() + ": token " + std::to_string(f.token()) +
                             " is above the store's revision " + std::to_string(store.revision()));
    }
    if (auto it = marks.find(f.name()); it != marks.end() && it->second > f.token()) {
      return mvcc::Error(mvcc::Errc::kStaleFence, f.name() + ": highest token " +
                                                      std::to_string(it->second) + ", token " +
                                                      std::to_string(f.token()));
    }
    auto holder = LockHolder(store, f.name());
    if (!holder.ok()) return holder.error();
    if (holder.value().has_value() && *holder.value() > f.token()) {
      return mvcc::Error(mvcc::Errc::kStaleFence, f.name() + ": holder " +
                                                      std::to_string(*holder.value()) + ", token " +
                                                      std::to_string(f.token()));
    }
  }
  return std::nullopt;
}

namespace {

// The holder of `name` once the entry deleted `deleted` and created keys at `created` (0:
// none): the oldest key left from before the entry, else a key the entry created.
mvcc::Outcome<std::optional<int64_t>> HolderAfter(const mvcc::Store& store, const std::string& name,
                                                  const std::set<std::string>& deleted,
                                                  int64_t created) {
  mvcc::RangeRequest r;
  r.key = name + "/";
  r.range_end = mvcc::PrefixEnd(r.key);
  // The oldest keys, enough of them to get past every one the entry deleted.
  r.limit = static_cast<int64_t>(deleted.size()) + 1;
  r.sort_order = mvcc::SortOrder::kAscend;
  r.sort_target = mvcc::SortTarget::kCreate;
  r.keys_only = true;
  auto got = store.Range(r);
  if (!got.ok()) return got.error();
  for (const mvcc::KeyValue& kv : got.value().result.kvs) {
    if (deleted.count(kv.key) == 0) return std::optional<int64_t>(kv.create_revision);
  }
  if (created > 0) return std::optional<int64_t>(created);
  return std::optional<int64_t>();
}

}  // namespace

std::vector<mvcc::FenceMark> RaisedFenceMarks(const mvcc::Store& store,
                                              const serverpb::Command& command,
                                              const FenceMarkMap& marks,
                                              const std::vector<mvcc::Event>& events,
                                              std::optional<mvcc::Error>* error) {
  FenceMarkMap raised;
  auto raise = [&](const std::string& name, int64_t token) {
    int64_t& m = raised[name];
    m = std::max(m, token);
  };
  std::set<std::string> tracked;
  for (const serverpb::Fence& f : command.fences()) {
    raise(f.name(), f.token());
    tracked.insert(f.name());
  }
  for (const std::string& name : command.fence_locks()) tracked.insert(name);
  // Lock keys are `name/<lease id in hex>`: the name is the key up to its last '/'.
  struct Touched {
    std::set<std::string> deleted;
    int64_t created = 0;
  };
  std::map<std::string, Touched> touched;
  for (const mvcc::Event& e : events) {
    const size_t slash = e.kv.key.rfind('/');
    if (slash == std::string::npos) continue;
    const std::string name = e.kv.key.substr(0, slash);
    if (tracked.count(name) == 0 && marks.count(name) == 0) continue;
    Touched& t = touched[name];
    if (e.type == mvcc::EventType::kDelete) {
      t.deleted.insert(e.kv.key);
    } else if (e.kv.version == 1) {
      t.created = e.kv.create_revision;
    }
  }
  for (const auto& [name, t] : touched) {
    auto holder = HolderAfter(store, name, t.deleted, t.created);
    if (!holder.ok()) {
      *error = holder.error();
      return {};
    }
    if (holder.value().has_value()) raise(name, *holder.value());
  }
  // A name named for the first time whose keys this entry did not touch: its current holder.
  for (const std::string& name : tracked) {
    if (touched.count(name) > 0 || marks.count(name) > 0) continue;
    auto holder = LockHolder(store, name);
    if (!holder.ok()) {
      *error = holder.error();
      return {};
    }
    if (holder.value().has_value()) raise(name, *holder.value());
  }
  std::vector<mvcc::FenceMark> out;
  for (const auto& [name, token] : raised) {
    auto it = marks.find(name);
    if (token > 0 && (it == marks.end() || it->second < token)) out.push_back({name, token});
  }
  return out;
}

}  // namespace synod::server
