// The YAML edge of local mode: yaml-cpp nodes become ConfigValue trees (with YAML 1.1 scalar
// rules and merge keys, which yaml-cpp 0.7 lacks), then extends, !reference and default: are
// applied and the result is converted to PipelineConfig. No yaml-cpp type leaves this file.
#include "pipeline/ci_yaml.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "pipeline/inputs.h"
#include "pipeline/local_job_spec.h"
#include "pipeline/local_runner.h"
#include "pipeline/rules.h"
#include "util/strings.h"

namespace glr {

namespace {

using Kind = ConfigValue::Kind;

constexpr int kMaxScriptNesting = 10;
constexpr size_t kMaxExtendsDepth = 10;
constexpr int kMaxReferenceDepth = 100;
constexpr int kMaxYamlDepth = 256;

// Top-level keys that are not jobs (§2.5).
const std::set<std::string>& reserved_keys() {
  static const std::set<std::string> keys = {
      "default", "include",  "stages",        "types",       "variables", "workflow",
      "image",   "services", "cache",         "before_script", "after_script", "spec"};
  return keys;
}

// Keys allowed under default: (§3.3); also the names inherit:default may list.
const std::vector<std::string>& default_keys() {
  static const std::vector<std::string> keys = {
      "after_script", "artifacts", "before_script", "cache",   "hooks",   "id_tokens", "identity",
      "image",        "interruptible", "retry",     "services", "tags",   "timeout"};
  return keys;
}

const std::set<std::string>& job_keys() {
  static const std::set<std::string> keys = {
      "script",        "before_script", "after_script", "stage",       "variables",
      "when",          "allow_failure", "image",        "services",    "needs",
      "dependencies",  "artifacts",     "cache",        "rules",       "tags",
      "timeout",       "retry",         "parallel",     "interruptible", "environment",
      "coverage",      "only",          "except",       "start_in",    "resource_group",
      "trigger",       "hooks",         "id_tokens",    "secrets",     "release",
      "pages",         "inherit",       "extends",      "identity",    "manual_confirmation",
      "dast_configuration", "run",      "inputs"};
  return keys;
}

// Messages carry "<file>:<line>: " so users can jump to the spot.
class Reporter {
 public:
  explicit Reporter(std::string file) : file_(std::move(file)) {}
  tl::unexpected<Error> error(int line, const std::string& message) const {
    if (line <= 0) return fail(ErrorKind::kInvalidInput, fmt::format("{}: {}", file_, message));
    return fail(ErrorKind::kInvalidInput, fmt::format("{}:{}: {}", file_, line, message));
  }
  void warn(int line, const std::string& message) {
    warnings_.push_back(fmt::format("{}:{}: {}", file_, line, message));
  }
  const std::string& file() const { return file_; }
  std::vector<std::string>& warnings() { return warnings_; }
  // Counts converted nodes; false once aliases expand past any sane file (a "YAML bomb").
  bool count_node() { return ++nodes_ <= kMaxNodes; }

 private:
  std::string file_;
  std::vector<std::string> warnings_;
  // Far above any real file: GitLab caps a file at 1 MB, i.e. ~250k one-word list items.
  static constexpr size_t kMaxNodes = 250'000;
  size_t nodes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Scalars: Psych (YAML 1.1) typing, then Ruby to_s (§2.1).

struct Scalar {
  bool is_null = false;
  std::string text{};
};

std::string ruby_float(double d) {
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (std::isnan(d)) return "NaN";
  std::string s = fmt::format("{}", d);
  size_t e = s.find('e');
  if (e == std::string::npos) {
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  return mantissa + s.substr(e);
}

Scalar plain_scalar(const std::string& raw) {
  static const std::regex kNull("^(~|null|Null|NULL)?$");
  static const std::regex kTrue("^(yes|Yes|YES|true|True|TRUE|on|On|ON)$");
  static const std::regex kFalse("^(no|No|NO|false|False|FALSE|off|Off|OFF)$");
  static const std::regex kBin("^([-+]?)0b([01_]+)$");
  static const std::regex kHex("^([-+]?)0x([0-9a-fA-F_]+)$");
  static const std::regex kOct("^([-+]?)0([0-7_]+)$");
  static const std::regex kDec("^([-+]?)(0|[1-9][0-9_]*)$");
  static const std::regex kSexa("^([-+]?)([1-9][0-9_]*(:[0-5]?[0-9])+)$");
  static const std::regex kFloat("^[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?$");
  // Fast path: most scalars are commands or names that no YAML 1.1 type can start like.
  if (!raw.empty() && std::isalpha(static_cast<unsigned char>(raw[0])) &&
      std::string_view("yYnNtTfFoO").find(raw[0]) == std::string_view::npos) {
    return {.is_null = false, .text = raw};
  }
  std::smatch m;
  if (std::regex_match(raw, kNull)) return {.is_null = true, .text = ""};
  if (std::regex_match(raw, kTrue)) return {.is_null = false, .text = "true"};
  if (std::regex_match(raw, kFalse)) return {.is_null = false, .text = "false"};
  auto integer = [](const std::string& sign, std::string digits, int base) -> std::string {
    digits.erase(std::remove(digits.begin(), digits.end(), '_'), digits.end());
    if (digits.empty()) digits = "0";
    errno = 0;
    unsigned long long v = std::strtoull(digits.c_str(), nullptr, base);
    if (errno != 0) return sign + digits;  // out of range: keep the digits as written
    std::string out = std::to_string(v);
    return (sign == "-" && v != 0) ? "-" + out : out;
  };
  if (std::regex_match(raw, m, kBin)) return {.is_null = false, .text = integer(m[1], m[2], 2)};
  if (std::regex_match(raw, m, kHex)) return {.is_null = false, .text = integer(m[1], m[2], 16)};
  if (std::regex_match(raw, m, kOct)) return {.is_null = false, .text = integer(m[1], m[2], 8)};
  if (std::regex_match(raw, m, kDec)) return {.is_null = false, .text = integer(m[1], m[2], 10)};
  if (std::regex_match(raw, m, kSexa)) {
    long long total = 0;
    for (const std::string& part : split(replace_all(m[2].str(), "_", ""), ':')) {
      total = total * 60 + std::atoll(part.c_str());
    }
    return {.is_null = false, .text = (m[1] == "-" ? "-" : "") + std::to_string(total)};
  }
  if (raw != "." && std::regex_match(raw, kFloat)) {
    std::string digits = replace_all(raw, "_", "");
    return {.is_null = false, .text = ruby_float(std::strtod(digits.c_str(), nullptr))};
  }
  return {.is_null = false, .text = raw};
}

// ---------------------------------------------------------------------------------------------
// yaml-cpp -> ConfigValue, with merge keys.

Result<ConfigValue> convert(const YAML::Node& node, Reporter& rep, int depth);

Result<void> apply_merge(const ConfigValue& source, ConfigValue& out, std::set<std::string>& seen,
                         Reporter& rep, int line) {
  // Earlier merge sources and explicit keys win: only add keys not yet present.
  auto add = [&](const ConfigValue& map) {
    for (size_t i = 0; i < map.keys.size(); ++i) {
      if (seen.insert(map.keys[i]).second) {
        out.keys.push_back(map.keys[i]);
        out.items.push_back(map.items[i]);
      }
    }
  };
  if (source.is_mapping()) {
    add(source);
    return {};
  }
  if (source.is_sequence()) {
    for (const ConfigValue& item : source.items) {
      if (!item.is_mapping()) {
        return rep.error(item.line, "merge key (<<) list items must be mappings");
      }
      add(item);
    }
    return {};
  }
  return rep.error(line, "merge key (<<) value should be a mapping or a list of mappings");
}

Result<ConfigValue> convert(const YAML::Node& node, Reporter& rep, int depth) {
  ConfigValue out;
  out.line = node.Mark().line + 1;
  out.column = node.Mark().column + 1;
  if (depth > kMaxYamlDepth || !rep.count_node()) {
    return rep.error(out.line, "YAML nesting too deep or too many nodes (recursive aliases?)");
  }
  const std::string& tag = node.Tag();
  if (tag == "!reference") out.tag = tag;
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out.kind = Kind::kNull;
      return out;
    case YAML::NodeType::Scalar: {
      out.kind = Kind::kScalar;
      if (tag == "!") {
        out.quoted = true;
        out.scalar = node.Scalar();
        return out;
      }
      Scalar s = plain_scalar(node.Scalar());
      if (s.is_null) {
        out.kind = Kind::kNull;
        return out;
      }
      out.scalar = s.text;
      return out;
    }
    case YAML::NodeType::Sequence:
      out.kind = Kind::kSequence;
      for (const YAML::Node& child : node) {
        Result<ConfigValue> item = convert(child, rep, depth + 1);
        if (!item) return fail(item.error());
        out.items.push_back(std::move(*item));
      }
      return out;
    case YAML::NodeType::Map: {
      out.kind = Kind::kMapping;
      std::vector<std::pair<ConfigValue, int>> merges;
      std::map<std::string, size_t> index;
      for (YAML::const_iterator it = node.begin(); it != node.end(); ++it) {
        // Copies: the iterator's pair is a temporary proxy.
        const YAML::Node key = it->first;
        const YAML::Node value_node = it->second;
        int key_line = key.Mark().line + 1;
        if (!key.IsScalar()) return rep.error(key_line, "mapping keys must be strings");
        Result<ConfigValue> value = convert(value_node, rep, depth + 1);
        if (!value) return fail(value.error());
        // Report a value where its key is written (GitLab names keys, not values).
        value->line = key_line;
        value->column = key.Mark().column + 1;
        if (key.Tag() != "!" && key.Scalar() == "<<") {
          merges.emplace_back(std::move(*value), key_line);
          continue;
        }
        std::string name = key.Scalar();
        if (key.Tag() != "!") {
          Scalar s = plain_scalar(name);
          if (!s.is_null) name = s.text;
        }
        auto found = index.find(name);
        if (found != index.end()) {
          // Psych keeps the last value silently; we say so (§2.1 Local).
          rep.warn(key_line,
                   fmt::format("duplicated mapping key '{}': the last value is used", name));
          out.items[found->second] = std::move(*value);
          continue;
        }
        index[name] = out.keys.size();
        out.keys.push_back(name);
        out.items.push_back(std::move(*value));
      }
      std::set<std::string> seen(out.keys.begin(), out.keys.end());
      for (const auto& [source, line] : merges) {
        Result<void> merged = apply_merge(source, out, seen, rep, line);
        if (!merged) return fail(merged.error());
      }
      return out;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// extends (§5) and !reference (§2.3).

void deep_merge(ConfigValue& base, const ConfigValue& over) {
  if (!base.is_mapping() || !over.is_mapping()) {
    base = over;
    return;
  }
  for (size_t i = 0; i < over.keys.size(); ++i) {
    ConfigValue* mine = base.find(over.keys[i]);
    if (mine == nullptr) {
      base.keys.push_back(over.keys[i]);
      base.items.push_back(over.items[i]);
    } else if (mine->is_mapping() && over.items[i].is_mapping()) {
      deep_merge(*mine, over.items[i]);
    } else {
      *mine = over.items[i];
    }
  }
}

class ExtendsResolver {
 public:
  ExtendsResolver(const ConfigValue& root, Reporter& rep) : root_(root), rep_(rep) {}

  Result<ConfigValue> resolve(const std::string& name) {
    auto memo = done_.find(name);
    if (memo != done_.end()) return memo->second;
    const ConfigValue* node = root_.find(name);
    const ConfigValue* ext = node != nullptr && node->is_mapping() ? node->find("extends") : nullptr;
    if (ext == nullptr) return *node;
    if (std::find(chain_.begin(), chain_.end(), name) != chain_.end()) {
      return rep_.error(node->line,
                        fmt::format("{}: circular dependency detected in `extends`", chain_[0]));
    }
    if (chain_.size() > kMaxExtendsDepth) {
      return rep_.error(node->line, fmt::format("{}: nesting too deep in `extends`", chain_[0]));
    }
    std::vector<std::string> parents;
    if (ext->is_scalar()) {
      parents.push_back(ext->scalar);
    } else if (ext->is_sequence()) {
      for (const ConfigValue& item : ext->items) {
        if (!item.is_scalar()) {
          return rep_.error(ext->line, fmt::format("jobs:{}:extends should be an array of strings "
                                                   "or a string",
                                                   name));
        }
        parents.push_back(item.scalar);
      }
    } else {
      return rep_.error(ext->line,
                        fmt::format("jobs:{}:extends should be an array of strings or a string",
                                    name));
    }
    chain_.push_back(name);
    ConfigValue merged{.kind = Kind::kMapping};
    for (const std::string& parent : parents) {
      const ConfigValue* base = root_.find(parent);
      if (base == nullptr) {
        return rep_.error(ext->line, fmt::format("{}: unknown keys in `extends` ({})", name, parent));
      }
      if (!base->is_mapping()) {
        return rep_.error(ext->line,
                          fmt::format("{}: invalid base hashes in `extends` ({})", name, parent));
      }
      Result<ConfigValue> resolved = resolve(parent);
      if (!resolved) return resolved;
      deep_merge(merged, *resolved);
    }
    deep_merge(merged, *node);
    merged.line = node->line;
    merged.column = node->column;
    chain_.pop_back();
    done_[name] = merged;
    return merged;
  }

 private:
  const ConfigValue& root_;
  Reporter& rep_;
  std::vector<std::string> chain_;
  std::map<std::string, ConfigValue> done_;
};

std::string reference_text(const ConfigValue& ref) {
  std::vector<std::string> parts;
  for (const ConfigValue& item : ref.items) parts.push_back(item.scalar);
  return "!reference [" + join(parts, ", ") + "]";
}

class ReferenceResolver {
 public:
  ReferenceResolver(const ConfigValue& root, Reporter& rep) : root_(root), rep_(rep) {}

  Result<void> resolve_all(ConfigValue& value) {
    if (value.tag == "!reference") {
      Result<ConfigValue> target = resolve_reference(value);
      if (!target) return fail(target.error());
      value = std::move(*target);
      return {};
    }
    for (ConfigValue& item : value.items) {
      Result<void> r = resolve_all(item);
      if (!r) return r;
    }
    return {};
  }

 private:
  Result<ConfigValue> resolve_reference(const ConfigValue& ref) {
    bool valid = ref.is_sequence() && !ref.items.empty();
    for (const ConfigValue& item : ref.items) valid = valid && item.is_scalar();
    if (!valid) {
      return rep_.error(ref.line, fmt::format("!reference {} is not valid",
                                              ref.is_sequence() ? reference_text(ref) : ref.scalar));
    }
    std::string text = reference_text(ref);
    if (std::find(stack_.begin(), stack_.end(), text) != stack_.end() ||
        stack_.size() > kMaxReferenceDepth) {
      return rep_.error(ref.line, fmt::format("{} is part of a circular chain", text));
    }
    const ConfigValue* node = &root_;
    for (const ConfigValue& key : ref.items) {
      node = node->is_mapping() ? node->find(key.scalar) : nullptr;
      if (node == nullptr) return rep_.error(ref.line, fmt::format("{} could not be found", text));
    }
    ConfigValue target = *node;
    stack_.push_back(text);
    Result<void> nested = resolve_all(target);
    stack_.pop_back();
    if (!nested) return fail(nested.error());
    return target;
  }

  const ConfigValue& root_;
  Reporter& rep_;
  std::vector<std::string> stack_;
};

// ---------------------------------------------------------------------------------------------
// ConfigValue -> typed fields.

class JobReader {
 public:
  JobReader(Reporter& rep, std::string where) : rep_(rep), where_(std::move(where)) {}

  tl::unexpected<Error> type_error(const ConfigValue& v, const std::string& key,
                                   const std::string& expected) const {
    return rep_.error(v.line, fmt::format("{}:{} config should be {}", where_, key, expected));
  }

  Result<std::string> string(const ConfigValue& v, const std::string& key) const {
    if (!v.is_scalar()) return type_error(v, key, "a string");
    return v.scalar;
  }

  Result<bool> boolean(const ConfigValue& v, const std::string& key) const {
    if (!v.is_scalar() || v.quoted || (v.scalar != "true" && v.scalar != "false")) {
      return type_error(v, key, "a boolean value");
    }
    return v.scalar == "true";
  }

  Result<int> integer(const ConfigValue& v, const std::string& key) const {
    std::optional<long long> n = v.is_scalar() && !v.quoted ? parse_int(v.scalar) : std::nullopt;
    if (!n) return type_error(v, key, "an integer");
    return static_cast<int>(*n);
  }

  // script-like keys (§2.4): a string, or nested lists of strings up to 10 levels.
  Result<std::vector<std::string>> script(const ConfigValue& v, const std::string& key) const {
    std::vector<std::string> out;
    if (v.is_scalar()) {
      out.push_back(v.scalar);
      return out;
    }
    if (!v.is_sequence() || !flatten_script(v, 1, out)) {
      return rep_.error(v.line, fmt::format("{}:{} config should be a string or a nested array of "
                                            "strings up to 10 levels deep",
                                            where_, key));
    }
    return out;
  }

  // A string or a (nested) list of strings, flattened.
  Result<std::vector<std::string>> strings(const ConfigValue& v, const std::string& key,
                                           bool allow_single = true) const {
    std::vector<std::string> out;
    if (v.is_scalar() && allow_single) {
      out.push_back(v.scalar);
      return out;
    }
    if (!v.is_sequence() || !flatten_script(v, 1, out)) {
      return type_error(v, key, "an array of strings");
    }
    return out;
  }

  Result<std::vector<int>> integers(const ConfigValue& v, const std::string& key) const {
    std::vector<int> out;
    if (v.is_scalar()) {
      Result<int> n = integer(v, key);
      if (!n) return fail(n.error());
      out.push_back(*n);
      return out;
    }
    if (!v.is_sequence()) return type_error(v, key, "an integer or an array of integers");
    for (const ConfigValue& item : v.items) {
      Result<int> n = integer(item, key);
      if (!n) return fail(n.error());
      out.push_back(*n);
    }
    return out;
  }

  Result<std::vector<VariableDef>> variables(const ConfigValue& v, const std::string& key,
                                             bool allow_ui_fields) {
    std::vector<VariableDef> out;
    if (v.is_null()) return out;
    if (!v.is_mapping()) return type_error(v, key, "a hash of key value pairs");
    static const std::regex kName("^[A-Za-z0-9_]+$");
    for (size_t i = 0; i < v.keys.size(); ++i) {
      const ConfigValue& item = v.items[i];
      VariableDef def{.name = v.keys[i], .line = item.line != 0 ? item.line : v.line};
      if (!std::regex_match(def.name, kName)) {
        return rep_.error(def.line, fmt::format("{}:{} config uses invalid variable name: {}",
                                                where_, key, def.name));
      }
      if (item.is_null()) {
        rep_.warn(def.line, fmt::format("{}:{}:{} is null; using an empty value", where_, key,
                                        def.name));
      } else if (item.is_scalar()) {
        def.value = item.scalar;
      } else if (item.is_mapping()) {
        for (size_t k = 0; k < item.keys.size(); ++k) {
          const std::string& field = item.keys[k];
          const ConfigValue& fv = item.items[k];
          std::string path = key + ":" + def.name + ":" + field;
          if (field == "value") {
            if (!fv.is_null()) {
              Result<std::string> s = string(fv, path);
              if (!s) return fail(s.error());
              def.value = *s;
            }
          } else if (field == "expand") {
            Result<bool> b = boolean(fv, path);
            if (!b) return fail(b.error());
            def.expand = *b;
          } else if (field == "description" && allow_ui_fields) {
            Result<std::string> s = string(fv, path);
            if (!s) return fail(s.error());
            def.description = *s;
          } else if (field == "options" && allow_ui_fields) {
            Result<std::vector<std::string>> list = strings(fv, path, false);
            if (!list) return fail(list.error());
            def.options = *list;
          } else {
            return rep_.error(fv.line, fmt::format("{}:{}:{} config contains unknown keys: {}",
                                                   where_, key, def.name, field));
          }
        }
        if (!def.options.empty() &&
            std::find(def.options.begin(), def.options.end(), def.value) == def.options.end()) {
          return rep_.error(def.line, fmt::format("{}:{}:{} config value must be present in "
                                                  "options",
                                                  where_, key, def.name));
        }
      } else {
        return rep_.error(def.line, fmt::format("{}:{} config should be a hash of key value pairs, "
                                                "value can be a hash",
                                                where_, key));
      }
      out.push_back(std::move(def));
    }
    return out;
  }

  Result<When> when(const ConfigValue& v, const std::string& key, bool allow_never) const {
    static const std::map<std::string, When> kWhen = {
        {"on_success", When::kOnSuccess}, {"on_failure", When::kOnFailure},
        {"always", When::kAlways},        {"manual", When::kManual},
        {"delayed", When::kDelayed},      {"never", When::kNever}};
    auto it = v.is_scalar() ? kWhen.find(v.scalar) : kWhen.end();
    if (it == kWhen.end()) {
      return rep_.error(v.line, fmt::format("{}:{} config should be one of on_success, on_failure, "
                                            "always, manual, delayed{}",
                                            where_, key, allow_never ? ", never" : ""));
    }
    if (it->second == When::kNever && !allow_never) {
      return rep_.error(v.line, fmt::format("{} when:never can only be used in a rules section or "
                                            "workflow:rules",
                                            where_));
    }
    return it->second;
  }

  Result<AllowFailure> allow_failure(const ConfigValue& v, const std::string& key) const {
    if (v.is_mapping()) {
      const ConfigValue* codes = v.find("exit_codes");
      if (codes == nullptr || v.keys.size() != 1) {
        return type_error(v, key, "a boolean value or a hash with exit_codes");
      }
      Result<std::vector<int>> list = integers(*codes, key + ":exit_codes");
      if (!list) return fail(list.error());
      return AllowFailure{.allowed = false, .exit_codes = *list};
    }
    Result<bool> b = boolean(v, key);
    if (!b) return fail(b.error());
    return AllowFailure{.allowed = *b, .exit_codes = {}};
  }

  Result<ImageDef> image(const ConfigValue& v, const std::string& key) const {
    ImageDef out;
    if (v.is_scalar()) {
      out.name = v.scalar;
      return out;
    }
    if (!v.is_mapping()) return type_error(v, key, "a hash or a string");
    for (size_t i = 0; i < v.keys.size(); ++i) {
      const std::string& k = v.keys[i];
      const ConfigValue& item = v.items[i];
      Result<void> ok;
      if (k == "name") {
        Result<std::string> s = string(item, key + ":name");
        if (!s) return fail(s.error());
        out.name = *s;
      } else if (k == "alias") {
        Result<std::string> s = string(item, key + ":alias");
        if (!s) return fail(s.error());
        out.alias = *s;
      } else if (k == "entrypoint" || k == "command" || k == "pull_policy") {
        Result<std::vector<std::string>> list = strings(item, key + ":" + k);
        if (!list) return fail(list.error());
        (k == "entrypoint" ? out.entrypoint : k == "command" ? out.command : out.pull_policy) =
            *list;
      }
      // docker:, kubernetes:, ports, variables: executor details (executors.md §7.3).
    }
    if (out.name.empty()) return rep_.error(v.line, fmt::format("{}:{}:name can't be blank", where_, key));
    return out;
  }

  Result<std::vector<ImageDef>> services(const ConfigValue& v, const std::string& key) const {
    std::vector<ImageDef> out;
    if (!v.is_sequence()) return type_error(v, key, "an array of hashes or strings");
    std::vector<const ConfigValue*> flat;
    flatten_values(v, flat);
    for (const ConfigValue* item : flat) {
      Result<ImageDef> img = image(*item, key);
      if (!img) return fail(img.error());
      out.push_back(std::move(*img));
    }
    return out;
  }

  Result<std::vector<NeedDef>> needs(const ConfigValue& v, const std::string& key) const {
    std::vector<NeedDef> out;
    if (!v.is_sequence()) return type_error(v, key, "an array");
    std::vector<const ConfigValue*> flat;
    flatten_values(v, flat);
    for (const ConfigValue* item : flat) {
      NeedDef need;
      if (item->is_scalar()) {
        need.job = item->scalar;
      } else if (item->is_mapping()) {
        for (size_t i = 0; i < item->keys.size(); ++i) {
          const std::string& k = item->keys[i];
          const ConfigValue& f = item->items[i];
          std::string path = key + ":need:" + k;
          if (k == "job" || k == "project" || k == "ref" || k == "pipeline") {
            Result<std::string> s = string(f, path);
            if (!s) return fail(s.error());
            (k == "job" ? need.job : k == "project" ? need.project : k == "ref" ? need.ref
                                                                               : need.pipeline) = *s;
          } else if (k == "artifacts" || k == "optional") {
            Result<bool> b = boolean(f, path);
            if (!b) return fail(b.error());
            (k == "artifacts" ? need.artifacts : need.optional) = *b;
          } else if (k == "parallel") {
            need.parallel = f;
          } else {
            return rep_.error(f.line, fmt::format("{}:{}:need config contains unknown keys: {}",
                                                  where_, key, k));
          }
        }
        if (need.job.empty() && need.pipeline.empty()) {
          return rep_.error(item->line, fmt::format("{}:{} entries cannot be empty", where_, key));
        }
      } else {
        return rep_.error(item->line, fmt::format("{}:{} entries cannot be empty", where_, key));
      }
      out.push_back(std::move(need));
    }
    return out;
  }

  Result<std::vector<RuleDef>> rules(const ConfigValue& v, const std::string& key) {
    std::vector<RuleDef> out;
    if (!v.is_sequence()) return type_error(v, key, "an array of hashes");
    std::vector<const ConfigValue*> flat;
    flatten_values(v, flat);
    if (flat.empty()) return rep_.error(v.line, fmt::format("{}:{} config can't be blank", where_, key));
    for (const ConfigValue* item : flat) {
      if (!item->is_mapping()) return type_error(*item, key + ":rule", "a hash");
      RuleDef rule{.line = item->line};
      for (size_t i = 0; i < item->keys.size(); ++i) {
        const std::string& k = item->keys[i];
        const ConfigValue& f = item->items[i];
        std::string path = key + ":rule:" + k;
        if (k == "if") {
          Result<std::string> s = string(f, path);
          if (!s) return fail(s.error());
          rule.if_expr = *s;
        } else if (k == "changes") {
          rule.changes = f;
        } else if (k == "exists") {
          rule.exists = f;
        } else if (k == "when") {
          Result<When> w = when(f, path, true);
          if (!w) return fail(w.error());
          rule.when = *w;
        } else if (k == "allow_failure") {
          Result<AllowFailure> a = allow_failure(f, path);
          if (!a) return fail(a.error());
          rule.allow_failure = *a;
        } else if (k == "start_in") {
          Result<std::string> s = string(f, path);
          if (!s) return fail(s.error());
          rule.start_in = *s;
        } else if (k == "needs") {
          Result<std::vector<NeedDef>> n = needs(f, path);
          if (!n) return fail(n.error());
          rule.needs = *n;
        } else if (k == "variables") {
          Result<std::vector<VariableDef>> vars = variables(f, path, false);
          if (!vars) return fail(vars.error());
          rule.variables = *vars;
        } else if (k == "interruptible") {
          Result<bool> b = boolean(f, path);
          if (!b) return fail(b.error());
          rule.interruptible = *b;
        } else {
          return rep_.error(f.line, fmt::format("{}:{}:rule config contains unknown keys: {}",
                                                where_, key, k));
        }
      }
      out.push_back(std::move(rule));
    }
    return out;
  }

  Result<ArtifactsDef> artifacts(const ConfigValue& v, const std::string& key) const {
    ArtifactsDef out;
    if (!v.is_mapping()) return type_error(v, key, "a hash");
    for (size_t i = 0; i < v.keys.size(); ++i) {
      const std::string& k = v.keys[i];
      const ConfigValue& f = v.items[i];
      std::string path = key + ":" + k;
      if (k == "paths" || k == "exclude") {
        Result<std::vector<std::string>> list = strings(f, path, false);
        if (!list) return fail(list.error());
        (k == "paths" ? out.paths : out.exclude) = *list;
      } else if (k == "untracked") {
        Result<bool> b = boolean(f, path);
        if (!b) return fail(b.error());
        out.untracked = *b;
      } else if (k == "when" || k == "expire_in" || k == "name") {
        Result<std::string> s = string(f, path);
        if (!s) return fail(s.error());
        (k == "when" ? out.when : k == "expire_in" ? out.expire_in : out.name) = *s;
      } else if (k == "reports") {
        out.reports = f;
        if (const ConfigValue* dotenv = f.is_mapping() ? f.find("dotenv") : nullptr) {
          Result<std::vector<std::string>> list = strings(*dotenv, path + ":dotenv");
          if (!list) return fail(list.error());
          out.dotenv = *list;
        }
      } else if (k != "expose_as" && k != "public" && k != "access") {
        return rep_.error(f.line,
                          fmt::format("{}:{} config contains unknown keys: {}", where_, key, k));
      }
    }
    return out;
  }

  Result<std::vector<CacheDef>> cache(const ConfigValue& v, const std::string& key) const {
    std::vector<CacheDef> out;
    std::vector<const ConfigValue*> entries;
    if (v.is_mapping()) {
      entries.push_back(&v);
    } else if (v.is_sequence()) {
      flatten_values(v, entries);
    } else {
      return type_error(v, key, "a hash or an array of hashes");
    }
    for (const ConfigValue* entry : entries) {
      if (!entry->is_mapping()) return type_error(*entry, key, "a hash or an array of hashes");
      CacheDef c;
      for (size_t i = 0; i < entry->keys.size(); ++i) {
        const std::string& k = entry->keys[i];
        const ConfigValue& f = entry->items[i];
        std::string path = key + ":" + k;
        if (k == "key") {
          c.key = f;
        } else if (k == "paths" || k == "fallback_keys") {
          Result<std::vector<std::string>> list = strings(f, path, false);
          if (!list) return fail(list.error());
          (k == "paths" ? c.paths : c.fallback_keys) = *list;
        } else if (k == "untracked") {
          Result<bool> b = boolean(f, path);
          if (!b) return fail(b.error());
          c.untracked = *b;
        } else if (k == "policy" || k == "when") {
          Result<std::string> s = string(f, path);
          if (!s) return fail(s.error());
          (k == "policy" ? c.policy : c.when) = *s;
        } else if (k != "unprotect") {
          return rep_.error(f.line,
                            fmt::format("{}:{} config contains unknown keys: {}", where_, key, k));
        }
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  Result<RetryDef> retry(const ConfigValue& v, const std::string& key) const {
    RetryDef out;
    if (v.is_mapping()) {
      for (size_t i = 0; i < v.keys.size(); ++i) {
        const std::string& k = v.keys[i];
        const ConfigValue& f = v.items[i];
        if (k == "max") {
          Result<int> n = integer(f, key + ":max");
          if (!n) return fail(n.error());
          out.max = *n;
        } else if (k == "when") {
          Result<std::vector<std::string>> list = strings(f, key + ":when");
          if (!list) return fail(list.error());
          out.when = *list;
        } else if (k == "exit_codes") {
          Result<std::vector<int>> list = integers(f, key + ":exit_codes");
          if (!list) return fail(list.error());
          out.exit_codes = *list;
        } else {
          return rep_.error(f.line,
                            fmt::format("{}:{} config contains unknown keys: {}", where_, key, k));
        }
      }
    } else {
      Result<int> n = integer(v, key);
      if (!n) return type_error(v, key, "a hash or an integer");
      out.max = *n;
    }
    if (out.max < 0 || out.max > 2) {
      return rep_.error(v.line, fmt::format("{}:{} config should be a hash or an integer between 0 "
                                            "and 2",
                                            where_, key));
    }
    return out;
  }

  Result<ParallelDef> parallel(const ConfigValue& v, const std::string& key) const {
    ParallelDef out;
    if (v.is_mapping() && v.find("matrix") != nullptr) {
      out.matrix = *v.find("matrix");
      if (!out.matrix.is_sequence()) return type_error(out.matrix, key + ":matrix", "an array");
      return out;
    }
    Result<int> n = integer(v, key);
    if (!n || *n < 1 || *n > 200) {
      return rep_.error(v.line, fmt::format("{}:{} config must be less than or equal to 200 and "
                                            "greater than or equal to 1",
                                            where_, key));
    }
    out.count = *n;
    return out;
  }

  Result<EnvironmentDef> environment(const ConfigValue& v, const std::string& key) const {
    EnvironmentDef out;
    if (v.is_scalar()) {
      out.name = v.scalar;
      return out;
    }
    if (!v.is_mapping()) return type_error(v, key, "a hash or a string");
    for (size_t i = 0; i < v.keys.size(); ++i) {
      const std::string& k = v.keys[i];
      const ConfigValue& f = v.items[i];
      if (k == "kubernetes") continue;
      std::string* field = k == "name"              ? &out.name
                           : k == "url"             ? &out.url
                           : k == "action"          ? &out.action
                           : k == "on_stop"         ? &out.on_stop
                           : k == "deployment_tier" ? &out.deployment_tier
                           : k == "auto_stop_in"    ? &out.auto_stop_in
                                                    : nullptr;
      if (field == nullptr) {
        return rep_.error(f.line,
                          fmt::format("{}:{} config contains unknown keys: {}", where_, key, k));
      }
      Result<std::string> s = string(f, key + ":" + k);
      if (!s) return fail(s.error());
      *field = *s;
    }
    return out;
  }

  // `only`/`except` (§8.7, §12), validated as GitLab's Entry::Policy does: an array of refs, or
  // a hash of refs, variables, changes and kubernetes.
  Result<OnlyExceptDef> only_except(const ConfigValue& v, const std::string& key) const {
    OnlyExceptDef out;
    auto refs = [&](const ConfigValue& list, const char* what) -> Result<std::vector<std::string>> {
      std::vector<std::string> items;
      const ConfigValue* bad = list.is_sequence() ? nullptr : &list;
      for (const ConfigValue& item : list.items) {
        if (bad == nullptr && (!item.is_scalar() || !ruby_regexp(item.scalar))) bad = &item;
        items.push_back(item.scalar);
      }
      if (bad == nullptr) return items;
      return rep_.error(bad->line, fmt::format("{}:{} {} should be an array of strings or regular "
                                               "expressions using re2 syntax",
                                               where_, key, what));
    };
    auto strings_only = [&](const ConfigValue& list,
                            const std::string& what) -> Result<std::vector<std::string>> {
      std::vector<std::string> items;
      bool ok = list.is_sequence();
      for (const ConfigValue& item : list.items) {
        ok = ok && item.is_scalar();
        items.push_back(item.scalar);
      }
      if (ok) return items;
      return rep_.error(list.line,
                        fmt::format("{}:{} {} should be an array of strings", where_, key, what));
    };
    if (v.is_sequence()) {
      Result<std::vector<std::string>> list = refs(v, "config");
      if (!list) return fail(list.error());
      out.refs = *list;
      return out;
    }
    if (!v.is_mapping()) {
      return rep_.error(v.line, fmt::format("{}:{} has to be either an array of conditions or a "
                                            "hash",
                                            where_, key));
    }
    if (v.keys.empty())
      return rep_.error(v.line, fmt::format("{}:{} config can't be blank", where_, key));
    for (size_t i = 0; i < v.keys.size(); ++i) {
      const std::string& k = v.keys[i];
      const ConfigValue& f = v.items[i];
      if (k == "refs") {
        Result<std::vector<std::string>> list = refs(f, "refs");
        if (!list) return fail(list.error());
        out.refs = *list;
      } else if (k == "variables") {
        Result<std::vector<std::string>> list = strings_only(f, k);
        if (!list) return fail(list.error());
        for (size_t n = 0; n < list->size(); ++n) {
          if (Result<bool> r = evaluate_expression((*list)[n], {}); !r) {
            return rep_.error(f.items[n].line,
                              fmt::format("{}:{} variables invalid expression syntax ({}): {}",
                                          where_, key, r.error().message, (*list)[n]));
          }
        }
        out.variables = *list;
      } else if (k == "changes") {
        Result<std::vector<std::string>> list = strings_only(f, k);
        if (!list) return fail(list.error());
        out.changes = f;
      } else if (k == "kubernetes") {
        if (!f.is_scalar() || f.scalar != "active") {
          return rep_.error(f.line, fmt::format("{}:{} kubernetes unknown value: {}", where_, key,
                                                f.is_scalar() ? f.scalar : ""));
        }
        out.kubernetes = f.scalar;
      } else {
        return rep_.error(f.line,
                          fmt::format("{}:{} config contains unknown keys: {}", where_, key, k));
      }
    }
    return out;
  }

  Result<TriggerDef> trigger(const ConfigValue& v, const std::string& key) const {
    TriggerDef out;
    if (v.is_scalar()) {
      out.project = v.scalar;
      return out;
    }
    if (!v.is_mapping()) return type_error(v, key, "a hash or a string");
    for (size_t i = 0; i < v.keys.size(); ++i) {
      const std::string& k = v.keys[i];
      const ConfigValue& f = v.items[i];
      if (k == "include") {
        out.include = f;
      } else if (k == "forward") {
        out.forward = f;
      } else if (k == "project" || k == "branch" || k == "strategy") {
        Result<std::string> s = string(f, key + ":" + k);
        if (!s) return fail(s.error());
        (k == "project" ? out.project : k == "branch" ? out.branch : out.strategy) = *s;
      } else if (k != "inputs") {
        return rep_.error(f.line,
                          fmt::format("{}:{} config contains unknown keys: {}", where_, key, k));
      }
    }
    return out;
  }

  Result<InheritDef> inherit(const ConfigValue& v, const std::string& key) const {
    InheritDef out;
    if (!v.is_mapping()) return type_error(v, key, "a hash");
    for (size_t i = 0; i < v.keys.size(); ++i) {
      const std::string& k = v.keys[i];
      const ConfigValue& f = v.items[i];
      if (k != "default" && k != "variables") {
        return rep_.error(f.line,
                          fmt::format("{}:{} config contains unknown keys: {}", where_, key, k));
      }
      bool& all = k == "default" ? out.default_all : out.variables_all;
      std::vector<std::string>& names = k == "default" ? out.default_keys : out.variables_keys;
      if (f.is_sequence()) {
        Result<std::vector<std::string>> list = strings(f, key + ":" + k, false);
        if (!list) return fail(list.error());
        all = false;
        names = *list;
        if (k == "default") {
          for (const std::string& name : names) {
            if (std::find(default_keys().begin(), default_keys().end(), name) ==
                default_keys().end()) {
              return rep_.error(f.line, fmt::format("{}:{}:default config contains unknown keys: "
                                                    "{}",
                                                    where_, key, name));
            }
          }
        }
      } else {
        Result<bool> b = boolean(f, key + ":" + k);
        if (!b) return type_error(f, key + ":" + k, "a boolean value or an array of strings");
        all = *b;
      }
    }
    return out;
  }

 private:
  static bool flatten_script(const ConfigValue& v, int level, std::vector<std::string>& out) {
    if (level > kMaxScriptNesting) return false;
    for (const ConfigValue& item : v.items) {
      if (item.is_scalar()) {
        out.push_back(item.scalar);
      } else if (item.is_sequence()) {
        if (!flatten_script(item, level + 1, out)) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  static void flatten_values(const ConfigValue& v, std::vector<const ConfigValue*>& out) {
    for (const ConfigValue& item : v.items) {
      if (item.is_sequence()) {
        flatten_values(item, out);
      } else {
        out.push_back(&item);
      }
    }
  }

  Reporter& rep_;
  std::string where_;
};

Result<JobConfig> read_job(const std::string& name, const ConfigValue& v, Reporter& rep) {
  JobReader r(rep, "jobs:" + name);
  JobConfig job{.name = name, .line = v.line};
  const ConfigValue* run = v.find("run");
  if (v.find("script") == nullptr && v.find("trigger") == nullptr && run == nullptr) {
    return rep.error(v.line, fmt::format("jobs {} config should implement the script:, run:, or "
                                         "trigger: keyword",
                                         name));
  }
  std::vector<std::string> unknown;
  for (const std::string& key : v.keys) {
    if (job_keys().count(key) == 0) unknown.push_back(key);
  }
  if (!unknown.empty()) {
    return rep.error(v.find(unknown[0])->line,
                     fmt::format("jobs:{} config contains unknown keys: {}", name,
                                         join(unknown, ", ")));
  }
  if (v.find("trigger") != nullptr) {
    // §10: a trigger job has no script; these are the only keywords it may use.
    static const std::set<std::string> kTriggerKeys = {
        "allow_failure", "extends", "needs",    "only",   "except",         "rules",
        "stage",         "trigger", "variables", "when",  "resource_group", "environment",
        "inherit"};
    for (size_t i = 0; i < v.keys.size(); ++i) {
      if (kTriggerKeys.count(v.keys[i]) == 0) {
        return rep.error(v.items[i].line,
                         fmt::format("jobs:{} config contains unknown keys: {} (a trigger job may "
                                     "only use {})",
                                     name, v.keys[i], join(std::vector<std::string>(
                                                               kTriggerKeys.begin(),
                                                               kTriggerKeys.end()),
                                                           ", ")));
      }
    }
    const ConfigValue* when = v.find("when");
    if (when != nullptr && when->is_scalar() && when->scalar == "delayed") {
      return rep.error(when->line, fmt::format("jobs:{} when for a trigger job should be "
                                               "on_success, on_failure, always or manual",
                                               name));
    }
  }
  if (run != nullptr) {
    return rep.error(run->line, fmt::format("jobs:{}:run is not supported by local mode", name));
  }
  if (const ConfigValue* inputs = v.find("inputs")) {
    return rep.error(inputs->line,
                     fmt::format("jobs:{}:inputs is not supported by local mode", name));
  }
  bool allow_failure_set = false;
  for (size_t i = 0; i < v.keys.size(); ++i) {
    const std::string& k = v.keys[i];
    const ConfigValue& f = v.items[i];
    // A null value (`artifacts: null`, `variables: null`) drops an inherited value (§5).
    if (f.is_null() && k != "script" && k != "trigger") continue;
    Result<void> ok;
    auto take = [&ok](auto result, auto& field) {
      if (!result) {
        ok = fail(result.error());
      } else {
        field = std::move(*result);
      }
    };
    if (k == "script") {
      take(r.script(f, k), job.script);
      if (ok && job.script.empty()) return rep.error(f.line, fmt::format("jobs:{} has empty script", name));
    } else if (k == "before_script") {
      take(r.script(f, k), job.before_script);
    } else if (k == "after_script") {
      take(r.script(f, k), job.after_script);
    } else if (k == "stage") {
      take(r.string(f, k), job.stage);
    } else if (k == "variables") {
      take(r.variables(f, k, false), job.variables);
    } else if (k == "when") {
      take(r.when(f, k, false), job.when);
    } else if (k == "allow_failure") {
      take(r.allow_failure(f, k), job.allow_failure);
      allow_failure_set = true;
    } else if (k == "image") {
      take(r.image(f, k), job.image);
    } else if (k == "services") {
      take(r.services(f, k), job.services);
    } else if (k == "needs") {
      take(r.needs(f, k), job.needs);
    } else if (k == "dependencies") {
      take(r.strings(f, k, false), job.dependencies);
    } else if (k == "artifacts") {
      take(r.artifacts(f, k), job.artifacts);
    } else if (k == "cache") {
      take(r.cache(f, k), job.cache);
    } else if (k == "rules") {
      take(r.rules(f, k), job.rules);
    } else if (k == "tags") {
      take(r.strings(f, k, false), job.tags);
    } else if (k == "timeout") {
      take(r.string(f, k), job.timeout);
    } else if (k == "retry") {
      take(r.retry(f, k), job.retry);
    } else if (k == "parallel") {
      take(r.parallel(f, k), job.parallel);
    } else if (k == "interruptible") {
      take(r.boolean(f, k), job.interruptible);
    } else if (k == "environment") {
      take(r.environment(f, k), job.environment);
    } else if (k == "coverage") {
      take(r.string(f, k), job.coverage);
      // A pattern that does not compile would silently never match: say so here (§11.2).
      if (ok && !job.coverage.empty() && !coverage_regex(job.coverage)) {
        return rep.error(f.line > 0 ? f.line : v.line,
                         fmt::format("jobs:{} coverage config must be a regular expression", name));
      }
    } else if (k == "only" || k == "except") {
      if (!f.is_null()) take(r.only_except(f, k), k == "only" ? job.only : job.except);
    } else if (k == "start_in") {
      take(r.string(f, k), job.start_in);
    } else if (k == "resource_group") {
      take(r.string(f, k), job.resource_group);
    } else if (k == "trigger") {
      take(r.trigger(f, k), job.trigger);
    } else if (k == "hooks") {
      if (!f.is_mapping()) return r.type_error(f, k, "a hash");
      if (const ConfigValue* pre = f.find("pre_get_sources_script")) {
        take(r.script(*pre, "hooks:pre_get_sources_script"), job.pre_get_sources_script);
      }
    } else if (k == "id_tokens") {
      job.id_tokens = f;
    } else if (k == "secrets") {
      job.secrets = f;
    } else if (k == "release") {
      job.release = f;
    } else if (k == "pages") {
      job.pages = f;
    } else if (k == "inherit") {
      take(r.inherit(f, k), job.inherit);
    } else if (k == "extends") {
      take(r.strings(f, k), job.extends);
    }
    if (!ok) return fail(ok.error());
  }
  if (!allow_failure_set && job.when == When::kManual) job.allow_failure.allowed = true;
  if (!job.start_in.empty() && job.when != When::kDelayed) {
    return rep.error(v.line, fmt::format("jobs:{} start in must be blank when not delayed", name));
  }
  if (job.when == When::kDelayed && job.start_in.empty() && !job.rules) {
    return rep.error(v.line, fmt::format("jobs:{} start in should be a duration", name));
  }
  if (job.rules && (job.only || job.except)) {
    return rep.error(v.line, fmt::format("jobs:{} config key may not be used with `rules`: only, "
                                         "except",
                                         name));
  }
  return job;
}

// ---------------------------------------------------------------------------------------------
// Emitting (--preview).

void emit(YAML::Emitter& out, const ConfigValue& v) {
  switch (v.kind) {
    case Kind::kNull:
      out << YAML::Null;
      break;
    case Kind::kScalar:
      if (v.quoted) {
        out << YAML::DoubleQuoted << v.scalar;
      } else {
        out << v.scalar;
      }
      break;
    case Kind::kSequence:
      out << YAML::BeginSeq;
      for (const ConfigValue& item : v.items) emit(out, item);
      out << YAML::EndSeq;
      break;
    case Kind::kMapping:
      out << YAML::BeginMap;
      for (size_t i = 0; i < v.keys.size(); ++i) {
        out << YAML::Key << v.keys[i] << YAML::Value;
        emit(out, v.items[i]);
      }
      out << YAML::EndMap;
      break;
  }
}

ConfigValue string_list_value(const std::vector<std::string>& items) {
  ConfigValue out{.kind = Kind::kSequence};
  for (const std::string& s : items) out.items.push_back(ConfigValue{.kind = Kind::kScalar, .scalar = s});
  return out;
}

Result<std::vector<std::string>> read_stages(const ConfigValue* node, Reporter& rep) {
  std::vector<std::string> stages;
  if (node == nullptr) {
    stages = {"build", "test", "deploy"};
  } else {
    JobReader r(rep, "root");
    if (!node->is_sequence()) return rep.error(node->line, "stages config should be an array of strings");
    Result<std::vector<std::string>> list = r.strings(*node, "stages", false);
    if (!list) return rep.error(node->line, "stages config should be an array of strings");
    std::set<std::string> seen;
    for (const std::string& s : *list) {
      if (s == ".pre" || s == ".post") continue;
      if (!seen.insert(s).second) {
        return rep.error(node->line, fmt::format("stages config contains duplicate stage: {}", s));
      }
      stages.push_back(s);
    }
  }
  stages.insert(stages.begin(), ".pre");
  stages.push_back(".post");
  return stages;
}

Result<PipelineConfig> build_pipeline(ConfigValue root, Reporter& rep) {
  if (!root.is_mapping()) return rep.error(root.line, "root config should be a hash");

  // §1 step 4: extends, for every top-level mapping that may be a job or a base.
  ExtendsResolver extends(root, rep);
  ConfigValue extended = root;
  for (size_t i = 0; i < root.keys.size(); ++i) {
    if (reserved_keys().count(root.keys[i]) != 0 || !root.items[i].is_mapping()) continue;
    Result<ConfigValue> resolved = extends.resolve(root.keys[i]);
    if (!resolved) return fail(resolved.error());
    extended.items[i] = std::move(*resolved);
  }
  // §1 step 5: !reference against the extended configuration.
  ReferenceResolver references(extended, rep);
  ConfigValue resolved = extended;
  {
    Result<void> r = references.resolve_all(resolved);
    if (!r) return fail(r.error());
  }

  PipelineConfig pipeline;
  pipeline.file_name = rep.file();
  const ConfigValue* stages_node = resolved.find("stages");
  if (stages_node == nullptr) stages_node = resolved.find("types");
  Result<std::vector<std::string>> stages = read_stages(stages_node, rep);
  if (!stages) return fail(stages.error());
  pipeline.stages = *stages;

  JobReader root_reader(rep, "root");
  if (const ConfigValue* vars = resolved.find("variables")) {
    Result<std::vector<VariableDef>> list = root_reader.variables(*vars, "variables", true);
    if (!list) return fail(list.error());
    pipeline.variables = *list;
  }
  if (const ConfigValue* workflow = resolved.find("workflow")) pipeline.workflow = *workflow;
  if (const ConfigValue* include = resolved.find("include")) pipeline.include = *include;

  // §3.3/§3.6: deprecated globals first, then default: on top.
  ConfigValue defaults{.kind = Kind::kMapping};
  for (const char* key : {"image", "services", "cache", "before_script", "after_script"}) {
    if (const ConfigValue* v = resolved.find(key)) {
      defaults.keys.push_back(key);
      defaults.items.push_back(*v);
    }
  }
  if (const ConfigValue* def = resolved.find("default")) {
    if (!def->is_mapping() && !def->is_null()) return rep.error(def->line, "default config should be a hash");
    std::vector<std::string> unknown;
    for (const std::string& key : def->keys) {
      if (std::find(default_keys().begin(), default_keys().end(), key) == default_keys().end()) {
        unknown.push_back(key);
      }
    }
    if (!unknown.empty()) {
      return rep.error(def->find(unknown[0])->line,
                       fmt::format("default config contains unknown keys: {}", join(unknown, ", ")));
    }
    // A default: entry replaces the deprecated global of the same name as a whole.
    for (size_t k = 0; k < def->keys.size(); ++k) {
      if (ConfigValue* global = defaults.find(def->keys[k])) {
        *global = def->items[k];
      } else {
        defaults.keys.push_back(def->keys[k]);
        defaults.items.push_back(def->items[k]);
      }
    }
  }

  ConfigValue preview{.kind = Kind::kMapping};
  preview.keys.push_back("stages");
  preview.items.push_back(string_list_value(pipeline.stages));
  if (const ConfigValue* vars = resolved.find("variables")) {
    preview.keys.push_back("variables");
    preview.items.push_back(*vars);
  }
  if (!pipeline.workflow.is_null()) {
    preview.keys.push_back("workflow");
    preview.items.push_back(pipeline.workflow);
  }

  for (size_t i = 0; i < resolved.keys.size(); ++i) {
    const std::string& name = resolved.keys[i];
    if (reserved_keys().count(name) != 0 || starts_with(name, ".")) continue;
    ConfigValue node = resolved.items[i];
    if (!node.is_mapping()) {
      return rep.error(node.line != 0 ? node.line : resolved.line,
                       fmt::format("jobs {} config should implement the script:, run:, or "
                                   "trigger: keyword",
                                   name));
    }
    // §1 step 8: defaults, filtered by inherit:default.
    InheritDef inherit;
    if (const ConfigValue* in = node.find("inherit")) {
      Result<InheritDef> parsed = JobReader(rep, "jobs:" + name).inherit(*in, "inherit");
      if (!parsed) return fail(parsed.error());
      inherit = *parsed;
    }
    // Trigger jobs take no script-side defaults.
    bool is_trigger = node.find("trigger") != nullptr;
    for (size_t d = 0; d < defaults.keys.size(); ++d) {
      const std::string& key = defaults.keys[d];
      bool wanted = inherit.default_all ||
                    std::find(inherit.default_keys.begin(), inherit.default_keys.end(), key) !=
                        inherit.default_keys.end();
      if (!wanted || is_trigger || node.find(key) != nullptr) continue;
      node.keys.push_back(key);
      node.items.push_back(defaults.items[d]);
    }
    Result<JobConfig> job = read_job(name, node, rep);
    if (!job) return fail(job.error());
    if (std::find(pipeline.stages.begin(), pipeline.stages.end(), job->stage) ==
        pipeline.stages.end()) {
      const ConfigValue* stage = node.find("stage");
      return rep.error(stage != nullptr ? stage->line : node.line,
                       fmt::format("jobs:{} job: chosen stage {} does not exist; available stages "
                                   "are {}",
                                   name, job->stage, join(pipeline.stages, ", ")));
    }
    pipeline.jobs.push_back(std::move(*job));
    // extends is already applied; keeping it would make the preview unparsable on its own.
    for (size_t k = 0; k < node.keys.size(); ++k) {
      if (node.keys[k] == "extends") {
        node.keys.erase(node.keys.begin() + static_cast<std::ptrdiff_t>(k));
        node.items.erase(node.items.begin() + static_cast<std::ptrdiff_t>(k));
        break;
      }
    }
    preview.keys.push_back(name);
    preview.items.push_back(std::move(node));
  }
  pipeline.merged_yaml = format_yaml(preview);
  pipeline.warnings = std::move(rep.warnings());
  return pipeline;
}

}  // namespace

std::string format_yaml(const ConfigValue& value) {
  YAML::Emitter out;
  emit(out, value);
  std::string text = out.c_str();
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

namespace {

// ---------------------------------------------------------------------------------------------
// include (§6): local files (and wildcards) merged in order, nested includes first; the forms
// that need GitLab or the network are a clear error naming the include (§6.9).

constexpr int kMaxIncludes = 150;

// Files git would commit (tracked + untracked not ignored), or every file when not a repository.
std::vector<std::string> project_files(const std::filesystem::path& dir) {
  std::vector<std::string> files;
  if (std::optional<std::string> out =
          run_git(dir, {"ls-files", "-z", "--cached", "--others", "--exclude-standard"})) {
    files = split_nonempty(*out, '\0');
    std::sort(files.begin(), files.end());
    return files;
  }
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(std::filesystem::relative(it->path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The RE2 pattern of an include wildcard: `*` within one path segment, `**` across segments
// (§6.2), everything else literal. Compiled once per include entry, not once per project file.
std::string include_glob_regex(std::string_view pattern) {
  std::string re;
  size_t literal = 0;
  for (size_t i = 0; i <= pattern.size(); ++i) {
    if (i < pattern.size() && pattern[i] != '*') continue;
    re += RE2::QuoteMeta(pattern.substr(literal, i - literal));
    if (i == pattern.size()) break;
    bool two = i + 1 < pattern.size() && pattern[i + 1] == '*';
    re += two ? ".*" : "[^/]*";
    if (two) ++i;
    literal = i + 1;
  }
  return re;
}

// The header document of a file (§3.7): `docs[0]` when it is a mapping with `spec` and a body
// document follows. Removes it from `docs`.
std::optional<YAML::Node> take_header(std::vector<YAML::Node>& docs) {
  if (docs.size() == 2 && docs[0].IsMap() && docs[0]["spec"]) {
    // Not erase(): assigning a YAML::Node writes through to the node it refers to, so shifting
    // the vector would overwrite the header with the body.
    YAML::Node header = docs[0];
    std::vector<YAML::Node> rest(docs.begin() + 1, docs.end());
    docs.swap(rest);
    return header;
  }
  return std::nullopt;
}

// A command-line input value read as its declared type (§3.7 Local): numbers and true/false
// as YAML reads them, arrays as a YAML/JSON flow sequence, anything else as a string. A value
// that does not fit stays a string, so the type check reports it in GitLab's words.
ConfigValue command_line_input(const std::string& text, InputType type, Reporter& rep) {
  ConfigValue quoted{.kind = Kind::kScalar, .scalar = text, .quoted = true};
  if (type == InputType::kNumber || type == InputType::kBoolean) {
    Scalar s = plain_scalar(text);
    ConfigValue plain{.kind = Kind::kScalar, .scalar = s.text};
    return !s.is_null && input_type_of(plain) == type ? plain : quoted;
  }
  if (type == InputType::kArray) {
    try {
      YAML::Node node = YAML::Load(text);
      if (node.IsSequence()) {
        Result<ConfigValue> value = convert(node, rep, 0);
        if (value) return *value;
      }
    } catch (const YAML::Exception&) {
    }
  }
  return quoted;
}

// Where included files come from (§6.3): this project's working tree, or local clones of other
// projects named with --include-project, at a ref through git. What git says about a clone (is
// it a repository, which commit a ref names, its file list) is asked once per run.
class IncludeSources {
 public:
  struct Source {
    std::filesystem::path dir{};
    std::string ref{};      // empty: the files in `dir` as they are
    std::string project{};  // empty: this project
    std::string commit{};   // the commit `ref` names
  };

  IncludeSources(std::filesystem::path dir, const std::map<std::string, std::filesystem::path>& clones)
      : dir_(std::move(dir)), clones_(clones) {}

  Source working_tree() const { return Source{.dir = dir_}; }
  bool has_clone(const std::string& project) const { return clones_.count(project) != 0; }

  // A clone at `ref` (empty: its HEAD, standing for the project's default branch); a clone
  // that is not a git repository is read as it is, and then takes no ref. The error is a
  // sentence without a location.
  Result<Source> clone(const std::string& project, std::string ref) {
    const std::filesystem::path& dir = clones_.at(project);
    auto repo = is_repo_.find(dir.string());
    if (repo == is_repo_.end()) {
      repo = is_repo_.emplace(dir.string(), run_git(dir, {"rev-parse", "--git-dir"}).has_value()).first;
    }
    if (!repo->second) {
      if (!ref.empty()) {
        return fail(ErrorKind::kInvalidInput,
                    fmt::format("project `{}`: ref `{}` needs {} to be a git repository", project,
                                ref, dir.string()));
      }
      return Source{.dir = dir, .ref = "", .project = project};
    }
    if (ref.empty()) ref = "HEAD";
    std::string key = dir.string() + "\n" + ref;
    auto commit = commits_.find(key);
    if (commit == commits_.end()) {
      commit = commits_.emplace(key, run_git(dir, {"rev-parse", "--verify", "--quiet", ref + "^{commit}"}))
                   .first;
    }
    if (!commit->second) {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("project `{}`: ref `{}` does not exist in {}", project, ref, dir.string()));
    }
    return Source{.dir = dir, .ref = ref, .project = project, .commit = *commit->second};
  }

  // The files of a source: git's view of the working tree, or the tree at `ref`; sorted.
  const std::vector<std::string>& files(const Source& s) {
    std::string key = s.dir.string() + "\n" + s.ref;
    auto cached = listings_.find(key);
    if (cached != listings_.end()) return cached->second;
    std::vector<std::string> files;
    if (s.ref.empty()) {
      files = project_files(s.dir);
    } else {
      files = split_nonempty(
          run_git(s.dir, {"ls-tree", "-r", "-z", "--name-only", s.ref}).value_or(""), '\0');
      std::sort(files.begin(), files.end());
    }
    return listings_.emplace(key, std::move(files)).first->second;
  }

  // A file's text; nullopt when it cannot be read.
  std::optional<std::string> read(const Source& s, const std::string& file) const {
    if (!s.ref.empty()) return run_git(s.dir, {"show", s.ref + ":" + file});
    std::ifstream in(s.dir / file, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // How messages name a file: "ci/x.yml", or "group/lib:ci/x.yml" for a clone's.
  static std::string name(const Source& s, const std::string& file) {
    return s.project.empty() ? file : s.project + ":" + file;
  }

 private:
  std::filesystem::path dir_;
  const std::map<std::string, std::filesystem::path>& clones_;
  std::map<std::string, bool> is_repo_{};
  std::map<std::string, std::optional<std::string>> commits_{};  // dir + ref -> commit
  std::map<std::string, std::vector<std::string>> listings_{};   // dir + ref -> files
};

// spec:include entries: `local` (a path from the project root, as include:local), or
// `project` + `file` (+ `ref`) from a clone given with --include-project; the other forms need
// GitLab or the network (§6.3-6.5) and are an error. `sources` must outlive the loader.
SpecIncludeLoader spec_include_loader(IncludeSources& sources) {
  return [&sources](const ConfigValue& entry) -> Result<SpecIncludeFile> {
    std::string local;
    IncludeSources::Source src = sources.working_tree();
    const ConfigValue* project = entry.is_mapping() ? entry.find("project") : nullptr;
    if (entry.is_scalar()) {
      local = entry.scalar;
    } else if (project != nullptr && project->is_scalar() && sources.has_clone(project->scalar)) {
      const ConfigValue* file = entry.find("file");
      if (file == nullptr || !file->is_scalar()) {
        return fail(ErrorKind::kInvalidInput, fmt::format("project `{}` needs file:", project->scalar));
      }
      const ConfigValue* ref = entry.find("ref");
      Result<IncludeSources::Source> clone =
          sources.clone(project->scalar, ref != nullptr && ref->is_scalar() ? ref->scalar : "");
      if (!clone) return fail(clone.error());
      src = *clone;
      local = file->scalar;
    } else if (entry.is_mapping()) {
      const ConfigValue* value = entry.find("local");
      if (value == nullptr) {
        for (const char* form : {"remote", "project", "component", "template"}) {
          if (const ConfigValue* other = entry.find(form)) {
            return fail(ErrorKind::kInvalidInput,
                        fmt::format("`{}: {}` cannot be resolved offline: vendor the file and use "
                                    "`local:`",
                                    form, other->is_scalar() ? other->scalar : "..."));
          }
        }
        return fail(ErrorKind::kInvalidInput, "entry should name a `local` file");
      }
      if (!value->is_scalar()) return fail(ErrorKind::kInvalidInput, "local should be a string");
      local = value->scalar;
    } else {
      return fail(ErrorKind::kInvalidInput, "entry should be a string or a hash");
    }
    while (!local.empty() && local.front() == '/') local.erase(0, 1);
    std::string name = IncludeSources::name(src, local);
    std::optional<std::string> text = local.empty() ? std::nullopt : sources.read(src, local);
    if (!text) {
      return fail(ErrorKind::kInvalidInput,
                  src.ref.empty() ? fmt::format("local file `{}` does not exist", name)
                                  : fmt::format("file `{}` does not exist at `{}` in {}", name,
                                                src.ref, src.dir.string()));
    }
    Reporter rep(name);
    YAML::Node node;
    try {
      node = YAML::Load(*text);
    } catch (const YAML::Exception& e) {
      return fail(ErrorKind::kInvalidInput, fmt::format("`{}`:{}:{}: YAML syntax error: {}", name,
                                                        e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    Result<ConfigValue> root = convert(node, rep, 0);
    if (!root) return fail(root.error());
    return SpecIncludeFile{.name = name, .root = std::move(*root)};
  };
}

// Interpolates `body` with the inputs of `specs` (§6.8); see apply_inputs.
Result<void> apply_input_specs(const std::vector<InputSpec>& specs, ConfigValue& body,
                               const std::vector<std::pair<std::string, ConfigValue>>& given,
                               const std::string& where, const ExpressionVariables& variables,
                               Reporter& rep, const InputValues* component = nullptr) {
  Result<InputValues> values = resolve_inputs(specs, given, where);
  if (!values) return fail(values.error());
  return interpolate_inputs(body, *values, variables, rep.file(), component);
}

// Interpolates `body` with the inputs its `header` declares (§6.8), or warns about `$[[ inputs.`
// blocks in a file without a header, which GitLab leaves as written. `given` are the values of
// include:inputs / --input; `where` prefixes input errors ("<file>:<line>: include `x`").
Result<void> apply_inputs(const std::optional<ConfigValue>& header, ConfigValue& body,
                          const std::vector<std::pair<std::string, ConfigValue>>& given,
                          const std::string& where, const ExpressionVariables& variables,
                          Reporter& rep, const InputValues* component = nullptr,
                          const SpecIncludeLoader& load_include = {}) {
  if (!header) {
    if (!given.empty()) {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("{}: Given inputs not defined in the `spec` section of the included "
                              "configuration file",
                              where));
    }
    for (int line : interpolation_lines(body)) {
      rep.warn(line,
               "`$[[ inputs.… ]]` in a file without a spec:inputs header is left as written "
               "(as GitLab does)");
    }
    return {};
  }
  Result<std::vector<InputSpec>> specs = read_input_specs(*header, rep.file(), load_include);
  if (!specs) return fail(specs.error());
  return apply_input_specs(*specs, body, given, where, variables, rep, component);
}

class IncludeResolver {
 public:
  using Source = IncludeSources::Source;

  // `sources` must outlive the resolver.
  IncludeResolver(const IncludeContext& context, IncludeSources& sources)
      : dir_(context.project_dir),
        variables_(context.variables),
        commit_sha_(context.commit_sha),
        sources_(sources) {}

  Result<void> resolve(ConfigValue& root, Reporter& rep, int depth) {
    return resolve(root, rep, depth, sources_.working_tree());
  }

  // Replaces `root`'s include: by the merged content of the included files, `root` on top.
  // Local includes are read from `src`, the source of the file `root` came from (§6.3).
  Result<void> resolve(ConfigValue& root, Reporter& rep, int depth, const Source& src) {
    if (!root.is_mapping()) return {};
    ConfigValue* include = root.find("include");
    if (include == nullptr) return {};
    ConfigValue entries = *include;
    size_t at = static_cast<size_t>(include - root.items.data());
    root.keys.erase(root.keys.begin() + static_cast<std::ptrdiff_t>(at));
    root.items.erase(root.items.begin() + static_cast<std::ptrdiff_t>(at));
    if (depth > 100) return rep.error(entries.line, "include: nested too deeply");
    std::vector<ConfigValue> list;
    if (entries.is_sequence()) {
      list = entries.items;
    } else if (!entries.is_null()) {
      list.push_back(entries);
    }
    ConfigValue merged{.kind = ConfigValue::Kind::kMapping};
    for (const ConfigValue& entry : list) {
      if (entry.is_mapping()) {
        Result<void> keys = check_keys(entry, rep);
        if (!keys) return keys;
        if (const ConfigValue* rules = entry.find("rules")) {
          Result<bool> pass = rules_pass(*rules, rep);
          if (!pass) return fail(pass.error());
          if (!*pass) continue;
        }
      }
      std::optional<InputValues> component;
      Source from = src;
      Result<std::vector<std::string>> files = local_files(entry, rep, component, src, from);
      if (!files) return fail(files.error());
      std::vector<std::pair<std::string, ConfigValue>> inputs;
      if (const ConfigValue* given = entry.is_mapping() ? entry.find("inputs") : nullptr;
          given != nullptr && !given->is_null()) {
        if (!given->is_mapping())
          return rep.error(given->line, "include:inputs config should be a hash");
        for (size_t i = 0; i < given->keys.size(); ++i)
          inputs.emplace_back(given->keys[i], given->items[i]);
      }
      for (const std::string& file : *files) {
        if (++count_ > kMaxIncludes) {
          return rep.error(entry.line,
                           fmt::format("Maximum of {} nested includes are allowed!", kMaxIncludes));
        }
        Result<ConfigValue> content =
            load(file, rep, entry.line, depth, inputs, component ? &*component : nullptr, from);
        if (!content) return fail(content.error());
        deep_merge(merged, *content);
      }
    }
    deep_merge(merged, root);
    root = std::move(merged);
    return {};
  }

  std::vector<std::string> warnings{};

 private:
  Result<void> check_keys(const ConfigValue& entry, Reporter& rep) {
    static const std::set<std::string> kKeys = {
        "local",  "project", "file",      "ref",   "remote",   "template", "component",
        "inputs", "rules",   "integrity", "cache", "artifact", "job"};
    for (size_t i = 0; i < entry.keys.size(); ++i) {
      if (kKeys.count(entry.keys[i]) == 0) {
        return rep.error(entry.items[i].line,
                         fmt::format("include config contains unknown keys: {}", entry.keys[i]));
      }
    }
    return {};
  }

  // include:rules (§6.7): the first matching rule decides; none matching means "not included".
  Result<bool> rules_pass(const ConfigValue& rules, Reporter& rep) {
    if (rules.is_null()) return true;
    if (!rules.is_sequence())
      return rep.error(rules.line, "include:rules config should be an array of hashes");
    for (const ConfigValue& rule : rules.items) {
      if (!rule.is_mapping())
        return rep.error(rule.line, "include:rules:rule config should be a hash");
      for (size_t i = 0; i < rule.keys.size(); ++i) {
        const std::string& key = rule.keys[i];
        if (key != "if" && key != "exists" && key != "changes" && key != "when") {
          return rep.error(rule.items[i].line,
                           fmt::format("include:rules:rule config contains unknown keys: {}", key));
        }
      }
      const ConfigValue* when = rule.find("when");
      if (when != nullptr && !when->is_null() &&
          (!when->is_scalar() || (when->scalar != "never" && when->scalar != "always"))) {
        return rep.error(when->line,
                         fmt::format("include:rules:rule when unknown value: {}",
                                     when->is_scalar() ? when->scalar : "(not a string)"));
      }
      bool ok = true;
      if (const ConfigValue* expr = rule.find("if"); expr != nullptr && !expr->is_null()) {
        Result<bool> r = expr->is_scalar() ? evaluate_expression(expr->scalar, variables_)
                                           : Result<bool>(fail(ErrorKind::kInvalidInput, ""));
        if (!r) {
          return rep.error(expr->line,
                           fmt::format("include:rules:rule if invalid expression syntax: {}",
                                       expr->is_scalar() ? expr->scalar : ""));
        }
        ok = *r;
      }
      if (const ConfigValue* exists = rule.find("exists"); ok && exists != nullptr) {
        Result<std::vector<std::string>> patterns = exists_patterns(*exists, rep);
        if (!patterns) return fail(patterns.error());
        ok = any_file_exists(dir_, *patterns);
      }
      // changes: no push diff locally; counts as true, like job rules (§8.3).
      if (ok) return when == nullptr || when->is_null() || when->scalar != "never";
    }
    return false;
  }

  Result<std::vector<std::string>> exists_patterns(const ConfigValue& exists, Reporter& rep) {
    const ConfigValue* paths = &exists;
    if (exists.is_mapping()) {
      if (const ConfigValue* project = exists.find("project")) {
        return offline_error(rep, project->line,
                             fmt::format("rules:exists:project `{}`",
                                         project->is_scalar() ? project->scalar : "..."));
      }
      paths = exists.find("paths");
      if (paths == nullptr)
        return rep.error(exists.line, "include:rules:rule exists config should contain paths");
    }
    std::vector<std::string> out;
    auto add = [&](const ConfigValue& v) -> bool {
      if (!v.is_scalar()) return false;
      out.push_back(expand_include_variables(v.scalar, variables_, /*keep_unknown=*/false));
      return true;
    };
    bool valid = paths->is_scalar() ? add(*paths) : paths->is_sequence() || paths->is_null();
    for (const ConfigValue& item : paths->items) valid = valid && add(item);
    if (!valid) {
      return rep.error(paths->line,
                       "include:rules:rule exists should be an array of strings or a string");
    }
    return out;
  }

  std::string expanded(const ConfigValue& v) const {
    return v.is_scalar() ? expand_include_variables(v.scalar, variables_, /*keep_unknown=*/false)
                         : std::string("...");
  }

  // A component of the current project (same CI_SERVER_FQDN and CI_PROJECT_PATH) is read from
  // the working tree, whatever its version (§6.6, §6.9): templates/<name>.yml or
  // templates/<name>/template.yml. nullopt: another project's component.
  std::optional<std::string> own_component(const std::string& address, int line, Reporter& rep,
                                           std::optional<InputValues>& context) {
    size_t at = address.rfind('@');
    size_t first = address.find('/');
    size_t last = address.rfind('/');
    if (at == std::string::npos || first == std::string::npos || last <= first || last > at) {
      return std::nullopt;
    }
    auto variable = [this](const char* name) {
      auto found = variables_.find(name);
      return found == variables_.end() ? std::string() : found->second;
    };
    std::string fqdn = address.substr(0, first);
    std::string project = address.substr(first + 1, last - first - 1);
    std::string name = address.substr(last + 1, at - last - 1);
    std::string version = address.substr(at + 1);
    if (name.empty() || fqdn != variable("CI_SERVER_FQDN") ||
        project != variable("CI_PROJECT_PATH")) {
      return std::nullopt;
    }
    const std::vector<std::string>& files = sources_.files(sources_.working_tree());
    for (const std::string& candidate :
         {"templates/" + name + ".yml", "templates/" + name + "/template.yml"}) {
      if (!std::binary_search(files.begin(), files.end(), candidate)) continue;
      rep.warn(line, fmt::format("component `{}` is read from the working tree ({}); the version "
                                 "`{}` is not checked",
                                 address, candidate, version));
      auto text = [](const std::string& v) {
        return ConfigValue{.kind = ConfigValue::Kind::kScalar, .scalar = v, .quoted = true};
      };
      // The working tree is at the current commit, so that is the component's sha.
      context = InputValues{{"name", text(name)},
                            {"reference", text(version)},
                            {"version", text(version)},
                            {"sha", text(commit_sha_)}};
      return candidate;
    }
    return std::nullopt;
  }

  Result<std::vector<std::string>> local_files(const ConfigValue& entry, Reporter& rep,
                                               std::optional<InputValues>& component,
                                               const Source& src, Source& from) {
    from = src;
    std::string path;
    if (entry.is_scalar()) {
      path = expanded(entry);
      if (starts_with(path, "http://") || starts_with(path, "https://")) {
        return offline_error(rep, entry.line, fmt::format("remote `{}`", path));
      }
    } else if (entry.is_mapping()) {
      if (const ConfigValue* project = entry.find("project");
          project != nullptr && sources_.has_clone(expanded(*project))) {
        return project_files_of(entry, rep, expanded(*project), from);
      }
      for (const char* form : {"project", "remote", "template", "component"}) {
        if (const ConfigValue* v = entry.find(form)) {
          if (std::string_view(form) == "component") {
            if (std::optional<std::string> file =
                    own_component(expanded(*v), entry.line, rep, component)) {
              from = sources_.working_tree();
              return std::vector<std::string>{*file};
            }
            if (std::optional<std::string> file =
                    mapped_component(expanded(*v), entry.line, rep, component, from)) {
              return std::vector<std::string>{*file};
            }
          }
          std::string what = fmt::format("{} `{}`", form, expanded(*v));
          if (const ConfigValue* file = entry.find("file"); file && file->is_scalar()) {
            what += fmt::format(" file `{}`", expanded(*file));
          }
          return offline_error(rep, entry.line, what);
        }
      }
      if (const ConfigValue* artifact = entry.find("artifact")) {
        return rep.error(artifact->line,
                         "include:artifact is only valid in trigger:include of a child pipeline");
      }
      const ConfigValue* local = entry.find("local");
      if (local == nullptr || !local->is_scalar()) {
        return rep.error(entry.line,
                         "include config should be a string or a hash with one of: "
                         "local, project, remote, template, component");
      }
      path = expanded(*local);
    } else {
      return rep.error(entry.line, "include config should be a string or a hash");
    }
    if (starts_with(path, "./") || path.find("..") != std::string::npos) {
      return rep.error(entry.line, fmt::format("include: local `{}`: write paths from the "
                                               "repository root, without `./` or `..`",
                                               path));
    }
    while (starts_with(path, "/")) path.erase(0, 1);
    if (!ends_with(path, ".yml") && !ends_with(path, ".yaml")) {
      return rep.error(
          entry.line, fmt::format("include: local `{}`: the file must end in .yml or .yaml", path));
    }
    std::vector<std::string> out;
    bool wildcard = path.find('*') != std::string::npos;
    RE2 glob(wildcard ? include_glob_regex(path) : std::string(), RE2::Quiet);
    for (const std::string& file : sources_.files(src)) {
      if (wildcard ? RE2::FullMatch(file, glob) : file == path) out.push_back(file);
    }
    if (out.empty()) {
      return rep.error(entry.line,
                       wildcard ? fmt::format("include: local `{}` matches no file", path)
                                : fmt::format("include: Local file `{}` does not exist (local "
                                              "includes are read from files git would commit)",
                                              path));
    }
    return out;
  }

  tl::unexpected<Error> offline_error(Reporter& rep, int line, const std::string& what) {
    return rep.error(line, fmt::format("include: {} cannot be resolved offline: glrunner exec "
                                       "reads include:local files from the working tree, and "
                                       "other projects from local clones named with "
                                       "--include-project PATH=DIR (or vendor the file and "
                                       "include it as local)",
                                       what));
  }

  // include:project with a local clone (§6.3): `file` is one path or a list, read at `ref`.
  Result<std::vector<std::string>> project_files_of(const ConfigValue& entry, Reporter& rep,
                                                    const std::string& project, Source& from) {
    const ConfigValue* file = entry.find("file");
    if (file == nullptr || file->is_null()) {
      return rep.error(entry.line, fmt::format("include: project `{}` needs file:", project));
    }
    std::string ref;
    if (const ConfigValue* r = entry.find("ref"); r != nullptr && !r->is_null()) ref = expanded(*r);
    Result<Source> source = sources_.clone(project, ref);
    if (!source) return rep.error(entry.line, "include: " + source.error().message);
    from = *source;
    std::vector<ConfigValue> paths = file->is_sequence() ? file->items : std::vector<ConfigValue>{*file};
    std::vector<std::string> out;
    const std::vector<std::string>& files = sources_.files(from);
    for (const ConfigValue& p : paths) {
      std::string path = p.is_scalar() ? expanded(p) : std::string();
      while (starts_with(path, "/")) path.erase(0, 1);
      if (path.empty() || path.find("..") != std::string::npos) {
        return rep.error(p.line, fmt::format("include: project `{}`: file `{}` is not a path from "
                                             "the repository root",
                                             project, path));
      }
      if (!std::binary_search(files.begin(), files.end(), path)) {
        return rep.error(p.line, fmt::format("include: project `{}`: file `{}` does not exist at "
                                             "`{}` in {}",
                                             project, path,
                                             from.ref.empty() ? "the working tree" : from.ref,
                                             from.dir.string()));
      }
      out.push_back(path);
    }
    return out;
  }

  // A component of a project given with --include-project (§6.6): templates/<name>.yml or
  // templates/<name>/template.yml at the version (a tag, branch or sha of the clone; `~latest`
  // and partial versions read HEAD, with a warning). nullopt: not such a project.
  std::optional<std::string> mapped_component(const std::string& address, int line, Reporter& rep,
                                              std::optional<InputValues>& context, Source& from) {
    size_t at = address.rfind('@');
    size_t first = address.find('/');
    size_t last = address.rfind('/');
    if (at == std::string::npos || first == std::string::npos || last <= first || last > at) {
      return std::nullopt;
    }
    std::string project = address.substr(first + 1, last - first - 1);
    std::string name = address.substr(last + 1, at - last - 1);
    std::string version = address.substr(at + 1);
    if (name.empty() || !sources_.has_clone(project)) return std::nullopt;
    Result<Source> source = sources_.clone(project, version);
    if (!source) {
      rep.warn(line, fmt::format("component `{}`: version `{}` is not a ref of the clone of {}; "
                                 "reading its HEAD",
                                 address, version, project));
      source = sources_.clone(project, "");
      if (!source) return std::nullopt;
    }
    const std::vector<std::string>& files = sources_.files(*source);
    for (const std::string& candidate :
         {"templates/" + name + ".yml", "templates/" + name + "/template.yml"}) {
      if (!std::binary_search(files.begin(), files.end(), candidate)) continue;
      auto text = [](const std::string& v) {
        return ConfigValue{.kind = ConfigValue::Kind::kScalar, .scalar = v, .quoted = true};
      };
      context = InputValues{{"name", text(name)},
                            {"reference", text(version)},
                            {"version", text(version)},
                            {"sha", text(source->commit)}};
      from = *source;
      return candidate;
    }
    return std::nullopt;
  }

  Result<ConfigValue> load(const std::string& file_path, Reporter& parent, int line, int depth,
                           const std::vector<std::pair<std::string, ConfigValue>>& inputs,
                           const InputValues* component, const Source& src) {
    std::string file = IncludeSources::name(src, file_path);
    std::optional<std::string> text = sources_.read(src, file_path);
    if (!text) return parent.error(line, fmt::format("include: local `{}` cannot be read", file));
    Reporter rep(file);
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(*text);
    } catch (const YAML::Exception& e) {
      return fail(ErrorKind::kInvalidInput, fmt::format("{}:{}:{}: YAML syntax error: {}", file,
                                                        e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    std::optional<ConfigValue> header;
    if (std::optional<YAML::Node> node = take_header(docs)) {
      Result<ConfigValue> converted = convert(*node, rep, 0);
      if (!converted) return fail(converted.error());
      header = std::move(*converted);
    }
    if (docs.size() > 1) {
      return rep.error(docs[1].Mark().line + 1,
                       "only a spec: header document may precede the configuration");
    }
    ConfigValue root{.kind = ConfigValue::Kind::kMapping};
    if (!docs.empty() && !docs[0].IsNull()) {
      Result<ConfigValue> converted = convert(docs[0], rep, 0);
      if (!converted) return fail(converted.error());
      root = std::move(*converted);
    }
    // GitLab names the included file: "`ci/x.yml`: `env` input: ..." (§6.8).
    std::string where = line > 0 ? fmt::format("{}:{}: include `{}`", parent.file(), line, file)
                                 : fmt::format("{}: include `{}`", parent.file(), file);
    Result<void> interpolated = apply_inputs(header, root, inputs, where, variables_, rep, component,
                                             spec_include_loader(sources_));
    if (!interpolated) return fail(interpolated.error());
    if (!root.is_mapping()) return rep.error(root.line, "root config should be a hash");
    Result<void> nested = resolve(root, rep, depth + 1, src);
    if (!nested) return fail(nested.error());
    warnings.insert(warnings.end(), rep.warnings().begin(), rep.warnings().end());
    return root;
  }

  std::filesystem::path dir_;
  const ExpressionVariables& variables_;
  std::string commit_sha_;
  IncludeSources& sources_;
  int count_ = 0;
};

}  // namespace

ExpressionVariables include_variables(const Variables& predefined, const Variables& cli) {
  static const std::set<std::string> kNames = {"CI_DEFAULT_BRANCH", "CI_COMMIT_REF_NAME",
                                               "CI_PIPELINE_SOURCE", "CI_PIPELINE_TRIGGERED",
                                               "GITLAB_FEATURES"};
  ExpressionVariables out;
  for (const Variable& v : predefined) {
    if (starts_with(v.key, "CI_PROJECT_") || starts_with(v.key, "CI_SERVER_") ||
        kNames.count(v.key) != 0) {
      out[v.key] = v.value;
    }
  }
  for (const Variable& v : cli) out[v.key] = v.value;
  return out;
}

Result<PipelineConfig> parse_pipeline(std::string_view text, const std::string& file_name) {
  return parse_pipeline(text, file_name, IncludeContext{});
}

Result<PipelineConfig> parse_pipeline(std::string_view text, const std::string& file_name,
                                      const std::filesystem::path& project_dir) {
  return parse_pipeline(text, file_name, IncludeContext{.project_dir = project_dir});
}

Result<PipelineConfig> parse_pipeline(std::string_view text, const std::string& file_name,
                                      const IncludeContext& context) {
  Reporter rep(file_name);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::kInvalidInput, fmt::format("{}:{}:{}: YAML syntax error: {}", file_name,
                                                      e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  try {
    // A `spec:` header document may precede the body (§3.7).
    std::optional<ConfigValue> header;
    if (std::optional<YAML::Node> node = take_header(docs)) {
      Result<ConfigValue> converted = convert(*node, rep, 0);
      if (!converted) return fail(converted.error());
      header = std::move(*converted);
    }
    if (docs.size() > 1) {
      return rep.error(docs[1].Mark().line + 1,
                       "only a spec: header document may precede the configuration");
    }
    if (docs.empty() || docs[0].IsNull()) {
      return rep.error(0, fmt::format("Please provide content of {}", file_name));
    }
    Result<ConfigValue> root = convert(docs[0], rep, 0);
    if (!root) return fail(root.error());
    // Pipeline inputs (§3.7 Local: --input NAME=VALUE), read as the declared types.
    std::vector<std::pair<std::string, ConfigValue>> given;
    if (!context.inputs.empty() && !header) {
      std::vector<std::string> names;
      for (const auto& [name, value] : context.inputs) names.push_back(name);
      return rep.error(0, fmt::format("unknown input arguments: {} (the file has no spec:inputs "
                                      "header)",
                                      join(names, ", ")));
    }
    IncludeSources sources(context.project_dir, context.project_dirs);
    Result<void> interpolated;
    if (header) {
      Result<std::vector<InputSpec>> specs = read_input_specs(
          *header, file_name,
          context.project_dir.empty() ? SpecIncludeLoader{} : spec_include_loader(sources));
      if (!specs) return fail(specs.error());
      for (const auto& [name, value] : context.inputs) {
        InputType type = InputType::kString;
        for (const InputSpec& spec : *specs) {
          if (spec.name == name) type = spec.type;
        }
        given.emplace_back(name, command_line_input(value, type, rep));
      }
      interpolated = apply_input_specs(*specs, *root, given, file_name, context.variables, rep);
    } else {
      interpolated = apply_inputs(std::nullopt, *root, given, file_name, context.variables, rep);
    }
    if (!interpolated) return fail(interpolated.error());
    if (!context.project_dir.empty() && root->is_mapping()) {
      IncludeResolver includes(context, sources);
      Result<void> included = includes.resolve(*root, rep, 0);
      if (!included) return fail(included.error());
      rep.warnings().insert(rep.warnings().end(), includes.warnings.begin(),
                            includes.warnings.end());
    }
    return build_pipeline(std::move(*root), rep);
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("{}:{}:{}: {}", file_name, e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const std::exception& e) {
    return fail(ErrorKind::kInternal, fmt::format("{}: {}", file_name, e.what()));
  }
}

Result<ConfigValue> parse_yaml(std::string_view text, const std::string& file_name) {
  Reporter rep(file_name);
  try {
    YAML::Node doc = YAML::Load(std::string(text));
    if (doc.IsNull()) return ConfigValue{};
    return convert(doc, rep, 0);
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::kInvalidInput, fmt::format("{}:{}:{}: YAML syntax error: {}", file_name,
                                                      e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

Result<PipelineConfig> load_pipeline(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return fail(ErrorKind::kNotFound, fmt::format("{}: no such file", file.string()));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorKind::kIo, fmt::format("{}: cannot be read", file.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_pipeline(buffer.str(), file.filename().string());
}

}  // namespace glr
