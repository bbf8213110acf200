#include "mvcc/request_check.h"

#include <set>
#include <string>
#include <vector>

#include "mvcc/key_range.h"

namespace synod::mvcc {
namespace {

// The keys a list of operations may write, whichever nested branches run.
struct Footprint {
  std::set<std::string> puts;
  std::vector<KeyRange> deletes;

  bool Covers(const std::string& key) const {
    for (const KeyRange& d : deletes) {
      if (d.Contains(key)) return true;
    }
    return false;
  }

  // Whether some key could be written both by this footprint and by `other`.
  bool Conflicts(const Footprint& other) const {
    for (const std::string& k : other.puts) {
      if (puts.contains(k) || Covers(k)) return true;
    }
    for (const std::string& k : puts) {
      if (other.Covers(k)) return true;
    }
    return false;
  }

  void Merge(const Footprint& other) {
    puts.insert(other.puts.begin(), other.puts.end());
    deletes.insert(deletes.end(), other.deletes.begin(), other.deletes.end());
  }
};

std::optional<Errc> CheckOps(const std::vector<RequestOp>& ops, size_t ops_max, Footprint* out);

std::optional<Errc> CheckOne(const RequestOp& op, size_t ops_max, Footprint* acc) {
  Footprint mine;
  if (const auto* r = std::get_if<RangeRequest>(&op.request)) return CheckRange(*r);
  if (const auto* p = std::get_if<PutRequest>(&op.request)) {
    if (auto e = CheckPut(*p)) return e;
    mine.puts.insert(p->key);
  } else if (const auto* d = std::get_if<DeleteRangeRequest>(&op.request)) {
    if (auto e = CheckDeleteRange(*d)) return e;
    mine.deletes.push_back(KeyRange::FromRequest(d->key, d->range_end));
  } else {
    const auto& t = std::get<TxnRequest>(op.request);
    if (t.compare.size() > ops_max) return Errc::kTooManyOps;
    Footprint then_writes;
    Footprint else_writes;
    if (auto e = CheckOps(t.success, ops_max, &then_writes)) return e;
    if (auto e = CheckOps(t.failure, ops_max, &else_writes)) return e;
    // Each branch is checked on its own against what came before: only one of them runs.
    if (acc->Conflicts(then_writes) || acc->Conflicts(else_writes)) return Errc::kDuplicateKey;
    acc->Merge(then_writes);
    acc->Merge(else_writes);
    return std::nullopt;
  }
  if (acc->Conflicts(mine)) return Errc::kDuplicateKey;
  acc->Merge(mine);
  return std::nullopt;
}

std::optional<Errc> CheckOps(const std::vector<RequestOp>& ops, size_t ops_max, Footprint* out) {
  if (ops.size() > ops_max) return Errc::kTooManyOps;
  for (const RequestOp& op : ops) {
    if (auto e = CheckOne(op, ops_max, out)) return e;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Errc> CheckRange(const RangeRequest& r) {
  if (r.key.empty()) return Errc::kEmptyKey;
  return std::nullopt;
}

std::optional<Errc> CheckPut(const PutRequest& p) {
  if (p.key.empty()) return Errc::kEmptyKey;
  if (p.ignore_value && !p.value.empty()) return Errc::kValueProvided;
  if (p.ignore_lease && p.lease != kNoLease) return Errc::kLeaseProvided;
  return std::nullopt;
}

std::optional<Errc> CheckDeleteRange(const DeleteRangeRequest& d) {
  if (d.key.empty()) return Errc::kEmptyKey;
  return std::nullopt;
}

std::optional<Errc> CheckTxn(const TxnRequest& t, size_t ops_max) {
  if (t.compare.size() > ops_max) return Errc::kTooManyOps;
  Footprint then_writes;
  if (auto e = CheckOps(t.success, ops_max, &then_writes)) return e;
  Footprint else_writes;
  return CheckOps(t.failure, ops_max, &else_writes);
}

}  // namespace synod::mvcc
