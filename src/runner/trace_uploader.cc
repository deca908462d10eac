// Trace streaming and the final update loop, per api spec §4.1, §4.4, §5.2, §5.3.
#include "runner/trace_uploader.h"

#include <algorithm>

namespace glr {

using namespace std::chrono_literals;

TraceUploader::TraceUploader(GitLabClient& client, const RunnerCredentials& runner,
                             const RunnerInfoPayload& info, const TraceBuffer& trace,
                             Clock& clock, TraceUploaderOptions options,
                             TraceUploaderCallbacks callbacks)
    : client_(client),
      runner_(runner),
      info_(info),
      trace_(trace),
      clock_(clock),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)) {
  interval_s_ = options_.default_update_interval.count();
}

TraceUploader::~TraceUploader() {
  if (watcher_.joinable()) {
    watcher_.request_stop();
    watcher_.join();
  }
}

void TraceUploader::start() {
  last_sent_ = clock_.steady_now();
  watcher_ = std::jthread([this](std::stop_token stop) { watch(stop); });
}

void TraceUploader::apply_interval(std::chrono::seconds interval) {
  // Every PUT/PATCH answer's interval replaces ours when > 0, capped (§4.2).
  if (interval.count() > 0)
    interval_s_ = std::min(interval, options_.max_update_interval).count();
}

PatchKind TraceUploader::patch_once(std::stop_token stop, bool* sent_something) {
  std::lock_guard lock(send_mu_);
  *sent_something = false;
  int64_t offset = sent_offset_.load();
  int64_t size = trace_.size();
  if (offset >= size) return PatchKind::kSucceeded;
  std::string chunk = trace_.read(offset, static_cast<size_t>(options_.max_patch_bytes));
  if (chunk.empty()) return PatchKind::kSucceeded;
  PatchTraceResult r = client_.patch_trace(runner_, options_.job_id, options_.job_token, chunk,
                                           offset, options_.debug_trace, stop);
  apply_interval(r.update_interval);
  switch (r.kind) {
    case PatchKind::kSucceeded:
      *sent_something = true;
      sent_offset_ = offset + static_cast<int64_t>(chunk.size());
      break;
    case PatchKind::kRangeMismatch:
      // GitLab answers 416 when our offset differs from its size: resync from
      // the exclusive end of its Range header (§5.2).
      sent_offset_ = std::clamp<int64_t>(r.new_offset, 0, trace_.size());
      break;
    default:
      break;
  }
  if (r.cancel_requested && callbacks_.on_cancel_requested) callbacks_.on_cancel_requested();
  return r.kind;
}

void TraceUploader::touch_if_due(std::stop_token stop) {
  auto now = clock_.steady_now();
  if (now - last_sent_ < options_.force_send_interval) return;
  UpdateJobRequest touch;
  touch.job_id = options_.job_id;
  touch.job_token = options_.job_token;
  touch.state = "running";
  touch.output = OutputInfo{trace_.checksum(), trace_.size()};
  UpdateJobResult r = client_.update_job(runner_, info_, touch, stop);
  apply_interval(r.update_interval);
  if (r.kind == UpdateKind::kAbort) {
    aborted_ = true;
    if (callbacks_.on_abort) callbacks_.on_abort();
    return;
  }
  if (r.kind == UpdateKind::kSucceeded) last_sent_ = now;
  if (r.cancel_requested && callbacks_.on_cancel_requested) callbacks_.on_cancel_requested();
}

void TraceUploader::watch(std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (!clock_.sleep_for(std::chrono::seconds(interval_s_.load()), stop)) break;
    bool sent = false;
    PatchKind kind = patch_once(stop, &sent);
    if (kind == PatchKind::kAbort) {
      aborted_ = true;
      if (callbacks_.on_abort) callbacks_.on_abort();
      return;
    }
    if (sent) last_sent_ = clock_.steady_now();
    // A keep-alive goes out when the PATCH succeeded or had nothing to send (§4.1).
    if (kind == PatchKind::kSucceeded) touch_if_due(stop);
    if (aborted_) return;
  }
}

TraceUploader::SendResult TraceUploader::flush_all(std::stop_token stop) {
  while (sent_offset_.load() < trace_.size()) {
    if (stop.stop_requested()) return SendResult::kFailed;
    bool sent = false;
    switch (patch_once(stop, &sent)) {
      case PatchKind::kSucceeded: continue;  // no sleep between successful patches
      case PatchKind::kAbort: return SendResult::kAbort;
      case PatchKind::kNotFound: return SendResult::kNotFound;
      case PatchKind::kRangeMismatch:
        if (!clock_.sleep_for(update_interval(), stop)) return SendResult::kFailed;
        continue;
      case PatchKind::kFailed:
        clock_.sleep_for(update_interval(), stop);
        return SendResult::kFailed;
    }
  }
  return SendResult::kDone;
}

FinalUpdateStatus TraceUploader::finish(const UpdateJobRequest& final_state,
                                        std::stop_token stop) {
  if (watcher_.joinable()) {
    watcher_.request_stop();
    watcher_.join();
  }
  interval_s_ = options_.default_update_interval.count();
  std::chrono::seconds backoff = 1s;
  int tries = std::max(1, options_.final_update_retry_limit);
  for (int attempt = 0; attempt < tries; ++attempt) {
    if (attempt > 0) {
      if (!clock_.sleep_for(backoff, stop)) return FinalUpdateStatus::kGaveUp;
      backoff = std::min<std::chrono::seconds>(backoff * 2, std::chrono::hours(1));
    }
    // Inner loop: flush, PUT; 202/412 go round again without bound (§4.4).
    while (!stop.stop_requested()) {
      SendResult sent = flush_all(stop);
      if (sent == SendResult::kFailed) break;  // fail this try
      UpdateJobRequest request = final_state;
      request.output = OutputInfo{trace_.checksum(), trace_.size()};
      UpdateJobResult r = client_.update_job(runner_, info_, request, stop);
      apply_interval(r.update_interval);
      if (r.kind == UpdateKind::kSucceeded) return FinalUpdateStatus::kSucceeded;
      if (r.kind == UpdateKind::kAbort) return FinalUpdateStatus::kAborted;
      if (r.kind == UpdateKind::kNotFound) return FinalUpdateStatus::kNotFound;
      if (r.kind == UpdateKind::kTraceValidationFailed) sent_offset_ = 0;
      if (!clock_.sleep_for(update_interval(), stop)) return FinalUpdateStatus::kGaveUp;
      if (r.kind == UpdateKind::kFailed) break;
    }
    if (stop.stop_requested()) return FinalUpdateStatus::kGaveUp;
  }
  return FinalUpdateStatus::kGaveUp;
}

}  // namespace glr
