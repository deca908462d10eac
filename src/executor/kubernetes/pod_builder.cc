// Builds the job pod (executors §7.4 "Pod"): the attach strategy adds the scripts/logs volumes
// and the init-permissions container; the legacy exec strategy has neither.
#include "executor/kubernetes/pod_builder.h"

#include "script/job_variables.h"
#include "util/duration.h"
#include "util/strings.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>
#include <set>

namespace glr::kube {
namespace {

using nlohmann::json;

const Variable* var(const Variables& vars, const std::string& key) {
  return find_variable(vars, key);
}
std::string var_value(const Variables& vars, const std::string& key) {
  const Variable* v = var(vars, key);
  return v == nullptr ? "" : v->value;
}

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.front() != '-' && s.back() != '-';
}

// dns.MakeRFC1123Compatible: lowercase, other characters -> '-', at most 63, trimmed.
std::string rfc1123(std::string_view s, size_t max_len = 63) {
  std::string out;
  for (char c : s) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '-' || l == '.') ? l : '-';
  }
  if (out.size() > max_len) out.resize(max_len);
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  while (!out.empty() && (out.front() == '-' || out.front() == '.')) out.erase(0, 1);
  return out;
}

// overwrites.go evaluateOverwrite: an empty regex disables the overwrite; a value that does
// not match (unanchored, like Go's MatchString) refuses the job.
Result<std::string> overwrite(const std::string& field, const std::string& value,
                              const std::string& regex, const std::string& wanted,
                              std::vector<std::string>& messages) {
  if (regex.empty() || wanted.empty()) return value;
  try {
    if (!std::regex_search(wanted, std::regex(regex))) {
      return fail(ErrorKind::kInvalidInput,
                  field + " overwrite not allowed: provided value \"" + wanted +
                      "\" does not match \"" + regex + "\"");
    }
  } catch (const std::regex_error& e) {
    return fail(ErrorKind::kInvalidInput,
                field + " overwrite: invalid regex \"" + regex + "\": " + e.what());
  }
  messages.push_back("\"" + field + "\" overwritten with \"" + wanted + "\"");
  return wanted;
}

// overwrites.go evaluateMapOverwrite: every variable named <prefix>* must match `regex` as a
// whole "key=value" string (unanchored) and then sets that key; an empty regex ignores them.
Result<std::map<std::string, std::string>> map_overwrite(
    const std::string& field, std::map<std::string, std::string> values, const std::string& regex,
    const Variables& vars, const std::string& prefix, std::vector<std::string>& messages) {
  if (regex.empty()) return values;
  for (const Variable& v : vars) {
    if (!v.key.starts_with(prefix)) continue;
    try {
      if (!std::regex_search(v.value, std::regex(regex))) {
        return fail(ErrorKind::kInvalidInput, v.key + ": provided value \"" + v.value +
                                                  "\" does not match \"" + regex + "\"");
      }
    } catch (const std::regex_error& e) {
      return fail(ErrorKind::kInvalidInput,
                  field + " overwrite: invalid regex \"" + regex + "\": " + e.what());
    }
    size_t eq = v.value.find('=');
    if (eq == std::string::npos) {
      return fail(ErrorKind::kInvalidInput,
                  v.key + ": provided value \"" + v.value + "\" does not match \"k=v\"");
    }
    std::string key = v.value.substr(0, eq);
    values[key] = v.value.substr(eq + 1);
    messages.push_back("\"" + field + "\" \"" + key + "\" overwritten with \"" + values[key] + "\"");
  }
  return values;
}

// overwrites.go evaluateMaxResourceOverwrite.
Result<std::string> resource_overwrite(const std::string& name, const std::string& value,
                                       const std::string& max, const std::string& wanted) {
  if (max.empty() || wanted.empty()) return value;
  std::optional<double> m = parse_quantity(max);
  std::optional<double> w = parse_quantity(wanted);
  if (!m) return fail(ErrorKind::kInvalidInput, "invalid " + name + " maximum \"" + max + "\"");
  if (!w) return fail(ErrorKind::kInvalidInput, "invalid " + name + " overwrite \"" + wanted + "\"");
  if (*w > *m) {
    return fail(ErrorKind::kInvalidInput, "the resource \"" + name + "\" requested by the build \"" +
                                              wanted + "\" does not match or is less than limit allowed \"" +
                                              max + "\"");
  }
  return wanted;
}

// requests/limits of one container kind; `prefix` is "", "HELPER_" or "SERVICE_".
Result<json> resources(const KubeResources& r, const Variables& vars, const std::string& prefix) {
  struct Item {
    const char* section;
    const char* resource;
    const char* var;
    const std::string* value;
    const std::string* max;
  };
  const Item items[] = {
      {"limits", "cpu", "CPU_LIMIT", &r.cpu_limit, &r.cpu_limit_overwrite_max_allowed},
      {"limits", "memory", "MEMORY_LIMIT", &r.memory_limit, &r.memory_limit_overwrite_max_allowed},
      {"limits", "ephemeral-storage", "EPHEMERAL_STORAGE_LIMIT", &r.ephemeral_storage_limit,
       &r.ephemeral_storage_limit_overwrite_max_allowed},
      {"requests", "cpu", "CPU_REQUEST", &r.cpu_request, &r.cpu_request_overwrite_max_allowed},
      {"requests", "memory", "MEMORY_REQUEST", &r.memory_request,
       &r.memory_request_overwrite_max_allowed},
      {"requests", "ephemeral-storage", "EPHEMERAL_STORAGE_REQUEST", &r.ephemeral_storage_request,
       &r.ephemeral_storage_request_overwrite_max_allowed},
  };
  json out = json::object();
  for (const Item& item : items) {
    std::string key = "KUBERNETES_" + prefix + item.var;
    Result<std::string> v = resource_overwrite(key, *item.value, *item.max, var_value(vars, key));
    if (!v) return fail(v.error());
    if (v->empty()) continue;
    if (!parse_quantity(*v)) {
      return fail(ErrorKind::kInvalidInput, "invalid quantity \"" + *v + "\" for " + key);
    }
    out[item.section][item.resource] = *v;
  }
  return out;
}

std::string pull_policy_name(const std::string& p) {
  if (p == "always") return "Always";
  if (p == "never") return "Never";
  return "IfNotPresent";
}


// The .dockercfg body (registry -> {username, password, auth}) from DOCKER_AUTH_CONFIG's
// "auths" and the payload's registry credentials (payload wins, as the official merges them).
json docker_cfg(const JobSpec& job, const Variables& vars) {
  json cfg = json::object();
  std::string auth_config = var_value(vars, "DOCKER_AUTH_CONFIG");
  if (!auth_config.empty()) {
    json parsed = json::parse(auth_config, nullptr, false);
    if (parsed.is_object() && parsed.contains("auths") && parsed["auths"].is_object()) {
      for (const auto& [registry, entry] : parsed["auths"].items()) {
        if (!entry.is_object()) continue;
        cfg[registry] = entry;
      }
    }
  }
  for (const Credential& c : job.credentials) {
    if (c.type != "registry" || c.url.empty()) continue;
    cfg[c.url] = json{{"username", c.username},
                      {"password", c.password.value},
                      {"auth", base64_encode(c.username + ":" + c.password.value)}};
  }
  return cfg;
}

json env_of(const Variables& vars, const Variables* extra) {
  json env = json::array();
  std::set<std::string> seen;
  std::vector<const Variable*> picked;
  auto add = [&](const Variables& list, bool all) {
    for (const Variable& v : list) {
      if (!all && !v.is_public && !v.internal) continue;
      if (v.is_file) continue;
      picked.push_back(&v);
    }
  };
  add(vars, false);
  if (extra != nullptr) add(*extra, true);
  // Last definition wins; keep the first position of each name.
  std::map<std::string, std::string> last;
  for (const Variable* v : picked) last[v->key] = v->value;
  for (const Variable* v : picked) {
    if (!seen.insert(v->key).second) continue;
    env.push_back(json{{"name", v->key}, {"value", last[v->key]}});
  }
  return env;
}

json security_context(const KubernetesSettings& c) {
  json sc = json::object();
  if (c.privileged) sc["privileged"] = *c.privileged;
  if (c.allow_privilege_escalation) sc["allowPrivilegeEscalation"] = *c.allow_privilege_escalation;
  // NET_RAW is dropped by default on Linux (executors §7.4 cap_drop).
  sc["capabilities"] = json{{"drop", json::array({"NET_RAW"})}};
  return sc;
}

}  // namespace

std::string detect_shell_script() {
  static const char* kShells[] = {"/usr/local/bin/bash", "/usr/bin/bash", "/bin/bash",
                                  "/usr/local/bin/sh",   "/usr/bin/sh",   "/bin/sh",
                                  "/busybox/sh"};
  std::string s;
  bool first = true;
  for (const char* shell : kShells) {
    s += std::string(first ? "if" : "elif") + " [ -x " + shell + " ]; then\n\texec " + shell +
         " \"$@\"\n";
    first = false;
  }
  s += "else\n\techo shell not found\n\texit 1\nfi\n";
  return s;
}

std::string scripts_dir(const JobSpec& job) {
  return "/scripts-" + std::to_string(job.job_info.project_id) + "-" + std::to_string(job.id);
}
std::string logs_dir(const JobSpec& job) {
  return "/logs-" + std::to_string(job.job_info.project_id) + "-" + std::to_string(job.id);
}
std::string log_file(const JobSpec& job) { return logs_dir(job) + "/output.log"; }

std::string sanitize_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    out += ok ? c : '_';
  }
  if (out.size() > 63) out.resize(63);
  auto trim = [](char c) { return c == '_' || c == '-' || c == '.'; };
  while (!out.empty() && trim(out.back())) out.pop_back();
  while (!out.empty() && trim(out.front())) out.erase(0, 1);
  return out;
}

std::optional<double> parse_quantity(std::string_view q) {
  if (q.empty()) return std::nullopt;
  size_t i = 0;
  while (i < q.size() && (std::isdigit(static_cast<unsigned char>(q[i])) || q[i] == '.' ||
                          (i == 0 && (q[i] == '+' || q[i] == '-')))) {
    ++i;
  }
  std::string number(q.substr(0, i));
  std::string suffix(q.substr(i));
  if (number.empty() || number == "." || number == "+" || number == "-") return std::nullopt;
  double n = 0;
  try {
    size_t used = 0;
    n = std::stod(number, &used);
    if (used != number.size()) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  static const std::map<std::string, double, std::less<>> kSuffixes = {
      {"", 1},           {"m", 1e-3},          {"k", 1e3},           {"M", 1e6},
      {"G", 1e9},        {"T", 1e12},          {"P", 1e15},          {"E", 1e18},
      {"Ki", 1024.0},    {"Mi", std::pow(1024.0, 2)}, {"Gi", std::pow(1024.0, 3)},
      {"Ti", std::pow(1024.0, 4)}, {"Pi", std::pow(1024.0, 5)}, {"Ei", std::pow(1024.0, 6)},
  };
  auto it = kSuffixes.find(suffix);
  if (it != kSuffixes.end()) return n * it->second;
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    try {
      size_t used = 0;
      int exp = std::stoi(suffix.substr(1), &used);
      if (used == suffix.size() - 1) return n * std::pow(10.0, exp);
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

std::vector<std::string> service_hostnames(const Image& service) {
  std::vector<std::string> out;
  auto add = [&](std::string name) {
    if (is_dns1123_label(name) && std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(std::move(name));
    }
  };
  // `alias` may hold several aliases separated by commas or spaces.
  std::string current;
  for (char c : service.alias + ",") {
    if (c == ',' || c == ' ') {
      if (!current.empty()) add(current);
      current.clear();
    } else {
      current += c;
    }
  }
  std::string name = service.name;
  // Strip the tag or digest, keeping a registry port ("host:5000/img:tag").
  if (size_t at = name.find('@'); at != std::string::npos) name.resize(at);
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) name.resize(colon);
  std::string dashed = name, underscored;
  std::replace(dashed.begin(), dashed.end(), '/', '-');
  for (char c : name) underscored += c == '/' ? std::string("__") : std::string(1, c);
  add(dashed);
  add(underscored);
  return out;
}

Result<PodPlan> build_pod(const PodInput& in) {
  const KubernetesSettings& c = in.config;
  const Variables& vars = in.variables;
  PodPlan plan;

  std::string ns = c.namespace_name;
  if (ns.empty()) {
    plan.messages.push_back("Namespace is empty, therefore assuming 'default'.");
    ns = "default";
  }
  Result<std::string> ns_over = overwrite("Namespace", ns, c.namespace_overwrite_allowed,
                                          var_value(vars, "KUBERNETES_NAMESPACE_OVERWRITE"),
                                          plan.messages);
  if (!ns_over) return fail(ns_over.error());
  plan.ns = *ns_over;
  plan.messages.push_back("Using Kubernetes namespace: " + plan.ns);

  Result<std::string> sa =
      overwrite("ServiceAccount", c.service_account, c.service_account_overwrite_allowed,
                var_value(vars, "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE"), plan.messages);
  if (!sa) return fail(sa.error());

  std::string image = in.job.image && !in.job.image->name.empty() ? in.job.image->name : c.image;
  if (image.empty()) {
    return fail(ErrorKind::kInvalidInput,
                "no image specified: set `image` in the job or [runners.kubernetes] image");
  }

  // Build.ProjectUniqueName, then "-<8 random>" within the 63 characters of a name.
  std::string unique = rfc1123("runner-" + in.short_token + "-project-" +
                               std::to_string(in.job.job_info.project_id) + "-concurrent-" +
                               std::to_string(in.concurrent_project_id));
  std::string prefix = rfc1123(unique, 63 - 1 - in.random_suffix.size());
  plan.name = prefix + "-" + in.random_suffix;

  Result<std::map<std::string, std::string>> pod_labels =
      map_overwrite("PodLabels", c.pod_labels, c.pod_labels_overwrite_allowed, vars,
                    "KUBERNETES_POD_LABELS_", plan.messages);
  if (!pod_labels) return fail(pod_labels.error());
  Result<std::map<std::string, std::string>> pod_annotations =
      map_overwrite("PodAnnotations", c.pod_annotations, c.pod_annotations_overwrite_allowed,
                    vars, "KUBERNETES_POD_ANNOTATIONS_", plan.messages);
  if (!pod_annotations) return fail(pod_annotations.error());
  Result<std::map<std::string, std::string>> node_selector =
      map_overwrite("NodeSelector", c.node_selector, c.node_selector_overwrite_allowed, vars,
                    "KUBERNETES_NODE_SELECTOR_", plan.messages);
  if (!node_selector) return fail(node_selector.error());

  // Labels: configured first (values expanded), the runner's own win (users cannot set keys in
  // the runner.gitlab.com namespace).
  json labels = json::object();
  for (const auto& [k, v] : *pod_labels) {
    if (k.find("runner.gitlab.com/") != std::string::npos) continue;
    labels[k] = sanitize_label(expand(v, vars, ""));
  }
  std::string full_path = in.job.job_info.project_full_path;
  std::string project_ns = var_value(vars, "CI_PROJECT_NAMESPACE");
  if (project_ns.empty() && full_path.find('/') != std::string::npos) {
    project_ns = full_path.substr(0, full_path.rfind('/'));
  }
  std::string root_ns = var_value(vars, "CI_PROJECT_ROOT_NAMESPACE");
  if (root_ns.empty()) root_ns = project_ns.substr(0, project_ns.find('/'));
  labels["pod"] = sanitize_label(unique);
  labels["project.runner.gitlab.com/id"] = std::to_string(in.job.job_info.project_id);
  labels["project.runner.gitlab.com/namespace-id"] =
      sanitize_label(var_value(vars, "CI_PROJECT_NAMESPACE_ID"));
  labels["project.runner.gitlab.com/name"] = sanitize_label(in.job.job_info.project_name);
  labels["project.runner.gitlab.com/namespace"] = sanitize_label(project_ns);
  labels["project.runner.gitlab.com/root-namespace"] = sanitize_label(root_ns);
  labels[kJobPodLabel] = sanitize_label(unique);
  labels["manager.runner.gitlab.com/name"] = sanitize_label(in.runner_name);
  labels[kManagerIdLabel] = sanitize_label(in.short_token);

  json annotations = json::object();
  for (const auto& [k, v] : *pod_annotations) annotations[k] = expand(v, vars, "");
  int64_t timeout = in.job.runner_info.timeout > 0 ? in.job.runner_info.timeout : 7200;
  annotations["job.runner.gitlab.com/id"] = std::to_string(in.job.id);
  annotations["job.runner.gitlab.com/url"] = var_value(vars, "CI_JOB_URL");
  annotations["job.runner.gitlab.com/sha"] = in.job.git_info.sha;
  annotations["job.runner.gitlab.com/before_sha"] = in.job.git_info.before_sha;
  annotations["job.runner.gitlab.com/ref"] = in.job.git_info.ref;
  annotations["job.runner.gitlab.com/name"] = in.job.job_info.name;
  annotations["job.runner.gitlab.com/timeout"] = std::to_string(timeout) + "s";
  annotations["project.runner.gitlab.com/id"] = std::to_string(in.job.job_info.project_id);

  // Volumes: configured ones, then `repo` at the builds root unless one is mounted there.
  json volumes = json::array();
  json mounts = json::array();
  bool builds_covered = false;
  for (const KubeVolume& v : c.volumes) {
    json vol{{"name", v.name}};
    if (v.kind == "host_path") {
      vol["hostPath"] = json{{"path", v.host_path.empty() ? v.mount_path : v.host_path}};
    } else if (v.kind == "pvc") {
      vol["persistentVolumeClaim"] = json{{"claimName", v.claim_name.empty() ? v.name : v.claim_name}};
    } else if (v.kind == "config_map" || v.kind == "secret") {
      json src = v.kind == "secret" ? json{{"secretName", v.name}} : json{{"name", v.name}};
      if (!v.items.empty()) {
        src["items"] = json::array();
        for (const auto& [key, path] : v.items) src["items"].push_back(json{{"key", key}, {"path", path}});
      }
      vol[v.kind == "secret" ? "secret" : "configMap"] = src;
    } else {
      json ed = json::object();
      if (!v.medium.empty()) ed["medium"] = v.medium;
      if (!v.size_limit.empty()) ed["sizeLimit"] = v.size_limit;
      vol["emptyDir"] = ed;
    }
    volumes.push_back(vol);
    json m{{"name", v.name}, {"mountPath", v.mount_path}};
    if (!v.sub_path.empty()) m["subPath"] = v.sub_path;
    if (v.read_only) m["readOnly"] = true;
    mounts.push_back(m);
    if (v.mount_path == in.builds_dir) builds_covered = true;
  }
  if (!builds_covered) {
    volumes.push_back(json{{"name", "repo"}, {"emptyDir", json::object()}});
    mounts.push_back(json{{"name", "repo"}, {"mountPath", in.builds_dir}});
  }
  if (in.attach) {
    // The official getVolumes order: repo, then scripts and logs.
    for (const auto& [name, dir] : {std::pair{"scripts", scripts_dir(in.job)},
                                    std::pair{"logs", logs_dir(in.job)}}) {
      volumes.push_back(json{{"name", name}, {"emptyDir", json::object()}});
      mounts.push_back(json{{"name", name}, {"mountPath", dir}});
    }
  }

  std::string pull = c.pull_policy.empty() ? "" : pull_policy_name(c.pull_policy.front());
  auto container = [&](const std::string& name, const std::string& img) {
    json ct{{"name", name}, {"image", img}};
    if (!pull.empty()) ct["imagePullPolicy"] = pull;
    return ct;
  };

  Result<json> build_res = resources(c.build, vars, "");
  if (!build_res) return fail(build_res.error());
  Result<json> helper_res = resources(c.helper, vars, "HELPER_");
  if (!helper_res) return fail(helper_res.error());
  Result<json> service_res = resources(c.service, vars, "SERVICE_");
  if (!service_res) return fail(service_res.error());

  json containers = json::array();
  json build = container("build", image);
  // The image ENTRYPOINT is ignored: the detect script keeps a shell on stdin (§7.4).
  build["command"] = json::array({"sh", "-c", in.shell_command});
  build["env"] = env_of(vars, nullptr);
  build["stdin"] = true;
  build["resources"] = *build_res;
  build["securityContext"] = security_context(c);
  build["volumeMounts"] = mounts;
  if (in.job.image) {
    for (const ImagePort& p : in.job.image->ports) {
      json port{{"containerPort", p.number}};
      if (!p.protocol.empty()) port["protocol"] = p.protocol == "udp" ? "UDP" : "TCP";
      if (!p.name.empty()) port["name"] = p.name;
      build["ports"].push_back(port);
    }
  }
  containers.push_back(build);

  json helper = container("helper", in.helper_image);
  helper["command"] = json::array({"sh", "-c", in.shell_command});
  helper["stdin"] = true;
  helper["resources"] = *helper_res;
  helper["securityContext"] = security_context(c);
  helper["volumeMounts"] = mounts;
  containers.push_back(helper);

  // Services share the pod's network namespace: every alias resolves to 127.0.0.1.
  std::vector<std::string> aliases;
  std::set<std::string> used_names = {"build", "helper"};
  for (size_t i = 0; i < in.job.services.size(); ++i) {
    const Image& s = in.job.services[i];
    std::vector<std::string> names = service_hostnames(s);
    std::string cname;
    for (const std::string& n : names) {
      if (used_names.count(n) == 0) {
        cname = n;
        break;
      }
    }
    if (cname.empty()) cname = "svc-" + std::to_string(i);
    used_names.insert(cname);
    for (const std::string& n : names) {
      if (std::find(aliases.begin(), aliases.end(), n) == aliases.end()) aliases.push_back(n);
    }
    json svc = container(cname, s.name);
    if (!s.entrypoint.empty()) svc["command"] = s.entrypoint;
    if (!s.command.empty()) svc["args"] = s.command;
    svc["env"] = env_of(vars, &s.variables);
    // KUBERNETES_SERVICE_* among the service's own variables win for that service.
    Variables service_vars = vars;
    service_vars.insert(service_vars.end(), s.variables.begin(), s.variables.end());
    Result<json> own_res = resources(c.service, service_vars, "SERVICE_");
    if (!own_res) return fail(own_res.error());
    svc["resources"] = *own_res;
    svc["securityContext"] = security_context(c);
    svc["volumeMounts"] = mounts;
    for (const ImagePort& p : s.ports) svc["ports"].push_back(json{{"containerPort", p.number}});
    containers.push_back(svc);
  }

  json spec{{"restartPolicy", "Never"}, {"containers", containers}, {"volumes", volumes}};
  if (in.attach) {
    // buildPermissionsInitContainer (linux): build and helper may run as different users, so
    // the shared log file is made world-writable before either starts; a chmod the volume
    // refuses is not an error.
    json init = container("init-permissions", in.helper_image);
    std::string log = log_file(in.job);
    init["command"] = json::array({"sh", "-c", "touch " + log + " && (chmod 777 " + log + " || exit 0)"});
    init["resources"] = *helper_res;
    init["securityContext"] = security_context(c);
    init["volumeMounts"] = mounts;
    spec["initContainers"] = json::array({init});
  }
  // FF_USE_POD_ACTIVE_DEADLINE_SECONDS (default on): the pod dies with the job timeout.
  std::optional<bool> deadline_ff = parse_go_bool(var_value(vars, "FF_USE_POD_ACTIVE_DEADLINE_SECONDS"));
  if (deadline_ff.value_or(true)) {
    spec["activeDeadlineSeconds"] = timeout + 1;
    plan.messages.push_back(
        "Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS, the Pod activeDeadlineSeconds will be set to "
        "the job timeout: " +
        format_go_duration(std::chrono::seconds(timeout)) + "...");
  }
  if (!sa->empty()) spec["serviceAccountName"] = *sa;
  if (c.pod_termination_grace_period_seconds) {
    spec["terminationGracePeriodSeconds"] = *c.pod_termination_grace_period_seconds;
  }
  if (!node_selector->empty()) spec["nodeSelector"] = *node_selector;
  std::vector<KubeToleration> tolerations = c.node_tolerations;
  if (!c.node_tolerations_overwrite_allowed.empty()) {
    // KUBERNETES_NODE_TOLERATIONS_*: "key[=value]:effect" (overwrites.go splitToleration).
    std::map<std::string, std::string> by_key;
    for (const KubeToleration& t : c.node_tolerations) {
      by_key[t.op == "Equal" ? t.key + "=" + t.value : t.key] = t.effect;
    }
    for (const Variable& v : vars) {
      if (!v.key.starts_with("KUBERNETES_NODE_TOLERATIONS_")) continue;
      try {
        if (!std::regex_search(v.value, std::regex(c.node_tolerations_overwrite_allowed))) {
          return fail(ErrorKind::kInvalidInput,
                      v.key + ": provided value \"" + v.value + "\" does not match \"" +
                          c.node_tolerations_overwrite_allowed + "\"");
        }
      } catch (const std::regex_error& e) {
        return fail(ErrorKind::kInvalidInput, std::string("NodeTolerations overwrite: invalid regex: ") + e.what());
      }
      size_t colon = v.value.find(':');
      std::string key_value = v.value.substr(0, colon);
      by_key[key_value] = colon == std::string::npos ? "" : v.value.substr(colon + 1);
      plan.messages.push_back("\"NodeTolerations\" \"" + key_value + "\" overwritten with \"" +
                              by_key[key_value] + "\"");
    }
    tolerations.clear();
    for (const auto& [key_value, effect] : by_key) {
      size_t eq = key_value.find('=');
      if (eq == std::string::npos) {
        tolerations.push_back(KubeToleration{.key = key_value, .op = "Exists", .effect = effect});
      } else {
        tolerations.push_back(KubeToleration{.key = key_value.substr(0, eq), .op = "Equal",
                                             .value = key_value.substr(eq + 1), .effect = effect});
      }
    }
  }
  if (!tolerations.empty()) {
    json tols = json::array();
    for (const KubeToleration& t : tolerations) {
      json tol{{"key", t.key}, {"operator", t.op}};
      if (!t.value.empty()) tol["value"] = t.value;
      if (!t.effect.empty()) tol["effect"] = t.effect;
      tols.push_back(tol);
    }
    spec["tolerations"] = tols;
  }
  if (!c.affinity_json.empty()) spec["affinity"] = json::parse(c.affinity_json, nullptr, false);
  if (!c.dns_policy.empty()) spec["dnsPolicy"] = c.dns_policy;
  json host_aliases = json::array();
  if (!aliases.empty()) host_aliases.push_back(json{{"ip", "127.0.0.1"}, {"hostnames", aliases}});
  for (const KubeHostAlias& h : c.host_aliases) {
    host_aliases.push_back(json{{"ip", h.ip}, {"hostnames", h.hostnames}});
  }
  if (!host_aliases.empty()) spec["hostAliases"] = host_aliases;

  json pull_secrets = json::array();
  for (const std::string& s : c.image_pull_secrets) pull_secrets.push_back(json{{"name", s}});
  json cfg = docker_cfg(in.job, vars);
  if (!cfg.empty()) {
    plan.secret = json{{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"type", "kubernetes.io/dockercfg"},
                       {"metadata", {{"name", plan.name}, {"namespace", plan.ns}, {"labels", labels}}},
                       {"data", {{".dockercfg", base64_encode(cfg.dump())}}}};
    pull_secrets.push_back(json{{"name", plan.name}});
  }
  if (!pull_secrets.empty()) spec["imagePullSecrets"] = pull_secrets;

  plan.pod = json{{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata",
                   {{"name", plan.name},
                    {"namespace", plan.ns},
                    {"labels", labels},
                    {"annotations", annotations}}},
                  {"spec", spec}};
  return plan;
}

}  // namespace glr::kube
