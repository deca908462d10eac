// Reads the attach strategy's log file back (executors §7.4, official log_processor.go).
#include "executor/kubernetes/log_processor.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "util/log.h"

namespace glr::kube {

std::optional<StageStatus> parse_stage_status(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.size() < 2 || line.front() != '{' || line.back() != '}') return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("script") || !j["script"].is_string()) return std::nullopt;
  StageStatus st;
  st.script = j["script"].get<std::string>();
  if (j.contains("command_exit_code")) {
    if (!j["command_exit_code"].is_number_integer()) return std::nullopt;
    st.exit_code = j["command_exit_code"].get<int>();
  }
  return st;
}

std::pair<int64_t, std::string> parse_offset_line(std::string_view line) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0) return {-1, std::string(line)};
  int64_t offset = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + space, offset);
  if (ec != std::errc() || end != line.data() + space) return {-1, std::string(line)};
  return {offset, std::string(line.substr(space + 1))};
}

LogProcessor::LogProcessor(KubeApi& api, Options options)
    : api_(api), options_(std::move(options)) {}

LogProcessor::~LogProcessor() { stop(); }

void LogProcessor::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void LogProcessor::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

void LogProcessor::push(LogEvent event) {
  {
    std::lock_guard lock(mu_);
    if (event.status) last_status_ = event.status;
    events_.push_back(std::move(event));
  }
  cv_.notify_all();
}

std::vector<LogEvent> LogProcessor::take(std::chrono::milliseconds timeout, std::stop_token stop) {
  std::unique_lock lock(mu_);
  (void)cv_.wait_for(lock, stop, timeout, [this] { return !events_.empty(); });
  std::vector<LogEvent> out(std::make_move_iterator(events_.begin()),
                            std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

std::optional<StageStatus> LogProcessor::last_status() const {
  std::lock_guard lock(mu_);
  return last_status_;
}

int64_t LogProcessor::offset() const {
  std::lock_guard lock(mu_);
  return offset_;
}

void LogProcessor::run(std::stop_token stop) {
  int failures = 0;  // consecutive streams without a line
  std::chrono::milliseconds backoff = options_.backoff_min;
  while (!stop.stop_requested()) {
    int64_t start_offset = offset();
    std::vector<std::string> command = {"gitlab-runner-helper", "read-logs", "--path",
                                        options_.log_path,      "--offset",  std::to_string(start_offset),
                                        "--wait-file-timeout",  "1m0s"};
    std::string partial;
    int lines = 0;
    int64_t previous = -1;
    auto on_output = [&](int channel, std::string_view bytes) {
      if (channel != 1) {
        log_warning("read-logs stderr", {{"pod", options_.ns + "/" + options_.pod},
                                         {"output", std::string(bytes)}});
        return;
      }
      // One chunk may carry many lines: cut them out by index and queue them under one lock
      // with one wake-up, rather than reshuffling `partial` and notifying once per line.
      partial.append(bytes);
      std::vector<LogEvent> batch;
      int64_t last_offset = -1;
      size_t start = 0;
      for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
        auto [offset, text] =
            parse_offset_line(std::string_view(partial).substr(start, nl + 1 - start));
        // read-logs ends a line longer than its buffer with an extra newline of its own: the
        // text is then longer than the bytes it stands for.
        if (offset >= 0 && previous >= 0 && text.size() > static_cast<size_t>(offset - previous) &&
            text.back() == '\n') {
          text.pop_back();
        }
        if (offset >= 0) previous = last_offset = offset;
        ++lines;
        LogEvent event;
        if (std::optional<StageStatus> st = parse_stage_status(text)) {
          event.status = std::move(st);
        } else {
          event.text = std::move(text);
        }
        batch.push_back(std::move(event));
      }
      partial.erase(0, start);
      if (batch.empty()) return;
      {
        std::lock_guard lock(mu_);
        if (last_offset >= 0) offset_ = last_offset;
        for (LogEvent& event : batch) {
          if (event.status) last_status_ = event.status;
          events_.push_back(std::move(event));
        }
      }
      cv_.notify_all();
    };
    Result<int> r = api_.exec(options_.ns, options_.pod, options_.container, command, "",
                              on_output, stop);
    // A line cut by the drop is read again from the last complete line's offset.
    if (stop.stop_requested()) return;
    std::string reason;
    if (!r) {
      reason = r.error().message;
    } else if (*r == 100) {
      // The official: the log file is gone (a new one may be made); start it from the top.
      std::lock_guard lock(mu_);
      offset_ = 0;
      reason = "output log file deleted";
    } else {
      reason = "read-logs exited with code " + std::to_string(*r);
    }
    log_warning("reading the job log stopped; reconnecting",
                {{"pod", options_.ns + "/" + options_.pod}, {"error", reason},
                 {"offset", std::to_string(offset())}});
    if (lines > 0) {
      failures = 0;
      backoff = options_.backoff_min;
    } else if (++failures >= options_.failures_before_error) {
      push(LogEvent{.error = "reading the job log failed " + std::to_string(failures) +
                             " times: " + reason});
      failures = 0;
    }
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    (void)cv.wait_for(lock, stop, backoff, [] { return false; });
    if (stop.stop_requested()) return;
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

}  // namespace glr::kube
