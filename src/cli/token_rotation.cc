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

namespace {

// The fields a reset changes (§1.6: token, token_obtained_at, token_expires_at).
void apply_reset(RunnerSettings& r, const RunnerTokenInfo& reset,
                 std::chrono::system_clock::time_point now) {
  r.token = reset.token;
  r.token_obtained_at = format_rfc3339(now);
  r.token_expires_at = reset.token_expires_at.empty() ? "0001-01-01T00:00:00Z" : reset.token_expires_at;
}

bool rotation_disabled(const RunnerSettings& r) {
  auto ff = r.feature_flags.find("FF_DISABLE_AUTOMATIC_TOKEN_ROTATION");
  return ff != r.feature_flags.end() && ff->second;
}

}  // namespace

TokenRotator::TokenRotator(std::filesystem::path config_path, HttpTransport& transport,
                           Clock& clock)
    : path_(std::move(config_path)), transport_(transport), clock_(clock) {}

void TokenRotator::reschedule(const GlobalConfig& config) {
  schedule_.clear();
  retry_delay_ = kFirstRetry;
  for (const RunnerSettings& r : config.runners) {
    std::optional<TimePoint> due = rotation_due(r);
    if (due) schedule_.push_back(Entry{*due, r.token.value});
  }
  std::stable_sort(schedule_.begin(), schedule_.end(),
                   [](const Entry& a, const Entry& b) { return a.due < b.due; });
}

std::optional<TokenRotator::TimePoint> TokenRotator::next_due() const {
  if (unsaved_) return save_retry_at_;
  if (schedule_.empty()) return std::nullopt;
  return schedule_.front().due;
}

bool TokenRotator::poll() {
  if (unsaved_) {
    // The server already holds the new token: saving it is the only way forward.
    if (clock_.now() < save_retry_at_) return false;
    GlobalConfig pending = *unsaved_;
    return save(pending);
  }
  if (schedule_.empty() || schedule_.front().due > clock_.now()) return false;
  std::string token = schedule_.front().token;
  return rotate(token);
}

bool TokenRotator::rotate(const std::string& token) {
  Result<GlobalConfig> current = load_config(path_);
  if (!current) {
    log_error("Failed to load config (token reset)", {{"error", current.error().message}});
    defer_front();
    return false;
  }
  auto it = std::find_if(current->runners.begin(), current->runners.end(),
                         [&](const RunnerSettings& r) { return r.token.value == token; });
  if (it == current->runners.end()) {
    // The file changed under us (a reload will follow): plan again from what it holds now.
    reschedule(*current);
    return false;
  }
  std::vector<LogField> fields{{"runner", short_token(it->token.value)}, {"runner_name", it->name}};
  if (rotation_disabled(*it)) {
    log_warning("Automatic token rotation is disabled for this runner; its token expires at " +
                    it->token_expires_at,
                fields);
    schedule_.erase(schedule_.begin());
    return false;
  }
  RegistrationClient client(transport_, TlsFiles{.ca_file = it->tls_ca_file,
                                                   .cert_file = it->tls_cert_file,
                                                   .key_file = it->tls_key_file});
  Result<RunnerTokenInfo> reset = client.reset_token(it->url, it->token);
  if (!reset) {
    fields.push_back({"error", reset.error().message});
    fields.push_back({"retry_in", std::to_string(retry_delay_.count()) + "s"});
    log_error("Resetting runner authentication token... failed", fields);
    defer_front();
    return false;
  }
  apply_reset(*it, *reset, clock_.now());
  log_info("Resetting runner authentication token... succeeded",
           {{"runner", short_token(it->token.value)}, {"runner_name", it->name},
            {"token_expires_at", it->token_expires_at}});
  GlobalConfig updated = std::move(*current);
  return save(updated);
}

void TokenRotator::defer_front() {
  schedule_.front().due = clock_.now() + retry_delay_;
  retry_delay_ = std::min(retry_delay_ * 2, kMaxRetry);
  std::stable_sort(schedule_.begin(), schedule_.end(),
                   [](const Entry& a, const Entry& b) { return a.due < b.due; });
}

bool TokenRotator::save(const GlobalConfig& config) {
  Result<> saved = save_config_atomic(path_, config);
  if (!saved) {
    log_error("Failed to save config (token reset); retrying",
              {{"error", saved.error().message},
               {"retry_in", std::to_string(retry_delay_.count()) + "s"}});
    unsaved_ = config;
    save_retry_at_ = clock_.now() + retry_delay_;
    retry_delay_ = std::min(retry_delay_ * 2, kMaxRetry);
    return false;
  }
  unsaved_.reset();
  reschedule(config);
  return true;
}

}  // namespace glr
