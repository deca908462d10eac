// What executors and the job engine write the job log into (STYLE C2 "Trace").
// The sink applies masking, timestamps, the output limit and UTF-8 repair.
#pragma once

#include <cstdint>
#include <string_view>

namespace glr {

// A log stream in the timestamper's vocabulary (executors §2.1): number 00 is the
// runner's own messages, 01 the stage scripts, 0f+ services; O/E is stdout/stderr.
// Each stream has its own masking and line state.
struct StreamId {
  uint8_t number = 0;
  bool is_stderr = false;
  friend bool operator==(const StreamId&, const StreamId&) = default;
};

inline constexpr StreamId kRunnerStream{0, false};
inline constexpr StreamId kScriptStdout{1, false};
inline constexpr StreamId kScriptStderr{1, true};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // Appends raw bytes to one stream. Thread-safe.
  virtual void write(StreamId stream, std::string_view bytes) = 0;
  // Ends a burst of output on `stream` (a stage finished): bytes held back by the
  // maskers and a partial line are flushed. Thread-safe.
  virtual void flush(StreamId stream) = 0;
};

}  // namespace glr
