#include "server/kv_machine.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <mutex>

#include "base/assert.h"
#include "server/command.pb.h"
#include "server/convert.h"
#include "server/fence.h"
#include "server/snapshot_files.h"
#include "server/snapshot_image.h"
#include "storage/file.h"

namespace synod::server {
namespace {

namespace fs = std::filesystem;

// The member list's file inside a snapshot image, beside the store's checkpoint files.
constexpr const char* kMembersImageFile = "synod-members";

mvcc::RaftIndex ToStore(raft::LogIndex i) { return mvcc::RaftIndex(i.value); }

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status(ErrorCode::kIoError, "remove " + path + ": " + ec.message());
  return Status::Ok();
}

Status Rename(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return Status(ErrorCode::kIoError, "rename " + from + " -> " + to + ": " + ec.message());
  return Status::Ok();
}

// Makes renames inside `dir` durable.
Status SyncDir(const std::string& dir) {
  auto d = storage::File::OpenDirectory(dir);
  if (!d.ok()) return d.status();
  return d.value().Sync();
}

// A committed command this member cannot decode means its log or its build is not the
// others'; applying anything else would let the replicas diverge, so it stops here.
serverpb::Command ParseOrDie(raft::LogIndex index, std::string_view command) {
  serverpb::Command c;
  const bool parsed = c.ParseFromArray(command.data(), static_cast<int>(command.size()));
  if (!parsed) {
    const std::string msg = "undecodable command at index " + std::to_string(index.value);
    SYNOD_ASSERT(parsed, msg.c_str());
  }
  return c;
}

mvcc::WriteRequest DecodeOrDie(raft::LogIndex index, const serverpb::Command& c) {
  switch (c.op_case()) {
    case serverpb::Command::kPut: return FromProto(c.put());
    case serverpb::Command::kDeleteRange: return FromProto(c.delete_range());
    case serverpb::Command::kTxn: return FromProto(c.txn());
    case serverpb::Command::kCompaction: return FromProto(c.compaction());
    case serverpb::Command::kLeaseGrant: return FromProto(c.lease_grant());
    case serverpb::Command::kLeaseRevoke: return FromProto(c.lease_revoke());
    case serverpb::Command::kLeaseKeepAlive:  // not a write: Apply handles it before
    case serverpb::Command::kAlarm:           // not a write: Apply handles it before
    case serverpb::Command::kMemberUpdate:    // membership: likewise
    case serverpb::Command::kMemberAttributes:
    case serverpb::Command::OP_NOT_SET: break;
  }
  const std::string msg = "command of unknown kind at index " + std::to_string(index.value) +
                          " (written by a newer synod?)";
  SYNOD_ASSERT(false, msg.c_str());
  SYNOD_UNREACHABLE("asserted above");
}

// What the NOSPACE alarm refuses: a put, or a txn holding one (in either branch, at any depth).
bool WritesValues(const std::vector<mvcc::RequestOp>& ops) {
  for (const mvcc::RequestOp& op : ops) {
    if (std::holds_alternative<mvcc::PutRequest>(op.request)) return true;
    const auto* t = std::get_if<mvcc::TxnRequest>(&op.request);
    if (t != nullptr && (WritesValues(t->success) || WritesValues(t->failure))) return true;
  }
  return false;
}

bool WritesValues(const mvcc::WriteRequest& request) {
  if (std::holds_alternative<mvcc::PutRequest>(request)) return true;
  const auto* t = std::get_if<mvcc::TxnRequest>(&request);
  return t != nullptr && (WritesValues(t->success) || WritesValues(t->failure));
}

}  // namespace

Result<std::unique_ptr<KvMachine>> KvMachine::Open(const KvMachineOptions& options) {
  SYNOD_ASSERT(!options.dir.empty(), "KvMachine needs a directory");
  std::unique_ptr<KvMachine> m(new KvMachine(options));
  const std::string incoming = options.dir + ".incoming";
  const std::string old = options.dir + ".old";
  std::error_code ec;
  // A Restore that stopped between its two renames left the complete new store in .incoming.
  if (!fs::exists(options.dir, ec) && fs::exists(incoming, ec)) {
    Status s = Rename(incoming, options.dir);
    if (!s.ok()) return s;
    m->Log("finished an interrupted snapshot install");
  }
  for (const std::string& leftover :
       {incoming, old, options.dir + ".checkpoint", m->backups_dir()}) {
    Status s = RemoveAll(leftover);
    if (!s.ok()) return s;
  }
  Status s = storage::CreateDirectories(m->snapshots_dir());
  if (s.ok()) s = RemoveSnapshotTempFiles(m->snapshots_dir());
  if (!s.ok()) return s;
  if (s = m->OpenStore(options.dir); !s.ok()) return s;
  if (s = m->ResetLessor(); !s.ok()) return s;
  if (s = m->LoadAlarms(); !s.ok()) return s;
  if (s = m->LoadFenceMarks(); !s.ok()) return s;
  if (options.observer != nullptr) options.observer->OnReset(m->store_->revision());
  return m;
}

Status KvMachine::OpenStore(const std::string& path) {
  mvcc::StoreOptions so = opts_.store;
  so.path = path;
  auto opened = mvcc::Store::Open(so);
  if (!opened.ok()) return opened.error().ToStatus();
  store_ = std::move(opened.value());
  return Status::Ok();
}

std::any KvMachine::Apply(raft::LogIndex index, std::string_view command) {
  const serverpb::Command parsed = ParseOrDie(index, command);
  if (parsed.has_lease_keep_alive()) return ApplyKeepAlive(index, parsed.lease_keep_alive().id());
  if (parsed.has_alarm()) {
    return ApplyAlarm(index, parsed.alarm().action(), parsed.alarm().memberid(),
                      parsed.alarm().alarm());
  }
  if (parsed.has_member_update() || parsed.has_member_attributes()) {
    return ApplyMembership(index, parsed);
  }
  const mvcc::WriteRequest request = DecodeOrDie(index, parsed);
  if (no_space_.load() && WritesValues(request)) {
    // etcd's capped applier: with NOSPACE raised, every member refuses the same writes.
    ApplyEmpty(index);
    return std::any(ApplyOutcome(mvcc::Errc::kNoSpace));
  }
  if (parsed.fences_size() > 0) {
    // Fencing (fence.h): decided here, against the store at this entry, so on every member alike.
    if (auto refused = CheckFences(*store_, parsed, fence_marks_)) {
      if (refused->fatal()) {
        const std::string msg = "fence check at index " + std::to_string(index.value) + ": " +
                                refused->ToString();
        SYNOD_ASSERT(false, msg.c_str());
      }
      ApplyEmpty(index);
      return std::any(ApplyOutcome(*refused));
    }
  }
  ApplyOutcome outcome = ApplyFenced(index, parsed, request);
  if (!outcome.ok() && outcome.error().fatal()) {
    // The store could not record the entry: going on would acknowledge writes it lost.
    const std::string msg = "store cannot apply index " + std::to_string(index.value) + ": " +
                            outcome.error().ToString();
    Log(msg);
    SYNOD_ASSERT(false, msg.c_str());
  }
  SYNOD_ASSERT(store_->applied_index() == ToStore(index), "apply must consume the entry");
  TellLessor(request, outcome);
  if (opts_.observer != nullptr && outcome.ok() && !outcome.value().events.empty()) {
    opts_.observer->OnApply(outcome.value().revision, outcome.value().events);
  }
  return std::any(std::move(outcome));
}

ApplyOutcome KvMachine::ApplyFenced(raft::LogIndex index, const serverpb::Command& command,
                                    const mvcc::WriteRequest& request) {
  // Most entries name no lock and no lock is tracked: nothing to ask.
  if (fence_marks_.empty() && command.fences_size() == 0 && command.fence_locks_size() == 0) {
    return store_->Apply(ToStore(index), request);
  }
  std::vector<mvcc::FenceMark> raised;
  std::optional<mvcc::Error> failed;
  ApplyOutcome outcome =
      store_->Apply(ToStore(index), request, [&](const std::vector<mvcc::Event>& events) {
        raised = RaisedFenceMarks(*store_, command, fence_marks_, events, &failed);
        return raised;
      });
  if (failed.has_value()) {
    // Going on without the marks would let this member refuse other writes than the rest.
    const std::string msg =
        "fence marks at index " + std::to_string(index.value) + ": " + failed->ToString();
    Log(msg);
    SYNOD_ASSERT(false, msg.c_str());
  }
  if (outcome.ok()) {
    for (const mvcc::FenceMark& m : raised) fence_marks_[m.name] = m.token;
  }
  return outcome;
}

Status KvMachine::LoadFenceMarks() {
  auto marks = store_->FenceMarks();
  if (!marks.ok()) return marks.error().ToStatus();
  fence_marks_.clear();
  for (const mvcc::FenceMark& m : marks.value()) fence_marks_[m.name] = m.token;
  return Status::Ok();
}

std::any KvMachine::ApplyKeepAlive(raft::LogIndex index, int64_t lease) {
  ApplyEmpty(index);  // nothing changes in the key space; the index still moves
  KeepAliveOutcome out;
  out.revision = store_->revision();
  if (opts_.lessor != nullptr) out.ttl_seconds = opts_.lessor->Refreshed(lease);
  return std::any(out);
}

std::any KvMachine::ApplyMembership(raft::LogIndex index, const serverpb::Command& c) {
  // The member list is written (synced) before the store records the index: a crash between
  // the two replays the entry, which the registry skips by its index.
  if (opts_.members != nullptr && c.has_member_update()) {
    const auto& u = c.member_update();
    opts_.members->ApplyPeerUrls(index, u.id(), {u.peerurls().begin(), u.peerurls().end()});
  } else if (opts_.members != nullptr) {
    const auto& a = c.member_attributes();
    opts_.members->ApplyAttributes(index, a.id(), a.name(),
                                   {a.clienturls().begin(), a.clienturls().end()});
  }
  ApplyEmpty(index);
  return std::any(store_->revision());
}

void KvMachine::ApplyConfChange(raft::LogIndex index, std::string_view context,
                                const raft::ConfState& conf) {
  if (opts_.members != nullptr) opts_.members->ApplyConfChange(index, context, conf);
}

Status KvMachine::RestoreMembers(const std::string& unpacked_dir) {
  const std::string path = unpacked_dir + "/" + kMembersImageFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::Ok();  // an image from a member without one
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (opts_.members != nullptr) {
    Status s = opts_.members->Restore(bytes.str());
    if (!s.ok()) return s;
  }
  return RemoveAll(path);
}

void KvMachine::TellLessor(const mvcc::WriteRequest& request, const ApplyOutcome& outcome) {
  if (opts_.lessor == nullptr) return;
  if (const auto* g = std::get_if<mvcc::LeaseGrantRequest>(&request)) {
    if (outcome.ok()) opts_.lessor->Granted(g->id, g->ttl_seconds);
  } else if (const auto* r = std::get_if<mvcc::LeaseRevokeRequest>(&request)) {
    // Revoked or not found: either way the store holds no such lease now.
    opts_.lessor->Revoked(r->id);
  }
}

Status KvMachine::ResetLessor() {
  if (opts_.lessor == nullptr) return Status::Ok();
  auto leases = store_->Leases();
  if (!leases.ok()) return leases.error().ToStatus();
  opts_.lessor->Reset(leases.value());
  return Status::Ok();
}

void KvMachine::ApplyEmpty(raft::LogIndex index) {
  auto done = store_->ApplyNoop(ToStore(index));
  if (!done.ok()) {
    const std::string msg = "store cannot record index " + std::to_string(index.value) + ": " +
                            done.error().ToString();
    Log(msg);
    SYNOD_ASSERT(false, msg.c_str());
  }
}

raft::LogIndex KvMachine::AppliedIndex() const {
  return raft::LogIndex(store_->applied_index().value);
}

Result<std::string> KvMachine::Snapshot() {
  auto job = BeginSnapshot();
  if (!job.ok()) return job.status();
  return job.value()();
}

Result<node::StateMachine::SnapshotJob> KvMachine::BeginSnapshot() {
  const raft::LogIndex applied = AppliedIndex();
  if (applied.value < snapshot_retry_at_.load()) {
    return Status(ErrorCode::kLimitExceeded, "store too large for a snapshot image; retrying at " +
                                                 std::to_string(snapshot_retry_at_.load()));
  }
  const std::string dir = opts_.dir + ".checkpoint";
  Status s = RemoveAll(dir);
  if (!s.ok()) return s;
  auto info = store_->CreateCheckpoint(dir);
  if (!info.ok()) return info.error().ToStatus();
  SYNOD_ASSERT(info.value().applied_index == ToStore(applied),
               "a checkpoint taken on the loop thread holds exactly the applied entries");
  if (opts_.members != nullptr) {
    std::ofstream out(dir + "/" + kMembersImageFile, std::ios::binary);
    out << opts_.members->Encode();
    out.close();
    if (!out) return Status(ErrorCode::kIoError, "cannot write the member list into " + dir);
  }
  return SnapshotJob([this, dir, applied] { return PackSnapshot(dir, applied); });
}

Result<std::string> KvMachine::PackSnapshot(const std::string& dir, raft::LogIndex applied) {
  auto descriptor = CreateSnapshotFile(
      snapshots_dir(), SnapshotFileName(applied.value, false), [&](const std::string& temp) {
        return PackDirectoryToFile(dir, temp, opts_.snapshot_image_bytes_max);
      });
  Status s = RemoveAll(dir);
  if (!s.ok()) Log("cannot remove " + dir + ": " + s.message());
  if (!descriptor.ok()) {
    if (descriptor.status().code() == ErrorCode::kLimitExceeded) {
      snapshot_retry_at_ = applied.value + opts_.snapshot_retry_entries;
    }
    return descriptor.status();
  }
  PruneImages(applied);
  return std::move(descriptor.value());
}

void KvMachine::PruneImages(raft::LogIndex applied) const {
  auto removed = PruneSnapshotFiles(snapshots_dir(), applied.value);
  if (!removed.ok()) Log("cannot remove old snapshot images: " + removed.status().ToString());
}

Status KvMachine::Restore(std::string_view data, raft::LogIndex index) {
  // A descriptor names the image's file, unpacked from disk a buffer at a time; WAL records
  // older than image files hold the image itself.
  const std::string incoming = opts_.dir + ".incoming";
  const std::string old = opts_.dir + ".old";
  Status s = RemoveAll(incoming);
  if (!s.ok()) return s;
  uint64_t image_bytes = data.size();
  if (IsSnapshotDescriptor(data)) {
    auto path = SnapshotFilePath(snapshots_dir(), data);
    if (!path.ok()) return path.status();
    std::error_code ec;
    image_bytes = fs::file_size(path.value(), ec);
    s = UnpackFile(path.value(), incoming);
  } else {
    s = UnpackDirectory(data, incoming);
  }
  if (!s.ok()) {
    (void)RemoveAll(incoming);
    return s;
  }
  // Before the store moves: should the process stop between the two, the node restores the
  // snapshot again at start, and the member list is never older than the store.
  if (s = RestoreMembers(incoming); !s.ok()) return s;
  {
    // Readers wait here until the new store is open; Apply cannot run (same thread).
    std::unique_lock<std::shared_mutex> lock(swap_mu_);
    store_.reset();
    s = RemoveAll(old);
    if (s.ok() && fs::exists(opts_.dir)) s = Rename(opts_.dir, old);
    if (s.ok()) s = Rename(incoming, opts_.dir);
    if (s.ok()) s = SyncDir(fs::path(opts_.dir).parent_path().string());
    if (s.ok()) s = OpenStore(opts_.dir);
    // Without a store nothing can be served or applied; the node stops on a failed Restore.
    if (!s.ok()) return s;
  }
  if (AppliedIndex() != index) {
    return Status(ErrorCode::kCorruption,
                  "snapshot image holds index " + std::to_string(AppliedIndex().value) +
                      ", expected " + std::to_string(index.value));
  }
  if (s = ResetLessor(); !s.ok()) return s;
  if (s = LoadAlarms(); !s.ok()) return s;
  if (s = LoadFenceMarks(); !s.ok()) return s;
  if (opts_.observer != nullptr) opts_.observer->OnReset(store_->revision());
  s = RemoveAll(old);
  if (!s.ok()) Log("cannot remove " + old + ": " + s.message());
  Log("installed a snapshot image of " + std::to_string(image_bytes) + " bytes at index " +
      std::to_string(index.value));
  PruneImages(index);
  return Status::Ok();
}

int64_t KvMachine::DiskBytes() const {
  std::shared_lock<std::shared_mutex> lock(swap_mu_);
  int64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(opts_.dir, ec)) {
    std::error_code size_ec;
    const auto size = entry.file_size(size_ec);  // a file deleted meanwhile counts 0
    if (!size_ec) total += static_cast<int64_t>(size);
  }
  return total;
}

}  // namespace synod::server
