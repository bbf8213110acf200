#include "script_file.h"

#include <sstream>

namespace synod::raft::testing {
namespace {

constexpr const char* kSeparator = "----";

bool IsBlankOrComment(const std::string& line) {
  return line.empty() || line[0] == '#';
}

std::string RightTrim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Result<ScriptFile> ParseScript(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(RightTrim(line));

  ScriptFile file;
  std::vector<std::string> pending;  // prelude of the next block
  size_t i = 0;
  while (i < lines.size()) {
    if (IsBlankOrComment(lines[i])) {
      pending.push_back(lines[i++]);
      continue;
    }
    if (lines[i] == kSeparator) {
      return Status(ErrorCode::kInvalidArgument,
                    "line " + std::to_string(i + 1) + ": `----` without a command");
    }
    ScriptBlock b;
    b.prelude = std::move(pending);
    pending.clear();
    b.command = lines[i];
    b.line = static_cast<int>(i + 1);
    ++i;
    if (i < lines.size() && lines[i] == kSeparator) {
      b.has_expected = true;
      for (++i; i < lines.size() && !lines[i].empty(); ++i) b.expected.push_back(lines[i]);
    }
    file.blocks.push_back(std::move(b));
  }
  file.trailer = std::move(pending);
  return file;
}

std::vector<std::string> OutputLines(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    line = RightTrim(line);
    // A blank line would end the block early when the file is read back.
    if (!line.empty()) out.push_back(line);
  }
  if (out.empty()) out.push_back("ok");
  return out;
}

std::string FormatScript(const ScriptFile& file, const std::vector<std::string>& outputs) {
  std::string text;
  for (size_t b = 0; b < file.blocks.size(); ++b) {
    const ScriptBlock& block = file.blocks[b];
    // Exactly one blank line separates a block's output from what follows.
    size_t skip = 0;
    if (b > 0) {
      while (skip < block.prelude.size() && block.prelude[skip].empty()) ++skip;
      text += "\n";
    }
    for (size_t k = skip; k < block.prelude.size(); ++k) text += block.prelude[k] + "\n";
    text += block.command + "\n" + kSeparator + "\n";
    for (const std::string& line : OutputLines(outputs.at(b))) text += line + "\n";
  }
  size_t skip = 0;
  while (skip < file.trailer.size() && file.trailer[skip].empty()) ++skip;
  if (skip < file.trailer.size()) text += "\n";
  for (size_t k = skip; k < file.trailer.size(); ++k) text += file.trailer[k] + "\n";
  return text;
}

}  // namespace synod::raft::testing
