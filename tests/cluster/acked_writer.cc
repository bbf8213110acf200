#include "acked_writer.h"

#include <cstdlib>
#include <iostream>

namespace synod::cluster_test {

AckedWriter::AckedWriter(LocalCluster* cluster) : cluster_(cluster) {
  thread_ = std::thread([this] { Run(); });
}

AckedWriter::~AckedWriter() { Stop(); }

void AckedWriter::Run() {
  int next = 0, member = 0;
  while (!stop_.load()) {
    const std::string key = "ack/" + std::to_string(next);
    const std::string value = "v" + std::to_string(next);
    if (cluster_->client(member).Put(key, value, std::chrono::seconds(2)).ok()) {
      acked_[key] = value;
      acked_count_.fetch_add(1);
      ++next;  // an unacknowledged key is retried elsewhere with the same value
    } else {
      member = (member + 1) % cluster_->size();
    }
  }
}

bool AckedWriter::WaitForAcks(int n, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (acked_count_.load() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return acked_count_.load() >= n;
}

void AckedWriter::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

const std::map<std::string, std::string>& AckedWriter::acked() const {
  if (thread_.joinable()) {
    std::cerr << "AckedWriter::acked() before Stop()\n";
    std::abort();
  }
  return acked_;
}

}  // namespace synod::cluster_test
