// The job graph of one local pipeline as plain data (STYLE C2 "Local mode": ninja's cut):
// stages in order, jobs with their stage index, `when`, `allow_failure` and `needs` edges.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/pipeline_config.h"
#include "util/result.h"

namespace glr {

struct GraphJob {
  std::string name{};
  std::string stage{};
  size_t stage_index = 0;  // into PipelineGraph::stages
  When when = When::kOnSuccess;
  AllowFailure allow_failure{};
  std::optional<std::vector<size_t>> needs{};  // indexes into PipelineGraph::jobs; nullopt: stages
  bool selected = false;  // named by the user: a manual job runs only when selected
  bool trigger = false;   // a multi-project trigger: not run locally, reported as skipped (§10)
  friend bool operator==(const GraphJob&, const GraphJob&) = default;
};

struct PipelineGraph {
  std::vector<std::string> stages{};  // .pre first, .post last; may hold stages without jobs
  std::vector<GraphJob> jobs{};       // ordered by stage, then file order
  // Index of the job named `name` in jobs, or nullopt.
  std::optional<size_t> find(const std::string& name) const;
  friend bool operator==(const PipelineGraph&, const PipelineGraph&) = default;
};

// Builds the graph of `pipeline`. With `selected` empty the whole pipeline is planned;
// otherwise only the named jobs (manual ones included), and needs on jobs that are not
// selected are dropped. Errors (kInvalidInput, "<file>:<line>: ..."): a selected job that does
// not exist (all missing names listed), an undefined non-optional need, a need in a later
// stage, a duplicated need, a job needing itself, a cycle of needs.
Result<PipelineGraph> build_graph(const PipelineConfig& pipeline,
                                  const std::vector<std::string>& selected = {});

}  // namespace glr
