// Renders GlobalConfig as config.toml in the Go encoder's shape and replaces the file
// atomically (api spec §1.7, §1.6, §10.2). toml++ is used only to re-read kept section text
// and to format literals; the layout (key order, 2-space indentation per level) is ours.
#include "config/config_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "config/toml_text.h"
#include "util/duration.h"
#include "util/strings.h"
#include "util/unique_fd.h"

namespace glr {
namespace {

namespace fs = std::filesystem;
using config_internal::key_text;
using config_internal::value_text;

constexpr std::string_view kZeroTime = "0001-01-01T00:00:00Z";

std::string string_literal(std::string_view s) {
  return value_text(toml::value<std::string>(std::string(s)));
}

// A runner timestamp as a TOML datetime (what Go writes for time.Time). A held value that is
// not a datetime (the loader also accepts strings) is written back as the string it was.
std::string timestamp_literal(const std::string& held) {
  if (trim(held).empty()) return std::string(kZeroTime);
  try {
    toml::table t = toml::parse("t = " + held);
    if (t.size() == 1) {
      if (const toml::value<toml::date_time>* dt = t["t"].as_date_time()) return value_text(*dt);
    }
  } catch (const std::exception&) {
    // not a datetime literal: fall through
  }
  return string_literal(held);
}

// Non-inline tables are written as [sections], arrays of them as [[sections]]; everything
// else (including inline tables and inline arrays of tables) as `key = literal`.
bool is_section(const toml::node& n) {
  const toml::table* t = n.as_table();
  return t != nullptr && !t->is_inline();
}
bool is_array_of_sections(const toml::node& n) {
  const toml::array* a = n.as_array();
  if (a == nullptr || a->empty()) return false;
  for (const toml::node& e : *a) {
    if (!is_section(e)) return false;
  }
  return true;
}

class Writer {
 public:
  // `key = literal` at `indent`; a literal toml++ wrapped over several lines (long arrays) is
  // indented one level deeper, its closing bracket aligned with the key.
  void key_line(size_t indent, std::string_view key, std::string_view literal) {
    out_.append(indent, ' ');
    out_ += key_text(key);
    out_ += " = ";
    for (size_t i = 0; i < literal.size(); ++i) {
      out_ += literal[i];
      if (literal[i] != '\n') continue;
      const bool closing = i + 1 < literal.size() && literal[i + 1] == ']';
      out_.append(closing ? indent : indent + 2, ' ');
    }
    out_ += '\n';
  }

  // One [path] (or [[path]]) section with its whole table underneath.
  void section(const std::vector<std::string>& path, const toml::table& table, bool element) {
    header(path, element);
    body(path, table);
  }

  void header(const std::vector<std::string>& path, bool element) {
    // The Go encoder separates top-level sections by a blank line, nested ones by nothing.
    if (path.size() == 1 && !out_.empty()) out_ += '\n';
    out_.append(2 * (path.size() - 1), ' ');
    out_ += element ? "[[" : "[";
    for (size_t i = 0; i < path.size(); ++i) {
      if (i > 0) out_ += '.';
      out_ += key_text(path[i]);
    }
    out_ += element ? "]]\n" : "]\n";
  }

  void body(const std::vector<std::string>& path, const toml::table& table) {
    const size_t indent = 2 * path.size();
    for (auto&& [k, v] : table) {
      if (!is_section(v) && !is_array_of_sections(v)) key_line(indent, k.str(), value_text(v));
    }
    for (auto&& [k, v] : table) {
      if (!is_section(v)) continue;
      std::vector<std::string> sub = path;
      sub.emplace_back(k.str());
      section(sub, *v.as_table(), false);
    }
    for (auto&& [k, v] : table) {
      if (!is_array_of_sections(v)) continue;
      std::vector<std::string> sub = path;
      sub.emplace_back(k.str());
      for (const toml::node& e : *v.as_array()) section(sub, *e.as_table(), true);
    }
  }

  // A kept section whose text does not parse: written as comments under its header so the
  // content stays visible to whoever reads the file (try_render_config reports it).
  void broken_section(const std::vector<std::string>& path, std::string_view text,
                      std::string_view why) {
    header(path, false);
    const std::string pad(2 * path.size(), ' ');
    out_ += pad + "# glrunner: this section's kept text is not valid TOML (" + std::string(why) +
            "):\n";
    for (const std::string& line : split(text, '\n')) out_ += pad + "# " + line + "\n";
  }

  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Modelled fields written over the kept text of their table.
struct Overlay {
  const std::map<std::string, std::string>* labels = nullptr;
  const std::map<std::string, bool>* feature_flags = nullptr;
  const std::optional<bool>* custom_build_dir_enabled = nullptr;
};

void apply_overlay(std::string_view name, const Overlay& overlay, toml::table& table) {
  if (name == "labels" && overlay.labels != nullptr) {
    std::vector<std::string> stale;
    for (auto&& [k, v] : table) {
      if (v.is_string()) stale.emplace_back(k.str());
    }
    for (const std::string& k : stale) table.erase(k);
    for (const auto& [k, v] : *overlay.labels) table.insert_or_assign(k, v);
  } else if (name == "feature_flags" && overlay.feature_flags != nullptr) {
    std::vector<std::string> stale;
    for (auto&& [k, v] : table) {
      if (v.is_boolean()) stale.emplace_back(k.str());
    }
    for (const std::string& k : stale) table.erase(k);
    for (const auto& [k, v] : *overlay.feature_flags) table.insert_or_assign(k, v);
  } else if (name == "custom_build_dir" && overlay.custom_build_dir_enabled != nullptr) {
    table.erase("enabled");
    if (overlay.custom_build_dir_enabled->has_value()) {
      table.insert_or_assign("enabled", **overlay.custom_build_dir_enabled);
    }
  }
}

// The sections to write, in order: `sections` as loaded, then kept texts missing from it, then
// modelled tables that have content but no kept text yet (labels first, as Go writes them).
std::vector<std::string> section_order(const std::vector<std::string>& sections,
                                       const std::map<std::string, std::string>& raw,
                                       bool want_labels, bool want_custom_build_dir,
                                       bool want_feature_flags) {
  std::vector<std::string> order;
  std::set<std::string> seen;
  auto add = [&](const std::string& name) {
    if (seen.insert(name).second) order.push_back(name);
  };
  if (want_labels && std::find(sections.begin(), sections.end(), "labels") == sections.end() &&
      raw.count("labels") == 0) {
    add("labels");
  }
  if (want_custom_build_dir &&
      std::find(sections.begin(), sections.end(), "custom_build_dir") == sections.end() &&
      raw.count("custom_build_dir") == 0) {
    add("custom_build_dir");
  }
  for (const std::string& s : sections) add(s);
  for (const auto& [name, text] : raw) add(name);
  if (want_feature_flags) add("feature_flags");
  return order;
}

void write_sections(Writer& w, const std::vector<std::string>& prefix,
                    const std::vector<std::string>& order,
                    const std::map<std::string, std::string>& raw, const Overlay& overlay,
                    std::vector<std::string>& problems) {
  for (const std::string& name : order) {
    std::vector<std::string> path = prefix;
    path.push_back(name);
    auto it = raw.find(name);
    const std::string text = it == raw.end() ? std::string() : it->second;
    toml::table table;
    try {
      table = toml::parse(text);
    } catch (const toml::parse_error& e) {
      const std::string where = join(path, ".");
      const std::string why = fmt::format("line {}: {}", e.source().begin.line, e.description());
      problems.push_back(fmt::format("section [{}]: kept text is not valid TOML: {}", where, why));
      w.broken_section(path, text, why);
      continue;
    }
    apply_overlay(name, overlay, table);
    w.section(path, table, false);
  }
}

void write_runner(Writer& w, const RunnerSettings& r, std::vector<std::string>& problems) {
  const std::vector<std::string> path = {"runners"};
  w.header(path, true);
  constexpr size_t kIndent = 2;
  auto str = [&](std::string_view key, const std::string& v, bool always = false) {
    if (always || !v.empty()) w.key_line(kIndent, key, string_literal(v));
  };
  auto num = [&](std::string_view key, int64_t v) {
    if (v != 0) w.key_line(kIndent, key, std::to_string(v));
  };
  auto flag = [&](std::string_view key, bool v) {
    if (v) w.key_line(kIndent, key, "true");
  };
  auto opt_flag = [&](std::string_view key, const std::optional<bool>& v) {
    if (v) w.key_line(kIndent, key, *v ? "true" : "false");
  };
  auto duration = [&](std::string_view key, std::chrono::nanoseconds v) {
    if (v != std::chrono::nanoseconds::zero())
      w.key_line(kIndent, key, string_literal(format_go_duration(v)));
  };

  // Field order of the Go RunnerConfig struct (common/config.go), which the encoder follows.
  str("name", r.name, true);
  num("limit", r.limit);
  num("output_limit", r.output_limit);
  num("request_concurrency", r.request_concurrency);
  flag("strict_check_interval", r.strict_check_interval);
  num("unhealthy_requests_limit", r.unhealthy_requests_limit);
  duration("unhealthy_interval", r.unhealthy_interval);
  num("job_status_final_update_retry_limit", r.job_status_final_update_retry_limit);
  str("url", r.url, true);
  w.key_line(kIndent, "id", std::to_string(r.id));
  str("token", r.token.value, true);
  w.key_line(kIndent, "token_obtained_at", timestamp_literal(r.token_obtained_at));
  w.key_line(kIndent, "token_expires_at", timestamp_literal(r.token_expires_at));
  str("tls-ca-file", r.tls_ca_file);
  str("tls-cert-file", r.tls_cert_file);
  str("tls-key-file", r.tls_key_file);
  str("executor", r.executor, true);
  str("builds_dir", r.builds_dir);
  str("cache_dir", r.cache_dir);
  str("clone_url", r.clone_url);
  if (!r.environment.empty()) {
    toml::array env;
    for (const std::string& e : r.environment) env.push_back(e);
    w.key_line(kIndent, "environment", value_text(env));
  }
  flag("proxy_exec", r.proxy_exec);
  str("pre_get_sources_script", r.pre_get_sources_script);
  str("post_get_sources_script", r.post_get_sources_script);
  str("pre_build_script", r.pre_build_script);
  str("post_build_script", r.post_build_script);
  duration("prepare_timeout", r.prepare_timeout);
  duration("get_sources_timeout", r.get_sources_timeout);
  flag("debug_trace_disabled", r.debug_trace_disabled);
  opt_flag("safe_directory_checkout", r.safe_directory_checkout);
  opt_flag("clean_git_config", r.clean_git_config);
  str("shell", r.shell);
  flag("use_slot_cgroups", r.use_slot_cgroups);
  str("slot_cgroup_template", r.slot_cgroup_template);
  str("step_runner_image", r.step_runner_image);
  for (const auto& [key, literal] : r.unknown_values) w.key_line(kIndent, key, literal);

  const Overlay overlay{&r.labels, &r.feature_flags, &r.custom_build_dir_enabled};
  const std::vector<std::string> order =
      section_order(r.sections, r.raw_sections, !r.labels.empty(),
                    r.custom_build_dir_enabled.has_value(), !r.feature_flags.empty());
  write_sections(w, path, order, r.raw_sections, overlay, problems);
}

std::string render(const GlobalConfig& c, std::vector<std::string>& problems) {
  Writer w;
  // Field order of the Go Config struct; shutdown_timeout last, as §1.7 shows it.
  if (!c.listen_address.empty()) w.key_line(0, "listen_address", string_literal(c.listen_address));
  w.key_line(0, "concurrent", std::to_string(c.concurrent));
  w.key_line(0, "check_interval", std::to_string(c.check_interval));
  if (!c.log_level.empty()) w.key_line(0, "log_level", string_literal(c.log_level));
  if (!c.log_format.empty()) w.key_line(0, "log_format", string_literal(c.log_format));
  if (!c.user.empty()) w.key_line(0, "user", string_literal(c.user));
  if (!c.sentry_dsn.empty()) w.key_line(0, "sentry_dsn", string_literal(c.sentry_dsn));
  w.key_line(0, "connection_max_age", string_literal(format_go_duration(c.connection_max_age)));
  w.key_line(0, "shutdown_timeout", std::to_string(c.shutdown_timeout));
  for (const auto& [key, literal] : c.unknown_values) w.key_line(0, key, literal);

  const Overlay overlay{&c.labels, nullptr, nullptr};
  const std::vector<std::string> order =
      section_order(c.sections, c.raw_sections, !c.labels.empty(), false, false);
  write_sections(w, {}, order, c.raw_sections, overlay, problems);

  for (size_t i = 0; i < c.runners.size(); ++i) {
    std::vector<std::string> runner_problems;
    write_runner(w, c.runners[i], runner_problems);
    for (const std::string& p : runner_problems)
      problems.push_back(fmt::format("runners[{}]: {}", i, p));
  }
  return std::move(w.out());
}

tl::unexpected<Error> io_error(const fs::path& path, std::string_view what, int err) {
  return fail(ErrorKind::kIo,
              fmt::format("saving {}: {}: {}", path.string(), what, std::strerror(err)));
}

// Go's os.MkdirAll(dir, 0700): creates missing parents, leaves existing ones alone.
Result<> make_directories(const fs::path& target, const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return fail(ErrorKind::kIo,
                fmt::format("saving {}: {} is not a directory", target.string(), dir.string()));
  }
  const fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) {
    if (Result<> r = make_directories(target, parent); !r) return r;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return io_error(target, "creating directory " + dir.string(), errno);
  }
  return {};
}

Result<> write_all(int fd, std::string_view content) {
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::kIo, std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

std::string render_config(const GlobalConfig& config) {
  std::vector<std::string> problems;
  return render(config, problems);
}

Result<std::string> try_render_config(const GlobalConfig& config) {
  std::vector<std::string> problems;
  std::string text = render(config, problems);
  if (!problems.empty()) return fail(ErrorKind::kInvalidInput, join(problems, "; "));
  return text;
}

Result<> write_file_atomic(const fs::path& path, std::string_view content) {
  fs::path target = path;
  std::error_code ec;
  if (fs::is_symlink(path, ec)) {
    // Replace what the link points at, not the link (os.WriteFile writes through it too).
    fs::path resolved = fs::weakly_canonical(path, ec);
    if (!ec) target = resolved;
  }
  if (target.filename().empty()) {
    return fail(ErrorKind::kIo, fmt::format("saving {}: not a file path", path.string()));
  }
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  if (Result<> r = make_directories(path, dir); !r) return r;

  std::string temp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd.valid()) return io_error(path, "creating a temporary file in " + dir.string(), errno);

  // From here on the temporary file must not outlive a failure.
  auto abandon = [&](tl::unexpected<Error> error) {
    fd.reset();
    ::unlink(temp.c_str());
    return error;
  };
  if (::fchmod(fd.get(), 0600) != 0) return abandon(io_error(path, "chmod " + temp, errno));
  if (Result<> r = write_all(fd.get(), content); !r) {
    return abandon(fail(ErrorKind::kIo, fmt::format("saving {}: writing {}: {}", path.string(),
                                                    temp, r.error().message)));
  }
  if (::fsync(fd.get()) != 0) return abandon(io_error(path, "fsync " + temp, errno));
  if (::close(fd.release()) != 0) return abandon(io_error(path, "closing " + temp, errno));
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    return abandon(io_error(path, "renaming " + temp + " to " + target.string(), errno));
  }
  // Make the rename itself durable; the new file is in place either way.
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.valid()) ::fsync(dir_fd.get());
  return {};
}

Result<> save_config_atomic(const fs::path& path, const GlobalConfig& config) {
  Result<std::string> text = try_render_config(config);
  if (!text) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("saving {}: {}", path.string(), text.error().message));
  }
  // Never write a file the runner could not load back.
  auto no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  Result<GlobalConfig> back = parse_config(*text, path.string() + " (rendered)", no_env);
  if (!back) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("saving {}: refusing to write a config that does not load: {}",
                            path.string(), back.error().message));
  }
  return write_file_atomic(path, *text);
}

}  // namespace glr
