#include "server/fence.h"

#include <charconv>

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

std::optional<mvcc::Error> CheckFences(const mvcc::Store& store, const serverpb::Command& command) {
  for (const serverpb::Fence& f : command.fences()) {
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

}  // namespace synod::server
