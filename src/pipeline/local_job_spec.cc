// Local stand-in for what GitLab computes when it hands a job to a runner: predefined
// variables from git, variable precedence, steps, image and timeout.
#include "pipeline/local_job_spec.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <stop_token>

#include <fmt/format.h>

#include "artifacts/cache_key.h"
#include "process/subprocess.h"
#include "util/strings.h"

extern char** environ;

namespace glr {

namespace {

constexpr const char* kZeroSha = "0000000000000000000000000000000000000000";

// Output of `git -C dir args...` (git started directly, no shell), trailing newlines removed;
// nullopt when git fails or cannot be started.
std::optional<std::string> git(const std::filesystem::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", dir.string()});
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  Result<Subprocess> child =
      Subprocess::spawn({.argv = std::move(args), .env = std::move(env), .stdin_data = {}});
  if (!child) return std::nullopt;
  std::string out;
  Result<ProcessStatus> status = run_and_stream(
      *child, [&out](bool is_err, std::string_view bytes) { if (!is_err) out.append(bytes); },
      std::stop_token{}, std::chrono::seconds(1));
  if (!status || status->code != 0 || status->signal != 0) return std::nullopt;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

struct RemoteParts {
  std::string host{};
  std::string path{};  // group/sub/project
};

// git@host:group/project.git, ssh://git@host:22/group/project.git, https://host/group/project
RemoteParts parse_remote(std::string url) {
  RemoteParts out;
  if (ends_with(url, ".git")) url.resize(url.size() - 4);
  size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    std::string rest = url.substr(scheme + 3);
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    size_t at = authority.rfind('@');
    if (at != std::string::npos) authority = authority.substr(at + 1);
    size_t colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (slash != std::string::npos) out.path = rest.substr(slash + 1);
  } else {
    size_t at = url.find('@');
    std::string rest = at == std::string::npos ? url : url.substr(at + 1);
    size_t colon = rest.find(':');
    if (colon != std::string::npos) {
      out.host = rest.substr(0, colon);
      out.path = rest.substr(colon + 1);
    }
  }
  while (starts_with(out.path, "/")) out.path.erase(0, 1);
  return out;
}

void add(Variables& vars, std::string key, std::string value) {
  vars.push_back(Variable{.key = std::move(key), .value = std::move(value), .is_public = true});
}

}  // namespace

std::optional<std::string> run_git(const std::filesystem::path& dir, std::vector<std::string> args) {
  return git(dir, std::move(args));
}

GitFacts read_git_facts(const std::filesystem::path& dir) {
  // Two git processes at most: every local run pays for these before its first job. The
  // decorations (%D: "HEAD -> main, tag: v1") name the branch, or the tag of a detached HEAD.
  GitFacts facts;
  std::optional<std::string> head =
      git(dir, {"log", "-1", "--format=%H%x00%cI%x00%an <%ae>%x00%D%x00%B"});
  if (!head) {
    std::optional<std::string> version = git(dir, {"--version"});
    facts.note = version ? "not a git repository" : "git not found";
    return facts;
  }
  std::vector<std::string> fields;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    size_t nul = head->find('\0', start);
    if (nul == std::string::npos) break;
    fields.push_back(head->substr(start, nul - start));
    start = nul + 1;
  }
  if (fields.size() != 4) {
    facts.note = "unexpected git log output";
    return facts;
  }
  facts.is_repo = true;
  facts.sha = fields[0];
  facts.timestamp = fields[1];
  facts.author = fields[2];
  facts.message = head->substr(start);
  while (!facts.message.empty() && facts.message.back() == '\n') facts.message.pop_back();
  std::string tag;
  for (const std::string& decoration : split(fields[3], ',')) {
    std::string_view d = trim(decoration);
    if (starts_with(d, "HEAD -> ")) facts.ref = std::string(d.substr(8));
    if (starts_with(d, "tag: ") && tag.empty()) tag = std::string(d.substr(5));
  }
  if (facts.ref.empty() && !tag.empty()) {
    facts.ref = tag;
    facts.is_tag = true;
  }
  std::optional<std::string> config =
      git(dir, {"config", "--get-regexp", "^(user\\.name|user\\.email|remote\\.origin\\.url)$"});
  for (const std::string& line : split(config.value_or(""), '\n')) {
    size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    std::string key = line.substr(0, space);
    std::string value = line.substr(space + 1);
    if (key == "user.name") facts.user_name = value;
    if (key == "user.email") facts.user_email = value;
    if (key == "remote.origin.url") facts.remote_url = value;
  }
  if (!facts.remote_url.empty()) {
    if (std::optional<std::string> origin_head =
            git(dir, {"symbolic-ref", "--short", "refs/remotes/origin/HEAD"})) {
      facts.default_branch =
          starts_with(*origin_head, "origin/") ? origin_head->substr(7) : *origin_head;
    }
  }
  return facts;
}

std::string slugify(std::string_view text) {
  std::string out;
  for (char c : text) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) ? l : '-';
  }
  if (out.size() > 63) out.resize(63);
  size_t begin = out.find_first_not_of('-');
  if (begin == std::string::npos) return "";
  size_t end = out.find_last_not_of('-');
  return out.substr(begin, end - begin + 1);
}

Variables predefined_variables(const GitFacts& git, const std::filesystem::path& project_dir,
                               const std::string& config_path) {
  Variables vars;
  std::string dir_name = project_dir.filename().string();
  if (dir_name.empty()) dir_name = project_dir.parent_path().filename().string();
  if (dir_name.empty()) dir_name = "project";
  RemoteParts remote = parse_remote(git.remote_url);
  std::string project_path = remote.path.empty() ? "local/" + dir_name : remote.path;
  std::string host = remote.host.empty() ? "gitlab.example.com" : remote.host;
  std::string namespace_path = project_path.substr(0, project_path.rfind('/'));
  std::string project_name = project_path.substr(project_path.rfind('/') + 1);
  std::string server_url = "https://" + host;
  std::string sha = git.sha.empty() ? kZeroSha : git.sha;
  std::string ref = git.ref.empty() ? "main" : git.ref;
  std::string default_branch = git.default_branch.empty() ? "main" : git.default_branch;
  std::string message = git.message.empty()
                            ? (git.is_repo ? "" : "local run (" + git.note + ")")
                            : git.message;
  std::string title = message.substr(0, message.find('\n'));
  std::string description =
      message.find('\n') == std::string::npos ? "" : message.substr(message.find('\n') + 1);

  add(vars, "CI", "true");
  add(vars, "GITLAB_CI", "false");  // local convention (§7.5): lets rules tell local runs apart
  add(vars, "CI_SERVER", "yes");
  add(vars, "CI_COMMIT_SHA", sha);
  add(vars, "CI_COMMIT_SHORT_SHA", sha.substr(0, 8));
  add(vars, "CI_COMMIT_BEFORE_SHA", kZeroSha);
  add(vars, "CI_COMMIT_REF_NAME", ref);
  add(vars, "CI_COMMIT_REF_SLUG", slugify(ref));
  if (git.is_tag) {
    add(vars, "CI_COMMIT_TAG", ref);
  } else {
    add(vars, "CI_COMMIT_BRANCH", ref);
  }
  add(vars, "CI_COMMIT_REF_PROTECTED", "false");
  add(vars, "CI_COMMIT_TITLE", title);
  add(vars, "CI_COMMIT_MESSAGE", message);
  add(vars, "CI_COMMIT_DESCRIPTION", description);
  if (!git.timestamp.empty()) add(vars, "CI_COMMIT_TIMESTAMP", git.timestamp);
  if (!git.author.empty()) add(vars, "CI_COMMIT_AUTHOR", git.author);
  add(vars, "CI_DEFAULT_BRANCH", default_branch);
  add(vars, "CI_PIPELINE_SOURCE", "push");
  add(vars, "CI_PIPELINE_ID", "1000");
  add(vars, "CI_PIPELINE_IID", "1");
  add(vars, "CI_PIPELINE_URL", server_url + "/" + project_path + "/-/pipelines/1000");
  add(vars, "CI_PROJECT_DIR", project_dir.string());
  add(vars, "CI_BUILDS_DIR", project_dir.parent_path().string());
  add(vars, "CI_PROJECT_NAME", project_name);
  add(vars, "CI_PROJECT_TITLE", project_name);
  add(vars, "CI_PROJECT_PATH", project_path);
  add(vars, "CI_PROJECT_PATH_SLUG", slugify(project_path));
  add(vars, "CI_PROJECT_NAMESPACE", namespace_path);
  add(vars, "CI_PROJECT_ROOT_NAMESPACE", namespace_path.substr(0, namespace_path.find('/')));
  add(vars, "CI_PROJECT_URL", server_url + "/" + project_path);
  add(vars, "CI_PROJECT_ID", "1");
  add(vars, "CI_PROJECT_VISIBILITY", "internal");
  add(vars, "CI_CONFIG_PATH", config_path);
  add(vars, "CI_SERVER_URL", server_url);
  add(vars, "CI_SERVER_HOST", host);
  add(vars, "CI_SERVER_PORT", "443");
  add(vars, "CI_SERVER_PROTOCOL", "https");
  add(vars, "CI_SERVER_FQDN", host);
  add(vars, "CI_API_V4_URL", server_url + "/api/v4");
  add(vars, "CI_REGISTRY", "local-registry." + host);
  add(vars, "CI_REGISTRY_IMAGE", "local-registry." + host + "/" + to_lower(project_path));
  add(vars, "GITLAB_USER_LOGIN", git.user_name.empty() ? "local" : to_lower(replace_all(git.user_name, " ", "")));
  add(vars, "GITLAB_USER_NAME", git.user_name.empty() ? "Local User" : git.user_name);
  add(vars, "GITLAB_USER_EMAIL", git.user_email.empty() ? "local@example.com" : git.user_email);
  add(vars, "GITLAB_USER_ID", "1");
  return vars;
}

std::optional<std::chrono::seconds> parse_human_duration(std::string_view text) {
  static const std::map<std::string, double> kUnits = {
      {"s", 1},        {"sec", 1},        {"secs", 1},     {"second", 1},   {"seconds", 1},
      {"m", 60},       {"min", 60},       {"mins", 60},    {"minute", 60},  {"minutes", 60},
      {"h", 3600},     {"hr", 3600},      {"hrs", 3600},   {"hour", 3600},  {"hours", 3600},
      {"d", 86400},    {"day", 86400},    {"days", 86400}, {"w", 604800},   {"wk", 604800},
      {"wks", 604800}, {"week", 604800},  {"weeks", 604800}, {"mo", 2592000}, {"mos", 2592000},
      {"month", 2592000}, {"months", 2592000}, {"y", 31536000}, {"yr", 31536000},
      {"yrs", 31536000}, {"year", 31536000}, {"years", 31536000}};
  std::string s = to_lower(trim(text));
  s = replace_all(s, ",", " ");
  s = replace_all(s, " and ", " ");
  if (s.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (start == i) return std::nullopt;
    double number = std::strtod(s.substr(start, i - start).c_str(), nullptr);
    while (i < s.size() && s[i] == ' ') ++i;
    size_t unit_start = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = s.substr(unit_start, i - unit_start);
    double factor = 1;
    if (!unit.empty()) {
      auto it = kUnits.find(unit);
      if (it == kUnits.end()) return std::nullopt;
      factor = it->second;
    }
    total += number * factor;
    any = true;
  }
  if (!any) return std::nullopt;
  return std::chrono::seconds(static_cast<long long>(total));
}

// `cache:` entries as GitLab sends them in the job payload (pipeline-yaml §9.10, executors §5):
// the key unexpanded (the runner expands it), "default" when none is given, key:files resolved
// against the local repository as GitLab does when it creates the pipeline.
static Result<std::vector<CacheSpec>> local_caches(const PipelineConfig& pipeline,
                                                   const JobConfig& job,
                                                   const LocalJobInputs& inputs) {
  std::vector<CacheSpec> caches;
  for (const CacheDef& def : job.cache) {
    CacheSpec cache{.untracked = def.untracked,
                    .policy = def.policy,
                    .paths = def.paths,
                    .when = def.when.empty() ? "on_success" : def.when,
                    .fallback_keys = def.fallback_keys};
    if (def.key.is_scalar()) {
      cache.key = def.key.scalar;
    } else if (def.key.is_mapping()) {
      CacheKeyFiles files;
      auto strings = [](const ConfigValue* v) {
        std::vector<std::string> out;
        if (v != nullptr) {
          for (const ConfigValue& item : v->items) out.push_back(item.scalar);
        }
        return out;
      };
      files.files = strings(def.key.find("files"));
      files.files_commits = strings(def.key.find("files_commits"));
      if (const ConfigValue* prefix = def.key.find("prefix")) files.prefix = prefix->scalar;
      const Variable* sha = find_variable(inputs.predefined, "CI_COMMIT_SHA");
      Result<std::string> key = resolve_cache_key_files(
          inputs.project_dir, sha != nullptr ? sha->value : "HEAD", files, {});
      if (!key) {
        return fail(ErrorKind::kInvalidInput,
                    fmt::format("{}:{}: jobs:{}:cache:key:files: {}", pipeline.file_name,
                                def.key.line, job.name, key.error().message));
      }
      cache.key = *key;
    }
    if (cache.key.empty()) cache.key = "default";
    caches.push_back(std::move(cache));
  }
  return caches;
}

// $NAME and ${NAME} from `vars` (last definition wins); unknown names expand to nothing. One
// level only, which is what GitLab does for environment names at creation.
std::string expand_simple(std::string_view text, const Variables& vars) {
  auto lookup = [&vars](const std::string& name) -> std::string {
    for (auto it = vars.rbegin(); it != vars.rend(); ++it) {
      if (it->key == name) return it->value;
    }
    return "";
  };
  auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += text.substr(i);
        break;
      }
      out += lookup(std::string(text.substr(i + 2, close - i - 2)));
      i = close;
    } else if (is_name(text[i + 1])) {
      size_t end = i + 1;
      while (end < text.size() && is_name(text[end])) ++end;
      out += lookup(std::string(text.substr(i + 1, end - i - 1)));
      i = end - 1;
    } else {
      out += text[i];
    }
  }
  return out;
}

Result<JobSpec> build_local_job_spec(const PipelineConfig& pipeline, const JobConfig& job,
                                     const LocalJobInputs& inputs) {
  JobSpec spec;
  spec.id = inputs.id;
  spec.job_info = JobInfo{.id = inputs.id,
                          .name = job.name,
                          .stage = job.stage,
                          .project_id = 1,
                          .project_name = inputs.project_dir.filename().string(),
                          .pipeline_id = 1000};
  if (const Variable* path = find_variable(inputs.predefined, "CI_PROJECT_PATH")) {
    spec.job_info.project_full_path = path->value;
  }
  spec.features.trace_sections = true;

  std::chrono::seconds timeout{3600};
  if (!job.timeout.empty()) {
    std::optional<std::chrono::seconds> parsed = parse_human_duration(job.timeout);
    if (!parsed || parsed->count() <= 0) {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("{}:{}: jobs:{}:timeout config should be a duration", pipeline.file_name,
                              job.line, job.name));
    }
    timeout = *parsed;
  }
  spec.runner_info.timeout = timeout.count();

  std::vector<std::string> main_script = job.before_script;
  main_script.insert(main_script.end(), job.script.begin(), job.script.end());
  spec.steps.push_back(Step{.name = "script",
                            .script = std::move(main_script),
                            .timeout = timeout.count(),
                            .when = StepWhen::kOnSuccess});
  if (!job.after_script.empty()) {
    spec.steps.push_back(Step{.name = "after_script",
                              .script = job.after_script,
                              .timeout = timeout.count(),
                              .when = StepWhen::kAlways});
  }
  Result<std::vector<CacheSpec>> caches = local_caches(pipeline, job, inputs);
  if (!caches) return fail(caches.error());
  spec.caches = std::move(*caches);
  if (job.image) {
    spec.image = Image{.name = job.image->name, .entrypoint = job.image->entrypoint};
  }
  for (const ImageDef& service : job.services) {
    spec.services.push_back(Image{.name = service.name,
                                  .alias = service.alias,
                                  .entrypoint = service.entrypoint,
                                  .command = service.command});
  }

  // §7.1, lowest first; Variables lookups go from the end.
  Variables& vars = spec.variables;
  vars = inputs.predefined;
  add(vars, "CI_JOB_ID", std::to_string(inputs.id));
  add(vars, "CI_JOB_NAME", job.name);
  add(vars, "CI_JOB_NAME_SLUG", slugify(job.name));
  add(vars, "CI_JOB_STAGE", job.stage);
  if (job.node_index > 0) add(vars, "CI_NODE_INDEX", std::to_string(job.node_index));
  add(vars, "CI_NODE_TOTAL", std::to_string(std::max(job.node_total, 1)));
  add(vars, "CI_JOB_TIMEOUT", std::to_string(timeout.count()));
  if (const Variable* project_url = find_variable(inputs.predefined, "CI_PROJECT_URL")) {
    add(vars, "CI_JOB_URL", project_url->value + "/-/jobs/" + std::to_string(inputs.id));
  }
  if (job.when == When::kManual) add(vars, "CI_JOB_MANUAL", "true");
  if (job.environment) {
    add(vars, "CI_ENVIRONMENT_NAME", job.environment->name);
    if (!job.environment->url.empty()) add(vars, "CI_ENVIRONMENT_URL", job.environment->url);
    add(vars, "CI_ENVIRONMENT_ACTION",
        job.environment->action.empty() ? "start" : job.environment->action);
    if (!job.environment->deployment_tier.empty()) {
      add(vars, "CI_ENVIRONMENT_TIER", job.environment->deployment_tier);
    }
  }
  auto add_yaml = [&vars](const std::vector<VariableDef>& defs) {
    for (const VariableDef& def : defs) {
      vars.push_back(Variable{.key = def.name, .value = def.value, .is_public = true,
                              .raw = !def.expand});
    }
  };
  add_yaml(inherited_variables(pipeline, job));
  add_yaml(job.variables);
  if (job.environment) {
    // §11.1: the name is expanded when the job is created; scoped variables follow it (§7.7).
    Variables seen = vars;
    seen.insert(seen.end(), inputs.cli_variables.begin(), inputs.cli_variables.end());
    std::string name = expand_simple(job.environment->name, seen);
    for (Variable& var : vars) {
      if (var.key == "CI_ENVIRONMENT_NAME") var.value = name;
    }
    Variables scoped = project_variables_for(inputs.project_variables, name);
    vars.insert(vars.end(), scoped.begin(), scoped.end());
  } else {
    Variables plain = project_variables_for(inputs.project_variables, "");
    vars.insert(vars.end(), plain.begin(), plain.end());
  }
  vars.insert(vars.end(), inputs.cli_variables.begin(), inputs.cli_variables.end());
  add(vars, "GIT_STRATEGY", "none");
  return spec;
}

}  // namespace glr
