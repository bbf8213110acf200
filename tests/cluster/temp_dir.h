#pragma once

// A fresh folder under /tmp for one test, removed with everything in it when the test ends.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "base/assert.h"

namespace synod::cluster_test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "synod-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    const char* made = ::mkdtemp(tmpl.data());
    SYNOD_ASSERT(made != nullptr, "mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace synod::cluster_test
