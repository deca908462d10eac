// Automatic runner-token rotation during `run` (api spec §1.6): a token with an expiry
// is reset at token_obtained_at + 75 % of its lifetime and config.toml is rewritten.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/runner_config.h"
#include "gitlab/registration_client.h"
#include "util/clock.h"

namespace glr {

// Parses "2026-05-04T10:11:12Z" / "...+02:00" / fractional seconds; nullopt for the zero
// value (0001-01-01...), empty text or junk.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);
std::string format_rfc3339(std::chrono::system_clock::time_point t);

// When the runner's token is due for rotation, or nullopt when it never expires.
std::optional<std::chrono::system_clock::time_point> rotation_due(const RunnerSettings& runner);

// The rotation schedule of one config.toml for the lifetime of `run` (§1.6), like the
// official runner's resetRunnerTokens goroutine, but polled from run's main loop so no
// thread is needed:
//   - the earliest due token is reset first, one per poll();
//   - the file is re-read before the reset and only that runner's token fields change,
//     so edits made since the last load are kept;
//   - a failed reset is retried with back-off (1 min doubling to 1 h) instead of at once;
//   - a new token that could not be saved is kept and the save retried on the next poll(),
//     because the server already revoked the old one;
//   - FF_DISABLE_AUTOMATIC_TOKEN_ROTATION logs one warning for that runner instead.
// Not thread-safe: run's main loop owns it.
class TokenRotator {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  static constexpr std::chrono::seconds kFirstRetry{60};
  static constexpr std::chrono::seconds kMaxRetry{3600};

  // `transport` (the run loop's retrying transport) and `clock` must outlive this object.
  // Each reset uses the TLS files of its runner entry.
  TokenRotator(std::filesystem::path config_path, HttpTransport& transport, Clock& clock);

  // Recomputes the schedule from `config`; call at start and after every (re)load.
  // A pending back-off is forgotten: the reloaded file may carry a fixed token.
  void reschedule(const GlobalConfig& config);

  // When poll() next has work, nullopt when no token of the file expires.
  std::optional<TimePoint> next_due() const;

  // Does the due work, if any: at most one reset. Returns true when config.toml was
  // rewritten (the caller then reloads it, or lets its mtime check do so).
  bool poll();

 private:
  struct Entry {
    TimePoint due{};
    std::string token{};  // identifies the runner in the file
  };
  bool rotate(const std::string& token);
  bool save(const GlobalConfig& config);
  void defer_front();  // after a failure: retry later, with back-off

  std::filesystem::path path_;
  HttpTransport& transport_;
  Clock& clock_;
  std::vector<Entry> schedule_;  // earliest first
  std::optional<GlobalConfig> unsaved_;
  TimePoint save_retry_at_{};
  std::chrono::seconds retry_delay_{kFirstRetry};
};

}  // namespace glr
