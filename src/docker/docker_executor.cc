// Docker executor: containers, networks and volumes through DockerClient; host stages
// through an inner ShellExecutor on a staging copy (executors §7.3, docs/docker.md).
#include "docker/docker_executor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "docker/docker_archive.h"
#include "trace/log_lines.h"
#include "util/log.h"
#include "util/short_token.h"
#include "util/strings.h"

namespace glr {
namespace {

using json = nlohmann::json;

constexpr const char* kStageScriptName = ".glrunner-stage.sh";

// The §7.1 detection list; the stage script is a file put through the archive API.
std::string detect_shell_command() {
  std::string s;
  const char* shells[] = {"/usr/local/bin/bash", "/usr/bin/bash", "/bin/bash",
                          "/usr/local/bin/sh",   "/usr/bin/sh",   "/bin/sh",
                          "/busybox/sh"};
  for (const char* sh : shells) {
    s += std::string(s.empty() ? "if" : "elif") + " [ -x " + sh + " ]; then exec " + sh + " /" +
         kStageScriptName + "\n";
  }
  s += "else echo shell not found; exit 1\nfi\n";
  return s;
}

std::string hex(const unsigned char* d, size_t n) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(k[d[i] >> 4]);
    out.push_back(k[d[i] & 15]);
  }
  return out;
}

std::string digest_hex(const char* algo, const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_get_digestbyname(algo), nullptr);
  return hex(md, len);
}

std::string random_hex16() {
  std::random_device rd;
  std::uniform_int_distribution<int> dist(0, 255);
  unsigned char b[8];
  for (unsigned char& c : b) c = static_cast<unsigned char>(dist(rd));
  return hex(b, 8);
}

// X-Registry-Auth takes URL-safe base64.
std::string base64_url(const std::string& s) {
  std::string out = base64_encode(s);
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string unbase64(const std::string& s) {
  std::string out(3 * s.size() / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return {};
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

std::string go_list(const std::vector<std::string>& v) { return "[" + join(v, " ") + "]"; }

// "registry:5000/grp/img:tag" -> {repository, tag}; digests stay in the repository part.
std::pair<std::string, std::string> split_reference(const std::string& image) {
  if (image.find('@') != std::string::npos) return {image, ""};
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    return {image.substr(0, colon), image.substr(colon + 1)};
  return {image, "latest"};
}

std::string registry_of(const std::string& image) {
  size_t slash = image.find('/');
  if (slash == std::string::npos) return "docker.io";
  std::string first = image.substr(0, slash);
  if (first.find('.') == std::string::npos && first.find(':') == std::string::npos &&
      first != "localhost")
    return "docker.io";
  return first;
}

bool image_allowed(const std::string& image, const std::vector<std::string>& allowed) {
  if (allowed.empty()) return true;
  for (const std::string& pattern : allowed) {
    if (::fnmatch(pattern.c_str(), image.c_str(), 0) == 0) return true;
  }
  return false;
}

bool under(const std::string& path, const std::string& dir) {
  return !dir.empty() && (path == dir || starts_with(path, dir + "/"));
}

std::string json_error(const DockerResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  return "HTTP " + std::to_string(r.status);
}

bool tcp_port_open(const std::string& ip, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) == 1) {
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    if (rc == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 1000) == 1) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        ok = err == 0;
      }
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

ErrorKind pull_error_kind(long status, const std::string& text) {
  std::string t = to_lower(text);
  auto has = [&t](const char* word) { return t.find(word) != std::string::npos; };
  if (status == 404 || has("not found") || has("manifest unknown") || has("does not exist"))
    return ErrorKind::kNotFound;
  if (status == 401 || status == 403 || has("unauthorized") || has("denied") ||
      has("authentication required"))
    return ErrorKind::kUnauthorized;
  return ErrorKind::kExternalDependency;
}

std::string docker_clean_name(const std::string& name) {
  std::string out;
  for (char c : to_lower(name)) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') out.push_back(c);
  }
  size_t first = 0;
  while (first < out.size() && out[first] == '-') ++first;
  out = out.substr(first);
  if (out.size() > 63) out.resize(63);
  return out;
}

std::vector<std::string> docker_service_aliases(const std::string& image, const std::string& alias) {
  std::string path = image;
  size_t at = path.find('@');
  if (at != std::string::npos) path.resize(at);
  size_t slash = path.rfind('/');
  size_t colon = path.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) path.resize(colon);
  // A registry port goes too: "registry.example.com:5000/grp/db" -> "registry.example.com/grp/db".
  size_t first_slash = path.find('/');
  size_t port = path.find(':');
  if (port != std::string::npos && first_slash != std::string::npos && port < first_slash)
    path.erase(port, first_slash - port);
  std::vector<std::string> out{replace_all(path, "/", "__")};
  std::string dashed = replace_all(path, "/", "-");
  if (dashed != out[0]) out.push_back(dashed);
  for (const std::string& a : split_fields(replace_all(alias, ",", " "))) out.push_back(a);
  return out;
}

DockerExecutor::DockerExecutor(DockerExecutorOptions options) : options_(std::move(options)) {
  traits_.name = "docker";
  traits_.shell = "bash";
  traits_.shared_builds_dir = false;
  traits_.disposable_environment = true;
  traits_.custom_build_dir_default = true;
  traits_.default_builds_dir = "/builds";
  traits_.default_cache_dir = "/cache";
  traits_.exit_error_prefix = "exit code";
}

DockerExecutor::~DockerExecutor() { cleanup(); }

std::string DockerExecutor::predefined_path(const std::string& path) const {
  if (path.empty() || path[0] != '/') return path;
  if (under(path, prepare_.cache_dir)) return (host_cache_ / path.substr(1)).string();
  if (options_.local_project) return path;
  return (staging_ / path.substr(1)).string();
}

std::string DockerExecutor::labels_json_fragment(const std::string& type) const {
  json labels = json::object();
  for (const auto& [k, v] : labels_) labels[k] = v;
  labels[std::string(kDockerLabelPrefix) + "type"] = type;
  if (type == "build" || type == "service") {
    for (const auto& [k, v] : options_.docker.container_labels) labels[k] = v;
  }
  return labels.dump();
}

Result<> DockerExecutor::prepare(const JobSpec& job, const PrepareOptions& options,
                                 TraceSink& trace) {
  if (options_.config_error) return fail(*options_.config_error);
  // A retried prepare starts from nothing: remove what the failed attempt created.
  if (!containers_.empty() || !job_volumes_.empty() || !network_.empty()) cleanup();
  job_ = &job;
  prepare_ = options;
  const DockerSettings& d = options_.docker;
  if (!client_) {
    client_ = std::make_unique<DockerClient>(options_.endpoint);
    if (Result<> c = client_->connect(); !c) {
      client_.reset();
      return c;
    }
  }
  if (client_->os_type() != "linux")
    return fail(ErrorKind::kInvalidInput, "unsupported Docker daemon OS type: " + client_->os_type());

  short_token_ = short_token(options_.runner_token);
  project_name_ = docker_clean_name("runner-" + short_token_ + "-project-" +
                                    std::to_string(job.job_info.project_id) + "-concurrent-" +
                                    std::to_string(options.concurrent_project_id));
  if (job_name_.empty()) job_name_ = project_name_ + "-" + random_hex16();
  std::string p = kDockerLabelPrefix;
  std::string job_url;
  if (const Variable* u = find_variable(job.variables, "CI_JOB_URL")) job_url = u->value;
  labels_ = std::map<std::string, std::string>{{p + "job.id", std::to_string(job.id)},
             {p + "job.url", job_url},
             {p + "job.sha", job.git_info.sha},
             {p + "job.before_sha", job.git_info.before_sha},
             {p + "job.ref", job.git_info.ref},
             {p + "job.timeout", std::to_string(job.runner_info.timeout) + "s"},
             {p + "project.id", std::to_string(job.job_info.project_id)},
             {p + "project.runner_id", std::to_string(options.concurrent_project_id)},
             {p + "pipeline.id", std::to_string(job.job_info.pipeline_id)},
             {p + "runner.id", short_token_},
             {p + "runner.local_id", options_.runner_id},
             {p + "runner.system_id", options_.system_id},
             {p + "managed", "true"}};

  // §7.3 step 4-5: the job image.
  std::string image = job.image ? job.image->name : std::string();
  if (image.empty()) {
    image = d.image;
    if (!image.empty()) info(trace, "Using default image");
  }
  if (image.empty()) return fail(ErrorKind::kInternal, "no Docker image specified to run the build in");
  if (!image_allowed(image, d.allowed_images)) {
    println(trace, "The \"" + image + "\" image is not present on list of allowed images:");
    for (const std::string& a : d.allowed_images) println(trace, "- " + a);
    println(trace, "Please check runner's allowed_images configuration: "
                   "https://docs.gitlab.com/runner/configuration/advanced-configuration/"
                   "#restricting-docker-images-and-services");
    return fail(ErrorKind::kInternal, "disallowed image");
  }
  image_ = image;
  if (job.image) job_policies_ = job.image->pull_policy;
  println(trace, "Using Docker executor with image " + image + " ...");

  // Step 6: network.
  bool per_build = options_.network_per_build;
  for (const Variable& v : job.variables) {
    if (v.key == "FF_NETWORK_PER_BUILD") per_build = parse_go_bool(v.value).value_or(per_build);
  }
  if (!d.network_mode.empty()) {
    network_mode_ = d.network_mode;
  } else if (per_build) {
    std::string name = docker_clean_name("runner-" + short_token_ + "-" +
                                         std::to_string(job.job_info.project_id) + "-" +
                                         std::to_string(options.concurrent_project_id) + "-" +
                                         std::to_string(job.id));
    json body = {{"Name", name}, {"CheckDuplicate", true}, {"Labels", json::parse(labels_json_fragment("network"))}};
    Result<DockerResponse> r = client_->request("POST", "/networks/create", body.dump());
    if (!r) return fail(r.error());
    if (r->status != 201 && r->status != 200)
      return fail(ErrorKind::kUnavailable, "create network " + name + ": " + json_error(*r));
    network_ = name;
    network_mode_ = name;
  }

  // Step 7: volumes. The builds root gets a per-job volume the sources are copied into.
  std::string builds_root = options.builds_dir.empty() ? traits_.default_builds_dir : options.builds_dir;
  std::string unique = "runner-" + digest_hex("SHA256", options_.runner_token + "-" + options_.system_id +
                                                             "-" + std::to_string(job.job_info.project_id) +
                                                             "-" + std::to_string(options.concurrent_project_id))
                                       .substr(0, 32);
  auto create_volume = [&](const std::string& name, bool per_job) -> Result<> {
    json body = {{"Name", name}, {"Labels", json::parse(labels_json_fragment("cache"))}};
    Result<DockerResponse> r = client_->request("POST", "/volumes/create", body.dump());
    if (!r) return fail(r.error());
    if (r->status != 201 && r->status != 200)
      return fail(ErrorKind::kUnavailable, "create volume " + name + ": " + json_error(*r));
    if (per_job) job_volumes_.push_back(name);
    return {};
  };
  {
    bool builds_covered = false;
    for (const std::string& v : d.volumes) {
      std::vector<std::string> parts = split(v, ':');
      if (parts.size() >= 2) {
        std::string dst = parts[1];
        if (!dst.empty() && dst[0] != '/') parts[1] = options.project_dir + "/" + dst;
        if (parts[1] == builds_root) builds_covered = true;
        binds_.push_back(join(parts, ":"));
        continue;
      }
      if (v.empty() || v[0] != '/')
        return fail(ErrorKind::kInvalidInput, "[runners.docker] volumes: invalid entry \"" + v + "\"");
      if (v == builds_root) builds_covered = true;
      std::string md5 = digest_hex("MD5", v);
      if (d.disable_cache) {
        std::string name = job_name_ + "-cache-" + md5;
        if (Result<> r = create_volume(name, true); !r) return r;
        binds_.push_back(name + ":" + v);
      } else if (!d.cache_dir.empty()) {
        binds_.push_back(d.cache_dir + "/" + unique + "/" + md5 + ":" + v);
      } else {
        std::string name = unique + "-cache-" + md5;
        if (Result<> r = create_volume(name, false); !r) return r;
        binds_.push_back(name + ":" + v);
      }
    }
    if (!builds_covered) {
      std::string name = job_name_ + "-cache-" + digest_hex("MD5", builds_root);
      if (Result<> r = create_volume(name, true); !r) return r;
      binds_.push_back(name + ":" + builds_root);
    }
  }

  // Host side of the predefined stages.
  std::error_code ec;
  staging_ = options_.working_dir / "docker-staging" / job_name_;
  host_cache_ = options_.working_dir / "docker-cache";
  std::filesystem::create_directories(staging_, ec);
  if (!options_.local_project) {
    std::filesystem::create_directories(predefined_path(options.builds_dir), ec);
  }
  if (ec) return fail(ErrorKind::kIo, "create staging dir " + staging_.string() + ": " + ec.message());
  ShellExecutorOptions host_options;
  host_options.working_dir = options_.working_dir;
  host_options.shell = "bash";
  host_options.base_env = options_.base_env;
  host_options.login_shell = !options_.local_project;
  host_options.reuse_shell = options_.local_project;
  host_options.kill_grace = std::chrono::seconds(10);
  host_ = std::make_unique<ShellExecutor>(std::move(host_options));
  host_dirty_ = options_.local_project;  // exec: the working tree goes into the container

  // Steps 8-11: services, then the build image.
  if (Result<> s = start_services(job, trace); !s) return s;
  wait_for_services(trace);
  if (options.stop.stop_requested()) return fail(ErrorKind::kCanceled, "canceled");
  Result<std::string> id = resolve_image(image_, job_policies_, trace);
  if (!id) return fail(id.error());
  image_id_ = *id;
  prepared_ = true;
  return {};
}

Result<std::string> DockerExecutor::resolve_image(const std::string& image,
                                                  const std::vector<std::string>& job_policies,
                                                  TraceSink& trace) {
  const DockerSettings& d = options_.docker;
  std::vector<std::string> policies = !job_policies.empty() ? job_policies : d.pull_policy;
  if (policies.empty()) policies = {"always"};
  if (!d.allowed_pull_policies.empty()) {
    std::vector<std::string> effective;
    for (const std::string& p : policies) {
      if (std::find(d.allowed_pull_policies.begin(), d.allowed_pull_policies.end(), p) !=
          d.allowed_pull_policies.end())
        effective.push_back(p);
    }
    if (effective.empty()) {
      return fail(ErrorKind::kInvalidInput,
                  "invalid pull policy for image \"" + image + "\": " + go_list(policies) +
                      ": pull_policy (" + go_list(policies) + ") defined in " +
                      (job_policies.empty() ? "Runner config" : "GitLab pipeline config") +
                      " is not one of the allowed_pull_policies (" + go_list(d.allowed_pull_policies) + ")");
    }
    policies = effective;
  }
  println(trace, "Using effective pull policy of " + go_list(policies) + " for container " + image);

  auto inspect = [&]() -> Result<json> {
    Result<DockerResponse> r = client_->request("GET", "/images/" + image + "/json");
    if (!r) return fail(r.error());
    if (r->status == 404) return fail(ErrorKind::kNotFound, "No such image: " + image);
    if (r->status != 200) return fail(ErrorKind::kUnavailable, "inspect image " + image + ": " + json_error(*r));
    return json::parse(r->body, nullptr, false);
  };
  auto found = [&](const json& j) -> std::string {
    std::string id = j.value("Id", std::string());
    std::string digest;
    if (j.contains("RepoDigests") && j["RepoDigests"].is_array() && !j["RepoDigests"].empty())
      digest = j["RepoDigests"][0].get<std::string>();
    println(trace, "Using docker image " + id + " for " + image +
                       (digest.empty() ? "" : " with digest " + digest) + " ...");
    return id;
  };

  Error last{ErrorKind::kNotFound, "no pull policy"};
  for (const std::string& policy : policies) {
    if (policy == "never" || policy == "if-not-present") {
      Result<json> j = inspect();
      if (j) {
        if (policy == "if-not-present")
          println(trace, "Using locally found image version due to \"if-not-present\" pull policy");
        return found(*j);
      }
      if (j.error().kind != ErrorKind::kNotFound) return fail(j.error());
      last = Error{ErrorKind::kNotFound,
                   "failed to pull image \"" + image + "\" with specified policies " +
                       go_list(policies) + ": Error response from daemon: No such image: " + image};
      if (policy == "never") continue;
    }
    // always / if-not-present without a local copy: pull.
    println(trace, "Pulling docker image " + image + " ...");
    auto [repo, tag] = split_reference(image);
    std::string path = "/images/create?fromImage=" + docker_url_escape(repo) +
                       (tag.empty() ? "" : "&tag=" + docker_url_escape(tag));
    std::string auth = registry_auth(image, trace);
    Result<DockerResponse> r = client_->request("POST", path, {}, "application/json", 3600,
                                                auth.empty() ? std::vector<std::string>{}
                                                             : std::vector<std::string>{"X-Registry-Auth: " + auth});
    std::string error_text;
    if (!r) {
      error_text = r.error().message;
    } else if (r->status != 200) {
      error_text = json_error(*r);
    } else {
      // The progress stream reports failures in-band: {"error": "..."}.
      for (const std::string& line : split(r->body, '\n')) {
        json j = json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("error") && j["error"].is_string()) error_text = j["error"];
      }
    }
    if (error_text.empty()) {
      Result<json> j = inspect();
      if (j) return found(*j);
      error_text = j.error().message;
    }
    last = Error{pull_error_kind(r ? r->status : 0, error_text),
                 "failed to pull image \"" + image + "\" with specified policies " +
                     go_list(policies) + ": " + error_text};
  }
  return fail(last);
}

std::string DockerExecutor::registry_auth(const std::string& image, TraceSink& trace) {
  RegistryAuth auth = docker_registry_auth(image, job_->variables, job_->credentials);
  if (!auth.source.empty()) println(trace, "Authenticating with credentials from " + auth.source);
  return auth.header;
}

RegistryAuth docker_registry_auth(const std::string& image, const Variables& variables,
                                  const std::vector<Credential>& credentials) {
  std::string registry = registry_of(image);
  auto encode = [&](const std::string& user, const std::string& password, const std::string& server) {
    json a = {{"username", user}, {"password", password}, {"serveraddress", server}};
    return base64_url(a.dump());
  };
  const Variable* config = find_variable(variables, "DOCKER_AUTH_CONFIG");
  json cfg = config != nullptr ? json::parse(config->value, nullptr, false) : json();
  if (cfg.is_object() && cfg.contains("auths") && cfg["auths"].is_object()) {
    for (const auto& [server, entry] : cfg["auths"].items()) {
      std::string host = server;
      if (starts_with(host, "https://")) host = host.substr(8);
      if (starts_with(host, "http://")) host = host.substr(7);
      host = host.substr(0, host.find('/'));
      bool docker_hub = registry == "docker.io" && (host == "index.docker.io" || host == "docker.io");
      if (host != registry && !docker_hub) continue;
      if (!entry.is_object() || !entry.contains("auth") || !entry["auth"].is_string()) continue;
      std::string pair = unbase64(entry["auth"].get<std::string>());
      size_t colon = pair.find(':');
      if (colon == std::string::npos) continue;
      return {encode(pair.substr(0, colon), pair.substr(colon + 1), server), "$DOCKER_AUTH_CONFIG"};
    }
  }
  for (const Credential& c : credentials) {
    if (c.type != "registry" || c.url != registry) continue;
    return {encode(c.username, c.password.value, c.url), "job payload (GitLab Registry)"};
  }
  return {};
}

Result<> DockerExecutor::start_services(const JobSpec& job, TraceSink& trace) {
  const DockerSettings& d = options_.docker;
  std::vector<Image> all;
  for (const DockerServiceConfig& s : d.services) {
    Image i{.name = s.name, .alias = s.alias, .entrypoint = s.entrypoint, .command = s.command};
    for (const std::string& e : s.environment) {
      size_t eq = e.find('=');
      if (eq != std::string::npos) i.variables.push_back(Variable{.key = e.substr(0, eq), .value = e.substr(eq + 1)});
    }
    all.push_back(std::move(i));
  }
  for (const Image& s : job.services) all.push_back(s);
  if (d.services_limit >= 0 && static_cast<int>(all.size()) > d.services_limit)
    return fail(ErrorKind::kInvalidInput, "docker services limit exceeded: " + std::to_string(all.size()) +
                                              " services, services_limit is " + std::to_string(d.services_limit));
  std::set<std::string> used_aliases;
  for (size_t index = 0; index < all.size(); ++index) {
    const Image& s = all[index];
    if (!image_allowed(s.name, d.allowed_services)) {
      println(trace, "The \"" + s.name + "\" image is not present on list of allowed services:");
      for (const std::string& a : d.allowed_services) println(trace, "- " + a);
      return fail(ErrorKind::kInternal, "disallowed image");
    }
    println(trace, "Starting service " + s.name + "...");
    Result<std::string> id = resolve_image(s.name, s.pull_policy, trace);
    if (!id) return fail(id.error());
    std::string path = docker_service_aliases(s.name, "")[0];
    std::string name = job_name_ + "-" + path + "-" + std::to_string(index);
    std::vector<std::string> aliases;
    for (const std::string& a : docker_service_aliases(s.name, s.alias)) {
      if (!used_aliases.insert(a).second) {
        warning(trace, "Service alias \"" + a + "\" is already used, skipping");
        continue;
      }
      aliases.push_back(a);
    }
    json env = json::array();
    for (const std::string& e : prepare_.job_env) env.push_back(e);
    for (const Variable& v : s.variables) env.push_back(v.key + "=" + v.value);
    json host_config = {{"NetworkMode", network_mode_.empty() ? "bridge" : network_mode_},
                        {"RestartPolicy", {{"Name", "no"}}},
                        {"Privileged", d.services_privileged.value_or(d.privileged)},
                        {"LogConfig", {{"Type", "json-file"}}}};
    if (!d.services_tmpfs.empty()) host_config["Tmpfs"] = d.services_tmpfs;
    json body = {{"Image", *id}, {"Env", env}, {"Labels", json::parse(labels_json_fragment("service"))},
                 {"HostConfig", host_config}};
    body["Labels"][std::string(kDockerLabelPrefix) + "service"] = path;
    if (!s.command.empty()) body["Cmd"] = s.command;
    if (!s.entrypoint.empty()) body["Entrypoint"] = s.entrypoint;
    if (!network_.empty())
      body["NetworkingConfig"] = {{"EndpointsConfig", {{network_, {{"Aliases", aliases}}}}}};
    (void)client_->request("DELETE", "/containers/" + docker_url_escape(name) + "?force=1&v=1");
    Result<DockerResponse> r =
        client_->request("POST", "/containers/create?name=" + docker_url_escape(name), body.dump());
    if (!r) return fail(r.error());
    if (r->status != 201) {
      return fail(r->status == 400 ? ErrorKind::kInvalidInput : ErrorKind::kUnavailable,
                  "create service container " + name + ": " + json_error(*r));
    }
    Service svc;
    svc.name = name;
    svc.id = json::parse(r->body, nullptr, false).value("Id", std::string());
    svc.image = s.name;
    svc.aliases = aliases;
    containers_.push_back(svc.id);
    Result<DockerResponse> started = client_->request("POST", "/containers/" + svc.id + "/start");
    if (!started) return fail(started.error());
    if (started->status != 204 && started->status != 304)
      return fail(ErrorKind::kUnavailable, "start service container " + name + ": " + json_error(*started));
    Result<DockerResponse> inspected = client_->request("GET", "/containers/" + svc.id + "/json");
    if (inspected && inspected->status == 200) {
      json j = json::parse(inspected->body, nullptr, false);
      const json& nets = j["NetworkSettings"]["Networks"];
      if (nets.is_object()) {
        for (const auto& [net, cfg] : nets.items()) {
          std::string ip = cfg.value("IPAddress", std::string());
          if (!ip.empty()) svc.ip = ip;
        }
      }
      const json& exposed = j["Config"]["ExposedPorts"];
      if (exposed.is_object()) {
        for (const auto& [port, _] : exposed.items()) {
          if (ends_with(port, "/tcp")) svc.ports.push_back(std::atoi(port.c_str()));
        }
      }
      std::sort(svc.ports.begin(), svc.ports.end());
      if (svc.ports.size() > 20) svc.ports.resize(20);
    }
    for (const Variable& v : s.variables) {
      if (v.key == "HEALTHCHECK_TCP_PORT") svc.ports = {std::atoi(v.value.c_str())};
    }
    // Emulated links on the default bridge: aliases become /etc/hosts entries.
    if (network_.empty() && !svc.ip.empty()) {
      for (const std::string& a : aliases) extra_hosts_.push_back(a + ":" + svc.ip);
      extra_hosts_.push_back(svc.id.substr(0, 12) + ":" + svc.ip);
    }
    services_.push_back(std::move(svc));
  }
  return {};
}

void DockerExecutor::wait_for_services(TraceSink& trace) {
  int timeout = options_.docker.wait_for_services_timeout;
  if (timeout <= 0 || services_.empty()) return;
  println(trace, "Waiting for services to be up and running (timeout " + std::to_string(timeout) +
                     " seconds)...");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  for (const Service& s : services_) {
    if (prepare_.stop.stop_requested()) return;
    std::string problem;
    if (s.ports.empty()) {
      problem = "service \"" + s.name + "\" has no exposed TCP ports";
    } else {
      // The health check dials every port until any one accepts (§7.3 step 10); it runs
      // from the runner host, which reaches container IPs on the daemon's machine.
      bool up = false;
      while (!up && std::chrono::steady_clock::now() < deadline && !prepare_.stop.stop_requested()) {
        for (int port : s.ports) {
          if (tcp_port_open(s.ip, port)) {
            up = true;
            break;
          }
        }
        if (!up) {
          Result<DockerResponse> r = client_->request("GET", "/containers/" + s.id + "/json");
          if (r && r->status == 200 &&
              !json::parse(r->body, nullptr, false)["State"].value("Running", false)) {
            break;  // exited: no point waiting for it
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
      }
      if (!up) {
        problem = "service \"" + s.name + "\" timeout";
      }
    }
    if (problem.empty()) continue;
    std::string logs;
    if (Result<std::string> l = client_->logs(s.id)) logs = *l;
    std::string block = "\n\x1b[0;33m*** WARNING:\x1b[0;m Service " + s.name +
                        " probably didn't start properly.\n\nHealth check error:\n" + problem +
                        "\n\nHealth check container logs:\n\n\nService container logs:\n" + logs +
                        "\n\n\x1b[0;33m*********\x1b[0;m\n\n";
    trace.write(StreamId{0, true}, block);  // stream 00, stderr (§7.3 step 10)
  }
}

Result<> DockerExecutor::ensure_build_container(TraceSink& trace) {
  if (!build_id_.empty()) return {};
  const DockerSettings& d = options_.docker;
  println(trace, "Using effective pull policy of " +
                     go_list(!job_policies_.empty() ? job_policies_
                             : d.pull_policy.empty() ? std::vector<std::string>{"always"}
                                                     : d.pull_policy) +
                     " for container " + image_);
  println(trace, "Using docker image " + image_id_ + " for " + image_ + " ...");
  json env = json::array();
  for (const std::string& e : prepare_.job_env) env.push_back(e);
  json hc = {{"Binds", binds_},
             {"NetworkMode", network_mode_.empty() ? "bridge" : network_mode_},
             {"Privileged", d.privileged},
             {"LogConfig", {{"Type", "json-file"}}},
             {"RestartPolicy", {{"Name", "no"}}}};
  std::vector<std::string> hosts = extra_hosts_;
  hosts.insert(hosts.end(), d.extra_hosts.begin(), d.extra_hosts.end());
  if (!hosts.empty()) hc["ExtraHosts"] = hosts;
  if (!d.dns.empty()) hc["Dns"] = d.dns;
  if (!d.dns_search.empty()) hc["DnsSearch"] = d.dns_search;
  if (d.memory) hc["Memory"] = d.memory;
  if (d.memory_swap) hc["MemorySwap"] = d.memory_swap;
  if (d.memory_reservation) hc["MemoryReservation"] = d.memory_reservation;
  if (d.nano_cpus) hc["NanoCpus"] = d.nano_cpus;
  if (d.cpu_shares) hc["CpuShares"] = d.cpu_shares;
  if (!d.cpuset_cpus.empty()) hc["CpusetCpus"] = d.cpuset_cpus;
  if (d.shm_size) hc["ShmSize"] = d.shm_size;
  if (!d.tmpfs.empty()) hc["Tmpfs"] = d.tmpfs;
  if (!d.cap_add.empty()) hc["CapAdd"] = d.cap_add;
  if (!d.cap_drop.empty()) hc["CapDrop"] = d.cap_drop;
  if (!d.security_opt.empty()) {
    // A seccomp profile given as a file on the runner host is inlined (§7.3): the
    // daemon, possibly remote, expects the JSON itself.
    std::vector<std::string> opts;
    for (const std::string& opt : d.security_opt) {
      std::string path = starts_with(opt, "seccomp=") ? opt.substr(8) : std::string();
      if (!path.empty() && path != "unconfined" && std::filesystem::is_regular_file(path)) {
        std::ifstream in(path);
        std::string profile((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        opts.push_back("seccomp=" + profile);
      } else {
        opts.push_back(opt);
      }
    }
    hc["SecurityOpt"] = opts;
  }
  if (!d.sysctls.empty()) hc["Sysctls"] = d.sysctls;
  if (!d.runtime.empty()) hc["Runtime"] = d.runtime;
  if (!d.userns_mode.empty()) hc["UsernsMode"] = d.userns_mode;
  if (!d.pid_mode.empty()) hc["PidMode"] = d.pid_mode;
  if (!d.devices.empty()) {
    json devices = json::array();
    for (const std::string& dev : d.devices) {
      std::vector<std::string> parts = split(dev, ':');
      devices.push_back({{"PathOnHost", parts[0]},
                         {"PathInContainer", parts.size() > 1 ? parts[1] : parts[0]},
                         {"CgroupPermissions", parts.size() > 2 ? parts[2] : "rwm"}});
    }
    hc["Devices"] = devices;
  }
  json body = {{"Image", image_id_},
               {"Cmd", {"sh", "-c", detect_shell_command()}},
               {"Hostname", d.hostname.empty() ? project_name_ : d.hostname},
               {"Env", env},
               {"AttachStdout", true},
               {"AttachStderr", true},
               {"Tty", false},
               {"Labels", json::parse(labels_json_fragment("build"))},
               {"HostConfig", hc}};
  std::string user = !d.user.empty() ? d.user : job_->image ? job_->image->docker_user : std::string();
  if (!user.empty()) body["User"] = user;
  if (job_->image && !job_->image->entrypoint.empty() && !d.disable_entrypoint_overwrite)
    body["Entrypoint"] = job_->image->entrypoint;
  std::string name = job_name_ + "-build";
  if (!network_.empty())
    body["NetworkingConfig"] = {{"EndpointsConfig", {{network_, {{"Aliases", {"build", name}}}}}}};
  Result<DockerResponse> r =
      client_->request("POST", "/containers/create?name=" + docker_url_escape(name), body.dump());
  if (!r) return fail(r.error());
  if (r->status != 201) {
    return fail(r->status == 400 ? ErrorKind::kInvalidInput : ErrorKind::kUnavailable,
                "create build container " + name + ": " + json_error(*r));
  }
  build_id_ = json::parse(r->body, nullptr, false).value("Id", std::string());
  containers_.push_back(build_id_);
  return {};
}

Result<> DockerExecutor::upload_builds() {
  std::filesystem::path project(prepare_.project_dir);
  std::filesystem::path host = predefined_path(project.string());
  std::error_code ec;
  if (!std::filesystem::is_directory(host, ec)) return {};
  // Extracted at the builds root, which exists (the builds volume or a user volume);
  // intermediate directories travel in the tar.
  std::string root = prepare_.builds_dir;
  std::string name = project.lexically_relative(root).string();
  if (name.empty() || starts_with(name, "..")) {
    root = project.parent_path().string();
    name = project.filename().string();
  }
  Result<std::string> tar = tar_directory(host, name, /*umask0000=*/true);
  if (!tar) return fail(tar.error());
  Result<DockerResponse> r =
      client_->request("PUT", "/containers/" + build_id_ + "/archive?path=" + docker_url_escape(root),
                       *tar, "application/x-tar", 3600);
  if (!r) return fail(r.error());
  if (r->status != 200)
    return fail(ErrorKind::kUnavailable, "copy " + project.string() + " into the build container: " + json_error(*r));
  return {};
}

Result<> DockerExecutor::download_builds() {
  std::filesystem::path project(prepare_.project_dir);
  Result<DockerResponse> r = client_->request(
      "GET", "/containers/" + build_id_ + "/archive?path=" + docker_url_escape(project.string()), {},
      "application/json", 3600);
  if (!r) return fail(r.error());
  if (r->status == 404) return {};  // nothing was ever checked out
  if (r->status != 200)
    return fail(ErrorKind::kUnavailable, "copy " + project.string() + " out of the build container: " + json_error(*r));
  std::filesystem::path host = predefined_path(project.string());
  std::error_code ec;
  std::filesystem::remove_all(host, ec);
  std::filesystem::create_directories(host.parent_path(), ec);
  return untar_into(r->body, host.parent_path());
}

Result<ExitStatus> DockerExecutor::run(const StageScript& script, TraceSink& trace,
                                       std::stop_token stop) {
  if (!prepared_) return fail(ErrorKind::kInternal, "docker executor used before prepare");
  if (script.in_build_container || script.stage == "prepare_script")
    return run_in_container(script, trace, stop);
  if (container_dirty_ && !options_.local_project) {
    if (Result<> d = download_builds(); !d) return fail(d.error());
    container_dirty_ = false;
  }
  std::error_code ec;
  std::filesystem::create_directories(predefined_path(prepare_.builds_dir), ec);
  Result<ExitStatus> status = host_->run(script, trace, stop);
  host_dirty_ = true;
  return status;
}

Result<ExitStatus> DockerExecutor::run_in_container(const StageScript& script, TraceSink& trace,
                                                    std::stop_token stop) {
  if (Result<> c = ensure_build_container(trace); !c) return fail(c.error());
  if (host_dirty_) {
    if (Result<> u = upload_builds(); !u) return fail(u.error());
    host_dirty_ = false;
  }
  Result<std::string> tar = tar_single_file(kStageScriptName, script.script, 0644);
  if (!tar) return fail(tar.error());
  Result<DockerResponse> put = client_->request("PUT", "/containers/" + build_id_ + "/archive?path=%2F",
                                                *tar, "application/x-tar");
  if (!put) return fail(put.error());
  if (put->status != 200)
    return fail(ErrorKind::kUnavailable, "copy the stage script into the build container: " + json_error(*put));

  Error start_error{};
  bool start_failed = false;
  auto on_attached = [&] {
    Result<DockerResponse> r = client_->request("POST", "/containers/" + build_id_ + "/start");
    if (!r || (r->status != 204 && r->status != 304)) {
      start_failed = true;
      start_error = r ? Error{ErrorKind::kUnavailable, "start build container: " + json_error(*r)} : r.error();
      return false;  // nothing will ever be written to the attach stream
    }
    return true;
  };
  Result<> attached = client_->attach(
      build_id_, on_attached,
      [&trace](bool is_stderr, std::string_view bytes) {
        trace.write(is_stderr ? kScriptStderr : kScriptStdout, bytes);
      },
      stop);
  container_dirty_ = true;
  if (!attached || stop.stop_requested()) {
    // Cancel or timeout: kill at once, the job is over for this container.
    (void)client_->request("POST", "/containers/" + build_id_ + "/kill?signal=SIGKILL", {}, "application/json", 30);
    (void)client_->request("POST", "/containers/" + build_id_ + "/wait?condition=not-running", {},
                     "application/json", 30);
    if (stop.stop_requested()) return fail(ErrorKind::kCanceled, "canceled");
    return fail(attached.error());
  }
  if (start_failed) return fail(start_error);
  Result<DockerResponse> waited = client_->request(
      "POST", "/containers/" + build_id_ + "/wait?condition=not-running", {}, "application/json", 3600);
  if (!waited) return fail(waited.error());
  if (waited->status != 200)
    return fail(ErrorKind::kUnavailable, "wait for the build container: " + json_error(*waited));
  json j = json::parse(waited->body, nullptr, false);
  return ExitStatus{.code = j.is_object() ? j.value("StatusCode", 0) : 0};
}

void DockerExecutor::cleanup() noexcept {
  try {
    if (client_) {
      for (const std::string& id : containers_) {
        (void)client_->request("DELETE",
                         "/containers/" + id + "?force=1&v=" + (options_.docker.volume_keep ? "0" : "1"),
                         {}, "application/json", 60);
      }
      containers_.clear();
      for (const std::string& v : job_volumes_) {
        (void)client_->request("DELETE", "/volumes/" + docker_url_escape(v) + "?force=1", {}, "application/json", 60);
      }
      job_volumes_.clear();
      if (!network_.empty()) {
        (void)client_->request("DELETE", "/networks/" + docker_url_escape(network_), {}, "application/json", 60);
        network_.clear();
      }
    }
    if (!staging_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(staging_, ec);
    }
  } catch (const std::exception& e) {
    log_warning(std::string("docker cleanup: ") + e.what());
  }
  build_id_.clear();
  services_.clear();
  binds_.clear();
  extra_hosts_.clear();
  network_mode_.clear();
  prepared_ = false;
}

int remove_stale_docker_resources(DockerClient& client, const std::string& short_token) {
  std::string p = kDockerLabelPrefix;
  json filters = {{"label", {p + "managed=true", p + "runner.id=" + short_token}}};
  std::string q = "filters=" + docker_url_escape(filters.dump());
  int removed = 0;
  if (Result<DockerResponse> r = client.request("GET", "/containers/json?all=1&" + q); r && r->status == 200) {
    for (const json& c : json::parse(r->body, nullptr, false)) {
      std::string id = c.value("Id", std::string());
      if (id.empty()) continue;
      Result<DockerResponse> d = client.request("DELETE", "/containers/" + id + "?force=1&v=1");
      if (d && d->status == 204) ++removed;
    }
  }
  if (Result<DockerResponse> r = client.request("GET", "/networks?" + q); r && r->status == 200) {
    for (const json& n : json::parse(r->body, nullptr, false)) {
      std::string id = n.value("Id", std::string());
      if (id.empty()) continue;
      Result<DockerResponse> d = client.request("DELETE", "/networks/" + id);
      if (d && d->status == 204) ++removed;
    }
  }
  if (Result<DockerResponse> r = client.request("GET", "/volumes?" + q); r && r->status == 200) {
    json j = json::parse(r->body, nullptr, false);
    if (j.is_object() && j["Volumes"].is_array()) {
      for (const json& v : j["Volumes"]) {
        std::string name = v.value("Name", std::string());
        // Reusable cache volumes ("runner-<32 hex>-cache-...") outlive jobs on purpose.
        bool reusable = name.size() > 39 && name.compare(39, 7, "-cache-") == 0 &&
                        name.find_first_not_of("0123456789abcdef", 7) == 39;
        if (name.empty() || reusable) continue;
        Result<DockerResponse> d = client.request("DELETE", "/volumes/" + docker_url_escape(name) + "?force=1");
        if (d && d->status == 204) ++removed;
      }
    }
  }
  return removed;
}

}  // namespace glr
