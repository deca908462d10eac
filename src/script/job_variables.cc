// Assembles the job variable list in precedence order (executors §3.1) and applies the
// runner-side one-level expansion (§3.2, Go os.Expand semantics).
#include "script/job_variables.h"

#include <set>
#include <string>

#include "util/strings.h"

namespace glr {
namespace {

bool is_alnum_underscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Go's isShellSpecialVar.
bool is_special(char c) {
  switch (c) {
    case '*': case '#': case '$': case '@': case '!': case '?': case '-':
      return true;
    default:
      return c >= '0' && c <= '9';
  }
}

// Go's getShellName: the name after '$' and how many bytes it consumed. An empty name with
// width > 0 means "invalid syntax, eat the bytes".
std::pair<std::string_view, size_t> shell_name(std::string_view s) {
  if (s[0] == '{') {
    if (s.size() > 2 && is_special(s[1]) && s[2] == '}') return {s.substr(1, 1), 3};
    for (size_t i = 1; i < s.size(); ++i) {
      if (s[i] == '}') {
        if (i == 1) return {{}, 2};  // "${}" is eaten
        return {s.substr(1, i - 1), i + 1};
      }
    }
    return {{}, 1};  // unterminated "${": eat it
  }
  if (is_special(s[0])) return {s.substr(0, 1), 1};
  size_t i = 0;
  while (i < s.size() && is_alnum_underscore(s[i])) ++i;
  return {s.substr(0, i), i};
}

std::string lookup(std::string_view name, const Variables& vars, const std::string& tmp_dir) {
  if (name == "$") return "$";
  if (name.size() == 1 && (name[0] == '*' || name[0] == '#' || name[0] == '@' ||
                           name[0] == '!' || name[0] == '?' || (name[0] >= '0' && name[0] <= '9'))) {
    return "";
  }
  const Variable* v = find_variable(vars, std::string(name));
  if (v == nullptr) return "";
  if (v->is_file) return tmp_dir + "/" + v->key;
  return v->value;
}

Variable runner_var(std::string key, std::string value) {
  return Variable{.key = std::move(key), .value = std::move(value), .is_public = true};
}

}  // namespace

std::string expand(std::string_view s, const Variables& vars, const std::string& tmp_dir) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  for (size_t j = 0; j < s.size(); ++j) {
    if (s[j] == '$' && j + 1 < s.size()) {
      out.append(s.substr(i, j - i));
      auto [name, width] = shell_name(s.substr(j + 1));
      if (name.empty() && width > 0) {
        // invalid syntax: the bytes are eaten
      } else if (name.empty()) {
        out.push_back('$');  // '$' not followed by a name stays
      } else {
        out += lookup(name, vars, tmp_dir);
      }
      j += width;
      i = j + 1;
    }
  }
  if (i < s.size()) out.append(s.substr(i));
  return out;
}

JobVariables build_job_variables(const JobVariablesInput& in) {
  const JobSpec& job = *in.job;
  JobVariables result;

  Variables env_vars;
  for (const std::string& entry : in.runner_environment) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;  // silently dropped (§3.1 item 4)
    env_vars.push_back(Variable{.key = entry.substr(0, eq), .value = entry.substr(eq + 1),
                                .internal = true});
  }

  // Flags see the runner environment and the payload (payload last, so it wins).
  Variables flag_sources = env_vars;
  flag_sources.insert(flag_sources.end(), job.variables.begin(), job.variables.end());
  result.flags = resolve_feature_flags(in.config_feature_flags, flag_sources);

  Variables& list = result.list;
  std::set<std::string> flag_names;
  for (const FeatureFlagDef& def : known_feature_flags()) {
    flag_names.insert(def.name);
    list.push_back(runner_var(def.name, result.flags.get(def.name) ? "true" : "false"));
  }
  if (job.image && !job.image->name.empty()) {
    list.push_back(runner_var("CI_JOB_IMAGE", job.image->name));
  }
  list.push_back(runner_var("CI_RUNNER_SHORT_TOKEN", in.short_token));
  list.insert(list.end(), env_vars.begin(), env_vars.end());
  list.push_back(runner_var("CI_BUILDS_DIR", in.builds_dir));
  list.push_back(runner_var("CI_PROJECT_DIR", in.project_dir));
  list.push_back(runner_var("CI_CONCURRENT_ID", std::to_string(in.concurrent_id)));
  list.push_back(runner_var("CI_CONCURRENT_PROJECT_ID", std::to_string(in.concurrent_project_id)));
  list.push_back(runner_var("CI_SERVER", "yes"));
  list.push_back(runner_var("CI_JOB_STATUS", "running"));
  list.push_back(runner_var("CI_JOB_TIMEOUT", std::to_string(in.job_timeout_seconds)));
  if (!in.tls_ca_file_content.empty()) {
    list.push_back(Variable{.key = "CI_SERVER_TLS_CA_FILE", .value = in.tls_ca_file_content,
                            .is_public = true, .is_file = true});
  }
  if (!in.tls_cert_file_content.empty() && !in.tls_key_file_content.empty()) {
    list.push_back(Variable{.key = "CI_SERVER_TLS_CERT_FILE", .value = in.tls_cert_file_content,
                            .is_public = true, .is_file = true});
    list.push_back(Variable{.key = "CI_SERVER_TLS_KEY_FILE", .value = in.tls_key_file_content,
                            .is_file = true});
  }
  for (const Variable& v : job.variables) {
    if (flag_names.count(v.key) == 0) list.push_back(v);
  }
  if (in.shared_environment) {
    list.push_back(runner_var("CI_SHARED_ENVIRONMENT", "true"));
  } else {
    list.push_back(runner_var("CI_DISPOSABLE_ENVIRONMENT", "true"));
  }
  list.push_back(runner_var("CI_RUNNER_VERSION", in.runner_version));
  list.push_back(runner_var("CI_RUNNER_REVISION", in.runner_revision));
  list.push_back(runner_var("CI_RUNNER_EXECUTABLE_ARCH", in.executable_arch));
  list.push_back(runner_var("RUNNER_TEMP_PROJECT_DIR", in.tmp_dir));
  if (result.flags.get("FF_NETWORK_PER_BUILD") && !in.build_network_name.empty()) {
    list.push_back(runner_var("CI_BUILD_NETWORK_NAME", in.build_network_name));
  }

  // One pass, every lookup against the unexpanded list (§3.2: only one level).
  const Variables unexpanded = list;
  for (Variable& v : list) {
    if (!v.raw) v.value = expand(v.value, unexpanded, in.tmp_dir);
  }
  return result;
}

std::vector<std::string> masked_values(const Variables& vars) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const Variable& v : vars) {
    if (!v.masked) continue;
    std::string value(trim(v.value));
    if (value.empty() || !seen.insert(value).second) continue;
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace glr
