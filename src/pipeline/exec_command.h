// `glrunner exec`: the local mode's entry point, from options to exit code. The CLI glue
// (cli/cmd_exec.cc) only parses flags, builds the JobLauncher and handles signals.
#pragma once

#include <filesystem>
#include <ostream>
#include <stop_token>
#include <string>
#include <vector>

#include "pipeline/local_runner.h"

namespace glr {

struct ExecOptions {
  std::filesystem::path project_dir{};
  std::string file = ".gitlab-ci.yml";  // relative to project_dir (or absolute)
  std::vector<std::string> jobs{};       // empty: the whole pipeline
  int concurrency = 0;                   // <= 0: number of CPUs
  bool list = false;
  bool preview = false;
  std::vector<std::string> variables{};  // KEY=VALUE
  std::vector<std::string> inputs{};     // NAME=VALUE for the file's spec:inputs (§3.7)
  // PATH=DIR: a local clone of project PATH for include:project and its components (§6.3).
  std::vector<std::string> include_projects{};
  bool evaluate_rule_changes = true;     // false: every `changes` clause is true (§8.3)
  bool color = true;
  // The project variables file (§7.1 #4, §7.7), relative to project_dir or absolute. Empty:
  // .gitlab-ci-local-variables.yml when the project has one.
  std::string variables_file{};
  bool no_delay = false;  // start `when: delayed` jobs without waiting start_in (§4.4)
  // With named jobs: also run what they wait for, transitively (their `needs`, or every job
  // of the earlier stages for a job without `needs`), as gitlab-ci-local's --needs.
  bool with_needs = false;
};

// The variables file used when --variables-file is not given (gitlab-ci-local's name).
inline constexpr const char* kDefaultVariablesFile = ".gitlab-ci-local-variables.yml";

// Loads the pipeline, then lists it (--list), prints the merged YAML (--preview) or runs it
// through `launcher` and prints the summary table to `out`. Errors and warnings go to `err` as
// "glrunner: <file>:<line>: <message>". Returns the exit code: 0 passed (also with warnings),
// 1 failed or invalid input, 2 blocked by an unselected blocking manual job, 130 canceled
// through `stop`.
// Trigger jobs with `trigger:include` run their child pipelines nested, through the same
// launcher (§10). `clock` times start_in delays; null: the system clock.
int run_exec(const ExecOptions& options, JobLauncher& launcher, std::ostream& out,
             std::ostream& err, std::stop_token stop, Clock* clock = nullptr);

}  // namespace glr
