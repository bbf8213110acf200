#include "metrics/process.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace synod::metrics {
namespace {

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string_view> Fields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::optional<uint64_t> ToU64(std::string_view s) {
  uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> StatmField(std::string_view statm, size_t i) {
  const auto f = Fields(statm);
  if (f.size() <= i) return std::nullopt;
  return ToU64(f[i]);
}

double PageBytes() {
  return static_cast<double>(sysconf(_SC_PAGESIZE));
}

double OpenFds() {
  std::error_code ec;
  double n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  // The iterator's own descriptor is among those listed.
  return n > 0 ? n - 1 : 0;
}

double MaxFds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return limit.rlim_cur == RLIM_INFINITY ? 0 : static_cast<double>(limit.rlim_cur);
}

}  // namespace

std::optional<uint64_t> ParseStatmResidentPages(std::string_view statm) {
  return StatmField(statm, 1);
}

std::optional<uint64_t> ParseStatmVirtualPages(std::string_view statm) {
  return StatmField(statm, 0);
}

std::optional<ProcStat> ParseProcStat(std::string_view stat, double ticks_per_second) {
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  // After "pid (comm)": field 3 (state) is index 0; utime is field 14, stime 15, starttime 22.
  const auto f = Fields(stat.substr(close + 1));
  if (f.size() < 20) return std::nullopt;
  const auto utime = ToU64(f[11]), stime = ToU64(f[12]), start = ToU64(f[19]);
  if (!utime || !stime || !start) return std::nullopt;
  ProcStat s;
  s.cpu_seconds = static_cast<double>(*utime + *stime) / ticks_per_second;
  s.start_after_boot_seconds = static_cast<double>(*start) / ticks_per_second;
  return s;
}

std::optional<uint64_t> ParseBootTime(std::string_view proc_stat) {
  size_t pos = 0;
  while (pos < proc_stat.size()) {
    const size_t eol = std::min(proc_stat.find('\n', pos), proc_stat.size());
    const std::string_view line = proc_stat.substr(pos, eol - pos);
    if (line.starts_with("btime ")) return ToU64(line.substr(6));
    pos = eol + 1;
  }
  return std::nullopt;
}

void AddProcessMetrics(Registry* registry) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  registry->AddGaugeCallback("process_resident_memory_bytes", "Resident memory size in bytes.", [] {
    const auto pages = ParseStatmResidentPages(ReadSmallFile("/proc/self/statm"));
    return pages ? static_cast<double>(*pages) * PageBytes() : 0.0;
  });
  registry->AddGaugeCallback("process_virtual_memory_bytes", "Virtual memory size in bytes.", [] {
    const auto pages = ParseStatmVirtualPages(ReadSmallFile("/proc/self/statm"));
    return pages ? static_cast<double>(*pages) * PageBytes() : 0.0;
  });
  registry->AddCounterCallback(
      "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", [ticks] {
        const auto s = ParseProcStat(ReadSmallFile("/proc/self/stat"), ticks);
        return s ? s->cpu_seconds : 0.0;
      });
  registry->AddGaugeCallback("process_open_fds", "Number of open file descriptors.", OpenFds);
  registry->AddGaugeCallback("process_max_fds", "Maximum number of open file descriptors.", MaxFds);
  // The start time never changes: read once.
  const auto s = ParseProcStat(ReadSmallFile("/proc/self/stat"), ticks);
  const auto boot = ParseBootTime(ReadSmallFile("/proc/stat"));
  const double start = s && boot ? static_cast<double>(*boot) + s->start_after_boot_seconds : 0.0;
  registry->AddGaugeCallback("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.",
                             [start] { return start; });
}

}  // namespace synod::metrics
