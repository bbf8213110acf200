// Transactions: compares on every target with every operator, missing keys and key ranges in
// compares, branches, one revision for all writes, reads that see earlier writes, nesting,
// the duplicate-key rule, atomicity on failure, and read-only transactions.
#include <gtest/gtest.h>

#include "test_util.h"

namespace synod::mvcc {
namespace {

using testing::CompareValue;
using testing::CompareVersion;
using testing::DeleteOf;
using testing::KeysOf;
using testing::Op;
using testing::PutOf;
using testing::RangeOf;
using testing::TestStore;
using testing::Zero;

constexpr CompareResult kEq = CompareResult::kEqual;
constexpr CompareResult kNe = CompareResult::kNotEqual;
constexpr CompareResult kGt = CompareResult::kGreater;
constexpr CompareResult kLt = CompareResult::kLess;

TxnRequest If(std::vector<Compare> compare, std::vector<RequestOp> then_ops,
              std::vector<RequestOp> else_ops = {}) {
  TxnRequest t;
  t.compare = std::move(compare);
  t.success = std::move(then_ops);
  t.failure = std::move(else_ops);
  return t;
}

Compare On(std::string key, CompareTarget target, CompareResult result, int64_t operand) {
  Compare c;
  c.key = std::move(key);
  c.target = target;
  c.result = result;
  c.version = c.create_revision = c.mod_revision = c.lease = operand;
  return c;
}

class TxnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LeaseGrantRequest g;
    g.id = 9;
    g.ttl_seconds = 60;
    s.MustApply(g);
    s.Put("a", "apple");     // 2
    s.Put("a", "avocado");   // 3: a create 2, mod 3, version 2
    s.Put("b", "banana", 9);  // 4: lease 9
  }

  bool Holds(const Compare& c) {
    auto r = s->ReadTxn(If({c}, {}));
    SYNOD_ASSERT(r.ok(), "read txn failed");
    return r.value().result.succeeded;
  }

  TestStore s;
};

TEST_F(TxnTest, CompareEveryTargetWithEveryOperator) {
  struct Case {
    CompareTarget target;
    int64_t actual;
  };
  for (const Case& c : {Case{CompareTarget::kVersion, 2}, Case{CompareTarget::kCreate, 2},
                        Case{CompareTarget::kMod, 3}}) {
    EXPECT_TRUE(Holds(On("a", c.target, kEq, c.actual)));
    EXPECT_FALSE(Holds(On("a", c.target, kEq, c.actual + 1)));
    EXPECT_TRUE(Holds(On("a", c.target, kNe, c.actual + 1)));
    EXPECT_FALSE(Holds(On("a", c.target, kNe, c.actual)));
    EXPECT_TRUE(Holds(On("a", c.target, kGt, c.actual - 1)));
    EXPECT_FALSE(Holds(On("a", c.target, kGt, c.actual)));
    EXPECT_TRUE(Holds(On("a", c.target, kLt, c.actual + 1)));
    EXPECT_FALSE(Holds(On("a", c.target, kLt, c.actual)));
  }
  EXPECT_TRUE(Holds(On("b", CompareTarget::kLease, kEq, 9)));
  EXPECT_TRUE(Holds(On("a", CompareTarget::kLease, kEq, 0)));
  EXPECT_TRUE(Holds(On("b", CompareTarget::kLease, kGt, 8)));
  EXPECT_TRUE(Holds(CompareValue("a", kEq, "avocado")));
  EXPECT_FALSE(Holds(CompareValue("a", kEq, "apple")));
  EXPECT_TRUE(Holds(CompareValue("a", kGt, "apple")));
  EXPECT_TRUE(Holds(CompareValue("a", kLt, "b")));
  EXPECT_TRUE(Holds(CompareValue("a", kNe, "")));
}

TEST_F(TxnTest, MissingKeysCompareAsZeroButNeverByValue) {
  EXPECT_TRUE(Holds(CompareVersion("zz", kEq, 0)));
  EXPECT_TRUE(Holds(On("zz", CompareTarget::kCreate, kEq, 0)));
  EXPECT_TRUE(Holds(On("zz", CompareTarget::kMod, kLt, 1)));
  EXPECT_TRUE(Holds(On("zz", CompareTarget::kLease, kEq, 0)));
  EXPECT_FALSE(Holds(CompareValue("zz", kEq, "")));
  EXPECT_FALSE(Holds(CompareValue("zz", kNe, "x")));
}

TEST_F(TxnTest, RangeComparesNeedEveryKey) {
  Compare c = CompareVersion("a", kGt, 0);
  c.range_end = "c";
  EXPECT_TRUE(Holds(c));
  c.result = kEq;
  c.version = 2;
  EXPECT_FALSE(Holds(c));  // b has version 1
  c.range_end = Zero();
  c.result = kLt;
  c.version = 3;
  EXPECT_TRUE(Holds(c));
  Compare empty = CompareVersion("x", kEq, 0);
  empty.range_end = "y";
  EXPECT_TRUE(Holds(empty));  // no key: compares the zero version
}

TEST_F(TxnTest, BranchesShareOneRevisionAndSeeEarlierWrites) {
  TxnRequest t = If({CompareValue("a", kEq, "avocado")},
                    {Op(PutOf("c", "1")), Op(RangeOf("c")), Op(DeleteOf("a")),
                     Op(RangeOf("a", Zero())), Op(PutOf("d", "2"))},
                    {Op(PutOf("never", "x"))});
  ApplyResult r = s.MustApply(t);
  EXPECT_EQ(r.revision, 5);
  const auto& tr = std::get<TxnResult>(r.result);
  ASSERT_TRUE(tr.succeeded);
  ASSERT_EQ(tr.responses.size(), 5u);
  const auto& seen_c = std::get<RangeResult>(tr.responses[1].response);
  EXPECT_EQ(seen_c.kvs, (std::vector<KeyValue>{{"c", 5, 5, 1, "1", 0}}));
  const auto& after_delete = std::get<RangeResult>(tr.responses[3].response);
  EXPECT_EQ(KeysOf(after_delete.kvs), (std::vector<std::string>{"b", "c"}));
  ASSERT_EQ(r.events.size(), 3u);
  for (const Event& e : r.events) EXPECT_EQ(e.kv.mod_revision, 5);
  EXPECT_EQ(r.events[1].type, EventType::kDelete);
  EXPECT_EQ(KeysOf(s.All()), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_FALSE(s.Get("never").has_value());
}

TEST_F(TxnTest, FailureBranchRunsWhenACompareFails) {
  TxnRequest t = If({CompareVersion("a", kEq, 2), CompareVersion("b", kEq, 7)},
                    {Op(PutOf("x", "then"))}, {Op(PutOf("x", "else")), Op(RangeOf("x"))});
  ApplyResult r = s.MustApply(t);
  const auto& tr = std::get<TxnResult>(r.result);
  EXPECT_FALSE(tr.succeeded);
  EXPECT_EQ(s.Get("x")->value, "else");
  EXPECT_EQ(std::get<RangeResult>(tr.responses[1].response).kvs.size(), 1u);
}

TEST_F(TxnTest, ReadOnlyTxnKeepsTheRevision) {
  ApplyResult r = s.MustApply(If({}, {Op(RangeOf("a"))}));
  EXPECT_EQ(r.revision, 4);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(s->revision(), 4);
}

TEST_F(TxnTest, RangesAtPastRevisionsInsideATxn) {
  RangeRequest past = RangeOf("a");
  past.revision = 2;
  ApplyResult r = s.MustApply(If({}, {Op(PutOf("a", "new")), Op(past)}));
  const auto& tr = std::get<TxnResult>(r.result);
  EXPECT_EQ(std::get<RangeResult>(tr.responses[1].response).kvs[0].value, "apple");
  RangeRequest future = RangeOf("a");
  future.revision = 6;  // the txn's own revision is still in the future for its reads
  auto bad = s.Apply(If({}, {Op(PutOf("c", "1")), Op(future)}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::kFutureRevision);
  EXPECT_FALSE(s.Get("c").has_value());
}

TEST_F(TxnTest, NestedTxnsRunInTheSameRevision) {
  TxnRequest inner = If({CompareValue("c", kEq, "1")},  // sees the outer put
                        {Op(PutOf("d", "inner-then"))}, {Op(PutOf("d", "inner-else"))});
  TxnRequest outer = If({}, {Op(PutOf("c", "1")), Op(inner), Op(RangeOf("d"))});
  ApplyResult r = s.MustApply(outer);
  EXPECT_EQ(r.revision, 5);
  const auto& tr = std::get<TxnResult>(r.result);
  const auto& nested = std::get<TxnResult>(tr.responses[1].response);
  EXPECT_TRUE(nested.succeeded);
  EXPECT_EQ(std::get<RangeResult>(tr.responses[2].response).kvs[0].value, "inner-then");
  EXPECT_EQ(s.Get("d")->mod_revision, 5);
  EXPECT_EQ(r.events.size(), 2u);
}

TEST_F(TxnTest, DuplicateKeysAreRejected) {
  auto code = [&](const TxnRequest& t) {
    auto r = s.Apply(t);
    return r.ok() ? std::optional<Errc>() : std::optional<Errc>(r.error().code());
  };
  const auto dup = std::optional<Errc>(Errc::kDuplicateKey);
  EXPECT_EQ(code(If({}, {Op(PutOf("k", "1")), Op(PutOf("k", "2"))})), dup);
  EXPECT_EQ(code(If({}, {Op(DeleteOf("a", "z")), Op(PutOf("k", "1"))})), dup);
  EXPECT_EQ(code(If({}, {Op(PutOf("k", "1")), Op(DeleteOf("k"))})), dup);
  EXPECT_EQ(code(If({}, {Op(PutOf("k", "1")), Op(DeleteOf("j", Zero()))})), dup);
  // Through nesting, in either order.
  EXPECT_EQ(code(If({}, {Op(PutOf("k", "1")), Op(If({}, {Op(PutOf("k", "2"))}))})), dup);
  EXPECT_EQ(code(If({}, {Op(If({}, {}, {Op(DeleteOf("k"))})), Op(PutOf("k", "2"))})), dup);
  EXPECT_EQ(code(If({}, {Op(If({}, {Op(PutOf("k", "1"))})), Op(If({}, {Op(DeleteOf("k"))}))})),
            dup);
  // Within either top-level branch.
  EXPECT_EQ(code(If({}, {}, {Op(PutOf("k", "1")), Op(PutOf("k", "2"))})), dup);
  EXPECT_EQ(s->revision(), 4);

  // Allowed: the two branches of one txn, deletes overlapping deletes, different keys.
  EXPECT_EQ(code(If({}, {Op(If({}, {Op(PutOf("k", "1"))}, {Op(PutOf("k", "2"))}))})),
            std::nullopt);
  EXPECT_EQ(code(If({}, {Op(PutOf("k", "3"))}, {Op(PutOf("k", "4"))})), std::nullopt);
  EXPECT_EQ(code(If({}, {Op(DeleteOf("a", "c")), Op(DeleteOf("a"))})), std::nullopt);
  EXPECT_EQ(code(If({}, {Op(DeleteOf("a", "c")), Op(PutOf("c", "1"))})), std::nullopt);
}

TEST_F(TxnTest, TooManyOps) {
  std::vector<RequestOp> ops;
  for (int i = 0; i < 129; ++i) ops.push_back(Op(RangeOf("a")));
  auto r = s.Apply(If({}, ops));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTooManyOps);
  ops.pop_back();
  EXPECT_TRUE(s.Apply(If({}, ops)).ok());
}

TEST_F(TxnTest, AFailingOpUndoesTheWholeTxn) {
  auto r = s.Apply(If({}, {Op(PutOf("x", "1")), Op(DeleteOf("a")), Op(PutOf("y", "1", 404))}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kLeaseNotFound);
  EXPECT_EQ(s->revision(), 4);
  EXPECT_FALSE(s.Get("x").has_value());
  EXPECT_TRUE(s.Get("a").has_value());
}

TEST_F(TxnTest, ReadTxnRefusesWrites) {
  auto r = s->ReadTxn(If({}, {Op(If({}, {}, {Op(PutOf("x", "1"))}))}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  auto ok = s->ReadTxn(If({CompareVersion("a", kEq, 2)}, {Op(RangeOf("a", Zero()))}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value().revision, 4);
  EXPECT_EQ(std::get<RangeResult>(ok.value().result.responses[0].response).count, 2);
}

}  // namespace
}  // namespace synod::mvcc
