// FakeGitLabClient: records every call and answers from scripted queues, so the
// engine's protocol decisions are tested without HTTP (STYLE C11).
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "gitlab/gitlab_client.h"

namespace glr {

class FakeGitLabClient final : public GitLabClient {
 public:
  struct Patch {
    int64_t job_id = 0;
    std::string content;
    int64_t start = 0;
  };

  // Scripted answers; when a queue is empty the default answer is used.
  std::deque<JobRequestResult> request_answers;
  std::deque<UpdateJobResult> update_answers;
  std::deque<PatchTraceResult> patch_answers;
  // Called before answering a request_job (e.g. to block or to count).
  std::function<void()> on_request_job;

  JobRequestResult request_job(const RunnerCredentials& runner, const RunnerInfoPayload&,
                               const std::string& last_update, std::stop_token) override {
    if (on_request_job) on_request_job();
    std::lock_guard lock(mu_);
    last_updates_seen.push_back(last_update);
    request_tokens.push_back(runner.token.value);
    if (request_answers.empty()) return JobRequestResult{.status = 204};
    JobRequestResult r = std::move(request_answers.front());
    request_answers.pop_front();
    return r;
  }

  UpdateJobResult update_job(const RunnerCredentials&, const RunnerInfoPayload&,
                             const UpdateJobRequest& request, std::stop_token) override {
    std::lock_guard lock(mu_);
    updates.push_back(request);
    if (update_answers.empty()) return UpdateJobResult{.kind = UpdateKind::kSucceeded};
    UpdateJobResult r = update_answers.front();
    update_answers.pop_front();
    return r;
  }

  PatchTraceResult patch_trace(const RunnerCredentials&, int64_t job_id, const Secret&,
                               std::string_view content, int64_t start_offset, bool,
                               std::stop_token) override {
    std::lock_guard lock(mu_);
    patches.push_back(Patch{job_id, std::string(content), start_offset});
    PatchTraceResult r;
    if (!patch_answers.empty()) {
      r = patch_answers.front();
      patch_answers.pop_front();
      if (r.kind == PatchKind::kSucceeded && r.new_offset == 0)
        r.new_offset = start_offset + static_cast<int64_t>(content.size());
      if (r.kind == PatchKind::kSucceeded) stored_.resize(start_offset), stored_ += content;
      return r;
    }
    // Default: behave like GitLab, appending only at the current size.
    if (start_offset != static_cast<int64_t>(stored_.size())) {
      r.kind = PatchKind::kRangeMismatch;
      r.new_offset = static_cast<int64_t>(stored_.size());
      return r;
    }
    stored_ += content;
    r.kind = PatchKind::kSucceeded;
    r.new_offset = static_cast<int64_t>(stored_.size());
    return r;
  }

  std::string stored_trace() const {
    std::lock_guard lock(mu_);
    return stored_;
  }
  std::vector<UpdateJobRequest> all_updates() const {
    std::lock_guard lock(mu_);
    return updates;
  }
  std::vector<Patch> all_patches() const {
    std::lock_guard lock(mu_);
    return patches;
  }

  std::vector<std::string> last_updates_seen;
  std::vector<std::string> request_tokens;
  std::vector<UpdateJobRequest> updates;
  std::vector<Patch> patches;

 private:
  mutable std::mutex mu_;
  std::string stored_;
};

}  // namespace glr
