// The register model on its own: what each kind and outcome allows and leaves behind.
#include "lincheck/model.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace synod::lincheck {
namespace {

using testing::Append;
using testing::Cas;
using testing::Read;
using testing::WithOutcome;
using testing::Write;

class ModelTest : public ::testing::Test {
 protected:
  StepResult Apply(const Operation& op, const std::optional<std::string>& state) {
    return Step(ToModelOp(op, values), values.Intern(state), values);
  }
  ValueId Id(const std::optional<std::string>& v) { return values.Intern(v); }
  ValueTable values;
};

TEST_F(ModelTest, InterningGivesEqualIdsToEqualValuesAndKeepsAbsentApart) {
  EXPECT_EQ(Id(std::nullopt), kAbsent);
  EXPECT_NE(Id(""), kAbsent);
  EXPECT_EQ(Id("abc"), Id(std::string("abc")));
  EXPECT_NE(Id("abc"), Id("abd"));
  EXPECT_EQ(values.Describe(Id(std::nullopt)), "nil");
  EXPECT_EQ(values.Describe(Id("a\"b")), "\"a\\\"b\"");
}

TEST_F(ModelTest, AppendConcatenatesAndTreatsAbsentAsEmpty) {
  EXPECT_EQ(values.Append(kAbsent, Id("x")), Id("x"));
  EXPECT_EQ(values.Append(Id("x"), Id("y")), Id("xy"));
  EXPECT_EQ(values.Append(Id(""), Id("y")), Id("y"));
  // Memoized: the same pair gives the same id again.
  EXPECT_EQ(values.Append(Id("x"), Id("y")), Id("xy"));
}

TEST_F(ModelTest, ReadMustSeeTheState) {
  EXPECT_TRUE(Apply(Read("1", 0, 1), "1").legal);
  EXPECT_FALSE(Apply(Read("1", 0, 1), "2").legal);
  EXPECT_FALSE(Apply(Read("", 0, 1), std::nullopt).legal) << "absent is not the empty string";
  EXPECT_TRUE(Apply(Read(std::nullopt, 0, 1), std::nullopt).legal);
  StepResult r = Apply(Read("1", 0, 1), "1");
  EXPECT_EQ(r.next, Id("1"));
}

TEST_F(ModelTest, ReadWithoutResultAcceptsAnyState) {
  const Operation failed = WithOutcome(Read(std::nullopt, 0, 1), Outcome::kFail);
  EXPECT_TRUE(Apply(failed, "7").legal);
  EXPECT_TRUE(IsInert(failed));
  EXPECT_TRUE(IsInert(WithOutcome(Read(std::nullopt, 0, kNeverReturned), Outcome::kUnknown)));
  EXPECT_FALSE(IsInert(Read("1", 0, 1)));
}

TEST_F(ModelTest, WriteSetsTheStateUnlessItFailed) {
  EXPECT_EQ(Apply(Write("5", 0, 1), "1").next, Id("5"));
  EXPECT_EQ(Apply(WithOutcome(Write("5", 0, 1), Outcome::kUnknown), "1").next, Id("5"));
  EXPECT_EQ(Apply(WithOutcome(Write("5", 0, 1), Outcome::kFail), "1").next, Id("1"));
  EXPECT_TRUE(IsInert(WithOutcome(Write("5", 0, 1), Outcome::kFail)));
}

TEST_F(ModelTest, CasOkNeedsAMatch) {
  StepResult hit = Apply(Cas("1", "2", Outcome::kOk, 0, 1), "1");
  EXPECT_TRUE(hit.legal);
  EXPECT_EQ(hit.next, Id("2"));
  EXPECT_FALSE(Apply(Cas("1", "2", Outcome::kOk, 0, 1), "3").legal);
  EXPECT_TRUE(Apply(Cas(std::nullopt, "2", Outcome::kOk, 0, 1), std::nullopt).legal);
}

TEST_F(ModelTest, CasFailMeansTheComparisonFailed) {
  StepResult miss = Apply(Cas("1", "2", Outcome::kFail, 0, 1), "3");
  EXPECT_TRUE(miss.legal);
  EXPECT_EQ(miss.next, Id("3"));
  EXPECT_FALSE(Apply(Cas("1", "2", Outcome::kFail, 0, 1), "1").legal);
  EXPECT_FALSE(IsInert(Cas("1", "2", Outcome::kFail, 0, 1)));
}

TEST_F(ModelTest, CasUnknownIsAlwaysLegalAndSwapsOnlyOnAMatch) {
  StepResult hit = Apply(Cas("1", "2", Outcome::kUnknown, 0, kNeverReturned), "1");
  EXPECT_TRUE(hit.legal);
  EXPECT_EQ(hit.next, Id("2"));
  StepResult miss = Apply(Cas("1", "2", Outcome::kUnknown, 0, kNeverReturned), "3");
  EXPECT_TRUE(miss.legal);
  EXPECT_EQ(miss.next, Id("3"));
}

TEST_F(ModelTest, AppendExtendsTheState) {
  EXPECT_EQ(Apply(Append("b", 0, 1), "a").next, Id("ab"));
  EXPECT_EQ(Apply(Append("b", 0, 1), std::nullopt).next, Id("b"));
  EXPECT_EQ(Apply(WithOutcome(Append("b", 0, 1), Outcome::kFail), "a").next, Id("a"));
}

}  // namespace
}  // namespace synod::lincheck
