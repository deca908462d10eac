// Builds the job's ordered variable list (executors §3.1) and expands it once (§3.2); the
// list is what every stage script exports and what the trace masker hides.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "model/job_spec.h"
#include "model/variable.h"
#include "script/feature_flags.h"

namespace glr {

// Go os.Expand over `vars` (last definition wins), §3.2: $NAME / ${NAME}, no modifiers,
// unknown -> "", $$ -> $, $0-9 $* $# $@ $! $? -> "", a lone $ is kept, ${} removed, an
// unterminated ${ drops the "${". A reference to a file variable yields tmp_dir + "/" + KEY.
std::string expand(std::string_view text, const Variables& vars, const std::string& tmp_dir);

struct JobVariablesInput {
  const JobSpec* job = nullptr;                      // REQUIRES: non-null, outlives the call
  std::vector<std::string> runner_environment{};     // [[runners]] environment, "KEY=VALUE"
  std::map<std::string, bool> config_feature_flags{};  // [runners.feature_flags]
  std::string short_token{};
  std::string builds_dir{};
  std::string project_dir{};
  std::string tmp_dir{};  // project_dir + ".tmp"; file-variable paths live here
  int concurrent_id = 0;
  int concurrent_project_id = 0;
  int64_t job_timeout_seconds = 0;
  bool shared_environment = true;  // CI_SHARED_ENVIRONMENT vs CI_DISPOSABLE_ENVIRONMENT
  std::string runner_version{};
  std::string runner_revision{};
  std::string executable_arch{};  // "linux/amd64"
  // Optional TLS file variables (§3.1 item 6); empty = not added.
  std::string tls_ca_file_content{};
  std::string tls_cert_file_content{};
  std::string tls_key_file_content{};
  std::string build_network_name{};  // item 12, added only with FF_NETWORK_PER_BUILD
};

struct JobVariables {
  Variables list{};     // §3.1 order, values already expanded (§3.2)
  ResolvedFlags flags{};
};

JobVariables build_job_variables(const JobVariablesInput& input);

// Values of masked variables, trimmed, empty ones and duplicates dropped (§3.7 filter 1).
std::vector<std::string> masked_values(const Variables& vars);

}  // namespace glr
