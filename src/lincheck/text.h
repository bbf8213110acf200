// Small text helpers shared by the history parsers and writers: line splitting, numbers,
// quoted strings and error messages that name the file and line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace synod::lincheck::text {

struct Line {
  size_t number = 0;      // 1-based
  std::string_view text;  // without the line terminator (LF or CRLF)
};

std::vector<Line> SplitLines(std::string_view input);
std::string_view Trim(std::string_view s);
std::vector<std::string_view> SplitWhitespace(std::string_view s);
std::vector<std::string_view> SplitChar(std::string_view s, char separator);

std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<uint64_t> ParseUint64(std::string_view s);

// Double-quoted with backslash escapes: \" \\ \n \r \t and \xHH for any other byte below 0x20
// or equal to 0x7f. Bytes from 0x80 up pass through, so UTF-8 stays readable. The result never
// contains a tab or a line break, which is what lets it sit in a tab-separated line.
std::string Quote(std::string_view s);

// Reads one quoted string at the front of `*in` (the inverse of Quote; \xHH is optional for
// formats that do not use it) and advances `*in` past the closing quote. On error returns
// nullopt and sets `*error`.
std::optional<std::string> ReadQuoted(std::string_view* in, bool allow_hex_escape,
                                      std::string* error);

// kInvalidArgument "<source>:<line>: <message>".
Status LineError(std::string_view source, size_t line, std::string_view message);

}  // namespace synod::lincheck::text
