// fake-gitlab: the in-process FakeGitLab as a standalone server for shell e2e tests, driven
// through its /__control/ HTTP API. Prints "listening on <url>" once ready; exits on TERM/INT.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "support/fake_gitlab/fake_gitlab.h"
#include "util/strings.h"

namespace {

int usage() {
  std::cerr << "usage: fake-gitlab [--port N] [--long-poll-ms N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  glr::FakeGitLab::Options options;
  options.control_api = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "--port" || arg == "--long-poll-ms") && i + 1 < argc) {
      std::optional<long long> value = glr::parse_int(argv[++i]);
      if (!value || *value < 0) return usage();
      if (arg == "--port") {
        if (*value > 65535) return usage();
        options.port = static_cast<uint16_t>(*value);
      } else {
        options.long_poll = std::chrono::milliseconds(*value);
      }
    } else {
      return usage();
    }
  }

  // Block before the server starts its threads so they inherit the mask and only sigwait below
  // sees TERM/INT.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  glr::FakeGitLab server(options);
  if (server.port() == 0) {
    std::cerr << "fake-gitlab: cannot listen on 127.0.0.1:" << options.port << "\n";
    return 1;
  }
  std::cout << "listening on " << server.url() << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  return 0;
}
