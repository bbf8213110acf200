#include "server/member_registry.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/assert.h"
#include "server/command.pb.h"
#include "storage/file.h"

namespace synod::server {
namespace {

bool Contains(const std::vector<raft::NodeId>& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), raft::NodeId(id)) != ids.end();
}

MemberRecord FromProto(const etcdserverpb::Member& m) {
  MemberRecord r;
  r.id = m.id();
  r.name = m.name();
  r.peer_urls.assign(m.peerurls().begin(), m.peerurls().end());
  r.client_urls.assign(m.clienturls().begin(), m.clienturls().end());
  r.learner = m.islearner();
  return r;
}

void ToProto(const MemberRecord& r, etcdserverpb::Member* m) {
  m->set_id(r.id);
  m->set_name(r.name);
  for (const std::string& u : r.peer_urls) m->add_peerurls(u);
  for (const std::string& u : r.client_urls) m->add_clienturls(u);
  m->set_islearner(r.learner);
}

void SortById(std::vector<MemberRecord>* members) {
  std::sort(members->begin(), members->end(),
            [](const MemberRecord& a, const MemberRecord& b) { return a.id < b.id; });
}

}  // namespace

Result<std::unique_ptr<MemberRegistry>> MemberRegistry::Open(std::string path,
                                                             std::vector<MemberRecord> initial) {
  std::unique_ptr<MemberRegistry> r(new MemberRegistry(std::move(path)));
  std::error_code ec;
  if (std::filesystem::exists(r->path_, ec)) {
    std::ifstream in(r->path_, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (!in.good() && !in.eof()) {
      return Status(ErrorCode::kIoError, "cannot read " + r->path_);
    }
    Status s = r->Decode(bytes.str());
    if (!s.ok()) return Status(s.code(), r->path_ + ": " + s.message());
    return r;
  }
  SortById(&initial);
  r->members_ = std::move(initial);
  r->Persist();
  return r;
}

std::vector<MemberRecord> MemberRegistry::List() const {
  std::lock_guard lock(mu_);
  return members_;
}

std::optional<MemberRecord> MemberRegistry::Find(uint64_t id) const {
  std::lock_guard lock(mu_);
  for (const MemberRecord& m : members_) {
    if (m.id == id) return m;
  }
  return std::nullopt;
}

bool MemberRegistry::WasRemoved(uint64_t id) const {
  std::lock_guard lock(mu_);
  return removed_.count(id) > 0;
}

raft::LogIndex MemberRegistry::applied_index() const {
  std::lock_guard lock(mu_);
  return applied_;
}

void MemberRegistry::ApplyConfChange(raft::LogIndex index, std::string_view context,
                                     const raft::ConfState& conf) {
  {
    std::lock_guard lock(mu_);
    if (index <= applied_) return;  // replayed after a restart: already recorded
    applied_ = index;
    serverpb::MemberChange change;
    if (!context.empty() &&
        change.ParseFromArray(context.data(), static_cast<int>(context.size())) &&
        change.has_member() && change.member().id() != 0) {
      const MemberRecord given = FromProto(change.member());
      auto it = std::find_if(members_.begin(), members_.end(),
                             [&](const MemberRecord& m) { return m.id == given.id; });
      const bool in_conf = Contains(conf.voters, given.id) || Contains(conf.learners, given.id);
      if (it == members_.end() && in_conf && removed_.count(given.id) == 0) {
        members_.push_back(given);
      } else if (it != members_.end() && !given.peer_urls.empty()) {
        it->peer_urls = given.peer_urls;
      }
    }
    // The configuration decides who is a member and who learns; the list follows it.
    std::vector<MemberRecord> kept;
    for (MemberRecord& m : members_) {
      const bool voter = Contains(conf.voters, m.id) || Contains(conf.voters_outgoing, m.id);
      const bool learner = Contains(conf.learners, m.id);
      if (!voter && !learner) {
        removed_.insert(m.id);
        continue;
      }
      m.learner = !voter;
      kept.push_back(std::move(m));
    }
    members_ = std::move(kept);
    SortById(&members_);
  }
  Persist();
  Changed();
}

void MemberRegistry::ApplyPeerUrls(raft::LogIndex index, uint64_t id,
                                   std::vector<std::string> peer_urls) {
  {
    std::lock_guard lock(mu_);
    if (index <= applied_) return;
    applied_ = index;
    for (MemberRecord& m : members_) {
      if (m.id == id) m.peer_urls = peer_urls;
    }
  }
  Persist();
  Changed();
}

void MemberRegistry::ApplyAttributes(raft::LogIndex index, uint64_t id, std::string name,
                                     std::vector<std::string> client_urls) {
  {
    std::lock_guard lock(mu_);
    if (index <= applied_) return;
    applied_ = index;
    for (MemberRecord& m : members_) {
      if (m.id != id) continue;
      m.name = name;
      m.client_urls = client_urls;
    }
  }
  Persist();
  Changed();
}

std::string MemberRegistry::Encode() const {
  serverpb::MemberState state;
  {
    std::lock_guard lock(mu_);
    state.set_applied_index(applied_.value);
    for (const MemberRecord& m : members_) ToProto(m, state.add_members());
    for (uint64_t id : removed_) state.add_removed(id);
  }
  return state.SerializeAsString();
}

Status MemberRegistry::Decode(std::string_view bytes) {
  serverpb::MemberState state;
  if (!state.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status(ErrorCode::kCorruption, "member list does not parse");
  }
  std::vector<MemberRecord> members;
  for (const etcdserverpb::Member& m : state.members()) members.push_back(FromProto(m));
  SortById(&members);
  std::lock_guard lock(mu_);
  members_ = std::move(members);
  removed_ = std::set<uint64_t>(state.removed().begin(), state.removed().end());
  applied_ = raft::LogIndex(state.applied_index());
  return Status::Ok();
}

Status MemberRegistry::Restore(std::string_view bytes) {
  Status s = Decode(bytes);
  if (!s.ok()) return s;
  Persist();
  Changed();
  return Status::Ok();
}

void MemberRegistry::Persist() {
  const std::string bytes = Encode();
  const std::string tmp = path_ + ".tmp";
  (void)storage::RemoveFile(tmp);
  Status s;
  {
    auto file = storage::File::OpenReadWrite(tmp, /*create=*/true);
    if (!file.ok()) s = file.status();
    if (s.ok()) s = file.value().WriteAt(0, bytes);
    if (s.ok()) s = file.value().DataSync();
  }
  if (s.ok()) s = storage::RenameFile(tmp, path_);
  if (s.ok()) {
    s = storage::SyncDirectory(std::filesystem::path(path_).parent_path().string());
  }
  SYNOD_ASSERT(s.ok(), ("cannot write the member list: " + s.ToString()).c_str());
}

void MemberRegistry::Changed() {
  if (on_change_) on_change_(List());
}

}  // namespace synod::server
