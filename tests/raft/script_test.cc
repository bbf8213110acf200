// Runs every scripted protocol test in testdata/ as its own test case. With SYNOD_REWRITE=1
// the files are rewritten with the outputs the code produces instead of being checked; the
// diff is then reviewed by hand (an output is only an expectation once someone has checked
// it is correct Raft behaviour).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "script_file.h"
#include "script_runner.h"

namespace synod::raft::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ScriptNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(SYNOD_RAFT_TESTDATA)) {
    if (e.path().extension() == ".txt") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool RewriteRequested() {
  const char* v = std::getenv("SYNOD_REWRITE");
  return v != nullptr && std::string(v) == "1";
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

class ScriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScriptTest, Run) {
  const fs::path path = fs::path(SYNOD_RAFT_TESTDATA) / (GetParam() + ".txt");
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  auto file = ParseScript(text.str());
  ASSERT_TRUE(file.ok()) << path << ": " << file.status().ToString();

  const bool rewrite = RewriteRequested();
  ScriptRunner runner;
  std::vector<std::string> outputs;
  for (const ScriptBlock& b : file.value().blocks) {
    auto out = runner.Run(b.command);
    ASSERT_TRUE(out.ok()) << path << ":" << b.line << ": " << b.command << ": "
                          << out.status().ToString();
    outputs.push_back(out.value());
    if (rewrite) continue;
    ASSERT_TRUE(b.has_expected) << path << ":" << b.line << ": no expected output (run with "
                                << "SYNOD_REWRITE=1 to fill it in)";
    // Stop at the first difference: later outputs follow from a state that already diverged.
    ASSERT_EQ(Join(b.expected), Join(OutputLines(out.value())))
        << path << ":" << b.line << ": " << b.command;
  }
  if (rewrite) {
    std::ofstream o(path, std::ios::trunc);
    o << FormatScript(file.value(), outputs);
    ASSERT_TRUE(o.good()) << "cannot write " << path;
  }
}

// The same transformation as CMake's MAKE_C_IDENTIFIER, which names the ctest tests.
std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) name = "_" + name;
  return name;
}

// The file format itself: what the runner reads is what rewrite mode writes back.
TEST(ScriptFile, ParseAndFormatRoundTrip) {
  const std::string text =
      "# a comment\n"
      "first 1\n"
      "----\n"
      "line one\n"
      "  line two\n"
      "\n"
      "\n"
      "# between blocks\n"
      "second\n"
      "----\n"
      "ok\n"
      "\n"
      "# trailing comment\n";
  auto file = ParseScript(text);
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(file.value().blocks.size(), 2u);
  EXPECT_EQ(file.value().blocks[0].command, "first 1");
  EXPECT_EQ(file.value().blocks[0].line, 2);
  EXPECT_EQ(file.value().blocks[0].expected,
            (std::vector<std::string>{"line one", "  line two"}));
  EXPECT_EQ(file.value().blocks[1].line, 9);
  // Runs of blank lines between blocks collapse to one; everything else is kept.
  std::string want = text;
  want.erase(want.find("\n\n\n"), 1);
  EXPECT_EQ(FormatScript(file.value(), {"line one\n  line two\n", ""}), want);
}

TEST(ScriptFile, NewCommandsGetTheirOutputInRewriteMode) {
  auto file = ParseScript("a\n\nb\n");
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(file.value().blocks.size(), 2u);
  EXPECT_FALSE(file.value().blocks[0].has_expected);
  EXPECT_EQ(FormatScript(file.value(), {"x\n\ny\n", ""}), "a\n----\nx\ny\n\nb\n----\nok\n");
}

TEST(ScriptFile, SeparatorWithoutCommandIsAnError) {
  EXPECT_FALSE(ParseScript("# c\n----\nout\n").ok());
}

TEST(ScriptCommand, WordsOptionsAndQuotes) {
  auto c = ParseCommand(R"(propose 1 "a b" x=1 "k=v" voters=(1,2))");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value().name, "propose");
  EXPECT_EQ(c.value().args, (std::vector<std::string>{"1", "a b", "k=v"}));
  ASSERT_EQ(c.value().options.size(), 2u);
  EXPECT_EQ(c.value().options[1].second, "(1,2)");
  EXPECT_FALSE(ParseCommand(R"(propose 1 "open)").ok());
  EXPECT_FALSE(ScriptRunner().Run("no-such-command").ok());
  EXPECT_FALSE(ScriptRunner().Run("campaign 1").ok());  // no node 1 yet
}

INSTANTIATE_TEST_SUITE_P(Scripts, ScriptTest, ::testing::ValuesIn(ScriptNames()), CaseName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ScriptTest);

}  // namespace
}  // namespace synod::raft::testing
