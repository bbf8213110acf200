// Crash consistency. The store promises that after any crash it holds exactly the entries up
// to its applied index (store.h). Three ways to check it:
//  - reopen after every write: nothing observable changes across a clean close and open;
//  - a physical compaction cut short (the testing fault point) and resumed on open: the store
//    answers alike before and after, and ends identical to one never interrupted;
//  - a child process applying entries is killed (SIGKILL) at an arbitrary moment, often in the
//    middle of a write; the reopened store must equal a fresh store that applied the same
//    entries up to the recovered applied index.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "model.h"
#include "random_ops.h"
#include "test_util.h"

namespace synod::mvcc {
namespace {

using testing::Observe;
using testing::OpGenerator;
using testing::TempDir;
using testing::TestStore;

// Applies the generator's first `count` requests (or until the store reaches applied index
// `count`), as the child of the kill test does.
void ApplyGenerated(TestStore& s, OpGenerator& gen, uint64_t count) {
  while (s->applied_index().value < count) {
    (void)s.Apply(gen.Write(s->revision(), s->compact_revision()));
  }
}

TEST(CrashTest, ReopenAfterEveryWriteChangesNothing) {
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    OpGenerator gen(seed);
    StoreOptions options;
    options.compaction_batch_keys = 2;
    TestStore s(options);
    for (int i = 0; i < 80 && !HasFailure(); ++i) {
      (void)s.Apply(gen.Write(s->revision(), s->compact_revision()));
      const testing::Observed before = Observe(*s);
      const RaftIndex applied = s->applied_index();
      const uint32_t hash = s->HashKV(0).value().hash;
      s.Reopen();
      ASSERT_EQ(Observe(*s), before) << "after write " << i;
      ASSERT_EQ(s->applied_index(), applied);
      ASSERT_EQ(s->HashKV(0).value().hash, hash);
    }
  }
}

TEST(CrashTest, InterruptedCompactionResumesOnOpen) {
  for (size_t stop_after = 1; stop_after <= 6; ++stop_after) {
    SCOPED_TRACE("stopped after batch " + std::to_string(stop_after));
    StoreOptions faulty;
    faulty.compaction_batch_keys = 1;
    faulty.testing_compaction_batches_max = stop_after;
    TestStore cut(faulty);
    TestStore whole;
    OpGenerator gen_cut(42);
    OpGenerator gen_whole(42);
    for (int i = 0; i < 80; ++i) {
      (void)cut.Apply(gen_cut.Write(cut->revision(), cut->compact_revision()));
      (void)whole.Apply(gen_whole.Write(whole->revision(), whole->compact_revision()));
    }
    CompactRequest c;
    c.revision = whole->revision() - 2;
    if (c.revision <= whole->compact_revision()) continue;
    (void)cut.Apply(c);
    (void)whole.Apply(c);
    // Mid-way, the answers are already those of the finished compaction.
    ASSERT_EQ(Observe(*cut), Observe(*whole));
    ASSERT_EQ(cut->HashKV(0).value().hash, whole->HashKV(0).value().hash);
    cut.options().testing_compaction_batches_max = 0;
    cut.Reopen();
    ASSERT_EQ(Observe(*cut), Observe(*whole));
    ASSERT_EQ(cut->HashKV(0).value().hash, whole->HashKV(0).value().hash);
    // And the store goes on as if nothing happened.
    ASSERT_EQ(cut.Put("after", "1"), whole.Put("after", "1"));
  }
}

// ---- the killed child -------------------------------------------------------------------------

constexpr const char* kChildDirEnv = "SYNOD_MVCC_CRASH_DIR";
constexpr const char* kChildSeedEnv = "SYNOD_MVCC_CRASH_SEED";
constexpr const char* kChildFdEnv = "SYNOD_MVCC_CRASH_FD";
constexpr uint64_t kChildEntriesMax = 5000;

// Runs only as the child of CrashTest.KilledProcessRecoversAPrefix: applies generated entries
// and reports each one on a pipe until it is killed.
TEST(CrashChild, ApplyUntilKilled) {
  const char* dir = std::getenv(kChildDirEnv);
  if (dir == nullptr) GTEST_SKIP() << "runs only as the child of the kill test";
  const uint64_t seed = std::strtoull(std::getenv(kChildSeedEnv), nullptr, 10);
  const int fd = std::atoi(std::getenv(kChildFdEnv));
  StoreOptions options;
  options.path = dir;
  options.compaction_batch_keys = 2;
  auto opened = Store::Open(options);
  ASSERT_TRUE(opened.ok());
  Store& s = *opened.value();
  OpGenerator gen(seed);
  for (uint64_t i = 1; i <= kChildEntriesMax; ++i) {
    auto r = s.Apply(RaftIndex(i), gen.Write(s.revision(), s.compact_revision()));
    ASSERT_TRUE(r.ok() || !r.error().fatal());
    const char done = 1;
    ASSERT_EQ(write(fd, &done, 1), 1);
  }
}

// Starts this test binary again as the child; returns its pid.
pid_t SpawnChild(const std::string& dir, uint64_t seed, int pipe_write_fd) {
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string filter = "--gtest_filter=CrashChild.ApplyUntilKilled";
  const std::string env_dir = std::string(kChildDirEnv) + "=" + dir;
  const std::string env_seed = std::string(kChildSeedEnv) + "=" + std::to_string(seed);
  const std::string env_fd = std::string(kChildFdEnv) + "=" + std::to_string(pipe_write_fd);
  char* argv[] = {const_cast<char*>(exe.c_str()), const_cast<char*>(filter.c_str()), nullptr};
  char* envp[] = {const_cast<char*>(env_dir.c_str()), const_cast<char*>(env_seed.c_str()),
                  const_cast<char*>(env_fd.c_str()), nullptr};
  const pid_t pid = fork();
  if (pid == 0) {
    execve(argv[0], argv, envp);
    _exit(127);
  }
  return pid;
}

TEST(CrashTest, KilledProcessRecoversAPrefix) {
  Random rng(2024);
  for (uint64_t round = 1; round <= 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    TempDir dir;
    const uint64_t seed = 100 + round;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = SpawnChild(dir.Sub("db"), seed, fds[1]);
    ASSERT_GT(child, 0);
    close(fds[1]);
    // Let the child get some way, then kill it wherever it is.
    const uint64_t kill_after = rng.Between(1, 400);
    uint64_t acked = 0;
    char buf[64];
    while (acked < kill_after) {
      const ssize_t n = read(fds[0], buf, sizeof(buf));
      ASSERT_GT(n, 0) << "child ended before the kill";
      acked += static_cast<uint64_t>(n);
    }
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    close(fds[0]);

    StoreOptions options;
    options.path = dir.Sub("db");
    auto opened = Store::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    Store& recovered = *opened.value();
    const uint64_t applied = recovered.applied_index().value;
    // A process crash loses nothing the child reported (its writes reached the OS).
    ASSERT_GE(applied, acked);

    TestStore reference;
    OpGenerator gen(seed);
    ApplyGenerated(reference, gen, applied);
    ASSERT_EQ(reference->applied_index(), recovered.applied_index());
    ASSERT_EQ(Observe(recovered), Observe(*reference));
    ASSERT_EQ(recovered.HashKV(0).value().hash, reference->HashKV(0).value().hash);
  }
}

}  // namespace
}  // namespace synod::mvcc
