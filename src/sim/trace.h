// A flight recorder of the simulation: the last events (deliveries, drops, crashes, role
// changes, proposals, applies, faults, client calls) kept in a ring, formatted only when a run
// fails or when live tracing is on. Events are small structs so recording costs little on the
// hot path.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "raft/types.h"
#include "sim/time.h"

namespace synod::sim {

enum class TraceKind : uint8_t {
  kSend,     // node -> peer, sub = message type, a = term, b = index, c = commit,
  kDeliver,  //   d = log_term, e = entries, flag = reject
  kDrop,     //   (lost: link cut, loss, or destination down)
  kCrash,    // node; a = unsynced bytes lost, flag = torn write
  kRestart,  // node; a = last index, b = term, c = commit recovered
  kRefuse,   // node refused to start: text = why
  kPause,
  kResume,
  kRole,         // node; sub = role, a = term, peer = leader
  kPropose,      // node; a = index, b = term, text = command
  kProposeFail,  // node; text = why
  kApply,        // node; a = index, b = term, text = command
  kSnapshot,     // node; a = index, b = term, flag = installed from leader (else local)
  kConfChange,   // node; text = change
  kPartition,    // text = cut links
  kHeal,
  kClockJump,     // node; a = microseconds
  kBitFlip,       // node
  kClientCall,    // node = target, a = client, b = request, text = op
  kClientReturn,  // a = client, b = request, text = outcome
  kPhase,         // text
  kNote,          // text
};

struct TraceEvent {
  Micros time_us = 0;
  TraceKind kind = TraceKind::kNote;
  uint32_t node = 0;
  uint32_t peer = 0;
  uint8_t sub = 0;
  bool flag = false;
  uint64_t a = 0, b = 0, c = 0, d = 0, e = 0;
  std::string text;
};

class Trace {
 public:
  explicit Trace(size_t keep_events);

  // Live tracing prints every event to `out` as it is recorded.
  void set_live(FILE* out) { live_ = out; }
  void Add(TraceEvent ev);
  // Helpers for the common kinds.
  void Message(TraceKind kind, Micros now_us, const raft::Message& m);
  void Note(Micros now_us, TraceKind kind, uint32_t node, std::string text);

  // The kept events, oldest first, one per line.
  std::string Dump() const;
  static std::string Format(const TraceEvent& ev);
  uint64_t recorded() const { return recorded_; }

 private:
  std::vector<TraceEvent> ring_;
  size_t next_ = 0;
  uint64_t recorded_ = 0;
  FILE* live_ = nullptr;
};

}  // namespace synod::sim
