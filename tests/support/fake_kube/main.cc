// fake-kube: the in-process FakeKube as a standalone HTTPS server for shell e2e tests and kubectl.
// Prints "listening on <url>", "ca <file>" and "kubeconfig <file>" once ready; exits on TERM/INT.
//
// Control API (no auth; query values URL-decoded):
//   POST   /__control/faults  body:
//   {"method":"GET","path":"/pods/x","count":N,"status":500|429|503|0,
//          "retry_after":N,"message":"..."}   status 0 drops the connection unanswered
//   DELETE /__control/faults
//   POST   /__control/drop_watches?events=K&connections=N   next N watches closed after K events
//   POST   /__control/drop_execs?contains=S&after_bytes=N&count=K  next K execs whose command
//          contains S are cut (TCP closed, no status) after N bytes of output
//   POST   /__control/pod_start_delay?ms=N                   later pods stay Pending N ms
//   POST   /__control/bad_images?image=IMG                   pods using IMG stay in
//   ImagePullBackOff POST   /__control/compact                                older
//   resourceVersions -> 410 Expired GET    /__control/requests ["METHOD /path", ...]
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "support/fake_kube/fake_kube.h"
#include "util/strings.h"

namespace {

int usage() {
  std::cerr << "usage: fake-kube --dir DIR [--port N] [--token TOKEN] [--path DIR]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  glr::FakeKube::Options options;
  options.control_api = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      std::optional<long long> value = glr::parse_int(argv[++i]);
      if (!value || *value < 0 || *value > 65535) return usage();
      options.port = static_cast<uint16_t>(*value);
    } else if (arg == "--dir" && i + 1 < argc) {
      options.state_dir = argv[++i];
    } else if (arg == "--path" && i + 1 < argc) {
      options.extra_path = argv[++i];
    } else if (arg == "--token" && i + 1 < argc) {
      options.token = argv[++i];
    } else {
      return usage();
    }
  }
  if (options.state_dir.empty()) return usage();

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  glr::FakeKube server(options);
  if (server.port() == 0) {
    std::cerr << "fake-kube: cannot start on 127.0.0.1:" << options.port << "\n";
    return 1;
  }
  std::cout << "ca " << server.ca_file().string() << "\n"
            << "kubeconfig " << server.kubeconfig_file().string() << "\n"
            << "listening on " << server.url() << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  return 0;
}
