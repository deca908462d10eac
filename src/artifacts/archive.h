// Artifact and cache archives (executors §5.7, §6.3; api spec §6.1): zip through libarchive,
// gzip members through zlib, raw bytes, and one extractor that refuses any entry that would
// land outside the destination (zip-slip, absolute names, escaping symlinks).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "artifacts/file_selection.h"
#include "artifacts/helper_log.h"
#include "util/result.h"

namespace glr {

enum class ArtifactFormat { kZip, kGzip, kRaw, kTarZstd };

// "" and "zip" -> zip; "gzip", "raw", "tarzstd". zipzstd is not supported yet (kInvalidInput).
Result<ArtifactFormat> parse_artifact_format(std::string_view text);
// The upload file name: base name of `name` ("" or "." -> "default") + ".zip" / ".gz" / "" /
// ".tar.zst".
std::string artifact_file_name(std::string_view name, ArtifactFormat format);

// CACHE_COMPRESSION_LEVEL / ARTIFACT_COMPRESSION_LEVEL: fastest (store), fast (1), default (5),
// slow (7), slowest (9), as fastzip's flate levels; anything else -> default.
int deflate_level(std::string_view compression_level);
// The same names for zstd (klauspost's speed levels): fastest/fast 1, default 3, slow 7, slowest 11.
int zstd_level(std::string_view compression_level);
// deflate_level or zstd_level, whichever `format` compresses with.
int compression_level_for(ArtifactFormat format, std::string_view compression_level);

// Writes the selection (paths relative to `wd`) to `out`:
// - zip: directories as "dir/", symlinks with their target as content, regular files deflated
//   at `level` (0 = stored), mtimes and modes kept; sockets, pipes and devices skipped with a
//   warning.
// - gzip: one member per regular file in path order, name = base name, comment = relative path
//   (non-ASCII or '%' -> "e:" + URL path escape), mtime = the file's; a directory is an error
//   `the "<p>" is not a regular file`.
// - raw: the bytes of the only file; more than one -> `only one file can be sent as raw`.
// - tarzstd: a pax tar of the same entries as zip, zstd-compressed at `level`.
Result<> write_archive(ArtifactFormat format, const std::filesystem::path& wd,
                       const FileSelection& files, const std::filesystem::path& out, int level,
                       HelperLog& log);

// Go url.PathEscape (used for gzip member names).
std::string url_path_escape(std::string_view s);

enum class DetectedFormat { kZip, kGzip, kZstd };
// By magic bytes: 28 B5 2F FD zstd, 1F 8B gzip, anything else zip.
Result<DetectedFormat> detect_archive_format(const std::filesystem::path& archive);

// Extracts `archive` (format by magic bytes) into `dest`, overwriting existing files. Refuses,
// with kInvalidInput and the entry name in the message, entries whose name is absolute or climbs
// out of `dest`, symlinks whose target resolves outside `dest`, and entries that would be written
// through a symlink pointing outside `dest`. Entries under .git/ give the official warning.
Result<> extract_archive(const std::filesystem::path& archive, const std::filesystem::path& dest,
                         HelperLog& log);

}  // namespace glr
