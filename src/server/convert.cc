#include "server/convert.h"

#include "base/assert.h"

namespace synod::server {
namespace {

mvcc::SortOrder OrderOf(etcdserverpb::RangeRequest::SortOrder o) {
  switch (o) {
    case etcdserverpb::RangeRequest::ASCEND: return mvcc::SortOrder::kAscend;
    case etcdserverpb::RangeRequest::DESCEND: return mvcc::SortOrder::kDescend;
    default: return mvcc::SortOrder::kNone;
  }
}

mvcc::SortTarget TargetOf(etcdserverpb::RangeRequest::SortTarget t) {
  switch (t) {
    case etcdserverpb::RangeRequest::VERSION: return mvcc::SortTarget::kVersion;
    case etcdserverpb::RangeRequest::CREATE: return mvcc::SortTarget::kCreate;
    case etcdserverpb::RangeRequest::MOD: return mvcc::SortTarget::kMod;
    case etcdserverpb::RangeRequest::VALUE: return mvcc::SortTarget::kValue;
    default: return mvcc::SortTarget::kKey;
  }
}

mvcc::CompareResult ResultOf(etcdserverpb::Compare::CompareResult r) {
  switch (r) {
    case etcdserverpb::Compare::GREATER: return mvcc::CompareResult::kGreater;
    case etcdserverpb::Compare::LESS: return mvcc::CompareResult::kLess;
    case etcdserverpb::Compare::NOT_EQUAL: return mvcc::CompareResult::kNotEqual;
    default: return mvcc::CompareResult::kEqual;
  }
}

mvcc::CompareTarget CompareTargetOf(etcdserverpb::Compare::CompareTarget t) {
  switch (t) {
    case etcdserverpb::Compare::CREATE: return mvcc::CompareTarget::kCreate;
    case etcdserverpb::Compare::MOD: return mvcc::CompareTarget::kMod;
    case etcdserverpb::Compare::VALUE: return mvcc::CompareTarget::kValue;
    case etcdserverpb::Compare::LEASE: return mvcc::CompareTarget::kLease;
    default: return mvcc::CompareTarget::kVersion;
  }
}

mvcc::Compare CompareFromProto(const etcdserverpb::Compare& c) {
  mvcc::Compare out;
  out.result = ResultOf(c.result());
  out.target = CompareTargetOf(c.target());
  out.key = c.key();
  out.range_end = c.range_end();
  out.version = c.version();
  out.create_revision = c.create_revision();
  out.mod_revision = c.mod_revision();
  out.value = c.value();
  out.lease = c.lease();
  return out;
}

mvcc::RequestOp OpFromProto(const etcdserverpb::RequestOp& op) {
  switch (op.request_case()) {
    case etcdserverpb::RequestOp::kRequestPut: return {FromProto(op.request_put())};
    case etcdserverpb::RequestOp::kRequestDeleteRange:
      return {FromProto(op.request_delete_range())};
    case etcdserverpb::RequestOp::kRequestTxn: return {FromProto(op.request_txn())};
    case etcdserverpb::RequestOp::kRequestRange: return {FromProto(op.request_range())};
    // An op with nothing set: etcd treats it as a range of the empty key, which fails with
    // "key is not provided"; an empty RangeRequest does the same here.
    case etcdserverpb::RequestOp::REQUEST_NOT_SET: return {mvcc::RangeRequest{}};
  }
  return {mvcc::RangeRequest{}};
}

void OpToProto(const mvcc::ResponseOp& op, int64_t revision, etcdserverpb::ResponseOp* out) {
  if (const auto* r = std::get_if<mvcc::RangeResult>(&op.response)) {
    auto* resp = out->mutable_response_range();
    resp->mutable_header()->set_revision(revision);
    ToProto(*r, resp);
  } else if (const auto* p = std::get_if<mvcc::PutResult>(&op.response)) {
    auto* resp = out->mutable_response_put();
    resp->mutable_header()->set_revision(revision);
    ToProto(*p, resp);
  } else if (const auto* d = std::get_if<mvcc::DeleteRangeResult>(&op.response)) {
    auto* resp = out->mutable_response_delete_range();
    resp->mutable_header()->set_revision(revision);
    ToProto(*d, resp);
  } else if (const auto* t = std::get_if<mvcc::TxnResult>(&op.response)) {
    auto* resp = out->mutable_response_txn();
    resp->mutable_header()->set_revision(revision);
    ToProto(*t, revision, resp);
  } else {
    SYNOD_UNREACHABLE("ResponseOp holds an unknown alternative");
  }
}

bool OpsReadOnly(const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops) {
  for (const etcdserverpb::RequestOp& op : ops) {
    switch (op.request_case()) {
      case etcdserverpb::RequestOp::kRequestPut:
      case etcdserverpb::RequestOp::kRequestDeleteRange: return false;
      case etcdserverpb::RequestOp::kRequestTxn:
        if (!IsReadOnly(op.request_txn())) return false;
        break;
      default: break;
    }
  }
  return true;
}

}  // namespace

mvcc::RangeRequest FromProto(const etcdserverpb::RangeRequest& r) {
  mvcc::RangeRequest out;
  out.key = r.key();
  out.range_end = r.range_end();
  out.limit = r.limit();
  out.revision = r.revision();
  out.sort_order = OrderOf(r.sort_order());
  out.sort_target = TargetOf(r.sort_target());
  out.keys_only = r.keys_only();
  out.count_only = r.count_only();
  out.min_mod_revision = r.min_mod_revision();
  out.max_mod_revision = r.max_mod_revision();
  out.min_create_revision = r.min_create_revision();
  out.max_create_revision = r.max_create_revision();
  return out;
}

mvcc::PutRequest FromProto(const etcdserverpb::PutRequest& r) {
  mvcc::PutRequest out;
  out.key = r.key();
  out.value = r.value();
  out.lease = r.lease();
  out.prev_kv = r.prev_kv();
  out.ignore_value = r.ignore_value();
  out.ignore_lease = r.ignore_lease();
  return out;
}

mvcc::DeleteRangeRequest FromProto(const etcdserverpb::DeleteRangeRequest& r) {
  mvcc::DeleteRangeRequest out;
  out.key = r.key();
  out.range_end = r.range_end();
  out.prev_kv = r.prev_kv();
  return out;
}

mvcc::TxnRequest FromProto(const etcdserverpb::TxnRequest& r) {
  mvcc::TxnRequest out;
  out.compare.reserve(static_cast<size_t>(r.compare_size()));
  for (const auto& c : r.compare()) out.compare.push_back(CompareFromProto(c));
  out.success.reserve(static_cast<size_t>(r.success_size()));
  for (const auto& op : r.success()) out.success.push_back(OpFromProto(op));
  out.failure.reserve(static_cast<size_t>(r.failure_size()));
  for (const auto& op : r.failure()) out.failure.push_back(OpFromProto(op));
  return out;
}

mvcc::CompactRequest FromProto(const etcdserverpb::CompactionRequest& r) {
  return mvcc::CompactRequest{r.revision()};
}

mvcc::LeaseGrantRequest FromProto(const etcdserverpb::LeaseGrantRequest& r) {
  return mvcc::LeaseGrantRequest{r.id(), r.ttl()};
}

mvcc::LeaseRevokeRequest FromProto(const etcdserverpb::LeaseRevokeRequest& r) {
  return mvcc::LeaseRevokeRequest{r.id()};
}

void ToProto(const mvcc::KeyValue& kv, mvccpb::KeyValue* out) {
  out->set_key(kv.key);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
  out->set_value(kv.value);
  out->set_lease(kv.lease);
}

void ToProto(const mvcc::RangeResult& r, etcdserverpb::RangeResponse* out) {
  out->mutable_kvs()->Reserve(static_cast<int>(r.kvs.size()));
  for (const mvcc::KeyValue& kv : r.kvs) ToProto(kv, out->add_kvs());
  out->set_more(r.more);
  out->set_count(r.count);
}

void ToProto(const mvcc::PutResult& r, etcdserverpb::PutResponse* out) {
  if (r.prev_kv) ToProto(*r.prev_kv, out->mutable_prev_kv());
}

void ToProto(const mvcc::DeleteRangeResult& r, etcdserverpb::DeleteRangeResponse* out) {
  out->set_deleted(r.deleted);
  for (const mvcc::KeyValue& kv : r.prev_kvs) ToProto(kv, out->add_prev_kvs());
}

void ToProto(const mvcc::TxnResult& r, int64_t revision, etcdserverpb::TxnResponse* out) {
  out->set_succeeded(r.succeeded);
  for (const mvcc::ResponseOp& op : r.responses) OpToProto(op, revision, out->add_responses());
}

bool IsReadOnly(const etcdserverpb::TxnRequest& r) {
  return OpsReadOnly(r.success()) && OpsReadOnly(r.failure());
}

}  // namespace synod::server
