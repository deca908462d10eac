// Parses [runners.docker] with toml++ (config is the only toml++ user).
#include "config/docker_config.h"

#include <toml++/toml.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace glr {
namespace {

constexpr std::string_view kSection = "[runners.docker] ";

Error key_error(const std::string& key, const std::string& what) {
  return Error{ErrorKind::kInvalidInput, std::string(kSection) + key + ": " + what};
}

Result<> get_string(const toml::table& t, const std::string& key, std::string& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  if (!n->is_string()) return tl::unexpected(key_error(key, "expected a string"));
  out = n->as_string()->get();
  return {};
}

Result<> get_bool(const toml::table& t, const std::string& key, bool& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  if (!n->is_boolean()) return tl::unexpected(key_error(key, "expected true or false"));
  out = n->as_boolean()->get();
  return {};
}

Result<> get_int(const toml::table& t, const std::string& key, int64_t& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  if (!n->is_integer()) return tl::unexpected(key_error(key, "expected an integer"));
  out = n->as_integer()->get();
  return {};
}

Result<> get_strings(const toml::table& t, const std::string& key, std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  if (n->is_string()) {  // pull_policy = "always" is accepted like the official runner
    out = {n->as_string()->get()};
    return {};
  }
  if (!n->is_array()) return tl::unexpected(key_error(key, "expected an array of strings"));
  out.clear();
  for (const toml::node& e : *n->as_array()) {
    if (!e.is_string()) return tl::unexpected(key_error(key, "expected an array of strings"));
    out.push_back(e.as_string()->get());
  }
  return {};
}

Result<> get_map(const toml::table& t, const std::string& key,
                 std::map<std::string, std::string>& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  if (!n->is_table()) return tl::unexpected(key_error(key, "expected a table of strings"));
  for (const auto& [k, v] : *n->as_table()) {
    if (!v.is_string()) return tl::unexpected(key_error(key, "expected a table of strings"));
    out[std::string(k.str())] = v.as_string()->get();
  }
  return {};
}

Result<> get_size(const toml::table& t, const std::string& key, int64_t& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return {};
  if (n->is_integer()) {
    out = n->as_integer()->get();
    return {};
  }
  if (!n->is_string()) return tl::unexpected(key_error(key, "expected a size string"));
  Result<int64_t> size = parse_docker_size(n->as_string()->get());
  if (!size) return tl::unexpected(key_error(key, size.error().message));
  out = *size;
  return {};
}

}  // namespace

Result<int64_t> parse_docker_size(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string number = text.substr(0, i);
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b' && unit.size() > 1) unit.pop_back();
  double mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k") mult = 1024.0;
  else if (unit == "m") mult = 1024.0 * 1024;
  else if (unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  char* end = nullptr;
  double value = number.empty() ? -1 : std::strtod(number.c_str(), &end);
  if (mult == 0 || value < 0 || end == nullptr || *end != '\0')
    return fail(ErrorKind::kInvalidInput, "invalid size \"" + text + "\"");
  return static_cast<int64_t>(std::llround(value * mult));
}

Result<DockerSettings> parse_docker_settings(const std::string& section_text) {
  toml::table t;
  try {
    t = toml::parse(section_text);
  } catch (const toml::parse_error& e) {
    return fail(ErrorKind::kInvalidInput, std::string("[runners.docker]: ") + std::string(e.description()));
  }
  DockerSettings s;
  int64_t wait = s.wait_for_services_timeout, limit = s.services_limit;
  std::string cpus;
  for (Result<> r : {get_string(t, "host", s.host), get_bool(t, "tls_verify", s.tls_verify),
                     get_string(t, "tls_cert_path", s.tls_cert_path), get_string(t, "image", s.image),
                     get_strings(t, "pull_policy", s.pull_policy),
                     get_strings(t, "allowed_pull_policies", s.allowed_pull_policies),
                     get_strings(t, "allowed_images", s.allowed_images),
                     get_strings(t, "allowed_services", s.allowed_services),
                     get_bool(t, "privileged", s.privileged), get_string(t, "user", s.user),
                     get_strings(t, "volumes", s.volumes), get_string(t, "cache_dir", s.cache_dir),
                     get_bool(t, "disable_cache", s.disable_cache),
                     get_bool(t, "volume_keep", s.volume_keep),
                     get_string(t, "network_mode", s.network_mode),
                     get_strings(t, "extra_hosts", s.extra_hosts), get_strings(t, "dns", s.dns),
                     get_strings(t, "dns_search", s.dns_search),
                     get_string(t, "hostname", s.hostname),
                     get_int(t, "wait_for_services_timeout", wait),
                     get_int(t, "services_limit", limit), get_size(t, "memory", s.memory),
                     get_size(t, "memory_swap", s.memory_swap),
                     get_size(t, "memory_reservation", s.memory_reservation),
                     get_string(t, "cpus", cpus), get_int(t, "cpu_shares", s.cpu_shares),
                     get_string(t, "cpuset_cpus", s.cpuset_cpus), get_size(t, "shm_size", s.shm_size),
                     get_map(t, "tmpfs", s.tmpfs), get_map(t, "services_tmpfs", s.services_tmpfs),
                     get_strings(t, "devices", s.devices), get_strings(t, "cap_add", s.cap_add),
                     get_strings(t, "cap_drop", s.cap_drop),
                     get_strings(t, "security_opt", s.security_opt),
                     get_map(t, "container_labels", s.container_labels),
                     get_map(t, "sysctls", s.sysctls),
                     get_bool(t, "disable_entrypoint_overwrite", s.disable_entrypoint_overwrite),
                     get_string(t, "runtime", s.runtime), get_string(t, "userns_mode", s.userns_mode),
                     get_string(t, "pid_mode", s.pid_mode)}) {
    if (!r) return fail(r.error());
  }
  if (const toml::node* n = t.get("services_privileged")) {
    if (!n->is_boolean()) return tl::unexpected(key_error("services_privileged", "expected true or false"));
    s.services_privileged = n->as_boolean()->get();
  }
  // Both are ints (-1 turns them off); a larger TOML integer would silently wrap.
  for (auto [key, value] : {std::pair<const char*, int64_t>{"wait_for_services_timeout", wait},
                            {"services_limit", limit}}) {
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
      return tl::unexpected(key_error(key, "integer " + std::to_string(value) + " is out of range"));
    }
  }
  s.wait_for_services_timeout = static_cast<int>(wait);
  s.services_limit = static_cast<int>(limit);
  if (!cpus.empty()) {
    char* end = nullptr;
    double v = std::strtod(cpus.c_str(), &end);
    if (end == nullptr || *end != '\0' || v <= 0)
      return tl::unexpected(key_error("cpus", "invalid value \"" + cpus + "\""));
    s.nano_cpus = static_cast<int64_t>(std::llround(v * 1e9));
  }
  for (const std::string& p : s.pull_policy) {
    if (p != "always" && p != "if-not-present" && p != "never")
      return tl::unexpected(key_error("pull_policy", "unsupported pull policy \"" + p + "\""));
  }
  if (const toml::node* n = t.get("services")) {
    if (!n->is_array()) return tl::unexpected(key_error("services", "expected an array of tables"));
    const toml::array& services = *n->as_array();
    for (size_t i = 0; i < services.size(); ++i) {
      const toml::table* st = services[i].as_table();
      const std::string where = "services[" + std::to_string(i) + "]";
      if (st == nullptr) return tl::unexpected(key_error("services", "expected an array of tables"));
      DockerServiceConfig svc;
      for (Result<> r : {get_string(*st, "name", svc.name), get_string(*st, "alias", svc.alias),
                         get_strings(*st, "entrypoint", svc.entrypoint),
                         get_strings(*st, "command", svc.command),
                         get_strings(*st, "environment", svc.environment)}) {
        // "[runners.docker] <key>: ..." -> "[runners.docker] services[i].<key>: ..."
        if (!r) {
          return fail(ErrorKind::kInvalidInput, std::string(kSection) + where + "." +
                                                    r.error().message.substr(kSection.size()));
        }
      }
      if (svc.name.empty()) return tl::unexpected(key_error(where + ".name", "is required"));
      s.services.push_back(std::move(svc));
    }
  }
  return s;
}

}  // namespace glr
