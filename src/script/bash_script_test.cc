// Generated stage scripts, checked as text and by running them with a real bash in a
// TempDir (executors §1.2, §2.2, §3.3, §3.5, §3.6, §4.3, §7.1).
#include "script/bash_script.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "script/script_test_support.h"

namespace glr {
namespace {

using namespace script_test;

TEST(BashQuote, Table) {
  EXPECT_EQ(bash_quote(""), "''");
  EXPECT_EQ(bash_quote("abcXYZ019,-./@_"), "abcXYZ019,-./@_");
  EXPECT_EQ(bash_quote("a b"), "$'a b'");
  EXPECT_EQ(bash_quote("it's"), "$'it\\'s'");
  EXPECT_EQ(bash_quote("back\\slash"), "$'back\\\\slash'");
  EXPECT_EQ(bash_quote("\a\b\t\n\v\f\r"), "$'\\a\\b\\t\\n\\v\\f\\r'");
  EXPECT_EQ(bash_quote("$(x)`y`"), "$'$(x)`y`'");
  EXPECT_EQ(bash_quote("\x01\x7f"), "$'\\x01\\x7f'");
  EXPECT_EQ(bash_quote("\xc3\xa9"), "$'\\xc3\\xa9'");
  EXPECT_EQ(bash_quote("\x1b[32;1m"), "$'\\x1b[32;1m'");
}

TEST(BashQuote, EveryByteRoundTripsThroughRealBash) {
  TempDir tmp;
  std::string all;
  std::string script;
  for (int c = 1; c <= 255; ++c) {
    std::string one(1, static_cast<char>(c));
    all += one;
    script += "printf %s " + bash_quote(one) + " > b" + std::to_string(c) + "\n";
  }
  script += "printf %s " + bash_quote(all) + " > all\n";
  RunResult r = run_bash(script, tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(tmp.path() / "all"), all);
  for (int c = 1; c <= 255; ++c) {
    EXPECT_EQ(read_file(tmp.path() / ("b" + std::to_string(c))), std::string(1, static_cast<char>(c)))
        << "byte " << c;
  }
}

TEST(StageNames, NamesAndHeaders) {
  EXPECT_EQ(stage_name(StageKind::kUserStep, "Script"), "step_script");
  EXPECT_EQ(stage_name(StageKind::kUserStep, "release"), "step_release");
  EXPECT_EQ(stage_name(StageKind::kCleanupFileVariables, ""), "cleanup_file_variables");
  EXPECT_EQ(stage_name(StageKind::kArchiveCacheOnFailure, ""), "archive_cache_on_failure");
  EXPECT_EQ(stage_header(StageKind::kUserStep, "script"),
            "Executing \"step_script\" stage of the job script");
  EXPECT_EQ(stage_header(StageKind::kGetSources, ""), "Getting source from Git repository");
  EXPECT_EQ(stage_header(StageKind::kAfterScript, ""), "Running after_script");
  EXPECT_EQ(stage_header(StageKind::kClearWorktree, ""),
            "Deleting all tracked and untracked files due to source fetch failure");
  EXPECT_EQ(stage_header(StageKind::kUploadArtifactsOnFailure, ""),
            "Uploading artifacts for failed job");
}

TEST_F(ScriptFixture, EnvelopeShape) {
  build();
  std::string s = script(StageKind::kUserStep, "script").value();
  EXPECT_EQ(s.rfind("#!/usr/bin/env bash\n\ntrap 'exit 1' TERM\n\n", 0), 0u) << s;
  EXPECT_NE(s.find("if [ -n \"${BASH_VERSION-}\" ]; then set -o pipefail; else case \"$(set -o)\" "
                   "in *\"pipefail\"*) set -o pipefail;; esac; fi; set -o errexit\n"
                   "set +o noclobber\n(trap 'exit 1' TERM; eval $'"),
            std::string::npos);
  EXPECT_TRUE(ends_with(s, "') < /dev/null\nexit 0\n")) << s;
  EXPECT_EQ(s.find("xtrace"), std::string::npos);

  job_.variables.push_back({.key = "CI_DEBUG_TRACE", .value = "true"});
  build();
  EXPECT_NE(script(StageKind::kUserStep, "script")->find("set -o xtrace\n"), std::string::npos);
}

TEST_F(ScriptFixture, NastyValuesAndCommandsPassLiterally) {
  const std::string nasty = "q' \" $(touch PWNED1) `touch PWNED2` ${HOME} \\ \n日本語 ;|&<>*?!#~";
  job_.variables.push_back({.key = "NASTY", .value = nasty, .raw = true});
  job_.steps[0].script = {"printf '%s' \"$NASTY\" > nasty.out", "echo 'done $(literal)'"};
  build();
  RunResult r = run(StageKind::kUserStep, "script");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "nasty.out"), nasty);
  EXPECT_FALSE(fs::exists(fs::path(dirs_.project_dir) / "PWNED1"));
  EXPECT_FALSE(fs::exists(fs::path(dirs_.project_dir) / "PWNED2"));
  EXPECT_NE(r.output.find("\x1b[32;1m$ printf '%s' \"$NASTY\" > nasty.out\x1b[0;m\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("done $(literal)\n"), std::string::npos);
}

TEST_F(ScriptFixture, InvalidVariableNamesCannotInject) {
  job_.variables.push_back({.key = "a;touch PWNED", .value = "x"});
  job_.variables.push_back({.key = "$(touch PWNED2)", .value = "y", .is_file = true});
  job_.variables.push_back({.key = "GOOD", .value = "ok"});
  job_.steps[0].script = {"printf %s \"$GOOD\" > good.out"};
  build();
  RunResult r = run(StageKind::kUserStep, "script");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "good.out"), "ok");
  for (const fs::path& dir : {tmp_.path(), fs::path(dirs_.project_dir), fs::path(dirs_.tmp_dir)}) {
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
      EXPECT_EQ(e.path().filename().string().find("PWNED"), std::string::npos) << e.path();
    }
  }
}

TEST_F(ScriptFixture, CommandEchoStyles) {
  job_.steps[0].script = {"  echo one  ", "", "echo two\necho three"};
  build();
  RunResult r = run(StageKind::kUserStep, "script");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "\x1b[32;1m$ echo one\x1b[0;m\none\n\n"
            "\x1b[32;1m$ echo two # collapsed multi-line command\x1b[0;m\ntwo\nthree\n");
}

TEST_F(ScriptFixture, FailingCommandStopsTheScript) {
  job_.steps[0].script = {"echo before", "exit 3", "echo after"};
  build();
  RunResult r = run(StageKind::kUserStep, "script");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output.find("after"), std::string::npos);
}

TEST_F(ScriptFixture, StageInSubshellEvalsDirectlyWithTheSameOutcomes) {
  stage_in_subshell_ = true;
  job_.steps[0].script = {"echo before", "false", "echo after"};
  build();
  std::string s = script(StageKind::kUserStep, "script").value();
  EXPECT_EQ(s.find("(trap 'exit 1' TERM; eval"), std::string::npos) << s;
  EXPECT_NE(s.find("\neval $'"), std::string::npos) << s;
  EXPECT_TRUE(ends_with(s, "' < /dev/null\nexit 0\n")) << s;
  RunResult failed = run(StageKind::kUserStep, "script");
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.output.find("before"), std::string::npos);
  EXPECT_EQ(failed.output.find("after"), std::string::npos);

  job_.steps[0].script = {"exit 3"};
  build();
  EXPECT_EQ(run(StageKind::kUserStep, "script").exit_code, 3);
  job_.steps[0].script = {"read -r x || echo \"stdin is empty\"", "echo done"};
  build();
  RunResult ok = run(StageKind::kUserStep, "script");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_NE(ok.output.find("stdin is empty"), std::string::npos);
  EXPECT_NE(ok.output.find("done"), std::string::npos);
}

TEST_F(ScriptFixture, PreAndPostBuildScriptsWrapEachUserStepButNotAfterScript) {
  pre_build_ = "echo PRE";
  post_build_ = "echo POST";
  job_.steps = {Step{.name = "script", .script = {"echo MAIN"}},
                Step{.name = "after_script", .script = {"echo AFTER"}}};
  build();
  RunResult r = run(StageKind::kUserStep, "script");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_LT(r.output.find("PRE\n"), r.output.find("MAIN\n"));
  EXPECT_LT(r.output.find("MAIN\n"), r.output.find("POST\n"));
  RunResult a = run(StageKind::kAfterScript);
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.output.find("PRE"), std::string::npos);
  EXPECT_NE(a.output.find("\x1b[32;1mRunning after script...\x1b[0;m\n"), std::string::npos);
}

TEST_F(ScriptFixture, GitlabEnvPropagatesToLaterStagesAndJobStatusIsSet) {
  job_.steps = {Step{.name = "script", .script = {"echo 'FOO=bar baz' >> \"$GITLAB_ENV\"",
                                                   "cd / && export LOST=1"}},
                Step{.name = "after_script",
                     .script = {"printf '%s|%s|%s|%s' \"$FOO\" \"$CI_JOB_STATUS\" \"${LOST:-}\" "
                                "\"$PWD\" > after.out"}}};
  build();
  ASSERT_EQ(run(StageKind::kPrepareScript).exit_code, 0);
  RunResult r = run(StageKind::kUserStep, "script");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  job_status_ = "failed";
  RunResult a = run(StageKind::kAfterScript);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "after.out"),
            "bar baz|failed||" + dirs_.project_dir);
  // prepare_script deletes the file again for the next job.
  ASSERT_TRUE(fs::exists(fs::path(dirs_.tmp_dir) / "gitlab_runner_env"));
  RunResult p = run(StageKind::kPrepareScript);
  ASSERT_EQ(p.exit_code, 0);
  EXPECT_FALSE(fs::exists(fs::path(dirs_.tmp_dir) / "gitlab_runner_env"));
}

TEST_F(ScriptFixture, FileVariablesWrittenExactlyAndCleanedUp) {
  const std::string content = "line1\nline2 'q' $NOT_EXPANDED_BY_BASH";
  job_.variables.push_back({.key = "MY_FILE", .value = content, .is_file = true, .raw = true});
  job_.steps[0].script = {"printf %s \"$MY_FILE\" > path.out", "cat \"$MY_FILE\" > copy.out"};
  build();
  RunResult r = run(StageKind::kUserStep, "script");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  fs::path file = fs::path(dirs_.tmp_dir) / "MY_FILE";
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "path.out"), file.string());
  EXPECT_EQ(read_file(file), content);
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "copy.out"), content);

  RunResult c = run(StageKind::kCleanupFileVariables);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(fs::path(dirs_.tmp_dir) / "gitlab_runner_env"));
  // The cleanup script exports the path but never rewrites the file.
  EXPECT_EQ(script(StageKind::kCleanupFileVariables)->find("line1"), std::string::npos);
}

TEST_F(ScriptFixture, CleanupRemovesRefLocksAtAnyDepthWithBashAndWithSh) {
  build();
  fs::path refs = fs::path(dirs_.project_dir) / ".git" / "refs";
  std::string bash_cleanup = script(StageKind::kCleanupFileVariables).value();
  // Scripts for shells without $'...' quoting (dash as sh) need POSIX escapes.
  job_.variables.push_back({.key = "FF_POSIXLY_CORRECT_ESCAPES", .value = "true"});
  build();
  std::string sh_cleanup = script(StageKind::kCleanupFileVariables).value();
  for (const char* shell : {"bash", "sh"}) {
    const std::string& cleanup = std::string(shell) == "sh" ? sh_cleanup : bash_cleanup;
    fs::create_directories(refs / "heads" / "feature");
    write_file(refs / "heads" / "main.lock", "x");
    write_file(refs / "heads" / "feature" / "deep.lock", "x");
    write_file(refs / "heads" / ".hidden.lock", "x");
    write_file(refs / "heads" / "main", "sha");
    write_file(fs::path(dirs_.project_dir) / "outside.lock", "x");
    fs::create_directory_symlink(fs::path(dirs_.project_dir), refs / "link");  // not followed
    std::string text = cleanup;
    if (std::string(shell) == "sh") {
      text = "#!/bin/sh\n" + text.substr(text.find('\n') + 1);
    }
    fs::path file = tmp_.path() / (std::string("cleanup-") + shell + ".sh");
    write_file(file, text);
    std::string cmd = std::string(shell) + " '" + file.string() + "' </dev/null >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << shell;
    EXPECT_FALSE(fs::exists(refs / "heads" / "main.lock")) << shell;
    EXPECT_FALSE(fs::exists(refs / "heads" / "feature" / "deep.lock")) << shell;
    EXPECT_FALSE(fs::exists(refs / "heads" / ".hidden.lock")) << shell;
    EXPECT_TRUE(fs::exists(refs / "heads" / "main")) << shell;
    EXPECT_TRUE(fs::exists(fs::path(dirs_.project_dir) / "outside.lock")) << shell;
    fs::remove(refs / "link");
  }
}

TEST_F(ScriptFixture, PrepareScriptPrintsHostname) {
  build();
  RunResult r = run(StageKind::kPrepareScript);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output.rfind("Running on ", 0), 0u) << r.output;
  EXPECT_EQ(r.output.find(" via "), std::string::npos);
  runner_hostname_ = "runner-host$(touch X)";
  RunResult v = run(StageKind::kPrepareScript);
  EXPECT_NE(v.output.find(" via runner-host$(touch X)...\n"), std::string::npos) << v.output;
  EXPECT_FALSE(fs::exists(tmp_.path() / "X"));

  // prepare_script_output() is those bytes for the shell's host name (exec prints it).
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(prepare_script_output(ctx(), host), v.output);
  runner_hostname_.clear();
  EXPECT_EQ(prepare_script_output(ctx(), host), r.output);
  EXPECT_EQ(prepare_script_removed_files(ctx()),
            (std::vector<std::string>{dirs_.tmp_dir + "/gitlab_runner_env",
                                      dirs_.tmp_dir + "/masking.db"}));
}

TEST_F(ScriptFixture, ReleaseStepCommandsAreExpandedByTheRunner) {
  job_.variables.push_back({.key = "TAG", .value = "v1"});
  job_.steps = {Step{.name = "release", .script = {"echo release-$TAG-$$"}}};
  build();
  std::string s = script(StageKind::kUserStep, "release").value();
  EXPECT_NE(s.find("echo release-v1-$"), std::string::npos);
}

TEST_F(ScriptFixture, MultiLineCommandsBecomeCollapsedSectionsWithScriptSections) {
  job_.variables.push_back({.key = "FF_SCRIPT_SECTIONS", .value = "true"});
  job_.steps[0].script = {"echo a\necho '[b]'"};
  build();
  RunResult r = run(StageKind::kUserStep, "script");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string start = "section_start:";
  ASSERT_EQ(r.output.rfind(start, 0), 0u) << r.output;
  size_t colon = r.output.find(':', start.size());
  std::string ts = r.output.substr(start.size(), colon - start.size());
  EXPECT_FALSE(ts.empty());
  EXPECT_EQ(r.output.substr(colon),
            ":section_script_step_0[hide_duration=true,collapsed=true]\r\x1b[0K"
            "\x1b[32;1m$ echo a\necho '[b]'\x1b[0;m\n"
            "section_end:" + ts + ":section_script_step_0\r\x1b[0K\n"
            "a\n[b]\n");

  trace_sections_ = false;  // without payload trace_sections: the plain collapsed notice
  RunResult plain = run(StageKind::kUserStep, "script");
  EXPECT_EQ(plain.output, "\x1b[32;1m$ echo a # collapsed multi-line command\x1b[0;m\na\n[b]\n");
}

TEST_F(ScriptFixture, ExitCodeCheckAddsExplicitChecks) {
  job_.variables.push_back({.key = "FF_ENABLE_BASH_EXIT_CODE_CHECK", .value = "true"});
  job_.steps[0].script = {"echo one", "(exit 4)", "echo never"};
  build();
  std::string s = script(StageKind::kUserStep, "script").value();
  EXPECT_TRUE(has_line(s, "_runner_exit_code=$?; if [ $_runner_exit_code -ne 0 ]; then exit "
                          "$_runner_exit_code; fi"));
  RunResult r = run_bash(s, tmp_.path());
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.output.find("never\n"), std::string::npos);
}

TEST_F(ScriptFixture, PosixEscapesKeepValuesLiteral) {
  const std::string nasty = "a'b \"c\" $(touch PWNED) `x` \\ ; & | \n end";
  job_.variables.push_back({.key = "FF_POSIXLY_CORRECT_ESCAPES", .value = "true"});
  job_.variables.push_back({.key = "NASTY", .value = nasty, .raw = true});
  job_.steps[0].script = {"printf '%s' \"$NASTY\" > nasty.out"};
  build();
  std::string s = script(StageKind::kUserStep, "script").value();
  EXPECT_EQ(s.find("eval $'"), std::string::npos);  // POSIX style, not ANSI-C
  RunResult r = run_bash(s, tmp_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "nasty.out"), nasty);
  EXPECT_FALSE(fs::exists(fs::path(dirs_.project_dir) / "PWNED"));
}

TEST_F(ScriptFixture, GetSourcesHooksOrderAndSkipForNone) {
  pre_get_sources_ = "echo config-pre";
  post_get_sources_ = "echo config-post";
  job_.hooks = {Hook{.name = "pre_get_sources_script", .script = {"echo hook-pre"}},
                Hook{.name = "post_get_sources_script", .script = {"echo hook-post"}}};
  build();
  std::string body = decode_body(script(StageKind::kGetSources).value());
  size_t a = body.find("\necho config-pre\n");
  size_t b = body.find("\necho hook-pre\n");
  size_t fetch = body.find("Fetching changes");
  size_t c = body.find("\necho hook-post\n");
  size_t d = body.find("\necho config-post\n");
  ASSERT_NE(a, std::string::npos) << body;
  EXPECT_LT(a, b);
  EXPECT_LT(b, fetch);
  EXPECT_LT(fetch, c);
  EXPECT_LT(c, d);
  EXPECT_NE(d, std::string::npos);

  job_.variables.push_back({.key = "GIT_STRATEGY", .value = "none"});
  build();
  std::string none = decode_body(script(StageKind::kGetSources).value());
  EXPECT_EQ(none.find("config-pre"), std::string::npos);
  EXPECT_EQ(none.find("hook-post"), std::string::npos);
}

TEST_F(ScriptFixture, SubmoduleCommandsForRecursiveStrategy) {
  job_.variables.push_back({.key = "GIT_SUBMODULE_STRATEGY", .value = "recursive"});
  job_.variables.push_back({.key = "GIT_SUBMODULE_DEPTH", .value = "3"});
  job_.variables.push_back({.key = "GIT_SUBMODULE_PATHS", .value = "libs/a"});
  build();
  std::string s = script(StageKind::kGetSources).value();
  EXPECT_TRUE(has_line(s, "Updating/initializing submodules recursively with git depth set to 3..."));
  EXPECT_TRUE(has_line(s, "git submodule sync --recursive -- libs/a"));
  EXPECT_TRUE(has_line(s, "if git -c \"include.path=$GLR_EXT_GIT_CONFIG_PATH\" submodule update "
                          "--init --recursive --depth 3 -- libs/a ; then"));
  EXPECT_TRUE(has_line(s, "git submodule foreach --recursive git clean -ffdx"));
  EXPECT_TRUE(has_line(s, "Updating submodules failed. Retrying..."));

  job_.variables.back().value = "libs/a :(exclude)";
  build();
  Result<std::optional<std::string>> bad = generate_stage_script(StageKind::kGetSources, "", ctx());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("GIT_SUBMODULE_PATHS: invalid submodule pathspec"),
            std::string::npos);
}

TEST_F(ScriptFixture, TokenlessModeKeepsTheTokenOutOfAllGitConfig) {
  job_.variables.push_back({.key = "FF_GIT_URLS_WITHOUT_TOKENS", .value = "true"});
  job_.variables.push_back({.key = "CI_JOB_TOKEN", .value = "job-token-123", .masked = true});
  build();
  std::string s = script(StageKind::kGetSources).value();
  for (const std::string& line : body_lines(s)) {
    if (line.find("job-token-123") != std::string::npos) {
      EXPECT_EQ(line.rfind("export CI_JOB_TOKEN=", 0), 0u) << line;
    }
  }
  EXPECT_TRUE(has_line(s, "credential.https://gitlab.example.com.helper"));
  EXPECT_TRUE(has_line(s, "git remote add origin $'https://gitlab.example.com/grp/app.git'"));
}

// --- skip rules (§1.2) -------------------------------------------------------------------

TEST_F(ScriptFixture, SkipRules) {
  build();
  EXPECT_TRUE(script(StageKind::kPrepareScript).has_value());
  EXPECT_TRUE(script(StageKind::kGetSources).has_value());
  EXPECT_TRUE(script(StageKind::kClearWorktree).has_value());
  EXPECT_TRUE(script(StageKind::kCleanupFileVariables).has_value());
  EXPECT_TRUE(script(StageKind::kUserStep, "script").has_value());
  EXPECT_FALSE(script(StageKind::kUserStep, "release").has_value());
  EXPECT_FALSE(script(StageKind::kAfterScript).has_value());
  EXPECT_FALSE(script(StageKind::kRestoreCache).has_value());
  EXPECT_FALSE(script(StageKind::kArchiveCache).has_value());
  EXPECT_FALSE(script(StageKind::kArchiveCacheOnFailure).has_value());
  EXPECT_FALSE(script(StageKind::kDownloadArtifacts).has_value());
  EXPECT_FALSE(script(StageKind::kUploadArtifactsOnSuccess).has_value());
  EXPECT_FALSE(script(StageKind::kUploadArtifactsOnFailure).has_value());

  job_.steps.push_back(Step{.name = "after_script", .script = {}});
  job_.caches = {CacheSpec{.key = "k"}};  // no paths, not untracked
  job_.dependencies = {Dependency{.id = 1, .name = "build"}};  // no artifacts file
  job_.artifacts = {ArtifactSpec{.name = "a"}};                // nothing to upload
  build();
  EXPECT_FALSE(script(StageKind::kAfterScript).has_value());
  EXPECT_FALSE(script(StageKind::kRestoreCache).has_value());
  EXPECT_FALSE(script(StageKind::kArchiveCache).has_value());
  EXPECT_FALSE(script(StageKind::kDownloadArtifacts).has_value());
  EXPECT_FALSE(script(StageKind::kUploadArtifactsOnSuccess).has_value());

  job_.steps.back().script = {"echo after"};
  job_.caches = {CacheSpec{.key = "k", .paths = {"vendor/"}, .when = "on_failure"}};
  job_.dependencies[0].artifacts_filename = "artifacts.zip";
  job_.artifacts = {ArtifactSpec{.name = "a", .untracked = true, .when = "on_failure"}};
  build();
  EXPECT_TRUE(script(StageKind::kAfterScript).has_value());
  EXPECT_TRUE(script(StageKind::kRestoreCache).has_value());
  EXPECT_FALSE(script(StageKind::kArchiveCache).has_value());
  EXPECT_TRUE(script(StageKind::kArchiveCacheOnFailure).has_value());
  EXPECT_TRUE(script(StageKind::kDownloadArtifacts).has_value());
  EXPECT_FALSE(script(StageKind::kUploadArtifactsOnSuccess).has_value());
  EXPECT_TRUE(script(StageKind::kUploadArtifactsOnFailure).has_value());

  job_.artifacts[0].when = "always";
  job_.caches[0].when = "always";
  EXPECT_TRUE(script(StageKind::kUploadArtifactsOnSuccess).has_value());
  EXPECT_TRUE(script(StageKind::kArchiveCache).has_value());
  runner_url_.clear();
  EXPECT_FALSE(script(StageKind::kUploadArtifactsOnSuccess).has_value());
}

TEST_F(ScriptFixture, UnknownSubmoduleStrategyIsAGenerationError) {
  job_.variables.push_back({.key = "GIT_SUBMODULE_STRATEGY", .value = "sideways"});
  build();
  Result<std::optional<std::string>> s = generate_stage_script(StageKind::kGetSources, "", ctx());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "unknown GIT_SUBMODULE_STRATEGY");
}

TEST_F(ScriptFixture, HelperStagesCallTheHelperInsideTheGuard) {
  helper_ = (tmp_.path() / "no-such-helper").string();
  job_.artifacts = {ArtifactSpec{.paths = {"out/"}}};
  job_.caches = {CacheSpec{.key = "$CI_JOB_NAME", .paths = {"vendor/"}}};
  build();
  std::string upload = script(StageKind::kUploadArtifactsOnSuccess).value();
  EXPECT_TRUE(has_line(upload, " artifacts-uploader --url $'https://gitlab.example.com/' --token "
                               "job-token-123 --id 77 --timeout 1h0m0s --response-header-timeout "
                               "10m0s --path out/"))
      << decode_body(upload);
  RunResult u = run(StageKind::kUploadArtifactsOnSuccess);
  EXPECT_EQ(u.exit_code, 0);
  EXPECT_NE(u.output.find("\x1b[0;33mMissing " + helper_ +
                          ". Uploading artifacts is disabled.\x1b[0;m\n"),
            std::string::npos)
      << u.output;
  RunResult c = run(StageKind::kRestoreCache);
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_NE(c.output.find("Missing " + helper_ + ". Extracting cache is disabled."),
            std::string::npos)
      << c.output;
  // $CI_JOB_NAME is unknown here, so the key falls back to <job name>/<ref> (§5.2).
  EXPECT_TRUE(has_line(script(StageKind::kRestoreCache).value(),
                       " cache-extractor --file ../../../../../cache/grp/app/rspec/main/cache.zip "
                       "--timeout 10"))
      << decode_body(script(StageKind::kRestoreCache).value());
}

TEST_F(ScriptFixture, RemoteCachePassesPresignedUrlsAsTheOfficialRunner) {
  // executors §5.6: cache-extractor gets --url <GET>, cache-archiver --url <PUT> and one
  // --header per signed header, after the paths.
  helper_ = "/usr/bin/glrunner";
  job_.caches = {CacheSpec{.key = "deps", .paths = {"vendor/"}}};
  remote_cache_ = [](const std::string& key) -> std::optional<RemoteCacheUrls> {
    return RemoteCacheUrls{.get_url = "http://s3.test/b/" + key + "?sig=g",
                           .put_url = "http://s3.test/b/" + key + "?sig=p",
                           .put_headers = {"X-Amz-Meta-Cachekey: " + key}};
  };
  build();
  std::string restore = script(StageKind::kRestoreCache).value();
  EXPECT_TRUE(has_line(restore, " cache-extractor --file ../../../../../cache/grp/app/deps/cache.zip "
                                "--timeout 10 --url $'http://s3.test/b/deps?sig=g'"))
      << decode_body(restore);
  std::string archive = script(StageKind::kArchiveCache).value();
  EXPECT_TRUE(has_line(archive, " --path vendor/ --url $'http://s3.test/b/deps?sig=p' --header "
                                "$'X-Amz-Meta-Cachekey: deps'"))
      << decode_body(archive);
}

// --- get_sources (§4.3, §4.4) ------------------------------------------------------------

TEST_F(ScriptFixture, CredentialsOnlyInInsteadOfNeverInOrigin) {
  build();
  std::string s = script(StageKind::kGetSources).value();
  bool saw_instead_of = false;
  bool saw_remote_add = false;
  for (const std::string& line : body_lines(s)) {
    if (line.find("git remote add origin") != std::string::npos ||
        line.find("git remote set-url origin") != std::string::npos) {
      saw_remote_add = true;
      EXPECT_NE(line.find("'https://gitlab.example.com/grp/app.git'"), std::string::npos) << line;
    }
    if (line.find("job-token-123") == std::string::npos) continue;
    if (line.find("export CI_JOB_TOKEN") != std::string::npos) continue;
    EXPECT_NE(line.find(".insteadOf"), std::string::npos) << line;
    saw_instead_of = true;
  }
  EXPECT_TRUE(saw_remote_add);
  EXPECT_TRUE(saw_instead_of);
  EXPECT_TRUE(has_line(s, "$'url.https://gitlab-ci-token:job-token-123@gitlab.example.com/grp/"
                          "app.git.insteadOf' $'https://gitlab.example.com/grp/app.git' "
                          "$'^https://gitlab\\\\.example\\\\.com/grp/app\\\\.git$'"))
      << decode_body(s);
  EXPECT_TRUE(has_line(s, "$'url.https://gitlab-ci-token:job-token-123@gitlab.example.com.insteadOf' "
                          "$'https://gitlab.example.com' "));
  EXPECT_TRUE(has_line(s, "echo $'url=https://gitlab.example.com\\nusername=gitlab-ci-token' | "
                          "git credential reject || true"));
}

}  // namespace
}  // namespace glr

namespace glr {
namespace {

TEST(JsonStatusMarkers, GoRightAfterTheTermTrapLikeTheOfficialEnvelope) {
  std::string script = "#!/usr/bin/env bash\n\ntrap 'exit 1' TERM\n\nset -o errexit\nexit 0\n";
  std::string marked = with_json_status_markers(script);
  EXPECT_EQ(marked,
            "#!/usr/bin/env bash\n\ntrap 'exit 1' TERM\n\n"
            "start_json=\"{\\\"script\\\": \\\"$0\\\"}\"\n"
            "echo \"$start_json\"\n"
            "runner_script_trap() {\n"
            "\texit_code=$?\n"
            "\tout_json=\"{\\\"command_exit_code\\\": $exit_code, \\\"script\\\": \\\"$0\\\"}\"\n"
            "\n"
            "\techo \"\"\n"
            "\techo \"$out_json\"\n"
            "\texit 0\n"
            "}\n"
            "\n"
            "trap runner_script_trap EXIT\n"
            "set -o errexit\nexit 0\n");
}

}  // namespace
}  // namespace glr
