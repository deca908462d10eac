// Reads the variables file on top of ci_yaml.cc's YAML layer (the only yaml-cpp user) and
// picks each variable's value for a job's environment.
#include "pipeline/variables_file.h"

#include <fmt/format.h>

#include "pipeline/ci_yaml.h"

namespace glr {

namespace {

bool is_exact(std::string_view pattern) { return pattern.find('*') == std::string_view::npos; }

}  // namespace

Result<std::vector<ProjectVariable>> parse_variables_file(std::string_view text,
                                                          const std::string& file_name) {
  Result<ConfigValue> root = parse_yaml(text, file_name);
  if (!root) return fail(root.error());
  std::vector<ProjectVariable> out;
  if (root->is_null()) return out;
  auto error = [&file_name](int line, const std::string& key, const std::string& what) {
    return fail(ErrorKind::kInvalidInput, fmt::format("{}:{}: {}: {}", file_name, line, key, what));
  };
  if (!root->is_mapping()) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("{}:{}: the file should be a map of NAME: value", file_name, root->line));
  }
  const std::string kShape =
      "should be a string, a number, a boolean or {type: variable|file, masked: true|false, "
      "values: {\"<environment scope>\": value}}";
  for (size_t i = 0; i < root->keys.size(); ++i) {
    const std::string& name = root->keys[i];
    const ConfigValue& v = root->items[i];
    int line = v.line > 0 ? v.line : root->line;
    ProjectVariable var{.name = name, .line = line};
    if (name.empty() || name.find_first_of(" =$") != std::string::npos) {
      return error(line, name, "is not a valid variable name");
    }
    if (v.is_scalar()) {
      var.values.emplace_back("*", v.scalar);
    } else if (v.is_null()) {
      var.values.emplace_back("*", "");
    } else if (v.is_mapping()) {
      for (size_t k = 0; k < v.keys.size(); ++k) {
        const std::string& key = v.keys[k];
        const ConfigValue& f = v.items[k];
        int at = f.line > 0 ? f.line : line;
        if (key == "type") {
          if (!f.is_scalar() || (f.scalar != "variable" && f.scalar != "file")) {
            return error(at, name + ":type", "should be variable or file");
          }
          var.is_file = f.scalar == "file";
        } else if (key == "masked") {
          if (!f.is_scalar() || (f.scalar != "true" && f.scalar != "false")) {
            return error(at, name + ":masked", "should be true or false");
          }
          var.masked = f.scalar == "true";
        } else if (key == "values") {
          if (!f.is_mapping()) return error(at, name + ":values", "should be a map of environment scope to value");
          for (size_t s = 0; s < f.keys.size(); ++s) {
            const ConfigValue& value = f.items[s];
            if (!value.is_scalar() && !value.is_null()) {
              return error(value.line > 0 ? value.line : at, name + ":values:" + f.keys[s],
                           "should be a string, a number or a boolean");
            }
            var.values.emplace_back(f.keys[s].empty() ? "*" : f.keys[s], value.scalar);
          }
        } else {
          return error(at, name, "unknown key " + key + "; " + kShape);
        }
      }
      if (v.find("values") == nullptr) return error(line, name, "has no values; " + kShape);
      const ConfigValue* values = v.find("values");
      int values_line = values->line > 0 ? values->line : line;
      for (const auto& [scope, value] : var.values) {
        if (var.masked && value.size() < 8) {
          return error(values_line, name + ":values:" + scope,
                       "a masked value needs at least 8 characters (GitLab refuses shorter ones)");
        }
      }
    } else {
      return error(line, name, kShape);
    }
    out.push_back(std::move(var));
  }
  return out;
}

bool environment_scope_matches(std::string_view pattern, std::string_view environment) {
  // Glob with `*` only, iterative with backtracking to the last star.
  size_t p = 0, e = 0, star = std::string_view::npos, mark = 0;
  while (e < environment.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = e;
    } else if (p < pattern.size() && pattern[p] == environment[e]) {
      ++p;
      ++e;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      e = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<std::string> value_for_environment(const ProjectVariable& var,
                                                 std::string_view environment) {
  const std::pair<std::string, std::string>* best = nullptr;
  auto better = [](const std::string& a, const std::string& b) {
    if (is_exact(a) != is_exact(b)) return is_exact(a);
    return a.size() > b.size();
  };
  for (const auto& scoped : var.values) {
    bool matches = scoped.first == "*" ||
                   (!environment.empty() && environment_scope_matches(scoped.first, environment));
    if (!matches) continue;
    if (best == nullptr || better(scoped.first, best->first)) best = &scoped;
  }
  if (best == nullptr) return std::nullopt;
  return best->second;
}

Variables project_variables_for(const std::vector<ProjectVariable>& vars,
                                std::string_view environment) {
  Variables out;
  for (const ProjectVariable& var : vars) {
    std::optional<std::string> value = value_for_environment(var, environment);
    if (!value) continue;
    out.push_back(Variable{.key = var.name, .value = *value, .is_public = !var.masked,
                           .masked = var.masked, .is_file = var.is_file});
  }
  return out;
}

}  // namespace glr
