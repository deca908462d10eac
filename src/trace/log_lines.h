// The runner's own job-log lines (executors §2.2, §2.3) with their exact ANSI bytes, so
// every component writes "Job succeeded", warnings and section markers the same way.
#pragma once

#include <cstdint>
#include <string_view>

#include "trace/trace_sink.h"

namespace glr {

inline constexpr std::string_view kAnsiBoldCyan = "\x1b[36;1m";
inline constexpr std::string_view kAnsiBoldGreen = "\x1b[32;1m";
inline constexpr std::string_view kAnsiBoldRed = "\x1b[31;1m";
inline constexpr std::string_view kAnsiYellow = "\x1b[0;33m";
inline constexpr std::string_view kAnsiBoldYellow = "\x1b[33;1m";
inline constexpr std::string_view kAnsiBoldWhite = "\x1b[37;1m";
inline constexpr std::string_view kAnsiReset = "\x1b[0;m";
inline constexpr std::string_view kAnsiClear = "\x1b[0K";  // erase to end of line

// Each function below is exactly one write() on kRunnerStream, so the timestamper sees a
// whole line (or a whole section marker) at once.

// ESC[0K text ESC[0;m \n ("Running with gitlab-runner ...").
void println(TraceSink& sink, std::string_view text);
// ESC[32;1m text ESC[0;m \n ("Job succeeded").
void info(TraceSink& sink, std::string_view text);
// ESC[0;33m "WARNING: " text ESC[0;m \n.
void warning(TraceSink& sink, std::string_view text);
// ESC[31;1m "ERROR: " text ESC[0;m \n.
void error(TraceSink& sink, std::string_view text);
// "section_start:<unix seconds>:<name>\r" ESC[0K, no newline.
void section_start(TraceSink& sink, std::string_view name, int64_t unix_seconds);
// "section_end:<unix seconds>:<name>\r" ESC[0K, no newline.
void section_end(TraceSink& sink, std::string_view name, int64_t unix_seconds);
// ESC[0K ESC[36;1m text ESC[0;m ESC[0;m \n (the stage header after a section start).
void stage_header(TraceSink& sink, std::string_view text);

}  // namespace glr
