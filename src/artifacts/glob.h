// Artifact and cache paths use doublestar glob semantics (executors §6.2), which neither
// fnmatch nor std::filesystem offer: `**` spans directories, `{a,b}` alternates.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace glr {

// True when `path` contains a glob metacharacter (`* ? [ {`), as the official helper tests.
bool has_glob_meta(std::string_view path);

// doublestar.Match: `/`-separated pattern against a `/`-separated relative path.
//   `*`  any run of characters except `/`      `?`  one character except `/`
//   `[abc]`, `[a-z]`, `[^x]`, `[!x]`  one character of a class (never `/`)
//   `{a,b}` alternatives (may nest)              `\x` the character x
//   `**` as a whole segment: zero or more segments; elsewhere it acts like `*`.
// Leading dots are not special. A malformed pattern (unclosed `[` or `{`) matches nothing.
bool doublestar_match(std::string_view pattern, std::string_view path);

// Splits a pattern into the literal directory before its first meta segment and the rest
// (doublestar.SplitPattern): "a/b/*.txt" -> {"a/b", "*.txt"}; "*.txt" -> {".", "*.txt"}.
std::pair<std::string, std::string> split_glob_pattern(std::string_view pattern);

// Every path under `root` (relative, `/`-separated, sorted) that matches `pattern`, which is
// relative to `root`. Symlinks are listed but never followed; unreadable directories are
// skipped. A pattern without meta characters yields itself when it exists (lstat).
std::vector<std::string> glob_paths(const std::filesystem::path& root, std::string_view pattern);

}  // namespace glr
