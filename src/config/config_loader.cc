// Reads config.toml into GlobalConfig (api spec §8). The only toml++ user: every toml++
// exception stops here, and every refusal names file, line and key so an operator can fix
// the file without guessing. Sections we do not model are kept as TOML text (§8.7).
#include <fmt/format.h>
#include <pwd.h>
#include <sys/types.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include "config/cache_section.h"
#include "config/kubernetes_section.h"
#include "config/runner_config.h"
#include "config/toml_text.h"
#include "util/duration.h"
#include "util/strings.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

// Runner sub-tables the official runner knows (§8.2-§8.8); others are kept but reported.
const std::set<std::string, std::less<>> kKnownRunnerSections = {
    "docker",           "kubernetes",    "cache",    "custom",       "ssh",
    "machine",          "autoscaler",    "instance", "parallels",    "virtualbox",
    "custom_build_dir", "feature_flags", "artifact", "experimental", "monitoring",
    "referees",         "labels",
};
// Global tables of §8.1 that we keep without modelling.
const std::set<std::string, std::less<>> kKnownGlobalSections = {
    "session_server",
    "machine",
    "experimental",
    "labels",
};

// Where a value sits and how to name it in an error.
struct Ctx {
  const std::string& source;
};

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

template <class T>
std::string streamed(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// "string \"abc\"", "integer 5", "table": what the file actually holds.
std::string describe(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "string " + quote(**n.as_string());
    case toml::node_type::integer:
      return fmt::format("integer {}", **n.as_integer());
    case toml::node_type::floating_point:
      return "float " + streamed(**n.as_floating_point());
    case toml::node_type::boolean:
      return **n.as_boolean() ? "boolean true" : "boolean false";
    case toml::node_type::date:
      return "date " + streamed(**n.as_date());
    case toml::node_type::time:
      return "time " + streamed(**n.as_time());
    case toml::node_type::date_time:
      return "date-time " + streamed(**n.as_date_time());
    case toml::node_type::array:
      return "array";
    case toml::node_type::table:
      return "table";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

tl::unexpected<Error> error_at(const Ctx& ctx, const toml::node& n, const std::string& path,
                               const std::string& message) {
  uint32_t line = n.source().begin.line;
  if (line == 0)
    return fail(ErrorKind::kInvalidInput, fmt::format("{}: {}: {}", ctx.source, path, message));
  return fail(ErrorKind::kInvalidInput,
              fmt::format("{}:{}: {}: {}", ctx.source, line, path, message));
}

tl::unexpected<Error> type_error(const Ctx& ctx, const toml::node& n, const std::string& path,
                                 std::string_view expected) {
  return error_at(ctx, n, path, fmt::format("expected {}, got {}", expected, describe(n)));
}

Result<> read_string(const Ctx& ctx, const toml::node& n, const std::string& path,
                     std::string& out) {
  const toml::value<std::string>* v = n.as_string();
  if (v == nullptr) return type_error(ctx, n, path, "string");
  out = **v;
  return {};
}

Result<> read_int64(const Ctx& ctx, const toml::node& n, const std::string& path, int64_t& out) {
  const toml::value<int64_t>* v = n.as_integer();
  if (v == nullptr) return type_error(ctx, n, path, "integer");
  out = **v;
  return {};
}

Result<> read_int(const Ctx& ctx, const toml::node& n, const std::string& path, int& out) {
  int64_t wide = 0;
  if (Result<> r = read_int64(ctx, n, path, wide); !r) return r;
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
    return error_at(ctx, n, path, fmt::format("integer {} is out of range", wide));
  }
  out = static_cast<int>(wide);
  return {};
}

Result<> read_non_negative_int(const Ctx& ctx, const toml::node& n, const std::string& path,
                               int& out) {
  if (Result<> r = read_int(ctx, n, path, out); !r) return r;
  if (out < 0) return error_at(ctx, n, path, fmt::format("must not be negative, got {}", out));
  return {};
}

Result<> read_bool(const Ctx& ctx, const toml::node& n, const std::string& path, bool& out) {
  const toml::value<bool>* v = n.as_boolean();
  if (v == nullptr) return type_error(ctx, n, path, "boolean");
  out = **v;
  return {};
}

Result<> read_opt_bool(const Ctx& ctx, const toml::node& n, const std::string& path,
                       std::optional<bool>& out) {
  bool b = false;
  if (Result<> r = read_bool(ctx, n, path, b); !r) return r;
  out = b;
  return {};
}

// Go durations: a string in time.ParseDuration syntax, or a bare integer of nanoseconds
// (what Go's TOML decoder does with an int64-backed time.Duration).
Result<> read_duration(const Ctx& ctx, const toml::node& n, const std::string& path,
                       std::chrono::nanoseconds& out) {
  if (const toml::value<int64_t>* i = n.as_integer()) {
    out = std::chrono::nanoseconds(**i);
    return {};
  }
  const toml::value<std::string>* s = n.as_string();
  if (s == nullptr) return type_error(ctx, n, path, "duration string (e.g. \"90s\")");
  std::optional<Nanoseconds> d = parse_go_duration(**s);
  if (!d) {
    return error_at(ctx, n, path,
                    fmt::format("invalid duration {} (use Go syntax such as \"90s\" or \"1h30m\")",
                                quote(**s)));
  }
  out = *d;
  return {};
}

// TOML datetimes as register writes them; a string is accepted too and kept as written.
Result<> read_timestamp(const Ctx& ctx, const toml::node& n, const std::string& path,
                        std::string& out) {
  if (const toml::value<toml::date_time>* dt = n.as_date_time()) {
    out = streamed(**dt);
    return {};
  }
  if (const toml::value<std::string>* s = n.as_string()) {
    out = **s;
    return {};
  }
  return type_error(ctx, n, path, "datetime");
}

Result<> read_string_map(const Ctx& ctx, const toml::node& n, const std::string& path,
                         std::map<std::string, std::string>& out) {
  const toml::table* t = n.as_table();
  if (t == nullptr) return type_error(ctx, n, path, "table of strings");
  for (auto&& [k, v] : *t) {
    std::string value;
    std::string key(k.str());
    if (Result<> r = read_string(ctx, v, path + "." + key, value); !r) return r;
    out[key] = std::move(value);
  }
  return {};
}

Result<> read_string_array(const Ctx& ctx, const toml::node& n, const std::string& path,
                           std::vector<std::string>& out) {
  const toml::array* a = n.as_array();
  if (a == nullptr) return type_error(ctx, n, path, "array of strings");
  for (size_t i = 0; i < a->size(); ++i) {
    std::string value;
    if (Result<> r = read_string(ctx, (*a)[i], fmt::format("{}[{}]", path, i), value); !r) {
      return r;
    }
    out.push_back(std::move(value));
  }
  return {};
}

Result<> read_feature_flags(const Ctx& ctx, const toml::node& n, const std::string& path,
                            std::map<std::string, bool>& out) {
  const toml::table* t = n.as_table();
  if (t == nullptr) return type_error(ctx, n, path, "table of booleans");
  for (auto&& [k, v] : *t) {
    std::string key(k.str());
    bool value = false;
    if (Result<> r = read_bool(ctx, v, path + "." + key, value); !r) return r;
    out[key] = value;
  }
  return {};
}

Result<> read_custom_build_dir(const Ctx& ctx, const toml::node& n, const std::string& path,
                               std::optional<bool>& out) {
  const toml::table* t = n.as_table();
  if (t == nullptr) return type_error(ctx, n, path, "table");
  if (const toml::node* enabled = t->get("enabled")) {
    return read_opt_bool(ctx, *enabled, path + ".enabled", out);
  }
  return {};
}

// Kept sections use the text convention shared with the writer (toml_text.h).
using config_internal::table_text;
using config_internal::value_text;

using RunnerField =
    std::function<Result<>(const Ctx&, const toml::node&, const std::string&, RunnerSettings&)>;

template <class Member>
RunnerField string_field(Member member) {
  return [member](const Ctx& c, const toml::node& n, const std::string& p, RunnerSettings& r) {
    return read_string(c, n, p, r.*member);
  };
}
template <class Member>
RunnerField bool_field(Member member) {
  return [member](const Ctx& c, const toml::node& n, const std::string& p, RunnerSettings& r) {
    return read_bool(c, n, p, r.*member);
  };
}
template <class Member>
RunnerField opt_bool_field(Member member) {
  return [member](const Ctx& c, const toml::node& n, const std::string& p, RunnerSettings& r) {
    return read_opt_bool(c, n, p, r.*member);
  };
}
template <class Member>
RunnerField int_field(Member member) {
  return [member](const Ctx& c, const toml::node& n, const std::string& p, RunnerSettings& r) {
    return read_int(c, n, p, r.*member);
  };
}
template <class Member>
RunnerField non_negative_field(Member member) {
  return [member](const Ctx& c, const toml::node& n, const std::string& p, RunnerSettings& r) {
    return read_non_negative_int(c, n, p, r.*member);
  };
}
template <class Member>
RunnerField duration_field(Member member) {
  return [member](const Ctx& c, const toml::node& n, const std::string& p, RunnerSettings& r) {
    return read_duration(c, n, p, r.*member);
  };
}
template <class Member>
RunnerField timestamp_field(Member member) {
  return [member](const Ctx& c, const toml::node& n, const std::string& p, RunnerSettings& r) {
    return read_timestamp(c, n, p, r.*member);
  };
}

const std::map<std::string, RunnerField, std::less<>>& runner_fields() {
  static const std::map<std::string, RunnerField, std::less<>> fields = {
      {"name", string_field(&RunnerSettings::name)},
      {"url", string_field(&RunnerSettings::url)},
      {"id", [](const Ctx& c, const toml::node& n, const std::string& p,
                RunnerSettings& r) { return read_int64(c, n, p, r.id); }},
      {"token", [](const Ctx& c, const toml::node& n, const std::string& p,
                   RunnerSettings& r) { return read_string(c, n, p, r.token.value); }},
      {"token_obtained_at", timestamp_field(&RunnerSettings::token_obtained_at)},
      {"token_expires_at", timestamp_field(&RunnerSettings::token_expires_at)},
      {"tls-ca-file", string_field(&RunnerSettings::tls_ca_file)},
      {"tls-cert-file", string_field(&RunnerSettings::tls_cert_file)},
      {"tls-key-file", string_field(&RunnerSettings::tls_key_file)},
      {"executor", string_field(&RunnerSettings::executor)},
      {"shell", string_field(&RunnerSettings::shell)},
      {"builds_dir", string_field(&RunnerSettings::builds_dir)},
      {"cache_dir", string_field(&RunnerSettings::cache_dir)},
      {"clone_url", string_field(&RunnerSettings::clone_url)},
      {"environment", [](const Ctx& c, const toml::node& n, const std::string& p,
                         RunnerSettings& r) { return read_string_array(c, n, p, r.environment); }},
      {"limit", non_negative_field(&RunnerSettings::limit)},
      {"output_limit", non_negative_field(&RunnerSettings::output_limit)},
      {"request_concurrency", non_negative_field(&RunnerSettings::request_concurrency)},
      {"strict_check_interval", bool_field(&RunnerSettings::strict_check_interval)},
      {"unhealthy_requests_limit", int_field(&RunnerSettings::unhealthy_requests_limit)},
      {"unhealthy_interval", duration_field(&RunnerSettings::unhealthy_interval)},
      {"job_status_final_update_retry_limit",
       int_field(&RunnerSettings::job_status_final_update_retry_limit)},
      {"pre_get_sources_script", string_field(&RunnerSettings::pre_get_sources_script)},
      {"post_get_sources_script", string_field(&RunnerSettings::post_get_sources_script)},
      {"pre_build_script", string_field(&RunnerSettings::pre_build_script)},
      {"post_build_script", string_field(&RunnerSettings::post_build_script)},
      {"debug_trace_disabled", bool_field(&RunnerSettings::debug_trace_disabled)},
      {"clean_git_config", opt_bool_field(&RunnerSettings::clean_git_config)},
      {"safe_directory_checkout", opt_bool_field(&RunnerSettings::safe_directory_checkout)},
      {"prepare_timeout", duration_field(&RunnerSettings::prepare_timeout)},
      {"get_sources_timeout", duration_field(&RunnerSettings::get_sources_timeout)},
      {"proxy_exec", bool_field(&RunnerSettings::proxy_exec)},
      {"use_slot_cgroups", bool_field(&RunnerSettings::use_slot_cgroups)},
      {"slot_cgroup_template", string_field(&RunnerSettings::slot_cgroup_template)},
      {"step_runner_image", string_field(&RunnerSettings::step_runner_image)},
      {"labels", [](const Ctx& c, const toml::node& n, const std::string& p,
                    RunnerSettings& r) { return read_string_map(c, n, p, r.labels); }},
      {"feature_flags",
       [](const Ctx& c, const toml::node& n, const std::string& p, RunnerSettings& r) {
         return read_feature_flags(c, n, p, r.feature_flags);
       }},
      {"custom_build_dir",
       [](const Ctx& c, const toml::node& n, const std::string& p, RunnerSettings& r) {
         return read_custom_build_dir(c, n, p, r.custom_build_dir_enabled);
       }},
  };
  return fields;
}

// Entries of a table in file order (toml++ keeps tables sorted by key).
std::vector<std::pair<std::string, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<std::string, const toml::node*>> out;
  for (auto&& [k, v] : t) out.emplace_back(std::string(k.str()), &v);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const toml::source_position& pa = a.second->source().begin;
    const toml::source_position& pb = b.second->source().begin;
    return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
  });
  return out;
}

Result<RunnerSettings> read_runner(const Ctx& ctx, const toml::table& t, const std::string& base,
                                   const EnvLookup& env, std::vector<std::string>& unknown) {
  RunnerSettings r;
  for (const auto& [key, node] : in_file_order(t)) {
    std::string path = base + "." + key;
    const bool is_section = kKnownRunnerSections.count(key) > 0;
    if (is_section && !node->is_table()) return type_error(ctx, *node, path, "table");
    auto field = runner_fields().find(key);
    if (field != runner_fields().end()) {
      if (Result<> res = field->second(ctx, *node, path, r); !res) return fail(res.error());
    } else if (!is_section) {
      unknown.push_back(path);
      if (!node->is_table()) r.unknown_values.emplace_back(key, value_text(*node));
    }
    if (const toml::table* sub = node->as_table()) {
      r.sections.push_back(key);
      r.raw_sections[key] = table_text(*sub);
      if (key == "cache") {
        Result<CacheSettings> c = config_internal::read_cache_section(*sub, ctx.source, path);
        if (!c) return fail(c.error());
        r.cache = std::move(*c);
      }
      if (key == "kubernetes") {
        Result<KubernetesSettings> k =
            config_internal::read_kubernetes_section(*sub, ctx.source, path);
        if (!k) return fail(k.error());
        r.kubernetes = std::move(*k);
      }
    }
  }
  r.url = expand_env(r.url, env);
  r.token.value = expand_env(r.token.value, env);
  return r;
}

Result<GlobalConfig> read_global(const Ctx& ctx, const toml::table& root, const EnvLookup& env) {
  GlobalConfig c;
  for (const auto& [key, node] : in_file_order(root)) {
    const toml::node& n = *node;
    Result<> res;
    if (key == "concurrent") {
      res = read_int(ctx, n, key, c.concurrent);
      if (res && c.concurrent < 1) {
        // §2.5: the official runner refuses to start with no workers.
        res = error_at(ctx, n, key, fmt::format("must be at least 1, got {}", c.concurrent));
      }
    } else if (key == "check_interval") {
      res = read_int(ctx, n, key, c.check_interval);
    } else if (key == "log_level") {
      res = read_string(ctx, n, key, c.log_level);
    } else if (key == "log_format") {
      res = read_string(ctx, n, key, c.log_format);
    } else if (key == "listen_address") {
      res = read_string(ctx, n, key, c.listen_address);
    } else if (key == "shutdown_timeout") {
      res = read_int(ctx, n, key, c.shutdown_timeout);
    } else if (key == "connection_max_age") {
      res = read_duration(ctx, n, key, c.connection_max_age);
    } else if (key == "user") {
      res = read_string(ctx, n, key, c.user);
    } else if (key == "sentry_dsn") {
      res = read_string(ctx, n, key, c.sentry_dsn);
    } else if (key == "labels") {
      res = read_string_map(ctx, n, key, c.labels);
    } else if (key == "runners") {
      const toml::array* a = n.as_array();
      // An empty `runners = []` is what Go's encoder writes for no runners; accept it.
      if (a == nullptr || (!a->empty() && !a->is_array_of_tables())) {
        return type_error(ctx, n, key, "array of tables ([[runners]])");
      }
      for (size_t i = 0; i < a->size(); ++i) {
        Result<RunnerSettings> r = read_runner(ctx, *(*a)[i].as_table(),
                                               fmt::format("runners[{}]", i), env, c.unknown_keys);
        if (!r) return fail(r.error());
        c.runners.push_back(std::move(*r));
      }
      continue;
    } else if (kKnownGlobalSections.count(key) > 0) {
      if (!n.is_table()) return type_error(ctx, n, key, "table");
    } else {
      c.unknown_keys.push_back(key);
      if (!n.is_table()) c.unknown_values.emplace_back(key, value_text(n));
    }
    if (!res) return fail(res.error());
    if (const toml::table* sub = n.as_table()) {
      c.sections.push_back(key);
      c.raw_sections[key] = table_text(*sub);
    }
  }
  return c;
}

bool is_shell_special(char c) {
  return c == '*' || c == '#' || c == '$' || c == '@' || c == '!' || c == '?' || c == '-' ||
         (c >= '0' && c <= '9');
}
bool is_name_char(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Go's getShellName: the name after '$' and how many bytes it spans; an empty name with a
// non-zero width is bad syntax that Go silently drops.
std::pair<std::string_view, size_t> shell_name(std::string_view s) {
  if (s[0] == '{') {
    if (s.size() > 2 && is_shell_special(s[1]) && s[2] == '}') return {s.substr(1, 1), 3};
    for (size_t i = 1; i < s.size(); ++i) {
      if (s[i] == '}') {
        if (i == 1) return {{}, 2};
        return {s.substr(1, i - 1), i + 1};
      }
    }
    return {{}, 1};
  }
  if (is_shell_special(s[0])) return {s.substr(0, 1), 1};
  size_t i = 0;
  while (i < s.size() && is_name_char(s[i])) ++i;
  return {s.substr(0, i), i};
}

std::optional<std::string> process_env(std::string_view name) {
  std::string key(name);
  const char* v = std::getenv(key.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace

std::string expand_env(std::string_view text, const EnvLookup& env) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i++];
      continue;
    }
    auto [name, width] = shell_name(text.substr(i + 1));
    if (name.empty() && width == 0) {
      out += '$';  // "$" not followed by a name stays as it is
    } else if (!name.empty()) {
      out += env(name).value_or("");
    }
    i += 1 + width;
  }
  return out;
}

Result<GlobalConfig> parse_config(std::string_view toml_text, const std::string& source_name,
                                  const EnvLookup& env) {
  Ctx ctx{source_name};
  try {
    toml::table root = toml::parse(toml_text, std::string_view(source_name));
    return read_global(ctx, root, env);
  } catch (const toml::parse_error& e) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("{}:{}:{}: {}", source_name, e.source().begin.line,
                            e.source().begin.column, e.description()));
  } catch (const std::exception& e) {
    return fail(ErrorKind::kInvalidInput, fmt::format("{}: {}", source_name, e.what()));
  }
}

Result<GlobalConfig> parse_config(std::string_view toml_text, const std::string& source_name) {
  return parse_config(toml_text, source_name, process_env);
}

Result<GlobalConfig> load_config(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(ErrorKind::kNotFound, fmt::format("{}: config file not found", path.string()));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return fail(ErrorKind::kIo,
                fmt::format("{}: is a directory, not a config file", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::kIo, fmt::format("{}: cannot open config file", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return fail(ErrorKind::kIo, fmt::format("{}: cannot read config file", path.string()));
  return parse_config(text.str(), path.string());
}

std::vector<std::string> config_warnings(const GlobalConfig& config) {
  std::vector<std::string> out;
  const size_t runners = config.runners.size();
  if (runners > 0 && static_cast<size_t>(config.concurrent) < runners) {
    out.push_back(fmt::format(
        "concurrent ({}) is lower than the number of runners ({}): some runners can only "
        "request jobs when a worker is free, so jobs may wait",
        config.concurrent, runners));
  }
  for (size_t i = 0; i < runners; ++i) {
    const RunnerSettings& r = config.runners[i];
    const std::string who =
        r.name.empty() ? fmt::format("runners[{}]", i) : fmt::format("runners[{}] ({})", i, r.name);
    if (effective_request_concurrency(r) != 1) continue;
    if (r.limit > 0 && r.limit <= 2) {
      out.push_back(fmt::format(
          "{}: limit = {} with request_concurrency = 1: a job request long-polled by GitLab "
          "blocks the only request slot, so new jobs can be delayed by the long polling "
          "duration; raise request_concurrency",
          who, r.limit));
    } else {
      out.push_back(fmt::format(
          "{}: request_concurrency = 1: only one job request at a time; with GitLab long "
          "polling, jobs may start late; consider request_concurrency > 1",
          who));
    }
  }
  return out;
}

int effective_check_interval_seconds(const GlobalConfig& config) {
  return config.check_interval > 0 ? config.check_interval : 3;
}
int effective_shutdown_timeout_seconds(const GlobalConfig& config) {
  return config.shutdown_timeout > 0 ? config.shutdown_timeout : 30;
}
int64_t effective_output_limit_bytes(const RunnerSettings& runner) {
  const int64_t kib = runner.output_limit > 0 ? runner.output_limit : 4096;
  return kib * 1024;
}
int effective_request_concurrency(const RunnerSettings& runner) {
  return std::max(1, runner.request_concurrency);
}
int effective_unhealthy_requests_limit(const RunnerSettings& runner) {
  return runner.unhealthy_requests_limit > 0 ? runner.unhealthy_requests_limit : 3;
}
std::chrono::nanoseconds effective_unhealthy_interval(const RunnerSettings& runner) {
  if (runner.unhealthy_interval > std::chrono::nanoseconds::zero()) {
    return runner.unhealthy_interval;
  }
  return std::chrono::hours(1);
}
int effective_final_update_retry_limit(const RunnerSettings& runner) {
  return runner.job_status_final_update_retry_limit > 0 ? runner.job_status_final_update_retry_limit
                                                        : 10;
}

bool is_zero_timestamp(std::string_view rfc3339) {
  std::string_view t = trim(rfc3339);
  return t.empty() || starts_with(t, "0001-01-01T00:00:00");
}

Result<std::filesystem::path> default_config_path_for(bool is_root, const std::string& home,
                                                      const std::string& cwd) {
  if (is_root) return std::filesystem::path("/etc/gitlab-runner/config.toml");
  if (!home.empty()) return std::filesystem::path(home) / ".gitlab-runner" / "config.toml";
  if (!cwd.empty()) return std::filesystem::path(cwd) / "config.toml";
  return fail(ErrorKind::kNotFound, "cannot get default config file location");
}

Result<std::filesystem::path> default_config_path() {
  std::string home;
  if (const char* h = std::getenv("HOME"); h != nullptr) home = h;
  if (home.empty()) {
    // Like Go's homedir lookup: fall back to the password database.
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        found->pw_dir != nullptr) {
      home = found->pw_dir;
    }
  }
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  return default_config_path_for(::getuid() == 0, home, ec ? std::string() : cwd);
}

}  // namespace glr
