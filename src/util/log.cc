// Runner log formatting compatible with the official runner's logrus output:
// `runner` pads the message to 50 columns minus the level prefix and appends
// sorted key=value fields (log/runner_formatter.go behaviour), `text` is logrus'
// TextFormatter style, `json` one object per line.
#include "util/log.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace glr {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_mu;
std::string g_format = "runner";  // Guarded by g_mu.
bool g_color = false;             // Guarded by g_mu.
std::function<void(LogLevel)> g_observer;  // Guarded by g_mu.

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
    case LogLevel::kFatal: return "fatal";
    case LogLevel::kPanic: return "panic";
  }
  return "info";
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string text_value(std::string_view v) {
  bool plain = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '/' || c == '@' || c == '^' || c == '+';
  });
  if (plain) return std::string(v);
  return "\"" + json_escape(v) + "\"";
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

bool parse_log_level(std::string_view name, LogLevel* level) {
  if (name == "debug") *level = LogLevel::kDebug;
  else if (name == "info") *level = LogLevel::kInfo;
  else if (name == "warn" || name == "warning") *level = LogLevel::kWarning;
  else if (name == "error") *level = LogLevel::kError;
  else if (name == "fatal") *level = LogLevel::kFatal;
  else if (name == "panic") *level = LogLevel::kPanic;
  else return false;
  return true;
}

bool is_valid_log_format(std::string_view format) {
  return format == "runner" || format == "text" || format == "json";
}

void configure_log(LogLevel level, std::string_view format, bool color) {
  g_level = level;
  std::lock_guard lock(g_mu);
  g_format = std::string(format.empty() ? "runner" : format);
  g_color = color;
}

std::string format_log_line(LogLevel level, std::string_view message,
                            const std::vector<LogField>& fields_in, std::string_view format,
                            bool color, std::string_view timestamp) {
  std::vector<LogField> fields = fields_in;
  std::sort(fields.begin(), fields.end(),
            [](const LogField& a, const LogField& b) { return a.key < b.key; });
  std::string out;
  if (format == "json") {
    out = "{";
    for (const LogField& f : fields) out += "\"" + json_escape(f.key) + "\":\"" + json_escape(f.value) + "\",";
    out += "\"level\":\"" + std::string(level_name(level)) + "\",\"msg\":\"" +
           json_escape(message) + "\",\"time\":\"" + std::string(timestamp) + "\"}";
    return out;
  }
  if (format == "text") {
    out = "time=\"" + std::string(timestamp) + "\" level=" + level_name(level) +
          " msg=" + text_value(message);
    for (const LogField& f : fields) out += " " + f.key + "=" + text_value(f.value);
    return out;
  }
  std::string prefix;
  std::string level_color;
  switch (level) {
    case LogLevel::kDebug: level_color = "\x1b[37;1m"; break;
    case LogLevel::kInfo: break;
    case LogLevel::kWarning: level_color = "\x1b[0;33m"; prefix = "WARNING: "; break;
    case LogLevel::kError: level_color = "\x1b[31;1m"; prefix = "ERROR: "; break;
    case LogLevel::kFatal: level_color = "\x1b[31;1m"; prefix = "FATAL: "; break;
    case LogLevel::kPanic: level_color = "\x1b[31;1m"; prefix = "PANIC: "; break;
  }
  std::string reset = color ? "\x1b[0;m" : "";
  if (!color) level_color.clear();
  std::string msg(message);
  size_t width = 50 - prefix.size();
  if (msg.size() < width) msg.append(width - msg.size(), ' ');
  out = level_color + prefix + msg + reset + " ";
  for (const LogField& f : fields) out += " " + level_color + f.key + reset + "=" + f.value;
  return out;
}

void set_log_observer(std::function<void(LogLevel)> observer) {
  std::lock_guard lock(g_mu);
  g_observer = std::move(observer);
}

void log_event(LogLevel level, std::string_view message, std::vector<LogField> fields) {
  std::lock_guard lock(g_mu);
  if (level >= LogLevel::kWarning && g_observer) g_observer(level);
  if (level < g_level.load()) return;
  std::string line = format_log_line(level, message, fields, g_format, g_color, now_rfc3339());
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace glr
