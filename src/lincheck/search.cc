#include "lincheck/search.h"

#include <algorithm>
#include <tuple>

#include "base/assert.h"

namespace synod::lincheck {
namespace {

// splitmix64's finalizer: configurations are hashed as an XOR of one mixed word per linearized
// operation and per register, so a step updates the hash in O(1) instead of rehashing.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t OpHash(uint32_t op) {
  return Mix(op);
}
uint64_t StateHash(uint32_t reg, ValueId v) {
  return Mix((uint64_t{reg} << 32 | v) ^ 0x5bd1e9955bd1e995ULL);
}

// The history as Wing & Gong's list of call and return events in time order. Linearizing an
// operation "lifts" its call and return out of the list; backtracking puts them back. Unlinked
// nodes keep their own links, so relinking in reverse (LIFO) order restores the list exactly.
class EventList {
 public:
  explicit EventList(const SearchInput& in) {
    struct Event {
      int64_t time;
      uint8_t is_return;
      uint32_t op;
    };
    std::vector<Event> events;
    for (uint32_t op = 0; op < in.ops.size(); ++op) {
      events.push_back({in.call[op], 0, op});
      if (in.ret[op] != kNeverReturned) events.push_back({in.ret[op], 1, op});
    }
    // At equal times calls go first: such operations count as concurrent, the reading that
    // cannot report a false violation when a clock is coarse.
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return std::tie(a.time, a.is_return, a.op) < std::tie(b.time, b.is_return, b.op);
    });
    const auto nodes = static_cast<uint32_t>(events.size() + 2);
    tail_ = nodes - 1;
    next_.resize(nodes);
    prev_.resize(nodes);
    op_.assign(nodes, 0);
    match_.assign(nodes, 0);
    is_call_.assign(nodes, 0);
    std::vector<uint32_t> call_node(in.ops.size(), 0);
    for (uint32_t n = 0; n < nodes; ++n) {
      next_[n] = n + 1 < nodes ? n + 1 : n;
      prev_[n] = n > 0 ? n - 1 : 0;
    }
    for (uint32_t i = 0; i < events.size(); ++i) {
      const uint32_t n = i + 1;
      op_[n] = events[i].op;
      is_call_[n] = events[i].is_return == 0;
      if (is_call_[n]) {
        call_node[events[i].op] = n;
      } else {
        match_[call_node[events[i].op]] = n;
      }
    }
  }

  uint32_t first() const { return next_[kHead]; }
  uint32_t next(uint32_t n) const { return next_[n]; }
  bool at_end(uint32_t n) const { return n == tail_; }
  bool is_call(uint32_t n) const { return is_call_[n] != 0; }
  uint32_t op(uint32_t n) const { return op_[n]; }

  void Lift(uint32_t call) {
    SYNOD_ASSERT(is_call(call), "only a call event can be lifted");
    Unlink(call);
    if (match_[call] != 0) Unlink(match_[call]);
  }
  void Unlift(uint32_t call) {
    SYNOD_ASSERT(is_call(call), "only a call event can be put back");
    if (match_[call] != 0) Relink(match_[call]);
    Relink(call);
  }

 private:
  static constexpr uint32_t kHead = 0;
  void Unlink(uint32_t n) {
    next_[prev_[n]] = next_[n];
    prev_[next_[n]] = prev_[n];
  }
  void Relink(uint32_t n) {
    next_[prev_[n]] = n;
    prev_[next_[n]] = n;
  }

  uint32_t tail_ = 0;
  std::vector<uint32_t> next_, prev_, op_;
  std::vector<uint32_t> match_;  // for a call node: its return node, 0 when it never returns
  std::vector<uint8_t> is_call_;
};

// Lowe's memo of configurations already explored: the set of linearized operations (a bitset)
// with the model state after them. Reaching a configuration twice cannot find anything new, so
// the search prunes it (Lowe 2017 §3.1). Open addressing over an append-only arena.
class ConfigCache {
 public:
  ConfigCache(size_t bit_words, size_t registers)
      : bit_words_(bit_words),
        state_words_((registers + 1) / 2),
        stride_(bit_words + state_words_),
        slots_(1024, 0) {}

  // Adds the configuration; returns false if it was already present.
  bool Insert(uint64_t hash, const std::vector<uint64_t>& bits, const std::vector<ValueId>& state) {
    SYNOD_ASSERT(bits.size() == bit_words_, "bitset width changed");
    if ((hashes_.size() + 1) * 2 > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    size_t i = hash & mask;
    for (; slots_[i] != 0; i = (i + 1) & mask) {
      const uint32_t e = slots_[i] - 1;
      if (hashes_[e] == hash && Matches(e, bits, state)) return false;
    }
    SYNOD_ASSERT(hashes_.size() < UINT32_MAX - 1, "configuration cache full");
    slots_[i] = static_cast<uint32_t>(hashes_.size() + 1);
    hashes_.push_back(hash);
    arena_.insert(arena_.end(), bits.begin(), bits.end());
    for (size_t w = 0; w < state_words_; ++w) arena_.push_back(StateWord(state, w));
    return true;
  }

  uint64_t memory_bytes() const {
    return arena_.capacity() * 8 + hashes_.capacity() * 8 + slots_.capacity() * 4;
  }

 private:
  static uint64_t StateWord(const std::vector<ValueId>& state, size_t w) {
    uint64_t word = state[2 * w];
    if (2 * w + 1 < state.size()) word |= uint64_t{state[2 * w + 1]} << 32;
    return word;
  }
  bool Matches(uint32_t e, const std::vector<uint64_t>& bits,
               const std::vector<ValueId>& state) const {
    const uint64_t* entry = arena_.data() + size_t{e} * stride_;
    for (size_t w = 0; w < bit_words_; ++w) {
      if (entry[w] != bits[w]) return false;
    }
    for (size_t w = 0; w < state_words_; ++w) {
      if (entry[bit_words_ + w] != StateWord(state, w)) return false;
    }
    return true;
  }
  void Grow() {
    std::vector<uint32_t> bigger(slots_.size() * 2, 0);
    const size_t mask = bigger.size() - 1;
    for (uint32_t e = 0; e < hashes_.size(); ++e) {
      size_t i = hashes_[e] & mask;
      while (bigger[i] != 0) i = (i + 1) & mask;
      bigger[i] = e + 1;
    }
    slots_.swap(bigger);
  }

  size_t bit_words_, state_words_, stride_;
  std::vector<uint64_t> arena_;   // stride_ words per entry: bitset, then packed state
  std::vector<uint64_t> hashes_;  // per entry
  std::vector<uint32_t> slots_;   // entry index + 1; 0 = empty; size is a power of two
};

}  // namespace

class Search::Impl {
 public:
  Impl(SearchInput in, ValueTable& values)
      : in_(std::move(in)),
        values_(values),
        list_(in_),
        cache_((in_.ops.size() + 63) / 64, in_.initial_state.size()),
        bits_((in_.ops.size() + 63) / 64, 0),
        state_(in_.initial_state) {
    for (uint32_t r = 0; r < state_.size(); ++r) hash_ ^= StateHash(r, state_[r]);
    for (int64_t ret : in_.ret) required_left_ += ret != kNeverReturned ? 1 : 0;
    node_ = list_.first();
  }

  const SearchOutcome& outcome() const { return out_; }
  uint64_t memory_bytes() const { return cache_.memory_bytes(); }

  Verdict Run(uint64_t steps_max) {
    if (out_.verdict != Verdict::kUnknown) return out_.verdict;
    const uint64_t stop = out_.steps + steps_max;
    while (out_.steps < stop) {
      if (required_left_ == 0) return out_.verdict = Verdict::kLinearizable;
      if (!Advance()) return out_.verdict = Verdict::kNotLinearizable;
    }
    return Verdict::kUnknown;
  }

 private:
  // One move of the search from node_; false when no linearization exists.
  bool Advance() {
    ++out_.steps;
    bool dead_end = false;
    if (fresh_) {
      fresh_ = false;
      if (const uint32_t pure = FindReadyPureOp(); pure != 0) {
        // The only choice worth trying here (see FindReadyPureOp); if the configuration it
        // leads to was seen before, this one is a dead end as well.
        if (TryLinearize(pure, /*forced=*/true)) return true;
        dead_end = true;
      }
    }
    // Every operation with a return still has its return event in the list, so the walk meets
    // one before it can fall off the end.
    SYNOD_ASSERT(!list_.at_end(node_), "walked past the last pending return");
    if (!dead_end && list_.is_call(node_)) {
      if (!TryLinearize(node_, /*forced=*/false)) node_ = list_.next(node_);
      return true;
    }
    // A return of an operation not yet linearized: it must have taken effect by now and cannot,
    // given the choices so far. Undo the most recent choice (Wing & Gong).
    if (!dead_end && on_best_ && !out_.blocked_op) out_.blocked_op = list_.op(node_);
    const std::optional<uint32_t> resume = Backtrack();
    if (!resume) return false;
    node_ = list_.next(*resume);
    return true;
  }

  struct Frame {
    uint32_t node;     // the call event that was lifted
    ValueId previous;  // register value before the operation took effect
    bool forced;       // chosen by FindReadyPureOp: no alternative needs trying
  };

  // A pure operation (an ok read, a failed cas: never changes the state) that may take effect
  // now: legal in the current state and called before any pending operation returned. If the
  // current configuration has a linearization at all, it has one that starts with this
  // operation: moving a pure operation to the front of a sequence leaves every state and every
  // real-time order in it intact, since whatever had to precede it is linearized already. So
  // this is the only choice the search needs to try here. Returns its call node, or 0.
  uint32_t FindReadyPureOp() {
    for (uint32_t n = list_.first(); list_.is_call(n); n = list_.next(n)) {
      ++out_.steps;
      const uint32_t op = list_.op(n);
      const ModelOp& m = in_.ops[op];
      const bool pure = (m.kind == OpKind::kRead && m.outcome == Outcome::kOk) ||
                        (m.kind == OpKind::kCas && m.outcome == Outcome::kFail);
      if (pure && Step(m, state_[in_.register_of[op]], values_).legal) return n;
    }
    return 0;
  }

  // Tries to let the operation of `call` take effect now; on success lifts it out of the list.
  bool TryLinearize(uint32_t call, bool forced) {
    const uint32_t op = list_.op(call);
    const uint32_t reg = in_.register_of[op];
    const ValueId before = state_[reg];
    const StepResult step = Step(in_.ops[op], before, values_);
    if (!step.legal) return false;
    const bool open = in_.ret[op] == kNeverReturned;
    // An open operation that would change nothing is no different from one that never takes
    // effect, which it may always do; trying it would only duplicate work.
    if (open && step.next == before) return false;
    Apply(op, reg, step.next);
    if (!cache_.Insert(hash_, bits_, state_)) {
      Apply(op, reg, before);
      return false;
    }
    stack_.push_back(Frame{call, before, forced});
    list_.Lift(call);
    if (!open) --required_left_;
    NotePrefix();
    node_ = list_.first();
    fresh_ = true;
    return true;
  }

  // Undoes linearizations up to and including the most recent free choice, whose call node it
  // returns; nullopt when there is none left (no linearization exists). A forced choice was the
  // only one worth trying in its configuration, so that configuration is dead too.
  std::optional<uint32_t> Backtrack() {
    while (!stack_.empty()) {
      const Frame frame = stack_.back();
      stack_.pop_back();
      const uint32_t op = list_.op(frame.node);
      Apply(op, in_.register_of[op], frame.previous);
      list_.Unlift(frame.node);
      if (in_.ret[op] != kNeverReturned) ++required_left_;
      on_best_ = false;
      low_water_ = std::min(low_water_, stack_.size());
      if (!frame.forced) return frame.node;
    }
    return std::nullopt;
  }

  // Flips the bit of `op` and sets its register (both directions: apply and undo).
  void Apply(uint32_t op, uint32_t reg, ValueId value) {
    bits_[op / 64] ^= uint64_t{1} << (op % 64);
    hash_ ^= OpHash(op) ^ StateHash(reg, state_[reg]) ^ StateHash(reg, value);
    state_[reg] = value;
  }

  // Keeps the longest linearizable prefix for the explanation. Only the part of the stack that
  // changed since the last record is copied (low_water_), so the cost stays linear in pushes.
  void NotePrefix() {
    if (stack_.size() <= out_.longest_prefix.size()) return;
    out_.longest_prefix.resize(stack_.size());
    for (size_t i = std::min(low_water_, out_.longest_prefix.size()); i < stack_.size(); ++i) {
      out_.longest_prefix[i] = list_.op(stack_[i].node);
    }
    out_.state_after_prefix = state_;
    out_.blocked_op.reset();
    on_best_ = true;
    low_water_ = stack_.size();
  }

  const SearchInput in_;
  ValueTable& values_;
  EventList list_;
  ConfigCache cache_;
  std::vector<uint64_t> bits_;  // operations linearized so far
  std::vector<ValueId> state_;  // register values after them
  uint64_t hash_ = 0;           // of (bits_, state_)
  std::vector<Frame> stack_;
  uint32_t node_ = 0;         // where the walk stands
  bool fresh_ = true;         // node_ heads a configuration not looked at yet
  size_t required_left_ = 0;  // operations with a return that are not linearized yet
  bool on_best_ = false;      // no backtrack since the longest prefix was recorded
  size_t low_water_ = 0;      // stack_[0, low_water_) equals longest_prefix[0, low_water_)
  SearchOutcome out_;
};

Search::Search(SearchInput input, ValueTable& values) {
  const size_t n = input.ops.size();
  SYNOD_ASSERT(input.register_of.size() == n && input.call.size() == n && input.ret.size() == n,
               "search input columns differ in length");
  SYNOD_ASSERT(n < UINT32_MAX / 2 - 2, "too many operations for one search");
  for (uint32_t reg : input.register_of) {
    SYNOD_ASSERT(reg < input.initial_state.size(), "operation on a register with no state");
  }
  impl_ = std::make_unique<Impl>(std::move(input), values);
}

Search::~Search() = default;

Verdict Search::Run(uint64_t steps_max) {
  return impl_->Run(steps_max);
}
const SearchOutcome& Search::outcome() const {
  return impl_->outcome();
}
uint64_t Search::memory_bytes() const {
  return impl_->memory_bytes();
}

}  // namespace synod::lincheck
