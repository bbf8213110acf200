#include "server/errors.h"

namespace synod::server {

api::WireStatus ToWireStatus(const mvcc::Error& error) {
  using api::EtcdError;
  switch (error.code()) {
    case mvcc::Errc::kCompacted: return api::ToWireStatus(EtcdError::kCompacted);
    case mvcc::Errc::kFutureRevision: return api::ToWireStatus(EtcdError::kFutureRev);
    case mvcc::Errc::kKeyNotFound: return api::ToWireStatus(EtcdError::kKeyNotFound);
    case mvcc::Errc::kLeaseNotFound: return api::ToWireStatus(EtcdError::kLeaseNotFound);
    case mvcc::Errc::kLeaseExists: return api::ToWireStatus(EtcdError::kLeaseExist);
    case mvcc::Errc::kDuplicateKey: return api::ToWireStatus(EtcdError::kDuplicateKey);
    case mvcc::Errc::kTooManyOps: return api::ToWireStatus(EtcdError::kTooManyOps);
    case mvcc::Errc::kEmptyKey: return api::ToWireStatus(EtcdError::kEmptyKey);
    case mvcc::Errc::kValueProvided: return api::ToWireStatus(EtcdError::kValueProvided);
    case mvcc::Errc::kLeaseProvided: return api::ToWireStatus(EtcdError::kLeaseProvided);
    case mvcc::Errc::kNoSpace: return api::ToWireStatus(EtcdError::kNoSpace);
    case mvcc::Errc::kStaleFence:  // a synod extension (fence.h): no etcd wording to keep
      return api::WireStatus{api::GrpcCode::kFailedPrecondition,
                             std::string("synod: ") + mvcc::ErrcMessage(error.code())};
    case mvcc::Errc::kInvalidArgument:
      return api::WireStatus{api::GrpcCode::kInvalidArgument,
                             std::string("etcdserver: ") + mvcc::ErrcMessage(error.code())};
    case mvcc::Errc::kStorage:
    case mvcc::Errc::kCorruption: return api::ToWireStatus(EtcdError::kCorrupt);
  }
  return api::ToWireStatus(EtcdError::kCorrupt);
}

api::WireStatus ToWireStatus(const Status& status, bool server_stopping) {
  // The node answers kUnavailable both when overloaded and when stopping: etcd clients back off
  // on "too many requests" and go to another member on "server stopped".
  if (status.code() == ErrorCode::kUnavailable) {
    return api::ToWireStatus(server_stopping ? api::EtcdError::kStopped
                                             : api::EtcdError::kTooManyRequests);
  }
  return api::ToWireStatus(status);
}

}  // namespace synod::server
