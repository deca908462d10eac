// glrunner's entry point: the composition root (STYLE C1). Parses the command line
// with the official runner's verbs, flags and environment variables.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"
#include "util/version.h"

int main(int argc, char** argv) {
  glr::GlobalOptions global;
  CLI::App app{"glrunner: a GitLab Runner compatible runner (gitlab-runner " +
                   std::string(glr::compat_version()) + ")",
               "gitlab-runner"};
  app.set_version_flag("-v,--version",
                       std::string("Version:      ") + glr::compat_version() +
                           "\nGit revision: " + glr::revision() +
                           "\nGit branch:   glrunner-" + glr::glrunner_version() +
                           "\nOS/Arch:      " + glr::platform() + "/" + glr::architecture());
  app.add_flag("--debug", global.debug, "debug mode")->envname("RUNNER_DEBUG");
  app.add_option("-l,--log-level", global.log_level,
                 "Log level (options: debug, info, warn, error, fatal, panic)")
      ->envname("LOG_LEVEL");
  app.add_option("--log-format", global.log_format, "Choose log format (options: runner, text, json)")
      ->envname("LOG_FORMAT");
  app.require_subcommand(1);
  app.fallthrough();

  // The command table.
  glr::add_run_command(app, global);
  glr::add_run_single_command(app, global);
  glr::add_list_command(app, global);
  glr::add_exec_command(app, global);
  glr::add_register_command(app, global);
  glr::add_verify_command(app, global);
  glr::add_unregister_command(app, global);
  glr::add_reset_token_command(app, global);
  glr::add_helper_commands(app, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "glrunner: %s\n", e.what());
    std::fprintf(stderr, "Run 'glrunner --help' for usage.\n");
    return 1;
  } catch (const std::exception& e) {
    // Library exceptions that escaped an adapter: report, never std::terminate.
    std::fprintf(stderr, "glrunner: internal error: %s\n", e.what());
    return 1;
  }
  return global.exit_code;
}
