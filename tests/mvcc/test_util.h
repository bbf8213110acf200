// Helpers for the MVCC tests: a temporary directory that removes itself, a store that numbers
// the Raft entries it applies, and short builders for requests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mvcc/store.h"

namespace synod::mvcc::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/synod-mvcc-XXXXXX";
    const char* made = mkdtemp(tmpl.data());
    SYNOD_ASSERT(made != nullptr, "mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A store in a temporary directory, applying requests as consecutive Raft entries.
class TestStore {
 public:
  explicit TestStore(StoreOptions options = {}) : options_(std::move(options)) {
    if (options_.path.empty()) options_.path = dir_.Sub("db");
    Open();
  }

  void Open() {
    auto opened = Store::Open(options_);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    store_ = std::move(opened.value());
  }
  void Close() { store_.reset(); }
  void Reopen() {
    Close();
    Open();
  }

  Store& operator*() { return *store_; }
  Store* operator->() { return store_.get(); }
  StoreOptions& options() { return options_; }
  const TempDir& dir() const { return dir_; }

  // Applies `request` as the next entry; a fatal error fails the test.
  Outcome<ApplyResult> Apply(const WriteRequest& request) {
    const RaftIndex index = store_->applied_index() + 1;
    auto result = store_->Apply(index, request);
    EXPECT_TRUE(result.ok() || !result.error().fatal()) << result.error().ToString();
    EXPECT_EQ(store_->applied_index(), index);
    return result;
  }

  // Applies and expects success.
  ApplyResult MustApply(const WriteRequest& request) {
    auto result = Apply(request);
    SYNOD_ASSERT(result.ok(), "apply failed in a test that expects success");
    return std::move(result.value());
  }

  int64_t Put(const std::string& key, const std::string& value, int64_t lease = kNoLease) {
    PutRequest p;
    p.key = key;
    p.value = value;
    p.lease = lease;
    return MustApply(p).revision;
  }

  int64_t Delete(const std::string& key, const std::string& range_end = "") {
    DeleteRangeRequest d;
    d.key = key;
    d.range_end = range_end;
    return MustApply(d).revision;
  }

  RangeResult MustRange(const RangeRequest& r) {
    auto result = store_->Range(r);
    SYNOD_ASSERT(result.ok(), "range failed in a test that expects success");
    return std::move(result.value().result);
  }

  // The visible version of one key at `revision` (0: current).
  std::optional<KeyValue> Get(const std::string& key, int64_t revision = 0) {
    RangeRequest r;
    r.key = key;
    r.revision = revision;
    RangeResult result = MustRange(r);
    if (result.kvs.empty()) return std::nullopt;
    return result.kvs.front();
  }

  // Every live key at `revision` (0: current), with values.
  std::vector<KeyValue> All(int64_t revision = 0) {
    RangeRequest r;
    r.key = std::string(1, '\0');
    r.range_end = std::string(1, '\0');
    r.revision = revision;
    return MustRange(r).kvs;
  }

 private:
  TempDir dir_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

inline std::string Zero() { return std::string(1, '\0'); }

inline RangeRequest RangeOf(std::string key, std::string range_end = "") {
  RangeRequest r;
  r.key = std::move(key);
  r.range_end = std::move(range_end);
  return r;
}

inline PutRequest PutOf(std::string key, std::string value, int64_t lease = kNoLease) {
  PutRequest p;
  p.key = std::move(key);
  p.value = std::move(value);
  p.lease = lease;
  return p;
}

inline DeleteRangeRequest DeleteOf(std::string key, std::string range_end = "") {
  DeleteRangeRequest d;
  d.key = std::move(key);
  d.range_end = std::move(range_end);
  return d;
}

inline RequestOp Op(RangeRequest r) { return RequestOp{std::move(r)}; }
inline RequestOp Op(PutRequest p) { return RequestOp{std::move(p)}; }
inline RequestOp Op(DeleteRangeRequest d) { return RequestOp{std::move(d)}; }
inline RequestOp Op(TxnRequest t) { return RequestOp{std::move(t)}; }

inline Compare CompareVersion(std::string key, CompareResult result, int64_t version) {
  Compare c;
  c.key = std::move(key);
  c.target = CompareTarget::kVersion;
  c.result = result;
  c.version = version;
  return c;
}

inline Compare CompareValue(std::string key, CompareResult result, std::string value) {
  Compare c;
  c.key = std::move(key);
  c.target = CompareTarget::kValue;
  c.result = result;
  c.value = std::move(value);
  return c;
}

inline std::vector<std::string> KeysOf(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> keys;
  for (const KeyValue& kv : kvs) keys.push_back(kv.key);
  return keys;
}

}  // namespace synod::mvcc::testing
