// The runner's own log for operators (STYLE C10): one line per event with
// key=value fields, written in the official formats (`runner`, `text`, `json`).
// Never carries job output, secrets or full tokens.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glr {

enum class LogLevel { kDebug, kInfo, kWarning, kError, kFatal, kPanic };

struct LogField {
  std::string key;
  std::string value;
};

// Sets level and format; "runner" (default), "text" or "json". Thread-safe.
void configure_log(LogLevel level, std::string_view format, bool color);
// Parses the official level names (debug, info, warn, warning, error, fatal, panic).
bool parse_log_level(std::string_view name, LogLevel* level);
bool is_valid_log_format(std::string_view format);

void log_event(LogLevel level, std::string_view message, std::vector<LogField> fields = {});
inline void log_debug(std::string_view m, std::vector<LogField> f = {}) { log_event(LogLevel::kDebug, m, std::move(f)); }
inline void log_info(std::string_view m, std::vector<LogField> f = {}) { log_event(LogLevel::kInfo, m, std::move(f)); }
inline void log_warning(std::string_view m, std::vector<LogField> f = {}) { log_event(LogLevel::kWarning, m, std::move(f)); }
inline void log_error(std::string_view m, std::vector<LogField> f = {}) { log_event(LogLevel::kError, m, std::move(f)); }

// Called for every line written at warning level or above (the errors metric).
// Pass an empty function to remove it. Thread-safe.
void set_log_observer(std::function<void(LogLevel)> observer);

// Formats one line without writing it (used by tests and by log_event).
std::string format_log_line(LogLevel level, std::string_view message,
                            const std::vector<LogField>& fields, std::string_view format,
                            bool color, std::string_view timestamp);

}  // namespace glr
