// The four helper subcommands the generated stage scripts call (executors §5.4, §5.5, §6.1,
// §6.7): artifacts-uploader, artifacts-downloader, cache-archiver and cache-extractor, as
// functions over values so that the CLI (cli/cmd_helpers.cc) only parses flags.
//
// Every function logs through HelperLog like the official helper. An Error means the official
// helper would end with a fatal line and exit 1: the CLI prints "FATAL: <message>" unless the
// message is empty (the warning was already printed, as the official `warningln` does).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "artifacts/artifact_transfer.h"
#include "artifacts/file_selection.h"
#include "artifacts/helper_log.h"
#include "http/http_transport.h"
#include "util/clock.h"
#include "util/result.h"

namespace glr {

struct ArtifactsUploaderOptions {
  JobCredentials credentials{};
  ArtifactUpload upload{};
  FileSelectionOptions selection{};   // wd, --path, --exclude, --untracked
  std::string compression_level{};    // --compression-level / ARTIFACT_COMPRESSION_LEVEL
  std::filesystem::path staging_dir{};  // ARCHIVER_STAGING_DIR, else the temp dir
};
// Selects, archives (zip/gzip/raw) and uploads. No files -> "ERROR: No files to upload", ok.
Result<> run_artifacts_uploader(const ArtifactsUploaderOptions& options, HttpTransport& http,
                                Clock& clock, HelperLog& log, std::stop_token stop);

struct ArtifactsDownloaderOptions {
  JobCredentials credentials{};
  ArtifactDownload download{};
  std::filesystem::path wd{};
};
Result<> run_artifacts_downloader(const ArtifactsDownloaderOptions& options, HttpTransport& http,
                                  Clock& clock, HelperLog& log, std::stop_token stop);

struct CacheArchiverOptions {
  std::filesystem::path wd{};
  std::string file{};            // --file, relative to wd or absolute
  std::string alternate_file{};  // --alternate-file
  std::vector<std::string> paths{};
  bool untracked = false;
  std::vector<std::string> git_env{};  // environment for `git ls-files`
  std::string url{};                   // --url: presigned PUT
  std::vector<std::string> headers{};  // --header "Name: value"
  std::string metadata{};              // --metadata / CACHE_METADATA (flat JSON object)
  std::string compression_level{};     // CACHE_COMPRESSION_LEVEL
  std::string compression_format{};    // CACHE_COMPRESSION_FORMAT: zip (default) or tarzstd
  int64_t max_uploaded_archive_size = 0;
  int timeout_minutes = 10;
};
// Rename of the alternate file, selection, "No files to cache." (ok), "Archive is up to date!"
// (ok, nothing written or uploaded), archive through a temp file + rename, metadata.json, then
// the optional PUT (3 tries, 1 s apart, on transport errors and 5xx).
Result<> run_cache_archiver(const CacheArchiverOptions& options, HttpTransport& http, Clock& clock,
                            HelperLog& log, std::stop_token stop);

struct CacheExtractorOptions {
  std::filesystem::path wd{};
  std::string file{};
  std::string url{};  // --url: presigned GET
  int timeout_minutes = 10;
};
// Optional download (404 -> "WARNING: file does not exist", exit 1; a local archive not older
// than Last-Modified is kept: "cache.zip is up to date"), then extraction into wd. A missing
// archive -> "WARNING: Cache file does not exist", exit 1.
Result<> run_cache_extractor(const CacheExtractorOptions& options, HttpTransport& http,
                             Clock& clock, HelperLog& log, std::stop_token stop);

// metadata.json content: the flat JSON object `metadata` with lower-cased keys ("{}" when empty
// or malformed).
std::string cache_metadata_json(std::string_view metadata);

// RFC 7231 HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT") <-> time point; nullopt when malformed.
std::string format_http_date(std::chrono::system_clock::time_point t);
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

}  // namespace glr
