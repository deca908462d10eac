// Shell executor: local bash children through process/Subprocess (executors §7.2).
#include "executor/shell_executor.h"

#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "process/subprocess.h"

namespace glr {
namespace {

bool is_supported_shell(const std::string& shell) { return shell == "bash" || shell == "sh"; }

// The trace component's "plain" line style (executors §2.2), written directly so the
// executor does not depend on glr_trace: erase-line, text, reset, newline.
std::string plain_line(std::string_view text) {
  std::string line = "\x1b[0K";
  line.append(text);
  line.append("\x1b[0;m\n");
  return line;
}

std::filesystem::path absolute_or_same(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs;
}

std::string_view env_key(std::string_view entry) {
  size_t eq = entry.find('=');
  return eq == std::string_view::npos ? entry : entry.substr(0, eq);
}

Result<> check_shell(const std::string& shell) {
  if (!is_supported_shell(shell))
    return fail(ErrorKind::kInvalidInput, "shell \"" + shell + "\" not found");
  return {};
}

}  // namespace

std::vector<std::string> shell_command(const std::string& shell, const std::string& user,
                                       bool login) {
  // -l: the shell executor's scripts run in a login shell (official LoginShell type).
  if (user.empty()) return login ? std::vector<std::string>{shell, "-l"} : std::vector<std::string>{shell};
  return {"su", "-s", "/bin/" + shell, user, "-c", login ? shell + " -l" : shell};
}

ShellSessionOptions session_options_for(const ShellExecutorOptions& options) {
  return ShellSessionOptions{.argv = shell_command(options.shell, "", options.login_shell),
                             .env = options.base_env,
                             .cwd = options.working_dir,
                             .kill_grace = options.kill_grace};
}

std::vector<std::string> merge_environment(const std::vector<std::string>& base,
                                           const std::vector<std::string>& overrides) {
  std::vector<std::string> merged;
  merged.reserve(base.size() + overrides.size());
  std::unordered_map<std::string, size_t> index;
  auto add = [&](const std::string& entry) {
    std::string key(env_key(entry));
    auto [it, inserted] = index.emplace(std::move(key), merged.size());
    if (inserted) {
      merged.push_back(entry);
    } else {
      merged[it->second] = entry;
    }
  };
  for (const std::string& entry : base) add(entry);
  for (const std::string& entry : overrides) add(entry);
  return merged;
}

ShellExecutor::ShellExecutor(ShellExecutorOptions options)
    : options_(std::move(options)), user_(options_.user) {
  std::filesystem::path root = absolute_or_same(options_.working_dir);
  traits_.name = "shell";
  traits_.shell = options_.shell;
  traits_.shared_builds_dir = true;
  traits_.disposable_environment = false;
  traits_.custom_build_dir_default = false;
  traits_.default_builds_dir = (root / "builds").string();
  traits_.default_cache_dir = (root / "cache").string();
  traits_.exit_error_prefix = "exit status";
  traits_.stage_in_subshell = uses_session();
  if (traits_.stage_in_subshell && !options_.session_pool) {
    options_.session_pool = std::make_shared<ShellSessionPool>(session_options_for(options_));
  }
}

Result<> ShellExecutor::prepare(const JobSpec& /*job*/, const PrepareOptions& options,
                                TraceSink& trace) {
  Result<> shell_ok = check_shell(options_.shell);
  if (!shell_ok) return shell_ok;
  if (!options.user.empty()) user_ = options.user;

  trace.write(kRunnerStream, plain_line("Using Shell (" + options_.shell + ") executor..."));

  if (!options.builds_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.builds_dir, ec);
    if (ec)
      return fail(ErrorKind::kIo, "create builds dir " + options.builds_dir + ": " + ec.message());
  }
  return {};
}

Result<ExitStatus> ShellExecutor::run(const StageScript& script, TraceSink& trace,
                                      std::stop_token stop) {
  Result<> shell_ok = check_shell(options_.shell);
  if (!shell_ok) return fail(shell_ok.error());

  auto on_output = [&trace](bool is_stderr, std::string_view bytes) {
    trace.write(is_stderr ? kScriptStderr : kScriptStdout, bytes);
  };
  if (uses_session() && options_.session_pool && script.env.empty()) {
    if (!session_) session_ = options_.session_pool->take();
    Result<ExitStatus> status = session_->run(script.script, on_output, stop);
    trace.flush(kScriptStdout);
    trace.flush(kScriptStderr);
    return status;
  }

  SpawnOptions spawn{
      .argv = shell_command(options_.shell, user_, options_.login_shell),
      .env = merge_environment(options_.base_env, script.env),
      .cwd = options_.working_dir,
      .stdin_data = script.script,
      .stdin_as_file = true,
  };
  Result<Subprocess> child = Subprocess::spawn(spawn);
  if (!child) {
    return fail(child.error().kind, "Failed to start process: " + child.error().message);
  }

  Result<ProcessStatus> status = run_and_stream(*child, on_output, stop, options_.kill_grace);
  trace.flush(kScriptStdout);
  trace.flush(kScriptStderr);
  if (!status) return fail(status.error());
  return ExitStatus{.code = status->code, .signal = status->signal};
}

void ShellExecutor::cleanup() noexcept {
  if (options_.session_pool) options_.session_pool->give(std::move(session_));
  session_.reset();
}

}  // namespace glr
