// etcd v3 wire messages <-> the MVCC store's types. Pure functions: the apply path runs the
// request conversions on every member, so they must be deterministic, and they never fail
// (an enum value from a newer client maps to the closest meaning etcd gives it).
#pragma once

#include "etcdserverpb/rpc.pb.h"
#include "mvcc/types.h"

namespace synod::server {

mvcc::RangeRequest FromProto(const etcdserverpb::RangeRequest& r);
mvcc::PutRequest FromProto(const etcdserverpb::PutRequest& r);
mvcc::DeleteRangeRequest FromProto(const etcdserverpb::DeleteRangeRequest& r);
mvcc::TxnRequest FromProto(const etcdserverpb::TxnRequest& r);
mvcc::CompactRequest FromProto(const etcdserverpb::CompactionRequest& r);
mvcc::LeaseGrantRequest FromProto(const etcdserverpb::LeaseGrantRequest& r);
mvcc::LeaseRevokeRequest FromProto(const etcdserverpb::LeaseRevokeRequest& r);

void ToProto(const mvcc::KeyValue& kv, mvccpb::KeyValue* out);
// Results fill everything but the header, which the service owns (except the headers of
// responses nested in a txn, which carry `revision` as etcd's do).
void ToProto(const mvcc::RangeResult& r, etcdserverpb::RangeResponse* out);
void ToProto(const mvcc::PutResult& r, etcdserverpb::PutResponse* out);
void ToProto(const mvcc::DeleteRangeResult& r, etcdserverpb::DeleteRangeResponse* out);
void ToProto(const mvcc::TxnResult& r, int64_t revision, etcdserverpb::TxnResponse* out);

// True when no branch (nested ones included) writes: such a txn is served like a Range.
bool IsReadOnly(const etcdserverpb::TxnRequest& r);

}  // namespace synod::server
