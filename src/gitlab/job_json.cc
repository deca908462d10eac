// JSON adapter for the runner API (api spec §2.1, §3, §4.1). nlohmann exceptions
// stop here and become Result errors.
#include "gitlab/job_json.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "util/version.h"

namespace glr {
namespace {

using json = nlohmann::json;

// Reads a payload with the §0.6 leniency (null/missing = zero) but strict types.
class Reader {
 public:
  explicit Reader(std::vector<std::string>* errors) : errors_(errors) {}

  std::string str(const json& obj, const char* key, const std::string& path) {
    const json* v = get(obj, key);
    if (v == nullptr) return {};
    if (v->is_string()) return v->get<std::string>();
    bad(path + key, "string", *v);
    return {};
  }
  int64_t num(const json& obj, const char* key, const std::string& path) {
    const json* v = get(obj, key);
    if (v == nullptr) return 0;
    if (v->is_number_integer() || v->is_number_unsigned()) return v->get<int64_t>();
    if (v->is_number_float()) return static_cast<int64_t>(v->get<double>());
    bad(path + key, "integer", *v);
    return 0;
  }
  double real(const json& obj, const char* key, const std::string& path) {
    const json* v = get(obj, key);
    if (v == nullptr) return 0;
    if (v->is_number()) return v->get<double>();
    bad(path + key, "number", *v);
    return 0;
  }
  bool boolean(const json& obj, const char* key, const std::string& path) {
    const json* v = get(obj, key);
    if (v == nullptr) return false;
    if (v->is_boolean()) return v->get<bool>();
    bad(path + key, "boolean", *v);
    return false;
  }
  std::vector<std::string> strings(const json& obj, const char* key, const std::string& path) {
    std::vector<std::string> out;
    const json* v = get(obj, key);
    if (v == nullptr) return out;
    if (!v->is_array()) {
      bad(path + key, "array of strings", *v);
      return out;
    }
    for (size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      if (e.is_string()) out.push_back(e.get<std::string>());
      else if (!e.is_null()) bad(path + key + "[" + std::to_string(i) + "]", "string", e);
    }
    return out;
  }
  // Returns the array (or nullptr when absent/null); wrong type is an error.
  const json* array(const json& obj, const char* key, const std::string& path) {
    const json* v = get(obj, key);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) {
      bad(path + key, "array", *v);
      return nullptr;
    }
    return v;
  }
  const json* object(const json& obj, const char* key, const std::string& path) {
    const json* v = get(obj, key);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) {
      bad(path + key, "object", *v);
      return nullptr;
    }
    return v;
  }
  bool ok() const { return first_error_.empty(); }
  const std::string& first_error() const { return first_error_; }

 private:
  static const json* get(const json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void bad(const std::string& path, const char* want, const json& got) {
    if (first_error_.empty())
      first_error_ = "job payload: " + path + ": expected " + want + ", got " + got.type_name();
  }

  std::vector<std::string>* errors_;
  std::string first_error_;
};

Variables read_variables(Reader& r, const json* arr, const std::string& path) {
  Variables out;
  if (arr == nullptr) return out;
  for (size_t i = 0; i < arr->size(); ++i) {
    const json& v = (*arr)[i];
    std::string p = path + "[" + std::to_string(i) + "].";
    Variable var;
    var.key = r.str(v, "key", p);
    var.value = r.str(v, "value", p);
    var.is_public = r.boolean(v, "public", p);
    var.masked = r.boolean(v, "masked", p);
    var.is_file = r.boolean(v, "file", p);
    var.raw = r.boolean(v, "raw", p);
    out.push_back(std::move(var));
  }
  return out;
}

std::string string_or_int(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return {};
}

Image read_image(Reader& r, const json& o, const std::string& p, std::vector<std::string>& errors) {
  Image img;
  img.name = r.str(o, "name", p);
  img.alias = r.str(o, "alias", p);
  img.entrypoint = r.strings(o, "entrypoint", p);
  img.command = r.strings(o, "command", p);
  if (const json* ports = r.array(o, "ports", p)) {
    for (size_t i = 0; i < ports->size(); ++i) {
      std::string pp = p + "ports[" + std::to_string(i) + "].";
      img.ports.push_back(ImagePort{static_cast<int>(r.num((*ports)[i], "number", pp)),
                                    r.str((*ports)[i], "protocol", pp),
                                    r.str((*ports)[i], "name", pp)});
    }
  }
  img.variables = read_variables(r, r.array(o, "variables", p), p + "variables");
  img.pull_policy = r.strings(o, "pull_policy", p);
  if (const json* opts = r.object(o, "executor_opts", p)) {
    // Only docker.platform, docker.user and kubernetes.user are known; any other
    // key fails the job (§3.8).
    for (auto it = opts->begin(); it != opts->end(); ++it) {
      if (it->is_null()) continue;  // null is a zero value (§0.6), not an option
      if (it.key() == "docker" && it->is_object()) {
        for (auto d = it->begin(); d != it->end(); ++d) {
          if (d.key() == "platform") img.docker_platform = string_or_int(*d);
          else if (d.key() == "user") img.docker_user = string_or_int(*d);
          else errors.push_back("Unsupported executor_opts key: docker." + d.key());
        }
      } else if (it.key() == "kubernetes" && it->is_object()) {
        for (auto k = it->begin(); k != it->end(); ++k) {
          if (k.key() == "user") img.kubernetes_user = string_or_int(*k);
          else errors.push_back("Unsupported executor_opts key: kubernetes." + k.key());
        }
      } else {
        errors.push_back("Unsupported executor_opts key: " + it.key());
      }
    }
  }
  return img;
}

StepWhen parse_when(const std::string& w) {
  if (w == "on_failure") return StepWhen::kOnFailure;
  if (w == "always") return StepWhen::kAlways;
  return StepWhen::kOnSuccess;
}

json info_json(const RunnerInfoPayload& info) {
  json j;
  j["name"] = "gitlab-runner";
  j["version"] = compat_version();
  j["revision"] = revision();
  j["platform"] = platform();
  j["architecture"] = architecture();
  if (!info.executor.empty()) j["executor"] = info.executor;
  if (!info.shell.empty()) j["shell"] = info.shell;
  json features = json::object();
  for (const auto& [k, v] : info.features) features[k] = v;
  j["features"] = features;
  j["config"] = json{{"gpus", ""}};
  if (!info.labels.empty()) j["labels"] = info.labels;
  return j;
}

}  // namespace

Result<ParsedJob> parse_job_payload(std::string_view text) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return fail(ErrorKind::kInvalidInput, "job payload: invalid JSON");
  if (!root.is_object()) return fail(ErrorKind::kInvalidInput, "job payload: expected an object");
  ParsedJob parsed;
  Reader r(&parsed.payload_errors);
  JobSpec& job = parsed.job;
  try {
    job.id = r.num(root, "id", "");
    job.token = Secret{r.str(root, "token", "")};
    job.allow_git_fetch = r.boolean(root, "allow_git_fetch", "");
    if (const json* ji = r.object(root, "job_info", "")) {
      const std::string p = "job_info.";
      job.job_info.id = r.num(*ji, "id", p);
      job.job_info.name = r.str(*ji, "name", p);
      job.job_info.stage = r.str(*ji, "stage", p);
      job.job_info.project_id = r.num(*ji, "project_id", p);
      job.job_info.project_name = r.str(*ji, "project_name", p);
      job.job_info.project_full_path = r.str(*ji, "project_full_path", p);
      job.job_info.pipeline_id = r.num(*ji, "pipeline_id", p);
      job.job_info.user_id = r.num(*ji, "user_id", p);
      job.job_info.time_in_queue_seconds = r.real(*ji, "time_in_queue_seconds", p);
      job.job_info.project_jobs_running_on_instance_runners_count =
          r.str(*ji, "project_jobs_running_on_instance_runners_count", p);
      job.job_info.queue_size = r.num(*ji, "queue_size", p);
      job.job_info.queue_depth = r.num(*ji, "queue_depth", p);
    }
    if (const json* gi = r.object(root, "git_info", "")) {
      const std::string p = "git_info.";
      job.git_info.repo_url = r.str(*gi, "repo_url", p);
      job.git_info.repo_object_format = r.str(*gi, "repo_object_format", p);
      job.git_info.ref = r.str(*gi, "ref", p);
      job.git_info.sha = r.str(*gi, "sha", p);
      job.git_info.before_sha = r.str(*gi, "before_sha", p);
      job.git_info.ref_type = r.str(*gi, "ref_type", p);
      job.git_info.refspecs = r.strings(*gi, "refspecs", p);
      job.git_info.depth = static_cast<int>(r.num(*gi, "depth", p));
      auto prot = gi->find("protected");
      if (prot != gi->end() && prot->is_boolean()) job.git_info.is_protected = prot->get<bool>();
    }
    if (const json* ri = r.object(root, "runner_info", "")) {
      job.runner_info.timeout = r.num(*ri, "timeout", "runner_info.");
      job.runner_info.uuid = r.str(*ri, "uuid", "runner_info.");
    }
    job.variables = read_variables(r, r.array(root, "variables", ""), "variables");
    bool script_steps = false;
    if (const json* steps = r.array(root, "steps", "")) {
      for (size_t i = 0; i < steps->size(); ++i) {
        const json& s = (*steps)[i];
        std::string p = "steps[" + std::to_string(i) + "].";
        Step step;
        step.name = r.str(s, "name", p);
        step.script = r.strings(s, "script", p);
        step.timeout = r.num(s, "timeout", p);
        step.when = parse_when(r.str(s, "when", p));
        step.allow_failure = r.boolean(s, "allow_failure", p);
        if (step.name == "script") script_steps = true;
        job.steps.push_back(std::move(step));
      }
    }
    if (const json* hooks = r.array(root, "hooks", "")) {
      for (size_t i = 0; i < hooks->size(); ++i) {
        std::string p = "hooks[" + std::to_string(i) + "].";
        job.hooks.push_back(Hook{r.str((*hooks)[i], "name", p), r.strings((*hooks)[i], "script", p)});
      }
    }
    if (const json* img = r.object(root, "image", "")) {
      Image image = read_image(r, *img, "image.", parsed.payload_errors);
      if (!image.name.empty() || !image.entrypoint.empty()) job.image = std::move(image);
    }
    if (const json* services = r.array(root, "services", "")) {
      for (size_t i = 0; i < services->size(); ++i)
        job.services.push_back(read_image(r, (*services)[i], "services[" + std::to_string(i) + "].",
                                          parsed.payload_errors));
    }
    if (const json* arts = r.array(root, "artifacts", "")) {
      for (size_t i = 0; i < arts->size(); ++i) {
        const json& a = (*arts)[i];
        std::string p = "artifacts[" + std::to_string(i) + "].";
        ArtifactSpec spec;
        spec.name = r.str(a, "name", p);
        spec.untracked = r.boolean(a, "untracked", p);
        spec.paths = r.strings(a, "paths", p);
        spec.exclude = r.strings(a, "exclude", p);
        spec.when = r.str(a, "when", p);
        spec.expire_in = r.str(a, "expire_in", p);
        spec.artifact_type = r.str(a, "artifact_type", p);
        spec.artifact_format = r.str(a, "artifact_format", p);
        job.artifacts.push_back(std::move(spec));
      }
    }
    if (const json* caches = r.array(root, "cache", "")) {
      for (size_t i = 0; i < caches->size(); ++i) {
        const json& c = (*caches)[i];
        std::string p = "cache[" + std::to_string(i) + "].";
        CacheSpec spec;
        spec.key = r.str(c, "key", p);
        spec.untracked = r.boolean(c, "untracked", p);
        spec.policy = r.str(c, "policy", p);
        spec.paths = r.strings(c, "paths", p);
        spec.when = r.str(c, "when", p);
        spec.fallback_keys = r.strings(c, "fallback_keys", p);
        job.caches.push_back(std::move(spec));
      }
    }
    if (const json* creds = r.array(root, "credentials", "")) {
      for (size_t i = 0; i < creds->size(); ++i) {
        std::string p = "credentials[" + std::to_string(i) + "].";
        const json& c = (*creds)[i];
        job.credentials.push_back(Credential{r.str(c, "type", p), r.str(c, "url", p),
                                             r.str(c, "username", p),
                                             Secret{r.str(c, "password", p)}});
      }
    }
    if (const json* deps = r.array(root, "dependencies", "")) {
      for (size_t i = 0; i < deps->size(); ++i) {
        std::string p = "dependencies[" + std::to_string(i) + "].";
        const json& d = (*deps)[i];
        Dependency dep;
        dep.id = r.num(d, "id", p);
        dep.name = r.str(d, "name", p);
        dep.token = Secret{r.str(d, "token", p)};
        if (const json* f = r.object(d, "artifacts_file", p)) {
          dep.artifacts_filename = r.str(*f, "filename", p + "artifacts_file.");
          dep.artifacts_size = r.num(*f, "size", p + "artifacts_file.");
        }
        job.dependencies.push_back(std::move(dep));
      }
    }
    if (const json* f = r.object(root, "features", "")) {
      job.features.trace_sections = r.boolean(*f, "trace_sections", "features.");
      job.features.failure_reasons = r.strings(*f, "failure_reasons", "features.");
      job.features.token_mask_prefixes = r.strings(*f, "token_mask_prefixes", "features.");
    }
    auto secrets = root.find("secrets");
    job.has_secrets = secrets != root.end() && secrets->is_object() && !secrets->empty();
    auto run = root.find("run");
    job.has_run_steps = run != root.end() && run->is_string() && !run->get<std::string>().empty();
    // §2.3 step 2: native steps cannot be combined with script steps or with a
    // user-defined STEPS variable (which would carry a second step definition).
    if (job.has_run_steps && script_steps)
      parsed.payload_errors.push_back("the job uses both `run` and `script` steps");
    if (job.has_run_steps &&
        std::any_of(job.variables.begin(), job.variables.end(),
                    [](const Variable& v) { return v.key == "STEPS"; }))
      parsed.payload_errors.push_back("the `run` keyword cannot be used with a `STEPS` variable");
  } catch (const std::exception& e) {
    return fail(ErrorKind::kInvalidInput, std::string("job payload: ") + e.what());
  }
  if (!r.ok()) return fail(ErrorKind::kInvalidInput, r.first_error());
  return parsed;
}

std::string job_request_body(const RunnerCredentials& runner, const RunnerInfoPayload& info,
                             const std::string& last_update) {
  json j;
  j["info"] = info_json(info);
  if (!runner.token.value.empty()) j["token"] = runner.token.value;
  if (!runner.system_id.empty()) j["system_id"] = runner.system_id;
  if (!last_update.empty()) j["last_update"] = last_update;
  return j.dump();
}

std::string update_job_body(const RunnerInfoPayload& info, const UpdateJobRequest& request) {
  json j;
  j["info"] = info_json(info);
  j["token"] = request.job_token.value;
  if (!request.state.empty()) j["state"] = request.state;
  if (!request.failure_reason.empty()) j["failure_reason"] = request.failure_reason;
  json output = json::object();
  if (request.output) {
    if (!request.output->checksum.empty()) {
      j["checksum"] = request.output->checksum;
      output["checksum"] = request.output->checksum;
    }
    if (request.output->bytesize != 0) output["bytesize"] = request.output->bytesize;
  }
  j["output"] = output;
  if (request.exit_code != 0) j["exit_code"] = request.exit_code;
  return j.dump();
}

std::string api_error_message(std::string_view body) {
  json root = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) return {};
  auto it = root.find("message");
  if (it == root.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_object()) return {};
  std::string out;
  for (auto field = it->begin(); field != it->end(); ++field) {
    if (!out.empty()) out += ", ";
    out += field.key() + ": ";
    if (field->is_array()) {
      bool first = true;
      for (const json& e : *field) {
        if (!first) out += "; ";
        first = false;
        out += e.is_string() ? e.get<std::string>() : e.dump();
      }
    } else {
      out += field->is_string() ? field->get<std::string>() : field->dump();
    }
  }
  return out;
}

std::map<std::string, bool> shell_executor_features() {
  // Declare only what is implemented: the server refuses jobs needing a feature
  // we lack rather than letting them fail here (§2.6).
  return {
      {"variables", true},           {"image", false},
      {"services", false},           {"artifacts", true},
      {"cache", true},              {"fallback_cache_keys", true},
      {"shared", true},              {"upload_multiple_artifacts", true},
      {"upload_raw_artifacts", true}, {"session", false},
      {"terminal", false},           {"refspecs", true},
      {"masking", true},             {"proxy", false},
      {"raw_variables", true},       {"artifacts_exclude", true},
      {"multi_build_steps", true},   {"trace_reset", true},
      {"trace_checksum", true},      {"trace_size", true},
      {"vault_secrets", false},      {"cancelable", true},
      {"return_exit_code", true},    {"service_variables", false},
      {"service_multiple_aliases", false}, {"image_executor_opts", false},
      {"service_executor_opts", false}, {"cancel_gracefully", true},
      {"native_steps_integration", false}, {"two_phase_job_commit", true},
      {"job_inputs", false},
  };
}

}  // namespace glr
