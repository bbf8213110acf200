// The lease workload: each request is one cycle of LeaseGrant (TTL --ttl), one keep-alive on
// the client's LeaseKeepAlive stream, and LeaseRevoke. The cycle is the request that counts
// (ok, errors, latency); each step's latency is kept apart as well.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "driver.h"
#include "options.h"

namespace synod::bench {

// Runs --clients lease clients over `channels` (already connected to `targets`).
Result<RunResult> RunLease(const BenchOptions& options, const std::vector<std::string>& targets,
                           const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                           const std::function<void(const Progress&)>& progress);

}  // namespace synod::bench
