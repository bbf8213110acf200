// Simulated clients: each runs one operation at a time (get, put or compare-and-set on a small
// key set), sends it to the node it believes is the leader (or a random one), follows NotLeader
// hints, retries after an attempt timeout, and gives up at the operation's deadline. Retries
// reuse the request id, so the state machine's sessions apply an operation at most once.
//
// Every operation is recorded for the linearizability checker. A request carries its deadline
// and nodes refuse to propose it afterwards, so once a client gave up, nothing it sent can
// still enter a log: an operation that was never proposed by then provably had no effect.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/random.h"
#include "sim/client_protocol.h"
#include "sim/cluster.h"
#include "sim/history_recorder.h"

namespace synod::sim {

class Workload {
 public:
  Workload(Cluster* cluster, HistoryRecorder* recorder, Random rng);

  void Start();
  // No new operations; those in flight finish or give up.
  void Stop() { stopped_ = true; }
  bool Idle() const;

  void OnReply(const ClientReply& reply);
  void OnProposed(uint64_t client, uint64_t request);

  uint64_t completed() const { return completed_; }
  uint64_t gave_up() const { return gave_up_; }

 private:
  struct Client {
    uint64_t id = 0;
    bool busy = false;
    ClientRequest req;
    HistoryRecorder::OpId op = 0;
    bool proposed = false;
    Micros deadline_us = 0;
    raft::NodeId leader_hint = raft::kNoNode;
    std::map<std::string, std::optional<std::string>> last_seen;
  };

  void ScheduleNext(Client& c);
  void NextOp(Client& c);
  void SendAttempt(Client& c);
  void OnAttemptTimeout(uint64_t client, uint64_t request, uint32_t attempt);
  void Retry(Client& c, bool keep_hint);
  void GiveUp(Client& c);
  Client& client(uint64_t id);

  Cluster* cluster_;
  HistoryRecorder* recorder_;
  Random rng_;
  const SimOptions& o_;
  std::vector<Client> clients_;       // client ids are 1..n (0 is the liveness probe)
  std::vector<std::string> written_;  // recent values, for cas expectations
  bool stopped_ = false;
  uint64_t completed_ = 0;
  uint64_t gave_up_ = 0;
};

}  // namespace synod::sim
