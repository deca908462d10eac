// Stage scripts for bash (executors §1.2, §3.3-§3.6, §4.4-§4.6, §5.4, §5.5, §6.1, §6.7, §7.1).
// Every byte that comes from the job (variable names and values, commands, paths, URLs) is
// quoted before it reaches the script; only fixed runner text is written unquoted.
#include "script/bash_script.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "artifacts/cache_key.h"
#include "script/git_remote.h"
#include "script/job_variables.h"
#include "util/strings.h"

namespace glr {
namespace {

constexpr std::string_view kBoldGreen = "\x1b[32;1m";
constexpr std::string_view kYellow = "\x1b[0;33m";
constexpr std::string_view kBoldRed = "\x1b[31;1m";
constexpr std::string_view kReset = "\x1b[0;m";
constexpr const char* kSkipRepository = "Skipping Git repository setup";
constexpr const char* kSkipCheckout = "Skipping Git checkout";
constexpr const char* kSkipSubmodules = "Skipping Git submodules setup";
constexpr std::string_view kClear = "\x1b[0K";

constexpr const char* kGitlabEnvFile = "gitlab_runner_env";
constexpr const char* kExtGitConfigFile = ".gitlab-runner.ext.conf";
constexpr const char* kGlobalGitConfigSeed = ".glr.gconf";
constexpr const char* kGitTemplateDir = "git-template";
constexpr const char* kBuildUidGidFile = ".gitlab-build-uid-gid";
constexpr const char* kExtConfigEnv = "GLR_EXT_GIT_CONFIG_PATH";
constexpr const char* kTermTrap = "trap 'exit 1' TERM";

bool is_bare_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == ',' || c == '-' || c == '.' || c == '/' || c == '@' || c == '_';
}

// FF_POSIXLY_CORRECT_ESCAPES: POSIX double quotes. Unlike a table of "special" bytes, any byte
// outside the bare set triggers quoting, so no value can ever reach the shell unquoted.
std::string posix_quote(std::string_view s) {
  if (s.empty()) return "''";
  bool bare = true;
  std::string inner;
  for (unsigned char c : s) {
    if (!is_bare_byte(c)) bare = false;
    if (c == '`' || c == '"' || c == '\\' || c == '$') inner.push_back('\\');
    inner.push_back(static_cast<char>(c));
  }
  return bare ? inner : "\"" + inner + "\"";
}

bool is_shell_identifier(std::string_view name) {
  if (name.empty()) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
        name[0] == '_')) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

// Go's regexp.QuoteMeta.
std::string regex_quote(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

GitRemote compute_remote(const ScriptContext& ctx, const BuildSettings& settings,
                         bool tokenless) {
  auto value = [&](const char* key) {
    const Variable* v = find_variable(*ctx.variables, key);
    return v == nullptr ? std::string() : v->value;
  };
  return compute_git_remote(GitRemoteInput{
      .repo_url = ctx.job->git_info.repo_url,
      .clone_url = ctx.clone_url,
      .runner_url = ctx.runner_url,
      .project_path = value("CI_PROJECT_PATH"),
      .job_token = ctx.job->token.value,
      .server_host = value("CI_SERVER_HOST"),
      .ssh_host = value("CI_SERVER_SHELL_SSH_HOST"),
      .ssh_port = value("CI_SERVER_SHELL_SSH_PORT"),
      .force_https = settings.git_submodule_force_https,
      .tokenless = tokenless,
  });
}

// Accumulates the stage body (later eval'd as one quoted string) the way the official
// BashWriter does: one command per line, two spaces of indentation per nesting level.
class BashWriter {
 public:
  BashWriter(const ScriptContext& ctx, bool check_errors, bool posix_escape)
      : ctx_(ctx), check_errors_(check_errors), posix_escape_(posix_escape) {}

  std::string q(std::string_view s) const { return posix_escape_ ? posix_quote(s) : bash_quote(s); }

  void line(std::string_view text) {
    for (int i = 0; i < indent_; ++i) body_ += "  ";
    body_ += text;
    body_ += "\n";
  }
  void check_for_errors() {
    if (check_errors_) {
      line("_runner_exit_code=$?; if [ $_runner_exit_code -ne 0 ]; then exit $_runner_exit_code; fi");
    }
  }
  // Every word is quoted; words are already-final shell words when passed through `raw`.
  std::string words(const std::vector<std::string>& args) const {
    std::vector<std::string> quoted;
    quoted.reserve(args.size());
    for (const std::string& a : args) quoted.push_back(q(a));
    return join(quoted, " ");
  }
  void command(const std::vector<std::string>& args) {
    line(words(args));
    check_for_errors();
  }
  void raw_command(std::string_view text) {
    line(text);
    check_for_errors();
  }
  void notice(std::string_view text) {
    line("echo " + q(std::string(kBoldGreen) + std::string(text) + std::string(kReset)));
  }
  void warning(std::string_view text) {
    line("echo " + q(std::string(kYellow) + std::string(text) + std::string(kReset)));
  }
  void error(std::string_view text) {
    line("echo " + q(std::string(kBoldRed) + std::string(text) + std::string(kReset)));
  }
  void print(std::string_view text) { line("echo " + q(std::string(kReset) + std::string(text))); }
  void empty_line() { line("echo"); }

  void if_cmd(const std::vector<std::string>& args) {
    line("if " + words(args) + " >/dev/null 2>&1 ; then");
    ++indent_;
  }
  void if_cmd_with_output(std::string_view cmdline) {
    line("if " + std::string(cmdline) + " ; then");
    ++indent_;
  }
  void if_directory(const std::string& path_word) {
    line("if [ -d " + path_word + " ]; then");
    ++indent_;
  }
  void if_file(const std::string& path_word) {
    line("if [ -e " + path_word + " ]; then");
    ++indent_;
  }
  void if_git_version_at_least(const std::string& version) {
    line("current_ver=\"$(git version|cut -d ' ' -f 3)\"");
    line("required_ver=" + q(version));
    line("minimum_ver=\"$(printf '%s\\n%s' \"$required_ver\" \"$current_ver\" | sort -t '.' -k "
         "1,1n -k 2,2n -k 3,3n | sed -n '1p')\"");
    line("if [ \"$minimum_ver\" = \"$required_ver\" ]; then");
    print("Git version at least \"" + version + "\"");
    ++indent_;
  }
  void else_() {
    --indent_;
    line("else");
    ++indent_;
  }
  void end_if() {
    --indent_;
    line("fi");
  }

  // A path as a shell word. Relative paths are anchored at $PWD like the official writer.
  std::string path_word(const std::string& p) const {
    if (p.empty() || p[0] == '/') return q(p);
    return "\"$PWD\"/" + q(p);
  }
  std::string tmp_path(std::string_view name) const {
    return ctx_.dirs.tmp_dir + "/" + std::string(name);
  }
  std::string tmp_word(std::string_view name) const { return path_word(tmp_path(name)); }

  void cd(const std::string& path) { raw_command("cd " + path_word(path)); }
  // mkdir, rm and touch run only when a builtin test says there is something to do: a stage
  // writes several of them, and a process each was most of a trivial job's cost (exec's
  // bench). The outcome is the official writer's: same files, same errors.
  void mkdir(const std::string& path) {
    std::string p = path_word(path);
    raw_command("[ -d " + p + " ] || mkdir -p " + p);
  }
  void rm_file(const std::string& path) {
    std::string p = path_word(path);
    raw_command("if [ -e " + p + " ] || [ -L " + p + " ]; then rm -f " + p + "; fi");
  }
  void touch(const std::string& path) {
    std::string p = path_word(path);
    raw_command("[ -e " + p + " ] || : > " + p);
  }
  void rm_dir(const std::string& path) {
    if_directory(path_word(path));
    raw_command("chmod -R u+rwX " + path_word(path));
    end_if();
    raw_command("rm -r -f " + path_word(path));
  }
  void rm_files_recursive(const std::string& path, const std::string& name, bool dirs) {
    if_directory(path_word(path));
    // `-exec ... ;` works with every find and costs nothing when nothing matches (the usual
    // case), so no probe for `+` support is run first.
    std::string find = "find " + path_word(path) + " -name " + q(name) +
                       (dirs ? " -type d -depth -exec rm -rf -- {} ';'"
                             : " -type f -exec rm -f {} ';'");
    bool plain_pattern = std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
             c == '-' || c == '*';
    });
    if (dirs || !plain_pattern) {
      line(find);
    } else {
      // Usually nothing matches. bash checks that with a recursive glob (dot files too; it
      // also looks through symlinks, so it never misses what find would remove) and runs find
      // only when something might match; other shells always run find.
      line("__glr_found=1");
      line("if [ -n \"${BASH_VERSION-}\" ] && shopt -s globstar nullglob dotglob 2>/dev/null; then");
      line("  __glr_found=");
      line("  for __glr_f in " + path_word(path) + "/**/" + name + "; do __glr_found=1; break; done");
      line("  shopt -u globstar nullglob dotglob");
      line("fi");
      line("if [ -n \"$__glr_found\" ]; then");
      line("  " + find);
      line("fi");
    }
    end_if();
  }

  // export NAME=value. Names that are not shell identifiers are skipped: bash would refuse
  // them anyway (and abort under errexit), and skipping keeps odd names inert.
  void export_var(const std::string& name, const std::string& value_word) {
    if (!is_shell_identifier(name)) return;
    line("export " + name + "=" + value_word);
  }

  const std::string& body() const { return body_; }

 private:
  const ScriptContext& ctx_;
  bool check_errors_;
  bool posix_escape_;
  int indent_ = 0;
  std::string body_;
};

class StageWriter {
 public:
  explicit StageWriter(const ScriptContext& ctx)
      : ctx_(ctx),
        vars_(*ctx.variables),
        settings_(*ctx.settings),
        w_(ctx, ff("FF_ENABLE_BASH_EXIT_CODE_CHECK"), ff("FF_POSIXLY_CORRECT_ESCAPES")) {}

  // The resolved flag value: item 1 of the list, never shadowed by later entries (§3.1).
  bool ff(const char* name) const {
    for (const Variable& v : *ctx_.variables) {
      if (v.key == name) return v.value == "true";
    }
    return false;
  }

  BashWriter& w() { return w_; }

  // §3.3: every variable in list order, then GITLAB_ENV. `env_only` (cleanup) exports file
  // variables as their path without rewriting them.
  void write_exports(bool env_only) {
    for (const Variable& v : vars_) {
      std::string value = v.value;
      if (v.key == "CI_JOB_STATUS" && !ctx_.job_status.empty()) value = ctx_.job_status;
      if (!is_shell_identifier(v.key)) continue;
      if (v.is_file) {
        if (!env_only) {
          w_.mkdir(ctx_.dirs.tmp_dir);
          w_.line("printf '%s' " + w_.q(value) + " > " + w_.tmp_word(v.key));
        }
        w_.export_var(v.key, w_.tmp_word(v.key));
      } else {
        w_.export_var(v.key, w_.q(value));
      }
    }
    w_.export_var("GITLAB_ENV", w_.tmp_word(kGitlabEnvFile));
    w_.mkdir(ctx_.dirs.tmp_dir);
    w_.touch(w_.tmp_path(kGitlabEnvFile));
    w_.line("while read -r line; do export \"$line\"; done < " + w_.tmp_word(kGitlabEnvFile));
    if (ff("FF_GIT_URLS_WITHOUT_TOKENS")) {
      w_.line("export GIT_CONFIG_GLOBAL=" + w_.tmp_word(kGlobalGitConfigSeed));
    }
  }

  void cd_project() { w_.cd(ctx_.dirs.project_dir); }

  // §2.2: echo each trimmed command, then run it.
  void write_commands(const std::string& prefix, const std::vector<std::string>& commands) {
    for (size_t i = 0; i < commands.size(); ++i) {
      std::string command(trim(commands[i]));
      if (command.empty()) {
        w_.empty_line();
      } else if (size_t nl = command.find('\n'); nl == std::string::npos) {
        w_.notice("$ " + command);
      } else if (ctx_.ff_script_sections && ctx_.trace_sections) {
        std::string id = fmt::format("{}_{}", prefix, i);
        w_.line("printf '%b\\n' \"section_start:$(awk 'BEGIN{srand(); print srand()}'):section_" +
                id + "[hide_duration=true,collapsed=true]\"" + w_.q(std::string("\r") +
                std::string(kClear)) + w_.q(std::string(kBoldGreen) + "$ " + command +
                std::string(kReset)));
        w_.line("printf '%b\\n' \"section_end:$(awk 'BEGIN{srand(); print srand()}'):section_" +
                id + "\"" + w_.q(std::string("\r") + std::string(kClear)));
      } else {
        w_.notice("$ " + command.substr(0, nl) + " # collapsed multi-line command");
      }
      // The command itself is the one place job text runs as code, by design.
      w_.line(command);
      w_.check_for_errors();
    }
  }

  void write_prepare() {
    // The official runner lets $(hostname) run; bash already knows the name as $HOSTNAME, so
    // the process runs only in shells that do not (sh). The runner host part is quoted literally.
    const char* host = "${HOSTNAME:-$(hostname)}";
    if (!ctx_.runner_hostname.empty()) {
      w_.line(std::string("echo \"Running on ") + host + " via \"" +
              w_.q(ctx_.runner_hostname + "..."));
    } else {
      w_.line(std::string("echo \"Running on ") + host + "...\"");
    }
    for (const std::string& file : prepare_script_removed_files(ctx_)) w_.rm_file(file);
  }

  void write_clear_worktree() {
    w_.notice("Deleting tracked and untracked files...");
    w_.if_directory(w_.path_word(ctx_.dirs.project_dir));
    cd_project();
    w_.command({"git", "rm", "-rf", "--ignore-unmatch", "--quiet", "."});
    w_.command({"git", "clean", "-ffdx", "-q"});
    w_.end_if();
  }

  bool submodules_enabled() const {
    return settings_.submodule_strategy == SubmoduleStrategy::kNormal ||
           settings_.submodule_strategy == SubmoduleStrategy::kRecursive;
  }

  void write_git_cleanup() {
    const std::string git_dir = ctx_.dirs.project_dir + "/.git";
    for (const char* f : {"index.lock", "shallow.lock", "HEAD.lock", "hooks/post-checkout",
                          "config.lock"}) {
      w_.rm_file(git_dir + "/" + f);
      if (submodules_enabled()) {
        w_.rm_files_recursive(git_dir + "/modules",
                              std::filesystem::path(f).filename().string(), false);
      }
    }
    w_.rm_files_recursive(git_dir + "/refs", "*.lock", false);
    if (!ctx_.clean_git_config) return;
    for (const std::string& dir : {w_.tmp_path(kGitTemplateDir), git_dir}) {
      w_.rm_file(dir + "/config");
      w_.rm_dir(dir + "/hooks");
    }
    if (submodules_enabled()) {
      w_.rm_files_recursive(git_dir + "/modules", "config", false);
      w_.rm_files_recursive(git_dir + "/modules", "hooks", true);
    }
  }

  void write_git_ssl_config(const GitRemote& remote, const std::vector<std::string>& where) {
    if (remote.scheme_and_host.empty()) return;
    const std::pair<const char*, const char*> kTls[] = {{"CI_SERVER_TLS_CA_FILE", "sslCAInfo"},
                                                        {"CI_SERVER_TLS_CERT_FILE", "sslCert"},
                                                        {"CI_SERVER_TLS_KEY_FILE", "sslKey"}};
    for (auto [var, setting] : kTls) {
      const Variable* v = find_variable(vars_, var);
      if (v == nullptr || v->value.empty() || !is_shell_identifier(var)) continue;
      std::vector<std::string> args = {"git", "config"};
      args.insert(args.end(), where.begin(), where.end());
      args.push_back("http." + remote.scheme_and_host + "." + setting);
      w_.raw_command(w_.words(args) + " \"$" + var + "\"");
    }
  }

  std::string user_agent_arg() const { return "http.userAgent=" + ctx_.user_agent; }

  std::vector<std::string> proactive_auth_args(const GitRemote& remote) const {
    if (!ff("FF_USE_GIT_PROACTIVE_AUTH")) return {};
    if (remote.scheme_and_host.empty()) return {"-c", "http.proactiveAuth=basic"};
    return {"-c", "http." + remote.scheme_and_host + ".proactiveAuth=basic"};
  }

  void write_cred_helper(const std::string& ext_file, const GitRemote& remote) {
    std::string section = "credential." + remote.scheme_and_host;
    std::string file = w_.path_word(ext_file);
    // The helper reads the token from the environment at run time; nothing secret is written.
    std::string helper = "!f(){ if [ \"$1\" = \"get\" ]; then echo \"password=${CI_JOB_TOKEN}\"; fi; }; f";
    w_.raw_command("git config -f " + file + " --replace-all " + w_.q(section + ".helper") +
                   " \"\" && git config -f " + file + " --add " + w_.q(section + ".helper") + " " +
                   w_.q(helper) + " && git config -f " + file + " " + w_.q(section + ".username") +
                   " gitlab-ci-token");
  }

  void write_global_seed() {
    std::string seed = w_.tmp_word(kGlobalGitConfigSeed);
    w_.rm_file(w_.tmp_path(kGlobalGitConfigSeed));
    for (const char* user_config : {"$HOME/.gitconfig", "$HOME/.config/git/config"}) {
      w_.line(std::string("if [ -r \"") + user_config + "\" ]; then");
      w_.line(std::string("  git config --file ") + seed + " --add include.path \"" + user_config +
              "\"");
      w_.line("fi");
    }
    w_.raw_command("git config --file " + seed + " --add include.path " +
                   w_.tmp_word(kExtGitConfigFile));
  }

  // §4.4 step 6c. Returns the origin URL (without credentials).
  std::string write_template_and_ext_config(const GitRemote& remote) {
    const std::string template_dir = w_.tmp_path(kGitTemplateDir);
    const std::string template_file = template_dir + "/config";
    const std::string ext_file = w_.tmp_path(kExtGitConfigFile);
    w_.mkdir(template_dir);
    if (ctx_.safe_directory_checkout) {
      w_.command({"git", "config", "--global", "--add", "safe.directory", ctx_.dirs.project_dir});
    }
    std::string tf = w_.path_word(template_file);
    w_.raw_command("git config -f " + tf + " init.defaultBranch none");
    w_.raw_command("git config -f " + tf + " fetch.recurseSubmodules false");
    w_.raw_command("git config -f " + tf + " credential.interactive never");
    w_.raw_command("git config -f " + tf + " gc.autoDetach false");

    std::string ef = w_.path_word(ext_file);
    w_.rm_file(ext_file);
    if (ff("FF_USE_GITALY_CORRELATION_ID") && !ctx_.correlation_id.empty()) {
      w_.raw_command("git config -f " + ef + " http.extraHeader " +
                     w_.q("X-Gitaly-Correlation-ID: " + ctx_.correlation_id));
      w_.notice("Gitaly correlation ID: " + ctx_.correlation_id);
    }
    if (ff("FF_USE_GIT_BUNDLE_URIS")) {
      w_.raw_command("git config -f " + ef + " transfer.bundleURI true");
    }
    if (ctx_.shared_environment) write_git_ssl_config(remote, {"-f", ext_file});
    for (const auto& [authed, plain] : remote.instead_ofs) {
      w_.raw_command("git config --file " + ef + " --replace-all " +
                     w_.q("url." + authed + ".insteadOf") + " " + w_.q(plain) + " " +
                     w_.q("^" + regex_quote(plain) + "$"));
    }
    if (ff("FF_GIT_URLS_WITHOUT_TOKENS") && !remote.scheme_and_host.empty()) {
      write_cred_helper(ext_file, remote);
    }
    w_.raw_command("git config --file " + tf + " --replace-all include.path " + ef + " " +
                   w_.q(regex_quote(kExtGitConfigFile) + "$"));
    w_.export_var(kExtConfigEnv, ef);
    return remote.without_creds;
  }

  void write_fetch(const GitRemote& remote, const std::string& origin) {
    const JobSpec& job = *ctx_.job;
    const int depth = job.git_info.depth;
    if (depth > 0) {
      w_.notice(fmt::format("Fetching changes with git depth set to {}...", depth));
    } else {
      w_.notice("Fetching changes...");
    }
    const std::string template_dir = w_.tmp_path(kGitTemplateDir);
    std::string object_format = job.git_info.repo_object_format;
    std::string init = "git init " + w_.path_word(ctx_.dirs.project_dir) + " --template " +
                       w_.path_word(template_dir);
    if (!object_format.empty() && object_format != "sha1") {
      init += " --object-format " + w_.q(object_format);
    }
    w_.raw_command(init);
    cd_project();
    w_.if_cmd({"git", "remote", "add", "origin", origin});
    w_.notice("Created fresh repository.");
    w_.else_();
    w_.command({"git", "remote", "set-url", "origin", origin});
    w_.raw_command(std::string("git config --file .git/config --replace-all include.path \"$") +
                   kExtConfigEnv + "\" " + w_.q(regex_quote(kExtGitConfigFile) + "$"));
    w_.end_if();

    std::vector<std::string> args = {"git", "-c", user_agent_arg()};
    for (const std::string& a : proactive_auth_args(remote)) args.push_back(a);
    args.insert(args.end(), {"fetch", "origin", "--no-recurse-submodules"});
    args.insert(args.end(), job.git_info.refspecs.begin(), job.git_info.refspecs.end());
    if (depth > 0) args.insert(args.end(), {"--depth", std::to_string(depth)});
    args.insert(args.end(), settings_.git_fetch_extra_flags.begin(),
                settings_.git_fetch_extra_flags.end());
    if (depth <= 0) {
      std::vector<std::string> unshallow = args;
      unshallow.push_back("--unshallow");
      w_.if_file(".git/shallow");
      w_.command(unshallow);
      w_.else_();
      w_.command(args);
      w_.end_if();
    } else {
      w_.command(args);
    }
  }

  void write_native_clone(const GitRemote& remote, const std::string& origin) {
    const JobSpec& job = *ctx_.job;
    const int depth = job.git_info.depth;
    const std::string& ref = job.git_info.ref;
    if (depth > 0) {
      w_.notice(fmt::format("Cloning repository for {} with git depth set to {}...", ref, depth));
    } else if (!ref.empty()) {
      w_.notice(fmt::format("Cloning repository for {}...", ref));
    } else {
      w_.notice("Cloning repository...");
    }
    std::vector<std::string> args = {"git", "-c", user_agent_arg()};
    for (const std::string& a : proactive_auth_args(remote)) args.push_back(a);
    std::string line = w_.words(args) + " clone --no-checkout " + w_.q(origin) + " " +
                       w_.path_word(ctx_.dirs.project_dir) + " --template " +
                       w_.path_word(w_.tmp_path(kGitTemplateDir));
    std::vector<std::string> tail;
    if (depth > 0) tail.insert(tail.end(), {"--depth", std::to_string(depth)});
    if (starts_with(ref, "refs/")) {
      tail.insert(tail.end(), {"--revision", ref});
    } else if (!ref.empty()) {
      tail.insert(tail.end(), {"--branch", ref});
    }
    tail.insert(tail.end(), settings_.git_clone_extra_flags.begin(),
                settings_.git_clone_extra_flags.end());
    if (!tail.empty()) line += " " + w_.words(tail);
    w_.raw_command(line);
    cd_project();
  }

  void write_checkout(const GitRemote& remote) {
    const GitInfo& git = ctx_.job->git_info;
    w_.notice(fmt::format("Checking out {} as detached HEAD (ref is {})...", git.sha.substr(0, 8),
                          git.ref));
    std::vector<std::string> args = {"git", "-c", "submodule.recurse=false"};
    for (const std::string& a : proactive_auth_args(remote)) args.push_back(a);
    args.insert(args.end(), {"checkout", "-f", "-q", git.sha});
    w_.command(args);
    if (!settings_.git_clean_flags.empty()) {
      std::vector<std::string> clean = {"git", "clean"};
      clean.insert(clean.end(), settings_.git_clean_flags.begin(), settings_.git_clean_flags.end());
      w_.command(clean);
    }
  }

  Result<void> write_submodules() {
    switch (settings_.submodule_strategy) {
      case SubmoduleStrategy::kNone:
        w_.notice(kSkipSubmodules);
        return {};
      case SubmoduleStrategy::kInvalid:
        return fail(ErrorKind::kInternal, "unknown GIT_SUBMODULE_STRATEGY");
      case SubmoduleStrategy::kNormal:
      case SubmoduleStrategy::kRecursive:
        break;
    }
    const bool recursive = settings_.submodule_strategy == SubmoduleStrategy::kRecursive;
    const int depth = settings_.git_submodule_depth;
    std::string notice = "Updating/initializing submodules";
    if (recursive) notice += " recursively";
    if (depth > 0) notice += fmt::format(" with git depth set to {}", depth);
    w_.notice(notice + "...");

    std::vector<std::string> path_args;
    for (const std::string& p : settings_.git_submodule_paths) {
      if (p == ":(exclude)") {
        std::vector<std::string> quoted;
        for (const std::string& t : settings_.git_submodule_paths) quoted.push_back("\"" + t + "\"");
        return fail(ErrorKind::kInternal, "GIT_SUBMODULE_PATHS: invalid submodule pathspec [" +
                                              join(quoted, " ") + "]");
      }
    }
    if (!settings_.git_submodule_paths.empty()) {
      path_args.push_back("--");
      path_args.insert(path_args.end(), settings_.git_submodule_paths.begin(),
                       settings_.git_submodule_paths.end());
    }
    w_.command({"git", "submodule", "init"});
    std::vector<std::string> sync = {"git", "submodule", "sync"};
    if (recursive) sync.push_back("--recursive");
    sync.insert(sync.end(), path_args.begin(), path_args.end());
    w_.command(sync);

    std::vector<std::string> update = {"submodule", "update", "--init"};
    std::vector<std::string> foreach = {"git", "submodule", "foreach"};
    if (recursive) {
      update.push_back("--recursive");
      foreach.push_back("--recursive");
    }
    if (depth > 0) update.insert(update.end(), {"--depth", std::to_string(depth)});
    update.insert(update.end(), settings_.git_submodule_update_flags.begin(),
                  settings_.git_submodule_update_flags.end());
    update.insert(update.end(), path_args.begin(), path_args.end());

    std::vector<std::string> clean_flags =
        settings_.git_clean_flags.empty() ? std::vector<std::string>{"-ffdx"} : settings_.git_clean_flags;
    auto concat = [](std::vector<std::string> a, const std::vector<std::string>& b) {
      a.insert(a.end(), b.begin(), b.end());
      return a;
    };
    std::vector<std::string> foreach_clean = concat(concat(foreach, {"git", "clean"}), clean_flags);
    std::vector<std::string> foreach_reset = concat(foreach, {"git", "reset", "--hard"});
    w_.command(foreach_clean);
    w_.command(foreach_reset);

    const std::string with_creds = std::string("git -c \"include.path=$") + kExtConfigEnv + "\" ";
    w_.if_cmd_with_output(with_creds + w_.words(update));
    w_.notice("Updated submodules");
    w_.command(sync);
    w_.else_();
    w_.warning("Updating submodules failed. Retrying...");
    bool remote_flag = false;
    for (const std::string& f : settings_.git_submodule_update_flags) {
      if (iequals(f, "--remote")) remote_flag = true;
    }
    if (remote_flag) {
      std::vector<std::string> fetch(foreach.begin() + 1, foreach.end());
      fetch = concat(fetch, {"git", "fetch", "origin", "+refs/heads/*:refs/remotes/origin/*"});
      w_.raw_command(with_creds + w_.words(fetch));
    }
    w_.command(sync);
    w_.raw_command(with_creds + w_.words(update));
    w_.command(foreach_reset);
    w_.end_if();
    w_.command(foreach_clean);

    w_.notice("Configuring submodules to use parent git credentials...");
    w_.raw_command(std::string("git submodule foreach --recursive git config --replace-all "
                               "include.path \"$") + kExtConfigEnv + "\"");
    if (!settings_.git_lfs_skip_smudge) {
      w_.if_cmd({"git", "lfs", "version"});
      w_.notice("Pulling LFS files...");
      std::vector<std::string> lfs(foreach.begin() + 1, foreach.end());
      lfs = concat(lfs, {"git", "lfs", "pull"});
      w_.raw_command(with_creds + w_.words(lfs));
      w_.end_if();
    }
    return {};
  }

  void write_ownership_fix(const std::vector<std::string>& dirs) {
    const std::string file = ctx_.dirs.builds_dir + "/" + kBuildUidGidFile;
    w_.if_file(w_.path_word(file));
    for (const std::string& d : dirs) {
      if (trim(d).empty()) continue;
      w_.if_directory(w_.path_word(d));
      w_.line("chown -R \"$(stat -c '%u:%g' " + w_.path_word(file) + ")\" " + w_.path_word(d));
      w_.end_if();
    }
    w_.end_if();
  }

  void write_credential_reject(const GitRemote& remote) {
    if (remote.scheme_and_host.empty()) return;
    if (remote.scheme != "http" && remote.scheme != "https" && remote.scheme != "ssh") return;
    w_.line("echo " + w_.q("url=" + remote.scheme_and_host + "\nusername=gitlab-ci-token") +
            " | git credential reject || true");
  }

  std::vector<std::string> hook_script(const char* name) const {
    for (const Hook& h : ctx_.job->hooks) {
      if (h.name == name) return h.script;
    }
    return {};
  }

  // What get_sources prints when that is all it does: no repository (GIT_STRATEGY=none), no
  // submodules, no git configuration to write, no remote to forget. nullopt otherwise.
  std::optional<std::string> get_sources_print_only() const {
    const bool tokenless = ff("FF_GIT_URLS_WITHOUT_TOKENS");
    const GitRemote remote = compute_remote(ctx_, settings_, tokenless);
    if (settings_.git_strategy != GitStrategy::kNone ||
        settings_.submodule_strategy != SubmoduleStrategy::kNone || tokenless ||
        !remote.scheme_and_host.empty()) {
      return std::nullopt;
    }
    std::string out;
    for (const char* text : {kSkipRepository, kSkipCheckout, kSkipSubmodules}) {
      out.append(kBoldGreen).append(text).append(kReset).append("\n");
    }
    return out;
  }

  Result<void> write_get_sources() {
    const bool tokenless = ff("FF_GIT_URLS_WITHOUT_TOKENS");
    const GitRemote remote = compute_remote(ctx_, settings_, tokenless);
    const GitStrategy strategy = settings_.git_strategy;
    const bool no_repo = strategy == GitStrategy::kNone || strategy == GitStrategy::kEmpty;

    write_exports(false);
    w_.export_var("GIT_TERMINAL_PROMPT", "0");
    w_.export_var("GCM_INTERACTIVE", "Never");
    if (tokenless) {
      write_global_seed();
      if (no_repo && !remote.scheme_and_host.empty()) {
        w_.rm_file(w_.tmp_path(kExtGitConfigFile));
        write_cred_helper(w_.tmp_path(kExtGitConfigFile), remote);
      }
    }
    if (!ctx_.shared_environment) write_git_ssl_config(remote, {"--global"});

    if (!no_repo) {
      std::vector<std::string> pre;
      if (!ctx_.pre_get_sources_script.empty()) pre.push_back(ctx_.pre_get_sources_script);
      for (const std::string& s : hook_script("pre_get_sources_script")) pre.push_back(s);
      if (!pre.empty()) write_commands("pre_clone_script", pre);
    }

    if (!settings_.git_lfs_skip_smudge) w_.export_var("GIT_LFS_SKIP_SMUDGE", "1");

    switch (strategy) {
      case GitStrategy::kClone:
      case GitStrategy::kFetch: {
        write_git_cleanup();
        std::string origin = write_template_and_ext_config(remote);
        if (strategy == GitStrategy::kClone) {
          w_.rm_dir(ctx_.dirs.project_dir);
          if (ff("FF_USE_GIT_NATIVE_CLONE")) {
            w_.if_git_version_at_least("2.49");
            write_native_clone(remote, origin);
            w_.else_();
            write_fetch(remote, origin);
            w_.end_if();
          } else {
            write_fetch(remote, origin);
          }
        } else {
          write_fetch(remote, origin);
        }
        break;
      }
      case GitStrategy::kNone:
        w_.notice(kSkipRepository);
        w_.mkdir(ctx_.dirs.project_dir);
        break;
      case GitStrategy::kEmpty:
        w_.notice("Skipping Git repository setup and creating an empty build directory");
        w_.rm_dir(ctx_.dirs.project_dir);
        w_.mkdir(ctx_.dirs.project_dir);
        break;
    }

    if (settings_.git_checkout && !no_repo) {
      write_checkout(remote);
      if (!settings_.git_lfs_skip_smudge) {
        w_.if_cmd({"git", "lfs", "version"});
        w_.command({"git", "lfs", "pull"});
        w_.empty_line();
        w_.end_if();
      }
    } else {
      w_.notice(kSkipCheckout);
    }

    if (Result<void> r = write_submodules(); !r) return r;

    if (!no_repo) {
      std::vector<std::string> post = hook_script("post_get_sources_script");
      if (!ctx_.post_get_sources_script.empty()) post.push_back(ctx_.post_get_sources_script);
      if (!post.empty()) write_commands("post_clone_script", post);
    }
    write_ownership_fix({ctx_.dirs.builds_dir});
    write_credential_reject(remote);
    return {};
  }

  void write_cleanup() {
    const GitRemote remote = compute_remote(ctx_, settings_, ff("FF_GIT_URLS_WITHOUT_TOKENS"));
    write_exports(true);
    write_credential_reject(remote);
    w_.rm_file(w_.tmp_path(kGitlabEnvFile));
    w_.rm_file(w_.tmp_path("masking.db"));
    w_.rm_file(w_.tmp_path(kExtGitConfigFile));
    w_.rm_file(w_.tmp_path(kGlobalGitConfigSeed));
    for (const Variable& v : vars_) {
      if (v.is_file && is_shell_identifier(v.key)) w_.rm_file(w_.tmp_path(v.key));
    }
    if (ff("FF_ENABLE_JOB_CLEANUP")) {
      switch (settings_.git_strategy) {
        case GitStrategy::kClone:
        case GitStrategy::kEmpty:
          w_.rm_dir(ctx_.dirs.project_dir);
          break;
        case GitStrategy::kFetch: {
          cd_project();
          std::vector<std::string> clean = {"git", "clean"};
          clean.insert(clean.end(), settings_.git_clean_flags.begin(),
                       settings_.git_clean_flags.end());
          if (!settings_.git_clean_flags.empty()) w_.command(clean);
          w_.command({"git", "reset", "--hard"});
          if (submodules_enabled()) {
            std::vector<std::string> foreach = {"git", "submodule", "foreach"};
            if (settings_.submodule_strategy == SubmoduleStrategy::kRecursive) {
              foreach.push_back("--recursive");
            }
            if (!settings_.git_clean_flags.empty()) {
              std::vector<std::string> c = foreach;
              c.insert(c.end(), clean.begin(), clean.end());
              w_.command(c);
            }
            std::vector<std::string> r = foreach;
            r.insert(r.end(), {"git", "reset", "--hard"});
            w_.command(r);
          }
          break;
        }
        case GitStrategy::kNone:
          w_.notice("Skipping build directory cleanup step");
          break;
      }
    }
    write_git_cleanup();
    w_.rm_file(ctx_.dirs.builds_dir + "/" + kBuildUidGidFile);
  }

  // Official guard around every helper call (§5.4): `if <helper> --version`.
  template <class F>
  void guard_helper(const std::string& action, F body) {
    if (ctx_.helper_command.empty()) {
      w_.warning(action + " is not supported by this executor.");
      return;
    }
    w_.if_cmd({ctx_.helper_command, "--version"});
    body();
    w_.else_();
    w_.warning("Missing " + ctx_.helper_command + ". " + action + " is disabled.");
    w_.end_if();
  }

  // The key to use, after the warnings the official runner prints; nullopt skips the entry.
  std::optional<std::string> resolve_cache_key(const CacheSpec& cache, const char* skip_notice) {
    std::string raw = expand(cache.key, vars_, ctx_.dirs.tmp_dir);
    if (raw.empty()) raw = ctx_.job->job_info.name + "/" + ctx_.job->git_info.ref;
    std::optional<std::string> key = sanitize_cache_key(raw);
    if (!key) {
      w_.warning(fmt::format("cache key \"{}\" could not be sanitized", raw));
      w_.notice(fmt::format("{} due to empty cache key", skip_notice));
      return std::nullopt;
    }
    if (*key != raw) w_.warning(fmt::format("cache key \"{}\" sanitized to \"{}\"", raw, *key));
    return key;
  }

  std::string cache_archive_path(const std::string& key) const {
    std::filesystem::path archive =
        std::filesystem::path(ctx_.dirs.cache_dir) / key / "cache.zip";
    std::filesystem::path rel =
        archive.lexically_normal().lexically_relative(
            std::filesystem::path(ctx_.dirs.project_dir).lexically_normal());
    return rel.empty() ? archive.string() : rel.string();
  }

  static bool has_cache_paths(const CacheSpec& c) { return !c.paths.empty() || c.untracked; }

  Result<bool> write_restore_cache() {
    bool any = false;
    for (const CacheSpec& c : ctx_.job->caches) any = any || has_cache_paths(c);
    if (!any) return false;
    write_exports(false);
    cd_project();
    for (const CacheSpec& c : ctx_.job->caches) {
      if (!has_cache_paths(c)) continue;
      std::optional<std::string> key = resolve_cache_key(c, "Skipping cache extraction");
      if (!key) continue;
      std::string policy = expand(c.policy, vars_, ctx_.dirs.tmp_dir);
      if (policy == "push") {
        w_.notice(fmt::format("Not downloading cache {} due to policy", *key));
        continue;
      }
      if (!policy.empty() && policy != "pull" && policy != "pull-push") {
        return fail(ErrorKind::kInternal, fmt::format("unknown cache policy {} for {}", policy, *key));
      }
      std::vector<std::string> keys = {*key};
      for (const std::string& fb : c.fallback_keys) {
        std::string raw = expand(fb, vars_, ctx_.dirs.tmp_dir);
        if (std::optional<std::string> k = sanitize_cache_key(raw)) keys.push_back(*k);
      }
      if (const Variable* fb = find_variable(vars_, "CACHE_FALLBACK_KEY");
          fb != nullptr && !fb->value.empty()) {
        std::string trimmed = fb->value;
        while (!trimmed.empty() && (trimmed.back() == '.' || trimmed.back() == ' ')) {
          trimmed.pop_back();
        }
        if (ends_with(trimmed, "-protected")) {
          w_.warning(fmt::format("CACHE_FALLBACK_KEY \"{}\" not allowed to end in \"-protected\"",
                                 fb->value));
        } else if (std::optional<std::string> k = sanitize_cache_key(fb->value)) {
          keys.push_back(*k);
        }
      }
      guard_helper("Extracting cache", [&] { write_extract(keys, 0, c.paths); });
    }
    write_ownership_fix({ctx_.dirs.cache_dir, ctx_.dirs.builds_dir});
    return true;
  }

  void write_extract(const std::vector<std::string>& keys, size_t index,
                     const std::vector<std::string>& paths) {
    const std::string& key = keys[index];
    w_.notice(fmt::format("Checking cache for {}...", key));
    std::vector<std::string> args = {ctx_.helper_command, "cache-extractor", "--file",
                                     cache_archive_path(key), "--timeout",
                                     std::to_string(settings_.cache_request_timeout_minutes)};
    if (ctx_.remote_cache) {
      if (std::optional<RemoteCacheUrls> urls = ctx_.remote_cache(key);
          urls && !urls->get_url.empty()) {
        args.insert(args.end(), {"--url", urls->get_url});
      }
    }
    w_.if_cmd_with_output(w_.words(args));
    w_.notice("Successfully extracted cache");
    w_.else_();
    w_.warning("Failed to extract cache");
    if (ff("FF_CLEAN_UP_FAILED_CACHE_EXTRACT")) {
      for (const std::string& p : paths) {
        w_.print("Removing " + p);
        w_.rm_dir(p);
      }
    }
    if (index + 1 < keys.size()) write_extract(keys, index + 1, paths);
    w_.end_if();
  }

  static bool cache_when_matches(const CacheSpec& c, bool on_success) {
    if (c.when == "always") return true;
    if (on_success) return c.when.empty() || c.when == "on_success";
    return c.when == "on_failure";
  }

  Result<bool> write_archive_cache(bool on_success) {
    bool any = false;
    for (const CacheSpec& c : ctx_.job->caches) {
      any = any || (cache_when_matches(c, on_success) && has_cache_paths(c));
    }
    if (!any) return false;
    write_exports(false);
    cd_project();
    for (const CacheSpec& c : ctx_.job->caches) {
      if (!cache_when_matches(c, on_success) || !has_cache_paths(c)) continue;
      std::optional<std::string> key = resolve_cache_key(c, "Skipping cache archiving");
      if (!key) continue;
      std::string policy = expand(c.policy, vars_, ctx_.dirs.tmp_dir);
      if (policy == "pull") {
        w_.notice(fmt::format("Not uploading cache {} due to policy", *key));
        continue;
      }
      if (!policy.empty() && policy != "push" && policy != "pull-push") {
        return fail(ErrorKind::kInternal, fmt::format("unknown cache policy {} for {}", policy, *key));
      }
      std::vector<std::string> args = {ctx_.helper_command, "cache-archiver", "--file",
                                       cache_archive_path(*key), "--alternate-file",
                                       cache_archive_path(*key), "--timeout",
                                       std::to_string(settings_.cache_request_timeout_minutes)};
      for (const std::string& p : c.paths) args.insert(args.end(), {"--path", p});
      if (c.untracked) args.push_back("--untracked");
      if (ctx_.remote_cache) {
        if (std::optional<RemoteCacheUrls> urls = ctx_.remote_cache(*key);
            urls && !urls->put_url.empty()) {
          args.insert(args.end(), {"--url", urls->put_url});
          for (const std::string& h : urls->put_headers) args.insert(args.end(), {"--header", h});
        }
      }
      guard_helper("Creating cache", [&] {
        w_.notice(fmt::format("Creating cache {}...", *key));
        w_.if_cmd_with_output(w_.words(args));
        w_.notice("Created cache");
        w_.else_();
        w_.warning("Failed to create cache");
        w_.end_if();
      });
    }
    return true;
  }

  static bool artifact_when_matches(const ArtifactSpec& a, bool on_success) {
    if (a.when == "always") return true;
    if (on_success) return a.when.empty() || a.when == "on_success";
    return a.when == "on_failure";
  }

  bool write_upload_artifacts(bool on_success) {
    if (ctx_.runner_url.empty()) return false;
    bool any = false;
    for (const ArtifactSpec& a : ctx_.job->artifacts) {
      any = any || (artifact_when_matches(a, on_success) &&
                    (!a.paths.empty() || !a.exclude.empty() || a.untracked));
    }
    if (!any) return false;
    write_exports(false);
    cd_project();
    for (const ArtifactSpec& a : ctx_.job->artifacts) {
      if (!artifact_when_matches(a, on_success)) continue;
      if (a.paths.empty() && a.exclude.empty() && !a.untracked) continue;
      std::vector<std::string> args = {
          ctx_.helper_command, "artifacts-uploader", "--url", ctx_.runner_url, "--token",
          ctx_.job->token.value, "--id", std::to_string(ctx_.job->id), "--timeout",
          ctx_.artifact_upload_timeout, "--response-header-timeout",
          ctx_.artifact_response_header_timeout};
      for (const std::string& p : a.paths) args.insert(args.end(), {"--path", p});
      for (const std::string& e : a.exclude) args.insert(args.end(), {"--exclude", e});
      if (a.untracked) args.push_back("--untracked");
      if (!a.name.empty()) args.insert(args.end(), {"--name", a.name});
      if (!a.expire_in.empty()) args.insert(args.end(), {"--expire-in", a.expire_in});
      if (!a.artifact_format.empty()) {
        args.insert(args.end(), {"--artifact-format", a.artifact_format});
      }
      if (!a.artifact_type.empty()) args.insert(args.end(), {"--artifact-type", a.artifact_type});
      guard_helper("Uploading artifacts", [&] {
        w_.notice("Uploading artifacts...");
        w_.command(args);
      });
    }
    return true;
  }

  bool write_download_artifacts() {
    std::vector<const Dependency*> deps;
    for (const Dependency& d : ctx_.job->dependencies) {
      if (!d.artifacts_filename.empty()) deps.push_back(&d);
    }
    if (deps.empty()) return false;
    write_exports(false);
    cd_project();
    guard_helper("Artifacts downloading", [&] {
      for (const Dependency* d : deps) {
        w_.notice(fmt::format("Downloading artifacts for {} ({})...", d->name, d->id));
        w_.command({ctx_.helper_command, "artifacts-downloader", "--url", ctx_.runner_url,
                    "--token", d->token.value, "--id", std::to_string(d->id)});
      }
    });
    write_ownership_fix({ctx_.dirs.cache_dir, ctx_.dirs.builds_dir});
    return true;
  }

  bool write_user_step(const std::string& step_name) {
    const std::string wanted = stage_name(StageKind::kUserStep, step_name);
    const Step* step = nullptr;
    for (const Step& s : ctx_.job->steps) {
      if (s.name == "after_script") continue;
      if (stage_name(StageKind::kUserStep, s.name) == wanted) {
        step = &s;
        break;
      }
    }
    if (step == nullptr) return false;
    write_exports(false);
    cd_project();
    if (!ctx_.pre_build_script.empty()) write_commands("pre_build_script", {ctx_.pre_build_script});
    std::vector<std::string> script = step->script;
    if (step->name == "release") {
      for (std::string& s : script) s = expand(s, vars_, ctx_.dirs.tmp_dir);
    }
    write_commands("script_step", script);
    if (!ctx_.post_build_script.empty()) {
      write_commands("post_build_script", {ctx_.post_build_script});
    }
    return true;
  }

  bool write_after_script() {
    const Step* step = nullptr;
    for (const Step& s : ctx_.job->steps) {
      if (s.name == "after_script") {
        step = &s;
        break;
      }
    }
    if (step == nullptr || step->script.empty()) return false;
    write_exports(false);
    cd_project();
    w_.notice("Running after script...");
    write_commands("after_script_step", step->script);
    return true;
  }

  // §7.1 envelope around the body.
  std::string finish() const {
    std::string out;
    out += "#!/usr/bin/env " + (ctx_.shell.empty() ? std::string("bash") : ctx_.shell) + "\n\n";
    out += std::string(kTermTrap) + "\n\n";
    if (settings_.debug_trace) out += "set -o xtrace\n";
    // The official probes `$(set -o)` for pipefail; bash is known to have it, and the probe
    // costs a fork per stage, so only other shells pay for it.
    out += "if [ -n \"${BASH_VERSION-}\" ]; then set -o pipefail; else case \"$(set -o)\" in "
           "*\"pipefail\"*) set -o pipefail;; esac; fi; set -o errexit\n";
    out += "set +o noclobber\n";
    if (ff("FF_USE_LEGACY_BASH_EVAL")) {
      out += ": | eval " + w_.q(w_.body()) + "\n";
    } else if (ctx_.stage_in_subshell) {
      out += "eval " + w_.q(w_.body()) + " < /dev/null\n";
    } else {
      out += "(" + std::string(kTermTrap) + "; eval " + w_.q(w_.body()) + ") < /dev/null\n";
    }
    out += "exit 0\n";
    return out;
  }

 private:
  const ScriptContext& ctx_;
  const Variables& vars_;
  const BuildSettings& settings_;
  BashWriter w_;
};

}  // namespace

std::string with_json_status_markers(std::string_view script) {
  // The official bashJSONInitializationScript and bashJSONTerminationScript, verbatim.
  static const std::string kMarkers =
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
      "trap runner_script_trap EXIT\n";
  std::string out(script);
  const std::string anchor = std::string(kTermTrap) + "\n\n";
  size_t at = out.find(anchor);
  if (at == std::string::npos) return kMarkers + out;
  out.insert(at + anchor.size(), kMarkers);
  return out;
}

std::string bash_quote(std::string_view s) {
  if (s.empty()) return "''";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string inner;
  inner.reserve(s.size() * 2);
  bool quote = false;
  for (unsigned char c : s) {
    switch (c) {
      case '\a': inner += "\\a"; quote = true; continue;
      case '\b': inner += "\\b"; quote = true; continue;
      case '\t': inner += "\\t"; quote = true; continue;
      case '\n': inner += "\\n"; quote = true; continue;
      case '\v': inner += "\\v"; quote = true; continue;
      case '\f': inner += "\\f"; quote = true; continue;
      case '\r': inner += "\\r"; quote = true; continue;
      case '\'': inner += "\\'"; quote = true; continue;
      case '\\': inner += "\\\\"; quote = true; continue;
      default: break;
    }
    if (is_bare_byte(c)) {
      inner.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      inner.push_back(static_cast<char>(c));  // printable specials stay as is inside $'...'
      quote = true;
    } else {
      inner += "\\x";
      inner.push_back(kHex[c >> 4]);
      inner.push_back(kHex[c & 0x0f]);
      quote = true;
    }
  }
  return quote ? "$'" + inner + "'" : inner;
}

std::string stage_name(StageKind kind, const std::string& step_name) {
  switch (kind) {
    case StageKind::kPrepareScript: return "prepare_script";
    case StageKind::kGetSources: return "get_sources";
    case StageKind::kClearWorktree: return "clear_worktree";
    case StageKind::kRestoreCache: return "restore_cache";
    case StageKind::kDownloadArtifacts: return "download_artifacts";
    case StageKind::kUserStep: return "step_" + to_lower(step_name);
    case StageKind::kAfterScript: return "after_script";
    case StageKind::kArchiveCache: return "archive_cache";
    case StageKind::kArchiveCacheOnFailure: return "archive_cache_on_failure";
    case StageKind::kUploadArtifactsOnSuccess: return "upload_artifacts_on_success";
    case StageKind::kUploadArtifactsOnFailure: return "upload_artifacts_on_failure";
    case StageKind::kCleanupFileVariables: return "cleanup_file_variables";
  }
  return "";
}

std::string stage_header(StageKind kind, const std::string& step_name) {
  switch (kind) {
    case StageKind::kPrepareScript: return "Preparing environment";
    case StageKind::kGetSources: return "Getting source from Git repository";
    case StageKind::kClearWorktree:
      return "Deleting all tracked and untracked files due to source fetch failure";
    case StageKind::kRestoreCache: return "Restoring cache";
    case StageKind::kDownloadArtifacts: return "Downloading artifacts";
    case StageKind::kAfterScript: return "Running after_script";
    case StageKind::kArchiveCache: return "Saving cache for successful job";
    case StageKind::kArchiveCacheOnFailure: return "Saving cache for failed job";
    case StageKind::kUploadArtifactsOnSuccess: return "Uploading artifacts for successful job";
    case StageKind::kUploadArtifactsOnFailure: return "Uploading artifacts for failed job";
    case StageKind::kCleanupFileVariables:
      return "Cleaning up project directory and file based variables";
    case StageKind::kUserStep: break;
  }
  return "Executing \"" + stage_name(kind, step_name) + "\" stage of the job script";
}

std::string prepare_script_output(const ScriptContext& ctx, std::string_view host) {
  std::string out = "Running on ";
  out.append(host);
  if (!ctx.runner_hostname.empty()) out.append(" via ").append(ctx.runner_hostname);
  return out + "...\n";
}

std::vector<std::string> prepare_script_removed_files(const ScriptContext& ctx) {
  return {ctx.dirs.tmp_dir + "/" + std::string(kGitlabEnvFile), ctx.dirs.tmp_dir + "/masking.db"};
}

std::optional<std::string> get_sources_print_only(const ScriptContext& ctx) {
  if (ctx.job == nullptr || ctx.variables == nullptr || ctx.settings == nullptr) return std::nullopt;
  return StageWriter(ctx).get_sources_print_only();
}

Result<std::optional<std::string>> generate_stage_script(StageKind kind,
                                                         const std::string& step_name,
                                                         const ScriptContext& ctx) {
  if (ctx.job == nullptr || ctx.variables == nullptr || ctx.settings == nullptr) {
    return fail(ErrorKind::kInternal, "script context is incomplete");
  }
  StageWriter writer(ctx);
  bool run = true;
  switch (kind) {
    case StageKind::kPrepareScript:
      writer.write_prepare();
      break;
    case StageKind::kGetSources:
      if (Result<void> r = writer.write_get_sources(); !r) return fail(r.error());
      break;
    case StageKind::kClearWorktree:
      writer.write_clear_worktree();
      break;
    case StageKind::kRestoreCache: {
      Result<bool> r = writer.write_restore_cache();
      if (!r) return fail(r.error());
      run = *r;
      break;
    }
    case StageKind::kDownloadArtifacts:
      run = writer.write_download_artifacts();
      break;
    case StageKind::kUserStep:
      run = writer.write_user_step(step_name);
      break;
    case StageKind::kAfterScript:
      run = writer.write_after_script();
      break;
    case StageKind::kArchiveCache:
    case StageKind::kArchiveCacheOnFailure: {
      Result<bool> r = writer.write_archive_cache(kind == StageKind::kArchiveCache);
      if (!r) return fail(r.error());
      run = *r;
      break;
    }
    case StageKind::kUploadArtifactsOnSuccess:
    case StageKind::kUploadArtifactsOnFailure:
      run = writer.write_upload_artifacts(kind == StageKind::kUploadArtifactsOnSuccess);
      break;
    case StageKind::kCleanupFileVariables:
      writer.write_cleanup();
      break;
  }
  if (!run) return std::optional<std::string>();
  return std::optional<std::string>(writer.finish());
}

}  // namespace glr
