// A cluster of real `synod` processes on 127.0.0.1 for the tests: free ports picked at start,
// data and logs in a fresh directory under /tmp (removed at the end unless
// SYNOD_KEEP_TEST_DIR is set). Members can be killed (SIGKILL), stopped (SIGTERM) and
// restarted on the same ports and data.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "etcd_client.h"
#include "process.h"

namespace synod::cluster_test {

class LocalCluster {
 public:
  LocalCluster(std::string synod_path, int size, std::vector<std::string> extra_flags = {});
  ~LocalCluster();  // kills every member, removes the directory

  // Gives every member a free port for --listen-metrics-urls (/metrics, /health, ...). Call
  // before the first start.
  void ServeMetrics();
  // Puts member i on hosts[i] (an address such as 127.0.0.2) instead of 127.0.0.1, so that
  // firewall rules can tell members apart (netns.h). Call before the first start.
  void UseHosts(std::vector<std::string> hosts);
  // Adds "K=V" entries to member i's environment from its next start on (e.g. libfaketime).
  void SetEnv(int i, std::vector<std::string> env) { members_[i].env = std::move(env); }
  // Sends a signal (SIGSTOP, SIGCONT) to member i; false if it is not running.
  bool Signal(int i, int signal) const { return members_[i].child.Signal(signal); }
  const std::string& host(int i) const { return members_[i].host; }
  bool StartAll(std::string* error);
  // Adds a member on free ports, not started, to join the running cluster once `etcdctl member
  // add` announced it: its flags say --initial-cluster-state=existing and its --initial-cluster
  // lists every member so far and itself. Returns its index. `extra_flags` are added to it
  // (after the cluster's). `host` as in UseHosts (default 127.0.0.1). Call before any thread
  // asks the cluster for a member (it may move the members in memory).
  int AddMember(std::vector<std::string> extra_flags = {}, std::string host = "127.0.0.1");
  std::string peer_url(int i) const;  // http://host:port
  bool Start(int i, std::string* error);
  void Kill9(int i);
  // SIGTERM; the exit status as waitpid reports it, -1 if the member did not exit in time.
  int Terminate(int i, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running(int i) const { return members_[i].child.running(); }
  pid_t pid(int i) const { return members_[i].child.pid(); }  // for SIGSTOP / SIGCONT
  // True once member i has exited by itself (reaping it); never signals it.
  bool Exited(int i) { return members_[i].child.Exited(); }

  int size() const { return static_cast<int>(members_.size()); }
  std::string endpoint(int i) const;  // host:port (127.0.0.1 unless UseHosts)
  std::string endpoints() const;      // all of them, comma-separated
  int peer_port(int i) const { return members_[i].peer_port; }
  std::string data_dir(int i) const { return dir_ + "/" + members_[i].name; }
  std::string metrics_endpoint(int i) const;  // 127.0.0.1:port, after ServeMetrics()
  const std::string& dir() const { return dir_; }
  EtcdClient& client(int i) { return *members_[i].client; }

  // The member every running member names as leader, once they agree, or -1 after `timeout`.
  int WaitForLeader(std::chrono::milliseconds timeout);
  // Why the last WaitForLeader could not ask a member, for failure messages.
  const std::string& last_wait_error() const { return last_wait_error_; }
  // The last `bytes` of a member's log, for failure messages.
  std::string LogTail(int i, size_t bytes = 3000) const;

 private:
  struct Member {
    std::string name;
    std::string host = "127.0.0.1";
    std::vector<std::string> env;  // added to the environment at start
    int client_port = 0;
    int peer_port = 0;
    int metrics_port = 0;  // 0: no --listen-metrics-urls
    bool joining = false;  // added by AddMember
    std::vector<std::string> extra_flags;
    Child child;
    std::unique_ptr<EtcdClient> client;
  };

  std::vector<std::string> Flags(int i) const;

  std::string synod_path_;
  std::vector<std::string> extra_flags_;
  std::string dir_;
  std::vector<Member> members_;
  std::string last_wait_error_;
};

// Free TCP ports on 127.0.0.1 below the ephemeral range (distinct; another process may still
// take one before the member binds it, but never as the local port of an outgoing connection).
std::vector<int> FreePorts(int count);

}  // namespace synod::cluster_test
