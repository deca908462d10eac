// The helper subcommands (executors §5.4, §5.5, §6.1, §6.7): the stage scripts the shell
// executor generates call `<glrunner> artifacts-uploader|artifacts-downloader|cache-archiver|
// cache-extractor|read-logs` with the official helper's flags and environment variables, so the
// runner binary is its own helper. Parsing only; behaviour lives in artifacts/helper_commands.h.
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <fstream>
#include <memory>

#include "artifacts/helper_commands.h"
#include "cli/commands.h"
#include "http/curl_transport.h"
#include "http/retrying_transport.h"
#include "util/duration.h"
#include "util/strings.h"
#include "util/unique_fd.h"

extern char** environ;

namespace glr {
namespace {

namespace fs = std::filesystem;

void write_stderr(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::vector<std::string> process_env() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

// Maps the outcome to the official exit behaviour: an error is a "FATAL: <message>" line (unless
// the warning was printed already) and exit code 1.
int finish(const Result<>& result, HelperLog& log) {
  if (result) return 0;
  if (!result.error().message.empty()) log.fatal(result.error().message);
  return 1;
}

std::chrono::milliseconds go_duration_or(const std::string& text, std::chrono::milliseconds fallback) {
  if (text.empty()) return fallback;
  std::optional<Nanoseconds> d = parse_go_duration(text);
  if (!d || d->count() <= 0) return fallback;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

// The value of `key` in a runner-written env file (KEY="value" lines, §5.4 step 2).
std::string env_file_value(const std::string& path, std::string_view key) {
  if (path.empty()) return "";
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos || line.substr(0, eq) != key) continue;
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 1 < v.size()) {
        char c = v[++i];
        out.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c);
      } else {
        out.push_back(v[i]);
      }
    }
    return out;
  }
  return "";
}

struct CredentialFlags {
  int64_t id = 0;
  std::string token{};
  std::string url{};
  std::string tls_ca_file{};
  std::string tls_cert_file{};
  std::string tls_key_file{};
  JobCredentials value() const {
    return {.url = url, .token = token, .id = id, .tls_ca_file = tls_ca_file,
            .tls_cert_file = tls_cert_file, .tls_key_file = tls_key_file};
  }
};

void add_credential_flags(CLI::App* cmd, CredentialFlags& f) {
  cmd->add_option("--id", f.id, "The build ID to download and upload artifacts for")->envname("CI_JOB_ID");
  cmd->add_option("--token", f.token, "Build token")->envname("CI_JOB_TOKEN");
  cmd->add_option("--url", f.url, "GitLab CI URL")->envname("CI_SERVER_URL");
  cmd->add_option("--tls-ca-file", f.tls_ca_file,
                  "File containing the certificates to verify the peer when using HTTPS")
      ->envname("CI_SERVER_TLS_CA_FILE");
  cmd->add_option("--tls-cert-file", f.tls_cert_file,
                  "File containing certificate for TLS client auth with runner when using HTTPS")
      ->envname("CI_SERVER_TLS_CERT_FILE");
  cmd->add_option("--tls-key-file", f.tls_key_file,
                  "File containing private key for TLS client auth with runner when using HTTPS")
      ->envname("CI_SERVER_TLS_KEY_FILE");
}

// Flags the official helper has that glrunner accepts and does not use (yet).
struct IgnoredFlags {
  std::string transfer_meter_frequency{};
  bool verbose = false;
  bool ci_debug_trace = false;
  bool generate_metadata = false;
  int64_t runner_id = 0;
  std::string repo_url{}, repo_digest{}, job_name{}, executor_name{}, runner_name{};
  std::vector<std::string> metadata_parameters{};
  std::string started_at{}, ended_at{}, schema_version{};
  int retry = 0;
  std::string retry_time{};
  std::string gocloud_url{}, alternate_url{}, alternate_gocloud_url{}, head_url{},
      alternate_head_url{}, check_url{};
  int transfer_buffer_size = 0, chunk_size = 0, concurrency = 0;
};

void add_meter_flag(CLI::App* cmd, IgnoredFlags& f) {
  cmd->add_option("--transfer-meter-frequency", f.transfer_meter_frequency,
                  "If set to more than 0s it enables an interactive transfer meter")
      ->envname("TRANSFER_METER_FREQUENCY");
}

struct UploaderFlags {
  CredentialFlags creds{};
  std::vector<std::string> paths{}, exclude{};
  bool untracked = false;
  std::string name{}, expire_in{}, format{}, type{}, compression_level{};
  std::string timeout{}, response_header_timeout{}, staging_dir{};
  IgnoredFlags ignored{};
};

void add_uploader(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<UploaderFlags>();
  CLI::App* cmd = app.add_subcommand("artifacts-uploader", "create and upload build artifacts (internal)");
  add_credential_flags(cmd, f->creds);
  cmd->add_option("--path", f->paths, "Add paths to archive")->allow_extra_args(false);
  cmd->add_option("--exclude", f->exclude, "Exclude paths from the archive")->allow_extra_args(false);
  cmd->add_flag("--untracked", f->untracked, "Add git untracked files");
  cmd->add_flag("--verbose", f->ignored.verbose, "Detailed information");
  cmd->add_option("--name", f->name, "The name of the archive");
  cmd->add_option("--expire-in", f->expire_in, "When to expire artifacts");
  cmd->add_option("--artifact-format", f->format, "Format of generated artifacts");
  cmd->add_option("--artifact-type", f->type, "Type of generated artifacts");
  cmd->add_option("--compression-level", f->compression_level,
                  "Compression level (fastest, fast, default, slow, slowest)")
      ->envname("ARTIFACT_COMPRESSION_LEVEL");
  cmd->add_option("--timeout", f->timeout, "Timeout for the upload operation");
  cmd->add_option("--response-header-timeout", f->response_header_timeout,
                  "Timeout for response headers");
  cmd->add_flag("--ci-debug-trace", f->ignored.ci_debug_trace, "enable debug trace logging")
      ->envname("CI_DEBUG_TRACE");
  cmd->add_option("--archiver-staging-dir", f->staging_dir, "Directory to stage artifact archives")
      ->envname("ARCHIVER_STAGING_DIR");
  cmd->add_flag("--generate-artifacts-metadata", f->ignored.generate_metadata);
  cmd->add_option("--runner-id", f->ignored.runner_id);
  cmd->add_option("--repo-url", f->ignored.repo_url);
  cmd->add_option("--repo-digest", f->ignored.repo_digest);
  cmd->add_option("--job-name", f->ignored.job_name);
  cmd->add_option("--executor-name", f->ignored.executor_name);
  cmd->add_option("--runner-name", f->ignored.runner_name);
  cmd->add_option("--metadata-parameter", f->ignored.metadata_parameters)->allow_extra_args(false);
  cmd->add_option("--started-at", f->ignored.started_at);
  cmd->add_option("--ended-at", f->ignored.ended_at);
  cmd->add_option("--schema-version", f->ignored.schema_version);
  add_meter_flag(cmd, f->ignored);
  cmd->callback([f, &global] {
    HelperLog log(write_stderr);
    std::error_code ec;
    fs::path wd = fs::current_path(ec);
    if (ec) {
      log.fatal("Unable to get working directory");
      global.exit_code = 1;
      return;
    }
    CurlTransport curl;
    SystemClock clock;
    RetryingTransport http(curl, clock);
    ArtifactsUploaderOptions o{
        .credentials = f->creds.value(),
        .upload = {.name = f->name.empty() ? std::string("artifacts") : f->name,
                   .expire_in = f->expire_in,
                   .artifact_format = f->format,
                   .artifact_type = f->type,
                   .timeout = go_duration_or(f->timeout, std::chrono::hours(1))},
        .selection = {.wd = wd, .paths = f->paths, .exclude = f->exclude,
                      .untracked = f->untracked, .git_command = "git", .env = process_env()},
        .compression_level = f->compression_level,
        .staging_dir = f->staging_dir};
    global.exit_code = finish(run_artifacts_uploader(o, http, clock, log, {}), log);
  });
}

struct DownloaderFlags {
  CredentialFlags creds{};
  bool direct_download = false;
  std::string staging_dir{};
  IgnoredFlags ignored{};
};

void add_downloader(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<DownloaderFlags>();
  CLI::App* cmd = app.add_subcommand("artifacts-downloader", "download and extract build artifacts (internal)");
  add_credential_flags(cmd, f->creds);
  cmd->add_flag("--direct-download", f->direct_download,
                "Support direct download for data stored externally to GitLab")
      ->envname("FF_USE_DIRECT_DOWNLOAD");
  cmd->add_option("--archiver-staging-dir", f->staging_dir, "Directory to stage artifact archives")
      ->envname("ARCHIVER_STAGING_DIR");
  cmd->add_option("--retry", f->ignored.retry, "How many times to retry upload");
  cmd->add_option("--retry-time", f->ignored.retry_time, "How long to wait between retries");
  add_meter_flag(cmd, f->ignored);
  cmd->callback([f, &global] {
    HelperLog log(write_stderr);
    std::error_code ec;
    fs::path wd = fs::current_path(ec);
    if (ec) {
      log.fatal("Unable to get working directory");
      global.exit_code = 1;
      return;
    }
    CurlTransport curl;
    SystemClock clock;
    RetryingTransport http(curl, clock);
    ArtifactsDownloaderOptions o{
        .credentials = f->creds.value(),
        .download = {.direct_download = f->direct_download, .staging_dir = f->staging_dir,
                     .timeout = std::chrono::hours(1)},
        .wd = wd};
    global.exit_code = finish(run_artifacts_downloader(o, http, clock, log, {}), log);
  });
}

struct CacheFlags {
  std::string file{}, alternate_file{}, url{}, metadata{}, compression_level{}, env_file{},
      compression_format{};
  std::vector<std::string> paths{}, exclude{}, headers{};
  bool untracked = false;
  int timeout = 10;
  int64_t max_size = 0;
  IgnoredFlags ignored{};
};

void add_tuning_flags(CLI::App* cmd, IgnoredFlags& f) {
  cmd->add_option("--transfer-buffer-size", f.transfer_buffer_size)->envname("CACHE_TRANSFER_BUFFER_SIZE");
  cmd->add_option("--chunk-size", f.chunk_size)->envname("CACHE_CHUNK_SIZE");
  cmd->add_option("--concurrency", f.concurrency)->envname("CACHE_CONCURRENCY");
  cmd->add_option("--gocloud-url", f.gocloud_url,
                  "Go Cloud URL of remote cache resource (requires credentials)");
}

void add_cache_archiver(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<CacheFlags>();
  CLI::App* cmd = app.add_subcommand("cache-archiver", "create and upload cache artifacts (internal)");
  cmd->add_option("--file", f->file, "The path to file");
  cmd->add_option("--alternate-file", f->alternate_file,
                  "(temporary) Alternate local cache file path to rename to --file if --file does not exist");
  cmd->add_option("--url", f->url, "URL of remote cache resource (pre-signed URL)");
  cmd->add_option("--check-url", f->ignored.check_url, "(temporary) Pre-signed HEAD URL");
  cmd->add_option("--timeout", f->timeout, "Overall timeout for cache uploading request (in minutes)");
  cmd->add_option("--header", f->headers, "HTTP headers to send with PUT request (in form of 'key:value')")->allow_extra_args(false);
  cmd->add_option("--metadata", f->metadata, "Metadata for the cache artifact (JSON encoded key-value-pairs)")
      ->envname("CACHE_METADATA");
  cmd->add_option("--compression-level", f->compression_level,
                  "Compression level (fastest, fast, default, slow, slowest)")
      ->envname("CACHE_COMPRESSION_LEVEL");
  cmd->add_option("--compression-format", f->compression_format,
                  "Compression format (zip, tarzstd, zipzstd)")
      ->envname("CACHE_COMPRESSION_FORMAT");
  cmd->add_option("--max-uploaded-archive-size", f->max_size,
                  "Limit the size of the cache archive being uploaded to cloud storage, in bytes.")
      ->envname("CACHE_MAX_UPLOADED_ARCHIVE_SIZE");
  cmd->add_option("--env-file", f->env_file, "Filename containing environment variables to read");
  cmd->add_option("--path", f->paths, "Add paths to archive")->allow_extra_args(false);
  cmd->add_option("--exclude", f->exclude, "Exclude paths from the archive")->allow_extra_args(false);
  cmd->add_flag("--untracked", f->untracked, "Add git untracked files");
  cmd->add_flag("--verbose", f->ignored.verbose, "Detailed information");
  add_tuning_flags(cmd, f->ignored);
  add_meter_flag(cmd, f->ignored);
  cmd->callback([f, &global] {
    HelperLog log(write_stderr);
    std::error_code ec;
    fs::path wd = fs::current_path(ec);
    CurlTransport http;
    SystemClock clock;
    std::string metadata = f->metadata;
    if (metadata.empty()) metadata = env_file_value(f->env_file, "CACHE_METADATA");
    CacheArchiverOptions o{.wd = wd, .file = f->file, .alternate_file = f->alternate_file,
                           .paths = f->paths, .untracked = f->untracked, .git_env = process_env(),
                           .url = f->url, .headers = f->headers, .metadata = metadata,
                           .compression_level = f->compression_level,
                           .compression_format = f->compression_format,
                           .max_uploaded_archive_size = f->max_size, .timeout_minutes = f->timeout};
    global.exit_code = finish(run_cache_archiver(o, http, clock, log, {}), log);
  });
}

void add_cache_extractor(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<CacheFlags>();
  CLI::App* cmd = app.add_subcommand("cache-extractor", "download and extract cache artifacts (internal)");
  cmd->add_option("--file", f->file, "The file containing your cache artifacts");
  cmd->add_option("--url", f->url, "URL of remote cache resource");
  cmd->add_option("--alternate-url", f->ignored.alternate_url, "(temporary) Alternate pre-signed URL");
  cmd->add_option("--alternate-gocloud-url", f->ignored.alternate_gocloud_url,
                  "(temporary) Alternate Go Cloud URL");
  cmd->add_option("--head-url", f->ignored.head_url, "(temporary) HEAD pre-signed URL");
  cmd->add_option("--alternate-head-url", f->ignored.alternate_head_url,
                  "(temporary) HEAD pre-signed URL for the alternate cache");
  cmd->add_option("--timeout", f->timeout, "Overall timeout for cache downloading request (in minutes)");
  cmd->add_option("--env-file", f->env_file, "Filename containing environment variables to read");
  add_tuning_flags(cmd, f->ignored);
  add_meter_flag(cmd, f->ignored);
  cmd->callback([f, &global] {
    HelperLog log(write_stderr);
    std::error_code ec;
    fs::path wd = fs::current_path(ec);
    if (ec) {
      log.fatal("Unable to get working directory");
      global.exit_code = 1;
      return;
    }
    CurlTransport http;
    SystemClock clock;
    CacheExtractorOptions o{.wd = wd, .file = f->file, .url = f->url, .timeout_minutes = f->timeout};
    global.exit_code = finish(run_cache_extractor(o, http, clock, log, {}), log);
  });
}

// read-logs (executors §7.6, the official commands/helpers/read_logs.go): follows the
// Kubernetes attach strategy's log file from --offset, printing "<offset after the line> <line>"
// so the runner can resume a dropped stream where it stopped. Runs until killed; exit 100 when
// the file is deleted.
int read_logs(const std::string& path, long long offset, std::chrono::nanoseconds wait_timeout) {
  long long attempts = wait_timeout / std::chrono::seconds(1);
  if (attempts < 1) {
    std::printf("error reading logs from %s: no attempts to open log file configured\n", path.c_str());
    return 1;
  }
  UniqueFd fd;
  for (long long i = 0; i < attempts; ++i) {
    fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.valid()) break;
    if (errno != ENOENT) {
      std::printf("error reading logs from %s: %s\n", path.c_str(), std::strerror(errno));
      return 1;
    }
    ::sleep(1);
  }
  if (!fd.valid()) {
    std::printf("error reading logs from %s: timeout waiting for file to be created\n", path.c_str());
    return 1;
  }
  if (::lseek(fd.get(), offset, SEEK_SET) < 0) {
    std::printf("error reading logs from %s: %s\n", path.c_str(), std::strerror(errno));
    return 1;
  }
  std::string pending;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::printf("error reading logs from %s: %s\n", path.c_str(), std::strerror(errno));
      return 1;
    }
    pending.append(buf, static_cast<size_t>(n));
    std::string out;
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      offset += static_cast<long long>(nl + 1 - start);
      out.append(std::to_string(offset)).append(1, ' ').append(pending, start, nl + 1 - start);
    }
    pending.erase(0, start);
    // Like the official reader, a line without its newline yet is sent as it is (with a
    // newline the runner removes again), and so is one longer than the buffer.
    if ((n == 0 && !pending.empty()) || pending.size() >= sizeof buf) {
      offset += static_cast<long long>(pending.size());
      out.append(std::to_string(offset)).append(1, ' ').append(pending).append(1, '\n');
      pending.clear();
    }
    if (!out.empty()) {
      if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
        return 1;  // nobody reads any more
      }
    }
    if (n == 0) {
      struct stat st{};
      if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return 100;
      ::usleep(500 * 1000);
    }
  }
}

void add_read_logs(CLI::App& app, GlobalOptions& global) {
  struct Flags {
    std::string path;
    long long offset = 0;
    std::string wait_file_timeout = "1s";
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "read-logs", "reads job logs from a file, used by kubernetes executor (internal)");
  cmd->add_option("--path", f->path, "");
  cmd->add_option("--offset", f->offset, "");
  cmd->add_option("--wait-file-timeout", f->wait_file_timeout, "");
  cmd->callback([f, &global] {
    std::optional<std::chrono::nanoseconds> timeout = parse_go_duration(f->wait_file_timeout);
    if (!timeout) {
      write_stderr("invalid --wait-file-timeout \"" + f->wait_file_timeout + "\"\n");
      global.exit_code = 1;
      return;
    }
    global.exit_code = read_logs(f->path, f->offset, *timeout);
  });
}

}  // namespace

void add_helper_commands(CLI::App& app, GlobalOptions& global) {
  add_read_logs(app, global);
  add_uploader(app, global);
  add_downloader(app, global);
  add_cache_archiver(app, global);
  add_cache_extractor(app, global);
}

}  // namespace glr
