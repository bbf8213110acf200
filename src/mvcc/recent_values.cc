#include "mvcc/recent_values.h"

#include <rocksdb/write_batch.h>

#include "mvcc/codec.h"

namespace synod::mvcc {
namespace {

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// Replays a written batch into the copy. Anything it does not understand empties the copy
// rather than leave a value that may differ from the database's.
class Updater final : public rocksdb::WriteBatch::Handler {
 public:
  explicit Updater(RecentValues* values) : values_(values) {}

  rocksdb::Status PutCF(uint32_t /*cf*/, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    values_->Insert(View(key), View(value));  // ignores the spaces it does not keep
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t /*cf*/, const rocksdb::Slice& key) override {
    values_->Erase(View(key));
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t /*cf*/, const rocksdb::Slice& key) override {
    values_->Erase(View(key));
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(uint32_t /*cf*/, const rocksdb::Slice& /*begin*/,
                                const rocksdb::Slice& /*end*/) override {
    values_->Clear();
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t /*cf*/, const rocksdb::Slice& /*key*/,
                          const rocksdb::Slice& /*value*/) override {
    values_->Clear();
    return rocksdb::Status::OK();
  }

 private:
  RecentValues* values_;
};

}  // namespace

bool RecentValues::Cacheable(std::string_view key) {
  return key.starts_with(codec::kLatestPrefix) || key.starts_with(codec::kRevisionPrefix);
}

bool RecentValues::Lookup(std::string_view key, std::string* value) {
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return false;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  value->assign(it->second->value);
  return true;
}

void RecentValues::Insert(std::string_view key, std::string_view value) {
  if (!Cacheable(key)) return;
  if (key.size() + value.size() > capacity_ / 16) {
    Erase(key);
    return;
  }
  auto it = index_.find(key);
  if (it != index_.end()) {
    Item& item = *it->second;
    bytes_ -= Cost(item);
    item.value.assign(value);
    bytes_ += Cost(item);
    lru_.splice(lru_.begin(), lru_, it->second);
  } else {
    lru_.push_front(Item{std::string(key), std::string(value)});
    index_.emplace(std::string_view(lru_.front().key), lru_.begin());
    bytes_ += Cost(lru_.front());
  }
  EvictToCapacity();
}

void RecentValues::Written(const rocksdb::WriteBatch& batch) {
  Updater updater(this);
  if (!batch.Iterate(&updater).ok()) Clear();
}

void RecentValues::Erase(std::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  auto item = it->second;
  bytes_ -= Cost(*item);
  index_.erase(it);
  lru_.erase(item);
}

void RecentValues::Clear() {
  index_.clear();
  lru_.clear();
  bytes_ = 0;
}

void RecentValues::EvictToCapacity() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    const Item& last = lru_.back();
    bytes_ -= Cost(last);
    index_.erase(std::string_view(last.key));
    lru_.pop_back();
  }
}

}  // namespace synod::mvcc
