// Token rotation schedule and the reset-then-save step (api spec §1.6).
#include "cli/token_rotation.h"

#include <algorithm>
#include <ctime>

#include "config/config_writer.h"
#include "util/log.h"
#include "util/short_token.h"

namespace glr {

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  if (text.size() < 19 || text.starts_with("0001-01-01")) return std::nullopt;
  std::tm tm{};
  const char* rest = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) rest = ::strptime(text.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  if (*rest == '.') {
    ++rest;
    while (*rest >= '0' && *rest <= '9') ++rest;
  }
  long offset = 0;
  if (*rest == '+' || *rest == '-') {
    int hh = 0;
    int mm = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2) return std::nullopt;
    offset = (hh * 3600L + mm * 60L) * (*rest == '-' ? -1 : 1);
  } else if (*rest != 'Z' && *rest != 'z' && *rest != '\0') {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(::timegm(&tm) - offset);
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> rotation_due(const RunnerSettings& runner) {
  auto expires = parse_rfc3339(runner.token_expires_at);
  if (!expires) return std::nullopt;
  auto obtained = parse_rfc3339(runner.token_obtained_at);
  if (!obtained || *obtained >= *expires) return *expires;  // unknown start: rotate at expiry
  return *obtained + (*expires - *obtained) * 3 / 4;
}

bool rotate_due_tokens(GlobalConfig& config, const std::filesystem::path& path,
                       RegistrationClient& client, std::chrono::system_clock::time_point now) {
  std::vector<size_t> due;
  for (size_t i = 0; i < config.runners.size(); ++i) {
    auto at = rotation_due(config.runners[i]);
    if (at && *at <= now) due.push_back(i);
  }
  std::sort(due.begin(), due.end(), [&](size_t a, size_t b) {
    return *rotation_due(config.runners[a]) < *rotation_due(config.runners[b]);
  });
  bool changed = false;
  for (size_t i : due) {
    RunnerSettings& r = config.runners[i];
    std::vector<LogField> fields{{"runner", short_token(r.token.value)}, {"runner_name", r.name}};
    auto ff = r.feature_flags.find("FF_DISABLE_AUTOMATIC_TOKEN_ROTATION");
    if (ff != r.feature_flags.end() && ff->second) {
      log_warning("Automatic token rotation is disabled; the runner token expires at " +
                      r.token_expires_at,
                  fields);
      continue;
    }
    Result<RunnerTokenInfo> reset = client.reset_token(r.url, r.token);
    if (!reset) {
      fields.push_back({"error", reset.error().message});
      log_error("Failed to reset the runner token", fields);
      continue;
    }
    r.token = reset->token;
    r.token_obtained_at = format_rfc3339(now);
    r.token_expires_at =
        reset->token_expires_at.empty() ? "0001-01-01T00:00:00Z" : reset->token_expires_at;
    changed = true;
    log_info("Runner token rotated", {{"runner", short_token(r.token.value)}, {"runner_name", r.name}});
  }
  if (changed) {
    Result<> saved = save_config_atomic(path, config);
    if (!saved) log_error("Saving configuration after token rotation failed",
                          {{"error", saved.error().message}});
  }
  return changed;
}

}  // namespace glr
