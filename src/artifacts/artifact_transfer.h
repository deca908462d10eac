// The artifact wire protocol (api spec §6.1, §6.2) as the helper speaks it: one multipart POST
// per archive with JOB-TOKEN and the format/type/expiry in the query string, and a GET that
// follows redirects. Retries and the messages users see in the job log (executors §6.5, §6.7).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>

#include "artifacts/archive.h"
#include "artifacts/helper_log.h"
#include "http/http_transport.h"
#include "util/clock.h"
#include "util/result.h"

namespace glr {

struct JobCredentials {
  std::string url{};    // the runner's GitLab URL, e.g. "https://gitlab.example.com/"
  std::string token{};  // the job token (never logged in full)
  int64_t id = 0;       // the job id
  // --tls-ca-file / --tls-cert-file / --tls-key-file (CI_SERVER_TLS_*), as HttpRequest takes them.
  std::string tls_ca_file{};
  std::string tls_cert_file{};
  std::string tls_key_file{};
};

struct ArtifactUpload {
  std::string name{};             // --name; the upload file name is derived from it
  std::string expire_in{};        // --expire-in
  std::string artifact_format{};  // --artifact-format as given ("" = zip)
  std::string artifact_type{};    // --artifact-type
  std::chrono::milliseconds timeout{std::chrono::hours(1)};
};

// "jobs/<id>/artifacts?artifact_format=..&artifact_type=..&expire_in=.." with the non-empty
// parameters in alphabetical order, form-encoded like Go's url.Values.Encode.
std::string artifact_upload_path(int64_t id, const ArtifactUpload& upload);
// Go url.QueryEscape.
std::string url_query_escape(std::string_view s);

// POSTs the already built archive at `file`. 201 -> ok. 307 + Location -> the base URL becomes
// the Location's scheme and host and the upload is retried. 403 -> "permission denied" and 413
// -> "too large", both without retry. 503 -> up to 6 tries; other statuses and transport
// errors -> up to 3 tries. Waits 1 s, doubling, at most 5 s between tries (through `clock`).
Result<> upload_artifact(HttpTransport& http, Clock& clock, JobCredentials credentials,
                         const ArtifactUpload& upload, const std::filesystem::path& file,
                         HelperLog& log, std::stop_token stop);

struct ArtifactDownload {
  bool direct_download = false;       // direct_download=true on the first attempt
  std::filesystem::path staging_dir{};  // where the archive is kept while downloading
  std::chrono::milliseconds timeout{std::chrono::hours(1)};
};

// GET /api/v4/jobs/<id>/artifacts with JOB-TOKEN, following redirects (the token is not sent to
// another host), then extracts the archive into `dest` (archive.h: safe extraction). 404 ->
// "file does not exist", 401/403 -> "permission denied", both at once; other failures are
// tried 3 times, 1 s apart.
Result<> download_artifacts(HttpTransport& http, Clock& clock, const JobCredentials& credentials,
                            const ArtifactDownload& options, const std::filesystem::path& dest,
                            HelperLog& log, std::stop_token stop);

// GET/PUT helpers for cache presigned URLs, following redirects. The body of a 2xx GET is
// written to `out`; `last_modified` receives the Last-Modified header.
struct PlainResponse {
  int status = 0;
  std::string last_modified{};
};
Result<PlainResponse> http_get_to_file(HttpTransport& http, const std::string& url,
                                       const std::filesystem::path& out,
                                       std::chrono::milliseconds timeout, std::stop_token stop);

}  // namespace glr
