// The watch hub's edges: KvMachine feeding it (applies, snapshot installs) and the conversion
// of its responses to the wire (fragments).
#include <gtest/gtest.h>

#include "mvcc/test_util.h"
#include "server/command.pb.h"
#include "server/kv_machine.h"
#include "server/snapshot_files.h"
#include "server/watch_convert.h"
#include "server/watch_hub.h"

namespace synod::server {
namespace {

std::string PutCommand(const std::string& key, const std::string& value) {
  serverpb::Command c;
  c.mutable_put()->set_key(key);
  c.mutable_put()->set_value(value);
  return c.SerializeAsString();
}

// KvMachine as the hub's source: each apply's events, and a snapshot install (Restore) after
// which the hub reads what it missed from the new store.
TEST(WatchHubKvMachine, AppliesAndSnapshotInstallsReachWatchers) {
  mvcc::testing::TempDir dir;
  struct Member {
    std::unique_ptr<KvMachine> kv;
    std::unique_ptr<WatchHub> hub;
    std::shared_ptr<WatchStream> stream;
  };
  auto open = [&](const std::string& name) {
    auto m = std::make_unique<Member>();
    WatchHistory h;
    Member* raw = m.get();
    h.read_events = [raw](const mvcc::EventsRequest& r) {
      return raw->kv->Read([&](const mvcc::Store& store) { return store.ReadEvents(r); });
    };
    h.compact_revision = [raw] {
      return raw->kv->Read([](const mvcc::Store& store) { return store.compact_revision(); });
    };
    m->hub = std::make_unique<WatchHub>(WatchHubOptions{}, std::move(h));
    KvMachineOptions o;
    o.dir = dir.Sub(name);
    o.observer = m->hub.get();
    auto kv = KvMachine::Open(o);
    SYNOD_ASSERT(kv.ok(), "open");
    m->kv = std::move(kv.value());
    m->stream = m->hub->OpenStream(nullptr);
    WatchCreate c;
    c.key = "k";
    m->hub->Create(*m->stream, c);
    return m;
  };
  auto values = [](Member& m) {
    std::vector<std::string> out;
    while (auto r = m.hub->Pop(*m.stream)) {
      for (const auto& e : r->events) out.push_back(e->kv.value);
    }
    return out;
  };
  auto a = open("a");
  EXPECT_EQ(a->hub->revision(), 1);
  (void)a->kv->Apply(raft::LogIndex(1), PutCommand("k", "v1"));
  (void)a->kv->Apply(raft::LogIndex(2), PutCommand("other", "x"));
  EXPECT_EQ(values(*a), (std::vector<std::string>{"v1"}));
  EXPECT_EQ(a->hub->revision(), 3);

  auto b = open("b");
  auto descriptor = a->kv->Snapshot();
  ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  auto image = ReadSnapshotFile(a->kv->snapshots_dir(), descriptor.value());  // as sent to b
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_TRUE(b->kv->Restore(image.value(), raft::LogIndex(2)).ok());
  EXPECT_EQ(b->hub->revision(), 3);
  EXPECT_EQ(b->hub->unsynced_watchers(), 1u);
  (void)b->hub->Sync();
  (void)b->kv->Apply(raft::LogIndex(3), PutCommand("k", "v2"));
  EXPECT_EQ(values(*b), (std::vector<std::string>{"v1", "v2"}));
}

TEST(WatchConvert, LargeResponsesAreFragmentedOnlyWhenAllowed) {
  auto batch = std::make_shared<std::vector<mvcc::Event>>();
  for (int i = 0; i < 10; ++i) {
    mvcc::Event e;
    e.kv.key = "key" + std::to_string(i);
    e.kv.value = std::string(1000, 'v');
    e.kv.mod_revision = 5;
    batch->push_back(e);
  }
  WatchEvents r;
  r.watch_id = 3;
  r.revision = 5;
  for (const mvcc::Event& e : *batch) r.events.emplace_back(batch, &e);
  WatchHeaderFields h{1, 2, 3};
  EXPECT_EQ(ToWire(r, h, 2500).size(), 1u);  // not allowed
  r.fragment = true;
  auto pieces = ToWire(r, h, 2500);
  ASSERT_EQ(pieces.size(), 5u);
  int events = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(pieces[i].fragment(), i + 1 < pieces.size());
    EXPECT_LT(pieces[i].ByteSizeLong(), 2500u);
    EXPECT_EQ(pieces[i].watch_id(), 3);
    EXPECT_EQ(pieces[i].header().revision(), 5);
    EXPECT_EQ(pieces[i].header().member_id(), 2u);
    events += pieces[i].events_size();
  }
  EXPECT_EQ(events, 10);
  EXPECT_EQ(ToWire(r, h, 1 << 20).size(), 1u);  // small enough
}

}  // namespace
}  // namespace synod::server
