// Variable list order (executors §3.1) and runner-side expansion (§3.2).
#include "script/job_variables.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

std::string ex(std::string_view text, const Variables& vars = {}) {
  return expand(text, vars, "/b/p.tmp");
}

TEST(Expand, NamesAndBraces) {
  Variables v = {{.key = "A", .value = "x"}, {.key = "A_1", .value = "y"}};
  EXPECT_EQ(ex("$A/${A}", v), "x/x");
  EXPECT_EQ(ex("$A_1-$A-1", v), "y-x-1");  // longest run of [A-Za-z0-9_]
  EXPECT_EQ(ex("${A}_1", v), "x_1");
}

TEST(Expand, NoShellModifiers) {
  Variables v = {{.key = "A", .value = "x"}, {.key = "A:-d", .value = "odd"}};
  EXPECT_EQ(ex("${A:-z}", {{.key = "A", .value = "x"}}), "");
  EXPECT_EQ(ex("${A:-d}", v), "odd");
}

TEST(Expand, UnknownIsEmpty) { EXPECT_EQ(ex("a$NOPE-b${NOPE}c"), "a-bc"); }

TEST(Expand, SpecialsAndDoubleDollar) {
  Variables v = {{.key = "B", .value = "b"}, {.key = "-", .value = "dash"}};
  EXPECT_EQ(ex("$$B", v), "$B");  // not re-expanded
  EXPECT_EQ(ex("$0$1$9$*$#$@$!$?", v), "");
  EXPECT_EQ(ex("${1}${*}", v), "");
  EXPECT_EQ(ex("$-", v), "dash");
}

TEST(Expand, LoneDollarKept) {
  EXPECT_EQ(ex("a $ b"), "a $ b");
  EXPECT_EQ(ex("$/x $.y"), "$/x $.y");
  EXPECT_EQ(ex("end$"), "end$");
}

TEST(Expand, EmptyAndUnterminatedBraces) {
  Variables v = {{.key = "A", .value = "x"}};
  EXPECT_EQ(ex("a${}b", v), "ab");
  EXPECT_EQ(ex("a${A", v), "aA");
}

TEST(Expand, OnlyOneLevel) {
  Variables v = {{.key = "A", .value = "$B"}, {.key = "B", .value = "$C"}, {.key = "C", .value = "c"}};
  EXPECT_EQ(ex("$A", v), "$B");
}

TEST(Expand, FileVariableYieldsPath) {
  Variables v = {{.key = "CERT", .value = "---content---", .is_file = true}};
  EXPECT_EQ(ex("--cert=$CERT", v), "--cert=/b/p.tmp/CERT");
}

TEST(Expand, LastDefinitionWins) {
  Variables v = {{.key = "A", .value = "1"}, {.key = "A", .value = "2"}};
  EXPECT_EQ(ex("$A", v), "2");
}

JobVariablesInput input(const JobSpec& job) {
  JobVariablesInput in;
  in.job = &job;
  in.short_token = "abcdefghi";
  in.builds_dir = "/b";
  in.project_dir = "/b/g/p";
  in.tmp_dir = "/b/g/p.tmp";
  in.concurrent_id = 3;
  in.concurrent_project_id = 1;
  in.job_timeout_seconds = 3600;
  in.runner_version = "19.4.0";
  in.runner_revision = "deadbeef";
  in.executable_arch = "linux/amd64";
  return in;
}

size_t index_of(const Variables& vars, const std::string& key) {
  for (size_t i = 0; i < vars.size(); ++i) {
    if (vars[i].key == key) return i;
  }
  return SIZE_MAX;
}

TEST(BuildJobVariables, OrderFollowsSection31) {
  JobSpec job;
  job.image = Image{.name = "alpine:3"};
  job.variables = {{.key = "USER_VAR", .value = "u", .is_public = true}};
  JobVariablesInput in = input(job);
  in.runner_environment = {"ENV_A=1", "NO_EQUALS_DROPPED"};
  JobVariables jv = build_job_variables(in);
  const Variables& l = jv.list;
  EXPECT_EQ(l.front().key, "FF_NETWORK_PER_BUILD");
  std::vector<std::string> order = {"FF_TEST_FEATURE", "CI_JOB_IMAGE", "CI_RUNNER_SHORT_TOKEN",
                                    "ENV_A", "CI_BUILDS_DIR", "CI_PROJECT_DIR", "CI_CONCURRENT_ID",
                                    "CI_CONCURRENT_PROJECT_ID", "CI_SERVER", "CI_JOB_STATUS",
                                    "CI_JOB_TIMEOUT", "USER_VAR", "CI_SHARED_ENVIRONMENT",
                                    "CI_RUNNER_VERSION", "CI_RUNNER_REVISION",
                                    "CI_RUNNER_EXECUTABLE_ARCH", "RUNNER_TEMP_PROJECT_DIR"};
  for (size_t i = 1; i < order.size(); ++i) {
    EXPECT_LT(index_of(l, order[i - 1]), index_of(l, order[i])) << order[i - 1] << " " << order[i];
  }
  EXPECT_EQ(index_of(l, "NO_EQUALS_DROPPED"), SIZE_MAX);
  EXPECT_EQ(index_of(l, "CI_DISPOSABLE_ENVIRONMENT"), SIZE_MAX);
  EXPECT_TRUE(l[index_of(l, "ENV_A")].internal);
  EXPECT_EQ(find_variable(l, "CI_JOB_TIMEOUT")->value, "3600");
  EXPECT_EQ(find_variable(l, "CI_CONCURRENT_ID")->value, "3");
  EXPECT_EQ(find_variable(l, "CI_JOB_STATUS")->value, "running");
  EXPECT_EQ(find_variable(l, "RUNNER_TEMP_PROJECT_DIR")->value, "/b/g/p.tmp");
  EXPECT_EQ(index_of(l, "CI_BUILD_NETWORK_NAME"), SIZE_MAX);
}

TEST(BuildJobVariables, JobVariableOverridesEnvironmentButNotItems8To12) {
  JobSpec job;
  job.variables = {{.key = "ENV_A", .value = "from-job"},
                   {.key = "CI_PROJECT_DIR", .value = "/mine"},
                   {.key = "RUNNER_TEMP_PROJECT_DIR", .value = "/evil"},
                   {.key = "CI_RUNNER_VERSION", .value = "0"},
                   {.key = "CI_SHARED_ENVIRONMENT", .value = "false"}};
  JobVariablesInput in = input(job);
  in.runner_environment = {"ENV_A=from-env"};
  JobVariables jv = build_job_variables(in);
  EXPECT_EQ(find_variable(jv.list, "ENV_A")->value, "from-job");
  EXPECT_EQ(find_variable(jv.list, "CI_PROJECT_DIR")->value, "/mine");
  EXPECT_EQ(find_variable(jv.list, "RUNNER_TEMP_PROJECT_DIR")->value, "/b/g/p.tmp");
  EXPECT_EQ(find_variable(jv.list, "CI_RUNNER_VERSION")->value, "19.4.0");
  EXPECT_EQ(find_variable(jv.list, "CI_SHARED_ENVIRONMENT")->value, "true");
}

TEST(BuildJobVariables, FeatureFlagJobVariablesAreRemovedAndResolvedValueExported) {
  JobSpec job;
  job.variables = {{.key = "FF_SCRIPT_SECTIONS", .value = "true"},
                   {.key = "FF_TIMESTAMPS", .value = "bogus"}};
  JobVariablesInput in = input(job);
  in.config_feature_flags = {{"FF_NETWORK_PER_BUILD", true}};
  in.build_network_name = "net-1";
  in.shared_environment = false;
  JobVariables jv = build_job_variables(in);
  int count = 0;
  for (const Variable& v : jv.list) count += v.key == "FF_TIMESTAMPS";
  EXPECT_EQ(count, 1);
  EXPECT_EQ(find_variable(jv.list, "FF_TIMESTAMPS")->value, "true");
  EXPECT_EQ(find_variable(jv.list, "FF_SCRIPT_SECTIONS")->value, "true");
  EXPECT_TRUE(jv.flags.get("FF_SCRIPT_SECTIONS"));
  EXPECT_EQ(jv.flags.warnings.size(), 2u);
  EXPECT_EQ(find_variable(jv.list, "CI_BUILD_NETWORK_NAME")->value, "net-1");
  EXPECT_EQ(find_variable(jv.list, "CI_DISPOSABLE_ENVIRONMENT")->value, "true");
}

TEST(BuildJobVariables, EnvironmentEntryCanSetAFlag) {
  JobSpec job;
  JobVariablesInput in = input(job);
  in.runner_environment = {"FF_SCRIPT_SECTIONS=true"};
  JobVariables jv = build_job_variables(in);
  EXPECT_TRUE(jv.flags.get("FF_SCRIPT_SECTIONS"));
}

TEST(BuildJobVariables, ExpandsOnceAgainstUnexpandedListAndKeepsRaw) {
  JobSpec job;
  job.variables = {{.key = "A", .value = "$CI_PROJECT_DIR/x"},
                   {.key = "B", .value = "$A"},
                   {.key = "R", .value = "$CI_PROJECT_DIR", .raw = true},
                   {.key = "C", .value = "$R"},
                   {.key = "F", .value = "data", .is_file = true},
                   {.key = "G", .value = "$F"}};
  JobVariables jv = build_job_variables(input(job));
  EXPECT_EQ(find_variable(jv.list, "A")->value, "/b/g/p/x");
  EXPECT_EQ(find_variable(jv.list, "B")->value, "$CI_PROJECT_DIR/x");
  EXPECT_EQ(find_variable(jv.list, "R")->value, "$CI_PROJECT_DIR");
  EXPECT_EQ(find_variable(jv.list, "C")->value, "$CI_PROJECT_DIR");
  EXPECT_EQ(find_variable(jv.list, "F")->value, "data");
  EXPECT_EQ(find_variable(jv.list, "G")->value, "/b/g/p.tmp/F");
}

TEST(MaskedValues, TrimsDropsEmptyAndDuplicates) {
  Variables v = {{.key = "A", .value = " secret1 ", .masked = true},
                 {.key = "B", .value = "secret1", .masked = true},
                 {.key = "C", .value = "  ", .masked = true},
                 {.key = "D", .value = "visible"}};
  EXPECT_EQ(masked_values(v), (std::vector<std::string>{"secret1"}));
}

}  // namespace
}  // namespace glr
