#pragma once

// A background writer for tests that kill or remove members under load: it writes "ack/<n>" =
// "v<n>" through whichever member answers and remembers exactly the writes that were
// acknowledged, so a test can check that none of them is lost.

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "local_cluster.h"

namespace synod::cluster_test {

class AckedWriter {
 public:
  explicit AckedWriter(LocalCluster* cluster);
  ~AckedWriter();  // stops the thread
  AckedWriter(const AckedWriter&) = delete;
  AckedWriter& operator=(const AckedWriter&) = delete;

  // True once at least n writes were acknowledged; false after the timeout.
  bool WaitForAcks(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  int acked_count() const { return acked_count_.load(); }

  void Stop();
  // Every acknowledged key and its value; only after Stop().
  const std::map<std::string, std::string>& acked() const;

 private:
  void Run();

  LocalCluster* cluster_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acked_count_{0};
  std::map<std::string, std::string> acked_;  // written by the writer thread only
  std::thread thread_;
};

}  // namespace synod::cluster_test
