// Tests for the variables file: its shapes, its errors (file, line, key) and the choice of a
// value by environment scope (pipeline-yaml §7.7).
#include "pipeline/variables_file.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

TEST(VariablesFile, PlainAndScopedValues) {
  Result<std::vector<ProjectVariable>> vars = parse_variables_file(
      "TOKEN: abc\n"
      "COUNT: 3\n"
      "URL:\n"
      "  values:\n"
      "    '*': https://dev\n"
      "    review/*: https://review\n"
      "CERT:\n"
      "  type: file\n"
      "  values: {production: secret}\n",
      ".gitlab-ci-local-variables.yml");
  ASSERT_TRUE(vars) << vars.error().message;
  ASSERT_EQ(vars->size(), 4u);
  EXPECT_EQ((*vars)[0].name, "TOKEN");
  EXPECT_EQ((*vars)[0].values, (std::vector<std::pair<std::string, std::string>>{{"*", "abc"}}));
  EXPECT_EQ((*vars)[1].values[0].second, "3");
  EXPECT_EQ((*vars)[2].values.size(), 2u);
  EXPECT_EQ((*vars)[2].line, 3);
  EXPECT_TRUE((*vars)[3].is_file);
}

TEST(VariablesFile, ErrorsNameFileLineAndKey) {
  Result<std::vector<ProjectVariable>> list = parse_variables_file("A: x\nB: [1, 2]\n", "vars.yml");
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().message.rfind("vars.yml:2: B: should be a string", 0), 0u)
      << list.error().message;

  Result<std::vector<ProjectVariable>> type =
      parse_variables_file("C:\n  type: secret\n  values: {'*': x}\n", "vars.yml");
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().message, "vars.yml:2: C:type: should be variable or file");

  Result<std::vector<ProjectVariable>> syntax = parse_variables_file("A: [x\n", "vars.yml");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().message.rfind("vars.yml:", 0), 0u);

  Result<std::vector<ProjectVariable>> root = parse_variables_file("- a\n", "vars.yml");
  ASSERT_FALSE(root);
}

TEST(VariablesFile, MaskedValuesAreMarkedAndNeedEightCharacters) {
  Result<std::vector<ProjectVariable>> vars = parse_variables_file(
      "SECRET:\n  masked: true\n  values: {'*': s3cr3t-value}\nPLAIN: x\n", "vars.yml");
  ASSERT_TRUE(vars) << vars.error().message;
  EXPECT_TRUE((*vars)[0].masked);
  EXPECT_FALSE((*vars)[1].masked);
  Variables job = project_variables_for(*vars, "");
  ASSERT_EQ(job.size(), 2u);
  EXPECT_TRUE(job[0].masked);
  EXPECT_FALSE(job[0].is_public);
  EXPECT_FALSE(job[1].masked);

  Result<std::vector<ProjectVariable>> shorter =
      parse_variables_file("PIN:\n  masked: true\n  values: {'*': '1234'}\n", "vars.yml");
  ASSERT_FALSE(shorter);
  EXPECT_EQ(shorter.error().message,
            "vars.yml:3: PIN:values:*: a masked value needs at least 8 characters (GitLab refuses "
            "shorter ones)");
  Result<std::vector<ProjectVariable>> bad =
      parse_variables_file("PIN:\n  masked: maybe\n  values: {'*': '12345678'}\n", "vars.yml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "vars.yml:2: PIN:masked: should be true or false");
}

TEST(VariablesFile, ScopeMatching) {
  EXPECT_TRUE(environment_scope_matches("*", "production"));
  EXPECT_TRUE(environment_scope_matches("review/*", "review/feature-1"));
  EXPECT_FALSE(environment_scope_matches("review/*", "staging"));
  EXPECT_TRUE(environment_scope_matches("*/eu-*", "prod/eu-west"));
  EXPECT_TRUE(environment_scope_matches("production", "production"));
  EXPECT_FALSE(environment_scope_matches("production", "production-2"));
}

TEST(VariablesFile, MostSpecificScopeWins) {
  ProjectVariable var{.name = "URL",
                      .values = {{"*", "any"},
                                 {"review/*", "review"},
                                 {"review/feature-*", "feature"},
                                 {"review/feature-1", "exact"}}};
  EXPECT_EQ(value_for_environment(var, "review/feature-1"), "exact");
  EXPECT_EQ(value_for_environment(var, "review/feature-2"), "feature");
  EXPECT_EQ(value_for_environment(var, "review/other"), "review");
  EXPECT_EQ(value_for_environment(var, "production"), "any");
  EXPECT_EQ(value_for_environment(var, ""), "any");  // no environment: only "*"

  ProjectVariable scoped_only{.name = "PROD", .values = {{"production", "p"}}};
  EXPECT_EQ(value_for_environment(scoped_only, ""), std::nullopt);
  EXPECT_EQ(value_for_environment(scoped_only, "staging"), std::nullopt);
  Variables chosen = project_variables_for({var, scoped_only}, "production");
  ASSERT_EQ(chosen.size(), 2u);
  EXPECT_EQ(chosen[0].value, "any");
  EXPECT_EQ(chosen[1].value, "p");
}

}  // namespace
}  // namespace glr
