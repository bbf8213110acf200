#include "server/serving_context.h"

#include <chrono>

namespace synod::server {

int64_t ServingContext::CachedDiskBytes(int64_t adding) {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  constexpr int64_t kRefreshNs = 1'000'000'000;
  constexpr int64_t kRefreshBytes = int64_t{1} << 20;
  const int64_t admitted = admitted_bytes_.fetch_add(adding) + adding;
  int64_t at = disk_bytes_at_ns_.load();
  // One caller refreshes; the others use the previous value meanwhile.
  if ((now - at >= kRefreshNs || admitted >= kRefreshBytes) &&
      disk_bytes_at_ns_.compare_exchange_strong(at, now)) {
    admitted_bytes_.store(0);
    disk_bytes_.store(kv_->DiskBytes());
    return disk_bytes_.load() + adding;
  }
  return disk_bytes_.load() + admitted;
}

}  // namespace synod::server
