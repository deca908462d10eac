// spec:inputs and `$[[ ... ]]` interpolation rebuilt after GitLab's Ci::Config::Header and
// Ci::Config::Interpolation (Inputs, Template, Block, Access, Functions), with its messages, so
// users can search for them. RE2 for `regex`, like GitLab's UntrustedRegexp.
#include "pipeline/inputs.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>

#include "util/strings.h"

namespace glr {

namespace {

using Kind = ConfigValue::Kind;

constexpr size_t kMaxOptions = 50;
constexpr size_t kMaxFunctions = 3;
constexpr size_t kMaxAccessBytes = 1024;
constexpr size_t kMaxErrorsShown = 3;  // GitLab joins the first three

tl::unexpected<Error> at(const std::string& file, int line, const std::string& message) {
  if (line <= 0) return fail(ErrorKind::kInvalidInput, fmt::format("{}: {}", file, message));
  return fail(ErrorKind::kInvalidInput, fmt::format("{}:{}: {}", file, line, message));
}

const char* type_with_article(InputType type) {
  return type == InputType::kArray    ? "an array"
         : type == InputType::kString ? "a string"
         : type == InputType::kNumber ? "a number"
                                      : "a boolean";
}

bool is_number_text(const std::string& text) {
  // The canonical text ci_yaml.cc gives YAML 1.1 integers and floats (Ruby to_s): no leading
  // zeros, so a plain `0123456789` (a string for Psych) is not taken for a number.
  static const std::regex kNumber("^-?(0|[1-9][0-9]*)(\\.[0-9]+(e[-+][0-9]+)?)?$");
  return text == "Infinity" || text == "-Infinity" || text == "NaN" ||
         std::regex_match(text, kNumber);
}

// Ruby `inspect`, used when an array input is written inside a longer string.
std::string ruby_inspect(const ConfigValue& v) {
  switch (v.kind) {
    case Kind::kNull:
      return "nil";
    case Kind::kScalar: {
      std::optional<InputType> type = input_type_of(v);
      if (type && *type != InputType::kString) return v.scalar;
      std::string out = "\"";
      for (char c : v.scalar) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
          out += "\\n";
          continue;
        }
        out += c;
      }
      return out + "\"";
    }
    case Kind::kSequence: {
      std::vector<std::string> items;
      for (const ConfigValue& item : v.items) items.push_back(ruby_inspect(item));
      return "[" + join(items, ", ") + "]";
    }
    case Kind::kMapping: {
      std::vector<std::string> items;
      for (size_t i = 0; i < v.keys.size(); ++i) {
        items.push_back("\"" + v.keys[i] + "\"=>" + ruby_inspect(v.items[i]));
      }
      return "{" + join(items, ", ") + "}";
    }
  }
  return "";
}

// Ruby `to_s` of an interpolated value inside a longer string.
std::string to_text(const ConfigValue& v) {
  if (v.is_scalar()) return v.scalar;
  if (v.is_null()) return "";
  return ruby_inspect(v);
}

bool same_value(const ConfigValue& a, const ConfigValue& b) {  // Ruby ==
  std::optional<InputType> ta = input_type_of(a);
  std::optional<InputType> tb = input_type_of(b);
  if (!ta || !tb || *ta != *tb) return false;
  if (*ta == InputType::kNumber)
    return std::strtod(a.scalar.c_str(), nullptr) == std::strtod(b.scalar.c_str(), nullptr);
  if (*ta == InputType::kArray) {
    if (a.items.size() != b.items.size()) return false;
    for (size_t i = 0; i < a.items.size(); ++i) {
      if (!same_value(a.items[i], b.items[i])) return false;
    }
    return true;
  }
  return a.scalar == b.scalar;
}

// UTF-8 characters of `s` (Ruby strings index characters, not bytes).
std::vector<std::string_view> characters(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = 1;
    auto lead = static_cast<unsigned char>(s[i]);
    if (lead >= 0xF0) {
      n = 4;
    } else if (lead >= 0xE0) {
      n = 3;
    } else if (lead >= 0xC0) {
      n = 2;
    }
    n = std::min(n, s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// One `$[[ access | fn | fn ]]` block (Interpolation::Block): the value, or GitLab's message.
struct BlockResult {
  std::optional<ConfigValue> value{};  // nullopt + empty error: leave the block as written
  std::string error{};
};

BlockResult evaluate_block(const std::string& data, const InputValues& values,
                           const InputValues* component, const ExpressionVariables& variables) {
  std::vector<std::string> parts;
  for (const std::string& part : split(data, '|')) parts.emplace_back(trim(part));
  while (parts.size() > 1 && parts.back().empty()) parts.pop_back();  // Ruby split drops them
  const std::string& access = parts[0];
  std::vector<std::string> objects = split(access, '.');
  if (!objects.empty() && objects[0] == "matrix") return {};  // needs:parallel:matrix (§6.8)
  if (objects.size() <= 1)
    return {.value = std::nullopt, .error = "invalid interpolation access pattern"};
  if (access.size() > kMaxAccessBytes) {
    return {.value = std::nullopt, .error = "maximum interpolation expression size exceeded"};
  }
  const InputValues* context = objects[0] == "inputs" ? &values
                               : objects[0] == "component" ? component
                                                           : nullptr;
  if (context == nullptr) {
    return {.value = std::nullopt,
            .error = fmt::format("unknown interpolation key: `{}`", objects[0])};
  }
  auto found = context->find(objects[1]);
  if (found == context->end() || objects.size() > 2) {
    std::string key = found == context->end() ? objects[1] : objects[2];
    return {.value = std::nullopt, .error = fmt::format("unknown interpolation key: `{}`", key)};
  }
  if (parts.size() - 1 > kMaxFunctions) {
    return {.value = std::nullopt, .error = "too many functions in interpolation block"};
  }
  static const std::regex kTruncate("^truncate\\(\\s*(\\d+)\\s*,\\s*(\\d+)\\s*\\)?$");
  static const std::regex kSplit("^split\\('([^']*)'\\)$");
  ConfigValue value = found->second;
  for (size_t f = 1; f < parts.size(); ++f) {
    const std::string& fn = parts[f];
    std::smatch m;
    std::string name;
    if (fn == "expand_vars" || fn == "posix_escape" || fn == "posix_quote") {
      name = fn;
    } else if (std::regex_match(fn, m, kTruncate)) {
      name = "truncate";
    } else if (std::regex_match(fn, m, kSplit)) {
      name = "split";
    } else {
      return {.value = std::nullopt,
              .error = fmt::format("no function matching `{}`: check that the function name, "
                                   "arguments, and types are correct",
                                   fn)};
    }
    std::optional<InputType> type = input_type_of(value);
    if (!type || *type != InputType::kString) {
      return {.value = std::nullopt,
              .error = fmt::format("error in `{0}` function: invalid input type: {0} can only be "
                                   "used with string inputs",
                                   name)};
    }
    std::string text = value.scalar;
    if (name == "split") {
      // Parts trimmed, empty ones dropped; the result is an array input.
      std::string separator = m[1].str();
      if (separator.empty()) {
        return {.value = std::nullopt,
                .error = "error in `split` function: invalid argument: separator cannot be empty"};
      }
      ConfigValue list{.kind = Kind::kSequence};
      size_t start = 0;
      while (start <= text.size()) {
        size_t at = text.find(separator, start);
        std::string_view piece = trim(std::string_view(text).substr(
            start, at == std::string::npos ? std::string::npos : at - start));
        if (!piece.empty()) {
          list.items.push_back(ConfigValue{.kind = Kind::kScalar, .scalar = std::string(piece),
                                           .quoted = true});
        }
        if (at == std::string::npos) break;
        start = at + separator.size();
      }
      value = std::move(list);
      continue;
    }
    if (name == "expand_vars") {
      text = expand_include_variables(text, variables, /*keep_unknown=*/true);
    } else if (name == "posix_escape" || name == "posix_quote") {  // both Shellwords.shellescape
      text = posix_escape(text);
    } else {
      size_t offset = std::strtoull(m[1].str().c_str(), nullptr, 10);
      size_t length = std::strtoull(m[2].str().c_str(), nullptr, 10);
      std::vector<std::string_view> chars = characters(text);
      std::string out;
      for (size_t i = offset; i < chars.size() && i - offset < length; ++i) out += chars[i];
      text = out;
    }
    value = ConfigValue{.kind = Kind::kScalar, .scalar = text, .quoted = true};
  }
  return {.value = std::move(value), .error = ""};
}

class Interpolator {
 public:
  Interpolator(const InputValues& values, const InputValues* component,
               const ExpressionVariables& variables, const std::string& file)
      : values_(values), component_(component), variables_(variables), file_(file) {}

  Result<void> walk(ConfigValue& node) {
    if (node.is_scalar()) return replace(node);
    for (size_t i = 0; i < node.keys.size(); ++i) {
      if (node.keys[i].find("$[[") == std::string::npos) continue;
      ConfigValue key{.kind = Kind::kScalar,
                      .scalar = node.keys[i],
                      .quoted = true,
                      .line = node.items[i].line};
      Result<void> r = replace(key);
      if (!r) return r;
      node.keys[i] = to_text(key);
    }
    for (ConfigValue& item : node.items) {
      Result<void> r = walk(item);
      if (!r) return r;
    }
    return {};
  }

 private:
  Result<void> replace(ConfigValue& node) {
    if (node.scalar.find("$[[") == std::string::npos) return {};
    static const std::regex kBlock("\\$\\[\\[\\s*(\\S.*?\\S)\\s*\\]\\]");
    struct Found {
      std::string block;
      ConfigValue value;
    };
    std::vector<Found> blocks;
    const std::string text = node.scalar;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kBlock);
         it != std::sregex_iterator(); ++it) {
      BlockResult r = evaluate_block((*it)[1].str(), values_, component_, variables_);
      if (!r.error.empty()) return at(file_, node.line, r.error);
      if (!r.value) continue;  // matrix: left for needs:parallel:matrix
      blocks.push_back(Found{.block = (*it)[0].str(), .value = std::move(*r.value)});
    }
    if (blocks.empty()) return {};
    if (blocks.size() == 1 && blocks[0].block.size() == text.size()) {
      int line = node.line;
      int column = node.column;
      node = std::move(blocks[0].value);
      node.line = line;
      node.column = column;
      return {};
    }
    std::string out = text;
    for (const Found& found : blocks) out = replace_all(out, found.block, to_text(found.value));
    node.scalar = out;
    return {};
  }

  const InputValues& values_;
  const InputValues* component_;
  const ExpressionVariables& variables_;
  const std::string& file_;
};

void collect_lines(const ConfigValue& node, std::vector<int>& lines) {
  auto has_block = [](const std::string& s) {
    size_t at = s.find("$[[");
    return at != std::string::npos && s.find("inputs.", at) != std::string::npos;
  };
  if (node.is_scalar() && has_block(node.scalar)) lines.push_back(node.line);
  for (size_t i = 0; i < node.keys.size(); ++i) {
    if (has_block(node.keys[i])) lines.push_back(node.items[i].line);
  }
  for (const ConfigValue& item : node.items) collect_lines(item, lines);
}

Result<std::vector<ConfigValue>> read_options(const ConfigValue& options, const std::string& where,
                                             const std::string& file) {
  if (!options.is_sequence()) return at(file, options.line, where + " input options should be an array");
  if (options.items.size() > kMaxOptions) {
    return at(file, options.line,
              fmt::format("{} config cannot define more than {} options", where, kMaxOptions));
  }
  for (const ConfigValue& option : options.items) {
    if (option.is_null()) {
      return at(file, options.line, where + " config options array cannot contain null values");
    }
  }
  return options.items;
}

// The entries of an `inputs:` mapping, appended to `specs`; `prefix` starts each message
// ("header:spec:inputs:").
Result<void> read_inputs_mapping(const ConfigValue* inputs, const std::string& prefix,
                                 const std::string& file, std::vector<InputSpec>& specs) {
  static const std::set<std::string> kKeys = {"default", "description", "options",
                                              "regex",   "type",        "rules"};
  for (size_t i = 0; i < inputs->keys.size(); ++i) {
    const ConfigValue& entry = inputs->items[i];
    InputSpec input{.name = inputs->keys[i], .line = entry.line};
    std::string where = prefix + input.name;
    if (entry.is_null()) {
      specs.push_back(std::move(input));
      continue;
    }
    if (!entry.is_mapping()) return at(file, entry.line, where + " config should be a hash");
    for (size_t k = 0; k < entry.keys.size(); ++k) {
      if (kKeys.count(entry.keys[k]) == 0) {
        return at(file, entry.items[k].line,
                  fmt::format("{} config contains unknown keys: {}", where, entry.keys[k]));
      }
    }
    if (const ConfigValue* rules = entry.find("rules"); rules != nullptr && !rules->is_null()) {
      if (!rules->is_sequence()) return at(file, rules->line, where + ":rules config should be an array");
      for (const ConfigValue& item : rules->items) {
        if (!item.is_mapping()) {
          return at(file, item.line, where + ":rules:rule config should be a hash");
        }
        InputRule rule{.line = item.line};
        for (size_t k = 0; k < item.keys.size(); ++k) {
          const std::string& key = item.keys[k];
          if (key != "if" && key != "options" && key != "default") {
            return at(file, item.items[k].line,
                      fmt::format("{}:rules:rule config contains unknown keys: {}", where, key));
          }
        }
        if (const ConfigValue* cond = item.find("if"); cond != nullptr && !cond->is_null()) {
          if (!cond->is_scalar()) return at(file, cond->line, where + ":rules:rule if should be a string");
          rule.if_expression = cond->scalar;
        }
        if (const ConfigValue* options = item.find("options"); options != nullptr && !options->is_null()) {
          Result<std::vector<ConfigValue>> list = read_options(*options, where + ":rules:rule", file);
          if (!list) return tl::unexpected(list.error());
          rule.options = std::move(*list);
        }
        if (const ConfigValue* def = item.find("default")) rule.default_value = *def;
        input.rules.push_back(std::move(rule));
      }
    }
    if (const ConfigValue* type = entry.find("type"); type != nullptr && !type->is_null()) {
      static const std::vector<std::pair<std::string, InputType>> kTypes = {
          {"array", InputType::kArray},
          {"boolean", InputType::kBoolean},
          {"number", InputType::kNumber},
          {"string", InputType::kString}};
      auto known = std::find_if(kTypes.begin(), kTypes.end(), [type](const auto& t) {
        return type->is_scalar() && t.first == type->scalar;
      });
      if (known == kTypes.end()) {
        return at(file, type->line,
                  fmt::format("{} input type unknown value: {}", where,
                              type->is_scalar() ? type->scalar : "(not a string)"));
      }
      input.type = known->second;
    }
    if (const ConfigValue* def = entry.find("default")) input.default_value = *def;
    if (const ConfigValue* options = entry.find("options");
        options != nullptr && !options->is_null()) {
      Result<std::vector<ConfigValue>> list = read_options(*options, where, file);
      if (!list) return tl::unexpected(list.error());
      input.options = std::move(*list);
    }
    if (const ConfigValue* regex = entry.find("regex"); regex != nullptr && !regex->is_null()) {
      if (!regex->is_scalar())
        return at(file, regex->line, where + " input regex should be a string");
      input.regex = regex->scalar;
    }
    if (const ConfigValue* description = entry.find("description");
        description != nullptr && !description->is_null() && !description->is_scalar()) {
      return at(file, description->line, where + " input description should be a string");
    }
    specs.push_back(std::move(input));
  }
  return {};
}

}  // namespace

std::optional<InputType> input_type_of(const ConfigValue& value) {
  switch (value.kind) {
    case Kind::kNull:
    case Kind::kMapping:
      return std::nullopt;
    case Kind::kSequence:
      return InputType::kArray;
    case Kind::kScalar:
      if (value.quoted) return InputType::kString;
      if (value.scalar == "true" || value.scalar == "false") return InputType::kBoolean;
      if (is_number_text(value.scalar)) return InputType::kNumber;
      return InputType::kString;
  }
  return std::nullopt;
}

Result<std::vector<InputSpec>> read_input_specs(const ConfigValue& header, const std::string& file,
                                                const SpecIncludeLoader& load_include) {
  std::vector<InputSpec> specs;
  if (!header.is_mapping()) return at(file, header.line, "header config should be a hash");
  for (size_t i = 0; i < header.keys.size(); ++i) {
    if (header.keys[i] != "spec") {
      return at(file, header.items[i].line,
                fmt::format("header config contains unknown keys: {}", header.keys[i]));
    }
  }
  const ConfigValue* spec = header.find("spec");
  if (spec == nullptr || spec->is_null()) return specs;
  if (!spec->is_mapping()) return at(file, spec->line, "header:spec config should be a hash");
  for (size_t i = 0; i < spec->keys.size(); ++i) {
    const std::string& key = spec->keys[i];
    if (key != "inputs" && key != "component" && key != "include") {
      return at(file, spec->items[i].line,
                fmt::format("header:spec config contains unknown keys: {}", key));
    }
  }
  // spec:include: inputs defined in other files, in order, a later definition of a name
  // replacing an earlier one; the file's own spec:inputs replace them all.
  auto put = [&specs](std::vector<InputSpec> more) {
    for (InputSpec& s : more) {
      auto same = std::find_if(specs.begin(), specs.end(),
                               [&s](const InputSpec& o) { return o.name == s.name; });
      if (same != specs.end()) {
        *same = std::move(s);
      } else {
        specs.push_back(std::move(s));
      }
    }
  };
  if (const ConfigValue* include = spec->find("include"); include != nullptr && !include->is_null()) {
    if (!load_include) {
      return at(file, include->line, "header:spec:include cannot be used in this file");
    }
    std::vector<ConfigValue> entries =
        include->is_sequence() ? include->items : std::vector<ConfigValue>{*include};
    for (const ConfigValue& entry : entries) {
      Result<SpecIncludeFile> loaded = load_include(entry);
      if (!loaded) return at(file, entry.line, "header:spec:include " + loaded.error().message);
      const ConfigValue& root = loaded->root;
      if (!root.is_mapping()) return at(loaded->name, root.line, "config should be a hash");
      for (size_t k = 0; k < root.keys.size(); ++k) {
        if (root.keys[k] != "inputs") {
          return at(loaded->name, root.items[k].line,
                    fmt::format("config contains unknown keys: {}", root.keys[k]));
        }
      }
      const ConfigValue* inputs = root.find("inputs");
      if (inputs == nullptr || inputs->is_null()) continue;
      if (!inputs->is_mapping()) return at(loaded->name, inputs->line, "inputs config should be a hash");
      std::vector<InputSpec> included;
      if (Result<void> r = read_inputs_mapping(inputs, "inputs:", loaded->name, included); !r) {
        return tl::unexpected(r.error());
      }
      put(std::move(included));
    }
  }
  const ConfigValue* inputs = spec->find("inputs");
  if (inputs == nullptr || inputs->is_null()) return specs;
  if (!inputs->is_mapping())
    return at(file, inputs->line, "header:spec:inputs config should be a hash");
  std::vector<InputSpec> own;
  if (Result<void> r = read_inputs_mapping(inputs, "header:spec:inputs:", file, own); !r) {
    return tl::unexpected(r.error());
  }
  put(std::move(own));
  return specs;
}

Result<InputValues> resolve_inputs(const std::vector<InputSpec>& specs,
                                   const std::vector<std::pair<std::string, ConfigValue>>& given,
                                   const std::string& where) {
  std::vector<std::string> errors;
  std::vector<std::string> unknown;
  for (const auto& [name, value] : given) {
    bool declared = std::any_of(specs.begin(), specs.end(),
                                [&name](const InputSpec& s) { return s.name == name; });
    if (!declared) unknown.push_back(name);
  }
  if (!unknown.empty()) errors.push_back("unknown input arguments: " + join(unknown, ", "));

  InputValues values;
  // One input with the options and default that apply to it (its own, or its matching rule's).
  auto resolve = [&](const InputSpec& spec, const std::optional<std::vector<ConfigValue>>& options,
                     const std::optional<ConfigValue>& default_value) {
    auto error = [&errors, &spec](const std::string& message) {
      errors.push_back(fmt::format("`{}` input: {}", spec.name, message));
    };
    const ConfigValue* value = nullptr;
    for (const auto& [name, v] : given) {
      if (name == spec.name && !v.is_null()) value = &v;
    }
    if (value == nullptr && !default_value) {
      error("required value has not been provided");
      return;
    }
    auto validate = [&](const ConfigValue& v, bool is_default) {
      const char* which = is_default ? "default" : "provided";
      std::optional<InputType> type = input_type_of(v);
      if (!type || *type != spec.type) {
        error(fmt::format("{} value is not {}", which, type_with_article(spec.type)));
      }
      if (options) {
        if (spec.type == InputType::kString || spec.type == InputType::kNumber) {
          bool listed = std::any_of(options->begin(), options->end(),
                                    [&v](const ConfigValue& o) { return same_value(o, v); });
          if (!listed) {
            error(fmt::format(
                "`{}` cannot be used because it is not in the list of {}allowed options",
                to_text(v), spec.type == InputType::kNumber ? "the " : ""));
          }
        } else {
          error("Options can only be used with string and number inputs");
        }
      }
      if (spec.regex) {
        if (spec.type != InputType::kString) {
          error("RegEx validation can only be used with string inputs");
        } else if (type == InputType::kString) {
          RE2 re(*spec.regex, RE2::Quiet);
          if (!re.ok()) {
            error("invalid regular expression");
          } else if (!RE2::PartialMatch(v.scalar, re)) {
            error(fmt::format("{} value does not match required RegEx pattern", which));
          }
        }
      }
    };
    // A null default (`default:` with nothing) still makes the input optional.
    if (default_value && !default_value->is_null()) validate(*default_value, true);
    if (value != nullptr) validate(*value, false);
    values[spec.name] = value != nullptr ? *value : *default_value;
  };

  std::vector<const InputSpec*> pending;  // inputs with rules, in declaration order
  for (const InputSpec& spec : specs) {
    if (spec.rules.empty()) {
      resolve(spec, spec.options, spec.default_value);
    } else {
      pending.push_back(&spec);
    }
  }
  // An input with rules is resolved once every input its conditions name has a value: its
  // first rule whose `if` holds (or that has none) gives options and default. Without a
  // matching rule, the input's own options and default apply, and an empty string stands
  // for a missing default (as GitLab's conditional inputs).
  static const std::regex kInputRef(R"(\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\])");
  while (!pending.empty()) {
    bool progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      const InputSpec& spec = **it;
      bool ready = true;
      for (const InputRule& rule : spec.rules) {
        if (!rule.if_expression) continue;
        for (std::sregex_iterator m(rule.if_expression->begin(), rule.if_expression->end(), kInputRef);
             m != std::sregex_iterator(); ++m) {
          std::string ref = (*m)[1].str();
          bool waiting = std::any_of(pending.begin(), pending.end(),
                                     [&ref](const InputSpec* p) { return p->name == ref; });
          if (waiting) ready = false;
        }
      }
      if (!ready) {
        ++it;
        continue;
      }
      const InputRule* chosen = nullptr;
      bool failed = false;
      for (const InputRule& rule : spec.rules) {
        if (!rule.if_expression) {
          chosen = &rule;
          break;
        }
        // `$[[ inputs.x ]]` becomes a variable holding x's value as text.
        ExpressionVariables vars;
        std::string expression;
        std::string_view rest = *rule.if_expression;
        std::match_results<std::string_view::const_iterator> m;
        while (std::regex_search(rest.begin(), rest.end(), m, kInputRef)) {
          std::string ref = m[1].str();
          auto found = values.find(ref);
          if (found == values.end()) {
            // A declared input without a value has its own error already.
            bool declared = std::any_of(specs.begin(), specs.end(),
                                        [&ref](const InputSpec& s) { return s.name == ref; });
            if (!declared) {
              errors.push_back(fmt::format("`{}` input: rules: unknown interpolation key: `{}`",
                                           spec.name, ref));
            }
            failed = true;
            break;
          }
          std::string var = fmt::format("GLR_INPUT_{}", vars.size());
          vars[var] = to_text(found->second);
          expression.append(rest.substr(0, static_cast<size_t>(m.position(0)))).append("$" + var);
          rest.remove_prefix(static_cast<size_t>(m.position(0) + m.length(0)));
        }
        if (failed) break;
        expression.append(rest);
        Result<bool> holds = evaluate_expression(expression, vars);
        if (!holds) {
          errors.push_back(fmt::format("`{}` input: rules: {}", spec.name, holds.error().message));
          failed = true;
          break;
        }
        if (*holds) {
          chosen = &rule;
          break;
        }
      }
      if (!failed) {
        if (chosen != nullptr) {
          resolve(spec, chosen->options ? chosen->options : spec.options,
                  chosen->default_value ? chosen->default_value : spec.default_value);
        } else {
          resolve(spec, spec.options,
                  spec.default_value ? spec.default_value
                                     : ConfigValue{.kind = Kind::kScalar, .scalar = "", .quoted = true});
        }
      }
      it = pending.erase(it);
      progress = true;
    }
    if (!progress) {
      for (const InputSpec* spec : pending) {
        errors.push_back(fmt::format("`{}` input: rules refer to inputs that refer back to it",
                                     spec->name));
      }
      break;
    }
  }
  if (!errors.empty()) {
    if (errors.size() > kMaxErrorsShown) errors.resize(kMaxErrorsShown);
    return fail(ErrorKind::kInvalidInput, fmt::format("{}: {}", where, join(errors, ", ")));
  }
  return values;
}

Result<void> interpolate_inputs(ConfigValue& body, const InputValues& values,
                                const ExpressionVariables& variables, const std::string& file,
                                const InputValues* component) {
  Interpolator interpolator(values, component, variables, file);
  return interpolator.walk(body);
}

std::vector<int> interpolation_lines(const ConfigValue& body) {
  std::vector<int> lines;
  collect_lines(body, lines);
  return lines;
}

std::string expand_include_variables(std::string_view text, const ExpressionVariables& variables,
                                     bool keep_unknown) {
  auto is_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    size_t end = std::string_view::npos;  // one past the reference
    std::string name;
    if (c == '$' && i + 1 < text.size() && is_start(text[i + 1])) {
      end = i + 1;
      while (end < text.size() && is_name(text[end])) ++end;
      name = std::string(text.substr(i + 1, end - i - 1));
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      std::string_view inside =
          close == std::string_view::npos ? std::string_view() : text.substr(i + 2, close - i - 2);
      bool valid = close != std::string_view::npos &&
                   (inside.empty() ||
                    (is_start(inside[0]) && std::all_of(inside.begin(), inside.end(), is_name)));
      if (valid) {
        end = close + 1;
        name = std::string(inside);
      }
    } else if (c == '%' && i + 1 < text.size() && is_start(text[i + 1])) {
      size_t j = i + 1;
      while (j < text.size() && is_name(text[j])) ++j;
      if (j < text.size() && text[j] == '%') {
        end = j + 1;
        name = std::string(text.substr(i + 1, j - i - 1));
      }
    }
    if (end == std::string_view::npos) {
      out += c;
      ++i;
      continue;
    }
    auto found = variables.find(name);
    if (found != variables.end()) {
      out += found->second;
    } else if (keep_unknown) {
      out += text.substr(i, end - i);
    }
    i = end;
  }
  return out;
}

std::string posix_escape(std::string_view text) {
  if (text.empty()) return "''";
  std::string out;
  for (std::string_view ch : characters(text)) {
    char c = ch[0];
    bool plain =
        ch.size() == 1 && (std::isalnum(static_cast<unsigned char>(c)) ||
                           std::string_view("_-.,:+/@\n").find(c) != std::string_view::npos);
    if (c == '\n') {
      out += "'\n'";
      continue;
    }
    if (!plain) out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace glr
