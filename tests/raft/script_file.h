// The text format of scripted protocol tests: a sequence of commands, each followed by the
// output it must produce.
//
//   # comments and blank lines between blocks are kept as they are
//   campaign 1
//   ----
//   ok
//
// A block's output runs from the `----` line to the next blank line (or the end of the file),
// so outputs never contain blank lines. In rewrite mode a file is written back with the same
// comments and commands and the outputs replaced, which is how new scenarios get their
// expectations; every rewritten output is then reviewed by hand before it is committed.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace synod::raft::testing {

struct ScriptBlock {
  std::vector<std::string> prelude;  // comment and blank lines before the command
  std::string command;
  int line = 0;                      // 1-based line of the command, for error messages
  bool has_expected = false;         // a `----` line followed the command
  std::vector<std::string> expected;
};

struct ScriptFile {
  std::vector<ScriptBlock> blocks;
  std::vector<std::string> trailer;  // comment and blank lines after the last block
};

Result<ScriptFile> ParseScript(const std::string& text);
// The text of `file` with each block's output taken from `outputs` (one per block).
std::string FormatScript(const ScriptFile& file, const std::vector<std::string>& outputs);
// Splits an output into lines; an empty output is written as "ok" so a block always ends at
// the first blank line after its `----`.
std::vector<std::string> OutputLines(const std::string& output);

}  // namespace synod::raft::testing
