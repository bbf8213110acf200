#pragma once

// Files for tests: a fresh folder under /tmp removed with everything in it when the test ends,
// and a whole file read into a string.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
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

// The file's bytes; empty when it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace synod::cluster_test
