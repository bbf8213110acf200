// The etcd error table: complete, well formed, and with the exact texts and codes clients match.
#include "api/etcd_errors.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "api/grpc_status.h"

namespace synod::api {
namespace {

TEST(EtcdErrors, TableCoversEveryErrorInOrder) {
  const auto table = AllEtcdErrors();
  ASSERT_EQ(table.size(), kEtcdErrorCount);
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(table[i].error), i) << table[i].name;
    EXPECT_EQ(&Describe(table[i].error), &table[i]);
  }
}

TEST(EtcdErrors, MessagesAreEtcdServerErrorsAndUnique) {
  std::set<std::string_view> messages;
  std::set<std::string_view> names;
  for (const EtcdErrorInfo& info : AllEtcdErrors()) {
    EXPECT_TRUE(info.message.starts_with("etcdserver: ")) << info.message;
    EXPECT_NE(info.code, GrpcCode::kOk) << info.name;
    EXPECT_TRUE(messages.insert(info.message).second) << "duplicate: " << info.message;
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate: " << info.name;
  }
}

// Written out independently of the table: a reworded message or a changed code fails here.
TEST(EtcdErrors, ExactTextsAndCodesClientsMatchOn) {
  struct Expected {
    EtcdError error;
    GrpcCode code;
    const char* message;
  };
  const Expected expected[] = {
      {EtcdError::kNoLeader, GrpcCode::kUnavailable, "etcdserver: no leader"},
      {EtcdError::kNotLeader, GrpcCode::kFailedPrecondition, "etcdserver: not leader"},
      {EtcdError::kLeaderChanged, GrpcCode::kUnavailable, "etcdserver: leader changed"},
      {EtcdError::kTimeout, GrpcCode::kUnavailable, "etcdserver: request timed out"},
      {EtcdError::kStopped, GrpcCode::kUnavailable, "etcdserver: server stopped"},
      {EtcdError::kRequestTooLarge, GrpcCode::kInvalidArgument,
       "etcdserver: request is too large"},
      {EtcdError::kTooManyRequests, GrpcCode::kResourceExhausted, "etcdserver: too many requests"},
      {EtcdError::kCompacted, GrpcCode::kOutOfRange,
       "etcdserver: mvcc: required revision has been compacted"},
      {EtcdError::kFutureRev, GrpcCode::kOutOfRange,
       "etcdserver: mvcc: required revision is a future revision"},
      {EtcdError::kNoSpace, GrpcCode::kResourceExhausted,
       "etcdserver: mvcc: database space exceeded"},
      {EtcdError::kLeaseNotFound, GrpcCode::kNotFound, "etcdserver: requested lease not found"},
      {EtcdError::kTooManyOps, GrpcCode::kInvalidArgument,
       "etcdserver: too many operations in txn request"},
      {EtcdError::kDuplicateKey, GrpcCode::kInvalidArgument,
       "etcdserver: duplicate key given in txn request"},
      {EtcdError::kEmptyKey, GrpcCode::kInvalidArgument, "etcdserver: key is not provided"},
      {EtcdError::kKeyNotFound, GrpcCode::kInvalidArgument, "etcdserver: key not found"},
      {EtcdError::kCorrupt, GrpcCode::kDataLoss, "etcdserver: corrupt cluster"},
      {EtcdError::kWatchCanceled, GrpcCode::kCanceled, "etcdserver: watch canceled"},
      {EtcdError::kAuthNotEnabled, GrpcCode::kFailedPrecondition,
       "etcdserver: authentication is not enabled"},
      {EtcdError::kInvalidAuthToken, GrpcCode::kUnauthenticated, "etcdserver: invalid auth token"},
      {EtcdError::kMemberNotFound, GrpcCode::kNotFound, "etcdserver: member not found"},
  };
  for (const Expected& e : expected) {
    const EtcdErrorInfo& info = Describe(e.error);
    EXPECT_EQ(info.message, e.message) << info.name;
    EXPECT_EQ(info.code, e.code) << info.name << ": " << GrpcCodeName(info.code);
  }
}

TEST(EtcdErrors, MessageRoundTrip) {
  for (const EtcdErrorInfo& info : AllEtcdErrors()) {
    EXPECT_EQ(EtcdErrorFromMessage(info.message), info.error) << info.name;
  }
  EXPECT_EQ(EtcdErrorFromMessage("etcdserver: no leader "), std::nullopt);
  EXPECT_EQ(EtcdErrorFromMessage(""), std::nullopt);
}

TEST(EtcdErrors, SynodStatusesMapToWhatClientsRetryOn) {
  EXPECT_TRUE(ToWireStatus(Status::Ok()).ok());

  const WireStatus no_leader = ToWireStatus(Status(ErrorCode::kNotLeader, "term 7"));
  EXPECT_EQ(no_leader.code, GrpcCode::kUnavailable);
  EXPECT_EQ(no_leader.message, "etcdserver: no leader");

  const WireStatus dropped = ToWireStatus(Status(ErrorCode::kProposalDropped, "transfer"));
  EXPECT_EQ(dropped.message, "etcdserver: leader changed");
  EXPECT_EQ(ToWireStatus(Status(ErrorCode::kCompacted, "")).code, GrpcCode::kOutOfRange);
  EXPECT_EQ(ToWireStatus(Status(ErrorCode::kTimeout, "")).message,
            "etcdserver: request timed out");
  EXPECT_EQ(ToWireStatus(Status(ErrorCode::kCorruption, "crc")).code, GrpcCode::kDataLoss);

  // No etcd text: synod's own message, with a code that sends clients the right way.
  const WireStatus bad = ToWireStatus(Status(ErrorCode::kInvalidArgument, "bad range"));
  EXPECT_EQ(bad.code, GrpcCode::kInvalidArgument);
  EXPECT_NE(bad.message.find("bad range"), std::string::npos);
  EXPECT_EQ(EtcdErrorFromMessage(bad.message), std::nullopt);
  EXPECT_EQ(ToWireStatus(Status(ErrorCode::kIoError, "fsync")).code, GrpcCode::kUnavailable);
  EXPECT_EQ(ToWireStatus(Status(ErrorCode::kUnavailable, "x")).code, GrpcCode::kUnavailable);
}

TEST(EtcdErrors, GrpcStatusCarriesCodeAndText) {
  const grpc::Status s = ToGrpcStatus(EtcdError::kFutureRev);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(s.error_message(), "etcdserver: mvcc: required revision is a future revision");
  EXPECT_EQ(EtcdErrorFromGrpc(s), EtcdError::kFutureRev);
  EXPECT_TRUE(ToGrpcStatus(Status::Ok()).ok());

  // The right text under another code is not that error.
  const grpc::Status wrong_code(grpc::StatusCode::UNKNOWN, "etcdserver: no leader");
  EXPECT_EQ(EtcdErrorFromGrpc(wrong_code), std::nullopt);
}

}  // namespace
}  // namespace synod::api
