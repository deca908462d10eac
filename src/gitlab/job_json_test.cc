// Job payload parsing and request bodies (api spec §2.1, §3, §4.1).
#include "gitlab/job_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "util/version.h"

namespace glr {
namespace {

// The shape of the spec's complete example payload (§3.16), trimmed of EE parts.
constexpr const char* kPayload = R"({
  "id": 9876543210, "token": "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9", "allow_git_fetch": true,
  "job_info": {"id": 9876543210, "name": "unit-tests", "stage": "test", "pipeline_id": 1234567,
    "project_id": 4242, "project_name": "widget", "project_full_path": "acme/widget",
    "user_id": 501, "time_in_queue_seconds": 2.5,
    "project_jobs_running_on_instance_runners_count": "+Inf", "unknown_new_key": {"x": 1}},
  "git_info": {"repo_url": "https://gitlab-ci-token:glcbt-64_k3Yx7Qm2nP4rT8vW1zA9@gitlab.example.com/acme/widget.git",
    "ref": "main", "sha": "5f3e9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b", "before_sha": "0000000000000000000000000000000000000000",
    "ref_type": "branch", "refspecs": ["+refs/pipelines/1234567:refs/pipelines/1234567", "+refs/heads/main:refs/remotes/origin/main"],
    "depth": 20, "protected": true},
  "runner_info": {"timeout": 3600, "uuid": "abc"},
  "variables": [
    {"key": "CI_JOB_TOKEN", "value": "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9", "public": false, "masked": true},
    {"key": "CONFIG", "value": "a=1", "public": false, "file": true},
    {"key": "RAW", "value": "$NOT_EXPANDED", "public": true, "raw": true},
    {"key": "PLAIN", "value": "x", "public": true}],
  "steps": [
    {"name": "script", "script": ["make test"], "timeout": 3600, "when": "on_success", "allow_failure": false},
    {"name": "after_script", "script": ["echo done"], "timeout": 3600, "when": "always", "allow_failure": true}],
  "hooks": [{"name": "pre_get_sources_script", "script": ["echo pre"]}],
  "image": {"name": "ruby:3.3", "entrypoint": [""], "executor_opts": {"docker": {"platform": "amd64", "user": 1000}}},
  "services": [{"name": "postgres:16", "alias": "db, pg", "command": ["postgres"], "variables": [{"key": "POSTGRES_DB", "value": "x"}]}],
  "artifacts": [{"name": "build-output", "untracked": false, "paths": ["dist/"], "when": "on_success", "expire_in": "1 week", "artifact_type": "archive", "artifact_format": "zip"}],
  "cache": [{"key": "main-protected", "untracked": false, "policy": "pull-push", "paths": ["vendor/"], "when": "on_success", "fallback_keys": ["main"]}],
  "credentials": [{"type": "registry", "url": "registry.example.com", "username": "gitlab-ci-token", "password": "pw"}],
  "dependencies": [{"id": 1, "name": "build", "token": "t", "artifacts_file": {"filename": "artifacts.zip", "size": 123}}, {"id": 2, "name": "lint", "token": "t"}],
  "features": {"trace_sections": true, "token_mask_prefixes": ["acme-"], "failure_reasons": ["script_failure", "unknown_failure"]},
  "secrets": {"DEPLOY_KEY": {"vault": {}}},
  "policy_options": {"execution_policy_job": false}
})";

// The complete example payload of api spec §3.16, verbatim.
constexpr const char* kSpecPayload = R"json({
  "id": 9876543210,
  "token": "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9",
  "allow_git_fetch": true,
  "job_info": {
    "id": 9876543210,
    "name": "unit-tests",
    "stage": "test",
    "pipeline_id": 1234567,
    "project_id": 4242,
    "project_name": "widget",
    "project_full_path": "acme/widget",
    "namespace_id": 77,
    "root_namespace_id": 70,
    "organization_id": 1,
    "instance_id": "a1b2c3",
    "instance_uuid": "0e6f5c1e-9a0b-4a52-9d1c-2d3e4f5a6b7c",
    "user_id": 501,
    "time_in_queue_seconds": 3.42,
    "project_jobs_running_on_instance_runners_count": "+Inf",
    "queue_size": 12,
    "queue_depth": 3
  },
  "git_info": {
    "repo_url": "https://gitlab-ci-token:glcbt-64_k3Yx7Qm2nP4rT8vW1zA9@gitlab.example.com/acme/widget.git",
    "repo_object_format": "sha1",
    "ref": "main",
    "sha": "5f2c8e4a1b9d7c3e6f0a2b4c8d1e3f5a7b9c0d2e",
    "before_sha": "0000000000000000000000000000000000000000",
    "ref_type": "branch",
    "refspecs": [
      "+refs/pipelines/1234567:refs/pipelines/1234567",
      "+refs/heads/main:refs/remotes/origin/main"
    ],
    "depth": 20,
    "protected": true
  },
  "runner_info": {
    "uuid": "e7c1d0f4-5b2a-4c8e-9f31-6a7b8c9d0e1f",
    "timeout": 3600,
    "runner_session_url": null
  },
  "inputs": [
    { "key": "target", "value": { "type": "string", "content": "linux-amd64", "sensitive": false } }
  ],
  "variables": [
    { "key": "CI_JOB_ID", "value": "9876543210", "public": true, "masked": false },
    { "key": "CI_JOB_TOKEN", "value": "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9", "public": false, "masked": true },
    { "key": "CI_SERVER_URL", "value": "https://gitlab.example.com", "public": true, "masked": false },
    { "key": "CI_COMMIT_SHA", "value": "5f2c8e4a1b9d7c3e6f0a2b4c8d1e3f5a7b9c0d2e", "public": true, "masked": false },
    { "key": "GIT_DEPTH", "value": "20", "public": true, "masked": false },
    { "key": "DB_PASSWORD", "value": "s3cr3t-Passw0rd", "public": false, "masked": true, "raw": true },
    { "key": "KUBECONFIG_DATA", "value": "apiVersion: v1\nkind: Config\n", "public": false, "masked": false, "file": true }
  ],
  "steps": [
    {
      "name": "script",
      "script": ["echo preparing", "make test TARGET=$[[ job.inputs.target ]]"],
      "timeout": 3600,
      "when": "on_success",
      "allow_failure": false
    },
    {
      "name": "after_script",
      "script": ["make clean"],
      "timeout": 3600,
      "when": "always",
      "allow_failure": true
    }
  ],
  "hooks": [
    { "name": "pre_get_sources_script", "script": ["git config --global http.version HTTP/1.1"] }
  ],
  "image": {
    "name": "registry.example.com/acme/build:1.4",
    "entrypoint": [""],
    "ports": [],
    "pull_policy": ["if-not-present"],
    "executor_opts": { "docker": { "platform": "linux/amd64", "user": "1000" } }
  },
  "services": [
    {
      "name": "postgres:16",
      "alias": "db,postgres",
      "entrypoint": null,
      "command": ["postgres", "-c", "fsync=off"],
      "ports": [{ "number": 5432, "protocol": "tcp", "name": "pg" }],
      "variables": [{ "key": "POSTGRES_PASSWORD", "value": "test" }],
      "pull_policy": ["always"],
      "executor_opts": {}
    }
  ],
  "artifacts": [
    {
      "name": "build-output",
      "untracked": false,
      "paths": ["out/", "coverage/*.xml"],
      "exclude": ["out/tmp/**"],
      "when": "on_success",
      "expire_in": "1 week",
      "artifact_type": "archive",
      "artifact_format": "zip"
    },
    {
      "name": "junit.xml",
      "paths": ["reports/junit.xml"],
      "when": "always",
      "expire_in": "1 week",
      "artifact_type": "junit",
      "artifact_format": "gzip"
    }
  ],
  "cache": [
    {
      "key": "deps-3f9a-protected",
      "untracked": false,
      "policy": "pull-push",
      "paths": ["vendor/"],
      "when": "on_success",
      "fallback_keys": ["deps-main-protected"]
    }
  ],
  "credentials": [
    {
      "type": "registry",
      "url": "registry.example.com",
      "username": "gitlab-ci-token",
      "password": "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9"
    }
  ],
  "dependencies": [
    {
      "id": 9876543100,
      "name": "compile",
      "token": "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9",
      "artifacts_file": { "filename": "artifacts.zip", "size": 1048576 }
    }
  ],
  "features": {
    "trace_sections": true,
    "token_mask_prefixes": ["acme-"],
    "failure_reasons": [
      "unknown_failure", "script_failure", "api_failure", "stuck_or_timeout_failure",
      "runner_system_failure", "missing_dependency_failure", "runner_unsupported",
      "stale_schedule", "job_execution_timeout", "archived_failure", "unmet_prerequisites",
      "scheduler_failure", "data_integrity_failure", "runner_configuration_error",
      "runner_external_dependency_failure", "runner_interrupted"
    ]
  },
  "secrets": {
    "DEPLOY_KEY": {
      "vault": {
        "server": {
          "url": "https://vault.example.com",
          "namespace": "",
          "auth": { "name": "jwt", "path": "jwt", "data": { "jwt": "eyJhbGciOi…", "role": "ci" } }
        },
        "engine": { "name": "kv-v2", "path": "secret" },
        "path": "acme/widget",
        "field": "deploy_key"
      },
      "file": false
    }
  },
  "policy_options": { "execution_policy_job": false, "policy_name": "" },
  "suspend_options": {}
}
)json";

TEST(JobJson, ParsesTheCompleteSpecPayload) {
  Result<ParsedJob> parsed = parse_job_payload(kSpecPayload);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->payload_errors.empty());
  const JobSpec& j = parsed->job;
  EXPECT_EQ(j.id, 9876543210);  // > 2^31: 64-bit ids
  EXPECT_EQ(j.token.value, "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9");
  EXPECT_TRUE(j.allow_git_fetch);
  EXPECT_EQ(j.job_info, (JobInfo{.id = 9876543210, .name = "unit-tests", .stage = "test",
                                 .project_id = 4242, .project_name = "widget",
                                 .project_full_path = "acme/widget", .pipeline_id = 1234567,
                                 .user_id = 501, .time_in_queue_seconds = 3.42,
                                 .project_jobs_running_on_instance_runners_count = "+Inf",
                                 .queue_size = 12, .queue_depth = 3}));
  EXPECT_EQ(j.git_info,
            (GitInfo{.repo_url = "https://gitlab-ci-token:glcbt-64_k3Yx7Qm2nP4rT8vW1zA9@"
                                 "gitlab.example.com/acme/widget.git",
                     .repo_object_format = "sha1",
                     .ref = "main",
                     .sha = "5f2c8e4a1b9d7c3e6f0a2b4c8d1e3f5a7b9c0d2e",
                     .before_sha = "0000000000000000000000000000000000000000",
                     .ref_type = "branch",
                     .refspecs = {"+refs/pipelines/1234567:refs/pipelines/1234567",
                                  "+refs/heads/main:refs/remotes/origin/main"},
                     .depth = 20,
                     .is_protected = true}));
  EXPECT_EQ(j.runner_info, (RunnerInfo{.timeout = 3600, .uuid = "e7c1d0f4-5b2a-4c8e-9f31-6a7b8c9d0e1f"}));

  ASSERT_EQ(j.variables.size(), 7u);
  EXPECT_EQ(j.variables[1], (Variable{.key = "CI_JOB_TOKEN", .value = "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9",
                                      .is_public = false, .masked = true}));
  EXPECT_TRUE(j.variables[0].is_public);
  EXPECT_FALSE(j.variables[0].is_file);  // `file` absent = false
  EXPECT_FALSE(j.variables[0].raw);      // `raw` absent = false
  EXPECT_TRUE(j.variables[5].raw);
  EXPECT_TRUE(j.variables[5].masked);
  EXPECT_TRUE(j.variables[6].is_file);
  EXPECT_EQ(j.variables[6].value, "apiVersion: v1\nkind: Config\n");

  ASSERT_EQ(j.steps.size(), 2u);
  EXPECT_EQ(j.steps[0], (Step{.name = "script",
                              .script = {"echo preparing", "make test TARGET=$[[ job.inputs.target ]]"},
                              .timeout = 3600, .when = StepWhen::kOnSuccess, .allow_failure = false}));
  EXPECT_EQ(j.steps[1], (Step{.name = "after_script", .script = {"make clean"}, .timeout = 3600,
                              .when = StepWhen::kAlways, .allow_failure = true}));
  ASSERT_EQ(j.hooks.size(), 1u);
  EXPECT_EQ(j.hooks[0], (Hook{.name = "pre_get_sources_script",
                              .script = {"git config --global http.version HTTP/1.1"}}));

  ASSERT_TRUE(j.image.has_value());
  EXPECT_EQ(*j.image, (Image{.name = "registry.example.com/acme/build:1.4", .entrypoint = {""},
                             .pull_policy = {"if-not-present"}, .docker_platform = "linux/amd64",
                             .docker_user = "1000"}));
  ASSERT_EQ(j.services.size(), 1u);
  EXPECT_EQ(j.services[0],
            (Image{.name = "postgres:16", .alias = "db,postgres",
                   .command = {"postgres", "-c", "fsync=off"},
                   .ports = {ImagePort{.number = 5432, .protocol = "tcp", .name = "pg"}},
                   .variables = {Variable{.key = "POSTGRES_PASSWORD", .value = "test"}},
                   .pull_policy = {"always"}}));

  ASSERT_EQ(j.artifacts.size(), 2u);
  EXPECT_EQ(j.artifacts[0], (ArtifactSpec{.name = "build-output", .untracked = false,
                                          .paths = {"out/", "coverage/*.xml"},
                                          .exclude = {"out/tmp/**"}, .when = "on_success",
                                          .expire_in = "1 week", .artifact_type = "archive",
                                          .artifact_format = "zip"}));
  EXPECT_EQ(j.artifacts[1].artifact_type, "junit");
  EXPECT_TRUE(j.artifacts[1].exclude.empty());
  ASSERT_EQ(j.caches.size(), 1u);
  EXPECT_EQ(j.caches[0], (CacheSpec{.key = "deps-3f9a-protected", .policy = "pull-push",
                                    .paths = {"vendor/"}, .when = "on_success",
                                    .fallback_keys = {"deps-main-protected"}}));
  ASSERT_EQ(j.credentials.size(), 1u);
  EXPECT_EQ(j.credentials[0].url, "registry.example.com");
  EXPECT_EQ(j.credentials[0].password.value, "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9");
  ASSERT_EQ(j.dependencies.size(), 1u);
  EXPECT_EQ(j.dependencies[0], (Dependency{.id = 9876543100, .name = "compile",
                                           .token = Secret{"glcbt-64_k3Yx7Qm2nP4rT8vW1zA9"},
                                           .artifacts_filename = "artifacts.zip",
                                           .artifacts_size = 1048576}));
  EXPECT_TRUE(j.features.trace_sections);
  EXPECT_EQ(j.features.token_mask_prefixes, std::vector<std::string>{"acme-"});
  EXPECT_EQ(j.features.failure_reasons.size(), 16u);
  EXPECT_EQ(j.features.failure_reasons.back(), "runner_interrupted");
  EXPECT_TRUE(j.has_secrets);
  EXPECT_FALSE(j.has_run_steps);
}

TEST(JobJson, RunStepsCannotBeMixedWithScriptOrASTEPSVariable) {
  Result<ParsedJob> r = parse_job_payload(R"({"id": 1, "run": "[{\"name\":\"a\"}]"})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->job.has_run_steps);
  EXPECT_TRUE(r->payload_errors.empty());
  r = parse_job_payload(
      R"({"id": 1, "run": "[]", "steps": [{"name": "script", "script": ["x"]}],
          "variables": [{"key": "STEPS", "value": "[]"}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload_errors,
            (std::vector<std::string>{"the job uses both `run` and `script` steps",
                                      "the `run` keyword cannot be used with a `STEPS` variable"}));
  // Without `run`, a STEPS variable is just a variable.
  r = parse_job_payload(R"({"id": 1, "variables": [{"key": "STEPS", "value": "[]"}]})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->payload_errors.empty());
}

TEST(JobJson, ApiErrorMessagesAreFlattened) {
  EXPECT_EQ(api_error_message(R"({"message": "403 Forbidden"})"), "403 Forbidden");
  EXPECT_EQ(api_error_message(R"({"message": {"tags": ["bad", "worse"], "name": ["taken"]}})"),
            "name: taken, tags: bad; worse");
  EXPECT_EQ(api_error_message("<html>"), "");
  EXPECT_EQ(api_error_message(R"({"error": "x"})"), "");
}

TEST(JobJson, ParsesTheSpecExamplePayload) {
  Result<ParsedJob> parsed = parse_job_payload(kPayload);
  ASSERT_TRUE(parsed) << parsed.error().message;
  const JobSpec& j = parsed->job;
  EXPECT_EQ(j.id, 9876543210);
  EXPECT_EQ(j.token.value, "glcbt-64_k3Yx7Qm2nP4rT8vW1zA9");
  EXPECT_TRUE(j.allow_git_fetch);
  EXPECT_EQ(j.job_info.name, "unit-tests");
  EXPECT_EQ(j.job_info.project_id, 4242);
  EXPECT_DOUBLE_EQ(j.job_info.time_in_queue_seconds, 2.5);
  EXPECT_EQ(j.git_info.depth, 20);
  EXPECT_EQ(j.git_info.refspecs.size(), 2u);
  EXPECT_EQ(j.git_info.is_protected, true);
  EXPECT_EQ(j.runner_info.timeout, 3600);
  ASSERT_EQ(j.variables.size(), 4u);
  EXPECT_TRUE(j.variables[0].masked);
  EXPECT_TRUE(j.variables[1].is_file);
  EXPECT_FALSE(j.variables[1].masked);
  EXPECT_TRUE(j.variables[2].raw);
  ASSERT_EQ(j.steps.size(), 2u);
  EXPECT_EQ(j.steps[1].when, StepWhen::kAlways);
  EXPECT_TRUE(j.steps[1].allow_failure);
  ASSERT_EQ(j.hooks.size(), 1u);
  ASSERT_TRUE(j.image.has_value());
  EXPECT_EQ(j.image->docker_platform, "amd64");
  EXPECT_EQ(j.image->docker_user, "1000");
  ASSERT_EQ(j.services.size(), 1u);
  EXPECT_EQ(j.services[0].alias, "db, pg");
  EXPECT_EQ(j.services[0].variables[0].key, "POSTGRES_DB");
  EXPECT_EQ(j.artifacts[0].expire_in, "1 week");
  EXPECT_EQ(j.caches[0].fallback_keys, std::vector<std::string>{"main"});
  EXPECT_EQ(j.credentials[0].password.value, "pw");
  EXPECT_EQ(j.dependencies[0].artifacts_filename, "artifacts.zip");
  EXPECT_EQ(j.dependencies[1].artifacts_filename, "");
  EXPECT_TRUE(j.features.trace_sections);
  EXPECT_EQ(j.features.token_mask_prefixes, std::vector<std::string>{"acme-"});
  EXPECT_TRUE(j.has_secrets);
  EXPECT_TRUE(parsed->payload_errors.empty());
}

TEST(JobJson, NullAndMissingKeysAreZeroValues) {
  Result<ParsedJob> parsed = parse_job_payload(
      R"({"id": 5, "token": null, "git_info": null, "variables": [{"key": "A", "value": null}], "steps": null})");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->job.id, 5);
  EXPECT_TRUE(parsed->job.token.empty());
  EXPECT_EQ(parsed->job.variables[0].value, "");
  EXPECT_FALSE(parsed->job.variables[0].is_public);
  EXPECT_TRUE(parsed->job.steps.empty());
  EXPECT_FALSE(parsed->job.image.has_value());
}

TEST(JobJson, WrongTypesNameTheField) {
  Result<ParsedJob> r = parse_job_payload(R"({"id": 1, "steps": [{"name": "script", "script": "make"}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "job payload: steps[0].script: expected array of strings, got string");
  r = parse_job_payload(R"({"id": "one"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "job payload: id: expected integer, got string");
  r = parse_job_payload("{not json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "job payload: invalid JSON");
}

TEST(JobJson, UnknownExecutorOptsAreReportedForTheRunnerToFailTheJob) {
  Result<ParsedJob> r = parse_job_payload(
      R"({"id": 1, "image": {"name": "a", "executor_opts": {"docker": {"memory": "1g"}, "podman": {}}}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload_errors, (std::vector<std::string>{"Unsupported executor_opts key: docker.memory",
                                                         "Unsupported executor_opts key: podman"}));
}

TEST(JobJson, NullExecutorOptsAndKubernetesUser) {
  Result<ParsedJob> r = parse_job_payload(
      R"({"id": 1, "image": {"name": "a", "executor_opts": {"docker": null,
          "kubernetes": {"user": 1000}}}, "services": [{"name": "s", "executor_opts": null}]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->payload_errors.empty());
  EXPECT_EQ(r->job.image->kubernetes_user, "1000");
}

TEST(JobJson, ShellExecutorDeclaresOnlyWhatIsImplemented) {
  std::map<std::string, bool> f = shell_executor_features();
  EXPECT_EQ(f.size(), 31u);
  std::vector<std::string> on;
  for (const auto& [key, value] : f)
    if (value) on.push_back(key);
  EXPECT_EQ(on, (std::vector<std::string>{
                    "artifacts", "artifacts_exclude", "cache", "cancel_gracefully", "cancelable",
                    "fallback_cache_keys", "masking", "multi_build_steps", "raw_variables",
                    "refspecs", "return_exit_code", "shared", "trace_checksum", "trace_reset",
                    "trace_size", "two_phase_job_commit", "upload_multiple_artifacts",
                    "upload_raw_artifacts", "variables"}));
}

TEST(JobJson, RequestBodyHasEveryFeatureAndOmitsEmptyKeys) {
  RunnerCredentials runner{.url = "https://x/", .token = Secret{"glrt-abc"}, .system_id = "s_0123456789ab"};
  RunnerInfoPayload info{.executor = "shell", .shell = "bash", .features = shell_executor_features()};
  nlohmann::json j = nlohmann::json::parse(job_request_body(runner, info, ""));
  EXPECT_EQ(j["token"], "glrt-abc");
  EXPECT_EQ(j["system_id"], "s_0123456789ab");
  EXPECT_FALSE(j.contains("last_update"));
  EXPECT_EQ(j["info"]["name"], "gitlab-runner");
  EXPECT_EQ(j["info"]["executor"], "shell");
  EXPECT_EQ(j["info"]["config"], nlohmann::json({{"gpus", ""}}));
  EXPECT_FALSE(j["info"].contains("labels"));
  for (const char* key : {"variables", "image", "services", "artifacts", "cache", "fallback_cache_keys",
                          "shared", "upload_multiple_artifacts", "upload_raw_artifacts", "session",
                          "terminal", "refspecs", "masking", "proxy", "raw_variables",
                          "artifacts_exclude", "multi_build_steps", "trace_reset", "trace_checksum",
                          "trace_size", "vault_secrets", "cancelable", "return_exit_code",
                          "service_variables", "service_multiple_aliases", "image_executor_opts",
                          "service_executor_opts", "cancel_gracefully", "native_steps_integration",
                          "two_phase_job_commit", "job_inputs"}) {
    ASSERT_TRUE(j["info"]["features"].contains(key)) << key;
    EXPECT_TRUE(j["info"]["features"][key].is_boolean()) << key;
  }
  j = nlohmann::json::parse(job_request_body(runner, info, "lu-1"));
  EXPECT_EQ(j["last_update"], "lu-1");
  // Exactly these keys; labels only when there are some, empty token/system_id omitted.
  info.labels = {{"env", "prod"}};
  j = nlohmann::json::parse(job_request_body(RunnerCredentials{}, info, ""));
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, std::vector<std::string>{"info"});
  keys.clear();
  for (auto it = j["info"].begin(); it != j["info"].end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"architecture", "config", "executor", "features", "labels",
                                            "name", "platform", "revision", "shell", "version"}));
  EXPECT_EQ(j["info"]["labels"], nlohmann::json({{"env", "prod"}}));
}

TEST(JobJson, UpdateBodyAlwaysCarriesOutput) {
  RunnerInfoPayload info;
  UpdateJobRequest ack{.job_id = 1, .job_token = Secret{"t"}, .state = "running"};
  nlohmann::json j = nlohmann::json::parse(update_job_body(info, ack));
  EXPECT_EQ(j["output"], nlohmann::json::object());
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"info", "output", "state", "token"}));
  EXPECT_EQ(j["info"]["version"], compat_version());
  EXPECT_EQ(j["info"]["revision"], revision());
  EXPECT_FALSE(j.contains("exit_code"));
  EXPECT_FALSE(j.contains("failure_reason"));
  UpdateJobRequest fin{.job_id = 1, .job_token = Secret{"t"}, .state = "failed",
                       .failure_reason = "script_failure", .exit_code = 2,
                       .output = OutputInfo{"crc32:0000abcd", 18234}};
  j = nlohmann::json::parse(update_job_body(info, fin));
  EXPECT_EQ(j["state"], "failed");
  EXPECT_EQ(j["failure_reason"], "script_failure");
  EXPECT_EQ(j["exit_code"], 2);
  EXPECT_EQ(j["checksum"], "crc32:0000abcd");
  EXPECT_EQ(j["output"]["checksum"], "crc32:0000abcd");
  EXPECT_EQ(j["output"]["bytesize"], 18234);
  EXPECT_EQ(j["token"], "t");
}

}  // namespace
}  // namespace glr
