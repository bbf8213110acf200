#include "cluster_fixture.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace synod::cluster_test {
namespace {

std::string FromEnv(const char* name, const char* fallback) {
  const char* env = std::getenv(name);
  return env != nullptr ? env : fallback;
}

}  // namespace

std::string SynodPath() { return FromEnv("SYNOD_BINARY", SYNOD_BINARY_DEFAULT); }
std::string EtcdctlPath() { return FromEnv("SYNOD_ETCDCTL", SYNOD_ETCDCTL_DEFAULT); }
std::string SynodBenchPath() { return FromEnv("SYNOD_BENCH_BINARY", SYNOD_BENCH_DEFAULT); }

void ClusterFixture::StartCluster(ClusterSpec spec) {
  if (access(SynodPath().c_str(), X_OK) != 0) GTEST_SKIP() << "no synod at " << SynodPath();
  if (spec.needs_etcdctl && access(EtcdctlPath().c_str(), X_OK) != 0) {
    GTEST_SKIP() << "no etcdctl at " << EtcdctlPath();
  }
  cluster_ = std::make_unique<LocalCluster>(SynodPath(), spec.size, std::move(spec.flags));
  if (spec.serve_metrics) cluster_->ServeMetrics();
  if (!spec.hosts.empty()) cluster_->UseHosts(std::move(spec.hosts));
  std::string error;
  ASSERT_TRUE(cluster_->StartAll(&error)) << error;
  leader_ = cluster_->WaitForLeader(std::chrono::seconds(15));
  ASSERT_GE(leader_, 0) << "no leader within 15 s (" << cluster_->last_wait_error() << ")\n"
                        << cluster_->LogTail(0);
}

void ClusterFixture::TearDown() {
  if (HasFailure() && cluster_ != nullptr) {
    for (int i = 0; i < cluster_->size(); ++i) {
      std::cerr << "---- log of member " << i << "\n" << cluster_->LogTail(i) << "\n";
    }
  }
}

bool ClusterFixture::WaitForValue(int i, const std::string& key, const std::string& value,
                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    etcdserverpb::RangeResponse r;
    if (cluster_->client(i).Get(key, std::chrono::seconds(1), &r, /*serializable=*/true).ok() &&
        r.kvs_size() == 1 && r.kvs(0).value() == value) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool ClusterFixture::WaitForLog(int i, const std::string& text,
                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cluster_->LogTail(i, 1 << 20).find(text) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool ClusterFixture::WaitForExit(int i, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cluster_->Exited(i)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace synod::cluster_test
