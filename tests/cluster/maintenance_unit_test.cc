// The maintenance pieces in one process: backups (BackupReader's stream against the snapshot
// image format, the SHA-256 and the 512-byte alignment etcdctl checks, RestoreBackup), the
// alarms KvMachine applies (NOSPACE refuses puts, not deletes or compactions; persisted and
// carried by snapshots) and the store's Hash, Defragment and ResetForNewCluster.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "server/backup.h"
#include "server/command.pb.h"
#include "server/kv_machine.h"
#include "server/snapshot_files.h"
#include "server/snapshot_image.h"
#include "test_files.h"

namespace synod::server {
namespace {

namespace fs = std::filesystem;

using cluster_test::ReadFile;
using cluster_test::TempDir;

std::string Sha256(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), n);
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The whole backup of `dir` as Maintenance.Snapshot streams it, in chunks of `chunk` bytes.
std::string StreamBackup(const std::string& dir, size_t chunk) {
  auto reader = BackupReader::Open(dir);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return "";
  std::string out;
  while (!reader.value()->done()) {
    auto piece = reader.value()->Next(chunk);
    EXPECT_TRUE(piece.ok());
    EXPECT_LE(piece.value().size(), chunk);
    EXPECT_FALSE(piece.value().empty());
    out += piece.value();
  }
  EXPECT_EQ(out.size(), reader.value()->image_bytes());
  out += reader.value()->Sha256();
  return out;
}

std::string Command(const std::function<void(serverpb::Command*)>& fill) {
  serverpb::Command c;
  fill(&c);
  return c.SerializeAsString();
}

std::string Put(const std::string& key, const std::string& value) {
  return Command([&](serverpb::Command* c) {
    c->mutable_put()->set_key(key);
    c->mutable_put()->set_value(value);
  });
}

std::string Alarm(etcdserverpb::AlarmRequest::AlarmAction action, uint64_t member) {
  return Command([&](serverpb::Command* c) {
    c->mutable_alarm()->set_action(action);
    c->mutable_alarm()->set_memberid(member);
    c->mutable_alarm()->set_alarm(etcdserverpb::NOSPACE);
  });
}

bool Refused(const std::any& r, mvcc::Errc code) {
  const auto* out = std::any_cast<ApplyOutcome>(&r);
  return out != nullptr && !out->ok() && out->error().code() == code;
}

bool Applied(const std::any& r) {
  const auto* out = std::any_cast<ApplyOutcome>(&r);
  return out != nullptr && out->ok();
}

TEST(Backup, StreamIsThePackedImageAlignedWithItsSha256) {
  TempDir dir;
  const std::string src = dir.path() + "/src";
  fs::create_directories(src);
  WriteFile(src + "/a", "alpha");
  WriteFile(src + "/b", std::string(70000, 'b'));
  WriteFile(src + "/empty", "");
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, size_t{1} << 20}) {
    const std::string backup = StreamBackup(src, chunk);
    ASSERT_GT(backup.size(), kBackupShaBytes);
    // etcdctl 3.4 keeps a snapshot only if its size is 32 more than a multiple of 512.
    EXPECT_EQ(backup.size() % kBackupAlignBytes, kBackupShaBytes) << chunk;
    const std::string_view image(backup.data(), backup.size() - kBackupShaBytes);
    EXPECT_EQ(Sha256(image), backup.substr(image.size()));
    const std::string dst = dir.path() + "/dst" + std::to_string(chunk);
    ASSERT_TRUE(UnpackDirectory(image, dst).ok());
    EXPECT_EQ(ReadFile(dst + "/a"), "alpha");
    EXPECT_EQ(ReadFile(dst + "/b"), std::string(70000, 'b'));
    EXPECT_TRUE(fs::exists(dst + "/empty"));
    EXPECT_TRUE(fs::exists(dst + "/" + std::string(kBackupPaddingFile)));
  }
}

TEST(Backup, RestoreKeepsKeysAndRevisionsForgetsTheLogAndRefusesDamage) {
  TempDir dir;
  KvMachineOptions o;
  o.dir = dir.path() + "/kv";
  auto m = KvMachine::Open(o);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(Applied(m.value()->Apply(raft::LogIndex(5), Put("k1", "v1"))));
  ASSERT_TRUE(Applied(m.value()->Apply(raft::LogIndex(6), Put("k2", "v2"))));
  (void)m.value()->Apply(raft::LogIndex(7), Alarm(etcdserverpb::AlarmRequest::ACTIVATE, 9));
  const std::string checkpoint = dir.path() + "/checkpoint";
  auto info = m.value()->Checkpoint(checkpoint);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info.value().revision, 3);
  const std::string file = dir.path() + "/backup.db";
  WriteFile(file, StreamBackup(checkpoint, 1000));

  const Status restore = RestoreBackup(file, dir.path() + "/new/kv");
  ASSERT_TRUE(restore.ok()) << restore.ToString();
  KvMachineOptions n;
  n.dir = dir.path() + "/new/kv";
  auto restored = KvMachine::Open(n);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored.value()->AppliedIndex(), raft::LogIndex(0));  // a new cluster's log
  EXPECT_TRUE(restored.value()->Alarms().empty());
  EXPECT_FALSE(fs::exists(n.dir + "/" + std::string(kBackupPaddingFile)));
  auto got = restored.value()->Read([](const mvcc::Store& s) {
    mvcc::RangeRequest req;
    req.key = "k";
    req.range_end = "l";
    return s.Range(req);
  });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value().revision, 3);
  ASSERT_EQ(got.value().result.kvs.size(), 2u);
  EXPECT_EQ(got.value().result.kvs[1].value, "v2");
  EXPECT_EQ(got.value().result.kvs[1].mod_revision, 3);
  // The new cluster's first entries apply on top of it.
  EXPECT_TRUE(Applied(restored.value()->Apply(raft::LogIndex(1), Put("k3", "v3"))));

  // Restoring over an existing store, a flipped byte and a truncated file are refused.
  EXPECT_FALSE(RestoreBackup(file, dir.path() + "/new/kv").ok());
  std::string bytes = ReadFile(file);
  bytes[bytes.size() / 2] ^= 0x10;
  WriteFile(file + ".flipped", bytes);
  EXPECT_EQ(RestoreBackup(file + ".flipped", dir.path() + "/x/kv").code(), ErrorCode::kCorruption);
  WriteFile(file + ".short", ReadFile(file).substr(0, 1000));
  EXPECT_EQ(RestoreBackup(file + ".short", dir.path() + "/y/kv").code(), ErrorCode::kCorruption);
  EXPECT_FALSE(fs::exists(dir.path() + "/x/kv"));
}

TEST(Alarms, NoSpaceRefusesPutsNotDeletesUntilDisarmedAndSurvivesReopenAndSnapshots) {
  TempDir dir;
  KvMachineOptions o;
  o.dir = dir.path() + "/a/kv";
  fs::create_directories(dir.path() + "/a");
  auto a = KvMachine::Open(o);
  ASSERT_TRUE(a.ok());
  KvMachine* m = a.value().get();
  ASSERT_TRUE(Applied(m->Apply(raft::LogIndex(1), Put("k", "v"))));
  ASSERT_TRUE(Applied(m->Apply(raft::LogIndex(2), Put("j", "v"))));

  std::any r = m->Apply(raft::LogIndex(3), Alarm(etcdserverpb::AlarmRequest::ACTIVATE, 7));
  ASSERT_NE(std::any_cast<AlarmOutcome>(&r), nullptr);
  EXPECT_EQ(std::any_cast<AlarmOutcome>(&r)->changed,
            (std::vector<mvcc::Alarm>{{7, kAlarmNoSpace}}));
  EXPECT_TRUE(m->NoSpace());
  // Raising it again (a replay, or one more write over the quota) changes nothing.
  r = m->Apply(raft::LogIndex(4), Alarm(etcdserverpb::AlarmRequest::ACTIVATE, 7));
  EXPECT_TRUE(std::any_cast<AlarmOutcome>(&r)->changed.empty());
  EXPECT_EQ(m->AppliedIndex(), raft::LogIndex(4));

  EXPECT_TRUE(Refused(m->Apply(raft::LogIndex(5), Put("k", "v2")), mvcc::Errc::kNoSpace));
  const std::string txn_put = Command([](serverpb::Command* c) {
    auto* op = c->mutable_txn()->add_failure()->mutable_request_txn()->add_success();
    op->mutable_request_put()->set_key("t");
  });
  EXPECT_TRUE(Refused(m->Apply(raft::LogIndex(6), txn_put), mvcc::Errc::kNoSpace));
  const std::string txn_delete = Command([](serverpb::Command* c) {
    c->mutable_txn()->add_success()->mutable_request_delete_range()->set_key("j");
  });
  EXPECT_TRUE(Applied(m->Apply(raft::LogIndex(7), txn_delete)));
  const std::string del =
      Command([](serverpb::Command* c) { c->mutable_delete_range()->set_key("k"); });
  EXPECT_TRUE(Applied(m->Apply(raft::LogIndex(8), del)));
  const std::string compact =
      Command([](serverpb::Command* c) { c->mutable_compaction()->set_revision(4); });
  EXPECT_TRUE(Applied(m->Apply(raft::LogIndex(9), compact)));
  EXPECT_EQ(m->AppliedIndex(), raft::LogIndex(9));

  // The alarm is part of the store: it survives a restart and travels in snapshots.
  auto descriptor = m->Snapshot();
  ASSERT_TRUE(descriptor.ok());
  auto image = ReadSnapshotFile(m->snapshots_dir(), descriptor.value());  // what a peer is sent
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  a.value().reset();
  auto reopened = KvMachine::Open(o);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(reopened.value()->NoSpace());
  KvMachineOptions ob;
  ob.dir = dir.path() + "/b/kv";
  fs::create_directories(dir.path() + "/b");
  auto b = KvMachine::Open(ob);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b.value()->NoSpace());
  ASSERT_TRUE(b.value()->Restore(image.value(), raft::LogIndex(9)).ok());
  EXPECT_TRUE(b.value()->NoSpace());
  EXPECT_EQ(b.value()->Alarms(), (std::vector<mvcc::Alarm>{{7, kAlarmNoSpace}}));

  m = reopened.value().get();
  r = m->Apply(raft::LogIndex(10), Alarm(etcdserverpb::AlarmRequest::DEACTIVATE, 7));
  EXPECT_EQ(std::any_cast<AlarmOutcome>(&r)->changed.size(), 1u);
  EXPECT_FALSE(m->NoSpace());
  EXPECT_TRUE(Applied(m->Apply(raft::LogIndex(11), Put("k", "v3"))));
  // Unknown members (0) and types are not raised.
  r = m->Apply(raft::LogIndex(12), Alarm(etcdserverpb::AlarmRequest::ACTIVATE, 0));
  EXPECT_TRUE(std::any_cast<AlarmOutcome>(&r)->changed.empty());
  EXPECT_FALSE(m->NoSpace());
}

TEST(StoreMaintenance, HashFollowsContentDefragmentKeepsIt) {
  TempDir dir;
  KvMachineOptions o;
  o.dir = dir.path() + "/kv";
  auto m = KvMachine::Open(o);
  ASSERT_TRUE(m.ok());
  auto hash = [&] {
    auto h = m.value()->Read([](const mvcc::Store& s) { return s.Hash(); });
    EXPECT_TRUE(h.ok());
    return h.ok() ? h.value() : 0u;
  };
  auto hash_kv = [&] {
    auto h = m.value()->Read([](const mvcc::Store& s) { return s.HashKV(0); });
    EXPECT_TRUE(h.ok());
    return h.ok() ? h.value().hash : 0u;
  };
  const uint32_t empty = hash();
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(
        Applied(m.value()->Apply(raft::LogIndex(i + 1), Put("key" + std::to_string(i), "v"))));
  }
  const uint32_t full = hash();
  EXPECT_NE(full, empty);
  const uint32_t kv = hash_kv();
  const int64_t before = m.value()->DiskBytes();
  ASSERT_TRUE(m.value()->Defragment().ok());
  EXPECT_EQ(hash(), full);  // the same keys and values, rewritten
  EXPECT_EQ(hash_kv(), kv);
  EXPECT_GT(before, 0);
  auto integrity = m.value()->Read([](const mvcc::Store& s) { return s.CheckIntegrity(); });
  EXPECT_TRUE(integrity.ok());
}

}  // namespace
}  // namespace synod::server
