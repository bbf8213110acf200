// Reading and writing histories. Three formats (README.md describes each):
//   jepsen        Jepsen etcd logs (`INFO  jepsen.util - <process> <type> <f> <value>`)
//   porcupine-kv  Porcupine's key-value EDN lines (`{:process 0, :type :invoke, :f :get, ...}`)
//   synod         synod's own tab-separated history, the one FormatHistory() writes
// Malformed input is an error value (kInvalidArgument) naming the file and line.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "lincheck/history.h"

namespace synod::lincheck {

enum class Format : uint8_t { kAuto, kJepsen, kPorcupineKv, kSynod };

const char* FormatName(Format format);  // "auto", "jepsen", "porcupine-kv", "synod"
Result<Format> ParseFormatName(std::string_view name);

// Guesses the format from the first non-blank line; kInvalidArgument if none fits.
Result<Format> DetectFormat(std::string_view contents, std::string_view source);

// `source` names the input in error messages (usually the path).
Result<History> ParseHistory(std::string_view contents, Format format, std::string_view source);
Result<History> ParseFile(const std::string& path, Format format);
// The whole file; kIoError if it cannot be read.
Result<std::string> ReadFile(const std::string& path);

Result<History> ParseJepsen(std::string_view contents, std::string_view source);
Result<History> ParsePorcupineKv(std::string_view contents, std::string_view source);
Result<History> ParseSynod(std::string_view contents, std::string_view source);

// The synod format, header included; ParseSynod(FormatHistory(h)) gives back h for any valid h.
std::string FormatHistory(const History& history);

inline constexpr std::string_view kSynodHeader = "# synod-history v1";

}  // namespace synod::lincheck
