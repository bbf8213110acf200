#include "sim/trace.h"

#include <cinttypes>

#include "base/assert.h"
#include "raft/ready.h"

namespace synod::sim {

Trace::Trace(size_t keep_events) : ring_(keep_events) {
  SYNOD_ASSERT(keep_events > 0, "trace keeps at least one event");
}

void Trace::Add(TraceEvent ev) {
  if (live_ != nullptr) std::fprintf(live_, "%s\n", Format(ev).c_str());
  ring_[next_] = std::move(ev);
  next_ = (next_ + 1) % ring_.size();
  ++recorded_;
}

void Trace::Message(TraceKind kind, Micros now_us, const raft::Message& m) {
  TraceEvent ev;
  ev.time_us = now_us;
  ev.kind = kind;
  ev.node = static_cast<uint32_t>(m.from.value);
  ev.peer = static_cast<uint32_t>(m.to.value);
  ev.sub = static_cast<uint8_t>(m.type);
  ev.flag = m.reject;
  ev.a = m.term.value;
  ev.b = m.index.value;
  ev.c = m.commit.value;
  ev.d = m.log_term.value;
  ev.e = m.entries.size();
  Add(std::move(ev));
}

void Trace::Note(Micros now_us, TraceKind kind, uint32_t node, std::string text) {
  TraceEvent ev;
  ev.time_us = now_us;
  ev.kind = kind;
  ev.node = node;
  ev.text = std::move(text);
  Add(std::move(ev));
}

std::string Trace::Format(const TraceEvent& ev) {
  char head[48];
  std::snprintf(head, sizeof head, "%10.6f ", static_cast<double>(ev.time_us) / 1e6);
  std::string out = head;
  char buf[256];
  const char* mtype = raft::MessageTypeName(static_cast<raft::MessageType>(ev.sub));
  switch (ev.kind) {
    case TraceKind::kSend:
    case TraceKind::kDeliver:
    case TraceKind::kDrop: {
      const char* verb = ev.kind == TraceKind::kSend      ? "send"
                         : ev.kind == TraceKind::kDeliver ? "recv"
                                                          : "drop";
      std::snprintf(buf, sizeof buf,
                    "%s n%u->n%u %s term=%" PRIu64 " index=%" PRIu64 " log_term=%" PRIu64
                    " commit=%" PRIu64 " entries=%" PRIu64 "%s",
                    verb, ev.node, ev.peer, mtype, ev.a, ev.b, ev.d, ev.c, ev.e,
                    ev.flag ? " REJECT" : "");
      break;
    }
    case TraceKind::kCrash:
      std::snprintf(buf, sizeof buf, "CRASH n%u (unsynced bytes lost=%" PRIu64 "%s)", ev.node, ev.a,
                    ev.flag ? ", torn write" : "");
      break;
    case TraceKind::kRestart:
      std::snprintf(buf, sizeof buf,
                    "start n%u (recovered last_index=%" PRIu64 " term=%" PRIu64 " commit=%" PRIu64
                    ")",
                    ev.node, ev.a, ev.b, ev.c);
      break;
    case TraceKind::kRole:
      std::snprintf(buf, sizeof buf, "n%u is %s in term %" PRIu64 " (leader n%u)", ev.node,
                    raft::RoleName(static_cast<raft::Role>(ev.sub)), ev.a, ev.peer);
      break;
    case TraceKind::kPropose:
      std::snprintf(buf, sizeof buf, "n%u propose index=%" PRIu64 " term=%" PRIu64 " ", ev.node,
                    ev.a, ev.b);
      break;
    case TraceKind::kApply:
      std::snprintf(buf, sizeof buf, "n%u apply index=%" PRIu64 " term=%" PRIu64 " ", ev.node, ev.a,
                    ev.b);
      break;
    case TraceKind::kSnapshot:
      std::snprintf(buf, sizeof buf, "n%u %s snapshot index=%" PRIu64 " term=%" PRIu64, ev.node,
                    ev.flag ? "installs" : "takes", ev.a, ev.b);
      break;
    case TraceKind::kClockJump:
      std::snprintf(buf, sizeof buf, "n%u clock jumps forward %" PRIu64 " us", ev.node, ev.a);
      break;
    case TraceKind::kClientCall:
      std::snprintf(buf, sizeof buf, "client %" PRIu64 " req %" PRIu64 " -> n%u ", ev.a, ev.b,
                    ev.node);
      break;
    case TraceKind::kClientReturn:
      std::snprintf(buf, sizeof buf, "client %" PRIu64 " req %" PRIu64 " <- n%u ", ev.a, ev.b,
                    ev.node);
      break;
    default: {
      static const char* const kNames[] = {
          "send",     "recv",        "drop",      "crash",   "restart",         "REFUSES TO START",
          "pause",    "resume",      "role",      "propose", "propose refused", "apply",
          "snapshot", "conf change", "partition", "heal",    "clock jump",      "BIT FLIP",
          "client",   "client",      "phase",     "note"};
      const auto k = static_cast<size_t>(ev.kind);
      SYNOD_ASSERT(k < sizeof kNames / sizeof kNames[0], "trace kind without a name");
      if (ev.node != 0) {
        std::snprintf(buf, sizeof buf, "%s n%u ", kNames[k], ev.node);
      } else {
        std::snprintf(buf, sizeof buf, "%s ", kNames[k]);
      }
      break;
    }
  }
  out += buf;
  out += ev.text;
  return out;
}

std::string Trace::Dump() const {
  std::string out;
  const size_t n = ring_.size();
  const size_t kept = recorded_ < n ? static_cast<size_t>(recorded_) : n;
  size_t start = (next_ + n - kept) % n;
  for (size_t i = 0; i < kept; ++i) {
    out += Format(ring_[(start + i) % n]);
    out += '\n';
  }
  return out;
}

}  // namespace synod::sim
