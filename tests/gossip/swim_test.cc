// Behaviour of the SWIM core, named after the sections of SWIM (Das, Gupta, Motivala 2002) and
// Lifeguard (Dadgar, Phillips, Currey 2018) they check. A tiny in-test network delivers every
// message one tick later unless the test's filter drops it.
#include "gossip/swim.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

namespace synod::gossip {
namespace {

struct Net {
  std::vector<std::unique_ptr<Swim>> nodes;  // member i + 1 at index i
  std::function<bool(const Message&)> drop = [](const Message&) { return false; };
  std::vector<Message> in_flight;
  std::vector<Message> log;  // every message sent
  std::vector<std::pair<MemberId, MemberEvent>> events;
  std::vector<bool> down;

  explicit Net(uint32_t n, Config base = Config{}, bool bootstrap = true) {
    std::vector<Update> all;
    for (uint32_t i = 1; i <= n; ++i) {
      Config c = base;
      c.id = MemberId(i);
      c.random_seed = 1000 + i;
      nodes.push_back(std::make_unique<Swim>(c));
      all.push_back(Update{MemberState::kAlive, MemberId(i), Incarnation(0), MemberId(i), nullptr});
    }
    down.assign(n, false);
    if (bootstrap) {
      for (auto& s : nodes) s->Bootstrap(all);
    }
    Collect();
  }
  Swim& at(uint64_t id) { return *nodes[id - 1]; }
  void Collect() {
    for (auto& s : nodes) {
      for (Message& m : s->TakeMessages()) {
        log.push_back(m);
        if (!drop(m)) in_flight.push_back(std::move(m));
      }
      for (const MemberEvent& e : s->TakeEvents()) events.emplace_back(s->id(), e);
    }
  }
  void Tick() {
    std::vector<Message> due = std::exchange(in_flight, {});
    for (const Message& m : due) {
      if (down[m.to.value - 1]) continue;
      ASSERT_TRUE(at(m.to.value).Step(m).ok());
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!down[i]) nodes[i]->Tick();
    }
    Collect();
  }
  void Run(int ticks) {
    for (int i = 0; i < ticks; ++i) Tick();
  }
  MemberState StateOf(uint64_t observer, uint64_t member) {
    const Member* m = at(observer).members().Find(MemberId(member));
    EXPECT_NE(m, nullptr);
    return m == nullptr ? MemberState::kDead : m->state;
  }
  size_t Count(MessageType t) const {
    size_t c = 0;
    for (const Message& m : log) c += m.type == t ? 1 : 0;
    return c;
  }
};

Config NoBackground() {
  Config c;
  c.push_pull_interval_ticks = 0;
  return c;
}

TEST(Swim, RejectsMessagesForOthers) {
  Swim s(Config{.id = MemberId(1)});
  Message m;
  m.from = MemberId(2);
  m.to = MemberId(3);
  EXPECT_EQ(s.Step(m).code(), ErrorCode::kInvalidArgument);
}

// SWIM §3.1: each period a member pings one other; an ack keeps everyone alive.
TEST(Swim, Sec3_1_HealthyGroupStaysAlive) {
  Net net(5, NoBackground());
  net.Run(20 * 50);
  for (uint64_t a = 1; a <= 5; ++a) {
    for (uint64_t b = 1; b <= 5; ++b) EXPECT_EQ(net.StateOf(a, b), MemberState::kAlive);
  }
  EXPECT_GE(net.Count(MessageType::kPing), 5u * 45);
  EXPECT_EQ(net.Count(MessageType::kPing), net.Count(MessageType::kAck));
  EXPECT_EQ(net.Count(MessageType::kPingReq), 0u);
}

// SWIM §4.3: randomized round-robin probes every other member once per round.
TEST(Swim, Sec4_3_RoundRobinProbesEveryMemberEachRound) {
  Net net(6, NoBackground());
  net.Run(20 * 5 + 20);  // five periods: one round over the five others
  std::vector<int> pinged(7, 0);
  for (const Message& m : net.log) {
    if (m.type == MessageType::kPing && m.from == MemberId(1)) ++pinged[m.to.value];
  }
  for (uint64_t id = 2; id <= 6; ++id) EXPECT_GE(pinged[id], 1) << "member " << id;
}

// SWIM §3.1: a member that misses the direct ack asks k others; their relayed ack counts.
TEST(Swim, Sec3_1_IndirectProbeThroughHelpers) {
  Net net(4, NoBackground());
  // The direct link 1 <-> 2 is cut both ways; 2 is reachable through 3 and 4.
  net.drop = [](const Message& m) {
    return (m.from == MemberId(1) && m.to == MemberId(2)) ||
           (m.from == MemberId(2) && m.to == MemberId(1));
  };
  net.Run(20 * 30);
  EXPECT_GT(net.Count(MessageType::kPingReq), 0u);
  EXPECT_EQ(net.StateOf(1, 2), MemberState::kAlive);
  bool relayed_ack = false;
  for (const Message& m : net.log) {
    relayed_ack |= m.type == MessageType::kAck && m.to == MemberId(1) && m.target == MemberId(2) &&
                   m.from != MemberId(2);
  }
  EXPECT_TRUE(relayed_ack);
}

// Lifeguard §4.3: helpers that cannot reach the target say so (nack).
TEST(Swim, Lifeguard4_3_HelpersNackWhenTargetSilent) {
  Net net(4, NoBackground());
  net.down[3] = true;  // member 4 crashed
  net.Run(20 * 10);
  EXPECT_GT(net.Count(MessageType::kNack), 0u);
  // Nacks arrived, so the healthy members did not blame themselves.
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_LE(net.at(id).health_score(), 1u);
}

// SWIM §4.2: a crashed member is suspected, then declared dead when the timeout expires, and
// every live member learns it.
TEST(Swim, Sec4_2_CrashedMemberSuspectedThenDead) {
  Net net(5, NoBackground());
  net.Run(40);
  net.down[4] = true;  // member 5
  const auto bounds = net.at(1).suspicion_bounds();
  // Worst case: a full round of probes before it is probed, then the longest timeout.
  net.Run(static_cast<int>(20 * 2 * 5 + bounds.max_ticks + 40));
  bool suspected_first = false;
  for (auto& [observer, e] : net.events) {
    if (e.member == MemberId(5) && e.to == MemberState::kSuspect) suspected_first = true;
    if (e.member == MemberId(5) && e.to == MemberState::kDead) {
      EXPECT_TRUE(suspected_first);
    }
  }
  for (uint64_t id = 1; id <= 4; ++id) EXPECT_EQ(net.StateOf(id, 5), MemberState::kDead);
}

// SWIM §4.2: a suspected member refutes with a higher incarnation and stays alive.
TEST(Swim, Sec4_2_SuspectRefutesWithHigherIncarnation) {
  Net net(5, NoBackground());
  net.Run(40);
  // Tell member 1 that 3 accuses 2 of being down.
  Message m;
  m.type = MessageType::kGossip;
  m.from = MemberId(3);
  m.to = MemberId(1);
  m.updates.push_back(Update{MemberState::kSuspect, MemberId(2), Incarnation(0), MemberId(3)});
  ASSERT_TRUE(net.at(1).Step(m).ok());
  EXPECT_EQ(net.StateOf(1, 2), MemberState::kSuspect);
  net.Collect();
  net.Run(20 * 10);
  EXPECT_EQ(net.at(2).incarnation(), Incarnation(1));
  for (uint64_t id = 1; id <= 5; ++id) EXPECT_EQ(net.StateOf(id, 2), MemberState::kAlive);
  // Lifeguard §4.3: having to refute raised member 2's health score at some point.
  bool refuted = false;
  for (auto& [observer, e] : net.events) {
    refuted |= e.member == MemberId(2) && e.to == MemberState::kAlive &&
               e.from == MemberState::kSuspect && e.incarnation == Incarnation(1);
  }
  EXPECT_TRUE(refuted);
}

// SWIM §4.2: news about an older incarnation never overrides newer news.
TEST(Swim, Sec4_2_OlderIncarnationIgnored) {
  Swim s(Config{.id = MemberId(1)});
  std::vector<Update> known{{MemberState::kAlive, MemberId(2), Incarnation(5), MemberId(2)}};
  s.Bootstrap(known);
  Message m;
  m.type = MessageType::kGossip;
  m.from = MemberId(3);
  m.to = MemberId(1);
  m.updates.push_back(Update{MemberState::kSuspect, MemberId(2), Incarnation(4), MemberId(3)});
  m.updates.push_back(Update{MemberState::kDead, MemberId(2), Incarnation(3), MemberId(3)});
  ASSERT_TRUE(s.Step(m).ok());
  EXPECT_EQ(s.members().Find(MemberId(2))->state, MemberState::kAlive);
  m.updates = {Update{MemberState::kDead, MemberId(2), Incarnation(5), MemberId(3)}};
  ASSERT_TRUE(s.Step(m).ok());
  EXPECT_EQ(s.members().Find(MemberId(2))->state, MemberState::kDead);
  // A new incarnation brings a dead member back (it restarted and refuted).
  m.updates = {Update{MemberState::kAlive, MemberId(2), Incarnation(6), MemberId(2)}};
  ASSERT_TRUE(s.Step(m).ok());
  EXPECT_EQ(s.members().Find(MemberId(2))->state, MemberState::kAlive);
}

// Lifeguard §4.2: independent confirmations shorten the suspicion timeout.
TEST(Swim, Lifeguard4_2_ConfirmationsShortenTimeout) {
  auto run = [](int confirmers) {
    Net net(20, NoBackground());
    net.down[19] = true;  // member 20 never answers, but only member 1 may judge it
    net.drop = [](const Message& m) { return m.type == MessageType::kGossip; };
    Message m;
    m.type = MessageType::kGossip;
    m.to = MemberId(1);
    for (int c = 0; c <= confirmers; ++c) {
      m.from = MemberId(static_cast<uint64_t>(2 + c));
      m.updates = {Update{MemberState::kSuspect, MemberId(20), Incarnation(0), m.from}};
      EXPECT_TRUE(net.at(1).Step(m).ok());
    }
    for (int t = 1; t < 1000; ++t) {
      net.at(1).Tick();
      (void)net.at(1).TakeMessages();
      if (net.at(1).members().Find(MemberId(20))->state == MemberState::kDead) return t;
    }
    return 1000;
  };
  const int none = run(0);
  const int one = run(1);
  const int all = run(2);
  EXPECT_GT(none, one);
  EXPECT_GT(one, all);
  // With K = suspicion_confirmations_max confirmations the minimum applies.
  const Config defaults;
  EXPECT_EQ(static_cast<uint64_t>(all),
            ComputeSuspicionBounds(20, defaults.probe_interval_ticks,
                                   defaults.suspicion_min_mult_percent, defaults.suspicion_max_mult)
                .min_ticks);
}

// Lifeguard §4.3: a member that gets no acks and no nacks back (it is the slow one) raises its
// health score and probes less often.
TEST(Swim, Lifeguard4_3_SlowMemberBacksOff) {
  Net net(6, NoBackground());
  // Member 1 hears nothing at all (its inbound is dead), but its messages go out.
  net.drop = [](const Message& m) { return m.to == MemberId(1); };
  net.Run(20 * 12);
  EXPECT_GE(net.at(1).health_score(), 4u);
  EXPECT_GE(net.at(1).probe_interval_now_ticks(), 20u * 5);
  EXPECT_EQ(net.at(2).health_score(), 0u);
  // No helper answered it, not even with a nack: it blamed itself and accused nobody.
  for (auto& [observer, e] : net.events) {
    if (observer == MemberId(1)) {
      EXPECT_NE(e.to, MemberState::kSuspect) << "member 1 accused " << e.member;
    }
  }
}

// Lifeguard §4.4: a ping to a suspect carries the suspicion, so the suspect can refute at once.
TEST(Swim, Lifeguard4_4_PingToSuspectCarriesSuspicion) {
  Net net(3, NoBackground());
  Message m;
  m.type = MessageType::kGossip;
  m.from = MemberId(3);
  m.to = MemberId(1);
  m.updates = {Update{MemberState::kSuspect, MemberId(2), Incarnation(0), MemberId(3)}};
  ASSERT_TRUE(net.at(1).Step(m).ok());
  net.Collect();
  net.log.clear();
  net.Run(20 * 3);
  bool carried = false;
  for (const Message& sent : net.log) {
    if (sent.from != MemberId(1) || sent.to != MemberId(2)) continue;
    for (const Update& u : sent.updates)
      carried |= u.state == MemberState::kSuspect && u.member == MemberId(2);
  }
  EXPECT_TRUE(carried);
}

// SWIM §4.1: an update reaches everyone, and each member sends it a bounded number of times.
TEST(Swim, Sec4_1_DisseminationIsBounded) {
  Net net(30, NoBackground());
  net.Run(40);
  net.at(7).UpdateMeta(
      std::make_shared<const MemberMeta>(MemberMeta{"10.0.0.7:2380", "b", {"voter"}}));
  net.Collect();
  net.log.clear();
  net.Run(20 * 10);
  size_t carried = 0;
  for (const Message& m : net.log) {
    for (const Update& u : m.updates) carried += u.member == MemberId(7) ? 1 : 0;
  }
  for (uint64_t id = 1; id <= 30; ++id) {
    const Member* m = net.at(id).members().Find(MemberId(7));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->incarnation, Incarnation(1));
    if (id != 7) {
      ASSERT_NE(m->meta, nullptr);
      EXPECT_EQ(m->meta->zone, "b");
      EXPECT_EQ(m->meta->roles, std::vector<std::string>{"voter"});
    }
  }
  // retransmit_mult * ceil(log10(31)) = 12 sends per member at most.
  EXPECT_LE(carried, 30u * 12);
  for (uint64_t id = 1; id <= 30; ++id) EXPECT_EQ(net.at(id).pending_broadcasts(), 0u);
}

// Join through a seed: the newcomer learns everyone by push-pull, everyone learns it by gossip.
TEST(Swim, JoinThroughSeed) {
  Config c = NoBackground();
  Net net(6, c, /*bootstrap=*/false);
  const MemberId seed[] = {MemberId(1)};
  for (uint64_t id = 2; id <= 6; ++id) net.at(id).Join(seed);
  net.Collect();
  net.Run(20 * 10);
  for (uint64_t a = 1; a <= 6; ++a) {
    EXPECT_EQ(net.at(a).members().size(), 6u) << "member " << a;
    EXPECT_EQ(net.at(a).members().live_others(), 5u);
  }
}

// Periodic push-pull repairs what gossip lost.
TEST(Swim, PushPullRepairsMissedGossip) {
  Config c;
  c.push_pull_interval_ticks = 40;
  Net net(4, c);
  net.drop = [](const Message& m) {
    return m.type != MessageType::kPushPull && m.type != MessageType::kPushPullReply &&
           m.to == MemberId(4);
  };
  net.at(2).UpdateMeta(nullptr);
  net.Collect();
  net.Run(20 * 3);
  net.drop = [](const Message& m) {
    return m.to == MemberId(4) && m.type != MessageType::kPushPull &&
           m.type != MessageType::kPushPullReply && m.type != MessageType::kPing;
  };
  net.Run(40 * 8);
  EXPECT_GE(net.at(2).incarnation(), Incarnation(1));
  EXPECT_EQ(net.at(4).members().Find(MemberId(2))->incarnation, net.at(2).incarnation());
}

// Graceful leave: the others record "left", never "dead".
TEST(Swim, GracefulLeave) {
  Net net(5, NoBackground());
  net.Run(40);
  net.at(3).Leave();
  net.Collect();
  for (int t = 0; t < 20 * 5 && !net.at(3).left_drained(); ++t) net.Tick();
  EXPECT_TRUE(net.at(3).left_drained());
  net.down[2] = true;
  net.Run(20 * 20);
  for (uint64_t id : {1, 2, 4, 5}) EXPECT_EQ(net.StateOf(id, 3), MemberState::kLeft);
  for (auto& [observer, e] : net.events) {
    if (e.member == MemberId(3)) {
      EXPECT_NE(e.to, MemberState::kDead);
    }
  }
}

// A restarted member (same id, incarnation 0) hears it was declared dead and refutes.
TEST(Swim, RestartedMemberRefutesItsDeath) {
  Net net(4, NoBackground());
  net.Run(40);
  net.down[3] = true;
  net.Run(20 * 20);
  ASSERT_EQ(net.StateOf(1, 4), MemberState::kDead);
  Config c = NoBackground();
  c.id = MemberId(4);
  c.random_seed = 99;
  net.nodes[3] = std::make_unique<Swim>(c);
  net.down[3] = false;
  const MemberId seed[] = {MemberId(1)};
  net.at(4).Join(seed);
  net.Collect();
  net.Run(20 * 10);
  EXPECT_GT(net.at(4).incarnation(), Incarnation(0));
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_EQ(net.StateOf(id, 4), MemberState::kAlive);
}

}  // namespace
}  // namespace synod::gossip
