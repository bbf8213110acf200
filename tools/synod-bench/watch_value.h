// The value of a watch put: its sequence number and send time (this process's steady clock,
// ns), 16 lowercase hex digits each, then filler up to --val-size. A watcher reads both back
// from the event, so it needs no shared table to match events to puts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace synod::bench {

inline constexpr size_t kWatchStampBytes = 32;

// At least kWatchStampBytes long; `val_size` when larger.
std::string WatchValue(uint64_t seq, uint64_t send_ns, uint32_t val_size);
// False for a value WatchValue did not write.
bool ParseWatchValue(std::string_view value, uint64_t* seq, uint64_t* send_ns);

// The key range_end that selects every key starting with `prefix` (etcd's prefix end: the
// prefix with its last byte below 0xff incremented, trailing 0xff bytes dropped; "\0" when
// every byte is 0xff, meaning all keys from `prefix` up).
std::string PrefixEnd(const std::string& prefix);

}  // namespace synod::bench
