// synod: one member of a synod cluster. Flags follow etcd's (synod --help); the process runs
// until SIGTERM or SIGINT, then stops cleanly: requests in flight are answered, the WAL is
// closed, and the exit code is 0.
#include <signal.h>

#include <cstdio>
#include <string>

#include "server/config.h"
#include "server/log.h"
#include "server/server.h"

namespace {

// Blocks the stop signals in every thread (threads inherit the mask), so that only sigwait in
// main sees them and no library thread is interrupted by one.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  using synod::server::Log;
  using synod::server::LogLevel;
  const synod::server::FlagsOutcome flags = synod::server::ParseFlags(argc, argv);
  if (!flags.config) {
    std::fputs(flags.message.c_str(), flags.exit_code == 0 ? stdout : stderr);
    return flags.exit_code;
  }
  const synod::server::ServerConfig& config = *flags.config;
  synod::server::InitLogging(config.name, config.log_level);
  const sigset_t stop_signals = BlockStopSignals();

  auto server = synod::server::Server::Start(config);
  if (!server.ok()) {
    Log(LogLevel::kError, "server", "cannot start: " + server.status().ToString());
    synod::server::FlushLogs();
    return 1;
  }
  Log(LogLevel::kInfo, "server", "ready");
  int signal = 0;
  sigwait(&stop_signals, &signal);
  Log(LogLevel::kInfo, "server",
      std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
  server.value()->Stop();
  synod::server::FlushLogs();
  return 0;
}
