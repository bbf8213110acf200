// Checks a request before it touches the store, so that a malformed request fails before any
// of its operations ran: empty keys, contradictory flags, oversized transactions and
// transactions that would write one key twice.
#pragma once

#include <cstddef>
#include <optional>

#include "mvcc/error.h"
#include "mvcc/types.h"

namespace synod::mvcc {

std::optional<Errc> CheckRange(const RangeRequest& r);
std::optional<Errc> CheckPut(const PutRequest& p);
std::optional<Errc> CheckDeleteRange(const DeleteRangeRequest& d);

// Besides checking every operation, rejects (kDuplicateKey) a transaction in which the branch
// that runs could write a key twice: two puts of one key, or a put of a key that a delete
// range covers, anywhere in the branch including nested transactions. The two branches of a
// nested transaction exclude each other and may overlap. Deletes may overlap deletes.
//
// This is stricter than etcd in one corner: etcd lets a put in one nested transaction be
// followed by a delete of the same key in a later nested transaction. synod refuses it, which
// keeps the invariant that a revision writes each key at most once (the key index holds one
// entry per key and revision).
std::optional<Errc> CheckTxn(const TxnRequest& t, size_t ops_max);

}  // namespace synod::mvcc
