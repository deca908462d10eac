// The shell executor (executors spec §7.2): stage scripts run as local `bash -l`
// (or `sh -l`) children of the runner, in a shared builds directory on the host.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "executor/executor.h"
#include "executor/shell_session.h"

namespace glr {

struct ShellExecutorOptions {
  // The runner's working directory (`run -d`): default builds/cache dirs live under
  // it and scripts start in it.
  std::filesystem::path working_dir{};
  std::string shell = "bash";  // "bash" or "sh"; anything else fails in prepare()
  std::string user{};          // `run --user`: scripts run through `su` as this user
  // The runner process environment ("KEY=VALUE"); every script inherits it.
  std::vector<std::string> base_env{};
  // `bash -l`, as the official shell executor. `exec` turns it off: the developer's shell
  // has read the profile already, and reading it again per stage would reset PATH (Debian's
  // /etc/profile does) and cost two processes per stage.
  bool login_shell = true;
  // Runs every stage of the job as a subshell of one shell (ShellSession) instead of a shell
  // per stage. `exec` only: bash, no `user`.
  bool reuse_shell = false;
  // With reuse_shell: sessions shared with the run's other jobs (else the executor's own).
  std::shared_ptr<ShellSessionPool> session_pool{};
  // SIGTERM -> SIGKILL grace on cancel; the official shell executor fixes it at 10 min.
  std::chrono::milliseconds kill_grace{std::chrono::minutes(10)};
};

// One instance serves one job; used by the job thread only.
class ShellExecutor final : public Executor {
 public:
  explicit ShellExecutor(ShellExecutorOptions options);

  const ExecutorTraits& traits() const override { return traits_; }
  // Fails with kInvalidInput `shell "<name>" not found` for an unsupported shell and
  // kIo when the builds directory cannot be created.
  Result<> prepare(const JobSpec& job, const PrepareOptions& options, TraceSink& trace) override;
  // Errors: kCanceled when `stop` ended the script, kNotFound/kIo when it could not
  // be started, kInvalidInput for an unsupported shell.
  Result<ExitStatus> run(const StageScript& script, TraceSink& trace,
                         std::stop_token stop) override;
  // The shell executor creates nothing that belongs to one job (builds dirs are shared)
  // except the reused shell, which ends here.
  void cleanup() noexcept override;

 private:
  // Stages run in a ShellSession: reuse_shell, bash, and no `user` (su gets a shell per stage).
  bool uses_session() const { return options_.reuse_shell && options_.shell == "bash" && user_.empty(); }

  ShellExecutorOptions options_;
  std::unique_ptr<ShellSession> session_;
  ExecutorTraits traits_;
  std::string user_;  // options_.user unless PrepareOptions::user overrides it
};

// The command line for one stage: `bash -l`, or `su -s /bin/bash <user> -c "bash -l"`.
std::vector<std::string> shell_command(const std::string& shell, const std::string& user,
                                       bool login = true);

// The sessions an executor with these options runs its stages in (reuse_shell).
ShellSessionOptions session_options_for(const ShellExecutorOptions& options);

// `base` followed by `overrides`, "KEY=VALUE" entries; for equal keys the later entry
// wins and keeps the position of the first occurrence.
std::vector<std::string> merge_environment(const std::vector<std::string>& base,
                                           const std::vector<std::string>& overrides);

}  // namespace glr
