// MemberRegistry: the cluster's members as the Raft log says (etcd's member list): ID, name,
// peer URLs, client URLs, learner or voter, and the IDs removed for good.
//
// Replicated state. Raft's configuration knows only IDs; the addresses travel in the context
// of each membership change (serverpb.MemberChange) and in ordinary commands (new peer URLs,
// a member's name and client URLs once it started), and every member applies them in log
// order. The list is kept in <data-dir>/members (written whole, atomically, at each change,
// with the index of the entry) and travels in every snapshot image, so a member that joins
// or falls behind receives it with the data.
//
// Idempotent by index: a restart replays the membership changes after Raft's snapshot, some of
// which the file may already hold; changes at or below its index are skipped.
//
// Threads: the Apply* and Restore calls come from the node's loop thread; List, Find and
// WasRemoved from any thread. `on_change` runs on the loop thread after each change.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "raft/types.h"

namespace synod::server {

struct MemberRecord {
  uint64_t id = 0;
  std::string name;  // empty until the member has started and published it
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;  // empty until the member has started
  bool learner = false;
  bool operator==(const MemberRecord&) const = default;
};

class MemberRegistry {
 public:
  using ChangeCallback = std::function<void(const std::vector<MemberRecord>&)>;

  // Loads `path`; when it does not exist, starts from `initial` (a new cluster's
  // --initial-cluster, every member a voter) at index 0 and writes it.
  static Result<std::unique_ptr<MemberRegistry>> Open(std::string path,
                                                      std::vector<MemberRecord> initial);

  std::vector<MemberRecord> List() const;  // by ID
  std::optional<MemberRecord> Find(uint64_t id) const;
  bool WasRemoved(uint64_t id) const;
  raft::LogIndex applied_index() const;

  // A committed Raft membership change: `context` is a serialized serverpb.MemberChange (or
  // empty), `conf` the configuration that resulted. Records the member's peer URLs, then makes
  // the list agree with `conf`: members outside it are removed, learner flags follow it.
  void ApplyConfChange(raft::LogIndex index, std::string_view context, const raft::ConfState& conf);
  // Cluster.MemberUpdate: new peer URLs for a member (ignored if it is not a member).
  void ApplyPeerUrls(raft::LogIndex index, uint64_t id, std::vector<std::string> peer_urls);
  // A started member's name and client URLs.
  void ApplyAttributes(raft::LogIndex index, uint64_t id, std::string name,
                       std::vector<std::string> client_urls);

  // The whole state as bytes (serverpb.MemberState), for snapshot images, and back.
  std::string Encode() const;
  Status Restore(std::string_view bytes);

  void set_on_change(ChangeCallback callback) { on_change_ = std::move(callback); }

 private:
  explicit MemberRegistry(std::string path) : path_(std::move(path)) {}
  // Writes the file (temporary, sync, rename, sync the directory). A failure stops the
  // process: the member list would fall behind the applied log.
  void Persist();
  void Changed();
  Status Decode(std::string_view bytes);

  const std::string path_;
  mutable std::mutex mu_;  // guards the three below; written only by the loop thread
  std::vector<MemberRecord> members_;
  std::set<uint64_t> removed_;
  raft::LogIndex applied_;
  ChangeCallback on_change_;
};

}  // namespace synod::server
