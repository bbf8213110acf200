#include "map_kv.h"

#include <algorithm>
#include <string_view>

#include "base/assert.h"

namespace synod::testing {
namespace {

using api::EtcdError;
using api::ToWireStatus;
using api::WireStatus;
using etcdserverpb::RangeRequest;

bool InRange(std::string_view key, std::string_view first, std::string_view end) {
  if (end.empty()) return key == first;
  if (key < first) return false;
  if (end == std::string_view("\0", 1)) return true;  // "\0": no upper bound
  return key < end;
}

bool PassesFilters(const RangeRequest& r, const mvccpb::KeyValue& kv) {
  if (r.min_mod_revision() != 0 && kv.mod_revision() < r.min_mod_revision()) return false;
  if (r.max_mod_revision() != 0 && kv.mod_revision() > r.max_mod_revision()) return false;
  if (r.min_create_revision() != 0 && kv.create_revision() < r.min_create_revision()) {
    return false;
  }
  if (r.max_create_revision() != 0 && kv.create_revision() > r.max_create_revision()) {
    return false;
  }
  return true;
}

// Strict weak order on the requested field (ascending); ties keep key order.
bool FieldLess(RangeRequest::SortTarget target, const mvccpb::KeyValue& a,
               const mvccpb::KeyValue& b) {
  switch (target) {
    case RangeRequest::KEY:
      return a.key() < b.key();
    case RangeRequest::VERSION:
      return a.version() < b.version();
    case RangeRequest::CREATE:
      return a.create_revision() < b.create_revision();
    case RangeRequest::MOD:
      return a.mod_revision() < b.mod_revision();
    case RangeRequest::VALUE:
      return a.value() < b.value();
    default:
      return false;  // unknown target from a newer client: leave key order
  }
}

void Sort(const RangeRequest& r, std::vector<const mvccpb::KeyValue*>* kvs) {
  // Keys come out of the map in ascending order: NONE/ASCEND by KEY needs no work. A target
  // other than KEY with order NONE sorts ascending, as etcd does.
  RangeRequest::SortOrder order = r.sort_order();
  if (order == RangeRequest::NONE && r.sort_target() != RangeRequest::KEY) {
    order = RangeRequest::ASCEND;
  }
  if (order == RangeRequest::NONE) return;
  const RangeRequest::SortTarget target = r.sort_target();
  std::stable_sort(kvs->begin(), kvs->end(), [&](const auto* a, const auto* b) {
    return order == RangeRequest::DESCEND ? FieldLess(target, *b, *a) : FieldLess(target, *a, *b);
  });
}

}  // namespace

const mvccpb::KeyValue* MapKv::VersionAt(const Versions& versions, int64_t revision) {
  SYNOD_ASSERT(!versions.empty(), "a stored key has at least one version");
  // Versions are ascending by mod_revision: the answer is the last one <= revision.
  auto after = std::upper_bound(
      versions.begin(), versions.end(), revision,
      [](int64_t rev, const mvccpb::KeyValue& kv) { return rev < kv.mod_revision(); });
  if (after == versions.begin()) return nullptr;
  return &*(after - 1);
}

void MapKv::FillHeader(etcdserverpb::ResponseHeader* header) const {
  header->set_cluster_id(options_.cluster_id);
  header->set_member_id(options_.member_id);
  header->set_revision(revision_);
  header->set_raft_term(options_.raft_term);
}

int64_t MapKv::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

WireStatus MapKv::Range(const RangeRequest& request, etcdserverpb::RangeResponse* response) const {
  if (request.key().empty()) return ToWireStatus(EtcdError::kEmptyKey);
  std::lock_guard lock(mu_);
  if (request.revision() > revision_) return ToWireStatus(EtcdError::kFutureRev);
  const int64_t at = request.revision() > 0 ? request.revision() : revision_;

  std::vector<const mvccpb::KeyValue*> selected;
  int64_t count = 0;  // keys in the range at `at`, before filters and limit
  for (auto it = keys_.lower_bound(request.key()); it != keys_.end(); ++it) {
    if (!InRange(it->first, request.key(), request.range_end())) break;
    const mvccpb::KeyValue* kv = VersionAt(it->second, at);
    if (kv == nullptr) continue;
    ++count;
    if (PassesFilters(request, *kv)) selected.push_back(kv);
  }
  Sort(request, &selected);
  const auto limit = static_cast<size_t>(std::max<int64_t>(request.limit(), 0));
  if (limit > 0 && selected.size() > limit) {
    selected.resize(limit);
    response->set_more(true);
  }

  FillHeader(response->mutable_header());
  response->set_count(count);
  if (request.count_only()) return WireStatus{};
  for (const mvccpb::KeyValue* kv : selected) {
    mvccpb::KeyValue* out = response->add_kvs();
    *out = *kv;
    if (request.keys_only()) out->clear_value();
  }
  return WireStatus{};
}

WireStatus MapKv::Put(const etcdserverpb::PutRequest& request,
                      etcdserverpb::PutResponse* response) {
  // Checks in etcd's order: size, then request shape, then state.
  if (static_cast<int64_t>(request.ByteSizeLong()) > options_.request_bytes_max) {
    return ToWireStatus(EtcdError::kRequestTooLarge);
  }
  if (request.key().empty()) return ToWireStatus(EtcdError::kEmptyKey);
  if (request.ignore_value() && !request.value().empty()) {
    return ToWireStatus(EtcdError::kValueProvided);
  }
  if (request.ignore_lease() && request.lease() != 0) {
    return ToWireStatus(EtcdError::kLeaseProvided);
  }
  if (request.lease() != 0) return ToWireStatus(EtcdError::kLeaseNotFound);  // no leases here

  std::lock_guard lock(mu_);
  auto it = keys_.find(request.key());
  const mvccpb::KeyValue* prev = it == keys_.end() ? nullptr : &it->second.back();
  if ((request.ignore_value() || request.ignore_lease()) && prev == nullptr) {
    return ToWireStatus(EtcdError::kKeyNotFound);
  }
  if (versions_stored_ >= options_.versions_max) return ToWireStatus(EtcdError::kNoSpace);

  const int64_t rev = revision_ + 1;
  mvccpb::KeyValue next;
  next.set_key(request.key());
  next.set_create_revision(prev != nullptr ? prev->create_revision() : rev);
  next.set_mod_revision(rev);
  next.set_version(prev != nullptr ? prev->version() + 1 : 1);
  next.set_value(request.ignore_value() ? prev->value() : request.value());
  next.set_lease(request.ignore_lease() ? prev->lease() : request.lease());
  if (request.prev_kv() && prev != nullptr) *response->mutable_prev_kv() = *prev;

  // `prev` points into the vector: it is dead after this push.
  keys_[request.key()].push_back(std::move(next));
  ++versions_stored_;
  revision_ = rev;
  FillHeader(response->mutable_header());
  return WireStatus{};
}

}  // namespace synod::testing
