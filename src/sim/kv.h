// The replicated state machine the simulator drives: a key-value map of strings with get, put
// and compare-and-set, plus a session table that makes every command apply at most once.
//
// A command carries (client, request); requests of one client are numbered upward and a client
// has at most one outstanding. A command whose request is not newer than the client's last
// applied one is a duplicate (a retry, or a forwarded proposal the network duplicated) and does
// not apply again; if it is the same request, it answers with the stored result (thesis §6.3,
// "Implementing linearizable semantics").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace synod::sim {

enum class CommandKind : uint8_t {
  kGet = 1,  // a read through the log
  kPut = 2,
  kCas = 3,    // if value == expected (nullopt: absent) then value = new value
  kProbe = 4,  // no effect; the liveness phase's marker proposal
};

struct Command {
  CommandKind kind = CommandKind::kGet;
  uint64_t client = 0;
  uint64_t request = 0;
  std::string key;
  std::string value;                    // kPut, kCas
  std::optional<std::string> expected;  // kCas
  bool operator==(const Command&) const = default;
};

std::string EncodeCommand(const Command& cmd);
std::optional<Command> DecodeCommand(std::string_view bytes);

struct CommandResult {
  bool cas_succeeded = false;        // kCas
  std::optional<std::string> value;  // kGet: the value read
  bool operator==(const CommandResult&) const = default;
};

enum class ApplyStatus : uint8_t {
  kApplied,    // took effect now
  kDuplicate,  // the same request applied before: `result` is the original answer
  kStale,      // an older request of this client: nobody waits for it any more
};

class KvStateMachine {
 public:
  ApplyStatus Apply(const Command& cmd, CommandResult* result);
  std::optional<std::string> Get(const std::string& key) const;

  // The snapshot image: every key and every session, in key order.
  std::string Image() const;
  [[nodiscard]] bool Restore(std::string_view image);
  // Fingerprint of the whole state (data and sessions).
  uint64_t Hash() const;
  size_t size() const { return data_.size(); }

 private:
  struct Session {
    uint64_t request = 0;
    CommandResult result;
  };
  std::map<std::string, std::string> data_;
  std::map<uint64_t, Session> sessions_;  // by client
};

}  // namespace synod::sim
