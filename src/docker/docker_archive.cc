// libarchive-backed tar writing/reading in memory for the Docker archive API.
#include "docker/docker_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace glr {
namespace {

struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t write_to_string(archive*, void* user, const void* buf, size_t n) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

std::unique_ptr<archive, WriteDeleter> new_writer(std::string& out) {
  std::unique_ptr<archive, WriteDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  archive_write_open(a.get(), &out, nullptr, write_to_string, nullptr);
  return a;
}

Result<> add_entry(archive* a, const std::string& name, const struct stat& st,
                   const std::string& data, const std::string& link_target) {
  std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
  archive_entry_copy_pathname(e.get(), name.c_str());
  archive_entry_copy_stat(e.get(), &st);
  archive_entry_set_uid(e.get(), 0);
  archive_entry_set_gid(e.get(), 0);
  if (S_ISLNK(st.st_mode)) {
    archive_entry_copy_symlink(e.get(), link_target.c_str());
    archive_entry_set_size(e.get(), 0);
  } else if (!S_ISREG(st.st_mode)) {
    archive_entry_set_size(e.get(), 0);
  }
  if (archive_write_header(a, e.get()) != ARCHIVE_OK)
    return fail(ErrorKind::kIo, "tar " + name + ": " + archive_error_string(a));
  if (S_ISREG(st.st_mode) && !data.empty() &&
      archive_write_data(a, data.data(), data.size()) < 0)
    return fail(ErrorKind::kIo, "tar " + name + ": " + archive_error_string(a));
  return {};
}

}  // namespace

Result<std::string> tar_directory(const std::filesystem::path& dir, const std::string& name,
                                  bool umask0000) {
  std::string out;
  auto a = new_writer(out);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(ErrorKind::kIo, "tar: " + dir.string() + " is not a directory");
  if (umask0000) st.st_mode |= 0777;
  // Every directory on the way to `name` gets its own entry ("grp/", "grp/app/").
  for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
    if (Result<> r = add_entry(a.get(), name.substr(0, slash + 1), st, {}, {}); !r) return fail(r.error());
  }
  if (Result<> r = add_entry(a.get(), name + "/", st, {}, {}); !r) return fail(r.error());
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::filesystem::path& p = it->path();
    if (::lstat(p.c_str(), &st) != 0) continue;
    std::string rel = name + "/" + p.lexically_relative(dir).string();
    std::string data, target;
    if (S_ISREG(st.st_mode)) {
      std::ifstream in(p, std::ios::binary);
      std::ostringstream buf;
      buf << in.rdbuf();
      data = buf.str();
      st.st_size = static_cast<off_t>(data.size());
    } else if (S_ISLNK(st.st_mode)) {
      target = std::filesystem::read_symlink(p, ec).string();
      ec.clear();
    } else if (S_ISDIR(st.st_mode)) {
      rel += "/";
    } else {
      continue;  // sockets, fifos, devices stay behind
    }
    if (umask0000 && !S_ISLNK(st.st_mode)) st.st_mode |= S_ISDIR(st.st_mode) ? 0777 : 0666;
    if (Result<> r = add_entry(a.get(), rel, st, data, target); !r) return fail(r.error());
  }
  if (ec) return fail(ErrorKind::kIo, "tar " + dir.string() + ": " + ec.message());
  archive_write_close(a.get());
  return out;
}

Result<std::string> tar_single_file(const std::string& name, const std::string& content,
                                    int mode) {
  std::string out;
  auto a = new_writer(out);
  struct stat st {};
  st.st_mode = static_cast<mode_t>(S_IFREG | mode);
  st.st_size = static_cast<off_t>(content.size());
  st.st_mtime = ::time(nullptr);
  if (Result<> r = add_entry(a.get(), name, st, content, {}); !r) return fail(r.error());
  archive_write_close(a.get());
  return out;
}

Result<> untar_into(const std::string& tar, const std::filesystem::path& dest) {
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), tar.data(), tar.size()) != ARCHIVE_OK)
    return fail(ErrorKind::kIo, std::string("untar: ") + archive_error_string(a.get()));
  std::unique_ptr<archive, WriteDeleter> disk(archive_write_disk_new());
  archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                 ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                 ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  archive_entry* e = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN)
      return fail(ErrorKind::kIo, std::string("untar: ") + archive_error_string(a.get()));
    std::string name = archive_entry_pathname(e);
    if (!name.empty() && name[0] == '/')
      return fail(ErrorKind::kIo, "untar: absolute entry " + name);
    archive_entry_copy_pathname(e, (dest / name).c_str());
    if (archive_write_header(disk.get(), e) < ARCHIVE_WARN)
      return fail(ErrorKind::kIo, std::string("untar ") + name + ": " +
                                      archive_error_string(disk.get()));
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while ((rc = archive_read_data_block(a.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(disk.get(), buf, size, offset) < ARCHIVE_WARN)
        return fail(ErrorKind::kIo, std::string("untar ") + name + ": " +
                                        archive_error_string(disk.get()));
    }
    archive_write_finish_entry(disk.get());
  }
  archive_write_close(disk.get());
  return {};
}

}  // namespace glr
