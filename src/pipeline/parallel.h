// `parallel: N` and `parallel:matrix` expansion (pipeline-yaml §1 step 9, §4.10, §9.2): one job
// becomes several with GitLab's generated names, and needs/dependencies are rewritten.
#pragma once

#include "pipeline/pipeline_config.h"
#include "util/result.h"

namespace glr {

// Replaces every job with `parallel` by its generated jobs ("job 1/3", "job: [a, b]"), each
// with parallel_base, node_index, node_total and its matrix values as job variables. needs and
// dependencies naming a parallelized job are rewritten to all its jobs, or to the permutations
// a needs:parallel:matrix selector picks. Errors: more than 200 permutations, a selector on a
// job without a matrix, a non-optional selector that selects nothing.
Result<PipelineConfig> expand_parallel(const PipelineConfig& pipeline);

}  // namespace glr
