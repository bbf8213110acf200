#include "server/lock_recipes.h"

#include <cstdio>
#include <future>

#include "base/assert.h"
#include "etcdserverpb/rpc.pb.h"
#include "server/command.pb.h"
#include "server/errors.h"
#include "server/kv_machine.h"
#include "server/serving_context.h"

namespace synod::server {
namespace {

api::WireStatus Ok() {
  return api::WireStatus{};
}

api::WireStatus SessionExpired() {
  // etcd's client recipe says this when the contender's key is gone (its lease ended).
  return api::WireStatus{api::GrpcCode::kUnknown, "session: session is expired"};
}

}  // namespace

std::string ContenderKey(const std::string& prefix, int64_t lease) {
  char hex[24];
  std::snprintf(hex, sizeof(hex), "%llx", static_cast<unsigned long long>(lease));
  return prefix + hex;
}

Recipes::Recipes(ServingContext* ctx, RecipeLimits limits) : ctx_(ctx), limits_(limits) {}

Recipes::~Recipes() {
  // The server is stopping (ServingContext::stopping): every task ends within a poll interval
  // or as soon as the stopped node answers its proposal.
  std::lock_guard<std::mutex> lock(mu_);
  for (Task& t : tasks_) t.thread.join();
}

void Recipes::ReapLocked() {
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = tasks_.erase(it);
    } else {
      ++it;
    }
  }
}

bool Recipes::Spawn(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mu_);
  ReapLocked();
  if (tasks_.size() >= limits_.waiters_max) return false;
  auto done = std::make_shared<std::atomic<bool>>(false);
  tasks_.push_back(Task{std::thread([task = std::move(task), done] {
                          task();
                          done->store(true);
                        }),
                        done});
  return true;
}

bool Recipes::stopping() const {
  return ctx_->stopping();
}

api::WireStatus Recipes::Txn(const etcdserverpb::TxnRequest& txn, bool* succeeded,
                             int64_t* revision, const std::string& fence_lock) {
  serverpb::Command c;
  *c.mutable_txn() = txn;
  if (!fence_lock.empty()) c.add_fence_locks(fence_lock);
  auto done = std::make_shared<std::promise<Result<std::any>>>();
  std::future<Result<std::any>> applied = done->get_future();
  ctx_->node().Propose(c.SerializeAsString(),
                       [done](Result<std::any> r) { done->set_value(std::move(r)); });
  // The node answers every proposal: applied, refused, timed out, or failed when it stops.
  Result<std::any> r = applied.get();
  if (!r.ok()) return ToWireStatus(r.status(), ctx_->stopping());
  const auto* out = std::any_cast<ApplyOutcome>(&r.value());
  SYNOD_ASSERT(out != nullptr, "KvMachine::Apply returns an ApplyOutcome");
  if (!out->ok()) return ToWireStatus(out->error());
  *succeeded = std::get<mvcc::TxnResult>(out->value().result).succeeded;
  *revision = out->value().revision;
  return Ok();
}

api::WireStatus Recipes::Barrier() {
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> reached = done->get_future();
  ctx_->node().ReadBarrier([done](Status s) { done->set_value(std::move(s)); });
  Status s = reached.get();
  if (!s.ok()) return ToWireStatus(s, ctx_->stopping());
  return Ok();
}

std::optional<mvcc::KeyValue> Recipes::Get(const std::string& key) const {
  mvcc::RangeRequest r;
  r.key = key;
  auto got = ctx_->kv().Read([&](const mvcc::Store& s) { return s.Range(r); });
  if (!got.ok() || got.value().result.kvs.empty()) return std::nullopt;
  return got.value().result.kvs.front();
}

std::optional<mvcc::KeyValue> Recipes::First(const std::string& prefix,
                                             int64_t max_create_revision) const {
  mvcc::RangeRequest r;
  r.key = prefix;
  r.range_end = mvcc::PrefixEnd(prefix);
  r.limit = 1;
  r.sort_order = mvcc::SortOrder::kAscend;
  r.sort_target = mvcc::SortTarget::kCreate;
  r.max_create_revision = max_create_revision;
  auto got = ctx_->kv().Read([&](const mvcc::Store& s) { return s.Range(r); });
  if (!got.ok() || got.value().result.kvs.empty()) return std::nullopt;
  return got.value().result.kvs.front();
}

int64_t Recipes::revision() const {
  return ctx_->kv().Read([](const mvcc::Store& s) { return s.revision(); });
}

api::WireStatus Recipes::Acquire(const std::string& prefix, const std::string& key, int64_t lease,
                                 const std::string& value, bool proclaim,
                                 const std::function<bool()>& cancelled, Contender* out) {
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* cmp = txn.add_compare();
  cmp->set_key(key);
  cmp->set_target(etcdserverpb::Compare::CREATE);
  cmp->set_result(etcdserverpb::Compare::EQUAL);
  cmp->set_create_revision(0);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
  bool created = false;
  // A lock (not an election, which proclaims) is fenced: its holders' tokens are tracked.
  const std::string fence_lock = proclaim ? "" : prefix.substr(0, prefix.size() - 1);
  api::WireStatus s = Txn(txn, &created, &out->revision, fence_lock);
  if (!s.ok()) return s;
  out->existed = !created;
  // The txn has applied here, so the local store holds the key (unless it is gone already).
  std::optional<mvcc::KeyValue> mine = Get(key);
  if (!mine) return SessionExpired();
  if (proclaim && out->existed && mine->value != value) {
    bool held = false;
    s = PutIfHeld(key, mine->create_revision, lease, value, &held, &out->revision);
    if (!s.ok()) return s;
    if (!held) return SessionExpired();
    mine = Get(key);
    if (!mine) return SessionExpired();
  }
  out->kv = *mine;
  while (First(prefix, mine->create_revision - 1).has_value()) {
    if (stopping()) return api::ToWireStatus(api::EtcdError::kStopped);
    if (cancelled()) {
      int64_t ignored = 0;
      (void)Delete(key, mine->create_revision, &ignored);
      return api::WireStatus{api::GrpcCode::kCanceled, "context canceled"};
    }
    Pause();
    std::optional<mvcc::KeyValue> still = Get(key);
    if (!still || still->create_revision != mine->create_revision) return SessionExpired();
  }
  return Ok();
}

api::WireStatus Recipes::PutIfHeld(const std::string& key, int64_t create_revision, int64_t lease,
                                   const std::string& value, bool* held, int64_t* revision) {
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* cmp = txn.add_compare();
  cmp->set_key(key);
  cmp->set_target(etcdserverpb::Compare::CREATE);
  cmp->set_result(etcdserverpb::Compare::EQUAL);
  cmp->set_create_revision(create_revision);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
  return Txn(txn, held, revision);
}

api::WireStatus Recipes::Delete(const std::string& key, int64_t create_revision,
                                int64_t* revision) {
  etcdserverpb::TxnRequest txn;
  if (create_revision > 0) {
    etcdserverpb::Compare* cmp = txn.add_compare();
    cmp->set_key(key);
    cmp->set_target(etcdserverpb::Compare::CREATE);
    cmp->set_result(etcdserverpb::Compare::EQUAL);
    cmp->set_create_revision(create_revision);
  }
  txn.add_success()->mutable_request_delete_range()->set_key(key);
  bool deleted = false;
  return Txn(txn, &deleted, revision);
}

}  // namespace synod::server
