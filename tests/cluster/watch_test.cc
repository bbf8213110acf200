// Watch against real synod processes: etcdctl watch on one member while writes go through
// others, and a gRPC Watch stream that must see every write exactly once, in order, also when
// it stops reading for a while; compaction, progress and fragments. Every wait is bounded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "test_files.h"
#include "cluster_fixture.h"
#include "watch_client.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string PrefixEnd(std::string p) {
  p.back() = static_cast<char>(p.back() + 1);
  return p;
}

class WatchTest : public ClusterFixture {
 protected:

  // A put through member `i`; its revision.
  int64_t Put(int i, const std::string& k, const std::string& v) {
    etcdserverpb::PutResponse resp;
    const grpc::Status s = cluster_->client(i).Put(k, v, 10s, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.header().revision();
  }

  CommandResult Etcdctl(int member, std::vector<std::string> args) {
    std::vector<std::string> argv = {EtcdctlPath(), "--endpoints=" + cluster_->endpoint(member),
                                     "--dial-timeout=3s", "--command-timeout=10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", {"ETCDCTL_API=3"}, 30s);
  }

  // `etcdctl watch ARGS` on member `i`, running in the background; output in a file.
  struct Watcher {
    Child child;
    std::string out;
  };
  std::unique_ptr<Watcher> StartWatch(int i, std::vector<std::string> args) {
    auto w = std::make_unique<Watcher>();
    w->out = cluster_->dir() + "/watch-" + std::to_string(watch_count_++) + ".out";
    std::vector<std::string> argv = {EtcdctlPath(), "--endpoints=" + cluster_->endpoint(i),
                                     "--dial-timeout=3s", "watch"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string error;
    EXPECT_TRUE(Child::Spawn(argv, w->out, &w->child, &error)) << error;
    return w;
  }

  // Waits until the watcher's output is `want` (or has `want` in it when `contains`); returns
  // what it printed.
  std::string WaitForOutput(const Watcher& w, const std::string& want, bool contains = false,
                            std::chrono::milliseconds timeout = 15s) {
    const auto deadline = Clock::now() + timeout;
    std::string got;
    while (Clock::now() < deadline) {
      got = ReadFile(w.out);
      if (contains ? got.find(want) != std::string::npos : got == want) return got;
      std::this_thread::sleep_for(20ms);
    }
    return got;
  }

  int watch_count_ = 0;
};

TEST_F(WatchTest, EtcdctlWatchRevPrevKvPrefixAcrossMembers) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  if (access(EtcdctlPath().c_str(), X_OK) != 0) GTEST_SKIP() << "no etcdctl";
  const int watching = (leader_ + 1) % 3;  // a follower serves the watches
  const int writer = (leader_ + 2) % 3;

  const int64_t r1 = Put(writer, "foo", "bar");
  Put(leader_, "foo", "baz");
  ASSERT_EQ(Etcdctl(writer, {"del", "foo"}).out, "1\n");
  const int64_t dir_rev = Put(writer, "dir/a", "1");
  Put(writer, "dir/b", "2");
  Put(writer, "other", "x");

  // From a past revision: the history first, then live writes made through another member.
  auto single = StartWatch(watching, {"foo", "--rev=" + std::to_string(r1)});
  std::string want = "PUT\nfoo\nbar\nPUT\nfoo\nbaz\nDELETE\nfoo\n\n";
  EXPECT_EQ(WaitForOutput(*single, want), want);
  auto prefix =
      StartWatch(watching, {"dir/", "--prefix", "--prev-kv", "--rev=" + std::to_string(dir_rev)});
  std::string want_prefix = "PUT\ndir/a\n1\nPUT\ndir/b\n2\n";
  EXPECT_EQ(WaitForOutput(*prefix, want_prefix), want_prefix);

  Put(writer, "foo", "live");
  Put(leader_, "dir/a", "3");
  ASSERT_EQ(Etcdctl(writer, {"del", "dir/", "--prefix"}).out, "2\n");
  Put(writer, "dirt", "not in dir/");
  want += "PUT\nfoo\nlive\n";
  EXPECT_EQ(WaitForOutput(*single, want), want);
  // --prev-kv prints the previous version before the new one; a delete's new one is empty.
  want_prefix += "PUT\ndir/a\n1\ndir/a\n3\nDELETE\ndir/a\n3\ndir/a\n\nDELETE\ndir/b\n2\ndir/b\n\n";
  EXPECT_EQ(WaitForOutput(*prefix, want_prefix), want_prefix);
  // Nothing else arrives (a later write shows the stream is still live and in order).
  Put(writer, "dir/z", "last");
  want_prefix += "PUT\ndir/z\nlast\n";
  EXPECT_EQ(WaitForOutput(*prefix, want_prefix), want_prefix);
}

TEST_F(WatchTest, EtcdctlWatchBelowCompactionIsCanceled) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  if (access(EtcdctlPath().c_str(), X_OK) != 0) GTEST_SKIP() << "no etcdctl";
  Put(0, "k", "1");
  Put(0, "k", "2");
  const int64_t r = Put(0, "k", "3");
  // Through the watching member: it answers once it has applied the compaction itself.
  ASSERT_EQ(Etcdctl(1, {"compact", std::to_string(r)}).exit_code, 0);
  auto w = StartWatch(1, {"k", "--rev=1"});
  const std::string out =
      WaitForOutput(*w, "required revision has been compacted", /*contains=*/true);
  EXPECT_NE(out.find("watch was canceled (etcdserver: mvcc: required revision has been "
                     "compacted)"),
            std::string::npos)
      << out;
  // At the compaction revision itself the history is still there.
  auto at = StartWatch(2, {"k", "--rev=" + std::to_string(r)});
  EXPECT_EQ(WaitForOutput(*at, "PUT\nk\n3\n"), "PUT\nk\n3\n");
}

// Reads responses of `client` until watcher `id` has `count` events; returns their
// (revision -> value), failing on a duplicate or an out-of-order revision.
std::map<int64_t, std::string> Collect(WatchClient& client, int64_t id, size_t count,
                                       std::chrono::milliseconds timeout) {
  std::map<int64_t, std::string> seen;
  int64_t last = 0;
  const auto deadline = Clock::now() + timeout;
  while (seen.size() < count && Clock::now() < deadline) {
    auto r = client.Next(1s);
    if (!r) continue;
    if (r->watch_id() != id) continue;
    EXPECT_FALSE(r->canceled()) << r->cancel_reason();
    for (const mvccpb::Event& e : r->events()) {
      const int64_t rev = e.kv().mod_revision();
      EXPECT_GT(rev, last) << "out of order or duplicated";
      last = rev;
      EXPECT_TRUE(seen.emplace(rev, e.kv().value()).second);
    }
  }
  return seen;
}

// Compares without printing the (large) values.
void ExpectSame(const std::map<int64_t, std::string>& seen,
                const std::map<int64_t, std::string>& written, WatchClient& client) {
  EXPECT_EQ(seen.size(), written.size());
  auto a = seen.begin();
  auto b = written.begin();
  for (; a != seen.end() && b != written.end(); ++a, ++b) {
    if (a->first != b->first || a->second != b->second) {
      ADD_FAILURE() << "first difference at revision " << b->first << " (seen " << a->first << ")";
      break;
    }
  }
  if (auto end = client.ended()) {
    ADD_FAILURE() << "stream ended: " << end->error_code() << " " << end->error_message();
  }
}

TEST_F(WatchTest, GrpcManyPutsNoEventLostOrDuplicated) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int watching = (leader_ + 1) % 3;
  const std::string endpoint = cluster_->endpoint(watching);
  WatchClient live(endpoint);
  WatchClient slow(endpoint, /*start_paused=*/true);  // does not read for a while
  etcdserverpb::WatchCreateRequest c;
  c.set_key("n/");
  c.set_range_end(PrefixEnd("n/"));
  ASSERT_TRUE(live.Create(c));
  auto created = live.Next(10s);
  ASSERT_TRUE(created.has_value());
  EXPECT_TRUE(created->created());
  EXPECT_EQ(created->watch_id(), 0);
  EXPECT_NE(created->header().member_id(), 0u);
  EXPECT_NE(created->header().cluster_id(), 0u);
  EXPECT_GE(created->header().raft_term(), 1u);
  c.set_start_revision(created->header().revision() + 1);
  ASSERT_TRUE(slow.Create(c));

  // Two writers through the other members; 16 KiB values so the paused stream fills up.
  constexpr int kPerWriter = 400;
  std::map<int64_t, std::string> written;
  std::mutex written_mu;
  std::atomic<int> failures{0};
  auto writer = [&](int member, const std::string& tag) {
    for (int i = 0; i < kPerWriter; ++i) {
      const std::string value = tag + std::to_string(i) + std::string(16384, 'x');
      etcdserverpb::PutResponse resp;
      if (!cluster_->client(member)
               .Put("n/" + tag + std::to_string(i % 50), value, 10s, &resp)
               .ok()) {
        ++failures;
        continue;
      }
      std::lock_guard<std::mutex> lock(written_mu);
      written[resp.header().revision()] = value;
    }
  };
  std::thread w1(writer, leader_, "a");
  std::thread w2(writer, (leader_ + 2) % 3, "b");
  w1.join();
  w2.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_EQ(written.size(), 2u * kPerWriter);

  auto seen = Collect(live, 0, written.size(), 60s);
  ExpectSame(seen, written, live);
  slow.Resume();
  auto created_slow = slow.Next(10s);
  ASSERT_TRUE(created_slow.has_value());
  EXPECT_TRUE(created_slow->created());
  auto seen_slow = Collect(slow, 0, written.size(), 60s);
  ExpectSame(seen_slow, written, slow);

  // A progress request: watch id -1 and a revision that covers every write.
  ASSERT_TRUE(live.RequestProgress());
  auto progress = live.Next(10s);
  ASSERT_TRUE(progress.has_value());
  EXPECT_EQ(progress->watch_id(), -1);
  EXPECT_TRUE(progress->events().empty());
  EXPECT_GE(progress->header().revision(), written.rbegin()->first);
}

TEST_F(WatchTest, GrpcCompactedCancelFragments) {
  // Responses above 64 KiB are fragmented for watchers that allow it.
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--max-request-bytes=65536"}));
  const int watching = (leader_ + 1) % 3;
  int64_t last = 0;
  for (int i = 0; i < 5; ++i) last = Put(leader_, "c", std::to_string(i));
  // Through the watching member: it answers once it has applied the compaction itself.
  ASSERT_EQ(Etcdctl(watching, {"compact", std::to_string(last - 1)}).exit_code, 0);

  WatchClient client(cluster_->endpoint(watching));
  etcdserverpb::WatchCreateRequest c;
  c.set_key("c");
  c.set_start_revision(last - 3);
  c.set_watch_id(7);
  ASSERT_TRUE(client.Create(c));
  auto created = client.Next(10s);
  ASSERT_TRUE(created.has_value());
  EXPECT_TRUE(created->created());
  EXPECT_EQ(created->watch_id(), 7);
  auto cancelled = client.Next(10s);
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->watch_id(), 7);
  EXPECT_TRUE(cancelled->canceled());
  EXPECT_EQ(cancelled->compact_revision(), last - 1);

  // A cancel request ends a live watcher; the stream goes on.
  c.set_start_revision(0);
  c.set_watch_id(0);
  ASSERT_TRUE(client.Create(c));
  auto again = client.Next(10s);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->watch_id(), 0);
  ASSERT_TRUE(client.Cancel(0));
  auto gone = client.Next(10s);
  ASSERT_TRUE(gone.has_value());
  EXPECT_TRUE(gone->canceled());
  EXPECT_EQ(gone->watch_id(), 0);

  // One revision of 20 deletes with 8 KiB previous values: ~160 KiB with prev_kv.
  int64_t filled = 0;
  for (int i = 0; i < 20; ++i) {
    filled = Put(leader_, "f/" + std::to_string(100 + i), std::string(8192, 'v'));
  }
  etcdserverpb::WatchCreateRequest f;
  // After the puts, which the watching follower may not have applied yet.
  f.set_start_revision(filled + 1);
  f.set_key("f/");
  f.set_range_end(PrefixEnd("f/"));
  f.set_prev_kv(true);
  f.set_fragment(true);
  ASSERT_TRUE(client.Create(f));  // id 1
  f.set_fragment(false);
  ASSERT_TRUE(client.Create(f));  // id 2
  for (int i = 0; i < 2; ++i) {
    auto r = client.Next(10s);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->created());
  }
  ASSERT_EQ(Etcdctl(leader_, {"del", "f/", "--prefix"}).out, "20\n");
  std::map<int64_t, std::vector<etcdserverpb::WatchResponse>> by_id;
  const auto deadline = Clock::now() + 20s;
  auto events = [&](int64_t id) {
    int n = 0;
    for (const auto& r : by_id[id]) n += r.events_size();
    return n;
  };
  while ((events(1) < 20 || events(2) < 20) && Clock::now() < deadline) {
    auto r = client.Next(1s);
    if (r) by_id[r->watch_id()].push_back(*r);
  }
  ASSERT_EQ(events(1), 20);
  ASSERT_EQ(events(2), 20);
  EXPECT_EQ(by_id[2].size(), 1u);
  EXPECT_FALSE(by_id[2][0].fragment());
  ASSERT_GE(by_id[1].size(), 3u);
  for (size_t i = 0; i < by_id[1].size(); ++i) {
    const auto& piece = by_id[1][i];
    EXPECT_EQ(piece.fragment(), i + 1 < by_id[1].size());
    EXPECT_LT(piece.ByteSizeLong(), 65536u);
    for (const mvccpb::Event& e : piece.events()) {
      EXPECT_EQ(e.type(), mvccpb::Event::DELETE);
      EXPECT_EQ(e.prev_kv().value().size(), 8192u);
    }
  }

  // SIGTERM with watchers open: the member ends its streams ("server stopped") and exits
  // promptly rather than waiting for the clients to hang up.
  const auto stop_start = Clock::now();
  EXPECT_EQ(cluster_->Terminate(watching), 0);
  EXPECT_LT(Clock::now() - stop_start, 5s);
  std::optional<grpc::Status> end;
  for (const auto until = Clock::now() + 10s; !end && Clock::now() < until;) {
    (void)client.Next(100ms);
    end = client.ended();
  }
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE) << end->error_message();
}

}  // namespace
}  // namespace synod::cluster_test
