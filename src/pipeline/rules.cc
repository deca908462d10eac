// GitLab's expression lexer/parser/evaluator (lib/gitlab/ci/pipeline/expression) rebuilt as a
// recursive-descent parser that evaluates while it parses; RE2 for regexes, like GitLab's
// UntrustedRegexp.
#include "pipeline/rules.h"

#include <algorithm>
#include <cctype>
#include <system_error>

#include <fmt/format.h>
#include <re2/re2.h>

#include "pipeline/local_job_spec.h"
#include "util/strings.h"

namespace glr {

namespace {

constexpr size_t kMaxTokens = 100;

struct Value {
  enum class Kind { kNil, kString, kBool, kRegex };
  Kind kind = Kind::kNil;
  std::string text{};  // kString; kRegex: the RE2 pattern with its inline flags
  bool flag = false;   // kBool
};

bool truthy_for_logic(const Value& v) {  // Ruby: only nil and false are falsy
  return !(v.kind == Value::Kind::kNil || (v.kind == Value::Kind::kBool && !v.flag));
}

bool present(const Value& v) {  // Rails present?
  if (!truthy_for_logic(v)) return false;
  if (v.kind == Value::Kind::kString) return !trim(v.text).empty();
  return true;
}

std::string as_string(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNil: return "";
    case Value::Kind::kString: return v.text;
    case Value::Kind::kBool: return v.flag ? "true" : "false";
    case Value::Kind::kRegex: return v.text;
  }
  return "";
}

std::optional<std::string> regex_from(std::string_view body, std::string_view flags) {
  std::string prefix;
  for (char f : flags) {
    if (f != 'i' && f != 'm' && f != 's' && f != 'U') return std::nullopt;
    if (prefix.find(f) == std::string::npos) prefix += f;
  }
  std::string pattern = prefix.empty() ? std::string(body) : "(?" + prefix + ")" + std::string(body);
  RE2 re(pattern, RE2::Quiet);
  if (!re.ok()) return std::nullopt;
  return pattern;
}

enum class Tok { kLParen, kRParen, kValue, kEq, kMatch, kNe, kNotMatch, kAnd, kOr };

struct Token {
  Tok tok = Tok::kValue;
  Value value{};
};

Result<std::vector<Token>> lex(std::string_view s, const ExpressionVariables& vars) {
  std::vector<Token> out;
  size_t i = 0;
  auto word = [&](size_t from) {
    size_t j = from;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
    return j;
  };
  auto keyword = [&](std::string_view kw) {
    return s.substr(i, kw.size()) == kw && word(i) == i + kw.size();
  };
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    if (out.size() >= kMaxTokens) return fail(ErrorKind::kInvalidInput, "Too many tokens!");
    char c = s[i];
    std::string_view two = s.substr(i, 2);
    if (c == '(') {
      out.push_back({Tok::kLParen, {}});
      ++i;
    } else if (c == ')') {
      out.push_back({Tok::kRParen, {}});
      ++i;
    } else if (s.substr(i, 3) == "$[[") {
      size_t end = s.find("]]", i);
      if (end == std::string_view::npos) return fail(ErrorKind::kInvalidInput, "Unknown lexeme found!");
      out.push_back({Tok::kValue, {}});  // inputs are not supported locally yet: nil
      i = end + 2;
    } else if (c == '$' && word(i + 1) > i + 1) {
      size_t end = word(i + 1);
      auto it = vars.find(std::string(s.substr(i + 1, end - i - 1)));
      Value v;
      if (it != vars.end()) v = Value{.kind = Value::Kind::kString, .text = it->second};
      out.push_back({Tok::kValue, v});
      i = end;
    } else if (c == '"' || c == '\'') {
      size_t end = s.find(c, i + 1);
      if (end == std::string_view::npos) return fail(ErrorKind::kInvalidInput, "Unknown lexeme found!");
      out.push_back({Tok::kValue, Value{.kind = Value::Kind::kString,
                                        .text = std::string(s.substr(i + 1, end - i - 1))}});
      i = end + 1;
    } else if (c == '/') {
      size_t j = i + 1;
      std::string body;
      while (j < s.size() && s[j] != '/') {
        if (s[j] == '\\' && j + 1 < s.size() && s[j + 1] == '/') {
          body += '/';
          j += 2;
        } else {
          body += s[j++];
        }
      }
      if (j >= s.size() || j - i - 1 < 2 || s[j - 1] == '\\') {
        return fail(ErrorKind::kInvalidInput, "Unknown lexeme found!");
      }
      size_t flags_end = j + 1;
      while (flags_end < s.size() && std::string_view("ismU").find(s[flags_end]) != std::string_view::npos) {
        ++flags_end;
      }
      std::optional<std::string> re = regex_from(body, s.substr(j + 1, flags_end - j - 1));
      if (!re) return fail(ErrorKind::kInvalidInput, "Invalid regular expression!");
      out.push_back({Tok::kValue, Value{.kind = Value::Kind::kRegex, .text = *re}});
      i = flags_end;
    } else if (keyword("null")) {
      out.push_back({Tok::kValue, {}});
      i += 4;
    } else if (keyword("true") || keyword("false")) {
      bool t = keyword("true");
      out.push_back({Tok::kValue, Value{.kind = Value::Kind::kBool, .flag = t}});
      i += t ? 4 : 5;
    } else if (two == "==" || two == "=~" || two == "!=" || two == "!~" || two == "&&" ||
               two == "||") {
      Tok t = two == "==" ? Tok::kEq : two == "=~" ? Tok::kMatch : two == "!=" ? Tok::kNe
              : two == "!~" ? Tok::kNotMatch : two == "&&" ? Tok::kAnd : Tok::kOr;
      out.push_back({t, {}});
      i += 2;
    } else {
      return fail(ErrorKind::kInvalidInput, "Unknown lexeme found!");
    }
  }
  return out;
}

bool equals(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == Value::Kind::kBool) return a.flag == b.flag;
  return a.text == b.text;
}

bool matches(const Value& a, const Value& b) {
  if (b.kind == Value::Kind::kNil) return false;
  std::string pattern;
  if (b.kind == Value::Kind::kRegex) {
    pattern = b.text;
  } else if (Result<std::optional<std::string>> re = ruby_regexp(as_string(b)); re && *re) {
    pattern = **re;
  } else {
    pattern = RE2::QuoteMeta(as_string(b));
  }
  RE2 re(pattern, RE2::Quiet);
  return re.ok() && RE2::PartialMatch(as_string(a), re);
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Value> parse() {
    if (tokens_.empty()) return fail(ErrorKind::kInvalidInput, "empty expression");
    Result<Value> v = parse_or();
    if (!v) return v;
    if (pos_ != tokens_.size()) return fail(ErrorKind::kInvalidInput, "invalid expression syntax");
    return v;
  }

 private:
  bool at(Tok t) const { return pos_ < tokens_.size() && tokens_[pos_].tok == t; }

  Result<Value> parse_or() {
    Result<Value> left = parse_and();
    while (left && at(Tok::kOr)) {
      ++pos_;
      Result<Value> right = parse_and();
      if (!right) return right;
      if (!truthy_for_logic(*left)) left = *right;
    }
    return left;
  }

  Result<Value> parse_and() {
    Result<Value> left = parse_compare();
    while (left && at(Tok::kAnd)) {
      ++pos_;
      Result<Value> right = parse_compare();
      if (!right) return right;
      if (truthy_for_logic(*left)) left = *right;
    }
    return left;
  }

  Result<Value> parse_compare() {
    Result<Value> left = parse_primary();
    while (left && (at(Tok::kEq) || at(Tok::kNe) || at(Tok::kMatch) || at(Tok::kNotMatch))) {
      Tok op = tokens_[pos_++].tok;
      Result<Value> right = parse_primary();
      if (!right) return right;
      bool r = false;
      switch (op) {
        case Tok::kEq: r = equals(*left, *right); break;
        case Tok::kNe: r = !equals(*left, *right); break;
        case Tok::kMatch: r = matches(*left, *right); break;
        case Tok::kNotMatch: r = right->kind == Value::Kind::kNil || !matches(*left, *right); break;
        default: break;
      }
      left = Value{.kind = Value::Kind::kBool, .flag = r};
    }
    return left;
  }

  Result<Value> parse_primary() {
    if (at(Tok::kLParen)) {
      ++pos_;
      Result<Value> inner = parse_or();
      if (!inner) return inner;
      if (!at(Tok::kRParen)) return fail(ErrorKind::kInvalidInput, "unmatched parenthesis");
      ++pos_;
      return inner;
    }
    if (at(Tok::kValue)) return tokens_[pos_++].value;
    return fail(ErrorKind::kInvalidInput, "operator without an operand");
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

// Position of the `}` closing the `{` at `open` (nesting counted, `\` escapes), or npos.
size_t closing_brace(std::string_view p, size_t open) {
  int depth = 0;
  for (size_t i = open; i < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
    } else if (p[i] == '{') {
      ++depth;
    } else if (p[i] == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// FNM_EXTGLOB: expands the first {a,b} group (alternatives may nest), then the rest.
std::vector<std::string> expand_braces(std::string_view pattern) {
  size_t open = 0;
  for (; open < pattern.size() && pattern[open] != '{'; ++open) {
    if (pattern[open] == '\\') ++open;
  }
  size_t close = open < pattern.size() ? closing_brace(pattern, open) : std::string_view::npos;
  if (close == std::string_view::npos) return {std::string(pattern)};
  std::vector<std::string_view> alternatives;
  int depth = 0;
  size_t from = open + 1;
  for (size_t i = open + 1; i < close; ++i) {
    if (pattern[i] == '\\') {
      ++i;
    } else if (pattern[i] == '{') {
      ++depth;
    } else if (pattern[i] == '}') {
      --depth;
    } else if (pattern[i] == ',' && depth == 0) {
      alternatives.push_back(pattern.substr(from, i - from));
      from = i + 1;
    }
  }
  alternatives.push_back(pattern.substr(from, close - from));
  std::vector<std::string> out;
  for (std::string_view alt : alternatives) {
    std::string joined = std::string(pattern.substr(0, open)) + std::string(alt) +
                         std::string(pattern.substr(close + 1));
    for (std::string& e : expand_braces(joined)) out.push_back(std::move(e));
  }
  return out;
}

// fnmatch with FNM_PATHNAME | FNM_DOTMATCH on one brace-free pattern. `segment_start`: `p` and
// `s` are at the start of a path segment, where `**/` means zero or more directories.
bool fnmatch_path(std::string_view p, std::string_view s, bool segment_start) {
  if (p.empty()) return s.empty();
  if (segment_start && p.substr(0, 3) == "**/") {
    std::string_view rest = p.substr(3);
    if (fnmatch_path(rest, s, true)) return true;
    for (size_t k = 0; k < s.size(); ++k) {
      if (s[k] == '/' && fnmatch_path(rest, s.substr(k + 1), true)) return true;
    }
    return false;
  }
  if (p[0] == '*') {
    size_t stars = p.find_first_not_of('*');
    std::string_view rest = stars == std::string_view::npos ? std::string_view() : p.substr(stars);
    for (size_t k = 0; k <= s.size(); ++k) {
      if (k > 0 && s[k - 1] == '/') break;
      if (fnmatch_path(rest, s.substr(k), false)) return true;
    }
    return false;
  }
  if (s.empty()) return false;
  if (p[0] == '?') return s[0] != '/' && fnmatch_path(p.substr(1), s.substr(1), false);
  if (p[0] == '[') {
    size_t first = p.size() > 1 && (p[1] == '!' || p[1] == '^') ? 2 : 1;
    size_t end = p.find(']', first + 1);
    if (end != std::string_view::npos) {
      std::string_view set = p.substr(first, end - first);
      bool hit = false;
      for (size_t k = 0; k < set.size(); ++k) {
        if (set[k] == '\\' && k + 1 < set.size()) ++k;
        if (k + 2 < set.size() && set[k + 1] == '-') {
          hit = hit || (s[0] >= set[k] && s[0] <= set[k + 2]);
          k += 2;
        } else {
          hit = hit || s[0] == set[k];
        }
      }
      return hit != (first == 2) && s[0] != '/' &&
             fnmatch_path(p.substr(end + 1), s.substr(1), false);
    }
  }
  if (p[0] == '\\' && p.size() > 1) p.remove_prefix(1);
  return p[0] == s[0] && fnmatch_path(p.substr(1), s.substr(1), s[0] == '/');
}

bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// ActiveSupport's String#pluralize for the pipeline source names GitLab has.
std::string pluralize(const std::string& word) {
  if (ends_with(word, "s") || ends_with(word, "sh") || ends_with(word, "ch") ||
      ends_with(word, "x")) {
    return word + "es";
  }
  return word + "s";
}

// One `refs` pattern of only/except (Gitlab::Ci::Build::Policy::Refs): `pattern@project`,
// keywords against the pipeline source, then a /regexp/ or the exact name on branch and tag
// pipelines only.
bool ref_matches(const std::string& entry, const PipelineKind& kind) {
  size_t at = entry.find('@');
  std::string pattern = entry.substr(0, at);
  if (at != std::string::npos && entry.substr(at + 1) != kind.project_path) return false;
  bool merge_request = kind.source == "merge_request_event";
  bool branch = !kind.tag && !merge_request;
  if (kind.tag && pattern == "tags") return true;
  if (branch && pattern == "branches") return true;
  std::string source = ends_with(kind.source, "_event")
                           ? kind.source.substr(0, kind.source.size() - 6)
                           : kind.source;
  if (!source.empty() && (pattern == source || pattern == pluralize(source))) return true;
  if (source == "external_merge_request" && pattern == "merge_requests") return true;
  if (!branch && !kind.tag) return false;
  Result<std::optional<std::string>> re = ruby_regexp(pattern);
  if (re && *re) return RE2::PartialMatch(kind.ref, RE2(**re, RE2::Quiet));
  return pattern == kind.ref;
}

// The patterns of an exists/changes clause: a list, a single string, or {paths: ...}.
std::vector<std::string> clause_paths(const ConfigValue& clause) {
  const ConfigValue& e =
      clause.is_mapping() && clause.find("paths") != nullptr ? *clause.find("paths") : clause;
  std::vector<std::string> patterns;
  if (e.is_scalar()) patterns.push_back(e.scalar);
  for (const ConfigValue& item : e.items) {
    if (item.is_scalar()) patterns.push_back(item.scalar);
  }
  return patterns;
}

}  // namespace

Result<bool> evaluate_expression(std::string_view expression, const ExpressionVariables& vars) {
  Result<std::vector<Token>> tokens = lex(expression, vars);
  if (!tokens) return fail(tokens.error());
  Result<Value> value = Parser(std::move(*tokens)).parse();
  if (!value) return fail(value.error());
  return present(*value);
}

Result<std::optional<std::string>> ruby_regexp(std::string_view text) {
  size_t close = text.rfind('/');
  if (text.empty() || text[0] != '/' || close == 0 || close == std::string_view::npos ||
      text.find_first_not_of("imsU", close + 1) != std::string_view::npos) {
    return std::optional<std::string>();
  }
  std::optional<std::string> re = regex_from(text.substr(1, close - 1), text.substr(close + 1));
  if (!re) return fail(ErrorKind::kInvalidInput, "Invalid regular expression!");
  return re;
}

std::string expand_existing(std::string_view text, const ExpressionVariables& vars) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '$') {
      bool braced = i + 1 < text.size() && text[i + 1] == '{';
      size_t from = i + (braced ? 2 : 1);
      size_t end = from;
      while (end < text.size() && is_word(text[end])) ++end;
      bool closed = !braced || (end < text.size() && text[end] == '}');
      auto it =
          end > from && closed ? vars.find(std::string(text.substr(from, end - from))) : vars.end();
      if (it != vars.end()) {
        out += it->second;
        i = end + (braced ? 1 : 0);
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

bool glob_match(std::string_view pattern, std::string_view path) {
  for (const std::string& p : expand_braces(pattern)) {
    if (fnmatch_path(p, path, true)) return true;
  }
  return false;
}

PipelineKind pipeline_kind(const ExpressionVariables& pipeline_vars) {
  PipelineKind kind;
  auto get = [&pipeline_vars](const char* key) -> const std::string* {
    auto it = pipeline_vars.find(key);
    return it == pipeline_vars.end() ? nullptr : &it->second;
  };
  if (const std::string* source = get("CI_PIPELINE_SOURCE");
      source != nullptr && !source->empty()) {
    kind.source = *source;
  }
  const std::string* tag = get("CI_COMMIT_TAG");
  kind.tag = tag != nullptr && !tag->empty();
  const std::string* ref = get("CI_COMMIT_REF_NAME");
  kind.ref = kind.tag ? *tag : ref != nullptr ? *ref : "";
  if (const std::string* path = get("CI_PROJECT_PATH")) kind.project_path = *path;
  return kind;
}

// exists: paths may use variables (§8.4), expanded as changes paths are.
static std::vector<std::string> exists_paths(const ConfigValue& clause,
                                             const ExpressionVariables& vars) {
  std::vector<std::string> paths = clause_paths(clause);
  for (std::string& path : paths) path = expand_existing(path, vars);
  return paths;
}

Result<bool> changes_satisfied(const ConfigValue& changes, const ExpressionVariables& vars,
                               const PipelineKind& kind, ChangedFiles* files) {
  if (changes.is_null() || files == nullptr || !files->evaluated()) return true;
  const ConfigValue* compare_to = changes.is_mapping() ? changes.find("compare_to") : nullptr;
  const std::vector<std::string>* changed = nullptr;
  if (compare_to != nullptr && compare_to->is_scalar()) {
    std::string ref = expand_existing(compare_to->scalar, vars);
    changed = files->since(ref);
    if (changed == nullptr) {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("rules:changes:compare_to is not a valid ref: {}", ref));
    }
  } else {
    // GitLab has a diff only for branch pushes and merge requests (pipeline.modified_paths).
    bool has_diff = !kind.tag && (kind.source == "push" || kind.source == "merge_request_event" ||
                                  kind.source == "external_pull_request_event");
    if (!has_diff) return true;
    changed = files->since_merge_base();
    if (changed == nullptr) return true;
  }
  for (const std::string& raw : clause_paths(changes)) {
    std::string pattern = expand_existing(raw, vars);
    if (pattern.empty()) continue;
    for (const std::string& file : *changed) {
      if (glob_match(pattern, file)) return true;
    }
  }
  return false;
}

Result<bool> only_except_included(const JobConfig& job, bool workflow_has_rules,
                                  const ExpressionVariables& vars, const PipelineKind& kind,
                                  ChangedFiles* files) {
  static const std::vector<std::string> kDefaultRefs = {"branches", "tags"};
  // Each present key of a policy: nullopt when absent, else whether it holds.
  auto refs_hold = [&](const std::vector<std::string>& refs) {
    return std::any_of(refs.begin(), refs.end(),
                       [&kind](const std::string& r) { return ref_matches(r, kind); });
  };
  auto variables_hold = [&](const std::vector<std::string>& expressions) {
    return std::any_of(expressions.begin(), expressions.end(), [&vars](const std::string& e) {
      Result<bool> r = evaluate_expression(e, vars);
      return r && *r;  // GitLab: an expression that fails to evaluate is false
    });
  };
  std::optional<OnlyExceptDef> only = job.only;
  if (!only && !workflow_has_rules) only = OnlyExceptDef{.refs = kDefaultRefs};
  if (only) {
    if (!refs_hold(only->refs.value_or(kDefaultRefs))) return false;
    if (only->variables && !variables_hold(*only->variables)) return false;
    if (!only->kubernetes.empty()) return false;  // no Kubernetes integration locally
    Result<bool> changed = changes_satisfied(only->changes, vars, kind, files);
    if (!changed || !*changed) return changed;
  }
  if (const std::optional<OnlyExceptDef>& except = job.except) {
    if (except->refs && refs_hold(*except->refs)) return false;
    if (except->variables && variables_hold(*except->variables)) return false;
    if (!except->changes.is_null()) {
      Result<bool> changed = changes_satisfied(except->changes, vars, kind, files);
      if (!changed) return changed;
      if (*changed) return false;
    }
  }
  return true;
}

bool any_file_exists(const std::filesystem::path& project_dir,
                     const std::vector<std::string>& patterns) {
  std::vector<std::string> files;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(project_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) {
      files.push_back(std::filesystem::relative(it->path(), project_dir, ec).generic_string());
    }
  }
  for (const std::string& pattern : patterns) {
    if (pattern.empty()) continue;
    std::string p = starts_with(pattern, "/") ? pattern.substr(1) : pattern;
    for (const std::string& file : files) {
      if (glob_match(p, file)) return true;
    }
  }
  return false;
}

Result<WorkflowDecision> evaluate_workflow(const PipelineConfig& pipeline,
                                           const Variables& pipeline_variables,
                                           const Variables& cli_variables,
                                           const std::filesystem::path& project_dir,
                                           ChangedFiles* changes) {
  WorkflowDecision decision;
  const ConfigValue& workflow = pipeline.workflow;
  if (!workflow.is_mapping()) return decision;
  if (const ConfigValue* name = workflow.find("name"); name != nullptr && name->is_scalar()) {
    decision.name = std::string(trim(name->scalar));
  }
  const ConfigValue* rules = workflow.find("rules");
  if (rules == nullptr || !rules->is_sequence()) return decision;
  auto error = [&pipeline](int line, const std::string& message) {
    return fail(ErrorKind::kInvalidInput, fmt::format("{}:{}: {}", pipeline.file_name, line, message));
  };
  ExpressionVariables vars;
  for (const Variable& v : pipeline_variables) vars[v.key] = v.value;
  for (const VariableDef& v : pipeline.variables) vars[v.name] = v.value;
  for (const Variable& v : cli_variables) vars[v.key] = v.value;
  PipelineKind kind = pipeline_kind(vars);
  for (const ConfigValue& rule : rules->items) {
    if (!rule.is_mapping()) return error(rule.line, "workflow:rules:rule config should be a hash");
    bool ok = true;
    if (const ConfigValue* expr = rule.find("if")) {
      Result<bool> r = evaluate_expression(expr->scalar, vars);
      if (!expr->is_scalar() || !r) {
        return error(expr->line, fmt::format("workflow:rules:rule if invalid expression syntax: {}",
                                             expr->scalar));
      }
      ok = *r;
    }
    if (const ConfigValue* changed = rule.find("changes"); ok && changed != nullptr) {
      Result<bool> r = changes_satisfied(*changed, vars, kind, changes);
      if (!r) return error(changed->line, "workflow:" + r.error().message);
      ok = *r;
    }
    if (const ConfigValue* exists = rule.find("exists"); ok && exists != nullptr) {
      ok = any_file_exists(project_dir, exists_paths(*exists, vars));
    }
    if (!ok) continue;
    const ConfigValue* when = rule.find("when");
    if (when != nullptr && (!when->is_scalar() || (when->scalar != "always" && when->scalar != "never"))) {
      return error(when->line, "workflow:rules:rule when unknown value: should be always or never");
    }
    decision.run = when == nullptr || when->scalar != "never";
    if (const ConfigValue* variables = rule.find("variables"); variables != nullptr && variables->is_mapping()) {
      for (size_t i = 0; i < variables->keys.size(); ++i) {
        const ConfigValue& v = variables->items[i];
        const ConfigValue* value = v.is_mapping() ? v.find("value") : &v;
        decision.variables.push_back(VariableDef{
            .name = variables->keys[i],
            .value = value != nullptr && value->is_scalar() ? value->scalar : "",
            .line = v.line});
      }
    }
    return decision;
  }
  decision.run = false;  // no rule matched: no pipeline
  return decision;
}

Result<PipelineConfig> apply_rules(const PipelineConfig& pipeline,
                                   const Variables& pipeline_variables,
                                   const Variables& cli_variables,
                                   const std::filesystem::path& project_dir,
                                   std::vector<std::string>* removed, ChangedFiles* changes) {
  PipelineConfig out = pipeline;
  out.jobs.clear();
  std::vector<std::string> dropped;
  ExpressionVariables pipeline_vars;
  for (const Variable& v : pipeline_variables) pipeline_vars[v.key] = v.value;
  for (const Variable& v : cli_variables) pipeline_vars[v.key] = v.value;
  const PipelineKind kind = pipeline_kind(pipeline_vars);
  const bool workflow_has_rules =
      pipeline.workflow.is_mapping() && pipeline.workflow.find("rules") != nullptr;
  for (const JobConfig& source : pipeline.jobs) {
    ExpressionVariables vars;
    for (const Variable& v : pipeline_variables) vars[v.key] = v.value;
    vars["CI_JOB_NAME"] = source.name;
    vars["CI_JOB_NAME_SLUG"] = slugify(source.name);
    vars["CI_JOB_STAGE"] = source.stage;
    vars["CI_NODE_TOTAL"] = std::to_string(std::max(source.node_total, 1));
    if (source.node_index > 0) vars["CI_NODE_INDEX"] = std::to_string(source.node_index);
    for (const VariableDef& v : inherited_variables(pipeline, source)) vars[v.name] = v.value;
    for (const VariableDef& v : source.variables) vars[v.name] = v.value;
    for (const Variable& v : cli_variables) vars[v.key] = v.value;

    if (!source.rules) {
      Result<bool> included = only_except_included(source, workflow_has_rules, vars, kind, changes);
      if (!included) {
        return fail(ErrorKind::kInvalidInput,
                    fmt::format("{}:{}: jobs:{}:{}", pipeline.file_name, source.line, source.name,
                                included.error().message));
      }
      if (*included) {
        out.jobs.push_back(source);
      } else {
        dropped.push_back(source.name);
      }
      continue;
    }
    const RuleDef* match = nullptr;
    for (const RuleDef& rule : *source.rules) {
      bool ok = true;
      if (rule.if_expr) {
        Result<bool> r = evaluate_expression(*rule.if_expr, vars);
        if (!r) {
          return fail(ErrorKind::kInvalidInput,
                      fmt::format("{}:{}: jobs:{}:rules:rule if invalid expression syntax ({}): {}",
                                  pipeline.file_name, rule.line, source.name, r.error().message,
                                  *rule.if_expr));
        }
        ok = *r;
      }
      if (ok && !rule.changes.is_null()) {
        Result<bool> r = changes_satisfied(rule.changes, vars, kind, changes);
        if (!r) {
          return fail(ErrorKind::kInvalidInput,
                      fmt::format("{}:{}: jobs:{}:{}", pipeline.file_name,
                                  rule.changes.line > 0 ? rule.changes.line : rule.line,
                                  source.name, r.error().message));
        }
        ok = *r;
      }
      if (ok && !rule.exists.is_null())
        ok = any_file_exists(project_dir, exists_paths(rule.exists, vars));
      if (ok) {
        match = &rule;
        break;
      }
    }
    if (match == nullptr || (match->when && *match->when == When::kNever)) {
      dropped.push_back(source.name);
      continue;
    }
    JobConfig job = source;
    if (match->when) job.when = *match->when;
    // allow_failure: rule > job > (job-level manual keeps true; rule manual defaults false).
    if (match->allow_failure) {
      job.allow_failure = *match->allow_failure;
    } else if (match->when && *match->when == When::kManual && source.when != When::kManual &&
               source.allow_failure == AllowFailure{}) {
      job.allow_failure = AllowFailure{};
    } else if (match->when && *match->when != When::kManual && source.when == When::kManual &&
               source.allow_failure == AllowFailure{.allowed = true}) {
      job.allow_failure = AllowFailure{};
    }
    if (match->start_in) job.start_in = *match->start_in;
    if (match->needs) job.needs = *match->needs;
    if (match->interruptible) job.interruptible = *match->interruptible;
    for (const VariableDef& v : match->variables) job.variables.push_back(v);
    out.jobs.push_back(std::move(job));
  }
  // A non-optional need on a job the rules removed is a creation error (§9.2).
  for (const JobConfig& job : out.jobs) {
    if (!job.needs) continue;
    for (const NeedDef& need : *job.needs) {
      if (need.optional || need.job.empty() ||
          std::find(dropped.begin(), dropped.end(), need.job) == dropped.end()) {
        continue;
      }
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("{}:{}: '{}' job needs '{}' job, but '{}' is not in any previous "
                              "stage",
                              pipeline.file_name, job.line, job.name, need.job, need.job));
    }
  }
  if (removed != nullptr) *removed = dropped;
  return out;
}

}  // namespace glr
