#include "sim/network.h"

#include <gtest/gtest.h>

namespace synod::sim {
namespace {

Network Make(NetworkOptions o = {}) {
  return Network(5, o, Random(7));
}

TEST(Network, AllLinksUpAtStartAndAfterHeal) {
  Network net = Make();
  for (uint32_t a = 1; a <= 5; ++a) {
    for (uint32_t b = 1; b <= 5; ++b) EXPECT_TRUE(net.LinkUp(a, b));
  }
  net.SplitSymmetric((1u << 1) | (1u << 2));
  EXPECT_TRUE(net.AnyCut());
  net.HealAll();
  EXPECT_FALSE(net.AnyCut());
}

TEST(Network, SymmetricSplitCutsBothWaysBetweenSidesOnly) {
  Network net = Make();
  net.SplitSymmetric((1u << 1) | (1u << 2));  // {1,2} | {3,4,5}
  EXPECT_TRUE(net.LinkUp(1, 2));
  EXPECT_TRUE(net.LinkUp(3, 5));
  EXPECT_FALSE(net.LinkUp(1, 3));
  EXPECT_FALSE(net.LinkUp(3, 1));
  EXPECT_FALSE(net.LinkUp(2, 5));
  EXPECT_EQ(net.CutCount(), 12u);  // 2 * 3 pairs, both directions
  EXPECT_EQ(net.Plan(1, 4).copies, 0);
}

TEST(Network, AsymmetricAndOneWayPartitions) {
  Network net = Make();
  net.IsolateInbound(3);  // 3 still talks, hears nobody
  EXPECT_TRUE(net.LinkUp(3, 1));
  EXPECT_FALSE(net.LinkUp(1, 3));
  net.HealAll();
  net.IsolateOutbound(3);  // 3 hears everyone, nobody hears 3
  EXPECT_FALSE(net.LinkUp(3, 1));
  EXPECT_TRUE(net.LinkUp(1, 3));
  net.HealAll();
  net.SetLink(2, 4, false);  // one way
  EXPECT_FALSE(net.LinkUp(2, 4));
  EXPECT_TRUE(net.LinkUp(4, 2));
  EXPECT_EQ(net.DescribeCuts(), "2->4");
  net.SetLink(1, 1, false);  // a node always reaches itself
  EXPECT_TRUE(net.LinkUp(1, 1));
}

TEST(Network, BridgeSeesBothSides) {
  Network net = Make();
  net.SplitWithBridge((1u << 1) | (1u << 2), 3);  // {1,2} | {4,5}, 3 bridges (it is on side 2)
  EXPECT_FALSE(net.LinkUp(1, 4));
  EXPECT_TRUE(net.LinkUp(1, 3));
  EXPECT_TRUE(net.LinkUp(3, 1));
  EXPECT_TRUE(net.LinkUp(5, 3));
}

TEST(Network, LatencyHasAFloorAndATail) {
  NetworkOptions o;
  o.latency_base_us = 100;
  o.latency_tail_mean_us = 400;
  o.slow_probability = 0;
  Network net = Make(o);
  double sum = 0;
  Micros max = 0;
  for (int i = 0; i < 20000; ++i) {
    const Micros d = net.SampleLatency();
    ASSERT_GE(d, 100);
    sum += static_cast<double>(d);
    max = std::max(max, d);
  }
  EXPECT_NEAR(sum / 20000, 500, 25);  // base + exponential mean
  EXPECT_GT(max, 2000);               // a real tail: independent delays reorder messages
}

TEST(Network, LossAndDuplicationRates) {
  NetworkOptions o;
  o.loss_probability = 0.2;
  o.duplicate_probability = 0.1;
  Network net = Make(o);
  int lost = 0, dup = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const SendPlan p = net.Plan(1, 2);
    lost += p.copies == 0;
    dup += p.copies == 2;
  }
  EXPECT_NEAR(lost / double(n), 0.2, 0.02);
  EXPECT_NEAR(dup / double(n), 0.8 * 0.1, 0.015);
}

TEST(Network, SameSeedSameFates) {
  NetworkOptions o;
  o.loss_probability = 0.1;
  o.duplicate_probability = 0.1;
  Network a(3, o, Random(42)), b(3, o, Random(42));
  for (int i = 0; i < 1000; ++i) {
    const SendPlan pa = a.Plan(1, 2), pb = b.Plan(1, 2);
    ASSERT_EQ(pa.copies, pb.copies);
    for (int c = 0; c < pa.copies; ++c) ASSERT_EQ(pa.delays_us[c], pb.delays_us[c]);
  }
}

}  // namespace
}  // namespace synod::sim
