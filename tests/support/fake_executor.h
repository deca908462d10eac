// FakeExecutor: runs no processes; each stage prints scripted output and returns
// a scripted exit status, and the stages it was asked to run are recorded.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "executor/executor.h"

namespace glr {

class FakeExecutor final : public Executor {
 public:
  FakeExecutor() {
    traits_.name = "shell";
    traits_.shared_builds_dir = true;
    traits_.default_builds_dir = "/tmp/glr-fake/builds";
    traits_.default_cache_dir = "/tmp/glr-fake/cache";
    traits_.exit_error_prefix = "exit status";
  }

  const ExecutorTraits& traits() const override { return traits_; }

  Result<> prepare(const JobSpec&, const PrepareOptions& options, TraceSink& trace) override {
    prepared_with = options;
    trace.write(kRunnerStream, "\x1b[0KUsing Fake executor...\x1b[0;m\n");
    if (prepare_error) return fail(*prepare_error);
    return {};
  }

  Result<ExitStatus> run(const StageScript& script, TraceSink& trace,
                         std::stop_token stop) override {
    {
      std::lock_guard lock(mu_);
      stages_ran.push_back(script.stage);
      scripts[script.stage] = script.script;
    }
    auto hook = hooks.find(script.stage);
    if (hook != hooks.end()) {
      Result<ExitStatus> r = hook->second(stop);
      return r;
    }
    trace.write(kScriptStdout, "output of " + script.stage + "\n");
    auto it = exit_codes.find(script.stage);
    return ExitStatus{it == exit_codes.end() ? 0 : it->second, 0};
  }

  void cleanup() noexcept override { cleaned_up = true; }

  std::vector<std::string> ran() const {
    std::lock_guard lock(mu_);
    return stages_ran;
  }

  ExecutorTraits traits_;
  std::map<std::string, int> exit_codes;  // stage name -> exit code
  // stage name -> custom behaviour (e.g. wait for stop and return kCanceled)
  std::map<std::string, std::function<Result<ExitStatus>(std::stop_token)>> hooks;
  std::optional<Error> prepare_error;
  PrepareOptions prepared_with;
  std::map<std::string, std::string> scripts;
  bool cleaned_up = false;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> stages_ran;
};

}  // namespace glr
