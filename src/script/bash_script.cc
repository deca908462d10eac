// Stage scripts for bash (executors §1.2, §3.3-§3.6, §4.4-§4.6, §7.1).
#include "script/bash_script.h"

namespace glr {

std::string stage_name(StageKind, const std::string&) { return ""; }
std::string stage_header(StageKind, const std::string&) { return ""; }
Result<std::optional<std::string>> generate_stage_script(StageKind, const std::string&,
                                                         const ScriptContext&) {
  return fail(ErrorKind::kInternal, "not implemented");
}
std::string bash_quote(std::string_view s) { return std::string(s); }

}  // namespace glr
