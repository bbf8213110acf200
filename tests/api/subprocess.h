// Runs a command to completion and captures its output (for the etcdctl tests).
#pragma once

#include <string>
#include <vector>

namespace synod::testing {

struct CommandResult {
  int exit_code = -1;  // -1: did not exit normally (killed, or could not start)
  std::string out;
  std::string err;
};

struct CommandOptions {
  // Added to the environment. Proxy variables are always removed: test traffic stays local.
  std::vector<std::string> env;
  // Variables with these prefixes are removed from the inherited environment.
  std::vector<std::string> env_drop_prefixes;
  int timeout_ms = 20'000;  // the child is killed after this
};

// REQUIRES: argv non-empty, argv[0] an executable path.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options);

}  // namespace synod::testing
