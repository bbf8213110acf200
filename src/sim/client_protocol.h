// What simulated clients and node hosts say to each other. Clients reach nodes over their own
// links (not the partitioned peer network: the faults under test are between replicas), with
// latency, and get no answer from a node that is down.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "raft/types.h"
#include "sim/kv.h"

namespace synod::sim {

enum class RequestKind : uint8_t { kGet, kPut, kCas };

struct ClientRequest {
  uint64_t client = 0;
  uint64_t request = 0;  // per client, increasing; retries of one operation reuse it
  uint32_t attempt = 0;
  RequestKind kind = RequestKind::kGet;
  std::string key;
  std::string value;                    // kPut, kCas
  std::optional<std::string> expected;  // kCas
  bool read_via_log = false;            // kGet: propose it instead of using ReadIndex
  // The client gives up at this simulated time; a node never proposes the request later, so
  // an operation not proposed by its deadline provably had no effect.
  int64_t deadline_us = 0;
};

enum class ReplyStatus : uint8_t {
  kOk,
  kNotLeader,    // not proposed; try leader_hint (kNoNode: unknown)
  kUnavailable,  // not proposed; try again later
};

struct ClientReply {
  uint64_t client = 0;
  uint64_t request = 0;
  uint32_t attempt = 0;
  uint32_t node = 0;  // who answered
  ReplyStatus status = ReplyStatus::kOk;
  raft::NodeId leader_hint = raft::kNoNode;
  CommandResult result;
};

}  // namespace synod::sim
