#include "server/lessor.h"

#include <algorithm>

#include "base/assert.h"

namespace synod::server {
namespace {

LeaseTime Seconds(int64_t s) {
  return std::chrono::duration_cast<LeaseTime>(std::chrono::seconds(s));
}

}  // namespace

Lessor::Lessor(const LessorOptions& options, LeaseClock now)
    : opts_(options), now_(std::move(now)) {
  SYNOD_ASSERT(now_ != nullptr, "the lessor needs a clock");
  SYNOD_ASSERT(opts_.ttl_seconds_min >= 1, "a lease lives at least a second");
  SYNOD_ASSERT(opts_.revokes_per_tick_max >= 1, "expiry must make progress");
}

int64_t Lessor::EffectiveTtl(int64_t requested_seconds) const {
  SYNOD_ASSERT(requested_seconds <= kLeaseTtlSecondsMax, "the service refuses larger TTLs");
  return std::max(requested_seconds, opts_.ttl_seconds_min);
}

void Lessor::SetExpiry(int64_t id, Entry* e, LeaseTime expiry) {
  deadlines_.erase({e->expiry, id});
  e->expiry = expiry;
  deadlines_.insert({e->expiry, id});
}

void Lessor::Reset(const std::vector<mvcc::Lease>& leases) {
  const LeaseTime now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  leases_.clear();
  deadlines_.clear();
  for (const mvcc::Lease& l : leases) {
    Entry& e = leases_[l.id];
    e.ttl_seconds = l.ttl_seconds;
    e.expiry = now + Seconds(l.ttl_seconds);
    deadlines_.insert({e.expiry, l.id});
  }
  // Runs at start and when a follower installs a snapshot: the expiries this member measured
  // are lost or stale, so each lease gets a full TTL; becoming leader later extends them anyway.
  SYNOD_ASSERT(deadlines_.size() == leases_.size(), "one deadline per lease");
}

void Lessor::Granted(int64_t id, int64_t ttl_seconds) {
  SYNOD_ASSERT(id != mvcc::kNoLease, "the store grants only real ids");
  const LeaseTime now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = leases_.try_emplace(id);
  if (!fresh) deadlines_.erase({it->second.expiry, id});  // only after a Reset raced ahead
  it->second = Entry{ttl_seconds, now + Seconds(ttl_seconds), false};
  deadlines_.insert({it->second.expiry, id});
}

int64_t Lessor::Refreshed(int64_t id) {
  const LeaseTime now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return 0;
  Entry& e = it->second;
  // Never shorten: a promotion may have extended the lease beyond now + TTL.
  SetExpiry(id, &e, std::max(e.expiry, now + Seconds(e.ttl_seconds)));
  return e.ttl_seconds;
}

void Lessor::Revoked(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return;
  deadlines_.erase({it->second.expiry, id});
  leases_.erase(it);
  SYNOD_ASSERT(deadlines_.size() == leases_.size(), "one deadline per lease");
}

void Lessor::Promote(LeaseTime now) {
  // Rebuilt rather than updated in place: every deadline moves.
  deadlines_.clear();
  for (auto& [id, e] : leases_) {
    e.expiry = std::max(e.expiry, now + Seconds(e.ttl_seconds) + opts_.promotion_extension);
    e.revoking = false;
    deadlines_.insert({e.expiry, id});
  }
}

std::vector<int64_t> Lessor::Tick(bool leader, uint64_t term) {
  const LeaseTime now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  if (!leader) {
    if (leading_) {
      // Revokes proposed in the old term may still commit; if they do not, the next leader
      // decides again. Nothing is in flight from this member's point of view any more.
      for (auto& [id, e] : leases_) e.revoking = false;
    }
    leading_ = false;
    return {};
  }
  if (!leading_ || term != leading_term_) Promote(now);
  leading_ = true;
  leading_term_ = term;
  std::vector<int64_t> due;
  for (const auto& [expiry, id] : deadlines_) {
    if (expiry > now || due.size() >= opts_.revokes_per_tick_max) break;
    Entry& e = leases_.at(id);
    if (e.revoking) continue;
    e.revoking = true;
    due.push_back(id);
  }
  SYNOD_ASSERT(due.size() <= opts_.revokes_per_tick_max, "bounded revokes per tick");
  return due;
}

void Lessor::RevokeFailed(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(id);
  if (it != leases_.end()) it->second.revoking = false;
}

std::optional<LeaseTtl> Lessor::TimeToLive(int64_t id) const {
  const LeaseTime now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  const LeaseTime left = std::max(it->second.expiry - now, LeaseTime(0));
  // Whole seconds, rounded down, as etcd reports them.
  return LeaseTtl{it->second.ttl_seconds,
                  std::chrono::duration_cast<std::chrono::seconds>(left).count()};
}

size_t Lessor::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leases_.size();
}

LeaseIdGenerator::LeaseIdGenerator(uint64_t member_id, uint64_t unix_seconds)
    : prefix_((member_id & 0x7fff) << 48),
      counter_((unix_seconds << 16) & ((uint64_t{1} << 48) - 1)) {}

int64_t LeaseIdGenerator::Next() {
  constexpr uint64_t kCounterMask = (uint64_t{1} << 48) - 1;
  for (;;) {
    const uint64_t id = prefix_ | (counter_.fetch_add(1) & kCounterMask);
    // Bit 63 is never set (15 bits of member id above 48 of counter): the id is positive.
    if (id != 0) return static_cast<int64_t>(id);
  }
}

}  // namespace synod::server
