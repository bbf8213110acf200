#include "server/gossip_codec.h"

#include <cstring>
#include <memory>

namespace synod::server {
namespace {

using gossip::MemberMeta;
using gossip::Update;

void PutU8(std::string* out, uint8_t v) {
  out->push_back(static_cast<char>(v));
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutString(std::string* out, const std::string& s) {
  const size_t n = std::min(s.size(), kGossipStringBytesMax);
  PutU32(out, static_cast<uint32_t>(n));
  out->append(s.data(), n);
}

void PutUpdate(std::string* out, const Update& u) {
  PutU8(out, static_cast<uint8_t>(u.state));
  PutU64(out, u.member.value);
  PutU32(out, u.incarnation.value);
  PutU64(out, u.from.value);
  PutU8(out, u.meta ? 1 : 0);
  if (u.meta) {
    PutString(out, u.meta->address);
    PutString(out, u.meta->zone);
    const size_t roles = std::min(u.meta->roles.size(), kGossipRolesMax);
    PutU32(out, static_cast<uint32_t>(roles));
    for (size_t i = 0; i < roles; ++i) PutString(out, u.meta->roles[i]);
  }
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool U8(uint8_t* v) {
    if (b_.size() < 1) return false;
    *v = static_cast<uint8_t>(b_[0]);
    b_.remove_prefix(1);
    return true;
  }
  bool U32(uint32_t* v) {
    if (b_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<uint8_t>(b_[i])} << (8 * i);
    b_.remove_prefix(4);
    return true;
  }
  bool U64(uint64_t* v) {
    if (b_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= uint64_t{static_cast<uint8_t>(b_[i])} << (8 * i);
    b_.remove_prefix(8);
    return true;
  }
  bool String(std::string* s) {
    uint32_t n = 0;
    if (!U32(&n) || n > kGossipStringBytesMax || n > b_.size()) return false;
    s->assign(b_.data(), n);
    b_.remove_prefix(n);
    return true;
  }
  bool done() const { return b_.empty(); }

 private:
  std::string_view b_;
};

bool ReadUpdate(Reader* r, Update* u) {
  uint8_t state = 0;
  uint8_t has_meta = 0;
  uint32_t inc = 0;
  if (!r->U8(&state) || state > static_cast<uint8_t>(gossip::MemberState::kLeft)) return false;
  u->state = static_cast<gossip::MemberState>(state);
  if (!r->U64(&u->member.value) || !r->U32(&inc) || !r->U64(&u->from.value)) return false;
  u->incarnation = gossip::Incarnation(inc);
  if (!r->U8(&has_meta) || has_meta > 1) return false;
  if (has_meta == 1) {
    auto meta = std::make_shared<MemberMeta>();
    uint32_t roles = 0;
    if (!r->String(&meta->address) || !r->String(&meta->zone) || !r->U32(&roles) ||
        roles > kGossipRolesMax) {
      return false;
    }
    meta->roles.resize(roles);
    for (std::string& role : meta->roles) {
      if (!r->String(&role)) return false;
    }
    u->meta = std::move(meta);
  }
  return true;
}

bool ReadUpdates(Reader* r, std::vector<Update>* out) {
  uint32_t n = 0;
  if (!r->U32(&n) || n > kGossipUpdatesMax) return false;
  out->resize(n);
  for (Update& u : *out) {
    if (!ReadUpdate(r, &u)) return false;
  }
  return true;
}

}  // namespace

std::string EncodeGossip(const gossip::Message& m) {
  std::string out;
  PutU8(&out, kGossipWireVersion);
  PutU8(&out, static_cast<uint8_t>(m.type));
  PutU64(&out, m.from.value);
  PutU64(&out, m.to.value);
  PutU32(&out, m.seq);
  PutU64(&out, m.target.value);
  PutU32(&out, m.relay_timeout_ticks);
  const size_t updates = std::min(m.updates.size(), kGossipUpdatesMax);
  PutU32(&out, static_cast<uint32_t>(updates));
  for (size_t i = 0; i < updates; ++i) PutUpdate(&out, m.updates[i]);
  const size_t state = std::min(m.state.size(), kGossipUpdatesMax);
  PutU32(&out, static_cast<uint32_t>(state));
  for (size_t i = 0; i < state; ++i) PutUpdate(&out, m.state[i]);
  return out;
}

Result<gossip::Message> DecodeGossip(std::string_view bytes) {
  const Status bad(ErrorCode::kCorruption, "malformed gossip datagram");
  if (bytes.size() > kGossipDatagramBytesMax) return bad;
  Reader r(bytes);
  gossip::Message m;
  uint8_t version = 0;
  uint8_t type = 0;
  if (!r.U8(&version) || version != kGossipWireVersion) return bad;
  if (!r.U8(&type) || type > static_cast<uint8_t>(gossip::MessageType::kPushPullReply)) {
    return bad;
  }
  m.type = static_cast<gossip::MessageType>(type);
  if (!r.U64(&m.from.value) || !r.U64(&m.to.value) || !r.U32(&m.seq) || !r.U64(&m.target.value) ||
      !r.U32(&m.relay_timeout_ticks)) {
    return bad;
  }
  if (!ReadUpdates(&r, &m.updates) || !ReadUpdates(&r, &m.state) || !r.done()) return bad;
  return m;
}

}  // namespace synod::server
