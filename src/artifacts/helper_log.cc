// The official helper log line layout (log/runner_formatter.go), byte for byte.
#include "artifacts/helper_log.h"

#include <algorithm>

namespace glr {
namespace {

constexpr std::string_view kReset = "\x1b[0;m";

std::pair<std::string_view, std::string_view> colour_and_prefix(HelperLevel level) {
  switch (level) {
    case HelperLevel::kDebug:
      return {"\x1b[37;1m", ""};
    case HelperLevel::kInfo:
      return {"", ""};
    case HelperLevel::kWarning:
      return {"\x1b[0;33m", "WARNING: "};
    case HelperLevel::kError:
      return {"\x1b[31;1m", "ERROR: "};
    case HelperLevel::kFatal:
      return {"\x1b[31;1m", "FATAL: "};
  }
  return {"", ""};
}

}  // namespace

std::string format_helper_line(HelperLevel level, std::string_view message,
                               std::vector<HelperField> fields) {
  auto [colour, prefix] = colour_and_prefix(level);
  std::string line;
  line.append(colour).append(prefix).append(message);
  const size_t width = 50 - prefix.size();
  if (message.size() < width) line.append(width - message.size(), ' ');
  line.append(kReset).append(" ");
  std::stable_sort(fields.begin(), fields.end(),
                   [](const HelperField& a, const HelperField& b) { return a.key < b.key; });
  for (const HelperField& f : fields) {
    line.append(" ").append(colour).append(f.key).append(kReset).append("=").append(f.value);
  }
  line.append("\n");
  return line;
}

}  // namespace glr
