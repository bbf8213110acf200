#include "local_cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

namespace synod::cluster_test {

namespace {

// The lowest port the kernel hands out for outgoing connections (32768 unless configured).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (in >> low && low > 2048) return low;
  return 32768;
}

}  // namespace

// Ports below the ephemeral range: a port picked inside it could be taken, between this call
// and the member's bind, as the local port of some outgoing connection (a member's link to a
// peer did exactly that, and the member then could not serve clients). Each port is checked by
// binding it; all stay bound until every one is known, so they are distinct.
std::vector<int> FreePorts(int count) {
  const int low = 10000;
  // Exclusive. A machine whose ephemeral range starts lower still gets a thousand ports.
  const int high = std::max(EphemeralLow(), low + 1000);
  static std::mt19937 rng(static_cast<unsigned>(getpid()) * 2654435761u ^
                          static_cast<unsigned>(time(nullptr)));
  std::vector<int> fds, ports;
  for (int i = 0; i < count; ++i) {
    int port = 0;
    for (int attempt = 0; attempt < 1000 && port == 0; ++attempt) {
      const int candidate = low + static_cast<int>(rng() % static_cast<unsigned>(high - low));
      if (std::find(ports.begin(), ports.end(), candidate) != ports.end()) continue;
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) break;
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(candidate));
      if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
        port = candidate;
        fds.push_back(fd);
      } else {
        close(fd);
      }
    }
    ports.push_back(port);  // 0: none found; the member then fails to start, loudly
  }
  for (int fd : fds) close(fd);
  return ports;
}

LocalCluster::LocalCluster(std::string synod_path, int size, std::vector<std::string> extra_flags)
    : synod_path_(std::move(synod_path)), extra_flags_(std::move(extra_flags)) {
  char tmpl[] = "/tmp/synod-cluster-XXXXXX";
  const char* made = mkdtemp(tmpl);
  dir_ = made != nullptr ? made : "/tmp/synod-cluster-failed";
  const std::vector<int> ports = FreePorts(2 * size);
  members_.resize(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) {
    Member& m = members_[i];
    m.name = "m" + std::to_string(i + 1);
    m.client_port = ports[2 * i];
    m.peer_port = ports[2 * i + 1];
    m.client = std::make_unique<EtcdClient>(endpoint(i));
  }
}

LocalCluster::~LocalCluster() {
  for (Member& m : members_) (void)m.child.Stop(SIGKILL, std::chrono::seconds(5));
  if (std::getenv("SYNOD_KEEP_TEST_DIR") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string LocalCluster::endpoint(int i) const {
  return members_[i].host + ":" + std::to_string(members_[i].client_port);
}

void LocalCluster::UseHosts(std::vector<std::string> hosts) {
  for (int i = 0; i < size() && i < static_cast<int>(hosts.size()); ++i) {
    members_[i].host = std::move(hosts[i]);
    members_[i].client = std::make_unique<EtcdClient>(endpoint(i));
  }
}

std::string LocalCluster::endpoints() const {
  std::string out;
  for (int i = 0; i < size(); ++i) out += (i > 0 ? "," : "") + endpoint(i);
  return out;
}

void LocalCluster::ServeMetrics() {
  const std::vector<int> ports = FreePorts(size());
  for (int i = 0; i < size(); ++i) members_[i].metrics_port = ports[i];
}

std::string LocalCluster::metrics_endpoint(int i) const {
  return members_[i].host + ":" + std::to_string(members_[i].metrics_port);
}

int LocalCluster::AddMember(std::vector<std::string> extra_flags, std::string host) {
  const std::vector<int> ports = FreePorts(2);
  Member m;
  m.host = std::move(host);
  m.name = "m" + std::to_string(members_.size() + 1);
  m.client_port = ports[0];
  m.peer_port = ports[1];
  m.joining = true;
  m.extra_flags = std::move(extra_flags);
  members_.push_back(std::move(m));
  const int i = size() - 1;
  members_[i].client = std::make_unique<EtcdClient>(endpoint(i));
  return i;
}

std::string LocalCluster::peer_url(int i) const {
  return "http://" + members_[i].host + ":" + std::to_string(members_[i].peer_port);
}

std::vector<std::string> LocalCluster::Flags(int i) const {
  const Member& m = members_[i];
  auto url = [](const std::string& host, int port) {
    return "http://" + host + ":" + std::to_string(port);
  };
  auto peer_url = [&](int port) { return url(m.host, port); };
  std::string cluster;
  for (int j = 0; j < size(); ++j) {
    const Member& o = members_[j];
    // The founders name only each other; a joining member every member before it and itself.
    if (m.joining ? j > i : o.joining) continue;
    cluster += (cluster.empty() ? "" : ",") + o.name + "=" + url(o.host, o.peer_port);
  }
  std::vector<std::string> f = {
      synod_path_,
      "--name=" + m.name,
      "--data-dir=" + data_dir(i),
      "--listen-client-urls=" + peer_url(m.client_port),
      "--advertise-client-urls=" + peer_url(m.client_port),
      "--listen-peer-urls=" + peer_url(m.peer_port),
      "--initial-advertise-peer-urls=" + peer_url(m.peer_port),
      "--initial-cluster=" + cluster,
      "--initial-cluster-token=test-" + std::to_string(getpid()),
      std::string("--initial-cluster-state=") + (m.joining ? "existing" : "new"),
  };
  if (m.metrics_port != 0) f.push_back("--listen-metrics-urls=" + peer_url(m.metrics_port));
  f.insert(f.end(), extra_flags_.begin(), extra_flags_.end());
  f.insert(f.end(), m.extra_flags.begin(), m.extra_flags.end());
  return f;
}

bool LocalCluster::Start(int i, std::string* error) {
  return Child::Spawn(Flags(i), dir_ + "/" + members_[i].name + ".log", &members_[i].child, error,
                      members_[i].env);
}

bool LocalCluster::StartAll(std::string* error) {
  for (int i = 0; i < size(); ++i) {
    if (!Start(i, error)) return false;
  }
  return true;
}

void LocalCluster::Kill9(int i) {
  (void)members_[i].child.Stop(SIGKILL, std::chrono::seconds(5));
}

int LocalCluster::Terminate(int i, std::chrono::milliseconds timeout) {
  return members_[i].child.Stop(SIGTERM, timeout);
}

int LocalCluster::WaitForLeader(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::map<uint64_t, int> index_of;  // member id -> index
    std::map<uint64_t, int> votes;     // named leader -> members naming it
    int asked = 0;
    for (int i = 0; i < size(); ++i) {
      if (!running(i)) continue;
      ++asked;
      etcdserverpb::StatusResponse st;
      const grpc::Status s = client(i).Status(std::chrono::milliseconds(500), &st);
      if (!s.ok()) {
        last_wait_error_ = "member " + std::to_string(i) + ": " + s.error_message();
        continue;
      }
      index_of[st.header().member_id()] = i;
      if (st.leader() != 0) ++votes[st.leader()];
    }
    for (const auto& [leader, n] : votes) {
      if (n == asked && index_of.count(leader) > 0) return index_of[leader];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

std::string LocalCluster::LogTail(int i, size_t bytes) const {
  std::ifstream in(dir_ + "/" + members_[i].name + ".log", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.size() <= bytes ? all : all.substr(all.size() - bytes);
}

}  // namespace synod::cluster_test
