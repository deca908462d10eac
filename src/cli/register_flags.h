// The executor-section flags of `register` (--docker-*, --kubernetes-*, --cache-*,
// --cache-s3-* ... with their env vars, api spec §1.7): the official runner derives one flag
// per config key from common/config.go; we keep the scalar and list keys in one table and
// turn the given values into the [runners.<section>] text RunnerSettings keeps.
#pragma once

#include <string>
#include <vector>

#include "config/runner_config.h"
#include "util/result.h"

namespace CLI {
class App;
}

namespace glr {

// Values given on the command line or through the environment. Not copyable: CLI11
// holds pointers into it after add_to().
class SectionFlags {
 public:
  SectionFlags();
  SectionFlags(const SectionFlags&) = delete;
  SectionFlags& operator=(const SectionFlags&) = delete;

  // Declares every flag (with its env var) on `command`.
  void add_to(CLI::App& command);

  // Sets one flag as if given on the command line (interactive answers, tests).
  // Returns false for an unknown flag name (given without the leading "--").
  bool set(const std::string& flag, const std::string& value);

  // Whether a value was given for `flag`.
  bool given(const std::string& flag) const;

  // Writes the given values into runner.sections/raw_sections in the loader's shape (keys
  // first, then [sub] tables), so merge_template can merge them key by key. Fails
  // (kInvalidInput, naming the flag) for a boolean that is not true/false/1/0 or a number
  // that is not an integer. Call on an entry that has no executor sections yet.
  Result<> apply(RunnerSettings& runner) const;

  // Number of flags in the table.
  static size_t size();

 private:
  std::vector<std::string> scalars_;
  std::vector<std::vector<std::string>> lists_;
};

// Executor defaults register adds after the template merge (§1.7 step 4): a docker runner
// gets volumes = ["/cache"] unless it has volumes or disable_cache = true.
void apply_executor_defaults(RunnerSettings& runner);

// `s` as a TOML basic string literal, quoted and escaped.
std::string toml_quote(const std::string& s);

}  // namespace glr
