// Turns the parsed jobs into the graph the Plan schedules, validating `needs` as GitLab does
// at pipeline creation (pipeline-yaml §9.2, §12).
#include "pipeline/pipeline_graph.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "util/strings.h"

namespace glr {

std::optional<size_t> PipelineGraph::find(const std::string& name) const {
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i].name == name) return i;
  }
  return std::nullopt;
}

Result<PipelineGraph> build_graph(const PipelineConfig& pipeline,
                                  const std::vector<std::string>& selected) {
  auto error = [&pipeline](int line, const std::string& message) {
    return fail(ErrorKind::kInvalidInput, fmt::format("{}:{}: {}", pipeline.file_name, line, message));
  };
  std::vector<std::string> missing;
  for (const std::string& name : selected) {
    if (pipeline.find_job(name) == nullptr) missing.push_back(name);
  }
  if (!missing.empty()) {
    return fail(ErrorKind::kNotFound,
                fmt::format("{}: no such job{}: {}", pipeline.file_name,
                            missing.size() > 1 ? "s" : "", join(missing, ", ")));
  }
  auto is_selected = [&selected](const std::string& name) {
    return std::find(selected.begin(), selected.end(), name) != selected.end();
  };
  auto stage_index = [&pipeline](const std::string& stage) {
    return static_cast<size_t>(std::find(pipeline.stages.begin(), pipeline.stages.end(), stage) -
                               pipeline.stages.begin());
  };

  // Stage order, then file order (§9.6).
  std::vector<const JobConfig*> order;
  for (const JobConfig& job : pipeline.jobs) {
    if (selected.empty() || is_selected(job.name)) order.push_back(&job);
  }
  std::stable_sort(order.begin(), order.end(), [&](const JobConfig* a, const JobConfig* b) {
    return stage_index(a->stage) < stage_index(b->stage);
  });

  PipelineGraph graph{.stages = pipeline.stages};
  std::map<std::string, size_t> index;
  for (const JobConfig* job : order) {
    index[job->name] = graph.jobs.size();
    graph.jobs.push_back(GraphJob{.name = job->name,
                                  .stage = job->stage,
                                  .stage_index = stage_index(job->stage),
                                  .when = job->when,
                                  .allow_failure = job->allow_failure,
                                  .selected = is_selected(job->name),
                                  .trigger = job->trigger && job->trigger->include.is_null()});
  }
  // dependencies (§4.7): defined, in the current or an earlier stage, and part of needs.
  for (const JobConfig* job : order) {
    if (!job->dependencies) continue;
    for (const std::string& dep : *job->dependencies) {
      const JobConfig* target = pipeline.find_job(dep);
      if (target == nullptr) {
        return error(job->line, fmt::format("{} job: undefined dependency: {}", job->name, dep));
      }
      if (stage_index(target->stage) > stage_index(job->stage)) {
        return error(job->line, fmt::format("{} job: dependency {} is not defined in current or "
                                            "prior stages",
                                            job->name, dep));
      }
      if (job->needs && !job->needs->empty() &&
          std::none_of(job->needs->begin(), job->needs->end(),
                       [&dep](const NeedDef& n) { return n.job == dep; })) {
        return error(job->line, fmt::format("jobs:{} dependencies the {} should be part of needs",
                                            job->name, dep));
      }
    }
  }
  for (const JobConfig* job : order) {
    if (!job->needs) continue;
    GraphJob& node = graph.jobs[index[job->name]];
    std::vector<size_t> edges;
    std::set<std::string> seen;
    for (const NeedDef& need : *job->needs) {
      if (need.job.empty() || !need.project.empty() || !need.pipeline.empty()) continue;
      if (!seen.insert(need.job).second) {
        return error(job->line, fmt::format("{} has the following needs duplicated: {}", job->name,
                                            need.job));
      }
      if (need.job == job->name) {
        return error(job->line, fmt::format("{} job: circular dependencies: self-dependency: {}",
                                            job->name, job->name));
      }
      const JobConfig* target = pipeline.find_job(need.job);
      if (target == nullptr) {
        if (need.optional) continue;
        return error(job->line, fmt::format("{} job: undefined need: {}", job->name, need.job));
      }
      if (stage_index(target->stage) > stage_index(job->stage)) {
        return error(job->line, fmt::format("{} job: need {} is not defined in current or prior "
                                            "stages",
                                            job->name, need.job));
      }
      auto it = index.find(need.job);
      if (it == index.end()) continue;  // not selected for this run
      edges.push_back(it->second);
    }
    node.needs = std::move(edges);
  }

  // Cycles are only possible within one stage; find them with a depth-first search.
  std::vector<int> mark(graph.jobs.size(), 0);  // 0 new, 1 on the stack, 2 done
  std::function<std::optional<size_t>(size_t)> visit = [&](size_t j) -> std::optional<size_t> {
    mark[j] = 1;
    if (graph.jobs[j].needs) {
      for (size_t n : *graph.jobs[j].needs) {
        if (mark[n] == 1) return j;
        if (mark[n] == 0) {
          if (std::optional<size_t> c = visit(n)) return c;
        }
      }
    }
    mark[j] = 2;
    return std::nullopt;
  };
  for (size_t j = 0; j < graph.jobs.size(); ++j) {
    if (mark[j] != 0) continue;
    if (std::optional<size_t> c = visit(j)) {
      const JobConfig* job = pipeline.find_job(graph.jobs[*c].name);
      return error(job->line, fmt::format("{} job: circular dependencies in needs", job->name));
    }
  }
  return graph;
}

}  // namespace glr
