// CI_CONCURRENT_ID and CI_CONCURRENT_PROJECT_ID allocation (executors §1.1): the
// smallest free index per runner token, and per runner token and project.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

namespace glr {

struct JobSlot {
  int concurrent_id = 0;
  int concurrent_project_id = 0;
};

// Thread-safe.
class JobSlots {
 public:
  JobSlot acquire(const std::string& runner_token, int64_t project_id) {
    std::lock_guard lock(mu_);
    JobSlot slot;
    while (ids_.count({runner_token, slot.concurrent_id}) != 0) ++slot.concurrent_id;
    while (project_ids_.count({runner_token, project_id, slot.concurrent_project_id}) != 0)
      ++slot.concurrent_project_id;
    ids_.insert({runner_token, slot.concurrent_id});
    project_ids_.insert({runner_token, project_id, slot.concurrent_project_id});
    return slot;
  }
  void release(const std::string& runner_token, int64_t project_id, const JobSlot& slot) {
    std::lock_guard lock(mu_);
    ids_.erase({runner_token, slot.concurrent_id});
    project_ids_.erase({runner_token, project_id, slot.concurrent_project_id});
  }

 private:
  std::mutex mu_;
  std::set<std::tuple<std::string, int>> ids_;                    // Guarded by mu_.
  std::set<std::tuple<std::string, int64_t, int>> project_ids_;   // Guarded by mu_.
};

}  // namespace glr
