// The helper subcommands (artifacts-uploader, cache-archiver, ...) print into the job log
// through the official runner's log formatter (executors §2.2), not through the runner log:
// their output is what users read in the job page.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glr {

enum class HelperLevel { kDebug, kInfo, kWarning, kError, kFatal };

struct HelperField {
  std::string key{};
  std::string value{};
  friend bool operator==(const HelperField&, const HelperField&) = default;
};

// One line as logrus' RunnerTextFormatter prints it: level colour, prefix, the message
// left-justified to 50 - len(prefix), reset, a space, then " <colour>key<reset>=value" per
// field sorted by key, then "\n".
std::string format_helper_line(HelperLevel level, std::string_view message,
                               std::vector<HelperField> fields = {});

// Where helper lines go. Production writes to stderr (the stage's stream); tests collect.
// Not thread-safe: one helper command runs on one thread.
class HelperLog {
 public:
  using Sink = std::function<void(std::string_view line)>;
  explicit HelperLog(Sink sink) : sink_(std::move(sink)) {}

  void log(HelperLevel level, std::string_view message, std::vector<HelperField> fields = {}) {
    sink_(format_helper_line(level, message, std::move(fields)));
  }
  void debug(std::string_view m, std::vector<HelperField> f = {}) { log(HelperLevel::kDebug, m, std::move(f)); }
  void info(std::string_view m, std::vector<HelperField> f = {}) { log(HelperLevel::kInfo, m, std::move(f)); }
  void warning(std::string_view m, std::vector<HelperField> f = {}) { log(HelperLevel::kWarning, m, std::move(f)); }
  void error(std::string_view m, std::vector<HelperField> f = {}) { log(HelperLevel::kError, m, std::move(f)); }
  void fatal(std::string_view m, std::vector<HelperField> f = {}) { log(HelperLevel::kFatal, m, std::move(f)); }

 private:
  Sink sink_;
};

// A HelperLog that appends every line to a string (tests, and commands that buffer).
struct CollectingHelperLog {
  std::string text{};
  HelperLog log{[this](std::string_view line) { text.append(line); }};
};

}  // namespace glr
