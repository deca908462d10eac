// Feature-flag table and resolution (api spec Appendix B, executors §3.9).
#include "script/feature_flags.h"

#include "util/strings.h"

namespace glr {

const std::vector<FeatureFlagDef>& known_feature_flags() {
  // Appendix B lists the flags grouped by default value; this is the official (roughly
  // chronological) definition order, which the header line and the variable list follow.
  static const std::vector<FeatureFlagDef> kFlags = {
      {"FF_NETWORK_PER_BUILD", false},
      {"FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY", false},
      {"FF_USE_DIRECT_DOWNLOAD", true},
      {"FF_USE_FASTZIP", true},
      {"FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR", false},
      {"FF_ENABLE_BASH_EXIT_CODE_CHECK", false},
      {"FF_USE_WINDOWS_LEGACY_PROCESS_STRATEGY", false},
      {"FF_USE_LEGACY_BASH_EVAL", false},
      {"FF_USE_POWERSHELL_PATH_RESOLVER", false},
      {"FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL", false},
      {"FF_SCRIPT_SECTIONS", false},
      {"FF_ENABLE_JOB_CLEANUP", false},
      {"FF_KUBERNETES_HONOR_ENTRYPOINT", false},
      {"FF_POSIXLY_CORRECT_ESCAPES", false},
      {"FF_RESOLVE_FULL_TLS_CHAIN", false},
      {"FF_DISABLE_POWERSHELL_STDIN", false},
      {"FF_USE_POD_ACTIVE_DEADLINE_SECONDS", true},
      {"FF_USE_ADVANCED_POD_SPEC_CONFIGURATION", false},
      {"FF_SECRET_RESOLVING_FAILS_IF_MISSING", true},
      {"FF_PRINT_POD_EVENTS", false},
      {"FF_USE_GIT_BUNDLE_URIS", true},
      {"FF_USE_GIT_NATIVE_CLONE", false},
      {"FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR", false},
      {"FF_USE_INIT_WITH_DOCKER_EXECUTOR", false},
      {"FF_LOG_IMAGES_CONFIGURED_FOR_JOB", false},
      {"FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO", true},
      {"FF_CLEAN_UP_FAILED_CACHE_EXTRACT", false},
      {"FF_USE_WINDOWS_JOB_OBJECT", false},
      {"FF_TIMESTAMPS", true},
      {"FF_DISABLE_AUTOMATIC_TOKEN_ROTATION", false},
      {"FF_USE_LEGACY_GCS_CACHE_ADAPTER", false},
      {"FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR", false},
      {"FF_USE_LEGACY_S3_CACHE_ADAPTER", false},
      {"FF_GIT_URLS_WITHOUT_TOKENS", false},
      {"FF_WAIT_FOR_POD_TO_BE_REACHABLE", false},
      {"FF_MASK_ALL_DEFAULT_TOKENS", true},
      {"FF_EXPORT_HIGH_CARDINALITY_METRICS", false},
      {"FF_USE_FLEETING_ACQUIRE_HEARTBEATS", false},
      {"FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY", true},
      {"FF_USE_ADAPTIVE_REQUEST_CONCURRENCY", true},
      {"FF_USE_GITALY_CORRELATION_ID", true},
      {"FF_USE_GIT_PROACTIVE_AUTH", false},
      {"FF_HASH_CACHE_KEYS", false},
      {"FF_ENABLE_JOB_INPUTS_INTERPOLATION", true},
      {"FF_USE_JOB_ROUTER", false},
      {"FF_SCRIPT_TO_STEP_MIGRATION", false},
      {"FF_USE_PARALLEL_CACHE_TRANSFER", false},
      {"FF_USE_PARALLEL_ARTIFACT_TRANSFER", false},
      {"FF_CONCRETE", false},
      {"FF_SUSPENDABLE_ENVIRONMENTS", false},
      {"FF_USE_NATIVE_CONTAINER_STOP", false},
      // Deprecated test flag; still exported (§3.1 item 1).
      {"FF_TEST_FEATURE", false},
  };
  return kFlags;
}

bool ResolvedFlags::get(const std::string& name) const {
  auto it = values.find(name);
  return it != values.end() && it->second;
}

ResolvedFlags resolve_feature_flags(const std::map<std::string, bool>& config_flags,
                                    const Variables& job_and_env_vars) {
  ResolvedFlags out;
  for (const FeatureFlagDef& def : known_feature_flags()) {
    bool value = def.default_value;
    if (auto it = config_flags.find(def.name); it != config_flags.end()) {
      value = it->second;
    } else if (const Variable* v = find_variable(job_and_env_vars, def.name);
               v != nullptr && !v->value.empty()) {
      if (std::optional<bool> parsed = parse_go_bool(v->value)) {
        value = *parsed;
      } else {
        out.warnings.push_back(std::string(def.name) +
                               ": could not parse feature flag, expected bool, got " + v->value);
      }
    }
    out.values[def.name] = value;
  }
  // The official runner resolves the flags twice while building its settings and so lists
  // every parse warning twice (§2.7): the whole block, then the whole block again.
  size_t n = out.warnings.size();
  for (size_t i = 0; i < n; ++i) out.warnings.push_back(out.warnings[i]);
  return out;
}

std::vector<std::string> changed_flags_for_header(const ResolvedFlags& flags) {
  std::vector<std::string> out;
  for (const FeatureFlagDef& def : known_feature_flags()) {
    bool value = flags.get(def.name);
    if (value != def.default_value) {
      out.push_back(std::string(def.name) + ":" + (value ? "true" : "false"));
    }
  }
  return out;
}

}  // namespace glr
