// The parsed and merged `.gitlab-ci.yml` as plain values (pipeline-yaml §2-§5): what
// ci_yaml.cc produces and everything else in local mode reads. No YAML library types here.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace glr {

// A YAML value after anchors, merge keys, extends and !reference are resolved. Used for the
// keywords local mode keeps but does not interpret yet (release, pages, id_tokens, ...), so a
// later change can read them without re-parsing. Lines and columns are 1-based (0 = unknown).
struct ConfigValue {
  enum class Kind { kNull, kScalar, kSequence, kMapping };
  Kind kind = Kind::kNull;
  std::string scalar{};             // kScalar: the text as GitLab's Ruby to_s would give it
  bool quoted = false;              // kScalar written in quotes (never a bool/number)
  std::string tag{};                // "!reference" or empty
  std::vector<std::string> keys{};  // kMapping: keys, parallel to items
  std::vector<ConfigValue> items{};  // kSequence items, or kMapping values
  int line = 0;
  int column = 0;

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_mapping() const { return kind == Kind::kMapping; }
  // kMapping: the value of `key`, or nullptr.
  const ConfigValue* find(const std::string& key) const;
  ConfigValue* find(const std::string& key);
  friend bool operator==(const ConfigValue&, const ConfigValue&) = default;
};

enum class When { kOnSuccess, kOnFailure, kAlways, kManual, kDelayed, kNever };
const char* to_string(When when);

// `variables:` entry, top-level or job (§3.2, §7.2).
struct VariableDef {
  std::string name{};
  std::string value{};
  std::string description{};
  std::vector<std::string> options{};
  bool expand = true;  // false: raw, no $ expansion
  int line = 0;
  friend bool operator==(const VariableDef&, const VariableDef&) = default;
};

struct ImageDef {
  std::string name{};
  std::vector<std::string> entrypoint{};
  std::string alias{};                  // services only
  std::vector<std::string> command{};   // services only
  std::vector<std::string> pull_policy{};
  friend bool operator==(const ImageDef&, const ImageDef&) = default;
};

// `allow_failure:` (§4.5). exit_codes non-empty means "only these codes are allowed".
struct AllowFailure {
  bool allowed = false;
  std::vector<int> exit_codes{};
  friend bool operator==(const AllowFailure&, const AllowFailure&) = default;
};

// One `needs:` entry (§9.2).
struct NeedDef {
  std::string job{};
  bool artifacts = true;
  bool optional = false;
  std::string project{};   // needs:project (not honoured locally)
  std::string ref{};
  std::string pipeline{};  // needs:pipeline (not honoured locally)
  ConfigValue parallel{};  // needs:parallel:matrix selector, kept raw
  friend bool operator==(const NeedDef&, const NeedDef&) = default;
};

// One `rules:` entry (§8.1); evaluated by a later change.
struct RuleDef {
  std::optional<std::string> if_expr{};
  ConfigValue changes{};
  ConfigValue exists{};
  std::optional<When> when{};
  std::optional<AllowFailure> allow_failure{};
  std::optional<std::string> start_in{};
  std::optional<std::vector<NeedDef>> needs{};
  std::vector<VariableDef> variables{};
  std::optional<bool> interruptible{};
  int line = 0;
  friend bool operator==(const RuleDef&, const RuleDef&) = default;
};

struct ArtifactsDef {
  std::vector<std::string> paths{};
  std::vector<std::string> exclude{};
  bool untracked = false;
  std::string when{};  // on_success (empty), on_failure, always
  std::string expire_in{};
  std::string name{};
  std::vector<std::string> dotenv{};  // reports:dotenv
  ConfigValue reports{};              // all reports, raw
  friend bool operator==(const ArtifactsDef&, const ArtifactsDef&) = default;
};

struct CacheDef {
  ConfigValue key{};  // string or {files, prefix}
  std::vector<std::string> paths{};
  bool untracked = false;
  std::string policy{};
  std::string when{};
  std::vector<std::string> fallback_keys{};
  friend bool operator==(const CacheDef&, const CacheDef&) = default;
};

struct RetryDef {
  int max = 0;
  std::vector<std::string> when{};
  std::vector<int> exit_codes{};
  friend bool operator==(const RetryDef&, const RetryDef&) = default;
};

// `parallel: N` or `parallel: {matrix: [...]}` (§4.10); expanded by a later change.
struct ParallelDef {
  int count = 0;       // parallel: N
  ConfigValue matrix{};  // parallel:matrix, raw
  friend bool operator==(const ParallelDef&, const ParallelDef&) = default;
};

struct EnvironmentDef {
  std::string name{};
  std::string url{};
  std::string action{};
  std::string on_stop{};
  std::string deployment_tier{};
  std::string auto_stop_in{};
  friend bool operator==(const EnvironmentDef&, const EnvironmentDef&) = default;
};

// `only:` / `except:` (§8.7). A key written in the file is present (nullopt/null/empty: absent),
// because an `only` key that is present but matches nothing excludes the job.
struct OnlyExceptDef {
  std::optional<std::vector<std::string>> refs{};
  std::optional<std::vector<std::string>> variables{};
  ConfigValue changes{};     // list of globs (§8.3)
  std::string kubernetes{};  // "active"
  friend bool operator==(const OnlyExceptDef&, const OnlyExceptDef&) = default;
};

struct TriggerDef {
  std::string project{};
  std::string branch{};
  std::string strategy{};
  ConfigValue include{};
  ConfigValue forward{};
  friend bool operator==(const TriggerDef&, const TriggerDef&) = default;
};

// `inherit:` (§4.17): nullopt list = all inherited; empty list with *_all false = none.
struct InheritDef {
  bool default_all = true;
  std::vector<std::string> default_keys{};
  bool variables_all = true;
  std::vector<std::string> variables_keys{};
  friend bool operator==(const InheritDef&, const InheritDef&) = default;
};

// One job after extends, !reference and `default:` were applied.
struct JobConfig {
  std::string name{};
  int line = 0;
  std::string stage = "test";
  std::vector<std::string> script{};
  std::vector<std::string> before_script{};
  std::vector<std::string> after_script{};
  std::vector<VariableDef> variables{};  // the job's own variables only
  When when = When::kOnSuccess;
  AllowFailure allow_failure{};
  std::optional<ImageDef> image{};
  std::vector<ImageDef> services{};
  std::optional<std::vector<NeedDef>> needs{};  // nullopt: stage ordering
  std::optional<std::vector<std::string>> dependencies{};
  std::optional<ArtifactsDef> artifacts{};
  std::vector<CacheDef> cache{};
  std::optional<std::vector<RuleDef>> rules{};
  std::vector<std::string> tags{};
  std::string timeout{};
  std::optional<RetryDef> retry{};
  std::optional<ParallelDef> parallel{};
  std::optional<bool> interruptible{};
  std::optional<EnvironmentDef> environment{};
  std::string coverage{};
  std::optional<OnlyExceptDef> only{};
  std::optional<OnlyExceptDef> except{};
  std::string start_in{};
  std::string resource_group{};
  std::optional<TriggerDef> trigger{};
  std::vector<std::string> pre_get_sources_script{};  // hooks
  ConfigValue id_tokens{};
  ConfigValue secrets{};
  ConfigValue release{};
  ConfigValue pages{};
  InheritDef inherit{};
  std::vector<std::string> extends{};
  // Set on jobs generated by `parallel` (§4.10): the name written in the file, and the
  // permutation's position (1-based) and count. Matrix values are appended to `variables`.
  std::string parallel_base{};
  int node_index = 0;
  int node_total = 0;
  friend bool operator==(const JobConfig&, const JobConfig&) = default;
};

struct PipelineConfig {
  std::string file_name{};            // as given, for messages and CI_CONFIG_PATH
  std::vector<std::string> stages{};  // with .pre first and .post last
  std::vector<VariableDef> variables{};  // top-level variables
  std::vector<JobConfig> jobs{};      // file order, hidden jobs excluded
  ConfigValue workflow{};             // raw, evaluated by a later change
  ConfigValue include{};              // raw, resolved by a later change
  std::vector<std::string> warnings{};  // "file:line: message"
  std::string merged_yaml{};          // the fully merged configuration (for --preview)

  const JobConfig* find_job(const std::string& name) const;
  friend bool operator==(const PipelineConfig&, const PipelineConfig&) = default;
};

// The global variables `job` inherits (§4.17 inherit:variables).
std::vector<VariableDef> inherited_variables(const PipelineConfig& pipeline, const JobConfig& job);

}  // namespace glr
