// The only libarchive and zlib user of glrunner. Extraction writes entries itself (not through
// archive_write_disk) so that every path is checked against the destination first.
#include "artifacts/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <system_error>

#include "util/strings.h"
#include "util/unique_fd.h"

namespace glr {
namespace {

namespace fs = std::filesystem;
constexpr size_t kBufferSize = 256 * 1024;

std::string errno_text(int err) { return std::strerror(err); }

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveDeleter>;
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<struct archive_entry, EntryDeleter>;

Result<> write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::kIo, "write: " + errno_text(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

Result<UniqueFd> open_read(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail(ErrorKind::kIo, fmt::format("open {}: {}", p.string(), errno_text(errno)));
  return UniqueFd(fd);
}

Result<UniqueFd> open_write(const fs::path& p, mode_t mode) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return fail(ErrorKind::kIo, fmt::format("create {}: {}", p.string(), errno_text(errno)));
  }
  return UniqueFd(fd);
}

// ---- zip ------------------------------------------------------------------------------------

// Deflating data that is already compressed (packages, images, .gz) costs most of an archive's
// CPU time and saves nothing, so such entries are stored (issue 5: speed). The first 64 KiB are
// deflated at level 1: an entry is stored when they do not shrink by 5%. The descriptor is left
// at offset 0. `out` is scratch space kept across entries.
constexpr size_t kMinSample = 4096;  // smaller files are always deflated, without a sample

Result<bool> looks_incompressible(int fd, const std::string& rel, std::vector<char>& buf,
                                  std::vector<Bytef>& out) {
  constexpr size_t kSample = 64 * 1024;
  ssize_t n = 0;
  do {
    n = ::pread(fd, buf.data(), std::min(kSample, buf.size()), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(ErrorKind::kIo, fmt::format("read {}: {}", rel, errno_text(errno)));
  if (static_cast<size_t>(n) < kMinSample) return false;
  uLongf out_size = compressBound(static_cast<uLong>(n));
  if (out.size() < out_size) out.resize(out_size);
  if (compress2(out.data(), &out_size, reinterpret_cast<const Bytef*>(buf.data()),
                static_cast<uLong>(n), 1) != Z_OK) {
    return false;
  }
  return out_size * 100 > static_cast<uLongf>(n) * 95;
}

// Zip (deflate at `level`, 0 = stored) or, with `tar_zstd`, a zstd-compressed pax tar.
Result<> write_entries(const fs::path& wd, const FileSelection& files, const fs::path& out,
                       int level, bool tar_zstd, HelperLog& log) {
  ArchivePtr a(archive_write_new());
  std::string lvl = std::to_string(level);
  if (tar_zstd) {
    archive_write_set_format_pax_restricted(a.get());
    archive_write_add_filter_zstd(a.get());
    if (archive_write_set_filter_option(a.get(), "zstd", "compression-level", lvl.c_str()) <
        ARCHIVE_OK) {
      log.debug(fmt::format("zstd compression level {} not supported", level));
    }
  } else {
    archive_write_set_format_zip(a.get());
    if (archive_write_set_format_option(a.get(), "zip", "compression-level", lvl.c_str()) <
        ARCHIVE_OK) {
      log.debug(fmt::format("zip compression level {} not supported: {}", level,
                            archive_error_string(a.get())));
    }
  }
  if (archive_write_open_filename(a.get(), out.c_str()) != ARCHIVE_OK) {
    return fail(ErrorKind::kIo, fmt::format("create {}: {}", out.string(),
                                            archive_error_string(a.get())));
  }
  std::vector<char> buf(kBufferSize);
  std::vector<Bytef> sample_out;
  for (const auto& [rel, info] : files) {
    fs::path full = wd / rel;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) {
      log.warning(fmt::format("File ignored: {}: {}", rel, errno_text(errno)));
      continue;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
      log.warning(fmt::format("File ignored: \"{}\"", rel));
      continue;
    }
    EntryPtr e(archive_entry_new());
    archive_entry_set_pathname_utf8(e.get(),
                                    S_ISDIR(st.st_mode) && !tar_zstd ? (rel + "/").c_str() : rel.c_str());
    archive_entry_copy_stat(e.get(), &st);
    std::string target;
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      target = fs::read_symlink(full, ec).string();
      if (ec) return fail(ErrorKind::kIo, fmt::format("readlink {}: {}", rel, ec.message()));
      archive_entry_set_symlink(e.get(), target.c_str());
      archive_entry_set_size(e.get(), 0);
    } else if (S_ISDIR(st.st_mode)) {
      archive_entry_set_size(e.get(), 0);
    }
    std::optional<UniqueFd> fd;
    if (S_ISREG(st.st_mode)) {
      Result<UniqueFd> opened = open_read(full);
      if (!opened) return fail(opened.error());
      fd = std::move(*opened);
      if (!tar_zstd && level > 0) {
        // A small file is not read twice just to be deflated anyway.
        Result<bool> incompressible =
            static_cast<size_t>(st.st_size) < kMinSample
                ? Result<bool>(false)
                : looks_incompressible(fd->get(), rel, buf, sample_out);
        if (!incompressible) return fail(incompressible.error());
        if (*incompressible) {
          archive_write_zip_set_compression_store(a.get());
        } else {
          archive_write_zip_set_compression_deflate(a.get());
        }
      }
    }
    if (archive_write_header(a.get(), e.get()) < ARCHIVE_WARN) {
      return fail(ErrorKind::kIo, fmt::format("archive {}: {}", rel, archive_error_string(a.get())));
    }
    if (fd) {
      for (;;) {
        ssize_t n = ::read(fd->get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(ErrorKind::kIo, fmt::format("read {}: {}", rel, errno_text(errno)));
        if (n == 0) break;
        if (archive_write_data(a.get(), buf.data(), static_cast<size_t>(n)) < 0) {
          return fail(ErrorKind::kIo, fmt::format("zip {}: {}", rel, archive_error_string(a.get())));
        }
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return fail(ErrorKind::kIo, fmt::format("close {}: {}", out.string(),
                                            archive_error_string(a.get())));
  }
  return {};
}

// ---- gzip -----------------------------------------------------------------------------------

bool needs_escape(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) > 0x7f || c == '%') return true;
  }
  return false;
}

std::string sanitize_gzip_name(std::string_view s) {
  return needs_escape(s) ? "e:" + url_path_escape(s) : std::string(s);
}

Result<> write_gzip_member(int out_fd, const fs::path& full, const std::string& rel,
                           const struct stat& st) {
  Result<UniqueFd> in = open_read(full);
  if (!in) return fail(in.error());
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return fail(ErrorKind::kInternal, "deflateInit2 failed");
  }
  std::string name = sanitize_gzip_name(full.filename().string());
  std::string comment = sanitize_gzip_name(rel);
  gz_header header{};
  header.time = static_cast<uLong>(st.st_mtim.tv_sec);
  header.os = 255;  // unknown, like Go's compress/gzip
  header.name = reinterpret_cast<Bytef*>(name.data());
  header.comment = reinterpret_cast<Bytef*>(comment.data());
  deflateSetHeader(&z, &header);
  std::vector<char> inbuf(kBufferSize);
  std::vector<char> outbuf(kBufferSize);
  Result<> result;
  bool done = false;
  while (!done && result) {
    ssize_t n = ::read(in->get(), inbuf.data(), inbuf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = fail(ErrorKind::kIo, fmt::format("read {}: {}", rel, errno_text(errno)));
      break;
    }
    int flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = reinterpret_cast<Bytef*>(inbuf.data());
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(outbuf.data());
      z.avail_out = static_cast<uInt>(outbuf.size());
      int rc = deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) {
        result = fail(ErrorKind::kInternal, "deflate failed");
        break;
      }
      result = write_all(out_fd, outbuf.data(), outbuf.size() - z.avail_out);
      if (rc == Z_STREAM_END) done = true;
    } while (result && z.avail_out == 0);
  }
  deflateEnd(&z);
  return result;
}

Result<> write_gzip(const fs::path& wd, const FileSelection& files, const fs::path& out,
                    HelperLog& log) {
  Result<UniqueFd> fd = open_write(out, 0600);
  if (!fd) return fail(fd.error());
  for (const auto& [rel, info] : files) {
    fs::path full = wd / rel;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) {
      log.warning(fmt::format("File ignored: {}: {}", rel, errno_text(errno)));
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      return fail(ErrorKind::kInvalidInput, fmt::format("the \"{}\" is not a regular file", rel));
    }
    if (Result<> r = write_gzip_member(fd->get(), full, rel, st); !r) return r;
  }
  return {};
}

Result<> write_raw(const fs::path& wd, const FileSelection& files, const fs::path& out) {
  if (files.size() != 1) {
    return fail(ErrorKind::kInvalidInput, "only one file can be sent as raw");
  }
  const std::string& rel = files.begin()->first;
  Result<UniqueFd> in = open_read(wd / rel);
  if (!in) return fail(in.error());
  Result<UniqueFd> fd = open_write(out, 0600);
  if (!fd) return fail(fd.error());
  std::vector<char> buf(kBufferSize);
  for (;;) {
    ssize_t n = ::read(in->get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::kIo, fmt::format("read {}: {}", rel, errno_text(errno)));
    if (n == 0) return {};
    if (Result<> r = write_all(fd->get(), buf.data(), static_cast<size_t>(n)); !r) return r;
  }
}

// ---- safe extraction ------------------------------------------------------------------------

bool is_within(const fs::path& base, const fs::path& p) {
  fs::path rel = p.lexically_normal().lexically_relative(base.lexically_normal());
  std::string r = rel.generic_string();
  return !rel.empty() && r != ".." && !starts_with(r, "../") && !rel.is_absolute();
}

class SafeExtractor {
 public:
  SafeExtractor(const fs::path& dest, HelperLog& log) : log_(log) {
    std::error_code ec;
    dest_ = fs::weakly_canonical(fs::absolute(dest), ec);
    if (ec) dest_ = fs::absolute(dest).lexically_normal();
  }

  // The on-disk path for an entry, after every containment check.
  Result<fs::path> target(std::string_view name_in) {
    std::string name(name_in);
    if (name.empty()) return fail(ErrorKind::kInvalidInput, "archive entry with an empty name");
    if (name.front() == '/' || name.front() == '\\') {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("refusing archive entry \"{}\": absolute path", name));
    }
    fs::path rel = fs::path(name).lexically_normal();
    if (!is_within(dest_, dest_ / rel) && rel.generic_string() != ".") {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("refusing archive entry \"{}\": path escapes the destination "
                              "directory (zip slip)",
                              name));
    }
    if (!git_warned_ && (starts_with(rel.generic_string(), ".git/") || rel == ".git")) {
      log_.warning("Part of .git directory is on the list of files to extract");
      log_.warning("This may introduce unexpected problems");
      git_warned_ = true;
    }
    // Every existing parent inside dest that is a symlink must resolve inside dest.
    fs::path cur = dest_;
    fs::path parent = rel.parent_path();
    for (const fs::path& part : parent) {
      cur /= part;
      std::error_code ec;
      if (fs::is_symlink(fs::symlink_status(cur, ec))) {
        fs::path resolved = fs::weakly_canonical(cur, ec);
        if (ec || !(resolved == dest_ || is_within(dest_, resolved))) {
          return fail(ErrorKind::kInvalidInput,
                      fmt::format("refusing archive entry \"{}\": it would be written through "
                                  "symlink \"{}\" that points outside the destination directory",
                                  name, cur.lexically_relative(dest_).string()));
        }
      }
    }
    return dest_ / rel;
  }

  Result<> check_symlink(std::string_view name, const fs::path& at, std::string_view link) {
    fs::path t(link);
    fs::path resolved = t.is_absolute() ? t : at.parent_path() / t;
    if (t.is_absolute() || !(resolved.lexically_normal() == dest_ || is_within(dest_, resolved))) {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("refusing archive entry \"{}\": symlink target \"{}\" is outside "
                              "the destination directory",
                              name, link));
    }
    return {};
  }

  static Result<> prepare_parent(const fs::path& p) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return fail(ErrorKind::kIo, fmt::format("mkdir {}: {}", p.parent_path().string(), ec.message()));
    return {};
  }

  // Removes whatever is at `p` unless it is a directory (never writes through a symlink).
  static void remove_existing(const fs::path& p) {
    std::error_code ec;
    fs::file_status s = fs::symlink_status(p, ec);
    if (!ec && fs::exists(s) && !fs::is_directory(s)) fs::remove(p, ec);
  }

  HelperLog& log() { return log_; }

 private:
  fs::path dest_;
  HelperLog& log_;
  bool git_warned_ = false;
};

void set_mtime(const fs::path& p, time_t sec, long nsec, bool nofollow) {
  struct timespec times[2];
  times[0].tv_sec = sec;
  times[0].tv_nsec = nsec;
  times[1] = times[0];
  ::utimensat(AT_FDCWD, p.c_str(), times, nofollow ? AT_SYMLINK_NOFOLLOW : 0);
}

// Zip, or with `tar_zstd` a zstd-compressed tar, entry by entry through SafeExtractor.
Result<> extract_entries(const fs::path& archive, SafeExtractor& x, bool tar_zstd) {
  ArchivePtr a(archive_read_new());
  if (tar_zstd) {
    archive_read_support_filter_zstd(a.get());
    archive_read_support_format_tar(a.get());
  } else {
    archive_read_support_format_zip(a.get());
  }
  if (archive_read_open_filename(a.get(), archive.c_str(), kBufferSize) != ARCHIVE_OK) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("open {}: {}", archive.string(), archive_error_string(a.get())));
  }
  struct DirTime {
    fs::path path;
    time_t sec;
    long nsec;
  };
  std::vector<DirTime> dirs;
  std::vector<char> buf(kBufferSize);
  for (;;) {
    struct archive_entry* e = nullptr;
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("read {}: {}", archive.string(), archive_error_string(a.get())));
    }
    const char* raw_name = archive_entry_pathname_utf8(e);
    if (raw_name == nullptr) raw_name = archive_entry_pathname(e);
    std::string name = raw_name != nullptr ? raw_name : "";
    Result<fs::path> path = x.target(name);
    if (!path) return fail(path.error());
    mode_t type = archive_entry_filetype(e);
    mode_t perm = archive_entry_perm(e);
    if (Result<> r = SafeExtractor::prepare_parent(*path); !r) return r;
    if (type == AE_IFDIR) {
      std::error_code ec;
      if (fs::is_symlink(fs::symlink_status(*path, ec))) fs::remove(*path, ec);
      fs::create_directories(*path, ec);
      if (ec) return fail(ErrorKind::kIo, fmt::format("mkdir {}: {}", name, ec.message()));
      ::chmod(path->c_str(), perm == 0 ? 0755 : perm);
      dirs.push_back({*path, archive_entry_mtime(e), archive_entry_mtime_nsec(e)});
    } else if (type == AE_IFLNK) {
      std::string link;
      if (const char* s = archive_entry_symlink(e); s != nullptr) {
        link = s;
      } else {
        // Some writers store the target as the entry's data only.
        for (;;) {
          la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
          if (n <= 0) break;
          link.append(buf.data(), static_cast<size_t>(n));
        }
      }
      if (Result<> r = x.check_symlink(name, *path, link); !r) return r;
      SafeExtractor::remove_existing(*path);
      if (::symlink(link.c_str(), path->c_str()) != 0) {
        x.log().warning(fmt::format("{}: symlink: {}", name, errno_text(errno)));
        continue;
      }
      set_mtime(*path, archive_entry_mtime(e), archive_entry_mtime_nsec(e), true);
    } else if (type == AE_IFREG || type == 0) {
      SafeExtractor::remove_existing(*path);
      Result<UniqueFd> fd = open_write(*path, perm == 0 ? 0644 : perm);
      if (!fd) return fail(fd.error());
      for (;;) {
        la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n < 0) {
          return fail(ErrorKind::kInvalidInput,
                      fmt::format("read {}: {}", name, archive_error_string(a.get())));
        }
        if (n == 0) break;
        if (Result<> r = write_all(fd->get(), buf.data(), static_cast<size_t>(n)); !r) return r;
      }
      ::fchmod(fd->get(), perm == 0 ? 0644 : perm);
      fd->reset();
      set_mtime(*path, archive_entry_mtime(e), archive_entry_mtime_nsec(e), false);
    } else {
      x.log().warning(fmt::format("File ignored: \"{}\"", name));
    }
  }
  // Directory times last: creating their children moved them.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) set_mtime(it->path, it->sec, it->nsec, false);
  return {};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Undoes sanitize_gzip_name ("e:" + URL path escape).
std::string decode_gzip_name(std::string_view s) {
  if (!starts_with(s, "e:")) return std::string(s);
  s.remove_prefix(2);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
        hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Concatenated gzip members; each goes to its comment (relative path), else its name.
Result<> extract_gzip(const fs::path& archive, SafeExtractor& x) {
  Result<UniqueFd> in = open_read(archive);
  if (!in) return fail(in.error());
  std::vector<char> inbuf(kBufferSize);
  std::vector<char> outbuf(kBufferSize);
  size_t have = 0;
  size_t pos = 0;
  bool eof = false;
  auto fill = [&]() -> Result<> {
    if (pos < have || eof) return {};
    ssize_t n;
    do {
      n = ::read(in->get(), inbuf.data(), inbuf.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return fail(ErrorKind::kIo, "read " + archive.string() + ": " + errno_text(errno));
    have = static_cast<size_t>(n);
    pos = 0;
    eof = n == 0;
    return {};
  };
  for (;;) {
    if (Result<> r = fill(); !r) return r;
    if (pos >= have && eof) break;
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) return fail(ErrorKind::kInternal, "inflateInit2 failed");
    std::array<char, 4096> name{};
    std::array<char, 4096> comment{};
    gz_header header{};
    header.name = reinterpret_cast<Bytef*>(name.data());
    header.name_max = name.size() - 1;
    header.comment = reinterpret_cast<Bytef*>(comment.data());
    header.comm_max = comment.size() - 1;
    inflateGetHeader(&z, &header);
    std::optional<UniqueFd> out;
    fs::path out_path;
    Result<> result;
    int rc = Z_OK;
    while (result && rc != Z_STREAM_END) {
      if (Result<> r = fill(); !r) {
        result = r;
        break;
      }
      if (pos >= have && eof) {
        result = fail(ErrorKind::kInvalidInput, "gzip archive is truncated");
        break;
      }
      z.next_in = reinterpret_cast<Bytef*>(inbuf.data() + pos);
      z.avail_in = static_cast<uInt>(have - pos);
      do {
        z.next_out = reinterpret_cast<Bytef*>(outbuf.data());
        z.avail_out = static_cast<uInt>(outbuf.size());
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
          result = fail(ErrorKind::kInvalidInput, "gzip archive is corrupt");
          break;
        }
        if (!out && header.done == 1) {
          std::string entry = decode_gzip_name(comment[0] != 0 ? comment.data() : name.data());
          Result<fs::path> p = x.target(entry);
          if (!p) {
            result = fail(p.error());
            break;
          }
          out_path = *p;
          if (Result<> r = SafeExtractor::prepare_parent(out_path); !r) {
            result = r;
            break;
          }
          SafeExtractor::remove_existing(out_path);
          Result<UniqueFd> fd = open_write(out_path, 0644);
          if (!fd) {
            result = fail(fd.error());
            break;
          }
          out = std::move(*fd);
        }
        size_t produced = outbuf.size() - z.avail_out;
        if (produced > 0 && out) result = write_all(out->get(), outbuf.data(), produced);
      } while (result && z.avail_out == 0 && rc != Z_STREAM_END);
      pos = have - z.avail_in;
    }
    inflateEnd(&z);
    if (!result) return result;
    if (out) {
      out->reset();
      set_mtime(out_path, static_cast<time_t>(header.time), 0, false);
    }
  }
  return {};
}

}  // namespace

Result<ArtifactFormat> parse_artifact_format(std::string_view text) {
  if (text.empty() || text == "zip") return ArtifactFormat::kZip;
  if (text == "gzip") return ArtifactFormat::kGzip;
  if (text == "raw") return ArtifactFormat::kRaw;
  if (text == "tarzstd") return ArtifactFormat::kTarZstd;
  return fail(ErrorKind::kInvalidInput, fmt::format("unsupported archive type: {}", text));
}

std::string artifact_file_name(std::string_view name, ArtifactFormat format) {
  std::string base = fs::path(std::string(name)).filename().string();
  if (base.empty()) {
    // "dir/" -> last non-empty component, like Go's filepath.Base.
    std::string n(name);
    while (!n.empty() && n.back() == '/') n.pop_back();
    base = fs::path(n).filename().string();
  }
  if (base.empty() || base == ".") base = "default";
  switch (format) {
    case ArtifactFormat::kZip:
      return base + ".zip";
    case ArtifactFormat::kGzip:
      return base + ".gz";
    case ArtifactFormat::kRaw:
      return base;
    case ArtifactFormat::kTarZstd:
      return base + ".tar.zst";
  }
  return base;
}

int deflate_level(std::string_view level) {
  if (level == "fastest") return 0;
  if (level == "fast") return 1;
  if (level == "slow") return 7;
  if (level == "slowest") return 9;
  return 5;
}

int zstd_level(std::string_view level) {
  if (level == "fastest" || level == "fast") return 1;
  if (level == "slow") return 7;
  if (level == "slowest") return 11;
  return 3;
}

int compression_level_for(ArtifactFormat format, std::string_view level) {
  return format == ArtifactFormat::kTarZstd ? zstd_level(level) : deflate_level(level);
}

std::string url_path_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool keep = std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || c == '$' ||
                c == '&' || c == '+' || c == ':' || c == '=' || c == '@';
    if (c > 0x7f) keep = false;
    if (keep) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<> write_archive(ArtifactFormat format, const fs::path& wd, const FileSelection& files,
                       const fs::path& out, int level, HelperLog& log) {
  switch (format) {
    case ArtifactFormat::kZip:
      return write_entries(wd, files, out, level, false, log);
    case ArtifactFormat::kTarZstd:
      return write_entries(wd, files, out, level, true, log);
    case ArtifactFormat::kGzip:
      return write_gzip(wd, files, out, log);
    case ArtifactFormat::kRaw:
      return write_raw(wd, files, out);
  }
  return fail(ErrorKind::kInternal, "unknown artifact format");
}

Result<DetectedFormat> detect_archive_format(const fs::path& archive) {
  Result<UniqueFd> fd = open_read(archive);
  if (!fd) return fail(fd.error());
  unsigned char magic[4] = {};
  ssize_t n = ::read(fd->get(), magic, sizeof magic);
  if (n < 0) return fail(ErrorKind::kIo, "read " + archive.string() + ": " + errno_text(errno));
  if (n >= 4 && magic[0] == 0x28 && magic[1] == 0xB5 && magic[2] == 0x2F && magic[3] == 0xFD) {
    return DetectedFormat::kZstd;
  }
  if (n >= 2 && magic[0] == 0x1F && magic[1] == 0x8B) return DetectedFormat::kGzip;
  return DetectedFormat::kZip;
}

Result<> extract_archive(const fs::path& archive, const fs::path& dest, HelperLog& log) {
  Result<DetectedFormat> format = detect_archive_format(archive);
  if (!format) return fail(format.error());
  SafeExtractor x(dest, log);
  switch (*format) {
    case DetectedFormat::kZip:
      return extract_entries(archive, x, false);
    case DetectedFormat::kGzip:
      return extract_gzip(archive, x);
    case DetectedFormat::kZstd:
      return extract_entries(archive, x, true);
  }
  return fail(ErrorKind::kInternal, "unknown archive format");
}

}  // namespace glr
