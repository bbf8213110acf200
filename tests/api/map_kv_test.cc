// MapKv's etcd revision rules, directly and through gRPC with synod's generated client stub.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/grpc_status.h"
#include "map_kv_service.h"

namespace synod::testing {
namespace {

using api::EtcdError;
using etcdserverpb::PutRequest;
using etcdserverpb::PutResponse;
using etcdserverpb::RangeRequest;
using etcdserverpb::RangeResponse;

PutResponse MustPut(MapKv& kv, const std::string& key, const std::string& value) {
  PutRequest request;
  request.set_key(key);
  request.set_value(value);
  PutResponse response;
  const api::WireStatus status = kv.Put(request, &response);
  EXPECT_TRUE(status.ok()) << status.message;
  return response;
}

RangeResponse MustRange(const MapKv& kv, RangeRequest request) {
  RangeResponse response;
  const api::WireStatus status = kv.Range(request, &response);
  EXPECT_TRUE(status.ok()) << status.message;
  return response;
}

RangeRequest Key(const std::string& key, int64_t revision = 0) {
  RangeRequest request;
  request.set_key(key);
  request.set_revision(revision);
  return request;
}

TEST(MapKv, RevisionsFollowEtcd) {
  MapKv kv;
  EXPECT_EQ(kv.revision(), 1);  // an empty etcd store is at revision 1
  EXPECT_EQ(MustPut(kv, "foo", "bar").header().revision(), 2);
  EXPECT_EQ(MustPut(kv, "other", "x").header().revision(), 3);
  EXPECT_EQ(MustPut(kv, "foo", "baz").header().revision(), 4);

  const RangeResponse now = MustRange(kv, Key("foo"));
  ASSERT_EQ(now.kvs_size(), 1);
  EXPECT_EQ(now.header().revision(), 4);
  EXPECT_EQ(now.kvs(0).value(), "baz");
  EXPECT_EQ(now.kvs(0).create_revision(), 2);
  EXPECT_EQ(now.kvs(0).mod_revision(), 4);
  EXPECT_EQ(now.kvs(0).version(), 2);

  const RangeResponse then = MustRange(kv, Key("foo", 3));
  ASSERT_EQ(then.kvs_size(), 1);
  EXPECT_EQ(then.kvs(0).value(), "bar");
  EXPECT_EQ(then.kvs(0).version(), 1);
  EXPECT_EQ(then.header().revision(), 4);  // the header is always the current revision

  EXPECT_EQ(MustRange(kv, Key("foo", 1)).kvs_size(), 0);  // before it existed
}

TEST(MapKv, RangesLimitsAndSorting) {
  MapKv kv;
  MustPut(kv, "a", "3");
  MustPut(kv, "b1", "1");
  MustPut(kv, "b2", "2");
  MustPut(kv, "c", "0");

  RangeRequest prefix = Key("b");
  prefix.set_range_end("c");
  EXPECT_EQ(MustRange(kv, prefix).kvs_size(), 2);

  RangeRequest all = Key(std::string("\0", 1));
  all.set_range_end(std::string("\0", 1));
  all.set_limit(3);
  const RangeResponse limited = MustRange(kv, all);
  EXPECT_EQ(limited.kvs_size(), 3);
  EXPECT_TRUE(limited.more());
  EXPECT_EQ(limited.count(), 4);

  all.set_limit(0);
  all.set_sort_target(RangeRequest::VALUE);
  all.set_sort_order(RangeRequest::DESCEND);
  const RangeResponse sorted = MustRange(kv, all);
  ASSERT_EQ(sorted.kvs_size(), 4);
  EXPECT_EQ(sorted.kvs(0).key(), "a");
  EXPECT_EQ(sorted.kvs(3).key(), "c");

  all.set_count_only(true);
  const RangeResponse counted = MustRange(kv, all);
  EXPECT_EQ(counted.kvs_size(), 0);
  EXPECT_EQ(counted.count(), 4);
}

TEST(MapKv, RejectsWhatEtcdRejects) {
  MapKv kv({.request_bytes_max = 64, .versions_max = 2});
  RangeResponse range;
  EXPECT_EQ(kv.Range(Key("k", 5), &range).message, api::Describe(EtcdError::kFutureRev).message);
  EXPECT_EQ(kv.Range(Key(""), &range).message, api::Describe(EtcdError::kEmptyKey).message);

  PutRequest put;
  PutResponse response;
  put.set_key("k");
  put.set_ignore_value(true);
  EXPECT_EQ(kv.Put(put, &response).message, api::Describe(EtcdError::kKeyNotFound).message);
  put.set_value(std::string(100, 'v'));
  EXPECT_EQ(kv.Put(put, &response).code, api::GrpcCode::kInvalidArgument);  // too large
  put = PutRequest();
  put.set_key("k");
  put.set_lease(7);
  EXPECT_EQ(kv.Put(put, &response).code, api::GrpcCode::kNotFound);  // no such lease

  MustPut(kv, "k", "1");
  MustPut(kv, "k", "2");
  PutRequest third;
  third.set_key("k");
  EXPECT_EQ(kv.Put(third, &response).code, api::GrpcCode::kResourceExhausted);
  EXPECT_EQ(kv.revision(), 3);  // rejected requests do not advance the revision
}

TEST(WireServer, GeneratedStubRoundTrip) {
  std::string error;
  auto server = WireServer::Start("127.0.0.1:0", {}, &error);
  ASSERT_NE(server, nullptr) << error;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);  // straight to loopback
  auto stub = etcdserverpb::KV::NewStub(
      grpc::CreateCustomChannel(server->endpoint(), grpc::InsecureChannelCredentials(), args));

  PutRequest put;
  put.set_key("foo");
  put.set_value("bar");
  PutResponse put_response;
  grpc::ClientContext put_context;
  ASSERT_TRUE(stub->Put(&put_context, put, &put_response).ok());
  EXPECT_EQ(put_response.header().revision(), 2);

  RangeResponse range;
  grpc::ClientContext range_context;
  ASSERT_TRUE(stub->Range(&range_context, Key("foo"), &range).ok());
  ASSERT_EQ(range.kvs_size(), 1);
  EXPECT_EQ(range.kvs(0).value(), "bar");

  // An etcd error arrives with etcd's code and text.
  PutRequest big;
  big.set_key("big");
  big.set_value(std::string(1600 * 1024, 'x'));  // over 1.5 MiB, under gRPC's limit
  grpc::ClientContext big_context;
  const grpc::Status too_large = stub->Put(&big_context, big, &put_response);
  EXPECT_EQ(too_large.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(api::EtcdErrorFromGrpc(too_large), EtcdError::kRequestTooLarge);

  // Calls the test server does not serve are Unimplemented, as the base class answers.
  etcdserverpb::DeleteRangeRequest del;
  del.set_key("foo");
  etcdserverpb::DeleteRangeResponse del_response;
  grpc::ClientContext del_context;
  EXPECT_EQ(stub->DeleteRange(&del_context, del, &del_response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace synod::testing
