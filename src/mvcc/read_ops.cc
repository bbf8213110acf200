#include "mvcc/read_ops.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace synod::mvcc {
namespace {

bool PassesFilters(const RangeRequest& r, const IndexHit& h) {
  const int64_t mod = h.mod_revision;
  const int64_t create = h.entry.create_revision;
  if (r.min_mod_revision > 0 && mod < r.min_mod_revision) return false;
  if (r.max_mod_revision > 0 && mod > r.max_mod_revision) return false;
  if (r.min_create_revision > 0 && create < r.min_create_revision) return false;
  if (r.max_create_revision > 0 && create > r.max_create_revision) return false;
  return true;
}

// etcd sorts ascending when a target other than the key is named without an order.
SortOrder EffectiveOrder(const RangeRequest& r) {
  if (r.sort_target != SortTarget::kKey && r.sort_order == SortOrder::kNone) {
    return SortOrder::kAscend;
  }
  return r.sort_order;
}

// -1, 0, 1 as a's target field is below, equal to or above b's.
int CompareBy(SortTarget target, const KeyValue& a, const KeyValue& b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (target) {
    case SortTarget::kKey: return cmp(a.key, b.key);
    case SortTarget::kVersion: return cmp(a.version, b.version);
    case SortTarget::kCreate: return cmp(a.create_revision, b.create_revision);
    case SortTarget::kMod: return cmp(a.mod_revision, b.mod_revision);
    case SortTarget::kValue: return cmp(a.value, b.value);
  }
  SYNOD_UNREACHABLE("bad sort target");
}

// A version on its way into a response, with where its value lives.
struct Row {
  KeyValue kv;
  int64_t sub = 0;
};

// Rows arrive in key order. The sort is stable so that equal targets stay in key order (etcd's
// order among equals is unspecified; synod's is deterministic so replicas and tests agree).
void SortRows(const RangeRequest& r, std::vector<Row>* rows) {
  const SortOrder order = EffectiveOrder(r);
  if (order == SortOrder::kNone) return;
  if (r.sort_target == SortTarget::kKey) {
    if (order == SortOrder::kDescend) std::reverse(rows->begin(), rows->end());
    return;
  }
  const int sign = order == SortOrder::kAscend ? 1 : -1;
  std::stable_sort(rows->begin(), rows->end(), [&](const Row& a, const Row& b) {
    return sign * CompareBy(r.sort_target, a.kv, b.kv) < 0;
  });
}

// Reads the values of `rows` in one batch.
Outcome<Done> LoadValues(KeyIndex& index, std::vector<Row>* rows) {
  std::vector<IndexHit> hits;
  hits.reserve(rows->size());
  for (const Row& row : *rows) {
    IndexHit hit{row.kv.key, row.kv.mod_revision, {}};
    hit.entry.sub = row.sub;
    hits.push_back(std::move(hit));
  }
  auto values = index.LoadValues(hits);
  if (!values.ok()) return values.error();
  for (size_t i = 0; i < rows->size(); ++i) (*rows)[i].kv.value = std::move(values.value()[i]);
  return Done{};
}

}  // namespace

Outcome<int64_t> ResolveReadRevision(int64_t requested, int64_t current, int64_t compacted) {
  if (requested <= 0) return current;
  if (requested > current) return Errc::kFutureRevision;
  if (requested < compacted) return Errc::kCompacted;
  return requested;
}

Outcome<RangeResult> ExecuteRange(KeyIndex& index, const RangeRequest& request,
                                  int64_t revision) {
  RangeResult result;
  std::vector<IndexHit> hits;
  auto scanned = index.Scan(KeyRange::FromRequest(request.key, request.range_end), revision,
                            [&](IndexHit&& hit) {
                              ++result.count;
                              if (!request.count_only && PassesFilters(request, hit)) {
                                hits.push_back(std::move(hit));
                              }
                              return true;
                            });
  if (!scanned.ok()) return scanned.error();
  if (request.count_only) return result;

  // Values are read only for the keys returned, unless the sort needs them all.
  const bool values_first = request.sort_target == SortTarget::kValue;
  std::vector<Row> rows;
  rows.reserve(hits.size());
  for (const IndexHit& hit : hits) rows.push_back(Row{hit.Meta(), hit.entry.sub});
  if (values_first) {
    if (auto loaded = LoadValues(index, &rows); !loaded.ok()) return loaded.error();
  }
  SortRows(request, &rows);
  if (request.limit > 0 && rows.size() > static_cast<size_t>(request.limit)) {
    rows.resize(static_cast<size_t>(request.limit));
    result.more = true;
  }
  if (!values_first && !request.keys_only) {
    if (auto loaded = LoadValues(index, &rows); !loaded.ok()) return loaded.error();
  }
  result.kvs.reserve(rows.size());
  for (Row& row : rows) {
    if (request.keys_only) row.kv.value.clear();
    result.kvs.push_back(std::move(row.kv));
  }
  return result;
}

bool CompareHolds(const Compare& compare, const KeyValue& kv) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  int c = 0;
  switch (compare.target) {
    case CompareTarget::kVersion: c = cmp(kv.version, compare.version); break;
    case CompareTarget::kCreate: c = cmp(kv.create_revision, compare.create_revision); break;
    case CompareTarget::kMod: c = cmp(kv.mod_revision, compare.mod_revision); break;
    case CompareTarget::kValue: c = cmp(kv.value, compare.value); break;
    case CompareTarget::kLease: c = cmp(kv.lease, compare.lease); break;
  }
  switch (compare.result) {
    case CompareResult::kEqual: return c == 0;
    case CompareResult::kNotEqual: return c != 0;
    case CompareResult::kGreater: return c > 0;
    case CompareResult::kLess: return c < 0;
  }
  SYNOD_UNREACHABLE("bad compare result");
}

Outcome<bool> EvaluateCompare(KeyIndex& index, const Compare& compare, int64_t revision) {
  bool any = false;
  bool all = true;
  std::optional<Error> failure;
  auto scanned = index.Scan(KeyRange::FromRequest(compare.key, compare.range_end), revision,
                            [&](IndexHit&& hit) {
                              any = true;
                              KeyValue kv = hit.Meta();
                              if (compare.target == CompareTarget::kValue) {
                                auto full = index.Load(hit);
                                if (!full.ok()) {
                                  failure = full.error();
                                  return false;
                                }
                                kv = std::move(full.value());
                              }
                              all = CompareHolds(compare, kv);
                              return all;
                            });
  if (!scanned.ok()) return scanned.error();
  if (failure) return *failure;
  if (any) return all;
  // No key: there is no value to compare (etcd cannot tell a missing value from an empty one
  // on the wire, so it fails), while the numbers of a missing key are all zero.
  if (compare.target == CompareTarget::kValue) return false;
  return CompareHolds(compare, KeyValue{});
}

}  // namespace synod::mvcc
