// Matrix products in GitLab's order (first key varies slowest), names as GitLab writes them
// (gitlab-ci-local differs: "job: [1/N]", "[a,b]"), explicit jobs winning over generated ones.
#include "pipeline/parallel.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "util/strings.h"

namespace glr {

namespace {

constexpr size_t kMaxParallel = 200;

using Permutation = std::vector<std::pair<std::string, std::string>>;  // key order kept

// Expands one matrix item ({KEY: value-or-list, ...}) into its cartesian product.
Result<std::vector<Permutation>> expand_item(const ConfigValue& item, const std::string& where) {
  if (!item.is_mapping()) {
    return fail(ErrorKind::kInvalidInput, fmt::format("{}: parallel:matrix items should be hashes", where));
  }
  std::vector<Permutation> out = {Permutation{}};
  for (size_t k = 0; k < item.keys.size(); ++k) {
    std::vector<std::string> values;
    const ConfigValue& v = item.items[k];
    if (v.is_scalar()) {
      values.push_back(v.scalar);
    } else if (v.is_sequence()) {
      for (const ConfigValue& e : v.items) {
        if (!e.is_scalar()) {
          return fail(ErrorKind::kInvalidInput,
                      fmt::format("{}: parallel:matrix values should be strings or numbers", where));
        }
        values.push_back(e.scalar);
      }
    } else {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("{}: parallel:matrix values should be strings or numbers", where));
    }
    std::vector<Permutation> next;
    for (const Permutation& prefix : out) {
      for (const std::string& value : values) {
        Permutation p = prefix;
        p.emplace_back(item.keys[k], value);
        next.push_back(std::move(p));
      }
    }
    out = std::move(next);
    if (out.size() > kMaxParallel) break;
  }
  return out;
}

Result<std::vector<Permutation>> expand_matrix(const ConfigValue& matrix, const std::string& where) {
  std::vector<Permutation> all;
  for (const ConfigValue& item : matrix.items) {
    Result<std::vector<Permutation>> perms = expand_item(item, where);
    if (!perms) return perms;
    all.insert(all.end(), perms->begin(), perms->end());
    if (all.size() > kMaxParallel) break;
  }
  if (all.size() > kMaxParallel) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("{}: parallel:matrix config generates too many jobs (maximum is 200)", where));
  }
  return all;
}

std::string matrix_name(const std::string& base, const Permutation& p) {
  std::vector<std::string> values;
  for (const auto& kv : p) values.push_back(kv.second);
  return fmt::format("{}: [{}]", base, join(values, ", "));
}

struct Generated {
  std::string name{};
  Permutation values{};
};

}  // namespace

Result<PipelineConfig> expand_parallel(const PipelineConfig& pipeline) {
  PipelineConfig out = pipeline;
  out.jobs.clear();
  std::map<std::string, std::vector<Generated>> generated;  // base name -> jobs
  std::vector<std::string> explicit_names;
  for (const JobConfig& job : pipeline.jobs) {
    if (!job.parallel) explicit_names.push_back(job.name);
  }
  for (const JobConfig& job : pipeline.jobs) {
    if (!job.parallel) {
      out.jobs.push_back(job);
      continue;
    }
    std::string where = fmt::format("{}:{}: jobs:{}", pipeline.file_name, job.line, job.name);
    std::vector<Generated> jobs;
    if (job.parallel->count > 0) {
      for (int i = 1; i <= job.parallel->count; ++i) {
        jobs.push_back(Generated{.name = fmt::format("{} {}/{}", job.name, i, job.parallel->count)});
      }
    } else {
      Result<std::vector<Permutation>> perms = expand_matrix(job.parallel->matrix, where);
      if (!perms) return fail(perms.error());
      for (Permutation& p : *perms) {
        std::string name = matrix_name(job.name, p);
        // Same values give the same name: the later permutation replaces the earlier.
        auto same = std::find_if(jobs.begin(), jobs.end(), [&](const Generated& g) { return g.name == name; });
        if (same != jobs.end()) jobs.erase(same);
        jobs.push_back(Generated{.name = std::move(name), .values = std::move(p)});
      }
    }
    int total = static_cast<int>(jobs.size());
    for (int i = 0; i < total; ++i) {
      const Generated& g = jobs[static_cast<size_t>(i)];
      if (std::find(explicit_names.begin(), explicit_names.end(), g.name) != explicit_names.end()) {
        out.warnings.push_back(fmt::format("{}: job \"{}\" is defined explicitly and by parallel; "
                                           "the explicit job is used",
                                           where, g.name));
        continue;
      }
      JobConfig copy = job;
      copy.name = g.name;
      copy.parallel_base = job.name;
      copy.node_index = i + 1;
      copy.node_total = total;
      for (const auto& [key, value] : g.values) {
        copy.variables.push_back(VariableDef{.name = key, .value = value, .line = job.line});
      }
      out.jobs.push_back(std::move(copy));
    }
    generated[job.name] = std::move(jobs);
  }
  if (generated.empty()) return out;

  // Rewrite needs and dependencies that name a parallelized job.
  for (JobConfig& job : out.jobs) {
    std::string where = fmt::format("{}:{}: jobs:{}", pipeline.file_name, job.line, job.name);
    if (job.needs) {
      std::vector<NeedDef> rewritten;
      for (const NeedDef& need : *job.needs) {
        auto it = generated.find(need.job);
        if (it == generated.end() || !need.project.empty()) {
          if (!need.parallel.is_null()) {
            return fail(ErrorKind::kInvalidInput,
                        fmt::format("{}: need {} uses parallel:matrix but {} has no matrix", where,
                                    need.job, need.job));
          }
          rewritten.push_back(need);
          continue;
        }
        std::vector<Permutation> selectors;
        if (!need.parallel.is_null()) {
          const ConfigValue* matrix = need.parallel.find("matrix");
          if (matrix == nullptr) {
            return fail(ErrorKind::kInvalidInput,
                        fmt::format("{}: needs:parallel should have a matrix", where));
          }
          Result<std::vector<Permutation>> sel = expand_matrix(*matrix, where);
          if (!sel) return fail(sel.error());
          selectors = std::move(*sel);
        }
        size_t added = 0;
        for (const Generated& g : it->second) {
          bool take = selectors.empty();
          for (const Permutation& s : selectors) {
            bool all = std::all_of(s.begin(), s.end(), [&](const auto& kv) {
              return std::find(g.values.begin(), g.values.end(), kv) != g.values.end();
            });
            take = take || all;
          }
          if (!take) continue;
          NeedDef copy = need;
          copy.job = g.name;
          copy.parallel = ConfigValue{};
          rewritten.push_back(std::move(copy));
          ++added;
        }
        if (added == 0 && !need.optional) {
          return fail(ErrorKind::kInvalidInput,
                      fmt::format("{}: needs:parallel:matrix of {} selects no job", where, need.job));
        }
      }
      job.needs = std::move(rewritten);
    }
    if (job.dependencies) {
      std::vector<std::string> rewritten;
      for (const std::string& dep : *job.dependencies) {
        auto it = generated.find(dep);
        if (it == generated.end()) {
          rewritten.push_back(dep);
        } else {
          for (const Generated& g : it->second) rewritten.push_back(g.name);
        }
      }
      job.dependencies = std::move(rewritten);
    }
  }
  return out;
}

}  // namespace glr
