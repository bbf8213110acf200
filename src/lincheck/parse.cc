#include "lincheck/parse.h"

#include <fstream>
#include <sstream>

#include "lincheck/text.h"

namespace synod::lincheck {

const char* FormatName(Format format) {
  switch (format) {
    case Format::kAuto:
      return "auto";
    case Format::kJepsen:
      return "jepsen";
    case Format::kPorcupineKv:
      return "porcupine-kv";
    case Format::kSynod:
      return "synod";
  }
  return "?";
}

Result<Format> ParseFormatName(std::string_view name) {
  for (Format f : {Format::kAuto, Format::kJepsen, Format::kPorcupineKv, Format::kSynod}) {
    if (name == FormatName(f)) return f;
  }
  return Status(
      ErrorCode::kInvalidArgument,
      "unknown format '" + std::string(name) + "' (expected auto, jepsen, porcupine-kv or synod)");
}

Result<Format> DetectFormat(std::string_view contents, std::string_view source) {
  for (const text::Line& line : text::SplitLines(contents)) {
    const std::string_view t = text::Trim(line.text);
    if (t.empty()) continue;
    if (t.starts_with("# synod-history")) return Format::kSynod;
    if (t.starts_with("{")) return Format::kPorcupineKv;
    if (t.find("jepsen.util") != std::string_view::npos) return Format::kJepsen;
    return text::LineError(source, line.number,
                           "cannot tell the format from this line; pass --format");
  }
  return Status(ErrorCode::kInvalidArgument,
                std::string(source) + ": empty input, cannot tell its format");
}

Result<History> ParseHistory(std::string_view contents, Format format, std::string_view source) {
  if (format == Format::kAuto) {
    Result<Format> detected = DetectFormat(contents, source);
    if (!detected.ok()) return detected.status();
    format = detected.value();
  }
  switch (format) {
    case Format::kJepsen:
      return ParseJepsen(contents, source);
    case Format::kPorcupineKv:
      return ParsePorcupineKv(contents, source);
    case Format::kSynod:
      return ParseSynod(contents, source);
    case Format::kAuto:
      break;
  }
  SYNOD_UNREACHABLE("format resolved above");
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status(ErrorCode::kIoError, path + ": cannot open");
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return Status(ErrorCode::kIoError, path + ": read failed");
  return contents.str();
}

Result<History> ParseFile(const std::string& path, Format format) {
  Result<std::string> contents = ReadFile(path);
  if (!contents.ok()) return contents.status();
  return ParseHistory(contents.value(), format, path);
}

}  // namespace synod::lincheck
