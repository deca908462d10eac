// Subcommand registration (STYLE C2 "Subcommands"): each cmd_<name>.cc adds one
// command; main.cc lists them in one visible block.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace glr {

// Flags shared by every command, as the official binary's global flags.
struct GlobalOptions {
  bool debug = false;
  std::string log_level{};
  std::string log_format{};
  int exit_code = 0;  // set by the command that ran
};

void add_run_command(CLI::App& app, GlobalOptions& global);
void add_run_single_command(CLI::App& app, GlobalOptions& global);
void add_list_command(CLI::App& app, GlobalOptions& global);
void add_exec_command(CLI::App& app, GlobalOptions& global);
// The runner lifecycle (api spec §1): cmd_register.cc, cmd_verify.cc, cmd_unregister.cc,
// cmd_reset_token.cc.
void add_register_command(CLI::App& app, GlobalOptions& global);
void add_verify_command(CLI::App& app, GlobalOptions& global);
void add_unregister_command(CLI::App& app, GlobalOptions& global);
void add_reset_token_command(CLI::App& app, GlobalOptions& global);
// The helper subcommands the stage scripts call (cmd_helpers.cc): artifacts-uploader,
// artifacts-downloader, cache-archiver, cache-extractor.
void add_helper_commands(CLI::App& app, GlobalOptions& global);

// Applies --debug/--log-level/--log-format over the config file's values.
// Returns false (after printing why) when a value is invalid.
bool setup_logging(const GlobalOptions& global, const std::string& config_level,
                   const std::string& config_format);

// Absolute path of the running executable (the helper command of generated scripts).
std::string self_executable();

}  // namespace glr
