// Test-only helpers shared by the script tests: run a generated script with a real bash in a
// TempDir, decode the eval'd body, and a fixture holding one job laid out like the shell
// executor. Included only by *_test.cc files.
#pragma once

#include "script/bash_script.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "script/job_variables.h"
#include "support/temp_dir.h"
#include "util/strings.h"

namespace glr {
namespace script_test {

namespace fs = std::filesystem;

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Decodes the $'...' body that the envelope hands to eval (inverse of bash_quote).
inline std::string decode_body(const std::string& script) {
  size_t start = script.find("eval $'");
  if (start == std::string::npos) return {};
  std::string out;
  for (size_t i = start + 7; i < script.size(); ++i) {
    char c = script[i];
    if (c == '\'') break;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    char e = script[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'v': out.push_back('\v'); break;
      case 'f': out.push_back('\f'); break;
      case 'x':
        out.push_back(static_cast<char>(std::stoi(script.substr(i + 1, 2), nullptr, 16)));
        i += 2;
        break;
      default: out.push_back(e); break;  // \\ and \'
    }
  }
  return out;
}

inline std::vector<std::string> body_lines(const std::string& script) {
  std::vector<std::string> lines;
  std::stringstream ss(decode_body(script));
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

inline bool has_line(const std::string& script, const std::string& needle) {
  for (const std::string& line : body_lines(script)) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

struct RunResult {
  int exit_code = -1;
  std::string output;
};

// Runs `script` with bash in `cwd`, with a minimal explicit environment.
inline RunResult run_bash(const std::string& script, const fs::path& cwd) {
  static int counter = 0;
  fs::path file = cwd / ("stage-" + std::to_string(counter++) + ".sh");
  write_file(file, script);
  std::string cmd = "cd '" + cwd.string() + "' && env -i PATH=\"$PATH\" HOME='" + cwd.string() +
                    "' LANG=C bash '" + file.string() + "' </dev/null 2>&1";
  RunResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string sh(const std::string& cmd, const fs::path& cwd) {
  RunResult r = run_bash("set -e\n" + cmd + "\n", cwd);
  EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
  return r.output;
}

// One job in a TempDir laid out like the shell executor: <tmp>/builds/<token>/0/grp/app.
class ScriptFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    job_.id = 77;
    job_.token = Secret{"job-token-123"};
    job_.job_info.name = "rspec";
    job_.git_info.repo_url = "https://gitlab-ci-token:job-token-123@gitlab.example.com/grp/app.git";
    job_.git_info.ref = "main";
    job_.git_info.sha = "0123456789abcdef0123456789abcdef01234567";
    job_.steps = {Step{.name = "script", .script = {"true"}}};
  }

  // Computes dirs, variables and settings from job_ (call after editing job_).
  void build() {
    BuildDirsInput din;
    din.builds_root = (tmp_.path() / "builds").string();
    din.cache_root = (tmp_.path() / "cache").string();
    din.shared = true;
    din.short_token = "abcdefghi";
    din.repo_url = job_.git_info.repo_url;
    din.project_id = 5;
    BuildSettings early = parse_build_settings(job_.variables, job_.allow_git_fetch, false, std::chrono::seconds(3600));
    din.git_strategy = early.git_strategy;
    Result<BuildDirs> d = compute_build_dirs(din);
    ASSERT_TRUE(d) << d.error().message;
    dirs_ = *d;
    JobVariablesInput vin;
    vin.job = &job_;
    vin.runner_environment = runner_environment_;
    vin.short_token = "abcdefghi";
    vin.builds_dir = dirs_.builds_dir;
    vin.project_dir = dirs_.project_dir;
    vin.tmp_dir = dirs_.tmp_dir;
    vin.job_timeout_seconds = 3600;
    vin.runner_version = "19.4.0";
    vin.runner_revision = "deadbeef";
    vin.executable_arch = "linux/amd64";
    vars_ = build_job_variables(vin);
    settings_ = parse_build_settings(vars_.list, job_.allow_git_fetch, false, std::chrono::seconds(3600),
                                     job_.git_info.depth);
    fs::create_directories(dirs_.project_dir);
  }

  ScriptContext ctx() const {
    ScriptContext c;
    c.job = &job_;
    c.variables = &vars_.list;
    c.settings = &settings_;
    c.dirs = dirs_;
    c.runner_url = runner_url_;
    c.helper_command = helper_;
    c.user_agent = "gitlab-runner 19.4.0 linux/amd64";
    c.job_status = job_status_;
    c.pre_build_script = pre_build_;
    c.post_build_script = post_build_;
    c.runner_hostname = runner_hostname_;
    c.ff_script_sections = vars_.flags.get("FF_SCRIPT_SECTIONS");
    c.trace_sections = trace_sections_;
    c.pre_get_sources_script = pre_get_sources_;
    c.clean_git_config = clean_git_config_;
    c.safe_directory_checkout = safe_directory_checkout_;
    c.shared_environment = shared_environment_;
    c.post_get_sources_script = post_get_sources_;
    c.remote_cache = remote_cache_;
    c.stage_in_subshell = stage_in_subshell_;
    return c;
  }

  std::optional<std::string> script(StageKind kind, const std::string& step = "") const {
    Result<std::optional<std::string>> s = generate_stage_script(kind, step, ctx());
    EXPECT_TRUE(s) << s.error().message;
    return s ? *s : std::nullopt;
  }

  RunResult run(StageKind kind, const std::string& step = "") {
    std::optional<std::string> s = script(kind, step);
    EXPECT_TRUE(s.has_value());
    return run_bash(s.value_or(""), tmp_.path());
  }

  TempDir tmp_;
  JobSpec job_;
  std::vector<std::string> runner_environment_;
  BuildDirs dirs_;
  JobVariables vars_;
  BuildSettings settings_;
  std::string runner_url_ = "https://gitlab.example.com/";
  std::string helper_;
  bool stage_in_subshell_ = false;
  RemoteCacheUrlFn remote_cache_{};
  std::string job_status_ = "running";
  std::string pre_build_;
  std::string post_build_;
  std::string runner_hostname_;
  bool trace_sections_ = true;
  std::string pre_get_sources_;
  std::string post_get_sources_;
  bool clean_git_config_ = false;
  bool safe_directory_checkout_ = false;
  bool shared_environment_ = true;
};

}  // namespace script_test
}  // namespace glr
