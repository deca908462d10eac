// `register --template-config` (api spec §1.7): fills a new [[runners]] entry from the single
// [[runners]] entry of a template file, as the Helm chart's registration relies on.
#pragma once

#include <string>
#include <string_view>

#include "config/runner_config.h"
#include "util/result.h"

namespace glr {

// Merges the template into `from_flags` (the entry built from register's flags and env).
//
// Precedence copies commands/register.go, which calls mergo.Merge(runner, template) without
// WithOverride: a value already in `from_flags` wins, and the template only fills what is
// still at its zero value ("", 0, false, empty list/table, unset optional). Go cannot tell
// "set to zero" from "not set", so neither can we: `--limit 0` or `--docker-privileged=false`
// lose against a template that sets them. Other rules, all from mergo:
//  - tables (labels, feature_flags, [runners.docker], [runners.cache.s3], ...) merge key by
//    key with the same rule, recursively; a section only the template has is copied whole;
//  - lists (environment, volumes, [[runners.docker.services]]) are taken whole from the
//    template only when the entry has none; they are never concatenated;
//  - an optional boolean set to false in `from_flags` is still turned on by a template true
//    (mergo dereferences the *bool and false is its zero value);
//  - the template's token is discarded; token_obtained_at/token_expires_at are never taken
//    (mergo does not merge time.Time);
//  - keys the loader does not know are carried over when the entry lacks them (the official
//    runner drops them; we keep them, like every other unknown key).
// The template's global keys are ignored. Call this before interactive questions and
// executor defaults are applied, as the official register does.
//
// Errors (kInvalidInput) name the template: "<name>:3:5: ..." for a file that does not load,
// "<name>: configuration template must contain exactly one [[runners]] entry".
Result<RunnerSettings> merge_template(const RunnerSettings& from_flags,
                                      std::string_view template_toml,
                                      const std::string& template_name);

}  // namespace glr
