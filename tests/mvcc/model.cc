#include "model.h"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "base/assert.h"

namespace synod::mvcc::testing {
namespace {

bool InRange(const std::string& key, const std::string& start, const std::string& end) {
  if (end.empty()) return key == start;
  if (end == std::string(1, '\0')) return key >= start;
  return start <= key && key < end;
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CmpTarget(SortTarget t, const KeyValue& a, const KeyValue& b) {
  switch (t) {
    case SortTarget::kKey: return Cmp(a.key, b.key);
    case SortTarget::kVersion: return Cmp(a.version, b.version);
    case SortTarget::kCreate: return Cmp(a.create_revision, b.create_revision);
    case SortTarget::kMod: return Cmp(a.mod_revision, b.mod_revision);
    case SortTarget::kValue: return Cmp(a.value, b.value);
  }
  return 0;
}

struct PathWrite {
  bool put = false;
  std::string key;
  std::string end;
};
using Path = std::vector<PathWrite>;

// Every sequence of writes some run of `ops` could perform, one per choice of nested branches.
std::vector<Path> Paths(const std::vector<RequestOp>& ops) {
  std::vector<Path> paths{Path{}};
  for (const RequestOp& op : ops) {
    if (const auto* p = std::get_if<PutRequest>(&op.request)) {
      for (Path& path : paths) path.push_back({true, p->key, ""});
    } else if (const auto* d = std::get_if<DeleteRangeRequest>(&op.request)) {
      for (Path& path : paths) path.push_back({false, d->key, d->range_end});
    } else if (const auto* t = std::get_if<TxnRequest>(&op.request)) {
      std::vector<Path> tails = Paths(t->success);
      std::vector<Path> other = Paths(t->failure);
      tails.insert(tails.end(), other.begin(), other.end());
      std::vector<Path> next;
      for (const Path& path : paths) {
        for (const Path& tail : tails) {
          Path joined = path;
          joined.insert(joined.end(), tail.begin(), tail.end());
          next.push_back(std::move(joined));
        }
      }
      paths = std::move(next);
    }
  }
  return paths;
}

bool WritesAKeyTwice(const Path& path) {
  for (size_t i = 0; i < path.size(); ++i) {
    for (size_t j = 0; j < path.size(); ++j) {
      if (i == j || !path[i].put) continue;
      const PathWrite& other = path[j];
      if (other.put ? other.key == path[i].key : InRange(path[i].key, other.key, other.end)) {
        return true;
      }
    }
  }
  return false;
}

std::optional<Errc> CheckFlags(const PutRequest& p) {
  if (p.key.empty()) return Errc::kEmptyKey;
  if (p.ignore_value && !p.value.empty()) return Errc::kValueProvided;
  if (p.ignore_lease && p.lease != 0) return Errc::kLeaseProvided;
  return std::nullopt;
}

std::optional<Errc> CheckShape(const std::vector<RequestOp>& ops, size_t max) {
  if (ops.size() > max) return Errc::kTooManyOps;
  for (const RequestOp& op : ops) {
    if (const auto* p = std::get_if<PutRequest>(&op.request)) {
      if (auto e = CheckFlags(*p)) return e;
    } else if (const auto* d = std::get_if<DeleteRangeRequest>(&op.request)) {
      if (d->key.empty()) return Errc::kEmptyKey;
    } else if (const auto* r = std::get_if<RangeRequest>(&op.request)) {
      if (r->key.empty()) return Errc::kEmptyKey;
    } else {
      const auto& t = std::get<TxnRequest>(op.request);
      if (t.compare.size() > max) return Errc::kTooManyOps;
      if (auto e = CheckShape(t.success, max)) return e;
      if (auto e = CheckShape(t.failure, max)) return e;
    }
  }
  return std::nullopt;
}

bool HasWrites(const std::vector<RequestOp>& ops) {
  for (const RequestOp& op : ops) {
    if (std::holds_alternative<PutRequest>(op.request) ||
        std::holds_alternative<DeleteRangeRequest>(op.request)) {
      return true;
    }
    if (const auto* t = std::get_if<TxnRequest>(&op.request)) {
      if (HasWrites(t->success) || HasWrites(t->failure)) return true;
    }
  }
  return false;
}

}  // namespace

const Model::Version* Model::Visible(const State& s, const std::string& key, int64_t revision) {
  auto it = s.history.find(key);
  if (it == s.history.end()) return nullptr;
  const Version* found = nullptr;
  for (const Version& v : it->second) {
    if (v.revision <= revision) found = &v;
  }
  return found;
}

std::vector<KeyValue> Model::LiveIn(const State& s, const std::string& key,
                                    const std::string& end, int64_t revision) {
  std::vector<KeyValue> kvs;
  for (const auto& [k, versions] : s.history) {
    if (!InRange(k, key, end)) continue;
    const Version* v = Visible(s, k, revision);
    if (v != nullptr && !v->deleted) kvs.push_back(v->kv);
  }
  return kvs;
}

Outcome<RangeResult> Model::DoRange(const Work& w, const RangeRequest& r) {
  if (r.key.empty()) return Errc::kEmptyKey;
  int64_t at = w.base + 1;  // nothing sits above the base but this request's own writes
  if (r.revision > 0) {
    if (r.revision > w.base) return Errc::kFutureRevision;
    if (r.revision < w.state.compacted) return Errc::kCompacted;
    at = r.revision;
  }
  std::vector<KeyValue> kvs = LiveIn(w.state, r.key, r.range_end, at);
  RangeResult result;
  result.count = static_cast<int64_t>(kvs.size());
  if (r.count_only) return result;
  std::erase_if(kvs, [&](const KeyValue& kv) {
    return (r.min_mod_revision > 0 && kv.mod_revision < r.min_mod_revision) ||
           (r.max_mod_revision > 0 && kv.mod_revision > r.max_mod_revision) ||
           (r.min_create_revision > 0 && kv.create_revision < r.min_create_revision) ||
           (r.max_create_revision > 0 && kv.create_revision > r.max_create_revision);
  });
  SortOrder order = r.sort_order;
  if (order == SortOrder::kNone && r.sort_target != SortTarget::kKey) order = SortOrder::kAscend;
  if (order != SortOrder::kNone) {
    std::stable_sort(kvs.begin(), kvs.end(), [&](const KeyValue& a, const KeyValue& b) {
      const int c = CmpTarget(r.sort_target, a, b);
      return order == SortOrder::kAscend ? c < 0 : c > 0;
    });
  }
  if (r.limit > 0 && kvs.size() > static_cast<size_t>(r.limit)) {
    kvs.resize(static_cast<size_t>(r.limit));
    result.more = true;
  }
  if (r.keys_only) {
    for (KeyValue& kv : kvs) kv.value.clear();
  }
  result.kvs = std::move(kvs);
  return result;
}

void Model::Record(Work& w, const std::string& key, bool deleted, const KeyValue& kv) {
  SYNOD_ASSERT(!w.read_only, "write in a read-only model txn");
  auto& versions = w.state.history[key];
  SYNOD_ASSERT(versions.empty() || versions.back().revision < w.write_revision(),
               "model wrote a key twice in one revision");
  versions.push_back(Version{w.write_revision(), deleted, kv});
  w.changed = true;
}

Outcome<PutResult> Model::DoPut(Work& w, const PutRequest& p) {
  if (auto e = CheckFlags(p)) return *e;
  const Version* prev_version = Visible(w.state, p.key, w.write_revision());
  std::optional<KeyValue> prev;
  if (prev_version != nullptr && !prev_version->deleted) prev = prev_version->kv;
  if ((p.ignore_value || p.ignore_lease) && !prev) return Errc::kKeyNotFound;
  const int64_t lease = p.ignore_lease ? prev->lease : p.lease;
  if (lease != 0 && !w.state.leases.contains(lease)) return Errc::kLeaseNotFound;
  KeyValue kv{p.key,
              prev ? prev->create_revision : w.write_revision(),
              w.write_revision(),
              prev ? prev->version + 1 : 1,
              p.ignore_value ? prev->value : p.value,
              lease};
  Record(w, p.key, false, kv);
  w.state.log.push_back(Event{EventType::kPut, kv, prev});
  PutResult result;
  if (p.prev_kv) result.prev_kv = prev;
  return result;
}

Outcome<DeleteRangeResult> Model::DoDelete(Work& w, const DeleteRangeRequest& d) {
  if (d.key.empty()) return Errc::kEmptyKey;
  DeleteRangeResult result;
  for (const KeyValue& live : LiveIn(w.state, d.key, d.range_end, w.write_revision())) {
    KeyValue tomb;
    tomb.key = live.key;
    tomb.mod_revision = w.write_revision();
    Record(w, live.key, true, tomb);
    w.state.log.push_back(Event{EventType::kDelete, tomb, live});
    ++result.deleted;
    if (d.prev_kv) result.prev_kvs.push_back(live);
  }
  return result;
}

bool Model::Holds(const Work& w, const Compare& c) {
  auto holds = [&](const KeyValue& kv) {
    int r = 0;
    switch (c.target) {
      case CompareTarget::kVersion: r = Cmp(kv.version, c.version); break;
      case CompareTarget::kCreate: r = Cmp(kv.create_revision, c.create_revision); break;
      case CompareTarget::kMod: r = Cmp(kv.mod_revision, c.mod_revision); break;
      case CompareTarget::kValue: r = Cmp(kv.value, c.value); break;
      case CompareTarget::kLease: r = Cmp(kv.lease, c.lease); break;
    }
    switch (c.result) {
      case CompareResult::kEqual: return r == 0;
      case CompareResult::kNotEqual: return r != 0;
      case CompareResult::kGreater: return r > 0;
      case CompareResult::kLess: return r < 0;
    }
    return false;
  };
  const std::vector<KeyValue> kvs = LiveIn(w.state, c.key, c.range_end, w.base + 1);
  if (kvs.empty()) return c.target != CompareTarget::kValue && holds(KeyValue{});
  return std::all_of(kvs.begin(), kvs.end(), holds);
}

Outcome<TxnResult> Model::DoTxn(Work& w, const TxnRequest& t) {
  TxnResult result;
  result.succeeded = std::all_of(t.compare.begin(), t.compare.end(),
                                 [&](const Compare& c) { return Holds(w, c); });
  for (const RequestOp& op : result.succeeded ? t.success : t.failure) {
    Outcome<ResponseOp> response = std::visit(
        [&](const auto& r) -> Outcome<ResponseOp> {
          using T = std::decay_t<decltype(r)>;
          auto wrap = [](auto o) -> Outcome<ResponseOp> {
            if (!o.ok()) return o.error();
            return ResponseOp{std::move(o.value())};
          };
          if constexpr (std::is_same_v<T, RangeRequest>) {
            return wrap(DoRange(w, r));
          } else if constexpr (std::is_same_v<T, PutRequest>) {
            return wrap(DoPut(w, r));
          } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
            return wrap(DoDelete(w, r));
          } else {
            return wrap(DoTxn(w, r));
          }
        },
        op.request);
    if (!response.ok()) return response.error();
    result.responses.push_back(std::move(response.value()));
  }
  return result;
}

std::optional<Errc> Model::Validate(const TxnRequest& t) const {
  if (t.compare.size() > txn_ops_max_) return Errc::kTooManyOps;
  if (auto e = CheckShape(t.success, txn_ops_max_)) return e;
  if (auto e = CheckShape(t.failure, txn_ops_max_)) return e;
  for (const auto* branch : {&t.success, &t.failure}) {
    for (const Path& path : Paths(*branch)) {
      if (WritesAKeyTwice(path)) return Errc::kDuplicateKey;
    }
  }
  return std::nullopt;
}

Outcome<ApplyResult> Model::ApplyCompact(const CompactRequest& c) {
  if (c.revision <= state_.compacted) return Errc::kCompacted;
  if (c.revision > state_.revision) return Errc::kFutureRevision;
  for (auto it = state_.history.begin(); it != state_.history.end();) {
    std::vector<Version>& versions = it->second;
    const Version* newest = nullptr;  // newest at or below the compaction
    for (const Version& v : versions) {
      if (v.revision <= c.revision) newest = &v;
    }
    std::vector<Version> kept;
    for (const Version& v : versions) {
      if (v.revision >= c.revision || (&v == newest && !v.deleted)) kept.push_back(v);
    }
    versions = std::move(kept);
    it = versions.empty() ? state_.history.erase(it) : std::next(it);
  }
  state_.compacted = c.revision;
  return ApplyResult{state_.revision, CompactResult{}, {}};
}

Outcome<ApplyResult> Model::Apply(const WriteRequest& request) {
  if (const auto* c = std::get_if<CompactRequest>(&request)) return ApplyCompact(*c);
  Work w{state_, state_.revision, false, false};
  const size_t log_before = w.state.log.size();
  Outcome<WriteResult> result = std::visit(
      [&](const auto& r) -> Outcome<WriteResult> {
        using T = std::decay_t<decltype(r)>;
        auto wrap = [](auto o) -> Outcome<WriteResult> {
          if (!o.ok()) return o.error();
          return WriteResult(std::move(o.value()));
        };
        if constexpr (std::is_same_v<T, PutRequest>) {
          return wrap(DoPut(w, r));
        } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
          return wrap(DoDelete(w, r));
        } else if constexpr (std::is_same_v<T, TxnRequest>) {
          if (auto e = Validate(r)) return *e;
          return wrap(DoTxn(w, r));
        } else if constexpr (std::is_same_v<T, LeaseGrantRequest>) {
          if (r.id <= 0) return Errc::kInvalidArgument;
          if (w.state.leases.contains(r.id)) return Errc::kLeaseExists;
          w.state.leases[r.id] = r.ttl_seconds;
          return WriteResult(LeaseGrantResult{});
        } else if constexpr (std::is_same_v<T, LeaseRevokeRequest>) {
          if (!w.state.leases.contains(r.id)) return Errc::kLeaseNotFound;
          LeaseRevokeResult revoked;
          for (const std::string& key : LeaseKeysIn(w.state, r.id)) {
            DeleteRangeRequest d;
            d.key = key;
            auto deleted = DoDelete(w, d);
            SYNOD_ASSERT(deleted.ok(), "model revoke delete failed");
            revoked.deleted += deleted.value().deleted;
          }
          w.state.leases.erase(r.id);
          return WriteResult(revoked);
        } else {
          SYNOD_UNREACHABLE("compaction handled above");
        }
      },
      request);
  if (!result.ok()) return result.error();
  if (w.changed) w.state.revision = w.base + 1;
  std::vector<Event> events(w.state.log.begin() + static_cast<std::ptrdiff_t>(log_before),
                            w.state.log.end());
  state_ = std::move(w.state);
  return ApplyResult{state_.revision, std::move(result.value()), std::move(events)};
}

Outcome<RangeResponse> Model::Range(const RangeRequest& request) const {
  Work w{state_, state_.revision, false, true};
  auto result = DoRange(w, request);
  if (!result.ok()) return result.error();
  return RangeResponse{state_.revision, std::move(result.value())};
}

Outcome<TxnResponse> Model::ReadTxn(const TxnRequest& request) const {
  if (HasWrites(request.success) || HasWrites(request.failure)) return Errc::kInvalidArgument;
  if (auto e = Validate(request)) return *e;
  Work w{state_, state_.revision, false, true};
  auto result = DoTxn(w, request);
  if (!result.ok()) return result.error();
  return TxnResponse{state_.revision, std::move(result.value())};
}

Outcome<EventsResult> Model::ReadEvents(const EventsRequest& request) const {
  if (request.start_revision <= 0 || request.events_max == 0) return Errc::kInvalidArgument;
  if (request.start_revision < state_.compacted) return Errc::kCompacted;
  const int64_t end = (request.end_revision <= 0 || request.end_revision > state_.revision)
                          ? state_.revision
                          : request.end_revision;
  EventsResult result;
  result.revision = state_.revision;
  result.next_revision = std::max(end + 1, request.start_revision);
  int64_t last = 0;
  for (const Event& e : state_.log) {
    const int64_t rev = e.kv.mod_revision;
    if (rev < request.start_revision || rev > end) continue;
    if (rev != last && result.events.size() >= request.events_max) {
      result.next_revision = rev;
      break;
    }
    last = rev;
    if (!InRange(e.kv.key, request.key, request.range_end)) continue;
    Event copy = e;
    if (!request.prev_kv || rev <= state_.compacted) copy.prev_kv.reset();
    result.events.push_back(std::move(copy));
  }
  return result;
}

Outcome<std::vector<Lease>> Model::Leases() const {
  std::vector<Lease> leases;
  for (const auto& [id, ttl] : state_.leases) leases.push_back(Lease{id, ttl});
  return leases;
}

std::vector<std::string> Model::LeaseKeysIn(const State& s, int64_t id) {
  std::vector<std::string> keys;
  for (const KeyValue& kv : LiveIn(s, std::string(1, '\0'), std::string(1, '\0'), s.revision)) {
    if (kv.lease == id) keys.push_back(kv.key);
  }
  return keys;
}

Outcome<std::vector<std::string>> Model::LeaseKeys(int64_t id) const {
  return LeaseKeysIn(state_, id);
}

}  // namespace synod::mvcc::testing
