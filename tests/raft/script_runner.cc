#include "script_runner.h"

#include <charconv>
#include <sstream>

#include "script_render.h"

namespace synod::raft::testing {
namespace {

Status Bad(const std::string& msg) { return Status(ErrorCode::kInvalidArgument, msg); }

Result<uint64_t> ParseUint(const std::string& s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return Bad("not a number: " + s);
  return v;
}

Result<bool> ParseBool(const std::string& s) {
  if (s == "true") return true;
  if (s == "false") return false;
  return Bad("not a boolean: " + s);
}

// "3" or "(1,2,3)" or "()".
Result<std::vector<NodeId>> ParseIds(const std::string& s) {
  std::string body = s;
  if (!body.empty() && body.front() == '(') {
    if (body.back() != ')') return Bad("unbalanced list: " + s);
    body = body.substr(1, body.size() - 2);
  }
  std::vector<NodeId> out;
  std::istringstream in(body);
  for (std::string item; std::getline(in, item, ',');) {
    auto v = ParseUint(item);
    if (!v.ok()) return v.status();
    out.emplace_back(v.value());
  }
  return out;
}

struct Word {
  std::string text;
  bool quoted = false;  // a quoted word is never an option, even with a '=' inside
};

Result<std::vector<Word>> Tokenize(const std::string& line) {
  std::vector<Word> words;
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == '\t') {
      ++i;
      continue;
    }
    Word w;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      if (line[i] != '"') {
        w.text += line[i++];
        continue;
      }
      // A quoted part may hold spaces; the quotes themselves are not part of the word.
      const size_t close = line.find('"', i + 1);
      if (close == std::string::npos) return Bad("unterminated quote");
      w.text += line.substr(i + 1, close - i - 1);
      w.quoted = true;
      i = close + 1;
    }
    words.push_back(std::move(w));
  }
  return words;
}

const std::string* Option(const ScriptCommand& c, const std::string& key) {
  for (const auto& [k, v] : c.options) {
    if (k == key) return &v;
  }
  return nullptr;
}

Status CheckOptions(const ScriptCommand& c, std::initializer_list<const char*> allowed) {
  for (const auto& [k, v] : c.options) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) return Bad(c.name + ": unknown option " + k);
  }
  return Status::Ok();
}

Status CheckArgs(const ScriptCommand& c, size_t min, size_t max) {
  if (c.args.size() < min || c.args.size() > max) {
    return Bad(c.name + ": wrong number of arguments");
  }
  return Status::Ok();
}

Result<ConfChangeSingle> ParseChange(const std::string& w) {
  if (w.size() < 2) return Bad("bad change: " + w);
  ConfChangeSingle c;
  switch (w[0]) {
    case 'v': c.type = ConfChangeType::kAddVoter; break;
    case 'l': c.type = ConfChangeType::kAddLearner; break;
    case 'r': c.type = ConfChangeType::kRemoveNode; break;
    default: return Bad("bad change: " + w);
  }
  auto id = ParseUint(w.substr(1));
  if (!id.ok()) return id.status();
  c.node = NodeId(id.value());
  return c;
}

std::string Refusal(const ProposeResult& r) {
  return std::string("refused: ") + ErrorCodeName(r.code) +
         " (leader hint " + std::to_string(r.leader_hint.value) + ")\n";
}

}  // namespace

Result<ScriptCommand> ParseCommand(const std::string& line) {
  auto words = Tokenize(line);
  if (!words.ok()) return words.status();
  if (words.value().empty()) return Bad("empty command");
  ScriptCommand c;
  c.name = words.value()[0].text;
  for (size_t i = 1; i < words.value().size(); ++i) {
    const Word& w = words.value()[i];
    const size_t eq = w.text.find('=');
    if (!w.quoted && eq != std::string::npos && eq > 0) {
      c.options.emplace_back(w.text.substr(0, eq), w.text.substr(eq + 1));
    } else {
      c.args.push_back(w.text);
    }
  }
  return c;
}

Result<std::string> ScriptRunner::Run(const std::string& line) {
  auto c = ParseCommand(line);
  if (!c.ok()) return c.status();
  return Dispatch(c.value());
}

Result<NodeId> ScriptRunner::NodeArg(const ScriptCommand& c, size_t i) const {
  if (i >= c.args.size()) return Bad(c.name + ": missing node id");
  auto v = ParseUint(c.args[i]);
  if (!v.ok()) return v.status();
  if (!cluster_.Has(NodeId(v.value()))) return Bad(c.name + ": no node " + c.args[i]);
  return NodeId(v.value());
}

// Commands that act on one node and print nothing of their own.
Result<std::string> ScriptRunner::NodeAction(const ScriptCommand& c) {
  const size_t args = c.name == "report-snapshot"      ? 3
                      : c.name == "read-index" || c.name == "transfer-leadership" ||
                              c.name == "report-unreachable"
                          ? 2
                          : 1;
  if (Status s = CheckArgs(c, args, args); !s.ok()) return s;
  if (Status s = CheckOptions(c, {}); !s.ok()) return s;
  auto id = NodeArg(c, 0);
  if (!id.ok()) return id.status();
  const NodeId n = id.value();
  if (c.name == "campaign") {
    cluster_.node(n).Campaign();
  } else if (c.name == "isolate") {
    cluster_.Isolate(n);
  } else if (c.name == "restart") {
    cluster_.Restart(n);
  } else if (c.name == "read-index") {
    auto ctx = ParseUint(c.args[1]);
    if (!ctx.ok()) return ctx.status();
    cluster_.node(n).ReadIndex(ctx.value());
  } else {
    auto to = NodeArg(c, 1);
    if (!to.ok()) return to.status();
    if (c.name == "transfer-leadership") {
      cluster_.node(n).TransferLeadership(to.value());
    } else if (c.name == "report-snapshot") {
      if (c.args[2] != "ok" && c.args[2] != "fail") return Bad("report-snapshot: ok or fail");
      cluster_.node(n).ReportSnapshot(to.value(), c.args[2] == "ok");
    } else {
      cluster_.node(n).ReportUnreachable(to.value());
    }
  }
  return std::string();
}

Result<std::string> ScriptRunner::Dispatch(const ScriptCommand& c) {
  if (c.name == "add-nodes") return AddNodes(c);
  if (c.name == "propose") return Propose(c);
  if (c.name == "propose-conf-change") return ProposeConfChange(c);
  if (c.name == "tick" || c.name == "tick-all") return Tick(c);
  if (c.name == "process-ready") return ProcessReady(c);
  if (c.name == "deliver-msgs") return DeliverMsgs(c);
  if (c.name == "campaign" || c.name == "isolate" || c.name == "restart" ||
      c.name == "read-index" || c.name == "transfer-leadership" ||
      c.name == "report-unreachable" || c.name == "report-snapshot") {
    return NodeAction(c);
  }
  if (c.name == "status" || c.name == "log" || c.name == "compact") return Inspect(c);
  if (c.name == "stabilize") return Stabilize(c);
  if (c.name == "advance") return Advance(c);
  if (Status s = CheckArgs(c, 0, 0); !s.ok()) return s;
  if (Status s = CheckOptions(c, {}); !s.ok()) return s;
  std::string out;
  if (c.name == "heal") {
    cluster_.Heal();
  } else if (c.name == "heal") {
    cluster_.Heal();
  } else if (c.name == "msgs") {
    out = cluster_.RenderQueue();
    if (out.empty()) out = "no messages\n";
  } else if (c.name == "raft-state") {
    out = RaftState();
  } else {
    return Bad("unknown command " + c.name);
  }
  return out;
}

// `stabilize quiet` hides the trace, for set-up steps that other scenarios show in full.
Result<std::string> ScriptRunner::Stabilize(const ScriptCommand& c) {
  if (Status s = CheckArgs(c, 0, 1); !s.ok()) return s;
  if (Status s = CheckOptions(c, {}); !s.ok()) return s;
  const bool quiet = c.args.size() == 1;
  if (quiet && c.args[0] != "quiet") return Bad("stabilize: unknown argument " + c.args[0]);
  std::string out;
  const bool done = cluster_.Stabilize(out);
  if (quiet) return std::string(done ? "" : "did not stabilize\n");
  return out;
}

// Time passing on a network much faster than a tick: every listed node (all by default) ticks
// once, then the cluster stabilizes; N times.
Result<std::string> ScriptRunner::Advance(const ScriptCommand& c) {
  if (Status s = CheckArgs(c, 1, SIZE_MAX); !s.ok()) return s;
  if (Status s = CheckOptions(c, {}); !s.ok()) return s;
  auto n = ParseUint(c.args[0]);
  if (!n.ok()) return n.status();
  bool quiet = false;
  std::vector<NodeId> ids;
  for (size_t i = 1; i < c.args.size(); ++i) {
    if (c.args[i] == "quiet") {
      quiet = true;
      continue;
    }
    auto id = NodeArg(c, i);
    if (!id.ok()) return id.status();
    ids.push_back(id.value());
  }
  if (ids.empty()) ids = cluster_.ids();
  std::string out;
  for (uint64_t t = 0; t < n.value(); ++t) {
    for (NodeId id : ids) cluster_.node(id).Tick();
    if (!cluster_.Stabilize(out)) return std::string("did not stabilize\n");
  }
  return quiet ? std::string() : out;
}

Result<std::string> ScriptRunner::AddNodes(const ScriptCommand& c) {
  if (Status s = CheckArgs(c, 1, 1); !s.ok()) return s;
  if (Status s = CheckOptions(c, {"voters", "learners", "index", "prevote", "checkquorum",
                                  "lease", "election", "heartbeat", "inflight", "append-bytes",
                                  "uncommitted-bytes", "lease-drift", "seed"});
      !s.ok()) {
    return s;
  }
  auto n = ParseUint(c.args[0]);
  if (!n.ok()) return n.status();
  ScriptNodeOptions o;
  std::optional<ConfState> boot;
  LogIndex index(1);
  for (const auto& [k, v] : c.options) {
    Status s;
    if (k == "voters" || k == "learners") {
      auto ids = ParseIds(v);
      if (!ids.ok()) return ids.status();
      if (!boot) boot.emplace();
      (k == "voters" ? boot->voters : boot->learners) = ids.value();
      continue;
    }
    if (k == "prevote" || k == "checkquorum" || k == "lease") {
      auto b = ParseBool(v);
      if (!b.ok()) return b.status();
      (k == "prevote" ? o.pre_vote : k == "checkquorum" ? o.check_quorum : o.lease) = b.value();
      continue;
    }
    auto u = ParseUint(v);
    if (!u.ok()) return u.status();
    const uint64_t x = u.value();
    if (k == "index") index = LogIndex(x);
    if (k == "election") o.election_timeout_ticks = static_cast<uint32_t>(x);
    if (k == "heartbeat") o.heartbeat_interval_ticks = static_cast<uint32_t>(x);
    if (k == "inflight") o.inflight_msgs_max = static_cast<uint32_t>(x);
    if (k == "append-bytes") o.append_bytes_max = x;
    if (k == "uncommitted-bytes") o.uncommitted_bytes_max = x;
    if (k == "lease-drift") o.lease_drift_ticks = static_cast<uint32_t>(x);
    if (k == "seed") o.seed = x;
  }
  const std::vector<NodeId> existing = cluster_.ids();
  const uint64_t first = existing.empty() ? 1 : existing.back().value + 1;
  std::vector<NodeId> added;
  for (uint64_t i = 0; i < n.value(); ++i) added.emplace_back(first + i);
  // The founding members of a new group are all voters unless the script says otherwise;
  // nodes added to a running group start empty and are sent a snapshot.
  if (!boot && existing.empty()) boot = ConfState{added, {}, {}, {}, false};
  for (NodeId id : added) cluster_.AddNode(id, o, boot, index);
  std::string out = "added " + RenderIds(added);
  out += boot ? " from snapshot " + std::to_string(index.value) + " " + RenderConfState(*boot)
              : " with an empty log";
  return out + "\n";
}

Result<std::string> ScriptRunner::Propose(const ScriptCommand& c) {
  if (Status s = CheckArgs(c, 2, SIZE_MAX); !s.ok()) return s;
  if (Status s = CheckOptions(c, {}); !s.ok()) return s;
  auto id = NodeArg(c, 0);
  if (!id.ok()) return id.status();
  std::vector<Payload> data;
  for (size_t i = 1; i < c.args.size(); ++i) data.emplace_back(c.args[i]);
  const ProposeResult r = cluster_.node(id.value()).Propose(data);
  if (!r.ok()) return Refusal(r);
  return "index=" + std::to_string(r.index.value) + " term=" + std::to_string(r.term.value) +
         "\n";
}

Result<std::string> ScriptRunner::ProposeConfChange(const ScriptCommand& c) {
  if (Status s = CheckArgs(c, 1, SIZE_MAX); !s.ok()) return s;
  if (Status s = CheckOptions(c, {"transition"}); !s.ok()) return s;
  auto id = NodeArg(c, 0);
  if (!id.ok()) return id.status();
  ConfChange cc;
  if (const std::string* t = Option(c, "transition")) {
    if (*t == "implicit") {
      cc.transition = ConfChangeTransition::kJointImplicit;
    } else if (*t == "explicit") {
      cc.transition = ConfChangeTransition::kJointExplicit;
    } else if (*t != "auto") {
      return Bad("bad transition " + *t);
    }
  }
  for (size_t i = 1; i < c.args.size(); ++i) {
    auto change = ParseChange(c.args[i]);
    if (!change.ok()) return change.status();
    cc.changes.push_back(change.value());
  }
  const ProposeResult r = cluster_.node(id.value()).ProposeConfChange(cc);
  if (!r.ok()) return Refusal(r);
  return "index=" + std::to_string(r.index.value) + " term=" + std::to_string(r.term.value) +
         "\n";
}

Result<std::string> ScriptRunner::Tick(const ScriptCommand& c) {
  const bool all = c.name == "tick-all";
  if (Status s = CheckArgs(c, all ? 0 : 1, all ? 1 : 2); !s.ok()) return s;
  if (Status s = CheckOptions(c, {}); !s.ok()) return s;
  std::vector<NodeId> ids = cluster_.ids();
  if (!all) {
    auto id = NodeArg(c, 0);
    if (!id.ok()) return id.status();
    ids = {id.value()};
  }
  const size_t count_arg = all ? 0 : 1;
  uint64_t n = 1;
  if (c.args.size() > count_arg) {
    auto v = ParseUint(c.args[count_arg]);
    if (!v.ok()) return v.status();
    n = v.value();
  }
  for (uint64_t i = 0; i < n; ++i) {
    for (NodeId id : ids) cluster_.node(id).Tick();
  }
  return std::string();
}

Result<std::string> ScriptRunner::ProcessReady(const ScriptCommand& c) {
  if (Status s = CheckArgs(c, 1, SIZE_MAX); !s.ok()) return s;
  if (Status s = CheckOptions(c, {}); !s.ok()) return s;
  std::vector<NodeId> ids;
  if (c.args.size() == 1 && c.args[0] == "all") {
    ids = cluster_.ids();
  } else {
    for (size_t i = 0; i < c.args.size(); ++i) {
      auto id = NodeArg(c, i);
      if (!id.ok()) return id.status();
      ids.push_back(id.value());
    }
  }
  std::string out;
  for (NodeId id : ids) (void)cluster_.ProcessReady(id, out);
  if (out.empty()) out = "no ready\n";
  return out;
}

Result<std::string> ScriptRunner::DeliverMsgs(const ScriptCommand& c) {
  if (Status s = CheckOptions(c, {"drop"}); !s.ok()) return s;
  DeliverFilter f;
  for (size_t i = 0; i < c.args.size(); ++i) {
    auto id = NodeArg(c, i);
    if (!id.ok()) return id.status();
    f.to.insert(id.value());
  }
  for (const auto& [k, v] : c.options) {
    auto ids = ParseIds(v);
    if (!ids.ok()) return ids.status();
    f.drop.insert(ids.value().begin(), ids.value().end());
  }
  // Only dropping: select nothing else.
  if (f.to.empty() && !f.drop.empty()) f.to.insert(kNoNode);
  std::string out;
  if (!cluster_.Deliver(f, out)) out = "no messages\n";
  return out;
}

Result<std::string> ScriptRunner::Inspect(const ScriptCommand& c) {
  if (Status s = CheckArgs(c, 1, 1); !s.ok()) return s;
  if (Status s = CheckOptions(c, {}); !s.ok()) return s;
  auto id = NodeArg(c, 0);
  if (!id.ok()) return id.status();
  if (c.name == "status") return RenderStatus(cluster_.node(id.value()).GetStatus());
  if (c.name == "log") return cluster_.RenderLog(id.value());
  Status s = cluster_.Compact(id.value());
  if (!s.ok()) return "compact: " + s.ToString() + "\n";
  return "snapshot at " + std::to_string(cluster_.storage(id.value()).FirstIndex().value - 1) +
         "\n";
}

std::string ScriptRunner::RaftState() {
  std::string out;
  for (NodeId id : cluster_.ids()) {
    const RawNode& n = cluster_.node(id);
    out += std::to_string(id.value) + ": " + RoleName(n.role()) +
           " term=" + std::to_string(n.term().value) +
           " leader=" + std::to_string(n.leader().value);
    if (cluster_.Isolated(id)) out += " (isolated)";
    out += "\n";
  }
  return out;
}

}  // namespace synod::raft::testing
