// The search on small hand-made histories whose verdicts can be worked out by hand. Times are
// arbitrary integers; a register starts absent (nil) unless a test says otherwise.
#include "lincheck/checker.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace synod::lincheck {
namespace {

using testing::Append;
using testing::Cas;
using testing::OnKey;
using testing::Read;
using testing::WithOutcome;
using testing::Write;

constexpr Outcome kOk = Outcome::kOk;
constexpr Outcome kFail = Outcome::kFail;
constexpr Outcome kUnknown = Outcome::kUnknown;

Verdict VerdictOf(std::vector<Operation> ops, std::optional<std::string> initial = std::nullopt) {
  History h;
  h.ops = std::move(ops);
  h.initial = std::move(initial);
  return Check(h, CheckOptions{}).verdict;
}

Operation Unknown(Operation op) {
  op.outcome = kUnknown;
  op.ret = kNeverReturned;
  return op;
}

TEST(CheckerTest, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(VerdictOf({}), Verdict::kLinearizable);
}

TEST(CheckerTest, SequentialWriteThenReadIsLinearizable) {
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), Read("1", 20, 30)}), Verdict::kLinearizable);
}

TEST(CheckerTest, StaleReadAfterCompletedWriteIsCaught) {
  History h;
  h.ops = {Write("1", 0, 10), Read(std::nullopt, 20, 30)};
  const CheckResult r = Check(h, CheckOptions{});
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.key, "k");
  EXPECT_NE(r.explanation.find("Longest linearizable prefix: 1"), std::string::npos)
      << r.explanation;
  EXPECT_NE(r.explanation.find("read -> nil ok [call 20, ret 30]"), std::string::npos)
      << r.explanation;
}

TEST(CheckerTest, ReadOfAValueNeverWrittenIsCaught) {
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), Read("2", 5, 30)}), Verdict::kNotLinearizable);
}

TEST(CheckerTest, ConcurrentOperationsMayTakeEffectInEitherOrder) {
  // The read overlaps the write, so it may see the old or the new value.
  EXPECT_EQ(VerdictOf({Write("1", 0, 100), Read("1", 10, 20)}), Verdict::kLinearizable);
  EXPECT_EQ(VerdictOf({Write("1", 0, 100), Read(std::nullopt, 10, 20)}), Verdict::kLinearizable);
  // Two overlapping writes, then reads agreeing on either winner.
  EXPECT_EQ(VerdictOf({Write("1", 0, 50), Write("2", 10, 60), Read("1", 70, 80)}),
            Verdict::kLinearizable);
  EXPECT_EQ(VerdictOf({Write("1", 0, 50), Write("2", 10, 60), Read("2", 70, 80)}),
            Verdict::kLinearizable);
}

TEST(CheckerTest, OnceANewValueIsSeenTheOldOneCannotReturn) {
  EXPECT_EQ(VerdictOf({Write("1", 0, 100), Read("1", 10, 20), Read(std::nullopt, 30, 40)}),
            Verdict::kNotLinearizable);
}

TEST(CheckerTest, OperationsTouchingAtOneInstantCountAsConcurrent) {
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), Read(std::nullopt, 10, 20)}), Verdict::kLinearizable);
}

TEST(CheckerTest, UnknownWriteMayTakeEffectOrNot) {
  EXPECT_EQ(VerdictOf({Unknown(Write("1", 0, 0)), Read("1", 10, 20)}), Verdict::kLinearizable);
  EXPECT_EQ(VerdictOf({Unknown(Write("1", 0, 0)), Read(std::nullopt, 10, 20)}),
            Verdict::kLinearizable);
  // But it takes effect at most once, at one point.
  EXPECT_EQ(VerdictOf({Unknown(Write("1", 0, 0)), Read("1", 10, 20), Read(std::nullopt, 30, 40)}),
            Verdict::kNotLinearizable);
}

TEST(CheckerTest, UnknownOperationStaysOpenPastTheTimeTheClientGaveUp) {
  // The client saw a timeout at 5, yet the write may still be applied at 35.
  Operation late = WithOutcome(Write("1", 0, 5), kUnknown);
  EXPECT_EQ(VerdictOf({late, Read(std::nullopt, 10, 20), Read("1", 30, 40)}),
            Verdict::kLinearizable);
}

TEST(CheckerTest, UnknownWriteCannotTakeEffectBeforeItIsCalled) {
  EXPECT_EQ(VerdictOf({Read("1", 0, 10), Unknown(Write("1", 20, 0))}), Verdict::kNotLinearizable);
}

TEST(CheckerTest, FailedWriteDidNotHappen) {
  const Operation failed = WithOutcome(Write("1", 0, 10), kFail);
  EXPECT_EQ(VerdictOf({failed, Read(std::nullopt, 20, 30)}), Verdict::kLinearizable);
  EXPECT_EQ(VerdictOf({failed, Read("1", 20, 30)}), Verdict::kNotLinearizable);
}

TEST(CheckerTest, FailedReadConstrainsNothing) {
  const Operation failed = WithOutcome(Read(std::nullopt, 20, 30), kFail);
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), failed}), Verdict::kLinearizable);
}

TEST(CheckerTest, CasSucceedsOnlyOnAMatch) {
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), Cas("1", "2", kOk, 20, 30), Read("2", 40, 50)}),
            Verdict::kLinearizable);
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), Cas("0", "2", kOk, 20, 30)}), Verdict::kNotLinearizable);
  EXPECT_EQ(VerdictOf({Cas(std::nullopt, "2", kOk, 0, 10), Read("2", 20, 30)}),
            Verdict::kLinearizable);
}

TEST(CheckerTest, FailedCasMeansTheRegisterDifferedFromExpected) {
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), Cas("0", "2", kFail, 20, 30)}), Verdict::kLinearizable);
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), Cas("1", "2", kFail, 20, 30)}),
            Verdict::kNotLinearizable);
  // A failed cas leaves the register alone.
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), Cas("0", "2", kFail, 20, 30), Read("2", 40, 50)}),
            Verdict::kNotLinearizable);
  // Legal if a concurrent write changed the register first.
  EXPECT_EQ(VerdictOf({Write("1", 0, 10), Write("3", 15, 40), Cas("1", "2", kFail, 20, 30)}),
            Verdict::kLinearizable);
}

TEST(CheckerTest, UnknownCasMaySwapOrNot) {
  const Operation cas = Unknown(Cas(std::nullopt, "a", kUnknown, 0, 0));
  EXPECT_EQ(VerdictOf({cas, Read("a", 10, 20)}), Verdict::kLinearizable);
  EXPECT_EQ(VerdictOf({cas, Read(std::nullopt, 10, 20)}), Verdict::kLinearizable);
  // It can only swap when the register holds the expected value.
  EXPECT_EQ(VerdictOf({Write("b", 0, 5), Unknown(Cas(std::nullopt, "a", kUnknown, 10, 0)),
                       Read("a", 20, 30)}),
            Verdict::kNotLinearizable);
}

TEST(CheckerTest, AppendsOrderConsistentlyWithReads) {
  const std::vector<Operation> appends = {Append("x", 0, 10), Append("y", 5, 15)};
  auto with_read = [&](std::string seen) {
    std::vector<Operation> ops = appends;
    ops.push_back(Read(std::move(seen), 20, 30));
    return VerdictOf(ops, std::string());
  };
  EXPECT_EQ(with_read("xy"), Verdict::kLinearizable);
  EXPECT_EQ(with_read("yx"), Verdict::kLinearizable);
  EXPECT_EQ(with_read("x"), Verdict::kNotLinearizable);
  EXPECT_EQ(with_read("xyx"), Verdict::kNotLinearizable);
  // Appending to an absent register starts from "".
  EXPECT_EQ(VerdictOf({Append("x", 0, 10), Read("x", 20, 30)}), Verdict::kLinearizable);
}

TEST(CheckerTest, KeysAreCheckedIndependentlyAndTheBadOneIsNamed) {
  History h;
  h.ops = {OnKey(Write("1", 0, 10), "a"), OnKey(Read("1", 20, 30), "a"),
           OnKey(Write("1", 0, 10), "b"), OnKey(Read("2", 20, 30), "b")};
  for (bool partition : {true, false}) {
    CheckOptions options;
    options.partition_by_key = partition;
    const CheckResult r = Check(h, options);
    EXPECT_EQ(r.verdict, Verdict::kNotLinearizable) << "partition " << partition;
    EXPECT_EQ(r.key, "b") << "partition " << partition;
  }
  // Reads on one key say nothing about another key's writes.
  h.ops = {OnKey(Write("1", 0, 10), "a"), OnKey(Read(std::nullopt, 20, 30), "b")};
  EXPECT_EQ(Check(h, CheckOptions{}).verdict, Verdict::kLinearizable);
}

// Many concurrent unknown writes and late reads: a search space too large to finish in a
// few steps.
History WideHistory() {
  History h;
  for (int i = 0; i < 40; ++i) h.ops.push_back(Unknown(Write(std::to_string(i), i, 0)));
  for (int i = 0; i < 40; ++i) h.ops.push_back(Read(std::to_string(39 - i), 100 + i, 500));
  return h;
}

TEST(CheckerTest, StepBudgetGivesUnknownDeterministically) {
  CheckOptions options;
  options.step_budget = 1000;
  const CheckResult first = Check(WideHistory(), options);
  const CheckResult second = Check(WideHistory(), options);
  EXPECT_EQ(first.verdict, Verdict::kUnknown);
  EXPECT_EQ(first.steps, second.steps);
  // The last step may finish a scan of the pending operations, so the count can run over a
  // little, never by much.
  EXPECT_GE(first.steps, options.step_budget);
  EXPECT_LT(first.steps, 2 * options.step_budget);
  EXPECT_NE(first.explanation.find("step budget"), std::string::npos) << first.explanation;
}

TEST(CheckerTest, MemoryBudgetGivesUnknown) {
  CheckOptions options;
  options.memory_budget_bytes = 1;
  const CheckResult r = Check(WideHistory(), options);
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_NE(r.explanation.find("memory budget"), std::string::npos) << r.explanation;
}

// Twenty concurrent unknown writes, then a read of a value none of them wrote: refuting it means
// trying every subset of the writes (about 2^20 configurations).
History SlowToRefute() {
  History h;
  for (int i = 0; i < 20; ++i) h.ops.push_back(Unknown(Write(std::to_string(i), i, 0)));
  h.ops.push_back(Read("never written", 100, 200));
  return h;
}

TEST(CheckerTest, ABadKeyIsFoundWhileASlowKeyIsStillBeingSearched) {
  // Key "a" alone needs far more than a few thousand steps...
  CheckOptions options;
  options.step_budget = 10000;
  ASSERT_EQ(Check(SlowToRefute(), options).verdict, Verdict::kUnknown);
  // ...yet key "b", searched in turns with it, is refuted within the same budget.
  History h = SlowToRefute();
  for (Operation& op : h.ops) op.key = "a";
  h.ops.push_back(OnKey(Write("1", 0, 10), "b"));
  h.ops.push_back(OnKey(Read(std::nullopt, 20, 30), "b"));
  const CheckResult r = Check(h, options);
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.key, "b");
  EXPECT_EQ(Check(h, CheckOptions{}).verdict, Verdict::kNotLinearizable);
}

TEST(CheckerTest, VerdictNames) {
  EXPECT_STREQ(VerdictName(Verdict::kLinearizable), "LINEARIZABLE");
  EXPECT_STREQ(VerdictName(Verdict::kNotLinearizable), "NOT LINEARIZABLE");
  EXPECT_STREQ(VerdictName(Verdict::kUnknown), "UNKNOWN");
}

TEST(CheckerDeathTest, MalformedHistoryIsABug) {
  History h;
  h.ops = {Read("1", 10, 5)};
  EXPECT_DEATH((void)Check(h, CheckOptions{}), "returns before it is called");
}

}  // namespace
}  // namespace synod::lincheck
