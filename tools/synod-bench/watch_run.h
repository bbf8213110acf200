// The watch fan-out workload. --watchers watches on one prefix, spread over --conns channels
// with one Watch stream per channel carrying its watchers' ids (as etcd's Go client
// multiplexes every watch of a context on one stream); once the server has confirmed every
// watch, one writer on its own channel puts under the prefix at --rate puts/s, open loop.
// Each value starts with the put's sequence number and its send time on this process's steady
// clock, so an event's delivery latency is its arrival time minus that send time. Every
// watcher must see each successful put exactly once, in revision order: missed, duplicated
// and out-of-order events are counted per watcher.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "driver.h"
#include "options.h"

namespace synod::bench {

Result<RunResult> RunWatch(const BenchOptions& options, const std::vector<std::string>& targets,
                           const std::function<void(const Progress&)>& progress);

}  // namespace synod::bench
