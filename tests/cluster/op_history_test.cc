// The fault tests' recorder and checker must be able to fail: histories recorded through
// OpHistory, with a stale read, a read of a write that never happened, and the outcomes the
// recorder derives from gRPC errors.
#include "op_history.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "lincheck/parse.h"

namespace synod::cluster_test {
namespace {

using lincheck::OpKind;

const grpc::Status kNotConnected(grpc::StatusCode::UNAVAILABLE,
                                 "failed to connect to all addresses");
const grpc::Status kDeadline(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded");
const grpc::Status kReset(grpc::StatusCode::UNAVAILABLE, "Connection reset by peer");

TEST(OpHistoryTest, SequentialWritesAndFreshReadIsLinearizable) {
  OpHistory h;
  h.Ok(h.Invoke(1, "k", OpKind::kWrite, "a"));
  h.Ok(h.Invoke(2, "k", OpKind::kWrite, "b"));
  h.Ok(h.Invoke(3, "k", OpKind::kRead), "b");
  h.Ok(h.Invoke(3, "k", OpKind::kCas, "c", "b"));
  h.Fail(h.Invoke(1, "k", OpKind::kCas, "d", "b"));  // the comparison failed: "c" is there
  h.Ok(h.Invoke(2, "k", OpKind::kRead), "c");
  const Status s = CheckLinearizable(h.Snapshot(), "");
  EXPECT_TRUE(s.ok()) << s.ToString();
}

// The defect the fault tests look for: a read that returns an overwritten value after the
// overwrite was acknowledged.
TEST(OpHistoryTest, StaleReadIsCaught) {
  OpHistory h;
  h.Ok(h.Invoke(1, "k", OpKind::kWrite, "old"));
  h.Ok(h.Invoke(1, "k", OpKind::kWrite, "new"));
  h.Ok(h.Invoke(2, "k", OpKind::kRead), "old");
  const Status s = CheckLinearizable(h.Snapshot(), "");
  EXPECT_EQ(s.code(), ErrorCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("NOT"), std::string::npos) << s.message();
}

// A read of an absent key after a write was acknowledged: a lost write.
TEST(OpHistoryTest, LostAcknowledgedWriteIsCaught) {
  OpHistory h;
  h.Ok(h.Invoke(1, "k", OpKind::kWrite, "v"));
  h.Ok(h.Invoke(2, "k", OpKind::kRead), std::nullopt);
  EXPECT_EQ(CheckLinearizable(h.Snapshot(), "").code(), ErrorCode::kCorruption);
}

// A write that timed out may still be applied later: reading its value afterwards is fine.
// One that was never sent must not be: reading it is caught.
TEST(OpHistoryTest, ErrorsMapToUnknownOrFail) {
  {
    OpHistory h;
    const auto w = h.Invoke(1, "k", OpKind::kWrite, "late");
    h.Error(w, kDeadline);
    h.Ok(h.Invoke(2, "k", OpKind::kRead), "late");
    EXPECT_EQ(h.counts().unknown, 1u);
    const Status s = CheckLinearizable(h.Snapshot(), "");
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  {
    OpHistory h;
    h.Error(h.Invoke(1, "k", OpKind::kWrite, "reset"), kReset);
    h.Ok(h.Invoke(2, "k", OpKind::kRead), "reset");
    EXPECT_TRUE(CheckLinearizable(h.Snapshot(), "").ok());
  }
  {
    OpHistory h;
    h.Error(h.Invoke(1, "k", OpKind::kWrite, "never"), kNotConnected);
    h.Ok(h.Invoke(2, "k", OpKind::kRead), "never");
    EXPECT_EQ(h.counts().dropped, 1u);
    EXPECT_EQ(CheckLinearizable(h.Snapshot(), "").code(), ErrorCode::kCorruption);
    EXPECT_TRUE(NeverSent(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader")));
    EXPECT_FALSE(
        NeverSent(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: request timed out")));
    EXPECT_FALSE(NeverSent(kReset));
    EXPECT_FALSE(NeverSent(kDeadline));
  }
  {
    // A CAS that was never sent did not compare anything: it is dropped, not "failed" (a
    // failed CAS would claim the register differed from its expected value).
    OpHistory h;
    h.Ok(h.Invoke(1, "k", OpKind::kWrite, "v"));
    h.Error(h.Invoke(2, "k", OpKind::kCas, "w", "v"), kNotConnected);
    h.Ok(h.Invoke(1, "k", OpKind::kCas, "x", "v"));
    EXPECT_EQ(h.counts().dropped, 1u);
    EXPECT_EQ(h.Snapshot().ops.size(), 2u);
    const Status s = CheckLinearizable(h.Snapshot(), "");
    EXPECT_TRUE(s.ok()) << s.ToString();
    // Recorded as a failed comparison instead, the same facts are contradictory.
    OpHistory wrong;
    wrong.Ok(wrong.Invoke(1, "k", OpKind::kWrite, "v"));
    wrong.Fail(wrong.Invoke(2, "k", OpKind::kCas, "w", "v"));
    wrong.Ok(wrong.Invoke(1, "k", OpKind::kCas, "x", "v"));
    EXPECT_EQ(CheckLinearizable(wrong.Snapshot(), "").code(), ErrorCode::kCorruption);
  }
  {
    // A failed read says nothing, whatever its error.
    OpHistory h;
    h.Ok(h.Invoke(1, "k", OpKind::kWrite, "v"));
    h.Error(h.Invoke(2, "k", OpKind::kRead), kDeadline);
    EXPECT_EQ(h.counts().fail, 1u);
    EXPECT_TRUE(CheckLinearizable(h.Snapshot(), "").ok());
  }
}

// Call times are taken at Invoke and return times at the end: overlapping operations may be
// ordered either way, sequential ones may not.
TEST(OpHistoryTest, ConcurrentOperationsMayReorderSequentialOnesMayNot) {
  OpHistory h;
  const auto w = h.Invoke(1, "k", OpKind::kWrite, "x");
  const auto r = h.Invoke(2, "k", OpKind::kRead);
  h.Ok(r, std::nullopt);  // overlapped the write: may come before it
  h.Ok(w);
  EXPECT_TRUE(CheckLinearizable(h.Snapshot(), "").ok());
  h.Ok(h.Invoke(2, "k", OpKind::kRead), std::nullopt);  // after the write returned
  EXPECT_EQ(CheckLinearizable(h.Snapshot(), "").code(), ErrorCode::kCorruption);
}

// The file written next to a failing test parses back to the same verdict (synod-lincheck
// reads the same format).
TEST(OpHistoryTest, WrittenHistoryParsesBack) {
  OpHistory h;
  h.Ok(h.Invoke(1, "k", OpKind::kWrite, "old"));
  h.Ok(h.Invoke(1, "k", OpKind::kWrite, "new"));
  const auto pending = h.Invoke(3, "k", OpKind::kWrite, "open");  // never ended: unknown
  (void)pending;
  h.Ok(h.Invoke(2, "k", OpKind::kRead), "old");
  const std::string path = "/tmp/op_history_test." + std::to_string(getpid()) + ".history";
  EXPECT_EQ(CheckLinearizable(h.Snapshot(), path).code(), ErrorCode::kCorruption);
  const Result<lincheck::History> parsed = lincheck::ParseFile(path, lincheck::Format::kSynod);
  std::remove(path.c_str());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed.value().ops.size(), 4u);
  EXPECT_EQ(CheckLinearizable(parsed.value(), "").code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace synod::cluster_test
