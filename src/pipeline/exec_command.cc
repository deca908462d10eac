// Glue of the local mode: PipelineConfig -> parallel -> rules -> PipelineGraph -> LocalJobs -> LocalRunner, plus the
// --list and --preview views.
#include "pipeline/exec_command.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "pipeline/changed_files.h"
#include "pipeline/ci_yaml.h"
#include "pipeline/local_job_spec.h"
#include "pipeline/parallel.h"
#include "pipeline/pipeline_graph.h"
#include "pipeline/rules.h"
#include "util/strings.h"

namespace glr {

namespace {

int report_error(std::ostream& err, const std::string& message) {
  err << "glrunner: " << message << "\n";
  return 1;
}

std::string list_pipeline(const PipelineGraph& graph) {
  size_t name_w = 4, stage_w = 5;
  for (const GraphJob& job : graph.jobs) {
    name_w = std::max(name_w, job.name.size());
    stage_w = std::max(stage_w, job.stage.size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {:<10}  {:<13}  {}\n", "name", name_w, "stage",
                                stage_w, "when", "allow_failure", "needs");
  for (const GraphJob& job : graph.jobs) {
    std::string allow = job.allow_failure.allowed ? "true" : "false";
    if (!job.allow_failure.exit_codes.empty()) {
      std::vector<std::string> codes;
      for (int c : job.allow_failure.exit_codes) codes.push_back(std::to_string(c));
      allow = "[" + join(codes, ",") + "]";
    }
    std::string needs;
    if (job.needs) {
      std::vector<std::string> names;
      for (size_t n : *job.needs) names.push_back(graph.jobs[n].name);
      needs = "[" + join(names, ", ") + "]";
    }
    out += fmt::format("{:<{}}  {:<{}}  {:<10}  {:<13}  {}", job.name, name_w, job.stage, stage_w,
                       to_string(job.when), allow, needs);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  return out;
}

}  // namespace

int run_exec(const ExecOptions& options, JobLauncher& launcher, std::ostream& out,
             std::ostream& err, std::stop_token stop) {
  Variables cli_variables;
  for (const std::string& item : options.variables) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return report_error(err, fmt::format("--variable \"{}\": expected KEY=VALUE", item));
    }
    cli_variables.push_back(
        Variable{.key = item.substr(0, eq), .value = item.substr(eq + 1), .is_public = true});
  }

  std::filesystem::path path = std::filesystem::path(options.file).is_absolute()
                                   ? std::filesystem::path(options.file)
                                   : options.project_dir / options.file;
  std::ifstream in(path, std::ios::binary);
  if (!in) return report_error(err, fmt::format("{}: cannot be read", options.file));
  std::stringstream text;
  text << in.rdbuf();
  Result<PipelineConfig> pipeline = parse_pipeline(text.str(), options.file, options.project_dir);
  if (!pipeline) return report_error(err, pipeline.error().message);
  for (const std::string& warning : pipeline->warnings) err << "glrunner: warning: " << warning << "\n";

  if (options.preview) {
    out << pipeline->merged_yaml;
    return 0;
  }
  Result<PipelineConfig> expanded = expand_parallel(*pipeline);
  if (!expanded) return report_error(err, expanded.error().message);
  // A parallelized job may be selected by its base name: that means all its jobs (§4.10).
  std::vector<std::string> selected;
  for (const std::string& name : options.jobs) {
    bool base = false;
    for (const JobConfig& job : expanded->jobs) {
      if (job.parallel_base == name && expanded->find_job(name) == nullptr) {
        selected.push_back(job.name);
        base = true;
      }
    }
    if (!base) selected.push_back(name);
  }

  GitFacts git = read_git_facts(options.project_dir);
  Variables predefined = predefined_variables(git, options.project_dir, options.file);
  // `changes` see the diff from the merge base with the default branch (§8.3 Local); git runs
  // on first use, once per pipeline.
  ChangedFiles changes;
  if (options.evaluate_rule_changes) {
    std::string default_branch;
    for (const Variables* vars : {&predefined, &cli_variables}) {
      for (const Variable& v : *vars) {
        if (v.key == "CI_DEFAULT_BRANCH") default_branch = v.value;
      }
    }
    changes = git_changed_files(options.project_dir, default_branch);
  }
  Result<WorkflowDecision> workflow =
      evaluate_workflow(*expanded, predefined, cli_variables, options.project_dir, &changes);
  if (!workflow) return report_error(err, workflow.error().message);
  if (!workflow->run) {
    out << "Pipeline filtered out by workflow rules.\n";
    return 0;
  }
  // workflow:rules:variables override top-level variables (§7.1 #9).
  for (const VariableDef& var : workflow->variables) {
    auto same = std::find_if(expanded->variables.begin(), expanded->variables.end(),
                             [&var](const VariableDef& v) { return v.name == var.name; });
    if (same != expanded->variables.end()) {
      *same = var;
    } else {
      expanded->variables.push_back(var);
    }
  }
  if (!workflow->name.empty()) {
    predefined.push_back(Variable{.key = "CI_PIPELINE_NAME", .value = workflow->name, .is_public = true});
  }
  std::vector<std::string> removed;
  Result<PipelineConfig> kept =
      apply_rules(*expanded, predefined, cli_variables, options.project_dir, &removed, &changes);
  if (!kept) return report_error(err, kept.error().message);
  for (const std::string& name : selected) {
    if (std::find(removed.begin(), removed.end(), name) != removed.end()) {
      return report_error(err, fmt::format("{}: job {} is not in the pipeline: its rules or "
                                           "only/except exclude it",
                                           options.file, name));
    }
  }
  Result<PipelineGraph> graph = build_graph(*kept, selected);
  if (!graph) return report_error(err, graph.error().message);
  if (options.list) {
    out << list_pipeline(*graph);
    return 0;
  }

  // GitLab creates no pipeline without jobs, or with only .pre/.post jobs (§9.7).
  bool only_edges = true;
  for (const GraphJob& job : graph->jobs) {
    only_edges = only_edges && (job.stage == ".pre" || job.stage == ".post");
  }
  if (graph->jobs.empty() || (only_edges && selected.empty())) {
    out << "No stages / jobs for this pipeline.\n";
    return 0;
  }

  if (!git.is_repo) {
    err << "glrunner: warning: " << options.project_dir.string() << ": " << git.note
        << "; CI_COMMIT_* variables use placeholder values\n";
  }
  LocalJobInputs inputs{.project_dir = options.project_dir,
                        .predefined = predefined,
                        .cli_variables = cli_variables};
  std::vector<const JobConfig*> configs;
  for (const GraphJob& job : graph->jobs) configs.push_back(kept->find_job(job.name));
  std::vector<LocalJob> jobs;
  for (size_t i = 0; i < graph->jobs.size(); ++i) {
    const JobConfig* config = configs[i];
    inputs.id = static_cast<int64_t>(i + 1);
    Result<JobSpec> spec = build_local_job_spec(*kept, *config, inputs);
    if (!spec) return report_error(err, spec.error().message);
    // build_local_job_spec ends with the command-line variables and GIT_STRATEGY.
    size_t dotenv_position = spec->variables.size() - cli_variables.size() - 1;
    jobs.push_back(LocalJob{.name = config->name,
                            .stage = config->stage,
                            .spec = std::move(*spec),
                            .artifact_sources = artifact_sources(*graph, configs, i),
                            .artifacts = config->artifacts,
                            .dotenv_position = dotenv_position,
                            .retry = config->retry,
                            .resource_group = config->resource_group,
                            .coverage = config->coverage});
  }

  LocalRunner runner(launcher, options.concurrency);
  PipelineReport report = runner.run(*graph, jobs, stop);
  out << "\n" << format_summary(report.jobs, options.color);
  out << "pipeline " << to_string(report.status) << "\n";
  return exit_code_for(report.status);
}

}  // namespace glr
