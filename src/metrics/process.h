// The process_* metrics every Prometheus client library exports (Linux): resident and virtual
// memory, CPU time, open and allowed file descriptors, start time. Read from /proc at each
// scrape, so they cost nothing between scrapes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "metrics/registry.h"

namespace synod::metrics {

void AddProcessMetrics(Registry* registry);

// Parsers of /proc text, apart so they can be tested on fixed input.
struct ProcStat {
  double cpu_seconds = 0;               // utime + stime
  double start_after_boot_seconds = 0;  // starttime
};
// /proc/self/statm: "size resident shared ..." in pages -> resident pages.
std::optional<uint64_t> ParseStatmResidentPages(std::string_view statm);
std::optional<uint64_t> ParseStatmVirtualPages(std::string_view statm);
// /proc/self/stat; `ticks_per_second` is sysconf(_SC_CLK_TCK). The command name (field 2) may
// hold spaces and parentheses, so fields are counted after its last ')'.
std::optional<ProcStat> ParseProcStat(std::string_view stat, double ticks_per_second);
// /proc/stat: the "btime" line, boot time in seconds since the epoch.
std::optional<uint64_t> ParseBootTime(std::string_view proc_stat);

}  // namespace synod::metrics
