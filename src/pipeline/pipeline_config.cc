// Small lookups on the parsed configuration; kept out of the header so it stays declarations.
#include "pipeline/pipeline_config.h"

#include <algorithm>

namespace glr {

const ConfigValue* ConfigValue::find(const std::string& key) const {
  if (kind != Kind::kMapping) return nullptr;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

ConfigValue* ConfigValue::find(const std::string& key) {
  return const_cast<ConfigValue*>(static_cast<const ConfigValue*>(this)->find(key));
}

const char* to_string(When when) {
  switch (when) {
    case When::kOnSuccess: return "on_success";
    case When::kOnFailure: return "on_failure";
    case When::kAlways: return "always";
    case When::kManual: return "manual";
    case When::kDelayed: return "delayed";
    case When::kNever: return "never";
  }
  return "on_success";
}

const JobConfig* PipelineConfig::find_job(const std::string& name) const {
  for (const JobConfig& job : jobs) {
    if (job.name == name) return &job;
  }
  return nullptr;
}

std::vector<VariableDef> inherited_variables(const PipelineConfig& pipeline, const JobConfig& job) {
  if (job.inherit.variables_all) return pipeline.variables;
  std::vector<VariableDef> out;
  for (const VariableDef& var : pipeline.variables) {
    const std::vector<std::string>& keep = job.inherit.variables_keys;
    if (std::find(keep.begin(), keep.end(), var.name) != keep.end()) out.push_back(var);
  }
  return out;
}

}  // namespace glr
