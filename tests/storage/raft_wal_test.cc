// RaftWal: what it persists from Readies rebuilds the same MemoryStorage after reopening,
// through suffix replacement, installed and local snapshots, segment release, torn tails,
// several groups, and a real RawNode restarted from it.
#include "storage/raft_wal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "raft/raw_node.h"
#include "storage/segment_format.h"
#include "test_util.h"

namespace synod::storage {
namespace {

using raft::Entry;
using raft::EntryType;
using raft::GroupId;
using raft::HardState;
using raft::LogIndex;
using raft::MemoryStorage;
using raft::NodeId;
using raft::Payload;
using raft::Term;
using testing::ReadFile;
using testing::SegmentPaths;
using testing::TempDir;
using testing::WriteFile;

RaftWalOptions SmallOptions() {
  RaftWalOptions o;
  o.writer.wal.segment_bytes = 32 << 10;
  o.writer.wal.record_bytes_max = 8 << 10;
  o.writer.wal.write_buffer_bytes = 16 << 10;
  o.writer.pending_bytes_max = 1 << 20;
  return o;
}

RaftWal::Opened MustOpen(const std::string& dir, const RaftWalOptions& o = SmallOptions()) {
  Result<RaftWal::Opened> r = RaftWal::Open(dir, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.status().ToString());
  return r.ok() ? std::move(r.value()) : RaftWal::Opened{};
}

std::vector<Entry> Ents(uint64_t first, uint64_t last, uint64_t term, size_t size = 20) {
  std::vector<Entry> out;
  for (uint64_t i = first; i <= last; ++i) {
    std::string data = "i" + std::to_string(i) + "t" + std::to_string(term);
    data.resize(std::max(data.size(), size), '#');
    out.push_back(Entry{Term(term), LogIndex(i), EntryType::kNormal, Payload(data)});
  }
  return out;
}

raft::Snapshot Snap(uint64_t index, uint64_t term) {
  raft::Snapshot s;
  s.metadata.index = LogIndex(index);
  s.metadata.term = Term(term);
  s.metadata.conf_state.voters = {NodeId(1), NodeId(2), NodeId(3)};
  s.data = Payload("state@" + std::to_string(index));
  return s;
}

// Everything a node reads from its Storage, compared field by field.
void ExpectSameStorage(const MemoryStorage& want, const MemoryStorage& got) {
  EXPECT_EQ(got.hard_state(), want.hard_state());
  EXPECT_EQ(got.GetSnapshot(), want.GetSnapshot());
  EXPECT_EQ(got.GetInitialState().conf_state, want.GetInitialState().conf_state);
  ASSERT_EQ(got.FirstIndex(), want.FirstIndex());
  ASSERT_EQ(got.LastIndex(), want.LastIndex());
  EXPECT_EQ(got.TermOf(got.FirstIndex() - 1).value(), want.TermOf(want.FirstIndex() - 1).value());
  if (want.LastIndex() >= want.FirstIndex()) {
    EXPECT_EQ(got.Entries(got.FirstIndex(), got.LastIndex() + 1, UINT64_MAX).value(),
              want.Entries(want.FirstIndex(), want.LastIndex() + 1, UINT64_MAX).value());
  }
}

// What a node does with a Ready's persist step, applied to the reference storage.
struct Step {
  std::optional<HardState> hs;
  std::vector<Entry> entries;
  std::optional<raft::Snapshot> snapshot;
};

void ApplyToReference(MemoryStorage* ref, const Step& s) {
  if (s.snapshot) {
    ASSERT_TRUE(ref->ApplySnapshot(*s.snapshot));
  }
  ref->Append(s.entries);
  if (s.hs) ref->SetHardState(*s.hs);
}

void Save(RaftWal* wal, GroupId g, const Step& s) {
  Result<uint64_t> lsn = wal->Save(g, s.hs, s.entries, s.snapshot, /*sync=*/true);
  ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
  ASSERT_TRUE(wal->Wait(lsn.value()).ok());
}

TEST(RaftWal, ReadySequenceRebuildsTheSameStorage) {
  TempDir dir;
  const GroupId g(1);
  MemoryStorage ref;
  const std::vector<Step> steps = {
      {HardState{Term(1), NodeId(1), LogIndex(0)}, Ents(1, 10, 1), std::nullopt},
      {HardState{Term(1), NodeId(1), LogIndex(6)}, {}, std::nullopt},
      // A new leader overwrites the uncommitted suffix from index 8.
      {HardState{Term(2), NodeId(2), LogIndex(7)}, Ents(8, 12, 2), std::nullopt},
      {HardState{Term(2), NodeId(2), LogIndex(12)}, Ents(13, 13, 2), std::nullopt},
      // Far behind: the leader sends a snapshot, which replaces the log.
      {HardState{Term(3), NodeId(3), LogIndex(40)}, Ents(41, 45, 3), Snap(40, 3)},
      {HardState{Term(3), NodeId(3), LogIndex(44)}, Ents(44, 46, 4), std::nullopt},
  };
  {
    RaftWal::Opened o = MustOpen(dir.path());
    EXPECT_TRUE(o.groups.empty());
    for (const Step& s : steps) {
      ApplyToReference(&ref, s);
      Save(o.wal.get(), g, s);
    }
    ASSERT_TRUE(o.wal->Close().ok());
  }
  RaftWal::Opened o = MustOpen(dir.path());
  ASSERT_EQ(o.groups.size(), 1u);
  ExpectSameStorage(ref, *o.groups.at(g));
  EXPECT_EQ(o.groups.at(g)->FirstIndex(), LogIndex(41));
  EXPECT_EQ(o.groups.at(g)->TermOf(LogIndex(45)).value(), Term(4));
}

TEST(RaftWal, PersistTakesAReadyAndEntriesSplitAcrossRecords) {
  TempDir dir;
  const GroupId g(5);
  MemoryStorage ref;
  {
    RaftWal::Opened o = MustOpen(dir.path());
    raft::Ready rd;
    rd.entries = Ents(1, 40, 1, 1000);  // ~40 KB, more than one 8 KiB record and one segment
    rd.hard_state = HardState{Term(1), NodeId(1), LogIndex(3)};
    rd.must_sync = true;
    ASSERT_TRUE(o.wal->Persist(g, rd).ok());
    ref.Append(rd.entries);
    ref.SetHardState(*rd.hard_state);
    EXPECT_GT(o.wal->writer().segments().size(), 1u);
    ASSERT_TRUE(o.wal->Persist(g, raft::Ready{}).ok());  // nothing to write is fine
  }
  RaftWal::Opened o = MustOpen(dir.path());
  ExpectSameStorage(ref, *o.groups.at(g));
}

TEST(RaftWal, EntryTooLargeForARecordIsRefused) {
  TempDir dir;
  RaftWal::Opened o = MustOpen(dir.path());
  const std::vector<Entry> big = Ents(1, 1, 1, 9 << 10);
  Result<uint64_t> r = o.wal->Save(GroupId(1), std::nullopt, big, std::nullopt, true);
  EXPECT_EQ(r.status().code(), ErrorCode::kLimitExceeded);
}

TEST(RaftWal, GroupsShareOneWalAndRecoverApart) {
  TempDir dir;
  std::map<GroupId, MemoryStorage> refs;
  {
    RaftWal::Opened o = MustOpen(dir.path());
    for (uint64_t round = 0; round < 5; ++round) {
      for (uint64_t g = 1; g <= 3; ++g) {
        Step s{HardState{Term(g), NodeId(g), LogIndex(round * 3)},
               Ents(round * 4 + 1, round * 4 + 4, g), std::nullopt};
        ApplyToReference(&refs[GroupId(g)], s);
        Save(o.wal.get(), GroupId(g), s);
      }
    }
  }
  RaftWal::Opened o = MustOpen(dir.path());
  ASSERT_EQ(o.groups.size(), 3u);
  for (const auto& [g, ref] : refs) ExpectSameStorage(ref, *o.groups.at(g));
}

TEST(RaftWal, ReleaseDropsSegmentsBehindASavedSnapshot) {
  TempDir dir;
  const GroupId g(1);
  MemoryStorage ref;
  {
    RaftWal::Opened o = MustOpen(dir.path());
    for (uint64_t i = 1; i <= 200; i += 10) {
      Step s{HardState{Term(1), NodeId(1), LogIndex(i + 9)}, Ents(i, i + 9, 1, 700),
             std::nullopt};
      ApplyToReference(&ref, s);
      Save(o.wal.get(), g, s);
    }
    const size_t before = o.wal->writer().segments().size();
    ASSERT_GE(before, 4u);
    EXPECT_EQ(o.wal->ReleaseTo(g, LogIndex(150)).code(), ErrorCode::kInvalidArgument);

    ASSERT_TRUE(ref.CreateSnapshot(LogIndex(150), Snap(0, 0).metadata.conf_state,
                                   Payload("state@150")).ok());
    ASSERT_TRUE(ref.Compact(LogIndex(150)).ok());
    ASSERT_TRUE(o.wal->SaveSnapshot(g, ref.GetSnapshot()).ok());
    ASSERT_TRUE(o.wal->ReleaseTo(g, LogIndex(150)).ok());
    const size_t after = o.wal->writer().segments().size();
    EXPECT_LT(after, before);
    EXPECT_GE(after, 2u);  // entries 151..200 and the snapshot record stay
  }
  RaftWal::Opened o = MustOpen(dir.path());
  ExpectSameStorage(ref, *o.groups.at(g));
}

// Cuts the WAL inside the records of the last Ready at every byte: recovery must give the
// state before that Ready or one of the prefixes the ordering contract allows.
TEST(RaftWal, TornLastReadyLeavesAnAllowedPrefix) {
  TempDir dir;
  const GroupId g(1);
  MemoryStorage before;
  MemoryStorage with_entries;
  MemoryStorage after;
  const Step first{HardState{Term(1), NodeId(1), LogIndex(5)}, Ents(1, 5, 1), std::nullopt};
  const Step last{HardState{Term(2), NodeId(1), LogIndex(7)}, Ents(4, 8, 2), std::nullopt};
  ApplyToReference(&before, first);
  ApplyToReference(&with_entries, first);
  with_entries.Append(last.entries);
  ApplyToReference(&after, first);
  ApplyToReference(&after, last);
  uint64_t last_start = 0;
  {
    RaftWal::Opened o = MustOpen(dir.path());
    Save(o.wal.get(), g, first);
    ASSERT_TRUE(o.wal->Close().ok());
  }
  const std::string path = SegmentPaths(dir.path()).at(0);
  {
    const std::string bytes = ReadFile(path);
    last_start = bytes.find_last_not_of('\0') + 1;
    RaftWal::Opened o = MustOpen(dir.path());
    Save(o.wal.get(), g, last);
  }
  const std::string pristine = ReadFile(path);
  const uint64_t last_end = pristine.find_last_not_of('\0') + 1;
  ASSERT_GT(last_end, last_start);
  for (uint64_t cut = last_start; cut <= last_end; ++cut) {
    WriteFile(path, pristine.substr(0, cut));
    RaftWal::Opened o = MustOpen(dir.path());
    ASSERT_EQ(o.groups.count(g), 1u) << "cut " << cut;
    const MemoryStorage& got = *o.groups.at(g);
    const MemoryStorage* want = &before;
    if (got.LastIndex() == LogIndex(8)) want = got.hard_state() == after.hard_state()
                                                   ? &after : &with_entries;
    SCOPED_TRACE("cut " + std::to_string(cut));
    ExpectSameStorage(*want, got);
  }
}

// Random Readies against a reference MemoryStorage, with local snapshots, releases and
// reopens along the way, over small segments so that rotation and release happen often.
TEST(RaftWal, RandomReadiesMatchTheReferenceAcrossReopens) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir dir;
    std::mt19937_64 rng(seed);
    auto pick = [&](uint64_t lo, uint64_t hi) {
      return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
    };
    std::map<GroupId, MemoryStorage> refs;
    std::map<GroupId, uint64_t> terms;
    RaftWal::Opened o = MustOpen(dir.path());
    uint64_t releases = 0;
    for (int step = 0; step < 300; ++step) {
      const GroupId g(pick(1, 2));
      MemoryStorage& ref = refs[g];
      uint64_t& term = terms[g];
      term = std::max<uint64_t>(term, 1);
      const uint64_t first = ref.FirstIndex().value;
      const uint64_t last = ref.LastIndex().value;
      const uint64_t commit = ref.hard_state().commit.value;
      const uint64_t action = pick(0, 99);
      Step s;
      if (action < 60) {
        // Append, sometimes overwriting the uncommitted suffix under a new term.
        const uint64_t start = pick(std::max(first, commit + 1), last + 1);
        if (start <= last) ++term;
        s.entries = Ents(start, start + pick(0, 6), term, pick(0, 400));
        const uint64_t new_last = s.entries.back().index.value;
        s.hs = HardState{Term(term), NodeId(1), LogIndex(pick(commit, std::min(new_last,
                                                                              commit + 5)))};
      } else if (action < 80) {
        s.hs = HardState{Term(term), NodeId(pick(0, 3)), LogIndex(pick(commit, last))};
      } else if (action < 85) {
        term += pick(0, 1);
        const uint64_t index = last + pick(1, 20);
        s.snapshot = Snap(index, term);
        s.hs = HardState{Term(term), NodeId(2), LogIndex(index)};
      } else if (action < 95) {
        if (commit < first) continue;
        const uint64_t at = pick(first, commit);
        ASSERT_TRUE(ref.CreateSnapshot(LogIndex(at), Snap(0, 0).metadata.conf_state,
                                       Payload("local@" + std::to_string(at))).ok());
        ASSERT_TRUE(ref.Compact(LogIndex(at)).ok());
        ASSERT_TRUE(o.wal->SaveSnapshot(g, ref.GetSnapshot()).ok());
        const uint64_t segments = o.wal->writer().segments().size();
        ASSERT_TRUE(o.wal->ReleaseTo(g, LogIndex(pick(first, at))).ok());
        releases += segments - o.wal->writer().segments().size();
        continue;
      } else {
        ASSERT_TRUE(o.wal->Close().ok());
        o = MustOpen(dir.path());
        for (const auto& [group, r] : refs) {
          if (o.groups.count(group) == 0) continue;  // a group with nothing saved yet
          ExpectSameStorage(r, *o.groups.at(group));
        }
        continue;
      }
      ApplyToReference(&ref, s);
      Result<uint64_t> lsn = o.wal->Save(g, s.hs, s.entries, s.snapshot, pick(0, 1) == 1);
      ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
      ASSERT_TRUE(o.wal->Wait(lsn.value()).ok());
    }
    ASSERT_TRUE(o.wal->Close().ok());
    o = MustOpen(dir.path());
    for (const auto& [group, r] : refs) ExpectSameStorage(r, *o.groups.at(group));
    EXPECT_GT(releases, 0u);
  }
}

// A single-node RawNode persisting through RaftWal, restarted from what it recovers.
class SingleNode {
 public:
  explicit SingleNode(MemoryStorage* storage, RaftWal* wal) : storage_(storage), wal_(wal) {
    raft::Config c;
    c.id = NodeId(1);
    c.storage = storage;
    c.applied = storage->GetSnapshot().metadata.index;
    auto r = raft::RawNode::Create(c);
    EXPECT_TRUE(r.ok());
    node_ = std::move(r.value());
  }
  void Drain() {
    while (node_->HasReady()) {
      raft::Ready rd = node_->GetReady();
      ASSERT_TRUE(wal_->Persist(group_, rd).ok());
      if (rd.snapshot) {
        ASSERT_TRUE(storage_->ApplySnapshot(*rd.snapshot));
      }
      storage_->Append(rd.entries);
      if (rd.hard_state) storage_->SetHardState(*rd.hard_state);
      for (const Entry& e : rd.committed_entries) {
        if (!e.data.empty()) applied_.emplace_back(e.data.view());
      }
      node_->Advance();
    }
  }
  raft::RawNode& node() { return *node_; }
  const std::vector<std::string>& applied() const { return applied_; }

 private:
  const GroupId group_{1};
  MemoryStorage* storage_;
  RaftWal* wal_;
  std::unique_ptr<raft::RawNode> node_;
  std::vector<std::string> applied_;
};

TEST(RaftWal, RawNodeRestartsFromWhatItPersisted) {
  TempDir dir;
  const GroupId g(1);
  raft::NodeStatus status_before;
  {
    RaftWal::Opened o = MustOpen(dir.path());
    auto storage = std::make_unique<MemoryStorage>();
    // Bootstrap: a snapshot holding the initial membership, persisted before the node starts.
    raft::Snapshot boot;
    boot.metadata.index = LogIndex(1);
    boot.metadata.term = Term(1);
    boot.metadata.conf_state.voters = {NodeId(1)};
    ASSERT_TRUE(storage->ApplySnapshot(boot));
    Save(o.wal.get(), g, Step{std::nullopt, {}, boot});
    SingleNode n(storage.get(), o.wal.get());
    n.node().Campaign();
    n.Drain();
    ASSERT_EQ(n.node().role(), raft::Role::kLeader);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(n.node().Propose(Payload("cmd" + std::to_string(i))).ok());
      n.Drain();
    }
    EXPECT_EQ(n.applied().size(), 20u);
    status_before = n.node().GetStatus();
  }
  RaftWal::Opened o = MustOpen(dir.path());
  ASSERT_EQ(o.groups.count(g), 1u);
  MemoryStorage* storage = o.groups.at(g).get();
  SingleNode n(storage, o.wal.get());
  const raft::NodeStatus status = n.node().GetStatus();
  EXPECT_EQ(status.term, status_before.term);
  EXPECT_EQ(status.vote, status_before.vote);
  EXPECT_EQ(status.commit, status_before.commit);
  EXPECT_EQ(status.last_index, status_before.last_index);
  // It replays the committed commands and goes on working.
  n.node().Campaign();
  n.Drain();
  ASSERT_EQ(n.node().role(), raft::Role::kLeader);
  ASSERT_TRUE(n.node().Propose(Payload("after restart")).ok());
  n.Drain();
  ASSERT_FALSE(n.applied().empty());
  EXPECT_EQ(n.applied().back(), "after restart");
  EXPECT_EQ(n.applied().size(), 21u);
}

}  // namespace
}  // namespace synod::storage
