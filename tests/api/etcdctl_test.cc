// The real etcd command-line client (Debian's etcdctl, API v3) against synod's generated
// protocol code: a WireServer on 127.0.0.1 serves KV Range and Put, etcdctl talks to it, and
// its output (JSON included) is read back into synod's own message types.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "map_kv_service.h"
#include "subprocess.h"

namespace synod::testing {
namespace {

std::string EtcdctlPath() {
  const char* env = std::getenv("SYNOD_ETCDCTL");
  return env != nullptr ? env : SYNOD_ETCDCTL_DEFAULT;
}

template <typename Message>
Message FromEtcdctlJson(const std::string& json) {
  Message message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // every field etcdctl prints must be one of ours
  const auto status = google::protobuf::util::JsonStringToMessage(json, &message, options);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return message;
}

class Etcdctl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::ifstream(EtcdctlPath()).good()) GTEST_SKIP() << "no etcdctl at " << EtcdctlPath();
    std::string error;
    server_ = WireServer::Start("127.0.0.1:0", options_, &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  CommandResult Run(std::vector<std::string> args) {
    std::vector<std::string> argv = {EtcdctlPath(), "--endpoints=" + server_->endpoint(),
                                     "--dial-timeout=3s", "--command-timeout=5s"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions options;
    options.env = {"ETCDCTL_API=3"};
    options.env_drop_prefixes = {"ETCDCTL_"};  // no stray endpoints, certificates or users
    CommandResult result = RunCommand(argv, options);
    last_ = result.out + result.err;
    return result;
  }

  // Runs and expects success.
  std::string Ok(std::vector<std::string> args) {
    const CommandResult result = Run(std::move(args));
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    return result.out;
  }

  MapKvOptions options_;
  std::unique_ptr<WireServer> server_;
  std::string last_;
};

TEST_F(Etcdctl, PutThenGetJson) {
  EXPECT_EQ(Ok({"put", "foo", "bar"}), "OK\n");

  const std::string json = Ok({"get", "foo", "-w", "json"});
  // etcdctl prints keys and values base64-encoded and revisions as plain numbers.
  EXPECT_NE(json.find("\"key\":\"Zm9v\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"value\":\"YmFy\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"create_revision\":2"), std::string::npos) << json;

  const auto response = FromEtcdctlJson<etcdserverpb::RangeResponse>(json);
  EXPECT_EQ(response.header().cluster_id(), options_.cluster_id);
  EXPECT_EQ(response.header().member_id(), options_.member_id);
  EXPECT_EQ(response.header().revision(), 2);
  EXPECT_EQ(response.header().raft_term(), options_.raft_term);
  EXPECT_EQ(response.count(), 1);
  ASSERT_EQ(response.kvs_size(), 1);
  const mvccpb::KeyValue& kv = response.kvs(0);
  EXPECT_EQ(kv.key(), "foo");
  EXPECT_EQ(kv.value(), "bar");
  EXPECT_EQ(kv.create_revision(), 2);
  EXPECT_EQ(kv.mod_revision(), 2);
  EXPECT_EQ(kv.version(), 1);
  EXPECT_EQ(kv.lease(), 0);
}

TEST_F(Etcdctl, OverwriteHistoryAndPrevKv) {
  Ok({"put", "foo", "bar"});
  Ok({"put", "other", "x"});
  const auto put = FromEtcdctlJson<etcdserverpb::PutResponse>(
      Ok({"put", "foo", "baz", "--prev-kv", "-w", "json"}));
  EXPECT_EQ(put.header().revision(), 4);
  EXPECT_EQ(put.prev_kv().value(), "bar");
  EXPECT_EQ(put.prev_kv().mod_revision(), 2);

  const auto now = FromEtcdctlJson<etcdserverpb::RangeResponse>(Ok({"get", "foo", "-w", "json"}));
  ASSERT_EQ(now.kvs_size(), 1);
  EXPECT_EQ(now.kvs(0).create_revision(), 2);
  EXPECT_EQ(now.kvs(0).mod_revision(), 4);
  EXPECT_EQ(now.kvs(0).version(), 2);

  EXPECT_EQ(Ok({"get", "foo", "--rev=2", "--print-value-only"}), "bar\n");
  EXPECT_EQ(Ok({"get", "foo", "--rev=4", "--print-value-only"}), "baz\n");
}

TEST_F(Etcdctl, PrefixLimitAndKeysOnly) {
  for (const char* key : {"k1", "k2", "k3", "z"}) Ok({"put", key, std::string("v") + key});
  EXPECT_EQ(Ok({"get", "k", "--prefix", "--keys-only"}), "k1\n\nk2\n\nk3\n\n");
  EXPECT_EQ(Ok({"get", "k", "--prefix", "--limit=2"}), "k1\nvk1\nk2\nvk2\n");
  EXPECT_EQ(Ok({"get", "k", "--prefix", "--order=DESCEND", "--print-value-only"}),
            "vk3\nvk2\nvk1\n");
  const auto all = FromEtcdctlJson<etcdserverpb::RangeResponse>(
      Ok({"get", "", "--from-key", "--limit=1", "-w", "json"}));
  EXPECT_EQ(all.count(), 4);
  EXPECT_TRUE(all.more());
  ASSERT_EQ(all.kvs_size(), 1);
  EXPECT_EQ(all.kvs(0).key(), "k1");
}

// etcd errors reach the client with the exact text it knows.
TEST_F(Etcdctl, ErrorsArriveVerbatim) {
  Ok({"put", "foo", "bar"});
  const CommandResult future = Run({"get", "foo", "--rev=99"});
  EXPECT_NE(future.exit_code, 0);
  EXPECT_NE(future.err.find("etcdserver: mvcc: required revision is a future revision"),
            std::string::npos)
      << last_;

  const CommandResult no_lease = Run({"put", "foo", "bar", "--lease=1234abcd"});
  EXPECT_NE(no_lease.exit_code, 0);
  EXPECT_NE(no_lease.err.find("etcdserver: requested lease not found"), std::string::npos)
      << last_;

  const CommandResult missing = Run({"put", "absent", "--ignore-value"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("etcdserver: key not found"), std::string::npos) << last_;

  // Anything the test server does not serve fails cleanly, not by hanging or crashing.
  const CommandResult del = Run({"del", "foo"});
  EXPECT_NE(del.exit_code, 0);
  EXPECT_EQ(server_->kv().revision(), 2);
}

}  // namespace
}  // namespace synod::testing
