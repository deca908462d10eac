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

// A string "/pattern/flags" used on the right of =~ (GitLab >= 15.1).
std::optional<std::string> regex_from_string(const std::string& s) {
  if (s.size() < 2 || s[0] != '/') return std::nullopt;
  size_t close = s.rfind('/');
  if (close == 0) return std::nullopt;
  return regex_from(std::string_view(s).substr(1, close - 1), std::string_view(s).substr(close + 1));
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
  } else if (std::optional<std::string> re = regex_from_string(as_string(b))) {
    pattern = *re;
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

// Expands {a,b} alternatives (no nesting needed in practice, but handled recursively).
std::vector<std::string> expand_braces(const std::string& pattern) {
  size_t open = pattern.find('{');
  size_t close = open == std::string::npos ? open : pattern.find('}', open);
  if (close == std::string::npos) return {pattern};
  std::vector<std::string> out;
  for (const std::string& alt : split(pattern.substr(open + 1, close - open - 1), ',')) {
    for (std::string& rest : expand_braces(pattern.substr(close + 1))) {
      out.push_back(pattern.substr(0, open) + alt + rest);
    }
  }
  return out;
}

bool match_segment_glob(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p.substr(0, 3) == "**/") {
    // Zero or more whole directories.
    if (match_segment_glob(p.substr(3), s)) return true;
    for (size_t k = 0; k < s.size(); ++k) {
      if (s[k] == '/' && match_segment_glob(p.substr(3), s.substr(k + 1))) return true;
    }
    return false;
  }
  if (p[0] == '*') {
    for (size_t k = 0; k <= s.size(); ++k) {
      if (k > 0 && s[k - 1] == '/') break;
      if (match_segment_glob(p.substr(1), s.substr(k))) return true;
    }
    return false;
  }
  if (s.empty()) return false;
  if (p[0] == '?') return s[0] != '/' && match_segment_glob(p.substr(1), s.substr(1));
  if (p[0] == '[') {
    size_t end = p.find(']', 1);
    if (end != std::string_view::npos) {
      std::string_view set = p.substr(1, end - 1);
      bool negate = !set.empty() && (set[0] == '!' || set[0] == '^');
      if (negate) set.remove_prefix(1);
      bool hit = false;
      for (size_t k = 0; k < set.size(); ++k) {
        if (k + 2 < set.size() && set[k + 1] == '-') {
          hit = hit || (s[0] >= set[k] && s[0] <= set[k + 2]);
          k += 2;
        } else {
          hit = hit || s[0] == set[k];
        }
      }
      return hit != negate && s[0] != '/' && match_segment_glob(p.substr(end + 1), s.substr(1));
    }
  }
  return p[0] == s[0] && match_segment_glob(p.substr(1), s.substr(1));
}

}  // namespace

Result<bool> evaluate_expression(std::string_view expression, const ExpressionVariables& vars) {
  Result<std::vector<Token>> tokens = lex(expression, vars);
  if (!tokens) return fail(tokens.error());
  Result<Value> value = Parser(std::move(*tokens)).parse();
  if (!value) return fail(value.error());
  return present(*value);
}

bool glob_match(std::string_view pattern, std::string_view path) {
  for (const std::string& p : expand_braces(std::string(pattern))) {
    // A leading "**/" handled by match_segment_glob; "**" elsewhere behaves like "*" per
    // fnmatch with FNM_PATHNAME unless followed by "/".
    if (match_segment_glob(p, path)) return true;
  }
  return false;
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
                                           const std::filesystem::path& project_dir) {
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
    if (const ConfigValue* exists = rule.find("exists"); ok && exists != nullptr) {
      const ConfigValue& e = exists->is_mapping() && exists->find("paths") != nullptr
                                 ? *exists->find("paths")
                                 : *exists;
      std::vector<std::string> patterns;
      if (e.is_scalar()) patterns.push_back(e.scalar);
      for (const ConfigValue& item : e.items) {
        if (item.is_scalar()) patterns.push_back(item.scalar);
      }
      ok = any_file_exists(project_dir, patterns);
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
                                   std::vector<std::string>* removed) {
  PipelineConfig out = pipeline;
  out.jobs.clear();
  std::vector<std::string> dropped;
  for (const JobConfig& source : pipeline.jobs) {
    if (!source.rules) {
      out.jobs.push_back(source);
      continue;
    }
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
      if (ok && !rule.exists.is_null()) {
        std::vector<std::string> patterns;
        const ConfigValue& e = rule.exists.is_mapping() && rule.exists.find("paths") != nullptr
                                   ? *rule.exists.find("paths")
                                   : rule.exists;
        if (e.is_scalar()) patterns.push_back(e.scalar);
        for (const ConfigValue& item : e.items) {
          if (item.is_scalar()) patterns.push_back(item.scalar);
        }
        ok = any_file_exists(project_dir, patterns);
      }
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
