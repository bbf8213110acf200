#include "cluster_fixture.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

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

}  // namespace synod::cluster_test
