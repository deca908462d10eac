// The --template-config merge of `register` (api spec §1.7), following mergo's
// "fill the zero values" rule that the official command uses (see config_template.h).
#include "config/config_template.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "config/toml_text.h"

namespace glr {
namespace {

void fill(std::string& dst, const std::string& src) {
  if (dst.empty()) dst = src;
}
template <class T>
void fill(T& dst, const T& src) {
  if (dst == T{}) dst = src;
}
void fill(bool& dst, bool src) { dst = dst || src; }
void fill(std::optional<bool>& dst, const std::optional<bool>& src) {
  if (src && (!dst || !*dst)) dst = src;
}
void fill(std::vector<std::string>& dst, const std::vector<std::string>& src) {
  if (dst.empty()) dst = src;
}
template <class V>
void fill(std::map<std::string, V>& dst, const std::map<std::string, V>& src) {
  for (const auto& [k, v] : src) {
    auto it = dst.find(k);
    if (it == dst.end() || it->second == V{}) dst[k] = v;
  }
}

// Go's zero value as mergo's isEmptyValue sees it; datetimes never count as empty.
bool is_empty(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return n.as_string()->get().empty();
    case toml::node_type::integer:
      return n.as_integer()->get() == 0;
    case toml::node_type::floating_point:
      return n.as_floating_point()->get() == 0.0;
    case toml::node_type::boolean:
      return !n.as_boolean()->get();
    case toml::node_type::array:
      return n.as_array()->empty();
    case toml::node_type::table:
      return n.as_table()->empty();
    default:
      return false;
  }
}

void put(toml::table& dst, std::string_view key, const toml::node& value) {
  value.visit([&](const auto& v) { dst.insert_or_assign(key, v); });
}

void merge_tables(toml::table& dst, const toml::table& src) {
  for (auto&& [k, sv] : src) {
    toml::node* dv = dst.get(k.str());
    if (dv == nullptr) {
      put(dst, k.str(), sv);
    } else if (dv->is_table() && sv.is_table()) {
      merge_tables(*dv->as_table(), *sv.as_table());
    } else if (is_empty(*dv) && !is_empty(sv)) {
      put(dst, k.str(), sv);
    }
  }
}

Result<std::string> merge_section_text(const std::string& dst_text, const std::string& src_text,
                                       const std::string& name, const std::string& template_name) {
  toml::table dst;
  toml::table src;
  try {
    dst = toml::parse(dst_text);
  } catch (const toml::parse_error& e) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("merging {}: section [runners.{}] of the new runner is not valid "
                            "TOML: {}",
                            template_name, name, e.description()));
  }
  try {
    src = toml::parse(src_text);
  } catch (const toml::parse_error& e) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("merging {}: section [runners.{}] is not valid TOML: {}", template_name,
                            name, e.description()));
  }
  merge_tables(dst, src);
  return config_internal::table_text(dst);
}

}  // namespace

Result<RunnerSettings> merge_template(const RunnerSettings& from_flags,
                                      std::string_view template_toml,
                                      const std::string& template_name) {
  Result<GlobalConfig> loaded = parse_config(template_toml, template_name);
  if (!loaded) {
    return fail(ErrorKind::kInvalidInput,
                "couldn't load configuration template file: " + loaded.error().message);
  }
  if (loaded->runners.size() != 1) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("{}: configuration template must contain exactly one [[runners]] "
                            "entry",
                            template_name));
  }
  const RunnerSettings& t = loaded->runners[0];
  RunnerSettings r = from_flags;

  fill(r.name, t.name);
  fill(r.url, t.url);
  fill(r.id, t.id);
  // The template's token is discarded; timestamps are not merged (see header).
  fill(r.tls_ca_file, t.tls_ca_file);
  fill(r.tls_cert_file, t.tls_cert_file);
  fill(r.tls_key_file, t.tls_key_file);
  fill(r.executor, t.executor);
  fill(r.shell, t.shell);
  fill(r.builds_dir, t.builds_dir);
  fill(r.cache_dir, t.cache_dir);
  fill(r.clone_url, t.clone_url);
  fill(r.environment, t.environment);
  fill(r.limit, t.limit);
  fill(r.output_limit, t.output_limit);
  fill(r.request_concurrency, t.request_concurrency);
  fill(r.strict_check_interval, t.strict_check_interval);
  fill(r.unhealthy_requests_limit, t.unhealthy_requests_limit);
  fill(r.unhealthy_interval, t.unhealthy_interval);
  fill(r.job_status_final_update_retry_limit, t.job_status_final_update_retry_limit);
  fill(r.pre_get_sources_script, t.pre_get_sources_script);
  fill(r.post_get_sources_script, t.post_get_sources_script);
  fill(r.pre_build_script, t.pre_build_script);
  fill(r.post_build_script, t.post_build_script);
  fill(r.debug_trace_disabled, t.debug_trace_disabled);
  fill(r.clean_git_config, t.clean_git_config);
  fill(r.safe_directory_checkout, t.safe_directory_checkout);
  fill(r.prepare_timeout, t.prepare_timeout);
  fill(r.get_sources_timeout, t.get_sources_timeout);
  fill(r.labels, t.labels);
  fill(r.feature_flags, t.feature_flags);
  fill(r.custom_build_dir_enabled, t.custom_build_dir_enabled);
  fill(r.proxy_exec, t.proxy_exec);
  fill(r.use_slot_cgroups, t.use_slot_cgroups);
  fill(r.slot_cgroup_template, t.slot_cgroup_template);
  fill(r.step_runner_image, t.step_runner_image);

  for (const std::string& name : t.sections) {
    auto src = t.raw_sections.find(name);
    const std::string src_text = src == t.raw_sections.end() ? std::string() : src->second;
    auto dst = r.raw_sections.find(name);
    if (dst == r.raw_sections.end()) {
      r.raw_sections[name] = src_text;
    } else {
      Result<std::string> merged = merge_section_text(dst->second, src_text, name, template_name);
      if (!merged) return fail(merged.error());
      dst->second = std::move(*merged);
    }
    if (std::find(r.sections.begin(), r.sections.end(), name) == r.sections.end()) {
      r.sections.push_back(name);
    }
  }
  for (const auto& [key, literal] : t.unknown_values) {
    const bool present = std::any_of(r.unknown_values.begin(), r.unknown_values.end(),
                                     [&](const auto& kv) { return kv.first == key; });
    if (!present) r.unknown_values.emplace_back(key, literal);
  }
  return r;
}

}  // namespace glr
