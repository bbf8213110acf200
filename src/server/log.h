// synod's process log: one JSON object per line on stderr, e.g.
//   {"time":"2024-05-01T10:00:00.123456Z","level":"info","node":"n1","component":"raft",
//    "message":"leader is 42 in term 3"}
// so that log collectors parse it without a custom grammar. spdlog does the buffering and
// locking; this header keeps it out of the rest of the server.
#pragma once

#include <string>
#include <string_view>

namespace synod::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// "debug", "info", "warn" or "error"; false for anything else.
bool ParseLogLevel(std::string_view text, LogLevel* level);

// Call once, before any Log, from main. `node` names this process in every line.
void InitLogging(std::string_view node, LogLevel level);
// Thread-safe. Before InitLogging, lines go to stderr with the node name empty.
void Log(LogLevel level, std::string_view component, std::string_view message);
// Writes out anything buffered (before exiting).
void FlushLogs();

// `message` as the body of a JSON string (quotes, backslashes and control bytes escaped;
// bytes of invalid UTF-8 as \u00XX so the line stays valid JSON).
std::string JsonEscape(std::string_view message);

}  // namespace synod::server
