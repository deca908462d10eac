// [runners.kubernetes] (executors §7.4) from the TOML tree into KubernetesSettings. Key names
// and value forms are the official runner's (common/config.go KubernetesConfig).
#include "config/kubernetes_section.h"

#include <fmt/format.h>

#include <functional>
#include <limits>
#include <set>

namespace glr::config_internal {
namespace {

struct Reader {
  const std::string& source;

  tl::unexpected<Error> error_at(const toml::node& n, const std::string& path,
                                 const std::string& message) const {
    uint32_t line = n.source().begin.line;
    if (line == 0) return fail(ErrorKind::kInvalidInput, fmt::format("{}: {}: {}", source, path, message));
    return fail(ErrorKind::kInvalidInput, fmt::format("{}:{}: {}: {}", source, line, path, message));
  }

  static std::string kind(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string: return "string \"" + std::string(**n.as_string()) + "\"";
      case toml::node_type::integer: return fmt::format("integer {}", **n.as_integer());
      case toml::node_type::floating_point: return "float";
      case toml::node_type::boolean: return **n.as_boolean() ? "boolean true" : "boolean false";
      case toml::node_type::array: return "array";
      case toml::node_type::table: return "table";
      default: return "a date/time";
    }
  }

  tl::unexpected<Error> type_error(const toml::node& n, const std::string& path,
                                   std::string_view expected) const {
    return error_at(n, path, fmt::format("expected {}, got {}", expected, kind(n)));
  }

  Result<> str(const toml::node& n, const std::string& path, std::string& out) const {
    const toml::value<std::string>* v = n.as_string();
    if (v == nullptr) return type_error(n, path, "string");
    out = **v;
    return {};
  }

  // Quantities may be written as numbers too ("cpu_limit = 2").
  Result<> quantity(const toml::node& n, const std::string& path, std::string& out) const {
    if (const toml::value<int64_t>* i = n.as_integer()) {
      out = std::to_string(**i);
      return {};
    }
    return str(n, path, out);
  }

  Result<> boolean(const toml::node& n, const std::string& path, bool& out) const {
    const toml::value<bool>* v = n.as_boolean();
    if (v == nullptr) return type_error(n, path, "boolean");
    out = **v;
    return {};
  }

  Result<> opt_boolean(const toml::node& n, const std::string& path,
                       std::optional<bool>& out) const {
    bool b = false;
    if (Result<> r = boolean(n, path, b); !r) return r;
    out = b;
    return {};
  }

  Result<> integer(const toml::node& n, const std::string& path, int& out, int64_t min) const {
    const toml::value<int64_t>* v = n.as_integer();
    if (v == nullptr) return type_error(n, path, "integer");
    if (**v < min || **v > std::numeric_limits<int>::max()) {
      return error_at(n, path, fmt::format("integer {} is out of range (at least {})", **v, min));
    }
    out = static_cast<int>(**v);
    return {};
  }

  Result<> opt_integer(const toml::node& n, const std::string& path, std::optional<int>& out,
                       int64_t min) const {
    int i = 0;
    if (Result<> r = integer(n, path, i, min); !r) return r;
    out = i;
    return {};
  }

  Result<> string_map(const toml::node& n, const std::string& path,
                      std::map<std::string, std::string>& out) const {
    const toml::table* t = n.as_table();
    if (t == nullptr) return type_error(n, path, "table of strings");
    for (auto&& [k, v] : *t) {
      std::string key(k.str());
      if (Result<> r = str(v, path + "." + key, out[key]); !r) return r;
    }
    return {};
  }

  // A string or an array of strings (pull_policy, image_pull_secrets).
  Result<> string_list(const toml::node& n, const std::string& path,
                       std::vector<std::string>& out) const {
    out.clear();
    if (n.is_string()) {
      out.push_back(std::string(**n.as_string()));
      return {};
    }
    const toml::array* a = n.as_array();
    if (a == nullptr) return type_error(n, path, "array of strings");
    for (size_t i = 0; i < a->size(); ++i) {
      std::string s;
      if (Result<> r = str((*a)[i], fmt::format("{}[{}]", path, i), s); !r) return r;
      out.push_back(std::move(s));
    }
    return {};
  }
};

// JSON string literal.
std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string camel_case(std::string_view key) {
  std::string out;
  bool upper = false;
  for (char c : key) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

// The official TOML for affinity mirrors the Kubernetes Affinity type with snake_case keys;
// the pod wants camelCase. Keys inside match_labels are label names and stay as written.
Result<std::string> to_json(const Reader& rd, const toml::node& n, const std::string& path,
                            bool literal_keys) {
  if (const toml::table* t = n.as_table()) {
    std::string out = "{";
    bool first = true;
    for (auto&& [k, v] : *t) {
      std::string key(k.str());
      Result<std::string> inner = to_json(rd, v, path + "." + key, key == "match_labels");
      if (!inner) return inner;
      if (!first) out += ",";
      first = false;
      out += json_quote(literal_keys ? key : camel_case(key)) + ":" + *inner;
    }
    return out + "}";
  }
  if (const toml::array* a = n.as_array()) {
    std::string out = "[";
    for (size_t i = 0; i < a->size(); ++i) {
      Result<std::string> inner = to_json(rd, (*a)[i], fmt::format("{}[{}]", path, i), false);
      if (!inner) return inner;
      if (i > 0) out += ",";
      out += *inner;
    }
    return out + "]";
  }
  if (const toml::value<std::string>* s = n.as_string()) return json_quote(**s);
  if (const toml::value<int64_t>* i = n.as_integer()) return std::to_string(**i);
  if (const toml::value<bool>* b = n.as_boolean()) return std::string(**b ? "true" : "false");
  return rd.type_error(n, path, "table, array, string, integer or boolean");
}

// The <kind>_<resource> keys ([service_|helper_]cpu_limit, ...); other unknown keys are
// ignored.
Result<> read_resources(const Reader& rd, const std::string& key, const toml::node& n,
                        const std::string& path, KubernetesSettings& k) {
  KubeResources* target = &k.build;
  std::string_view rest = key;
  if (rest.starts_with("service_")) {
    target = &k.service;
    rest.remove_prefix(8);
  } else if (rest.starts_with("helper_")) {
    target = &k.helper;
    rest.remove_prefix(7);
  }
  const std::map<std::string_view, std::string KubeResources::*> fields = {
      {"cpu_limit", &KubeResources::cpu_limit},
      {"cpu_limit_overwrite_max_allowed", &KubeResources::cpu_limit_overwrite_max_allowed},
      {"cpu_request", &KubeResources::cpu_request},
      {"cpu_request_overwrite_max_allowed", &KubeResources::cpu_request_overwrite_max_allowed},
      {"memory_limit", &KubeResources::memory_limit},
      {"memory_limit_overwrite_max_allowed", &KubeResources::memory_limit_overwrite_max_allowed},
      {"memory_request", &KubeResources::memory_request},
      {"memory_request_overwrite_max_allowed",
       &KubeResources::memory_request_overwrite_max_allowed},
      {"ephemeral_storage_limit", &KubeResources::ephemeral_storage_limit},
      {"ephemeral_storage_limit_overwrite_max_allowed",
       &KubeResources::ephemeral_storage_limit_overwrite_max_allowed},
      {"ephemeral_storage_request", &KubeResources::ephemeral_storage_request},
      {"ephemeral_storage_request_overwrite_max_allowed",
       &KubeResources::ephemeral_storage_request_overwrite_max_allowed},
  };
  auto it = fields.find(rest);
  if (it == fields.end()) return {};
  return rd.quantity(n, path, target->*(it->second));
}

Result<> read_volumes(const Reader& rd, const toml::node& n, const std::string& path,
                      std::vector<KubeVolume>& out) {
  const toml::table* t = n.as_table();
  if (t == nullptr) return rd.type_error(n, path, "table");
  static const std::set<std::string, std::less<>> kKinds = {"host_path", "pvc", "config_map",
                                                            "secret", "empty_dir"};
  for (auto&& [k, v] : *t) {
    std::string kind(k.str());
    std::string kpath = path + "." + kind;
    if (kKinds.count(kind) == 0) continue;  // csi, nfs, ...: not supported, kept as text
    const toml::array* a = v.as_array();
    if (a == nullptr || !a->is_array_of_tables()) {
      if (a == nullptr || !a->empty()) return rd.type_error(v, kpath, "array of tables");
    }
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::table& vt = *(*a)[i].as_table();
      std::string vpath = fmt::format("{}[{}]", kpath, i);
      KubeVolume vol;
      vol.kind = kind;
      for (auto&& [fk, fv] : vt) {
        std::string f(fk.str());
        std::string fpath = vpath + "." + f;
        Result<> r;
        if (f == "name") r = rd.str(fv, fpath, vol.name);
        else if (f == "mount_path") r = rd.str(fv, fpath, vol.mount_path);
        else if (f == "sub_path") r = rd.str(fv, fpath, vol.sub_path);
        else if (f == "read_only") r = rd.boolean(fv, fpath, vol.read_only);
        else if (f == "host_path" && kind == "host_path") r = rd.str(fv, fpath, vol.host_path);
        else if (f == "claim_name" && kind == "pvc") r = rd.str(fv, fpath, vol.claim_name);
        else if (f == "medium" && kind == "empty_dir") r = rd.str(fv, fpath, vol.medium);
        else if (f == "size_limit" && kind == "empty_dir") r = rd.quantity(fv, fpath, vol.size_limit);
        else if (f == "items" && (kind == "config_map" || kind == "secret"))
          r = rd.string_map(fv, fpath, vol.items);
        if (!r) return r;
      }
      if (vol.name.empty()) return rd.error_at(vt, vpath + ".name", "is required");
      if (vol.mount_path.empty()) return rd.error_at(vt, vpath + ".mount_path", "is required");
      if (!vol.mount_path.starts_with("/")) {
        return rd.error_at(vt, vpath + ".mount_path",
                           "must be an absolute path, got \"" + vol.mount_path + "\"");
      }
      if (vol.medium != "" && vol.medium != "Memory" && vol.medium != "HugePages") {
        return rd.error_at(vt, vpath + ".medium", "must be \"\", \"Memory\" or \"HugePages\"");
      }
      out.push_back(std::move(vol));
    }
  }
  return {};
}

Result<> read_host_aliases(const Reader& rd, const toml::node& n, const std::string& path,
                           std::vector<KubeHostAlias>& out) {
  const toml::array* a = n.as_array();
  if (a == nullptr || (!a->empty() && !a->is_array_of_tables())) {
    return rd.type_error(n, path, "array of tables ([[...host_aliases]] with ip and hostnames)");
  }
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::table& t = *(*a)[i].as_table();
    std::string apath = fmt::format("{}[{}]", path, i);
    KubeHostAlias alias;
    if (const toml::node* ip = t.get("ip")) {
      if (Result<> r = rd.str(*ip, apath + ".ip", alias.ip); !r) return r;
    }
    if (const toml::node* h = t.get("hostnames")) {
      if (Result<> r = rd.string_list(*h, apath + ".hostnames", alias.hostnames); !r) return r;
    }
    if (alias.ip.empty()) return rd.error_at(t, apath + ".ip", "is required");
    if (alias.hostnames.empty()) return rd.error_at(t, apath + ".hostnames", "is required");
    out.push_back(std::move(alias));
  }
  return {};
}

// node_tolerations = { "key=value" = "NoSchedule", "key" = "" } (official form).
Result<> read_tolerations(const Reader& rd, const toml::node& n, const std::string& path,
                          std::vector<KubeToleration>& out) {
  const toml::table* t = n.as_table();
  if (t == nullptr) return rd.type_error(n, path, "table of strings");
  for (auto&& [k, v] : *t) {
    std::string key(k.str());
    KubeToleration tol;
    if (Result<> r = rd.str(v, path + "." + key, tol.effect); !r) return r;
    if (!tol.effect.empty() && tol.effect != "NoSchedule" && tol.effect != "PreferNoSchedule" &&
        tol.effect != "NoExecute") {
      return rd.error_at(v, path + "." + key,
                         "effect must be NoSchedule, PreferNoSchedule, NoExecute or empty, got \"" +
                             tol.effect + "\"");
    }
    size_t eq = key.find('=');
    if (eq == std::string::npos) {
      tol.key = key;
      tol.op = "Exists";
    } else {
      tol.key = key.substr(0, eq);
      tol.value = key.substr(eq + 1);
      tol.op = "Equal";
    }
    out.push_back(std::move(tol));
  }
  return {};
}

Result<> check_pull_policy(const Reader& rd, const toml::node& n, const std::string& path,
                           std::vector<std::string>& policies) {
  for (std::string& p : policies) {
    if (p == "Always") p = "always";
    if (p == "Never") p = "never";
    if (p == "IfNotPresent") p = "if-not-present";
    if (p != "always" && p != "never" && p != "if-not-present") {
      return rd.error_at(n, path,
                         "unknown pull policy \"" + p +
                             "\" (use \"always\", \"never\" or \"if-not-present\")");
    }
  }
  return {};
}

Result<> read_dns_policy(const Reader& rd, const toml::node& n, const std::string& path,
                         std::string& out) {
  std::string v;
  if (Result<> r = rd.str(n, path, v); !r) return r;
  static const std::map<std::string, std::string, std::less<>> kPolicies = {
      {"", ""},
      {"none", "None"},
      {"None", "None"},
      {"default", "Default"},
      {"Default", "Default"},
      {"cluster-first", "ClusterFirst"},
      {"ClusterFirst", "ClusterFirst"},
      {"cluster-first-with-host-net", "ClusterFirstWithHostNet"},
      {"ClusterFirstWithHostNet", "ClusterFirstWithHostNet"},
  };
  auto it = kPolicies.find(v);
  if (it == kPolicies.end()) {
    return rd.error_at(n, path,
                       "unknown DNS policy \"" + v +
                           "\" (use none, default, cluster-first or cluster-first-with-host-net)");
  }
  out = it->second;
  return {};
}

}  // namespace

Result<KubernetesSettings> read_kubernetes_section(const toml::table& table,
                                                   const std::string& source,
                                                   const std::string& path) {
  Reader rd{source};
  KubernetesSettings k;
  using Field = std::function<Result<>(const toml::node&, const std::string&)>;
  auto s = [&](std::string KubernetesSettings::*m) -> Field {
    return [&rd, &k, m](const toml::node& n, const std::string& p) { return rd.str(n, p, k.*m); };
  };
  auto ob = [&](std::optional<bool> KubernetesSettings::*m) -> Field {
    return [&rd, &k, m](const toml::node& n, const std::string& p) {
      return rd.opt_boolean(n, p, k.*m);
    };
  };
  auto sm = [&](std::map<std::string, std::string> KubernetesSettings::*m) -> Field {
    return [&rd, &k, m](const toml::node& n, const std::string& p) {
      return rd.string_map(n, p, k.*m);
    };
  };
  const std::map<std::string, Field, std::less<>> fields = {
      {"host", s(&KubernetesSettings::host)},
      {"bearer_token", s(&KubernetesSettings::bearer_token)},
      {"ca_file", s(&KubernetesSettings::ca_file)},
      {"cert_file", s(&KubernetesSettings::cert_file)},
      {"key_file", s(&KubernetesSettings::key_file)},
      {"context", s(&KubernetesSettings::context)},
      {"namespace", s(&KubernetesSettings::namespace_name)},
      {"namespace_overwrite_allowed", s(&KubernetesSettings::namespace_overwrite_allowed)},
      {"image", s(&KubernetesSettings::image)},
      {"helper_image", s(&KubernetesSettings::helper_image)},
      {"privileged", ob(&KubernetesSettings::privileged)},
      {"allow_privilege_escalation", ob(&KubernetesSettings::allow_privilege_escalation)},
      {"service_account", s(&KubernetesSettings::service_account)},
      {"service_account_overwrite_allowed",
       s(&KubernetesSettings::service_account_overwrite_allowed)},
      {"node_selector", sm(&KubernetesSettings::node_selector)},
      {"pod_labels_overwrite_allowed", s(&KubernetesSettings::pod_labels_overwrite_allowed)},
      {"pod_annotations_overwrite_allowed",
       s(&KubernetesSettings::pod_annotations_overwrite_allowed)},
      {"node_selector_overwrite_allowed", s(&KubernetesSettings::node_selector_overwrite_allowed)},
      {"node_tolerations_overwrite_allowed",
       s(&KubernetesSettings::node_tolerations_overwrite_allowed)},
      {"pod_labels", sm(&KubernetesSettings::pod_labels)},
      {"pod_annotations", sm(&KubernetesSettings::pod_annotations)},
      {"node_tolerations",
       [&](const toml::node& n, const std::string& p) {
         return read_tolerations(rd, n, p, k.node_tolerations);
       }},
      {"affinity",
       [&](const toml::node& n, const std::string& p) -> Result<> {
         if (!n.is_table()) return rd.type_error(n, p, "table");
         Result<std::string> json = to_json(rd, n, p, false);
         if (!json) return fail(json.error());
         k.affinity_json = *json;
         return {};
       }},
      {"pull_policy",
       [&](const toml::node& n, const std::string& p) -> Result<> {
         if (Result<> r = rd.string_list(n, p, k.pull_policy); !r) return r;
         return check_pull_policy(rd, n, p, k.pull_policy);
       }},
      {"image_pull_secrets",
       [&](const toml::node& n, const std::string& p) {
         return rd.string_list(n, p, k.image_pull_secrets);
       }},
      {"poll_interval",
       [&](const toml::node& n, const std::string& p) {
         return rd.integer(n, p, k.poll_interval, std::numeric_limits<int>::min());
       }},
      {"poll_timeout",
       [&](const toml::node& n, const std::string& p) {
         return rd.integer(n, p, k.poll_timeout, std::numeric_limits<int>::min());
       }},
      {"cleanup_grace_period_seconds",
       [&](const toml::node& n, const std::string& p) {
         return rd.opt_integer(n, p, k.cleanup_grace_period_seconds, 0);
       }},
      {"pod_termination_grace_period_seconds",
       [&](const toml::node& n, const std::string& p) {
         return rd.opt_integer(n, p, k.pod_termination_grace_period_seconds, 0);
       }},
      {"dns_policy",
       [&](const toml::node& n, const std::string& p) {
         return read_dns_policy(rd, n, p, k.dns_policy);
       }},
      {"host_aliases",
       [&](const toml::node& n, const std::string& p) {
         return read_host_aliases(rd, n, p, k.host_aliases);
       }},
      {"volumes",
       [&](const toml::node& n, const std::string& p) {
         return read_volumes(rd, n, p, k.volumes);
       }},
  };
  for (auto&& [key_node, node] : table) {
    std::string key(key_node.str());
    std::string p = path + "." + key;
    auto it = fields.find(key);
    Result<> r = it != fields.end() ? it->second(node, p) : read_resources(rd, key, node, p, k);
    if (!r) return fail(r.error());
  }
  // Like the official getters, zero or negative polls mean the defaults (3 s, 180 s).
  if (k.poll_interval <= 0) k.poll_interval = 3;
  if (k.poll_timeout <= 0) k.poll_timeout = 180;
  // An explicit host with a client certificate needs its key and the other way round.
  if (k.cert_file.empty() != k.key_file.empty()) {
    return rd.error_at(table, path + (k.cert_file.empty() ? ".cert_file" : ".key_file"),
                       "cert_file and key_file must be set together");
  }
  return k;
}

}  // namespace glr::config_internal
