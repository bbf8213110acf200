// The values an apply is most likely to read next, kept in memory: the latest entry of each
// recently written or read key (x/) and its revision record (r/). A put reads both for the
// key it overwrites (the previous version's numbers and, for the event's prev_kv, its value);
// from RocksDB each is a search of the memtable's skip list and, for older keys, of the files.
//
// A write-through copy, never the authority: every batch the store writes passes through
// Written() after RocksDB accepted it, so an entry here always equals the database's value.
// Bounded by bytes (least recently used first out). Used only under the store's write lock
// (the apply thread); readers on other threads read their own snapshots, not this.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rocksdb {
class WriteBatch;
}

namespace synod::mvcc {

class RecentValues {
 public:
  explicit RecentValues(size_t capacity_bytes) : capacity_(capacity_bytes) {}
  RecentValues(const RecentValues&) = delete;
  RecentValues& operator=(const RecentValues&) = delete;

  // Whether keys of this space are kept at all (the point-read spaces x/ and r/).
  static bool Cacheable(std::string_view key);

  // Copies the value of `key` into *value and returns true, or false when it is not here.
  bool Lookup(std::string_view key, std::string* value);
  // Records what the database holds for `key` (after a read of it). Ignores keys that are not
  // Cacheable and values larger than a sixteenth of the capacity.
  void Insert(std::string_view key, std::string_view value);
  // Brings the copy up to date with `batch`, which the database has just written.
  void Written(const rocksdb::WriteBatch& batch);
  void Erase(std::string_view key);
  void Clear();

  size_t bytes() const { return bytes_; }
  size_t size() const { return index_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  struct Item {
    std::string key;
    std::string value;
  };
  static size_t Cost(const Item& item) { return item.key.size() + item.value.size() + 96; }
  void EvictToCapacity();

  const size_t capacity_;
  size_t bytes_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  std::list<Item> lru_;  // most recently used first
  // Keys view the strings of their list items, which stay put while the item lives.
  std::unordered_map<std::string_view, std::list<Item>::iterator> index_;
};

}  // namespace synod::mvcc
