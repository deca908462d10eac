// Glue of the local mode: PipelineConfig -> parallel -> rules -> PipelineGraph -> LocalJobs -> LocalRunner, plus the
// --list and --preview views.
#include "pipeline/exec_command.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <map>
#include <sstream>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "pipeline/changed_files.h"
#include "pipeline/ci_yaml.h"
#include "pipeline/local_job_spec.h"
#include "pipeline/parallel.h"
#include "pipeline/pipeline_graph.h"
#include "pipeline/rules.h"
#include "pipeline/variables_file.h"
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

// What every pipeline of one run shares: the parent and its child pipelines (§10).
struct ExecShared {
  const ExecOptions& options;
  JobLauncher& launcher;
  std::ostream& out;
  std::ostream& err;
  Clock& clock;
  GitFacts git{};
  Variables cli_variables{};
  std::vector<ProjectVariable> project_variables{};
  // What include values, include:rules and expand_vars see (§6.7), for child pipelines too.
  ExpressionVariables include_variables{};
  std::map<std::string, std::filesystem::path> project_dirs{};  // --include-project
  RunSlots* slots = nullptr;        // --concurrency across the parent and its children
  std::atomic<int64_t> next_id{1};  // job ids stay unique across pipelines
  std::mutex err_mu{};              // child pipelines warn from job threads

  void warn(const std::string& message) {
    std::lock_guard lock(err_mu);
    err << "glrunner: warning: " << message << "\n";
  }
};

// One pipeline of the run: the parent (depth 0) or a child (§10).
struct Level {
  std::string path{};  // LocalJob::pipeline of its jobs
  int depth = 0;
  std::string source = "push";    // CI_PIPELINE_SOURCE
  Variables pipeline_variables{};  // §7.1 #3: --variable, or what the trigger job forwarded
};

// A pipeline ready to run, or why there is none (empty_reason).
struct Prepared {
  PipelineConfig config{};  // after rules
  PipelineGraph graph{};
  std::vector<LocalJob> jobs{};
  std::string empty_reason{};
};

// §4.4: start_in is one of GitLab's durations, at most one week.
constexpr std::chrono::seconds kMaxStartIn{7 * 24 * 3600};

// parallel -> workflow -> rules -> graph -> LocalJobs for `parsed` at `level`.
// `named` plus every job they wait for, transitively: the jobs of their `needs`, or for a job
// without `needs` every job of the earlier stages (§9.1, §9.2). Names that are not jobs stay
// (build_graph reports them).
std::vector<std::string> with_predecessors(const PipelineConfig& pipeline,
                                           const std::vector<std::string>& named) {
  auto stage_index = [&pipeline](const std::string& stage) {
    return std::find(pipeline.stages.begin(), pipeline.stages.end(), stage) -
           pipeline.stages.begin();
  };
  std::vector<std::string> out = named;
  std::set<std::string> seen(named.begin(), named.end());
  for (size_t i = 0; i < out.size(); ++i) {
    const JobConfig* job = pipeline.find_job(out[i]);
    if (job == nullptr) continue;
    std::vector<std::string> before;
    if (job->needs) {
      for (const NeedDef& need : *job->needs) {
        if (!need.job.empty() && need.project.empty() && need.pipeline.empty() &&
            pipeline.find_job(need.job) != nullptr) {
          before.push_back(need.job);
        }
      }
    } else {
      for (const JobConfig& other : pipeline.jobs) {
        if (stage_index(other.stage) < stage_index(job->stage)) before.push_back(other.name);
      }
    }
    for (const std::string& name : before) {
      if (seen.insert(name).second) out.push_back(name);
    }
  }
  return out;
}

Result<Prepared> prepare(ExecShared& shared, const PipelineConfig& parsed, const Level& level,
                         const std::vector<std::string>& jobs_named) {
  const ExecOptions& options = shared.options;
  Result<PipelineConfig> expanded = expand_parallel(parsed);
  if (!expanded) return fail(expanded.error());
  // A parallelized job may be selected by its base name: that means all its jobs (§4.10).
  std::vector<std::string> selected;
  for (const std::string& name : jobs_named) {
    bool base = false;
    for (const JobConfig& job : expanded->jobs) {
      if (job.parallel_base == name && expanded->find_job(name) == nullptr) {
        selected.push_back(job.name);
        base = true;
      }
    }
    if (!base) selected.push_back(name);
  }

  Variables predefined = predefined_variables(shared.git, options.project_dir, options.file);
  for (Variable& var : predefined) {
    if (var.key == "CI_PIPELINE_SOURCE") var.value = level.source;
  }
  // Rules see the project variables (those without an environment scope) below the pipeline
  // variables (§7.1, §7.4).
  Variables rule_variables = project_variables_for(shared.project_variables, "");
  rule_variables.insert(rule_variables.end(), level.pipeline_variables.begin(),
                        level.pipeline_variables.end());
  // `changes` see the diff from the merge base with the default branch (§8.3 Local); git runs
  // on first use, once per pipeline.
  ChangedFiles changes;
  if (options.evaluate_rule_changes) {
    // A merge request pipeline diffs against its target branch (§8.3), given as
    // CI_MERGE_REQUEST_TARGET_BRANCH_NAME; every other one against the default branch.
    std::string default_branch, source, target;
    for (const Variables* vars : {&predefined, &rule_variables}) {
      for (const Variable& v : *vars) {
        if (v.key == "CI_DEFAULT_BRANCH") default_branch = v.value;
        if (v.key == "CI_PIPELINE_SOURCE") source = v.value;
        if (v.key == "CI_MERGE_REQUEST_TARGET_BRANCH_NAME") target = v.value;
      }
    }
    if (source == "merge_request_event" && !target.empty()) default_branch = target;
    changes = git_changed_files(options.project_dir, default_branch);
  }
  Result<WorkflowDecision> workflow =
      evaluate_workflow(*expanded, predefined, rule_variables, options.project_dir, &changes);
  if (!workflow) return fail(workflow.error());
  if (!workflow->run) return Prepared{.empty_reason = "Pipeline filtered out by workflow rules."};
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
      apply_rules(*expanded, predefined, rule_variables, options.project_dir, &removed, &changes);
  if (!kept) return fail(kept.error());
  for (const std::string& name : selected) {
    if (std::find(removed.begin(), removed.end(), name) != removed.end()) {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("{}: job {} is not in the pipeline: its rules or only/except "
                              "exclude it",
                              options.file, name));
    }
  }
  if (options.with_needs && !selected.empty()) selected = with_predecessors(*kept, selected);
  Result<PipelineGraph> graph = build_graph(*kept, selected);
  if (!graph) return fail(graph.error());
  Prepared prepared{.config = std::move(*kept), .graph = std::move(*graph)};
  if (options.list) return prepared;

  // GitLab creates no pipeline without jobs, or with only .pre/.post jobs (§9.7).
  bool only_edges = true;
  for (const GraphJob& job : prepared.graph.jobs) {
    only_edges = only_edges && (job.stage == ".pre" || job.stage == ".post");
  }
  if (prepared.graph.jobs.empty() || (only_edges && selected.empty())) {
    prepared.empty_reason = "No stages / jobs for this pipeline.";
    return prepared;
  }

  LocalJobInputs inputs{.project_dir = options.project_dir,
                        .predefined = predefined,
                        .cli_variables = level.pipeline_variables,
                        .project_variables = shared.project_variables};
  const PipelineConfig& config = prepared.config;
  std::vector<const JobConfig*> configs;
  for (const GraphJob& job : prepared.graph.jobs) configs.push_back(config.find_job(job.name));
  for (size_t i = 0; i < prepared.graph.jobs.size(); ++i) {
    const JobConfig* job = configs[i];
    if (prepared.graph.jobs[i].trigger) {
      shared.warn(fmt::format("{}:{}: jobs:{}: multi-project pipeline `{}` is not run locally; "
                              "the job is skipped",
                              config.file_name, job->line, job->name, job->trigger->project));
    }
    inputs.id = shared.next_id++;
    Result<JobSpec> spec = build_local_job_spec(config, *job, inputs);
    if (!spec) return fail(spec.error());
    // build_local_job_spec ends with the project variables, the command-line variables and
    // GIT_STRATEGY; dotenv variables go below the first two (§7.1 #7).
    size_t above = 1 + level.pipeline_variables.size();
    size_t limit = above + shared.project_variables.size();
    for (size_t v = spec->variables.size() - above; v > 0 && above < limit; --v) {
      const Variable& var = spec->variables[v - 1];
      bool from_file = std::any_of(shared.project_variables.begin(), shared.project_variables.end(),
                                   [&var](const ProjectVariable& p) { return p.name == var.key; });
      if (!from_file) break;
      ++above;
    }
    std::chrono::seconds start_in{0};
    if (job->when == When::kDelayed && !job->start_in.empty()) {
      std::optional<std::chrono::seconds> parsed_in = parse_human_duration(job->start_in);
      if (!parsed_in) {
        return fail(ErrorKind::kInvalidInput,
                    fmt::format("{}:{}: jobs:{} start in should be a duration", config.file_name,
                                job->line, job->name));
      }
      if (*parsed_in > kMaxStartIn) {
        return fail(ErrorKind::kInvalidInput,
                    fmt::format("{}:{}: jobs:{} start in should not exceed the limit (1 week)",
                                config.file_name, job->line, job->name));
      }
      if (!options.no_delay) start_in = *parsed_in;
    }
    size_t dotenv_position = spec->variables.size() - above;
    prepared.jobs.push_back(LocalJob{.name = job->name,
                                     .stage = job->stage,
                                     .spec = std::move(*spec),
                                     .artifact_sources = artifact_sources(prepared.graph, configs, i),
                                     .artifacts = job->artifacts,
                                     .dotenv_position = dotenv_position,
                                     .retry = job->retry,
                                     .resource_group = job->resource_group,
                                     .coverage = job->coverage,
                                     .pipeline = level.path,
                                     .trigger = job->trigger && !job->trigger->include.is_null()
                                                    ? job->trigger
                                                    : std::nullopt,
                                     .start_in = start_in});
  }
  return prepared;
}

bool flag(const ConfigValue* forward, const char* key, bool fallback) {
  if (forward == nullptr) return fallback;
  const ConfigValue* v = forward->find(key);
  if (v == nullptr || !v->is_scalar()) return fallback;
  return v->scalar == "true";
}

// Child pipelines of one pipeline's trigger jobs (§10).
class ChildPipelines final : public Downstream {
 public:
  // `shared`, `level` and `config` must outlive this.
  ChildPipelines(ExecShared& shared, const Level& level, const PipelineConfig& config)
      : shared_(shared), level_(level), config_(config) {}

  Result<PipelineReport> run(const LocalJob& job, const std::function<void()>& created,
                             std::stop_token stop) override {
    // gitlab-ci-local enforces GitLab's limit the same way.
    if (level_.depth >= 2) {
      return fail(ErrorKind::kInvalidInput,
                  "Parent and child pipelines have a maximum depth of two levels of child "
                  "pipelines: " + display_name(job) + " cannot create a third");
    }
    const JobConfig* trigger_job = config_.find_job(job.name);
    if (trigger_job == nullptr || !job.trigger) {
      return fail(ErrorKind::kInternal, "no trigger configuration for " + job.name);
    }
    Result<PipelineConfig> child = load_child(*trigger_job, job);
    if (!child) return fail(child.error());
    for (const std::string& warning : child->warnings) shared_.warn(warning);

    Level level{.path = level_.path.empty() ? job.name : level_.path + " -> " + job.name,
                .depth = level_.depth + 1,
                .source = "parent_pipeline"};
    // Forwarded variables become pipeline variables of the child (§10, §7.1 #3).
    const ConfigValue* forward = job.trigger->forward.is_mapping() ? &job.trigger->forward : nullptr;
    if (flag(forward, "yaml_variables", true)) {
      // GitLab expands them in the trigger job's context (its name, the parent pipeline's
      // ids), not the child's; `expand: false` values pass as written and stay raw.
      Variables context = job.spec.variables;
      for (int pass = 0; pass < 10; ++pass) {  // references to references, cycles cut off
        bool changed = false;
        for (Variable& var : context) {
          if (var.raw || var.value.find('$') == std::string::npos) continue;
          std::string before = std::exchange(var.value, "");  // a self-reference expands empty
          var.value = expand_simple(before, context);
          changed = changed || var.value != before;
        }
        if (!changed) break;
      }
      auto add = [&level, &context](const std::vector<VariableDef>& defs) {
        for (const VariableDef& def : defs) {
          level.pipeline_variables.push_back(
              Variable{.key = def.name,
                       .value = def.expand ? expand_simple(def.value, context) : def.value,
                       .is_public = true,
                       .raw = !def.expand});
        }
      };
      add(inherited_variables(config_, *trigger_job));
      add(trigger_job->variables);
    }
    if (flag(forward, "pipeline_variables", false)) {
      level.pipeline_variables.insert(level.pipeline_variables.end(),
                                      level_.pipeline_variables.begin(),
                                      level_.pipeline_variables.end());
    }
    Result<Prepared> prepared = prepare(shared_, *child, level, {});
    if (!prepared) return fail(prepared.error());
    if (!prepared->empty_reason.empty()) {
      return fail(ErrorKind::kInvalidInput,
                  "downstream pipeline can not be created: " + prepared->empty_reason);
    }
    shared_.launcher.announce(
        job, fmt::format("Created child pipeline from {} ({} jobs, strategy: {})\n",
                         child->file_name, prepared->jobs.size(),
                         job.trigger->strategy.empty() ? "none" : job.trigger->strategy));
    created();
    ChildPipelines grandchildren(shared_, level, prepared->config);
    LocalRunner runner(shared_.launcher, shared_.options.concurrency,
                       LocalRunnerHooks{.downstream = &grandchildren,
                                        .clock = &shared_.clock,
                                        .slots = shared_.slots});
    PipelineReport report = runner.run(prepared->graph, prepared->jobs, stop);
    shared_.launcher.announce(job, fmt::format("Child pipeline {}\n", to_string(report.status)));
    return report;
  }

 private:
  // trigger:include (§10): up to three local files, or one artifact of an earlier job.
  Result<PipelineConfig> load_child(const JobConfig& trigger_job, const LocalJob& job) {
    const ConfigValue& include = job.trigger->include;
    std::vector<const ConfigValue*> items;
    if (include.is_sequence()) {
      for (const ConfigValue& item : include.items) items.push_back(&item);
    } else {
      items.push_back(&include);
    }
    auto error = [&](int line, const std::string& message) {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("{}:{}: jobs:{}:trigger:include {}", config_.file_name,
                              line > 0 ? line : trigger_job.line, trigger_job.name, message));
    };
    if (items.empty() || items.size() > 3) {
      return error(include.line, "should list one to three files");
    }
    ConfigValue locals{.kind = ConfigValue::Kind::kSequence};
    const ConfigValue* artifact = nullptr;
    for (const ConfigValue* item : items) {
      if (item->is_scalar()) {
        ConfigValue entry{.kind = ConfigValue::Kind::kMapping};
        entry.keys.push_back("local");
        entry.items.push_back(*item);
        locals.items.push_back(std::move(entry));
      } else if (item->is_mapping() && item->find("local") != nullptr) {
        locals.items.push_back(*item);
      } else if (item->is_mapping() && item->find("artifact") != nullptr) {
        if (item->find("job") == nullptr) return error(item->line, "artifact needs job:");
        artifact = item;
      } else {
        std::string what = item->is_mapping() && !item->keys.empty() ? item->keys[0] : "entry";
        return error(item->line, fmt::format("{}: cannot be resolved offline: glrunner exec "
                                             "runs child pipelines from local files and "
                                             "artifacts only",
                                             what));
      }
    }
    if (artifact != nullptr) {
      if (items.size() > 1) {
        return error(artifact->line, "artifact: cannot be combined with other files locally");
      }
      std::string path = artifact->find("artifact")->scalar;
      std::string producer = artifact->find("job")->scalar;
      Result<std::string> text = shared_.launcher.artifact_file(level_.path, producer, path);
      if (!text) return error(artifact->line, text.error().message);
      return parse_pipeline(*text, path, child_context());
    }
    ConfigValue root{.kind = ConfigValue::Kind::kMapping};
    root.keys.push_back("include");
    root.items.push_back(std::move(locals));
    std::string first = items[0]->is_scalar() ? items[0]->scalar
                                              : items[0]->find("local")->scalar;
    return parse_pipeline(format_yaml(root), first, child_context());
  }

  // A child reads its includes as the parent does: same project, variables and commit.
  IncludeContext child_context() const {
    return IncludeContext{.project_dir = shared_.options.project_dir,
                          .variables = shared_.include_variables,
                          .commit_sha = shared_.git.sha,
                          .project_dirs = shared_.project_dirs};
  }

  ExecShared& shared_;
  const Level& level_;
  const PipelineConfig& config_;
};

}  // namespace

int run_exec(const ExecOptions& options, JobLauncher& launcher, std::ostream& out,
             std::ostream& err, std::stop_token stop, Clock* clock) {
  Variables cli_variables;
  for (const std::string& item : options.variables) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return report_error(err, fmt::format("--variable \"{}\": expected KEY=VALUE", item));
    }
    cli_variables.push_back(
        Variable{.key = item.substr(0, eq), .value = item.substr(eq + 1), .is_public = true});
  }

  std::vector<std::pair<std::string, std::string>> pipeline_inputs;
  for (const std::string& item : options.inputs) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return report_error(err, fmt::format("--input \"{}\": expected NAME=VALUE", item));
    }
    pipeline_inputs.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }

  std::map<std::string, std::filesystem::path> project_dirs;
  for (const std::string& item : options.include_projects) {
    size_t eq = item.find('=');
    std::string project = eq == std::string::npos ? std::string() : item.substr(0, eq);
    while (!project.empty() && project.front() == '/') project.erase(0, 1);
    while (!project.empty() && project.back() == '/') project.pop_back();
    if (project.empty() || eq + 1 >= item.size()) {
      return report_error(err, fmt::format("--include-project \"{}\": expected PATH=DIR "
                                           "(group/project=/path/to/clone)",
                                           item));
    }
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(item.substr(eq + 1), ec);
    if (ec || !std::filesystem::is_directory(dir, ec)) {
      return report_error(err, fmt::format("--include-project \"{}\": {} is not a directory",
                                           item, item.substr(eq + 1)));
    }
    project_dirs[project] = dir;
  }

  std::filesystem::path path = std::filesystem::path(options.file).is_absolute()
                                   ? std::filesystem::path(options.file)
                                   : options.project_dir / options.file;
  std::ifstream in(path, std::ios::binary);
  if (!in) return report_error(err, fmt::format("{}: cannot be read", options.file));
  std::stringstream text;
  text << in.rdbuf();
  // The variables file (§7.1 #4, §7.7): named by --variables-file, else gitlab-ci-local's.
  std::vector<ProjectVariable> project_variables;
  {
    std::string name = options.variables_file.empty() ? kDefaultVariablesFile : options.variables_file;
    std::filesystem::path file = std::filesystem::path(name).is_absolute()
                                     ? std::filesystem::path(name)
                                     : options.project_dir / name;
    std::error_code ec;
    bool exists = std::filesystem::exists(file, ec);
    if (!exists && !options.variables_file.empty()) {
      return report_error(err, fmt::format("--variables-file {}: no such file", name));
    }
    if (exists) {
      std::ifstream vin(file, std::ios::binary);
      if (!vin) return report_error(err, fmt::format("{}: cannot be read", name));
      std::stringstream vtext;
      vtext << vin.rdbuf();
      Result<std::vector<ProjectVariable>> parsed = parse_variables_file(vtext.str(), name);
      if (!parsed) return report_error(err, parsed.error().message);
      project_variables = std::move(*parsed);
    }
  }

  // include values, include:rules and expand_vars see the project's predefined variables, the
  // variables file's unscoped entries and the command-line variables (§6.7 Local).
  GitFacts git = read_git_facts(options.project_dir);
  Variables predefined = predefined_variables(git, options.project_dir, options.file);
  Variables include_visible = project_variables_for(project_variables, "");
  include_visible.insert(include_visible.end(), cli_variables.begin(), cli_variables.end());
  IncludeContext context{.project_dir = options.project_dir,
                         .variables = include_variables(predefined, include_visible),
                         .inputs = std::move(pipeline_inputs),
                         .commit_sha = git.sha,
                         .project_dirs = std::move(project_dirs)};
  Result<PipelineConfig> pipeline = parse_pipeline(text.str(), options.file, context);
  if (!pipeline) return report_error(err, pipeline.error().message);
  for (const std::string& warning : pipeline->warnings) err << "glrunner: warning: " << warning << "\n";

  if (options.preview) {
    out << pipeline->merged_yaml;
    return 0;
  }

  SystemClock system_clock;
  ExecShared shared{.options = options,
                    .launcher = launcher,
                    .out = out,
                    .err = err,
                    .clock = clock != nullptr ? *clock : system_clock,
                    .git = git,
                    .cli_variables = cli_variables,
                    .project_variables = std::move(project_variables),
                    .include_variables = context.variables,
                    .project_dirs = context.project_dirs};
  Level root{.pipeline_variables = cli_variables};
  Result<Prepared> prepared = prepare(shared, *pipeline, root, options.jobs);
  if (!prepared) return report_error(err, prepared.error().message);
  if (options.list) {
    out << list_pipeline(prepared->graph);
    return 0;
  }
  if (!prepared->empty_reason.empty()) {
    out << prepared->empty_reason << "\n";
    return 0;
  }
  if (!shared.git.is_repo) {
    err << "glrunner: warning: " << options.project_dir.string() << ": " << shared.git.note
        << "; CI_COMMIT_* variables use placeholder values\n";
  }

  ChildPipelines children(shared, root, prepared->config);
  RunSlots slots(options.concurrency > 0 ? static_cast<size_t>(options.concurrency)
                                         : std::max(1u, std::thread::hardware_concurrency()));
  shared.slots = &slots;
  LocalRunner runner(launcher, options.concurrency,
                     LocalRunnerHooks{.downstream = &children, .clock = &shared.clock, .slots = &slots});
  PipelineReport report = runner.run(prepared->graph, prepared->jobs, stop);
  out << "\n" << format_summary(report.jobs, options.color);
  out << "pipeline " << to_string(report.status) << "\n";
  return exit_code_for(report.status);
}

}  // namespace glr
