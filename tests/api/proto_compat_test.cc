// proto/ against the real etcd client: every Go etcd binary embeds the compiled descriptors of
// the .proto files it was built from (gzipped FileDescriptorProto). This test pulls rpc.proto,
// kv.proto and auth.proto out of the installed etcdctl and checks that synod's generated code
// has every service, method, message, field (name, number, type, label, oneof) and enum value
// they have. synod may have more (fields etcd added after that release); never less or other.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "etcdserverpb/rpc.grpc.pb.h"

namespace synod::testing {
namespace {

namespace pb = google::protobuf;

std::string EtcdctlPath() {
  const char* env = std::getenv("SYNOD_ETCDCTL");
  return env != nullptr ? env : SYNOD_ETCDCTL_DEFAULT;
}

// Inflates one gzip stream starting at `data`; empty if it is not one.
std::string Gunzip(const char* data, size_t size) {
  constexpr size_t kOutMax = 1 << 20;  // descriptors are a few KiB; stop well above
  std::string out(kOutMax, '\0');
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return {};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  z.avail_in = static_cast<uInt>(std::min<size_t>(size, kOutMax));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const size_t produced = out.size() - z.avail_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return {};
  out.resize(produced);
  return out;
}

// The etcd API descriptors embedded in `binary`, by file name.
std::map<std::string, pb::FileDescriptorProto> EmbeddedEtcdDescriptors(const std::string& bin) {
  std::ifstream in(bin, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string magic("\x1f\x8b\x08", 3);
  std::map<std::string, pb::FileDescriptorProto> found;
  for (size_t at = data.find(magic); at != std::string::npos; at = data.find(magic, at + 1)) {
    const std::string raw = Gunzip(data.data() + at, data.size() - at);
    pb::FileDescriptorProto file;
    if (raw.empty() || !file.ParseFromString(raw)) continue;
    // The client API files only; etcd's other etcdserverpb files (etcdserver.proto,
    // raft_internal.proto) describe its own Raft log entries, which synod does not share.
    const std::string& name = file.name();
    if (name == "rpc.proto" || name == "kv.proto" || name == "auth.proto") found[name] = file;
  }
  return found;
}

const pb::DescriptorPool& Ours() {
  // Naming a generated type links rpc.pb.cc and registers all three files in the pool.
  (void)etcdserverpb::RangeRequest::descriptor();
  return *pb::DescriptorPool::generated_pool();
}

void CheckEnum(const pb::EnumDescriptorProto& theirs, const std::string& full_name) {
  const pb::EnumDescriptor* ours = Ours().FindEnumTypeByName(full_name);
  ASSERT_NE(ours, nullptr) << "missing enum " << full_name;
  for (const pb::EnumValueDescriptorProto& value : theirs.value()) {
    const pb::EnumValueDescriptor* mine = ours->FindValueByName(value.name());
    ASSERT_NE(mine, nullptr) << full_name << " lacks " << value.name();
    EXPECT_EQ(mine->number(), value.number()) << full_name << "." << value.name();
  }
}

// Declared in etcd's rpc.proto but carried by no RPC: etcd's Raft log uses them internally.
bool ServerInternal(const std::string& full_name) {
  return full_name.starts_with("etcdserverpb.LeaseCheckpoint");
}

void CheckMessage(const pb::DescriptorProto& theirs, const std::string& full_name, int* fields) {
  if (ServerInternal(full_name)) return;
  const pb::Descriptor* ours = Ours().FindMessageTypeByName(full_name);
  ASSERT_NE(ours, nullptr) << "missing message " << full_name;
  for (const pb::FieldDescriptorProto& field : theirs.field()) {
    const std::string where = full_name + "." + field.name();
    const pb::FieldDescriptor* mine = ours->FindFieldByName(field.name());
    ASSERT_NE(mine, nullptr) << "missing field " << where;
    ++*fields;
    pb::FieldDescriptorProto mine_proto;
    mine->CopyTo(&mine_proto);
    EXPECT_EQ(mine_proto.number(), field.number()) << where;
    EXPECT_EQ(mine_proto.type(), field.type()) << where;
    EXPECT_EQ(mine_proto.label(), field.label()) << where;
    EXPECT_EQ(mine_proto.type_name(), field.type_name()) << where;  // ".pkg.Msg" or empty
    const bool their_oneof = field.has_oneof_index();
    ASSERT_EQ(mine->real_containing_oneof() != nullptr, their_oneof) << where;
    if (their_oneof) {
      EXPECT_EQ(mine->real_containing_oneof()->name(),
                theirs.oneof_decl(field.oneof_index()).name())
          << where;
    }
  }
  for (const pb::DescriptorProto& nested : theirs.nested_type()) {
    CheckMessage(nested, full_name + "." + nested.name(), fields);
  }
  for (const pb::EnumDescriptorProto& e : theirs.enum_type()) {
    CheckEnum(e, full_name + "." + e.name());
  }
}

class ProtoCompat : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = EtcdctlPath();
    if (!std::ifstream(path).good()) GTEST_SKIP() << "no etcdctl at " << path;
    files_ = EmbeddedEtcdDescriptors(path);
  }
  std::map<std::string, pb::FileDescriptorProto> files_;
};

TEST_F(ProtoCompat, EtcdctlEmbedsTheEtcdApi) {
  // If this fails, the binary is not an etcd 3.x client and the other tests prove nothing.
  EXPECT_EQ(files_.count("rpc.proto"), 1u);
  EXPECT_EQ(files_.count("kv.proto"), 1u);
  EXPECT_EQ(files_.count("auth.proto"), 1u);
}

TEST_F(ProtoCompat, EveryMessageFieldAndEnumMatches) {
  int messages = 0;
  int fields = 0;
  for (const auto& [name, file] : files_) {
    for (const pb::DescriptorProto& message : file.message_type()) {
      CheckMessage(message, file.package() + "." + message.name(), &fields);
      ++messages;
    }
    for (const pb::EnumDescriptorProto& e : file.enum_type()) {
      CheckEnum(e, file.package() + "." + e.name());
    }
  }
  EXPECT_GT(messages, 90) << "suspiciously few etcd messages found";
  std::printf("checked %d messages, %d fields against %s\n", messages, fields,
              EtcdctlPath().c_str());
}

TEST_F(ProtoCompat, EveryServiceMethodMatches) {
  int methods = 0;
  for (const auto& [name, file] : files_) {
    for (const pb::ServiceDescriptorProto& service : file.service()) {
      const std::string full = file.package() + "." + service.name();
      const pb::ServiceDescriptor* ours = Ours().FindServiceByName(full);
      ASSERT_NE(ours, nullptr) << "missing service " << full;
      for (const pb::MethodDescriptorProto& method : service.method()) {
        const pb::MethodDescriptor* mine = ours->FindMethodByName(method.name());
        ASSERT_NE(mine, nullptr) << "missing rpc /" << full << "/" << method.name();
        ++methods;
        EXPECT_EQ("." + mine->input_type()->full_name(), method.input_type()) << method.name();
        EXPECT_EQ("." + mine->output_type()->full_name(), method.output_type()) << method.name();
        EXPECT_EQ(mine->client_streaming(), method.client_streaming()) << method.name();
        EXPECT_EQ(mine->server_streaming(), method.server_streaming()) << method.name();
      }
    }
  }
  EXPECT_GT(methods, 30);
}

// The paths clients put on the wire, independent of any etcd binary.
TEST(ProtoPaths, FullMethodNames) {
  const std::vector<std::string> paths = {
      "/etcdserverpb.KV/Range",
      "/etcdserverpb.KV/Put",
      "/etcdserverpb.KV/DeleteRange",
      "/etcdserverpb.KV/Txn",
      "/etcdserverpb.KV/Compact",
      "/etcdserverpb.Watch/Watch",
      "/etcdserverpb.Lease/LeaseGrant",
      "/etcdserverpb.Lease/LeaseKeepAlive",
      "/etcdserverpb.Cluster/MemberList",
      "/etcdserverpb.Maintenance/Status",
      "/etcdserverpb.Maintenance/Snapshot",
      "/etcdserverpb.Auth/Authenticate",
  };
  for (const std::string& path : paths) {
    const size_t slash = path.rfind('/');
    const pb::ServiceDescriptor* service = Ours().FindServiceByName(path.substr(1, slash - 1));
    ASSERT_NE(service, nullptr) << path;
    EXPECT_NE(service->FindMethodByName(path.substr(slash + 1)), nullptr) << path;
  }
  EXPECT_STREQ(etcdserverpb::KV::service_full_name(), "etcdserverpb.KV");
  EXPECT_STREQ(etcdserverpb::Watch::service_full_name(), "etcdserverpb.Watch");
}

}  // namespace
}  // namespace synod::testing
