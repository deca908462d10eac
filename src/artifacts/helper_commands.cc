// The helper subcommands' behaviour, ported from commands/helpers/*.go (messages verbatim).
#include "artifacts/helper_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <random>
#include <sstream>

#include "artifacts/archive.h"
#include "artifacts/flat_json.h"
#include "util/strings.h"

namespace glr {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

fs::path in_wd(const fs::path& wd, const std::string& p) {
  fs::path path(p);
  return path.is_absolute() ? path : wd / path;
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

struct RemoveOnExit {
  fs::path path;
  ~RemoveOnExit() {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
  }
};

void set_file_mtime(const fs::path& p, std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(ns / 1000000000);
  times[0].tv_nsec = static_cast<long>(ns % 1000000000);
  times[1] = times[0];
  ::utimensat(AT_FDCWD, p.c_str(), times, 0);
}

std::string clean_url(const std::string& url) { return url.substr(0, url.find('?')); }

}  // namespace

std::string format_http_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  std::string s(trim(text));
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::string cache_metadata_json(std::string_view metadata) {
  auto fields = parse_flat_json_object(metadata);
  if (!fields) return "{}";
  std::vector<std::string> parts;
  for (const auto& [k, v] : *fields) {
    parts.push_back("\"" + json_escape(to_lower(k)) + "\":\"" + json_escape(v) + "\"");
  }
  return "{" + join(parts, ",") + "}";
}

Result<> run_artifacts_uploader(const ArtifactsUploaderOptions& options, HttpTransport& http,
                                Clock& clock, HelperLog& log, std::stop_token stop) {
  if (options.credentials.url.empty() || options.credentials.token.empty()) {
    return fail(ErrorKind::kInvalidInput, "Missing runner credentials");
  }
  if (options.credentials.id <= 0) return fail(ErrorKind::kInvalidInput, "Missing build ID");
  Result<ArtifactFormat> format = parse_artifact_format(options.upload.artifact_format);
  if (!format) return fail(format.error());
  FileSelection files = select_files(options.selection, log);
  if (files.empty()) {
    log.error("No files to upload");
    return {};
  }
  fs::path staging = options.staging_dir.empty() ? fs::temp_directory_path() : options.staging_dir;
  std::error_code ec;
  fs::create_directories(staging, ec);
  RemoveOnExit archive{staging / ("artifacts_" + random_suffix())};
  if (Result<> w = write_archive(*format, options.selection.wd, files, archive.path,
                                 compression_level_for(*format, options.compression_level), log);
      !w) {
    return w;
  }
  return upload_artifact(http, clock, options.credentials, options.upload, archive.path, log, stop);
}

Result<> run_artifacts_downloader(const ArtifactsDownloaderOptions& options, HttpTransport& http,
                                  Clock& clock, HelperLog& log, std::stop_token stop) {
  bool missing = false;
  if (options.credentials.url.empty()) {
    log.warning("Missing URL (--url)");
    missing = true;
  }
  if (options.credentials.token.empty()) {
    log.warning("Missing runner credentials (--token)");
    missing = true;
  }
  if (options.credentials.id <= 0) {
    log.warning("Missing build ID (--id)");
    missing = true;
  }
  if (missing) return fail(ErrorKind::kInvalidInput, "Incomplete arguments");
  return download_artifacts(http, clock, options.credentials, options.download, options.wd, log,
                            stop);
}

Result<> run_cache_archiver(const CacheArchiverOptions& options, HttpTransport& http, Clock& clock,
                            HelperLog& log, std::stop_token stop) {
  if (options.file.empty()) return fail(ErrorKind::kInvalidInput, "Missing --file");
  const fs::path file = in_wd(options.wd, options.file);
  std::error_code ec;
  if (!options.alternate_file.empty() && options.alternate_file != options.file &&
      !fs::exists(file, ec) && fs::exists(in_wd(options.wd, options.alternate_file), ec)) {
    fs::create_directories(file.parent_path(), ec);
    fs::rename(in_wd(options.wd, options.alternate_file), file, ec);
    if (ec) {
      log.warning("Failed to rename alternate cache file to primary", {{"error", ec.message()}});
    } else {
      log.info("Renamed alternate cache file to primary");
    }
  }

  FileSelection files = select_files({.wd = options.wd,
                                      .paths = options.paths,
                                      .exclude = {},
                                      .untracked = options.untracked,
                                      .git_command = "git",
                                      .env = options.git_env},
                                     log);
  if (files.empty()) {
    log.warning("No files to cache.");
    return {};
  }
  if (std::optional<std::chrono::system_clock::time_point> mtime = lstat_mtime(file);
      mtime && !any_changed_since(files, *mtime)) {
    log.info("Archive is up to date!");
    return {};
  }

  fs::create_directories(file.parent_path(), ec);
  if (ec) return fail(ErrorKind::kIo, fmt::format("mkdir {}: {}", file.parent_path().string(), ec.message()));
  RemoveOnExit tmp{file.parent_path() / ("archive_" + random_suffix())};
  // CACHE_COMPRESSION_FORMAT: zip (default) or tarzstd; the extractor tells them apart by magic.
  const ArtifactFormat format =
      options.compression_format == "tarzstd" ? ArtifactFormat::kTarZstd : ArtifactFormat::kZip;
  // Unset CACHE_COMPRESSION_LEVEL means "fastest" (stored) here, not the official "default"
  // (deflate 5): a cache is written on every job and read back soon, so speed wins over size
  // (issue 5: 1 GB out in under 4.2 s; deflate 1 took 11 s on the bench VM). Set it to fast ...
  // slowest to trade time for size; incompressible entries are then still stored.
  const std::string level =
      options.compression_level.empty() ? std::string("fastest") : options.compression_level;
  if (Result<> w = write_archive(format, options.wd, files, tmp.path,
                                 compression_level_for(format, level), log);
      !w) {
    return w;
  }
  fs::rename(tmp.path, file, ec);
  if (ec) return fail(ErrorKind::kIo, fmt::format("rename {}: {}", file.string(), ec.message()));
  tmp.path.clear();
  {
    std::ofstream meta(file.parent_path() / "metadata.json", std::ios::trunc);
    meta << cache_metadata_json(options.metadata);
    if (!meta) return fail(ErrorKind::kIo, "write metadata.json");
  }

  if (options.url.empty()) {
    log.info("No URL provided, cache will not be uploaded to shared cache server. Cache will be "
             "stored only locally.");
    return {};
  }
  const int64_t size = static_cast<int64_t>(fs::file_size(file, ec));
  if (options.max_uploaded_archive_size != 0 && size > options.max_uploaded_archive_size) {
    log.info(fmt::format("Cache archive size ({}) is too big (Limit is set to {}). Cache will be "
                         "stored only locally.",
                         size, options.max_uploaded_archive_size));
    return {};
  }
  log.info("Uploading " + file.filename().string() + " to " + clean_url(options.url));
  // Streamed from the archive file: a 1 GB cache is never held in memory.
  HttpRequest req{.method = "PUT", .url = options.url, .headers = {}, .body = {},
                  .body_file = file.string(), .timeout = std::chrono::minutes(options.timeout_minutes), .ca_file = {},
                  .cert_file = {}, .key_file = {}};
  bool content_type = false;
  for (const std::string& h : options.headers) {
    size_t colon = h.find(':');
    if (colon == std::string::npos) continue;
    std::string name(trim(std::string_view(h).substr(0, colon)));
    content_type = content_type || iequals(name, "Content-Type");
    req.headers.push_back({name, std::string(trim(std::string_view(h).substr(colon + 1)))});
  }
  if (!content_type) req.headers.push_back({"Content-Type", "application/octet-stream"});
  if (std::optional<std::chrono::system_clock::time_point> m = lstat_mtime(file)) {
    req.headers.push_back({"Last-Modified", format_http_date(*m)});
  }
  std::string error;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    Result<HttpResponse> resp = http.send(req, stop);
    if (resp && resp->status >= 200 && resp->status <= 299) return {};
    if (!resp && resp.error().kind == ErrorKind::kCanceled) return fail(resp.error());
    error = resp ? fmt::format("received: {}", resp->status) : resp.error().message;
    if (resp && resp->status < 500) break;  // not retried
    if (attempt < 3) {
      log.warning("Retrying...", {{"error", error}});
      if (!clock.sleep_for(seconds(1), stop)) return fail(ErrorKind::kCanceled, "canceled");
    }
  }
  return fail(ErrorKind::kUnavailable, error);
}

Result<> run_cache_extractor(const CacheExtractorOptions& options, HttpTransport& http,
                             Clock& clock, HelperLog& log, std::stop_token stop) {
  if (options.file.empty()) {
    log.warning("Missing cache file");
    return fail(ErrorKind::kInvalidInput, "");
  }
  const fs::path file = in_wd(options.wd, options.file);
  std::error_code ec;
  if (!options.url.empty()) {
    fs::create_directories(file.parent_path(), ec);
    RemoveOnExit tmp{file.parent_path() / ("cache_" + random_suffix())};
    std::string error;
    for (int attempt = 1; attempt <= 3; ++attempt) {
      log.info("Downloading " + file.filename().string() + " from " + clean_url(options.url));
      Result<PlainResponse> r = http_get_to_file(http, options.url, tmp.path,
                                                 std::chrono::minutes(options.timeout_minutes), stop);
      if (!r && r.error().kind == ErrorKind::kCanceled) return fail(r.error());
      if (r && r->status == 404) {
        log.warning("file does not exist");
        return fail(ErrorKind::kNotFound, "");
      }
      if (r && r->status >= 200 && r->status <= 299) {
        std::optional<std::chrono::system_clock::time_point> remote = parse_http_date(r->last_modified);
        std::optional<std::chrono::system_clock::time_point> local = lstat_mtime(file);
        if (remote && local && *local >= *remote) {
          log.info(file.filename().string() + " is up to date");
        } else {
          fs::rename(tmp.path, file, ec);
          if (ec) return fail(ErrorKind::kIo, "rename " + file.string() + ": " + ec.message());
          tmp.path.clear();
          if (remote) set_file_mtime(file, *remote);
        }
        error.clear();
        break;
      }
      error = r ? fmt::format("received: {}", r->status) : r.error().message;
      if (r && r->status < 500) break;
      if (attempt < 3 && !clock.sleep_for(seconds(1), stop)) {
        return fail(ErrorKind::kCanceled, "canceled");
      }
    }
    if (!error.empty()) {
      log.warning(error);
      return fail(ErrorKind::kUnavailable, "");
    }
  } else {
    log.info("No URL provided, cache will not be downloaded from shared cache server. Instead a "
             "local version of cache will be extracted.");
  }
  if (!fs::exists(file, ec)) {
    log.warning("Cache file does not exist");
    return fail(ErrorKind::kNotFound, "");
  }
  return extract_archive(file, options.wd, log);
}

}  // namespace glr
