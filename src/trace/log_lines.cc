// Builds each runner line in one string so it reaches the sink as a single write.
#include "trace/log_lines.h"

#include <string>

namespace glr {

namespace {

void line(TraceSink& sink, std::string_view before, std::string_view text, std::string_view after) {
  std::string bytes;
  bytes.reserve(before.size() + text.size() + after.size());
  bytes.append(before).append(text).append(after);
  sink.write(kRunnerStream, bytes);
}

void marker(TraceSink& sink, std::string_view kind, std::string_view name, int64_t unix_seconds) {
  std::string bytes(kind);
  bytes.append(":").append(std::to_string(unix_seconds)).append(":").append(name);
  bytes.append("\r").append(kAnsiClear);
  sink.write(kRunnerStream, bytes);
}

}  // namespace

void println(TraceSink& sink, std::string_view text) { line(sink, kAnsiClear, text, "\x1b[0;m\n"); }

void info(TraceSink& sink, std::string_view text) {
  line(sink, kAnsiBoldGreen, text, "\x1b[0;m\n");
}

void warning(TraceSink& sink, std::string_view text) {
  line(sink, "\x1b[0;33mWARNING: ", text, "\x1b[0;m\n");
}

void error(TraceSink& sink, std::string_view text) {
  line(sink, "\x1b[31;1mERROR: ", text, "\x1b[0;m\n");
}

void section_start(TraceSink& sink, std::string_view name, int64_t unix_seconds) {
  marker(sink, "section_start", name, unix_seconds);
}

void section_end(TraceSink& sink, std::string_view name, int64_t unix_seconds) {
  marker(sink, "section_end", name, unix_seconds);
}

void stage_header(TraceSink& sink, std::string_view text) {
  line(sink, "\x1b[0K\x1b[36;1m", text, "\x1b[0;m\x1b[0;m\n");
}

}  // namespace glr
