// The gossip layer (SWIM + Lifeguard, docs/membership.md) on five real synod processes, read
// through /members on the metrics endpoint: a killed member is marked dead by every survivor
// within the bound, and a member paused (SIGSTOP) for less than the suspicion timeout is
// never marked dead by anyone.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "cluster_fixture.h"

namespace synod::cluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The server's gossip timing (src/server/gossip_agent.h): 500 ms periods, suspicion at least
// 2 s in a 5-member cluster (4 periods), at most 6 s. A crash is suspected within about two
// periods, and with the others' confirmations declared dead 2 s later; the bound leaves room
// for a loaded test machine.
constexpr auto kDeadBound = 12s;
constexpr auto kPause = 1500ms;  // below the 2 s minimum suspicion timeout

// GET path from 127.0.0.1:port; the body, or "" when the member does not answer.
std::string HttpGetBody(const std::string& endpoint, const std::string& path) {
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
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + endpoint + "\r\n\r\n";
  (void)!send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  const auto deadline = Clock::now() + 2s;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[8192];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t body = out.find("\r\n\r\n");
  return out.starts_with("HTTP/1.1 200") && body != std::string::npos ? out.substr(body + 4) : "";
}

std::string Field(const std::string& json, size_t from, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const size_t at = json.find(key, from);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return json.substr(start, json.find('"', start) - start);
}

// The state member `id` has in a /members answer, "" if absent.
std::string StateOf(const std::string& json, const std::string& id) {
  const size_t at = json.find("{\"id\":\"" + id + "\"");
  return at == std::string::npos ? "" : Field(json, at, "state");
}

class GossipTest : public ClusterFixture {
 protected:
  std::string Members(int i) { return HttpGetBody(cluster_->metrics_endpoint(i), "/members"); }

  // Waits until every member lists all five alive, and learns their gossip ids.
  void WaitAllAlive() {
    ids_.assign(cluster_->size(), "");
    const auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      bool all = true;
      for (int i = 0; i < cluster_->size(); ++i) {
        const std::string json = Members(i);
        ids_[i] = Field(json, 0, "self");
        int alive = 0;
        for (size_t at = json.find("\"state\":\"alive\""); at != std::string::npos;
             at = json.find("\"state\":\"alive\"", at + 1)) {
          ++alive;
        }
        all &= alive == cluster_->size();
      }
      if (all) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "members never all saw each other alive; member 0 says: " << Members(0);
  }

  std::vector<std::string> ids_;
};

TEST_F(GossipTest, PausedMemberIsNotDeclaredDeadAndKilledOneIs) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(ClusterSpec{5, {}, true, false}));
  ASSERT_NO_FATAL_FAILURE(WaitAllAlive());

  // Pause member 4 for less than the suspicion timeout; watch everyone until well after it
  // resumes. Suspicion is allowed; death is not.
  const int paused = 4;
  ASSERT_EQ(kill(cluster_->pid(paused), SIGSTOP), 0);
  const auto resume_at = Clock::now() + kPause;
  bool resumed = false;
  const auto watch_until = Clock::now() + kPause + 6s;
  while (Clock::now() < watch_until) {
    if (!resumed && Clock::now() >= resume_at) {
      ASSERT_EQ(kill(cluster_->pid(paused), SIGCONT), 0);
      resumed = true;
    }
    for (int i = 0; i < cluster_->size(); ++i) {
      if (i == paused && !resumed) continue;
      EXPECT_NE(StateOf(Members(i), ids_[paused]), "dead")
          << "member " << i << " declared the paused member dead";
    }
    std::this_thread::sleep_for(100ms);
  }
  for (int i = 0; i < cluster_->size(); ++i) {
    EXPECT_EQ(StateOf(Members(i), ids_[paused]), "alive") << "member " << i;
  }

  // Kill member 1: every survivor marks it dead within the bound.
  const int victim = 1;
  cluster_->Kill9(victim);
  const auto killed_at = Clock::now();
  std::vector<bool> seen_dead(cluster_->size(), false);
  int pending = cluster_->size() - 1;
  while (pending > 0 && Clock::now() - killed_at < kDeadBound) {
    for (int i = 0; i < cluster_->size(); ++i) {
      if (i == victim || seen_dead[i]) continue;
      if (StateOf(Members(i), ids_[victim]) == "dead") {
        seen_dead[i] = true;
        --pending;
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at);
        std::printf("member %d has the killed member dead after %lld ms\n", i,
                    static_cast<long long>(ms.count()));
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  for (int i = 0; i < cluster_->size(); ++i) {
    if (i != victim) {
      EXPECT_TRUE(seen_dead[i]) << "member " << i << ": " << Members(i);
    }
  }
  // The others stay alive in everyone's view.
  for (int i = 0; i < cluster_->size(); ++i) {
    if (i == victim) continue;
    for (int j = 0; j < cluster_->size(); ++j) {
      if (j != victim) {
        EXPECT_EQ(StateOf(Members(i), ids_[j]), "alive") << i << " about " << j;
      }
    }
  }
}

}  // namespace
}  // namespace synod::cluster_test
