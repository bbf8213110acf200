#include "lincheck/checker.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string_view>

#include "base/assert.h"
#include "lincheck/search.h"
#include "lincheck/text.h"

namespace synod::lincheck {

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kLinearizable:
      return "LINEARIZABLE";
    case Verdict::kNotLinearizable:
      return "NOT LINEARIZABLE";
    case Verdict::kUnknown:
      return "UNKNOWN";
  }
  return "?";
}

namespace {

// How many of the prefix's last operations an explanation shows.
constexpr size_t kExplainedPrefixOpsMax = 6;

// One search's worth of operations: the indices into History::ops of a key (or of all keys).
struct Part {
  std::string key;  // empty without partitioning
  std::vector<size_t> ops;
};

std::vector<Part> Partition(const History& history, bool by_key) {
  if (!by_key) {
    Part all;
    for (size_t i = 0; i < history.ops.size(); ++i) all.ops.push_back(i);
    return {all};
  }
  // std::map: keys are searched in sorted order, so the verdict, step count and reported key
  // do not depend on hashing.
  std::map<std::string_view, std::vector<size_t>> by;
  for (size_t i = 0; i < history.ops.size(); ++i) by[history.ops[i].key].push_back(i);
  std::vector<Part> parts;
  for (auto& [key, ops] : by) parts.push_back(Part{std::string(key), std::move(ops)});
  return parts;
}

// Builds the search's columns; `searched` maps search indices back to History::ops.
SearchInput BuildInput(const History& history, const Part& part, ValueTable& values,
                       std::vector<size_t>* searched, std::vector<std::string_view>* registers) {
  std::map<std::string_view, uint32_t> register_of_key;
  SearchInput in;
  for (size_t i : part.ops) {
    const Operation& op = history.ops[i];
    auto [it, added] =
        register_of_key.try_emplace(op.key, static_cast<uint32_t>(register_of_key.size()));
    if (added) registers->push_back(op.key);
    if (IsInert(op)) continue;
    searched->push_back(i);
    in.ops.push_back(ToModelOp(op, values));
    in.register_of.push_back(it->second);
    in.call.push_back(op.call);
    // An unknown outcome keeps the operation open to the end of the history, whatever the
    // client saw: the request may still be applied after the client gave up on it.
    in.ret.push_back(op.outcome == Outcome::kUnknown ? kNeverReturned : op.ret);
  }
  in.initial_state.assign(registers->size(), values.Intern(history.initial));
  return in;
}

std::string ExplainFailure(const History& history, const Part& part,
                           const std::vector<ValueId>& initial_state, const SearchOutcome& found,
                           const std::vector<size_t>& searched,
                           const std::vector<std::string_view>& registers,
                           const ValueTable& values) {
  const bool many_keys = registers.size() > 1;
  auto describe = [&](uint32_t s) {
    const Operation& op = history.ops[searched[s]];
    return (many_keys ? "key " + text::Quote(op.key) + " " : std::string()) + DescribeOperation(op);
  };
  std::string out = "No linearization exists for these " + std::to_string(part.ops.size()) +
                    " operations (" + std::to_string(searched.size()) +
                    " searched; the others constrain nothing).\n";
  const std::vector<uint32_t>& prefix = found.longest_prefix;
  out += "Longest linearizable prefix: " + std::to_string(prefix.size()) + " operations";
  if (prefix.empty()) {
    out += ".\n";
  } else {
    const size_t shown = std::min(prefix.size(), kExplainedPrefixOpsMax);
    out += shown < prefix.size() ? ", ending with:\n" : ":\n";
    for (size_t i = prefix.size() - shown; i < prefix.size(); ++i) {
      out += "  " + describe(prefix[i]) + "\n";
    }
  }
  out += "State then:";
  const std::vector<ValueId>& state = prefix.empty() ? initial_state : found.state_after_prefix;
  SYNOD_ASSERT(state.size() == registers.size(), "one value per register");
  for (size_t r = 0; r < registers.size(); ++r) {
    const ValueId v = state[r];
    out +=
        (many_keys ? " " + text::Quote(registers[r]) + "=" : std::string(" ")) + values.Describe(v);
  }
  out += "\n";
  if (found.blocked_op) {
    out += "No pending operation can take effect next, yet this one must before it returns:\n";
    out += "  " + describe(*found.blocked_op) + "\n";
  }
  return out;
}

// Steps a search runs before the next one gets its turn, and between two readings of the
// clock. Small enough to keep the interleaving fair, large enough to make switching free.
constexpr uint64_t kSliceSteps = 4096;

// The search of one part, with what is needed to explain its verdict.
struct Active {
  const Part* part = nullptr;
  std::vector<size_t> searched;
  std::vector<std::string_view> registers;
  std::vector<ValueId> initial_state;
  std::unique_ptr<Search> search;
};

// Runs the searches in turns until one finds no linearization, all finish, or a budget runs out.
class Scheduler {
 public:
  Scheduler(const History& history, const CheckOptions& options, std::vector<Active> active,
            ValueTable& values)
      : history_(history),
        options_(options),
        active_(std::move(active)),
        values_(values),
        start_(std::chrono::steady_clock::now()),
        memory_(active_.size(), 0) {}

  CheckResult Run() {
    result_.searches = active_.size();
    // The searches take turns, as if they ran in parallel: a key with no linearization is
    // found after a bounded multiple of its own cost, however long the other keys would take
    // (several of Porcupine's kv histories have keys that are slow to refute). Turns are
    // counted in steps, so the interleaving and the verdict are deterministic.
    while (!active_.empty()) {
      for (size_t i = 0; i < active_.size(); ++i) {
        if (const char* limit = BudgetSpent()) {
          result_.explanation = std::string(limit) + " ran out with " + Unresolved();
          return std::move(result_);
        }
        if (Turn(i) == Verdict::kNotLinearizable) {
          Explain(active_[i]);
          return std::move(result_);
        }
      }
      // Drop the finished searches, with their memos and their share of the memory count.
      size_t kept = 0;
      for (size_t i = 0; i < active_.size(); ++i) {
        if (active_[i].search->outcome().verdict == Verdict::kLinearizable) {
          memory_total_ -= memory_[i];
          continue;
        }
        if (kept != i) {
          memory_[kept] = memory_[i];
          active_[kept] = std::move(active_[i]);
        }
        ++kept;
      }
      active_.resize(kept);
      memory_.resize(kept);
    }
    result_.verdict = Verdict::kLinearizable;
    return std::move(result_);
  }

 private:
  Verdict Turn(size_t i) {
    Search& search = *active_[i].search;
    uint64_t slice = kSliceSteps;
    if (options_.step_budget != 0) slice = std::min(slice, options_.step_budget - result_.steps);
    const uint64_t steps_before = search.outcome().steps;
    const Verdict v = search.Run(slice);
    result_.steps += search.outcome().steps - steps_before;
    memory_total_ += search.memory_bytes() - memory_[i];
    memory_[i] = search.memory_bytes();
    return v;
  }

  const char* BudgetSpent() const {
    if (options_.step_budget != 0 && result_.steps >= options_.step_budget) {
      return "step budget";
    }
    if (options_.memory_budget_bytes != 0 &&
        memory_total_ + values_.memory_bytes() > options_.memory_budget_bytes) {
      return "memory budget";
    }
    if (options_.time_budget_seconds > 0 &&
        std::chrono::steady_clock::now() - start_ >
            std::chrono::duration<double>(options_.time_budget_seconds)) {
      return "time budget";
    }
    return nullptr;
  }

  void Explain(const Active& a) {
    const SearchOutcome& found = a.search->outcome();
    result_.verdict = Verdict::kNotLinearizable;
    result_.key = a.part->key;
    if (result_.key.empty() && found.blocked_op) {
      result_.key = history_.ops[a.searched[*found.blocked_op]].key;
    }
    result_.explanation =
        ExplainFailure(history_, *a.part, a.initial_state, found, a.searched, a.registers, values_);
  }

  std::string Unresolved() const {
    std::string out = std::to_string(active_.size()) + " sub-history(ies) unresolved";
    if (!active_.empty() && !active_.front().part->key.empty()) {
      out += ", first key " + text::Quote(active_.front().part->key);
    }
    return out;
  }

  const History& history_;
  const CheckOptions& options_;
  std::vector<Active> active_;
  ValueTable& values_;
  const std::chrono::steady_clock::time_point start_;
  std::vector<uint64_t> memory_;  // last known memo size of each active search
  uint64_t memory_total_ = 0;
  CheckResult result_;
};

}  // namespace

CheckResult Check(const History& history, const CheckOptions& options) {
  const Status valid = ValidateHistory(history);
  SYNOD_ASSERT(valid.ok(), valid.message().c_str());
  SYNOD_ASSERT(options.time_budget_seconds >= 0, "negative time budget");
  ValueTable values;
  const std::vector<Part> parts = Partition(history, options.partition_by_key);
  std::vector<Active> active(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    active[i].part = &parts[i];
    SearchInput input =
        BuildInput(history, parts[i], values, &active[i].searched, &active[i].registers);
    active[i].initial_state = input.initial_state;
    active[i].search = std::make_unique<Search>(std::move(input), values);
  }
  return Scheduler(history, options, std::move(active), values).Run();
}

}  // namespace synod::lincheck
