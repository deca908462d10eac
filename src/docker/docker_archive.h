// Tar streams for the Engine's archive endpoints (PUT/GET /containers/<id>/archive):
// how the build directory and stage scripts move between the runner host and a
// container without a helper image, also when the daemon is remote.
#pragma once

#include <filesystem>
#include <string>

#include "util/result.h"

namespace glr {

// A tar of `dir` whose entries are named `<name>/...` (name = "builds" for /builds).
// Regular files, directories and symlinks; ownership is written as uid/gid 0.
// `umask0000`: permissions as if created under umask 0000 (group/other may write), what
// the official helper container produces, so a non-root build user can write too.
Result<std::string> tar_directory(const std::filesystem::path& dir, const std::string& name,
                                  bool umask0000 = false);

// A tar holding one file `name` with `content` and `mode`.
Result<std::string> tar_single_file(const std::string& name, const std::string& content, int mode);

// Extracts `tar` under `dest` (which must exist). Entries escaping `dest` are refused.
Result<> untar_into(const std::string& tar, const std::filesystem::path& dest);

}  // namespace glr
