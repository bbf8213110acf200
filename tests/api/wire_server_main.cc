// etcd_wire_server: a test-only etcd v3 endpoint (KV Range and Put over an in-memory map) for
// trying etcd clients against synod's generated protocol code by hand:
//   etcd_wire_server --listen 127.0.0.1:0      # prints the endpoint it bound
//   ETCDCTL_API=3 etcdctl --endpoints=<endpoint> put foo bar
// Runs until SIGINT or SIGTERM. Loopback only.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <string>

#include "map_kv_service.h"

int main(int argc, char** argv) {
  CLI::App app{"test-only etcd v3 KV endpoint (Range, Put) over an in-memory map"};
  std::string listen = "127.0.0.1:0";
  app.add_option("--listen", listen, "127.0.0.1:<port>; port 0 picks a free one");
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals before gRPC starts its threads, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string error;
  auto server = synod::testing::WireServer::Start(listen, {}, &error);
  if (server == nullptr) {
    std::fprintf(stderr, "etcd_wire_server: %s\n", error.c_str());
    return 1;
  }
  std::printf("listening on %s\n", server->endpoint().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server->Shutdown();
  return 0;
}
