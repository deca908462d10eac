// Feature flags (api spec Appendix B) and how one job resolves them (executors §3.9): the
// resolved values are exported into the job and change what the scripts look like.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/variable.h"

namespace glr {

struct FeatureFlagDef {
  const char* name = "";
  bool default_value = false;
};

// Every flag the runner knows, in the official definition order (also the order of the
// header line and of the FF_* entries at the top of the variable list, §3.1 item 1).
const std::vector<FeatureFlagDef>& known_feature_flags();

struct ResolvedFlags {
  std::map<std::string, bool> values{};  // one entry per known flag
  // "<FF>: could not parse feature flag, expected bool, got <v>", definition order, and the
  // whole block twice like the official runner. Officially printed AFTER BuildSettings::warnings.
  std::vector<std::string> warnings{};
  // Resolved value; unknown names are false.
  bool get(const std::string& name) const;
  friend bool operator==(const ResolvedFlags&, const ResolvedFlags&) = default;
};

// §3.9: default, else [runners.feature_flags] (wins, stops), else the last definition in
// `job_and_env_vars` parsed with the strict Go bool parser (junk keeps the default + warning).
ResolvedFlags resolve_feature_flags(const std::map<std::string, bool>& config_flags,
                                    const Variables& job_and_env_vars);

// "FF_X:true" for every flag whose resolved value differs from its default, definition order
// (header line 3, executors §2.4).
std::vector<std::string> changed_flags_for_header(const ResolvedFlags& flags);

}  // namespace glr
