// Child processes for the real-process tests: long-running ones (synod members) that the test
// kills, and short commands (etcdctl) whose output it reads. Proxy variables never reach a
// child, so test traffic stays on 127.0.0.1.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace synod::cluster_test {

// A running child whose stdout and stderr go to a file. Killed with SIGKILL on destruction
// if still running.
class Child {
 public:
  Child() = default;
  ~Child();
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // False (and *error set) when the program cannot be started.
  // `env` entries ("K=V") are added to the child's environment.
  static bool Spawn(const std::vector<std::string>& argv, const std::string& log_path, Child* child,
                    std::string* error, const std::vector<std::string>& env = {});

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Sends `signal` and waits up to `timeout` for the exit; the exit status (as waitpid
  // reports it), or -1 if it did not exit in time (it is then killed with SIGKILL).
  int Stop(int signal, std::chrono::milliseconds timeout);
  // True if the child has exited (reaping it).
  bool Exited();
  // Sends `signal` (SIGSTOP, SIGCONT, ...) without waiting; false if not running.
  bool Signal(int signal) const;

 private:
  pid_t pid_ = -1;
};

struct CommandResult {
  int exit_code = -1;  // -1: killed by the timeout or could not start
  std::string out;
  std::string err;
};

// Runs argv to completion with `input` on its stdin; `env` entries ("K=V") are added.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input,
                         const std::vector<std::string>& env, std::chrono::milliseconds timeout);

}  // namespace synod::cluster_test
