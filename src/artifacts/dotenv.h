// dotenv reports (executors §6.4, pipeline-yaml §7.6): GitLab parses them server side with rules
// stricter than the dotenv gem; local `exec` mode must apply the same rules to pass variables
// from a job to the jobs that need its artifacts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace glr {

struct DotenvVariable {
  std::string key{};
  std::string value{};
  friend bool operator==(const DotenvVariable&, const DotenvVariable&) = default;
};

struct DotenvLimits {
  size_t max_bytes = 5 * 1024;  // plan limit dotenv_size
  size_t max_variables = 20;    // plan limit dotenv_variables
};

// Ci::ParseDotenvArtifactService: a UTF-8 BOM is dropped; every line must be `KEY=VALUE` (key =
// text before the first '=', both sides whitespace-trimmed, quotes kept); a blank or comment line
// rejects the whole file ("Invalid Format"); keys are ASCII letters, digits and '_'; later
// duplicates win but keep the first position. Errors are kInvalidInput with GitLab's messages.
Result<std::vector<DotenvVariable>> parse_dotenv(std::string_view content, DotenvLimits limits = {});

}  // namespace glr
