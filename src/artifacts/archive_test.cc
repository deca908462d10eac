// Archive formats and safe extraction (executors §6.3, §6.7).
#include "artifacts/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <fstream>
#include <sstream>

#include "support/temp_dir.h"

namespace glr {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

struct RawEntry {
  std::string name{};
  std::string content{};
  mode_t type = AE_IFREG;
  std::string symlink{};
};

// A zip written entry by entry, so tests can build hostile archives.
void make_zip(const fs::path& out, const std::vector<RawEntry>& entries) {
  struct archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
  for (const RawEntry& r : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, r.name.c_str());
    archive_entry_set_filetype(e, r.type);
    archive_entry_set_perm(e, 0644);
    if (r.type == AE_IFLNK) archive_entry_set_symlink(e, r.symlink.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(r.content.size()));
    archive_write_header(a, e);
    if (!r.content.empty()) archive_write_data(a, r.content.data(), r.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

struct GzMember {
  std::string name;
  std::string comment;
  uint32_t mtime = 0;
  uint8_t os = 0;
  std::string data;
};

std::vector<GzMember> read_gz_members(const std::string& bytes) {
  std::vector<GzMember> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    GzMember m;
    m.mtime = static_cast<uint32_t>(static_cast<unsigned char>(bytes[pos + 4])) |
              static_cast<uint32_t>(static_cast<unsigned char>(bytes[pos + 5])) << 8 |
              static_cast<uint32_t>(static_cast<unsigned char>(bytes[pos + 6])) << 16 |
              static_cast<uint32_t>(static_cast<unsigned char>(bytes[pos + 7])) << 24;
    m.os = static_cast<uint8_t>(bytes[pos + 9]);
    z_stream z{};
    inflateInit2(&z, 31);
    char name[256] = {};
    char comment[256] = {};
    gz_header h{};
    h.name = reinterpret_cast<Bytef*>(name);
    h.name_max = 255;
    h.comment = reinterpret_cast<Bytef*>(comment);
    h.comm_max = 255;
    inflateGetHeader(&z, &h);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + pos));
    z.avail_in = static_cast<uInt>(bytes.size() - pos);
    char buf[4096];
    int rc;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_NO_FLUSH);
      m.data.append(buf, sizeof buf - z.avail_out);
    } while (rc == Z_OK);
    EXPECT_EQ(rc, Z_STREAM_END);
    pos = bytes.size() - z.avail_in;
    inflateEnd(&z);
    m.name = name;
    m.comment = comment;
    out.push_back(m);
    if (rc != Z_STREAM_END) break;
  }
  return out;
}

class ArchiveTest : public ::testing::Test {
 protected:
  fs::path src() const { return tmp_.path() / "src"; }
  fs::path dst() const { return tmp_.path() / "dst"; }
  fs::path out() const { return tmp_.path() / "out.bin"; }
  FileSelection select(std::vector<std::string> paths) {
    return select_files({.wd = src(), .paths = std::move(paths)}, log_.log);
  }
  TempDir tmp_;
  CollectingHelperLog log_;
};

}  // namespace

TEST(ArtifactFormat, NamesAndParsing) {
  EXPECT_EQ(artifact_file_name("", ArtifactFormat::kZip), "default.zip");
  EXPECT_EQ(artifact_file_name("artifacts", ArtifactFormat::kZip), "artifacts.zip");
  EXPECT_EQ(artifact_file_name("reports/junit.xml", ArtifactFormat::kGzip), "junit.xml.gz");
  EXPECT_EQ(artifact_file_name("gl-sast-report.json", ArtifactFormat::kRaw), "gl-sast-report.json");
  EXPECT_EQ(artifact_file_name(".", ArtifactFormat::kRaw), "default");
  EXPECT_EQ(*parse_artifact_format(""), ArtifactFormat::kZip);
  EXPECT_EQ(*parse_artifact_format("gzip"), ArtifactFormat::kGzip);
  EXPECT_FALSE(parse_artifact_format("rar"));
  EXPECT_EQ(deflate_level("fastest"), 0);
  EXPECT_EQ(deflate_level("fast"), 1);
  EXPECT_EQ(deflate_level(""), 5);
}

TEST(ArtifactFormat, UrlPathEscapeLikeGo) {
  EXPECT_EQ(url_path_escape("a b/c%d"), "a%20b%2Fc%25d");
  EXPECT_EQ(url_path_escape("ok-_.~$&+:=@"), "ok-_.~$&+:=@");
  EXPECT_EQ(url_path_escape("\xc3\xa9"), "%C3%A9");
}

TEST_F(ArchiveTest, ZipRoundTripKeepsDirectoriesSymlinksModesAndTimes) {
  write_file(src() / "build/app", "binary");
  write_file(src() / "build/sub/data.txt", std::string(100000, 'x'));
  ::chmod((src() / "build/app").c_str(), 0755);
  fs::create_symlink("sub/data.txt", src() / "build/link");
  auto old_time = fs::last_write_time(src() / "build/app") - std::chrono::hours(48);
  fs::last_write_time(src() / "build/app", old_time);
  ASSERT_TRUE(write_archive(ArtifactFormat::kZip, src(), select({"build"}), out(), 1, log_.log));
  ASSERT_TRUE(extract_archive(out(), dst(), log_.log)) << log_.text;
  EXPECT_EQ(read_file(dst() / "build/app"), "binary");
  EXPECT_EQ(read_file(dst() / "build/sub/data.txt"), std::string(100000, 'x'));
  EXPECT_TRUE(fs::is_symlink(dst() / "build/link"));
  EXPECT_EQ(fs::read_symlink(dst() / "build/link"), "sub/data.txt");
  EXPECT_EQ(fs::status(dst() / "build/app").permissions() & fs::perms::owner_exec,
            fs::perms::owner_exec);
  EXPECT_EQ(std::chrono::floor<std::chrono::seconds>(fs::last_write_time(dst() / "build/app")),
            std::chrono::floor<std::chrono::seconds>(old_time));
}

TEST_F(ArchiveTest, ZipIsListedWithDirectoryEntriesEndingInSlash) {
  write_file(src() / "d/f", "1");
  ASSERT_TRUE(write_archive(ArtifactFormat::kZip, src(), select({"d"}), out(), 0, log_.log));
  struct archive* a = archive_read_new();
  archive_read_support_format_zip(a);
  ASSERT_EQ(archive_read_open_filename(a, out().c_str(), 4096), ARCHIVE_OK);
  std::vector<std::string> names;
  struct archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) names.emplace_back(archive_entry_pathname(e));
  archive_read_free(a);
  EXPECT_EQ(names, (std::vector<std::string>{"d/", "d/f"}));
}

TEST_F(ArchiveTest, TarZstdRoundTripIsDetectedByMagic) {
  write_file(src() / "vendor/a.rb", "gem");
  fs::create_symlink("a.rb", src() / "vendor/link");
  ASSERT_TRUE(write_archive(ArtifactFormat::kTarZstd, src(), select({"vendor"}), out(),
                            zstd_level("fast"), log_.log));
  EXPECT_EQ(*detect_archive_format(out()), DetectedFormat::kZstd);
  ASSERT_TRUE(extract_archive(out(), dst(), log_.log)) << log_.text;
  EXPECT_EQ(read_file(dst() / "vendor/a.rb"), "gem");
  EXPECT_EQ(fs::read_symlink(dst() / "vendor/link"), "a.rb");
  EXPECT_EQ(artifact_file_name("cache", ArtifactFormat::kTarZstd), "cache.tar.zst");
  EXPECT_EQ(compression_level_for(ArtifactFormat::kTarZstd, "slowest"), 11);
  EXPECT_EQ(compression_level_for(ArtifactFormat::kZip, "slowest"), 9);
}

TEST_F(ArchiveTest, ExtractOverwritesExistingFiles) {
  write_file(src() / "f", "new");
  write_file(dst() / "f", "old content");
  ASSERT_TRUE(write_archive(ArtifactFormat::kZip, src(), select({"f"}), out(), 5, log_.log));
  ASSERT_TRUE(extract_archive(out(), dst(), log_.log));
  EXPECT_EQ(read_file(dst() / "f"), "new");
}

TEST_F(ArchiveTest, GzipHasOneMemberPerFileWithNameCommentAndMtime) {
  write_file(src() / "reports/b.xml", "<b/>");
  write_file(src() / "reports/a%.xml", "<a/>");
  fs::last_write_time(src() / "reports/b.xml",
                      fs::file_time_type::clock::from_sys(
                          std::chrono::sys_seconds(std::chrono::seconds(1700000000))));
  FileSelection files = select({"reports/*.xml"});
  ASSERT_TRUE(write_archive(ArtifactFormat::kGzip, src(), files, out(), 5, log_.log));
  std::vector<GzMember> members = read_gz_members(read_file(out()));
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].name, "e:a%25.xml");
  EXPECT_EQ(members[0].comment, "e:reports%2Fa%25.xml");
  EXPECT_EQ(members[0].data, "<a/>");
  EXPECT_EQ(members[1].name, "b.xml");
  EXPECT_EQ(members[1].comment, "reports/b.xml");
  EXPECT_EQ(members[1].mtime, 1700000000u);
  EXPECT_EQ(members[1].os, 255);
  EXPECT_EQ(members[1].data, "<b/>");
  // And it extracts back to the relative paths.
  ASSERT_TRUE(extract_archive(out(), dst(), log_.log)) << log_.text;
  EXPECT_EQ(read_file(dst() / "reports/a%.xml"), "<a/>");
  EXPECT_EQ(read_file(dst() / "reports/b.xml"), "<b/>");
}

TEST_F(ArchiveTest, GzipRefusesDirectories) {
  write_file(src() / "d/f", "1");
  Result<> r = write_archive(ArtifactFormat::kGzip, src(), select({"d"}), out(), 5, log_.log);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "the \"d\" is not a regular file");
}

TEST_F(ArchiveTest, RawIsExactlyOneFile) {
  write_file(src() / "report.json", "{\"a\":1}");
  write_file(src() / "other.json", "{}");
  ASSERT_TRUE(write_archive(ArtifactFormat::kRaw, src(), select({"report.json"}), out(), 5, log_.log));
  EXPECT_EQ(read_file(out()), "{\"a\":1}");
  Result<> r = write_archive(ArtifactFormat::kRaw, src(), select({"*.json"}), out(), 5, log_.log);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "only one file can be sent as raw");
}

TEST_F(ArchiveTest, ZipSlipIsRefused) {
  make_zip(out(), {{.name = "ok.txt", .content = "1"}, {.name = "../evil.txt", .content = "x"}});
  Result<> r = extract_archive(out(), dst(), log_.log);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("\"../evil.txt\": path escapes the destination"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(tmp_.path() / "evil.txt"));
}

TEST_F(ArchiveTest, AbsolutePathIsRefused) {
  make_zip(out(), {{.name = (tmp_.path() / "abs.txt").string(), .content = "x"}});
  Result<> r = extract_archive(out(), dst(), log_.log);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("absolute path"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp_.path() / "abs.txt"));
}

TEST_F(ArchiveTest, SymlinkEscapingTheDestinationIsRefused) {
  make_zip(out(), {{.name = "link", .type = AE_IFLNK, .symlink = "../../etc"}});
  Result<> r = extract_archive(out(), dst(), log_.log);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symlink target \"../../etc\" is outside"), std::string::npos);
  make_zip(out(), {{.name = "link", .type = AE_IFLNK, .symlink = "/etc"}});
  EXPECT_FALSE(extract_archive(out(), dst(), log_.log));
  EXPECT_FALSE(fs::exists(fs::symlink_status(dst() / "link")));
}

TEST_F(ArchiveTest, SymlinkInsideTheDestinationIsKept) {
  make_zip(out(), {{.name = "dir/", .type = AE_IFDIR}, {.name = "dir/f", .content = "1"},
                   {.name = "dir/link", .type = AE_IFLNK, .symlink = "../dir/f"}});
  ASSERT_TRUE(extract_archive(out(), dst(), log_.log)) << log_.text;
  EXPECT_EQ(read_file(dst() / "dir/link"), "1");
}

TEST_F(ArchiveTest, WritingThroughAnEscapingSymlinkIsRefused) {
  fs::create_directories(dst());
  fs::create_directories(tmp_.path() / "outside");
  fs::create_directory_symlink(tmp_.path() / "outside", dst() / "out");
  make_zip(out(), {{.name = "out/x", .content = "pwned"}});
  Result<> r = extract_archive(out(), dst(), log_.log);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("through symlink \"out\""), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp_.path() / "outside/x"));
}

TEST_F(ArchiveTest, GitEntriesWarn) {
  make_zip(out(), {{.name = ".git/config", .content = "x"}});
  ASSERT_TRUE(extract_archive(out(), dst(), log_.log));
  EXPECT_NE(log_.text.find("Part of .git directory is on the list of files to extract"),
            std::string::npos);
}

}  // namespace glr
