// fake-gitlab: the in-process FakeGitLab as a standalone server for shell e2e tests, driven
// through its /__control/ HTTP API. Prints "listening on <url>" once ready; exits on TERM/INT.
//
// Control API (not recorded in requests()); query values are URL-decoded:
//   POST /__control/runners                body: runner token             -> 200 {}
//   POST /__control/jobs                   body: payload JSON             -> 201 {"id":N,"token":"glcbt-..."}
//   GET  /__control/jobs/:id               -> 200 {state, failure_reason, exit_code, trace, checksum,
//                                             bytesize, checksum_matches, final_update_received,
//                                             puts, final_puts, patches, content_ranges, ...}
//   GET  /__control/jobs/:id/wait?timeout_ms=N  same record once the job is over; 408 on timeout
//   POST /__control/jobs/:id/cancel?graceful=1|0
//   POST /__control/git?path=group/project.git&dir=/path/to/repo
//   POST /__control/final_update_202?count=N
//   POST /__control/trace_range_mismatch   POST /__control/trace_update_interval?seconds=N
//   POST /__control/long_poll?ms=N         GET  /__control/requests
//   POST /__control/faults  body: {"endpoint":"request_job|update_job|patch_trace|git|artifacts|any",
//        "action":"respond|close|delay","skip":0,"count":1,"status":500,"retry_after":N,
//        "delay_ms":N,"body":"..."}
//   Artifacts (api spec §6): GET /__control/artifacts -> [{job_id, query, field_name, filename,
//        content_type, size, request_content_type, transfer_encoding}] of every upload;
//   GET  /__control/artifacts/<n>           -> the bytes of upload n
//   POST /__control/artifacts?id=N&filename=F  body: bytes served by GET /api/v4/jobs/N/artifacts
//   POST /__control/artifact_redirect?value=1|0  GET answers 302 to /__storage/artifacts/N
//   Registration side (api spec §1.2-§1.6):
//   POST /__control/registration_tokens    body: legacy registration token (GR1348941...)
//   POST /__control/pats                   body: personal access token (glpat-...)
//   POST /__control/registration_disabled?value=1|0   POST /runners answers 410
//   POST /__control/token_lifetime?seconds=N  new/reset tokens expire after N s (0: never)
//   POST /__control/runner_orphaned?id=N&value=1|0    verify answers 422
//   GET  /__control/registered_runners     -> 200 [{id, token, description, tag_list, runner_type,
//        managers, deleted, maintenance_note, access_level, locked, run_untagged, paused,
//        maximum_timeout, group_id, project_id, token_expires_at, token_resets, orphaned}]
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
