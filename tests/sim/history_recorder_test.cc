#include "sim/history_recorder.h"

#include <gtest/gtest.h>

namespace synod::sim {
namespace {

using lincheck::OpKind;
using lincheck::Outcome;

lincheck::Operation Op(uint64_t client, OpKind kind, int64_t call) {
  lincheck::Operation op;
  op.client = client;
  op.key = "k";
  op.kind = kind;
  op.call = call;
  if (kind != OpKind::kRead) op.value = "v" + std::to_string(call);
  return op;
}

TEST(HistoryRecorder, OutcomesAndDrops) {
  HistoryRecorder h;
  const auto w = h.Invoke(Op(1, OpKind::kWrite, 10));
  const auto r = h.Invoke(Op(2, OpKind::kRead, 11));
  const auto lost = h.Invoke(Op(3, OpKind::kRead, 12));
  const auto maybe = h.Invoke(Op(4, OpKind::kWrite, 13));
  const auto cas = h.Invoke(Op(5, OpKind::kCas, 14));
  const auto open = h.Invoke(Op(6, OpKind::kWrite, 15));
  h.Ok(w, 20, std::nullopt);
  h.Ok(r, 21, std::string("v10"));
  h.Drop(lost);
  h.Unknown(maybe);
  h.CasFailed(cas, 30);
  (void)open;
  const lincheck::History hist = h.Build();
  ASSERT_EQ(hist.ops.size(), 5u);  // the dropped read is gone
  EXPECT_EQ(hist.ops[0].outcome, Outcome::kOk);
  EXPECT_EQ(hist.ops[0].ret, 20);
  EXPECT_EQ(hist.ops[1].output, "v10");
  EXPECT_EQ(hist.ops[2].outcome, Outcome::kUnknown);
  EXPECT_EQ(hist.ops[2].ret, lincheck::kNeverReturned);
  EXPECT_EQ(hist.ops[3].outcome, Outcome::kFail);
  EXPECT_EQ(hist.ops[4].outcome, Outcome::kUnknown);  // still pending at the end
  EXPECT_EQ(h.dropped(), 1u);
  EXPECT_TRUE(lincheck::ValidateHistory(hist).ok());
}

TEST(HistoryRecorderDeathTest, FinishingTwiceIsABug) {
  HistoryRecorder h;
  const auto w = h.Invoke(Op(1, OpKind::kWrite, 10));
  h.Ok(w, 20, std::nullopt);
  EXPECT_DEATH(h.Unknown(w), "twice");
}

}  // namespace
}  // namespace synod::sim
