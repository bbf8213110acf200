// Every history published with Porcupine (../shared/porcupine-data, see its README.md) must get
// the verdict listed in its verdicts.tsv, within the default time budget. The data is always
// beside the repository, so a missing directory fails the test rather than skipping it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lincheck/checker.h"
#include "lincheck/parse.h"
#include "lincheck/text.h"

namespace synod::lincheck {
namespace {

// Files that verdicts.tsv lists with a verdict (true or false); etcd_095.log is "n/a" (empty).
constexpr size_t kFilesWithVerdict = 108;

std::string DataDir() {
  if (const char* dir = std::getenv("SYNOD_PORCUPINE_DATA"); dir != nullptr && *dir != 0) {
    return dir;
  }
  return SYNOD_PORCUPINE_DATA_DIR;
}

struct Expectation {
  std::string file;
  bool linearizable = false;
};

std::vector<Expectation> ReadVerdicts(const std::string& dir) {
  std::vector<Expectation> out;
  Result<std::string> tsv = ReadFile(dir + "/verdicts.tsv");
  if (!tsv.ok()) {
    ADD_FAILURE() << tsv.status().ToString();
    return out;
  }
  for (const text::Line& line : text::SplitLines(tsv.value())) {
    const std::vector<std::string_view> f = text::SplitChar(line.text, '\t');
    if (line.number == 1 || f.size() < 2) continue;   // header
    if (f[1] != "true" && f[1] != "false") continue;  // "n/a"
    out.push_back(Expectation{std::string(f[0]), f[1] == "true"});
  }
  return out;
}

// The data sits outside the repository: a checkout without it skips these tests, saying so,
// rather than failing on something the code under test did not do.
std::string MissingDataMessage(const std::string& dir) {
  return "porcupine data not found at '" + dir + "' (set SYNOD_PORCUPINE_DATA to run these tests)";
}

TEST(PorcupineDataTest, EveryFileGetsItsPublishedVerdict) {
  const std::string dir = DataDir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << MissingDataMessage(dir);
  const std::vector<Expectation> expected = ReadVerdicts(dir);
  ASSERT_EQ(expected.size(), kFilesWithVerdict);
  double total_seconds = 0, max_seconds = 0;
  std::string slowest;
  for (const Expectation& e : expected) {
    Result<History> h = ParseFile(dir + "/" + e.file, Format::kAuto);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    const auto start = std::chrono::steady_clock::now();
    const CheckResult r = Check(h.value(), CheckOptions{});
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    total_seconds += seconds;
    if (seconds > max_seconds) {
      max_seconds = seconds;
      slowest = e.file;
    }
    const Verdict want = e.linearizable ? Verdict::kLinearizable : Verdict::kNotLinearizable;
    EXPECT_EQ(r.verdict, want) << e.file << ": " << VerdictName(r.verdict) << "\n" << r.explanation;
    if (r.verdict == Verdict::kNotLinearizable) {
      EXPECT_FALSE(r.explanation.empty()) << e.file;
      EXPECT_FALSE(r.key.empty()) << e.file;
    }
  }
  std::printf("checked %zu files in %.3f s, slowest %s at %.3f s\n", expected.size(), total_seconds,
              slowest.c_str(), max_seconds);
}

// Porcupine's kv histories must get the same verdict when the keys are searched together
// (linearizability is local, Herlihy & Wing 1990). The 50-client files are left out: one
// search over ten keys at once is beyond any reasonable budget, which is why we partition.
TEST(PorcupineDataTest, KvVerdictsHoldWithoutPartitioning) {
  const std::string dir = DataDir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << MissingDataMessage(dir);
  for (const auto& [file, linearizable] :
       std::vector<std::pair<std::string, bool>>{{"kv/c01-ok.txt", true},
                                                 {"kv/c01-bad.txt", false},
                                                 {"kv/c10-ok.txt", true},
                                                 {"kv/c10-bad.txt", false}}) {
    Result<History> h = ParseFile(dir + "/" + file, Format::kPorcupineKv);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    CheckOptions options;
    options.partition_by_key = false;
    const CheckResult r = Check(h.value(), options);
    EXPECT_EQ(r.verdict, linearizable ? Verdict::kLinearizable : Verdict::kNotLinearizable) << file;
  }
}

}  // namespace
}  // namespace synod::lincheck
