// Tests for parallel expansion: names, node variables, matrix order, needs rewriting (§4.10).
#include "pipeline/parallel.h"

#include <gtest/gtest.h>

#include "pipeline/ci_yaml.h"

namespace glr {
namespace {

using Strings = std::vector<std::string>;

PipelineConfig expand(const std::string& yaml) {
  Result<PipelineConfig> p = parse_pipeline(yaml, ".gitlab-ci.yml");
  EXPECT_TRUE(p) << p.error().message;
  Result<PipelineConfig> e = expand_parallel(*p);
  EXPECT_TRUE(e) << e.error().message;
  return e ? *e : PipelineConfig{};
}

Strings job_names(const PipelineConfig& p) {
  Strings out;
  for (const JobConfig& j : p.jobs) out.push_back(j.name);
  return out;
}

TEST(Parallel, CountGeneratesNumberedJobs) {
  PipelineConfig p = expand("test: {script: x, parallel: 3}\n");
  EXPECT_EQ(job_names(p), (Strings{"test 1/3", "test 2/3", "test 3/3"}));
  EXPECT_EQ(p.jobs[1].node_index, 2);
  EXPECT_EQ(p.jobs[1].node_total, 3);
  EXPECT_EQ(p.jobs[1].parallel_base, "test");
}

TEST(Parallel, MatrixExampleOfSection410) {
  PipelineConfig p = expand(
      "test:\n"
      "  parallel:\n"
      "    matrix:\n"
      "      - OS: [linux, mac]\n"
      "        ARCH: amd64\n"
      "      - OS: win\n"
      "  script: [echo]\n");
  EXPECT_EQ(job_names(p), (Strings{"test: [linux, amd64]", "test: [mac, amd64]", "test: [win]"}));
  ASSERT_EQ(p.jobs[0].variables.size(), 2u);
  EXPECT_EQ(p.jobs[0].variables[0].name, "OS");
  EXPECT_EQ(p.jobs[0].variables[0].value, "linux");
  EXPECT_EQ(p.jobs[2].node_index, 3);
  EXPECT_EQ(p.jobs[2].node_total, 3);
}

TEST(Parallel, NeedsOnParallelJobMeansAllOrTheSelectedOnes) {
  PipelineConfig p = expand(
      "build:\n"
      "  stage: build\n"
      "  script: x\n"
      "  parallel: {matrix: [{ARCH: [amd64, arm64]}]}\n"
      "all: {script: x, needs: [build], dependencies: [build]}\n"
      "one:\n"
      "  script: x\n"
      "  needs: [{job: build, parallel: {matrix: [{ARCH: arm64}]}}]\n");
  const JobConfig* all = p.find_job("all");
  ASSERT_NE(all, nullptr);
  ASSERT_EQ(all->needs->size(), 2u);
  EXPECT_EQ((*all->needs)[0].job, "build: [amd64]");
  EXPECT_EQ(*all->dependencies, (Strings{"build: [amd64]", "build: [arm64]"}));
  const JobConfig* one = p.find_job("one");
  ASSERT_EQ(one->needs->size(), 1u);
  EXPECT_EQ((*one->needs)[0].job, "build: [arm64]");
}

TEST(Parallel, ExplicitJobWinsWithWarning) {
  PipelineConfig p = expand("\"t 1/2\": {script: explicit}\nt: {script: x, parallel: 2}\n");
  EXPECT_EQ(job_names(p), (Strings{"t 1/2", "t 2/2"}));
  EXPECT_EQ(p.jobs[0].script, Strings{"explicit"});
  EXPECT_EQ(p.warnings.size(), 1u);
}

TEST(Parallel, TooManyPermutations) {
  Result<PipelineConfig> p = parse_pipeline(
      "t:\n  script: x\n  parallel:\n    matrix:\n"
      "      - {A: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15], B: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}\n",
      ".gitlab-ci.yml");
  ASSERT_TRUE(p);
  Result<PipelineConfig> e = expand_parallel(*p);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("too many jobs"), std::string::npos);
}

}  // namespace
}  // namespace glr
