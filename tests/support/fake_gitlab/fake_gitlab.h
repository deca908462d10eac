// A fake GitLab (Rails + Workhorse) on 127.0.0.1 for integration and e2e tests: it speaks the
// runner-facing API of api spec §0.7 (job request, PUT job, PATCH trace) and git smart HTTP, and
// lets a test script faults, cancels and 202/416 answers deterministically.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glr {

// Which runner-facing endpoint a FaultRule matches.
enum class FakeEndpoint {
  kAny,         // every request except the /__control/ API
  kRequestJob,  // POST /api/v4/jobs/request
  kUpdateJob,   // PUT /api/v4/jobs/:id
  kPatchTrace,  // PATCH /api/v4/jobs/:id/trace
  kGit,         // git smart HTTP (info/refs, git-upload-pack)
  kArtifacts,   // POST/GET /api/v4/jobs/:id/artifacts and the /__storage/ redirect target
};

enum class FaultAction {
  kRespond,          // answer `status` (+ Retry-After) without touching any state
  kCloseConnection,  // drop the connection without an answer
  kDelay,            // wait `delay`, then handle the request normally
};

// One deterministic fault. Every rule counts the requests that match `endpoint` (whether or not an
// earlier rule fired for them); the rule fires for matches number skip+1 .. skip+count
// (count < 0: forever). The first rule in injection order that fires decides.
// Example: the 3rd PATCH only -> {.endpoint = kPatchTrace, .skip = 2, .count = 1}.
struct FaultRule {
  FakeEndpoint endpoint = FakeEndpoint::kAny;
  int skip = 0;
  int count = 1;
  FaultAction action = FaultAction::kRespond;
  int status = 500;
  std::optional<int> retry_after_seconds{};  // adds `Retry-After: <n>` to a kRespond answer
  std::chrono::milliseconds delay{0};        // for kDelay
  std::string body{};                        // for kRespond; default {"message":"<status>"}
};

// What the server knows about one job. Counters include only requests that reached the job logic
// (requests answered by a fault or refused before routing are visible only in requests()).
struct JobRecord {
  int64_t id = 0;
  std::string token{};
  std::string state{};  // pending, running, canceling, success, failed, canceled
  std::string failure_reason{};
  int exit_code = 0;
  std::string trace{};  // bytes stored through PATCH
  // From the accepted (200) final PUT: output.checksum (or the legacy top-level checksum),
  // output.bytesize (-1 when absent) and whether the checksum equals crc32 of `trace`.
  std::string checksum{};
  int64_t bytesize = -1;
  bool checksum_matches = false;
  bool final_update_received = false;
  int puts = 0;
  int final_puts = 0;  // PUTs with state success/failed, including those answered 202
  int patches = 0;
  std::vector<std::string> content_ranges{};  // Content-Range of every PATCH, in order
  int range_mismatches = 0;                   // PATCHes answered 416
  friend bool operator==(const JobRecord&, const JobRecord&) = default;
};

// One request as it arrived on the wire (after chunked decoding).
struct RecordedRequest {
  std::string method{};
  std::string target{};                                     // path and query
  std::vector<std::pair<std::string, std::string>> headers{};  // in arrival order
  std::string body{};
  // Value of the first header named `name` (case-insensitive); "" when absent.
  std::string header(std::string_view name) const;
};

// Thread-safe. Serves on its own threads (one acceptor, one per connection, HTTP/1.1 keep-alive)
// from construction until destruction. The destructor closes the listener and every live socket,
// wakes held long polls and joins all threads promptly.
class FakeGitLab {
 public:
  struct Options {
    uint16_t port = 0;                     // 0: any free port
    std::chrono::milliseconds long_poll{0};  // Workhorse apiCiLongPollingDuration; 0 = off
    bool control_api = false;              // serve /__control/ (the fake-gitlab executable)
    int64_t first_job_id = 9876543210;     // above 2^31 on purpose (api spec §0.6)
  };

  FakeGitLab();  // Options{}
  explicit FakeGitLab(Options options);
  FakeGitLab(const FakeGitLab&) = delete;
  FakeGitLab& operator=(const FakeGitLab&) = delete;
  ~FakeGitLab();

  // Empty / 0 if the listener could not be set up (the constructor never throws on that).
  std::string url() const;  // "http://127.0.0.1:PORT/"
  uint16_t port() const;

  void add_runner(std::string token);

  // Replaces {{JOB_TOKEN}}, {{JOB_ID}}, {{URL}} (url()) and {{HOST}} ("127.0.0.1:PORT") in the
  // text, parses it, sets `id`, `token` and `job_info.id`, queues the job as pending and changes
  // the queue's last-update value. Returns the job id, or -1 if the text is not a JSON object.
  int64_t enqueue_job(std::string payload_json);
  std::string job_token(int64_t id) const;  // "" for an unknown id
  JobRecord job(int64_t id) const;          // default JobRecord for an unknown id
  // Blocks until pred(job(id)) holds or `timeout` passes; returns the last pred value. pred runs
  // without the server lock (it may call this object) and is rechecked on every job change and
  // at least every 25 ms, so it may also depend on things outside the server (files).
  bool wait_for(int64_t id, std::function<bool(const JobRecord&)> pred,
                std::chrono::milliseconds timeout) const;

  // graceful: a running job becomes `canceling` (answers carry Job-Status: canceling) and turns
  // `canceled` on the runner's final PUT. Hard, or a pending job: `canceled` at once; PUT/PATCH
  // then get 403 + Job-Status: canceled.
  void cancel_job(int64_t id, bool graceful);

  void inject(FaultRule rule);
  void clear_faults();
  // The next n final PUTs get 202 + X-GitLab-Trace-Update-Interval: 1 instead of being applied.
  void set_final_update_202_count(int n);
  // The next PATCH gets 416 with the real `Range: 0-<size>` whatever its Content-Range says.
  void force_trace_range_mismatch_once();
  void set_trace_update_interval(int seconds);  // X-GitLab-Trace-Update-Interval; default 3
  void set_long_poll(std::chrono::milliseconds duration);

  // The current opaque X-GitLab-Last-Update value of the job queue.
  std::string last_update() const;
  // From the last authenticated POST /jobs/request: `system_id` and `info.features` as JSON text.
  std::string last_system_id() const;
  std::string last_features_json() const;
  // Every request except /__control/ ones, in arrival order.
  std::vector<RecordedRequest> requests() const;

  // Serves `/<url_path>/info/refs` and `/<url_path>/git-upload-pack` (url_path like
  // "group/project.git") from the repository at `repo_dir` through `git http-backend`.
  // Requires Basic auth gitlab-ci-token:<token of a running or canceling job>.
  void add_git_repo(std::string url_path, std::filesystem::path repo_dir);

  // Registration side (api spec §1.2-§1.6): legacy registration tokens, personal access
  // tokens for POST /user/runners, and the runners created through them.
  void add_registration_token(std::string token);
  void add_personal_access_token(std::string token);
  void set_registration_disabled(bool disabled);  // POST /runners answers 410
  // Tokens created or reset from now on expire after `lifetime` (0: never, the default);
  // an expired token is refused with 403 like GitLab does.
  void set_token_lifetime(std::chrono::seconds lifetime);
  // Verify for this runner answers 422 "Runner is orphaned" (its project/group is gone).
  void set_runner_orphaned(int64_t id, bool orphaned);
  struct RegisteredRunner {
    int64_t id = 0;
    std::string token{};
    std::string description{};
    std::string tag_list{};
    std::string runner_type{};
    std::vector<std::string> managers{};  // system_ids that verified with the token
    bool deleted = false;
    // What the create call (POST /runners or /user/runners) carried.
    std::string maintenance_note{};
    std::string access_level{};
    bool locked = false;
    bool run_untagged = true;
    bool paused = false;
    int64_t maximum_timeout = 0;
    int64_t group_id = 0;
    int64_t project_id = 0;
    std::string token_expires_at{};  // RFC 3339, empty when the token does not expire
    int token_resets = 0;
    bool orphaned = false;
  };
  std::vector<RegisteredRunner> registered_runners() const;

  // Artifacts (api spec §6.1, §6.2). POST /jobs/:id/artifacts needs JOB-TOKEN of job :id and one
  // multipart part named `file`; it is recorded (201 body "201") and, when its artifact_type is
  // `archive` or absent, stored for GET. GET needs the JOB-TOKEN of any known job; 404 when
  // nothing is stored.
  struct UploadedArtifact {
    int64_t job_id = 0;
    std::string query{};         // the raw query string, e.g. "artifact_format=zip&artifact_type=archive"
    std::string field_name{};    // the multipart part's name
    std::string filename{};      // the part's filename
    std::string content_type{};  // the part's Content-Type
    std::string content{};       // the part's bytes
    std::string request_content_type{};  // the request's Content-Type header
    std::string transfer_encoding{};     // the request's Transfer-Encoding header
  };
  std::vector<UploadedArtifact> uploaded_artifacts() const;
  // Serves `content` for GET /jobs/:id/artifacts (as if uploaded).
  void set_artifact(int64_t id, std::string filename, std::string content);
  // GET /jobs/:id/artifacts answers 302 to /__storage/artifacts/:id (no token needed there).
  void set_artifact_download_redirect(bool redirect);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// crc32:%08x (CRC-32/IEEE) as the runner reports it in output.checksum (api spec §5.4).
std::string trace_checksum(std::string_view bytes);

}  // namespace glr
