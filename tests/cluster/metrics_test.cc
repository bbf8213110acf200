// --listen-metrics-urls on real synod processes: /metrics parses as Prometheus text and says
// what the cluster did, /health follows the loss of a quorum, and garbage on the metrics port
// closes only that connection. A tiny HTTP client over a socket reads the endpoints, as a
// scraper would.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "cluster_fixture.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Connects to host:port on 127.0.0.1, sends `bytes`, reads until the peer closes or `timeout`.
// `closed` tells whether the peer closed (rather than the timeout ending the read).
std::string Exchange(const std::string& endpoint, const std::string& bytes,
                     std::chrono::milliseconds timeout, bool* closed = nullptr) {
  if (closed != nullptr) *closed = false;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[8192];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      if (closed != nullptr) *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string content_type;
  std::string body;
};

HttpReply HttpGet(const std::string& endpoint, const std::string& path) {
  const std::string raw =
      Exchange(endpoint, "GET " + path + " HTTP/1.1\r\nHost: " + endpoint + "\r\n\r\n", 5s);
  HttpReply r;
  const size_t head_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.1 ") || head_end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  const std::string head = raw.substr(0, head_end);
  const size_t ct = head.find("\r\nContent-Type: ");
  if (ct != std::string::npos) {
    const size_t start = ct + 16;
    r.content_type = head.substr(start, head.find("\r\n", start) - start);
  }
  r.body = raw.substr(head_end + 4);
  return r;
}

// Prometheus text -> series ("name{labels as sent}") -> value. Fails the test on any line that
// is not a comment, a blank line or `name[{labels}] value`.
std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t eol = text.find('\n', pos);
    EXPECT_NE(eol, std::string::npos) << "the last line has no newline";
    const std::string line = text.substr(pos, eol - pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
    if (line.empty()) continue;
    if (line[0] == '#') {
      EXPECT_TRUE(line.starts_with("# HELP ") || line.starts_with("# TYPE ")) << line;
      continue;
    }
    // The series ends at the first space outside a quoted label value.
    size_t i = 0;
    bool quoted = false;
    for (; i < line.size(); ++i) {
      if (quoted && line[i] == '\\') {
        ++i;
      } else if (line[i] == '"') {
        quoted = !quoted;
      } else if (!quoted && line[i] == ' ') {
        break;
      }
    }
    EXPECT_LT(i, line.size()) << "no value: " << line;
    if (i >= line.size()) continue;
    const std::string series = line.substr(0, i);
    const std::string value = line.substr(i + 1);
    const size_t brace = series.find('{');
    const std::string name = series.substr(0, brace);
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_:"),
              std::string::npos)
        << line;
    if (brace != std::string::npos) {
      EXPECT_EQ(series.back(), '}') << line;
    }
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    EXPECT_TRUE(end != value.c_str() && *end == '\0') << "value: " << line;
    EXPECT_EQ(out.count(series), 0u) << "series twice: " << series;
    out[series] = v;
  }
  return out;
}

double ValueOf(const std::map<std::string, double>& m, const std::string& series) {
  const auto it = m.find(series);
  EXPECT_NE(it, m.end()) << "no series " << series;
  return it == m.end() ? -1 : it->second;
}

class MetricsClusterTest : public ClusterFixture {
 protected:
  void SetUp() override { StartCluster(ClusterSpec{3, {}, true, false}); }

  std::map<std::string, double> Scrape(int i) {
    const HttpReply r = HttpGet(cluster_->metrics_endpoint(i), "/metrics");
    EXPECT_EQ(r.status, 200) << "member " << i << "\n" << cluster_->LogTail(i);
    EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    return ParseMetrics(r.body);
  }

};

TEST_F(MetricsClusterTest, MetricsHealthAndGarbage) {
  constexpr int kPuts = 25;
  for (int i = 0; i < kPuts; ++i) {
    ASSERT_TRUE(cluster_->client(leader_).Put("k" + std::to_string(i), "v", 5s).ok()) << i;
  }

  // Followers learn the commit index with the next heartbeat: wait (bounded) until every
  // member's commit index covers the puts, then check the rest on one scrape per member.
  std::vector<std::map<std::string, double>> scraped(3);
  const auto deadline = Clock::now() + 10s;
  for (int i = 0; i < 3; ++i) {
    do {
      scraped[i] = Scrape(i);
      if (ValueOf(scraped[i], "synod_raft_commit_index") >= kPuts) break;
      std::this_thread::sleep_for(50ms);
    } while (Clock::now() < deadline);
  }

  int leaders = 0;
  for (int i = 0; i < 3; ++i) {
    const auto& m = scraped[i];
    SCOPED_TRACE("member " + std::to_string(i));
    EXPECT_GT(ValueOf(m, "process_resident_memory_bytes"), 1 << 20);
    EXPECT_GT(ValueOf(m, "process_open_fds"), 0);
    EXPECT_GT(ValueOf(m, "process_start_time_seconds"), 1.5e9);
    EXPECT_GE(ValueOf(m, "process_cpu_seconds_total"), 0);
    EXPECT_EQ(ValueOf(m, "etcd_server_has_leader"), 1);
    leaders += static_cast<int>(ValueOf(m, "etcd_server_is_leader"));
    EXPECT_EQ(ValueOf(m, "etcd_server_is_leader"), i == leader_ ? 1 : 0);
    EXPECT_EQ(ValueOf(m, "synod_raft_term"), ValueOf(scraped[0], "synod_raft_term"));
    EXPECT_GE(ValueOf(m, "synod_raft_term"), 1);
    EXPECT_EQ(ValueOf(m, "synod_raft_leader_id"), ValueOf(scraped[0], "synod_raft_leader_id"));
    EXPECT_GE(ValueOf(m, "synod_raft_commit_index"), kPuts);
    EXPECT_GE(ValueOf(m, "etcd_server_proposals_committed_total"), kPuts);
    EXPECT_GE(ValueOf(m, "etcd_server_leader_changes_seen_total"), 1);
    // Every member writes the entries to its own WAL, with an fsync each time round.
    EXPECT_GT(ValueOf(m, "etcd_disk_wal_fsync_duration_seconds_count"), 0);
    EXPECT_EQ(ValueOf(m, "etcd_disk_wal_fsync_duration_seconds_count"),
              ValueOf(m, "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"}"));
    EXPECT_GT(ValueOf(m, "etcd_mvcc_db_total_size_in_bytes"), 0);
  }
  EXPECT_EQ(leaders, 1);
  const auto& lm = scraped[leader_];
  const std::string put_ok =
      "{grpc_type=\"unary\",grpc_service=\"etcdserverpb.KV\",grpc_method=\"Put\","
      "grpc_code=\"OK\"}";
  // Phi accrual over Raft traffic: the leader hears both followers every heartbeat interval.
  int phis = 0;
  for (const auto& [series, v] : lm) {
    if (!series.starts_with("synod_raft_peer_phi{peer=\"")) continue;
    ++phis;
    EXPECT_LT(v, 8) << series;
    const std::string suspected = "synod_raft_peer_suspected" + series.substr(series.find('{'));
    EXPECT_EQ(ValueOf(lm, suspected), 0) << suspected;
  }
  EXPECT_EQ(phis, 2);
  EXPECT_GE(ValueOf(lm, "grpc_server_handled_total" + put_ok), kPuts);
  EXPECT_GE(ValueOf(lm, "grpc_server_handling_seconds_count" + put_ok), kPuts);
  EXPECT_GE(ValueOf(lm,
                    "grpc_server_started_total{grpc_type=\"unary\",grpc_service="
                    "\"etcdserverpb.KV\",grpc_method=\"Put\"}"),
            kPuts);

  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("member " + std::to_string(i));
    const HttpReply health = HttpGet(cluster_->metrics_endpoint(i), "/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.content_type, "application/json");
    EXPECT_EQ(health.body, "{\"health\":\"true\"}");
    const HttpReply ready = HttpGet(cluster_->metrics_endpoint(i), "/readyz");
    EXPECT_EQ(ready.status, 200);
    EXPECT_EQ(ready.body, "ok\n");
    EXPECT_EQ(HttpGet(cluster_->metrics_endpoint(i), "/livez").status, 200);
    EXPECT_EQ(HttpGet(cluster_->metrics_endpoint(i), "/nothing-here").status, 404);
  }

  // Garbage on the metrics port: that connection is closed (after a 400, if anything), and the
  // member goes on serving.
  const int survivor = (leader_ + 1) % 3;
  std::string garbage;
  for (int i = 0; i < 512; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  bool closed = false;
  const std::string answer = Exchange(cluster_->metrics_endpoint(survivor), garbage, 10s, &closed);
  EXPECT_TRUE(closed) << "connection with garbage still open after 10 s";
  EXPECT_TRUE(answer.empty() || answer.starts_with("HTTP/1.1 400 ")) << answer;
  EXPECT_EQ(HttpGet(cluster_->metrics_endpoint(survivor), "/livez").status, 200);

  // The two others die: the survivor loses its leader (check-quorum steps a lone leader down;
  // a follower drops a silent leader) and /health says so within a bounded time.
  for (int i = 0; i < 3; ++i) {
    if (i != survivor) cluster_->Kill9(i);
  }
  HttpReply health;
  const auto unhealthy_by = Clock::now() + 15s;
  while (Clock::now() < unhealthy_by) {
    health = HttpGet(cluster_->metrics_endpoint(survivor), "/health");
    if (health.status == 503) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(health.status, 503) << health.body << "\n" << cluster_->LogTail(survivor);
  EXPECT_EQ(health.body, "{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}");
  EXPECT_EQ(HttpGet(cluster_->metrics_endpoint(survivor), "/readyz").status, 503);
  EXPECT_EQ(HttpGet(cluster_->metrics_endpoint(survivor), "/livez").status, 200);
  const auto after = Scrape(survivor);
  EXPECT_EQ(ValueOf(after, "etcd_server_has_leader"), 0);
  EXPECT_EQ(ValueOf(after, "etcd_server_is_leader"), 0);
  EXPECT_GE(ValueOf(after, "etcd_server_health_failures"), 1);
  // Every peer the survivor (a follower) ever heard is suspected now: its old leader surely,
  // the other follower if it heard it at all (followers do not talk to each other).
  int peers = 0, suspected = 0;
  for (const auto& [series, v] : after) {
    if (!series.starts_with("synod_raft_peer_suspected{")) continue;
    ++peers;
    suspected += static_cast<int>(v);
  }
  EXPECT_GE(peers, 1);
  EXPECT_EQ(suspected, peers);
}

}  // namespace
}  // namespace synod::cluster_test
