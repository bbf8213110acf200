// Fencing (server/fence.h) in one process: the `synod-fence` value's syntax, the lock holder
// (the key under `name/` created first), and KvMachine refusing a fenced put or txn whose
// token a newer holder outdates, at apply, with nothing changed and the entry consumed; and
// the per-lock high-water mark, which keeps an old token refused after the newer holder left,
// across a restart and a snapshot install.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>

#include "server/command.pb.h"
#include "server/fence.h"
#include "server/kv_machine.h"
#include "server/snapshot_files.h"
#include "server/lock_recipes.h"

namespace synod::server {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/synod-lock-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Put(const std::string& key, const std::string& value,
                const std::vector<std::pair<std::string, int64_t>>& fences = {}) {
  serverpb::Command c;
  c.mutable_put()->set_key(key);
  c.mutable_put()->set_value(value);
  for (const auto& [name, token] : fences) {
    serverpb::Fence* f = c.add_fences();
    f->set_name(name);
    f->set_token(token);
  }
  return c.SerializeAsString();
}

std::string Delete(const std::string& key) {
  serverpb::Command c;
  c.mutable_delete_range()->set_key(key);
  return c.SerializeAsString();
}

const ApplyOutcome* Outcome(const std::any& r) {
  return std::any_cast<ApplyOutcome>(&r);
}

bool Refused(const std::any& r) {
  const ApplyOutcome* out = Outcome(r);
  return out != nullptr && !out->ok() && out->error().code() == mvcc::Errc::kStaleFence;
}

int64_t Revision(const std::any& r) {
  const ApplyOutcome* out = Outcome(r);
  return out != nullptr && out->ok() ? out->value().revision : -1;
}

std::optional<std::string> Value(const KvMachine& m, const std::string& key) {
  return m.Read([&](const mvcc::Store& s) -> std::optional<std::string> {
    mvcc::RangeRequest r;
    r.key = key;
    auto got = s.Range(r);
    if (!got.ok() || got.value().result.kvs.empty()) return std::nullopt;
    return got.value().result.kvs.front().value;
  });
}

TEST(FenceSyntax, NameEqualsTokenSplitAtTheLastEquals) {
  serverpb::Command c;
  ASSERT_TRUE(AddFence("jobs=42", &c).ok());
  ASSERT_TRUE(AddFence("a=b=7", &c).ok());
  ASSERT_EQ(c.fences_size(), 2);
  EXPECT_EQ(c.fences(0).name(), "jobs");
  EXPECT_EQ(c.fences(0).token(), 42);
  EXPECT_EQ(c.fences(1).name(), "a=b");
  EXPECT_EQ(c.fences(1).token(), 7);
  for (const char* bad : {"", "jobs", "=5", "jobs=", "jobs=0", "jobs=-3", "jobs=12x", "jobs= 1"}) {
    serverpb::Command d;
    const Status s = AddFence(bad, &d);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(d.fences_size(), 0) << bad;
  }
  serverpb::Command many;
  for (size_t i = 0; i < kFencesMax; ++i) ASSERT_TRUE(AddFence("l=1", &many).ok());
  EXPECT_EQ(AddFence("l=1", &many).code(), ErrorCode::kInvalidArgument);
}

TEST(FenceSyntax, ContenderKeysAreLowercaseHexOfTheLease) {
  EXPECT_EQ(ContenderKey("jobs/", 0x694d7a1b2c3d4e5f), "jobs/694d7a1b2c3d4e5f");
  EXPECT_EQ(ContenderKey("jobs/", 10), "jobs/a");
}

TEST(FenceApply, StaleTokenRefusedOnApplyNewerAndCurrentPass) {
  TempDir dir;
  KvMachineOptions o;
  o.dir = dir.path() + "/kv";
  auto opened = KvMachine::Open(o);
  ASSERT_TRUE(opened.ok());
  KvMachine& m = *opened.value();

  // Holder A takes lock "jobs" at revision 1; B queues behind it; "jobsx/" is another lock.
  const int64_t a = Revision(m.Apply(raft::LogIndex(1), Put("jobs/a", "")));
  const int64_t b = Revision(m.Apply(raft::LogIndex(2), Put("jobs/b", "")));
  ASSERT_GT(a, 0);  // the store starts at revision 1, as etcd's
  ASSERT_EQ(b, a + 1);
  const int64_t x = Revision(m.Apply(raft::LogIndex(3), Put("jobsx/z", "")));
  ASSERT_EQ(x, a + 2);
  auto holder = m.Read([](const mvcc::Store& s) { return LockHolder(s, "jobs"); });
  ASSERT_TRUE(holder.ok());
  EXPECT_EQ(holder.value(), std::optional<int64_t>(a));

  // A writes with its token while it holds the lock; a writer with an unknown lock passes.
  EXPECT_EQ(Revision(m.Apply(raft::LogIndex(4), Put("data", "from a", {{"jobs", a}}))), a + 3);
  EXPECT_EQ(Revision(m.Apply(raft::LogIndex(5), Put("other", "x", {{"free", 1}}))), a + 4);

  // A's key goes (its lease expired): B holds the lock now, and A's token is stale.
  ASSERT_EQ(Revision(m.Apply(raft::LogIndex(6), Delete("jobs/a"))), a + 5);
  EXPECT_EQ(Revision(m.Apply(raft::LogIndex(7), Put("data", "from b", {{"jobs", b}}))), a + 6);
  const std::any stale = m.Apply(raft::LogIndex(8), Put("data", "late a", {{"jobs", a}}));
  EXPECT_TRUE(Refused(stale));
  EXPECT_EQ(m.AppliedIndex(), raft::LogIndex(8));  // the entry is consumed, nothing changed
  EXPECT_EQ(Value(m, "data"), std::optional<std::string>("from b"));
  EXPECT_EQ(m.Read([](const mvcc::Store& s) { return s.revision(); }), a + 6);
  // One stale fence among good ones refuses the whole request.
  EXPECT_TRUE(
      Refused(m.Apply(raft::LogIndex(9), Put("data", "mixed", {{"jobsx", x}, {"jobs", a}}))));

  // A txn carries fences the same way.
  serverpb::Command txn;
  txn.mutable_txn()->add_success()->mutable_request_put()->set_key("data");
  serverpb::Fence* f = txn.add_fences();
  f->set_name("jobs");
  f->set_token(a);
  EXPECT_TRUE(Refused(m.Apply(raft::LogIndex(10), txn.SerializeAsString())));
  f->set_token(b);
  EXPECT_GT(Revision(m.Apply(raft::LogIndex(11), txn.SerializeAsString())), a + 6);

  // The same log on a second member decides the same (replayed from scratch).
  TempDir dir2;
  o.dir = dir2.path() + "/kv";
  auto other = KvMachine::Open(o);
  ASSERT_TRUE(other.ok());
  KvMachine& n = *other.value();
  ASSERT_EQ(Revision(n.Apply(raft::LogIndex(1), Put("jobs/a", ""))), a);
  ASSERT_EQ(Revision(n.Apply(raft::LogIndex(2), Put("jobs/b", ""))), b);
  ASSERT_GT(Revision(n.Apply(raft::LogIndex(3), Delete("jobs/a"))), b);
  EXPECT_TRUE(Refused(n.Apply(raft::LogIndex(4), Put("data", "late a", {{"jobs", a}}))));
}

std::string Txn(const std::string& key, const std::string& fence_lock) {
  serverpb::Command c;
  c.mutable_txn()->add_success()->mutable_request_put()->set_key(key);
  c.add_fence_locks(fence_lock);
  return c.SerializeAsString();
}

std::unique_ptr<KvMachine> OpenMachine(const std::string& dir) {
  KvMachineOptions o;
  o.dir = dir;
  auto opened = KvMachine::Open(o);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened.value()) : nullptr;
}

// A holds "jobs" (token a) and writes with it; its lease expires; B takes the lock (token b)
// and releases it. Nobody holds the lock, yet A's token stays refused: below the mark.
TEST(FenceMark, OldTokenRefusedAfterNewerHolderReleased) {
  TempDir dir;
  auto m = OpenMachine(dir.path() + "/kv");
  ASSERT_NE(m, nullptr);
  const int64_t a = Revision(m->Apply(raft::LogIndex(1), Put("jobs/a", "")));
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(2), Put("data", "from a", {{"jobs", a}}))), a);
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(3), Delete("jobs/a"))), a);
  const int64_t b = Revision(m->Apply(raft::LogIndex(4), Put("jobs/b", "")));
  ASSERT_GT(b, a);
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(5), Delete("jobs/b"))), b);
  auto holder = m->Read([](const mvcc::Store& s) { return LockHolder(s, "jobs"); });
  ASSERT_TRUE(holder.ok());
  EXPECT_EQ(holder.value(), std::nullopt);
  const std::any late = m->Apply(raft::LogIndex(6), Put("data", "late a", {{"jobs", a}}));
  EXPECT_TRUE(Refused(late)) << "a token below the lock's highest was accepted";
  EXPECT_EQ(Value(*m, "data"), std::optional<std::string>("from a"));
  EXPECT_EQ(m->AppliedIndex(), raft::LogIndex(6));
  // B's own token still passes, and a token from the future never does (it would raise the
  // mark above every later holder).
  EXPECT_GT(Revision(m->Apply(raft::LogIndex(7), Put("data", "b", {{"jobs", b}}))), b);
  EXPECT_TRUE(Refused(m->Apply(raft::LogIndex(8), Put("data", "x", {{"jobs", 1000000}}))));
  auto marks = m->Read([](const mvcc::Store& s) { return s.FenceMarks(); });
  ASSERT_TRUE(marks.ok());
  EXPECT_EQ(marks.value(), (std::vector<mvcc::FenceMark>{{"jobs", b}}));
  // The mark lives beside the key space: no client read sees it.
  auto all = m->Read([](const mvcc::Store& s) {
    mvcc::RangeRequest r;
    r.key = std::string(1, '\0');
    r.range_end = std::string(1, '\0');
    return s.Range(r);
  });
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.value().result.kvs.size(), 1u);  // "data"

  // After a restart, and on a member that installed a snapshot of this one.
  const std::string image = [&] {
    auto snap = m->Snapshot();
    EXPECT_TRUE(snap.ok());
    if (!snap.ok()) return std::string();
    auto sent = ReadSnapshotFile(m->snapshots_dir(), snap.value());  // what a peer is sent
    EXPECT_TRUE(sent.ok());
    return sent.ok() ? sent.value() : std::string();
  }();
  const raft::LogIndex at = m->AppliedIndex();
  m.reset();
  m = OpenMachine(dir.path() + "/kv");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(Refused(m->Apply(raft::LogIndex(9), Put("data", "late a", {{"jobs", a}}))));
  TempDir other;
  auto n = OpenMachine(other.path() + "/kv");
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(n->Restore(image, at).ok());
  EXPECT_TRUE(Refused(n->Apply(raft::LogIndex(at.value + 1), Put("d", "late", {{"jobs", a}}))));
  EXPECT_GT(Revision(n->Apply(raft::LogIndex(at.value + 2), Put("d", "b", {{"jobs", b}}))), b);
}

// A contender queued behind the holder does not raise the mark: the holder keeps writing.
// The mark follows the holder: when the holder's key goes, the queued contender's token.
TEST(FenceMark, QueuedContenderDoesNotRaiseTheMarkUntilItHolds) {
  TempDir dir;
  auto m = OpenMachine(dir.path() + "/kv");
  ASSERT_NE(m, nullptr);
  const int64_t a = Revision(m->Apply(raft::LogIndex(1), Put("jobs/a", "")));
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(2), Put("data", "1", {{"jobs", a}}))), a);
  const int64_t c = Revision(m->Apply(raft::LogIndex(3), Put("jobs/c", "")));
  ASSERT_GT(c, a);
  EXPECT_GT(Revision(m->Apply(raft::LogIndex(4), Put("data", "2", {{"jobs", a}}))), c);
  // A's key goes: C holds now, and nobody wrote with C's token yet.
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(5), Delete("jobs/a"))), c);
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(6), Delete("jobs/c"))), c);
  EXPECT_TRUE(Refused(m->Apply(raft::LogIndex(7), Put("data", "3", {{"jobs", a}}))));
  auto marks = m->Read([](const mvcc::Store& s) { return s.FenceMarks(); });
  ASSERT_TRUE(marks.ok());
  EXPECT_EQ(marks.value(), (std::vector<mvcc::FenceMark>{{"jobs", c}}));
}

// A lock taken through the Lock service (Command.fence_locks) is tracked from its contender's
// entry on, before any fenced write names it.
TEST(FenceMark, LockServiceAcquisitionIsTrackedWithoutAFencedWrite) {
  TempDir dir;
  auto m = OpenMachine(dir.path() + "/kv");
  ASSERT_NE(m, nullptr);
  const int64_t old_token = Revision(m->Apply(raft::LogIndex(1), Put("q/old", "")));
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(2), Delete("q/old"))), old_token);
  const int64_t t = Revision(m->Apply(raft::LogIndex(3), Txn("q/new", "q")));
  ASSERT_GT(t, old_token);
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(4), Delete("q/new"))), t);
  EXPECT_TRUE(Refused(m->Apply(raft::LogIndex(5), Put("data", "x", {{"q", old_token}}))));
  // An untracked lock name keeps the old rule: nobody holds it, any past token passes.
  const int64_t u = Revision(m->Apply(raft::LogIndex(6), Put("u/1", "")));
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(7), Delete("u/1"))), u);
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(8), Put("u/2", ""))), u);
  ASSERT_GT(Revision(m->Apply(raft::LogIndex(9), Delete("u/2"))), u);
  EXPECT_FALSE(Refused(m->Apply(raft::LogIndex(10), Put("data", "y", {{"u", u}}))));
}

}  // namespace
}  // namespace synod::server
