// Unit tests of the server's pieces that the process tests rely on: flags, member ids, the
// snapshot image, the KV state machine (apply, snapshot, restore), JSON log escaping.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <random>
#include <span>

#include "base/assert.h"
#include "server/command.pb.h"
#include "server/config.h"
#include "server/kv_machine.h"
#include "server/log.h"
#include "server/member_id.h"
#include "server/snapshot_files.h"
#include "server/snapshot_image.h"
#include "test_files.h"

namespace synod::server {
namespace {

namespace fs = std::filesystem;

using cluster_test::TempDir;

FlagsOutcome Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "synod");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

TEST(Flags, DefaultsAreEtcds) {
  const FlagsOutcome f = Parse({});
  ASSERT_TRUE(f.config) << f.message;
  EXPECT_EQ(f.config->name, "default");
  EXPECT_EQ(f.config->data_dir, "default.etcd");
  EXPECT_EQ(f.config->heartbeat_interval_ms, 100u);
  EXPECT_EQ(f.config->election_timeout_ms, 1000u);
  EXPECT_EQ(f.config->max_request_bytes, 1536 * 1024);
  ASSERT_EQ(f.config->initial_cluster.size(), 1u);
  EXPECT_EQ(f.config->member_id, f.config->initial_cluster[0].id);
}

TEST(Flags, ThreeMemberCluster) {
  const std::string cluster =
      "a=http://127.0.0.1:1,b=http://127.0.0.1:2,c=http://127.0.0.1:3";
  const FlagsOutcome fa = Parse({"--name=a", "--initial-cluster=" + cluster,
                                 "--initial-advertise-peer-urls=http://127.0.0.1:1",
                                 "--initial-cluster-token=t"});
  const FlagsOutcome fb = Parse({"--name", "b", "--initial-cluster", cluster,
                                 "--initial-advertise-peer-urls", "http://127.0.0.1:2",
                                 "--initial-cluster-token", "t"});
  ASSERT_TRUE(fa.config) << fa.message;
  ASSERT_TRUE(fb.config) << fb.message;
  EXPECT_EQ(fa.config->cluster_id, fb.config->cluster_id);
  EXPECT_NE(fa.config->member_id, fb.config->member_id);
  EXPECT_EQ(fa.config->member_id, MemberIdFor("a", "t"));
  EXPECT_EQ(fa.config->initial_cluster.size(), 3u);
}

TEST(Flags, Errors) {
  EXPECT_FALSE(Parse({"--name=x"}).config);  // not in the default --initial-cluster
  EXPECT_FALSE(Parse({"--heartbeat-interval=100", "--election-timeout=300"}).config);
  EXPECT_FALSE(Parse({"--initial-cluster-state=maybe"}).config);
  EXPECT_FALSE(Parse({"--listen-client-urls=https://127.0.0.1:1"}).config);
  EXPECT_FALSE(Parse({"--no-such-flag"}).config);
  const FlagsOutcome help = Parse({"--help"});
  EXPECT_FALSE(help.config);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.message.find("--initial-cluster-token"), std::string::npos);
}

TEST(Flags, ConfigFileWithCommandLineOverride) {
  TempDir dir;
  const std::string file = dir.path() + "/synod.toml";
  std::ofstream(file) << "name = \"n1\"\n"
                         "initial-cluster = \"n1=http://127.0.0.1:7001\"\n"
                         "initial-advertise-peer-urls = \"http://127.0.0.1:7001\"\n"
                         "snapshot-count = 500\n"
                         "data-dir = \"/from/file\"\n";
  const FlagsOutcome f = Parse({"--config-file=" + file, "--data-dir=/from/flag"});
  ASSERT_TRUE(f.config) << f.message;
  EXPECT_EQ(f.config->name, "n1");
  EXPECT_EQ(f.config->snapshot_count, 500u);
  EXPECT_EQ(f.config->data_dir, "/from/flag");
}

TEST(Urls, HostPort) {
  EXPECT_EQ(HostPortOfUrl("http://127.0.0.1:2379").value(), "127.0.0.1:2379");
  EXPECT_EQ(HostPortOfUrl("http://localhost:2379/").value(), "localhost:2379");
  EXPECT_FALSE(HostPortOfUrl("http://localhost").ok());
  EXPECT_FALSE(HostPortOfUrl("127.0.0.1:2379").ok());
  EXPECT_FALSE(HostPortOfUrl("http://h:99999").ok());
}

TEST(MemberIds, StableAndDistinct) {
  EXPECT_EQ(MemberIdFor("a", "t"), MemberIdFor("a", "t"));
  EXPECT_NE(MemberIdFor("a", "t"), MemberIdFor("a", "u"));
  EXPECT_NE(MemberIdFor("ab", "c"), MemberIdFor("a", "bc"));
  const uint64_t ids1[] = {1, 2, 3};
  const uint64_t ids2[] = {3, 1, 2};
  EXPECT_EQ(ClusterIdFor("t", ids1), ClusterIdFor("t", ids2));
}

TEST(SnapshotImage, RoundTripAndDamage) {
  TempDir dir;
  const std::string src = dir.path() + "/src";
  fs::create_directory(src);
  std::ofstream(src + "/a") << "alpha";
  std::ofstream(src + "/b") << std::string(10000, 'b');
  auto image = PackDirectory(src, 1 << 20);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_TRUE(UnpackDirectory(image.value(), dir.path() + "/dst").ok());
  std::ifstream in(dir.path() + "/dst/a");
  std::string a;
  in >> a;
  EXPECT_EQ(a, "alpha");
  EXPECT_EQ(fs::file_size(dir.path() + "/dst/b"), 10000u);

  std::string damaged = image.value();
  damaged[damaged.size() / 2] ^= 1;
  EXPECT_EQ(UnpackDirectory(damaged, dir.path() + "/dst2").code(), ErrorCode::kCorruption);
  EXPECT_EQ(PackDirectory(src, 1000).status().code(), ErrorCode::kLimitExceeded);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Streamed through files, the image is byte for byte the in-memory one (3 MiB of one file
// crosses the 1 MiB buffers), and every kind of damage is refused.
TEST(SnapshotImage, StreamedToAndFromFilesAndDamage) {
  TempDir dir;
  const std::string src = dir.path() + "/src";
  fs::create_directory(src);
  std::ofstream(src + "/a") << "alpha";
  std::string big(3 << 20, '\0');
  std::mt19937 random(7);
  for (char& c : big) c = static_cast<char>(random());
  std::ofstream(src + "/b", std::ios::binary) << big;
  std::ofstream(src + "/c");  // empty
  const std::string file = dir.path() + "/image";
  auto size = PackDirectoryToFile(src, file, uint64_t{1} << 30);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  auto image = PackDirectory(src, 1 << 30);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(size.value(), image.value().size());
  EXPECT_EQ(ReadAll(file), image.value());

  ASSERT_TRUE(UnpackFile(file, dir.path() + "/dst").ok());
  EXPECT_EQ(ReadAll(dir.path() + "/dst/a"), "alpha");
  EXPECT_EQ(ReadAll(dir.path() + "/dst/b"), big);
  EXPECT_EQ(fs::file_size(dir.path() + "/dst/c"), 0u);

  EXPECT_EQ(PackDirectoryToFile(src, dir.path() + "/small", 1000).status().code(),
            ErrorCode::kLimitExceeded);
  EXPECT_FALSE(fs::exists(dir.path() + "/small"));
  int n = 0;
  auto damaged = [&](const std::function<void(std::string&)>& damage) {
    std::string bytes = image.value();
    damage(bytes);
    const std::string path = dir.path() + "/damaged" + std::to_string(++n);
    std::ofstream(path, std::ios::binary) << bytes;
    return UnpackFile(path, path + ".dir").code();
  };
  EXPECT_EQ(damaged([](std::string& b) { b[b.size() / 2] ^= 1; }), ErrorCode::kCorruption);
  EXPECT_EQ(damaged([](std::string& b) { b.resize(b.size() - 100); }), ErrorCode::kCorruption);
  EXPECT_EQ(damaged([](std::string& b) { b.insert(b.size() - 4, "x"); }), ErrorCode::kCorruption);
  EXPECT_EQ(damaged([](std::string& b) { b[0] = 'X'; }), ErrorCode::kCorruption);
  EXPECT_EQ(damaged([](std::string& b) { b.resize(5); }), ErrorCode::kCorruption);
}

std::string PutCommand(const std::string& key, const std::string& value) {
  serverpb::Command c;
  c.mutable_put()->set_key(key);
  c.mutable_put()->set_value(value);
  return c.SerializeAsString();
}

TEST(KvMachine, ApplySnapshotRestore) {
  TempDir dir;
  KvMachineOptions o;
  o.dir = dir.path() + "/a/kv";
  fs::create_directories(dir.path() + "/a");
  auto a = KvMachine::Open(o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  KvMachine& m = *a.value();
  m.ApplyEmpty(raft::LogIndex(2));
  std::any r = m.Apply(raft::LogIndex(3), PutCommand("k", "v1"));
  const auto* out = std::any_cast<ApplyOutcome>(&r);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->ok());
  EXPECT_EQ(out->value().revision, 2);
  serverpb::Command bad;
  bad.mutable_put();  // empty key: a request error, the entry is still consumed
  r = m.Apply(raft::LogIndex(4), bad.SerializeAsString());
  ASSERT_FALSE(std::any_cast<ApplyOutcome>(&r)->ok());
  EXPECT_EQ(m.AppliedIndex(), raft::LogIndex(4));

  auto descriptor = m.Snapshot();
  ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  // Another member gets the image itself; a whole image (as old WAL records hold) restores too.
  auto image = ReadSnapshotFile(m.snapshots_dir(), descriptor.value());
  ASSERT_TRUE(image.ok()) << image.status().ToString();

  KvMachineOptions ob = o;
  ob.dir = dir.path() + "/b/kv";
  fs::create_directories(dir.path() + "/b");
  auto b = KvMachine::Open(ob);
  ASSERT_TRUE(b.ok());
  b.value()->ApplyEmpty(raft::LogIndex(1));
  ASSERT_TRUE(b.value()->Restore(image.value(), raft::LogIndex(4)).ok());
  EXPECT_EQ(b.value()->AppliedIndex(), raft::LogIndex(4));
  auto got = b.value()->Read([](const mvcc::Store& s) {
    mvcc::RangeRequest req;
    req.key = "k";
    return s.Range(req);
  });
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got.value().result.kvs.size(), 1u);
  EXPECT_EQ(got.value().result.kvs[0].value, "v1");
  // Applying continues on the restored store.
  r = b.value()->Apply(raft::LogIndex(5), PutCommand("k", "v2"));
  ASSERT_TRUE(std::any_cast<ApplyOutcome>(&r)->ok());

  // A restore image that does not hold the expected index is refused.
  EXPECT_FALSE(b.value()->Restore(image.value(), raft::LogIndex(9)).ok());
}

TEST(KvMachine, SnapshotTooLargeIsRefusedThenRetriedLater) {
  TempDir dir;
  KvMachineOptions o;
  o.dir = dir.path() + "/kv";
  o.snapshot_image_bytes_max = 100;
  o.snapshot_retry_entries = 10;
  auto m = KvMachine::Open(o);
  ASSERT_TRUE(m.ok());
  (void)m.value()->Apply(raft::LogIndex(1), PutCommand("k", "v"));
  EXPECT_EQ(m.value()->Snapshot().status().code(), ErrorCode::kLimitExceeded);
  EXPECT_FALSE(fs::exists(o.dir + ".checkpoint"));
}

uint32_t HashOf(const KvMachine& m) {
  auto h = m.Read([](const mvcc::Store& s) { return s.HashKV(0); });
  SYNOD_ASSERT(h.ok(), "HashKV");
  return h.value().hash;
}

size_t ImageFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".img" ? 1 : 0;
  return n;
}

// The image goes to a file and the Raft snapshot carries a small descriptor, so a store far
// above the WAL's 8 MiB record limit still snapshots, and a fresh member restores from it.
TEST(KvMachine, LargeSnapshotGoesToAFile) {
  TempDir dir;
  KvMachineOptions o;
  o.dir = dir.path() + "/a/kv";
  fs::create_directories(dir.path() + "/a");
  auto a = KvMachine::Open(o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  KvMachine& m = *a.value();
  uint64_t index = 1;
  m.ApplyEmpty(raft::LogIndex(index));
  std::mt19937_64 random(7);  // values RocksDB cannot compress
  std::string value(4096, '\0');
  for (int i = 0; i < 3000; ++i) {  // 12 MiB of values
    for (char& c : value) c = static_cast<char>(random());
    (void)m.Apply(raft::LogIndex(++index), PutCommand("key" + std::to_string(i), value));
  }
  auto descriptor = m.Snapshot();
  ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  EXPECT_TRUE(IsSnapshotDescriptor(descriptor.value()));
  EXPECT_LT(descriptor.value().size(), 100u);
  const std::string file = m.snapshots_dir() + "/" + SnapshotFileName(index, false);
  EXPECT_GT(fs::file_size(file), size_t{8} << 20);

  // A fresh member is sent the image and keeps it as a received file (as the server does).
  KvMachineOptions ob = o;
  ob.dir = dir.path() + "/b/kv";
  fs::create_directories(dir.path() + "/b");
  auto b = KvMachine::Open(ob);
  ASSERT_TRUE(b.ok());
  // The transport streams the file from one snapshots folder into the other, a chunk at a time.
  auto source = OpenSnapshotFileSource(m.snapshots_dir(), descriptor.value());
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ASSERT_NE(source.value(), nullptr);
  ASSERT_EQ(source.value()->size(), fs::file_size(file));
  auto sink = CreateSnapshotFileSink(b.value()->snapshots_dir(), index);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::string chunk;
  for (uint64_t at = 0; at < source.value()->size(); at += chunk.size()) {
    chunk.resize(std::min<uint64_t>(1 << 20, source.value()->size() - at));
    ASSERT_TRUE(source.value()->ReadAt(at, std::span<char>(chunk.data(), chunk.size())).ok());
    ASSERT_TRUE(sink.value()->Append(chunk).ok());
  }
  auto received = sink.value()->Finish();
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  ASSERT_TRUE(IsSnapshotDescriptor(received.value()));
  EXPECT_EQ(fs::file_size(b.value()->snapshots_dir() + "/" + SnapshotFileName(index, true)),
            fs::file_size(file));
  // The delivered message carries the sink's descriptor and keeps it; one naming another file
  // (here the sender's own) did not come from the sink and is dropped.
  std::vector<raft::Message> delivered(2);
  for (raft::Message& d : delivered) {
    d.type = raft::MessageType::kSnapshot;
    d.snapshot.emplace();
    d.snapshot->metadata.index = raft::LogIndex(index);
  }
  delivered[0].snapshot->data = raft::Payload(received.value());
  delivered[1].snapshot->data = raft::Payload(descriptor.value());
  int dropped = 0;
  StoreSnapshotImages(b.value()->snapshots_dir(), delivered,
                      [&](raft::NodeId, const Status&) { ++dropped; });
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].snapshot->data.view(), received.value());
  EXPECT_EQ(dropped, 1);
  // An inline image (the empty bootstrap snapshot) is not streamed.
  auto inline_source = OpenSnapshotFileSource(m.snapshots_dir(), "");
  ASSERT_TRUE(inline_source.ok());
  EXPECT_EQ(inline_source.value(), nullptr);
  // A restart before the install (the WAL holds the descriptor, the store is behind it): Open
  // keeps the received file and Node::Init's Restore reads it.
  b.value().reset();
  b = KvMachine::Open(ob);
  ASSERT_TRUE(b.ok());
  Status s = b.value()->Restore(received.value(), raft::LogIndex(index));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(b.value()->AppliedIndex(), raft::LogIndex(index));
  EXPECT_EQ(HashOf(*b.value()), HashOf(m));
}

TEST(KvMachine, SnapshotFilesKeepTheTwoNewestAndMissingOnesAreNamed) {
  TempDir dir;
  KvMachineOptions o;
  o.dir = dir.path() + "/kv";
  auto opened = KvMachine::Open(o);
  ASSERT_TRUE(opened.ok());
  KvMachine& m = *opened.value();
  std::vector<std::string> descriptors;
  for (uint64_t i = 1; i <= 4; ++i) {
    (void)m.Apply(raft::LogIndex(i), PutCommand("k", std::to_string(i)));
    auto d = m.Snapshot();
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    descriptors.push_back(d.value());
  }
  EXPECT_EQ(ImageFiles(m.snapshots_dir()), 2u);
  EXPECT_TRUE(fs::exists(m.snapshots_dir() + "/4.img"));
  EXPECT_TRUE(fs::exists(m.snapshots_dir() + "/3.img"));
  // A received image above the applied index is kept: the node may still install it.
  ASSERT_TRUE(WriteSnapshotFile(m.snapshots_dir(), SnapshotFileName(9, true), "x").ok());
  (void)m.Apply(raft::LogIndex(5), PutCommand("k", "5"));
  ASSERT_TRUE(m.Snapshot().ok());
  EXPECT_EQ(ImageFiles(m.snapshots_dir()), 3u);
  EXPECT_TRUE(fs::exists(m.snapshots_dir() + "/recv-9.img"));

  // A descriptor whose file is gone: the error names the file.
  Status s = m.Restore(descriptors[0], raft::LogIndex(1));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find(m.snapshots_dir() + "/1.img"), std::string::npos) << s.ToString();
  // A damaged file fails on the image's checksum, before the store is touched.
  const std::string path = m.snapshots_dir() + "/4.img";
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    f.put('\xff');
  }
  EXPECT_EQ(m.Restore(descriptors[3], raft::LogIndex(4)).code(), ErrorCode::kCorruption);
  EXPECT_EQ(m.AppliedIndex(), raft::LogIndex(5));
}

TEST(Log, JsonEscape) {
  EXPECT_EQ(JsonEscape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(JsonEscape(std::string("\x01", 1)), "\\u0001");
  EXPECT_EQ(JsonEscape("\xc3\xa9"), "\xc3\xa9");  // valid UTF-8 stays
  EXPECT_EQ(JsonEscape("\xff"), "\\u00ff");
}

}  // namespace
}  // namespace synod::server
