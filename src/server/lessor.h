// Lessor: when each lease of the key space expires, in this member's monotonic time.
//
// Every member keeps one. The store holds which leases exist and their granted TTL (that is
// replicated state); the lessor holds only each lease's expiry, which is local: it is set to
// now + TTL when the member applies the lease's grant or a keep-alive (both arrive through
// Raft, so every member refreshes at nearly the same moment), and to now + TTL for every lease
// the store holds when the member starts or installs a snapshot.
//
// Expiry is decided by one member only, the leader: Tick(leader=true) returns the expired
// leases the caller must propose a LeaseRevoke for, a bounded number per tick, never one whose
// revoke is still in flight. A revoke takes effect when it is applied, on every member alike.
// When a member becomes leader (a new term), every lease is extended to at least now + TTL +
// `promotion_extension` (as etcd does), so a leader change never expires a lease early: the
// new leader may not have applied the last keep-alives yet, and clients could not reach any
// leader during the election.
//
// Clock assumptions (docs/server.md, Lease): each member measures only durations on its own
// monotonic clock, which must advance at about the real rate (bounded drift, no jumps: a
// steady clock). Wall clocks are never compared between members. Expiry measured on the leader
// is the one that counts; followers' expiries only serve TimeToLive answers and take over after
// a promotion. The minimum TTL (1.5 election timeouts, etcd's) lets a partitioned leader step
// down (Raft's check-quorum, one election timeout) before its clock can expire a lease that the
// majority side keeps alive.
//
// Threads: every call is thread-safe (one mutex, never held across anything that blocks). The
// apply thread calls Granted/Refreshed/Revoked/Reset, a timer thread calls Tick, and services
// read TimeToLive. The clock is injected, so tests drive time by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "mvcc/types.h"

namespace synod::server {

// Milliseconds since an arbitrary, fixed origin of one member's monotonic clock.
using LeaseTime = std::chrono::milliseconds;
using LeaseClock = std::function<LeaseTime()>;

// etcd's bounds: TTLs above this are refused ("too large lease TTL").
inline constexpr int64_t kLeaseTtlSecondsMax = 9'000'000'000;

struct LessorOptions {
  // Grants below this TTL are raised to it (etcd: ceil(1.5 election timeouts) in seconds).
  int64_t ttl_seconds_min = 2;
  // Added to now + TTL for every lease when this member becomes leader (etcd: the election
  // timeout).
  LeaseTime promotion_extension{1000};
  // Expired leases one Tick hands out for revoking; the rest wait for the next ticks.
  size_t revokes_per_tick_max = 100;
};

// What TimeToLive answers for a lease this member knows.
struct LeaseTtl {
  int64_t granted_seconds = 0;
  int64_t remaining_seconds = 0;  // whole seconds left, 0 once expired (revoke pending)
};

class Lessor {
 public:
  Lessor(const LessorOptions& options, LeaseClock now);
  Lessor(const Lessor&) = delete;
  Lessor& operator=(const Lessor&) = delete;

  const LessorOptions& options() const { return opts_; }

  // TTL a grant of `requested_seconds` gets: raised to ttl_seconds_min. REQUIRES: requested is
  // at most kLeaseTtlSecondsMax (the service refuses larger ones).
  int64_t EffectiveTtl(int64_t requested_seconds) const;

  // ---- apply thread, in log order ----------------------------------------------------------
  // The store holds exactly `leases` (at start, after a snapshot): each expires at now + TTL.
  void Reset(const std::vector<mvcc::Lease>& leases);
  // A grant was applied: the lease expires at now + ttl.
  void Granted(int64_t id, int64_t ttl_seconds);
  // A keep-alive was applied: the lease's granted TTL, expiring at now + TTL; 0 when it does
  // not exist (already revoked or never granted).
  int64_t Refreshed(int64_t id);
  // A revoke was applied (or failed because the lease is gone): forget the lease.
  void Revoked(int64_t id);

  // ---- timer thread ----------------------------------------------------------------------------
  // `leader`: this member leads the Raft group in `term`. Promotes on a new leadership,
  // forgets revokes in flight when it leads no more, and returns the expired leases (earliest
  // first, at most revokes_per_tick_max) whose revoke the caller must now propose; they count
  // as in flight until Revoked or RevokeFailed.
  std::vector<int64_t> Tick(bool leader, uint64_t term);
  // The revoke proposal for `id` was not applied (no leader, timeout): a later Tick retries.
  void RevokeFailed(int64_t id);

  // ---- any thread ---------------------------------------------------------------------------
  std::optional<LeaseTtl> TimeToLive(int64_t id) const;
  size_t size() const;

 private:
  struct Entry {
    int64_t ttl_seconds = 0;
    LeaseTime expiry{0};
    bool revoking = false;
  };
  using Deadline = std::pair<LeaseTime, int64_t>;  // (expiry, id)

  // REQUIRES: mu_ held.
  void SetExpiry(int64_t id, Entry* e, LeaseTime expiry);
  void Promote(LeaseTime now);

  const LessorOptions opts_;
  const LeaseClock now_;
  mutable std::mutex mu_;  // guards everything below
  std::map<int64_t, Entry> leases_;
  std::set<Deadline> deadlines_;  // one per lease, ordered by expiry
  bool leading_ = false;
  uint64_t leading_term_ = 0;
};

// Lease ids a member chooses for grants without one: this member's id in the top bits, a
// counter below, positive and nonzero. The counter starts from the wall clock's seconds
// shifted left, so a restarted member does not reuse the ids of its earlier run unless it
// granted more than 2^16 leases per second on average. Members with equal low id bits could
// collide: the apply step refuses a duplicate ("lease already exists") and the client retries.
class LeaseIdGenerator {
 public:
  LeaseIdGenerator(uint64_t member_id, uint64_t unix_seconds);
  int64_t Next();

 private:
  const uint64_t prefix_;
  std::atomic<uint64_t> counter_;
};

}  // namespace synod::server
