// The helper subcommands' behaviour with canned HTTP (executors §5.4, §5.5, §6.1).
#include "artifacts/helper_commands.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/fake_clock.h"
#include "support/fake_http_transport.h"
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

class HelperCommandsTest : public ::testing::Test {
 protected:
  fs::path wd() const { return tmp_.path() / "builds/grp/app"; }
  fs::path cache_file() const { return tmp_.path() / "cache/grp/app/rspec/main/cache.zip"; }
  std::string rel_cache() const { return "../../../cache/grp/app/rspec/main/cache.zip"; }
  CacheArchiverOptions archiver() const {
    return {.wd = wd(), .file = rel_cache(), .alternate_file = rel_cache(), .paths = {"vendor"},
            .metadata = "{\"CacheKey\":\"rspec/main\"}"};
  }
  void SetUp() override { write_file(wd() / "vendor/lib.rb", "puts 1"); }

  TempDir tmp_;
  FakeHttpTransport http_;
  FakeClock clock_;
  CollectingHelperLog log_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(HttpDate, FormatsAndParsesRfc7231) {
  auto t = std::chrono::system_clock::from_time_t(784111777);
  EXPECT_EQ(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_FALSE(parse_http_date("yesterday"));
}

TEST(CacheMetadata, KeysAreLowerCased) {
  EXPECT_EQ(cache_metadata_json("{\"CacheKey\":\"rspec/main\"}"), "{\"cachekey\":\"rspec/main\"}");
  EXPECT_EQ(cache_metadata_json(""), "{}");
}

TEST_F(HelperCommandsTest, ArchiverWritesCacheAndMetadataThenSkipsWhenUnchanged) {
  ASSERT_TRUE(run_cache_archiver(archiver(), http_, clock_, log_.log, {})) << log_.text;
  ASSERT_TRUE(fs::exists(cache_file()));
  EXPECT_EQ(read_file(cache_file().parent_path() / "metadata.json"), "{\"cachekey\":\"rspec/main\"}");
  EXPECT_TRUE(contains(log_.text, "No URL provided, cache will not be uploaded to shared cache "
                                  "server. Cache will be stored only locally."));
  log_.text.clear();
  ASSERT_TRUE(run_cache_archiver(archiver(), http_, clock_, log_.log, {}));
  EXPECT_TRUE(contains(log_.text, "Archive is up to date!"));
  // A newer file makes it rebuild.
  fs::last_write_time(cache_file(), fs::last_write_time(cache_file()) - std::chrono::hours(1));
  log_.text.clear();
  ASSERT_TRUE(run_cache_archiver(archiver(), http_, clock_, log_.log, {}));
  EXPECT_FALSE(contains(log_.text, "Archive is up to date!"));
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(HelperCommandsTest, ArchiverTarZstdFormatRoundTrips) {
  CacheArchiverOptions o = archiver();
  o.compression_format = "tarzstd";
  ASSERT_TRUE(run_cache_archiver(o, http_, clock_, log_.log, {})) << log_.text;
  EXPECT_EQ(read_file(cache_file()).substr(0, 4), "\x28\xB5\x2F\xFD");
  fs::remove_all(wd() / "vendor");
  ASSERT_TRUE(run_cache_extractor({.wd = wd(), .file = rel_cache()}, http_, clock_, log_.log, {}));
  EXPECT_EQ(read_file(wd() / "vendor/lib.rb"), "puts 1");
}

TEST_F(HelperCommandsTest, ArchiverWithoutFilesOnlyWarns) {
  CacheArchiverOptions o = archiver();
  o.paths = {"nothing-here"};
  ASSERT_TRUE(run_cache_archiver(o, http_, clock_, log_.log, {}));
  EXPECT_TRUE(contains(log_.text, "WARNING: No files to cache."));
  EXPECT_FALSE(fs::exists(cache_file()));
}

TEST_F(HelperCommandsTest, ArchiverRenamesTheAlternateFile) {
  write_file(tmp_.path() / "cache/alt/cache.zip", "old");
  CacheArchiverOptions o = archiver();
  o.alternate_file = "../../../cache/alt/cache.zip";
  ASSERT_TRUE(run_cache_archiver(o, http_, clock_, log_.log, {}));
  EXPECT_TRUE(contains(log_.text, "Renamed alternate cache file to primary"));
  EXPECT_FALSE(fs::exists(tmp_.path() / "cache/alt/cache.zip"));
}

TEST_F(HelperCommandsTest, ArchiverUploadsWithHeadersAndRetries5xx) {
  CacheArchiverOptions o = archiver();
  o.url = "https://bucket.example/runner/x/project/1/rspec?X-Amz-Signature=s";
  o.headers = {"x-amz-meta-cachekey: rspec/main"};
  http_.answers = {FakeHttpTransport::respond(503), FakeHttpTransport::respond(200)};
  ASSERT_TRUE(run_cache_archiver(o, http_, clock_, log_.log, {})) << log_.text;
  ASSERT_EQ(http_.requests.size(), 2u);
  const HttpRequest& put = http_.requests[1];
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.body, read_file(cache_file()));
  EXPECT_EQ(put.headers[0], (HttpHeader{"x-amz-meta-cachekey", "rspec/main"}));
  EXPECT_EQ(put.headers[1], (HttpHeader{"Content-Type", "application/octet-stream"}));
  EXPECT_EQ(put.headers[2].name, "Last-Modified");
  EXPECT_TRUE(contains(log_.text, "Uploading cache.zip to https://bucket.example/runner/x/project/1/rspec"));
  EXPECT_FALSE(contains(log_.text, "X-Amz-Signature"));
}

TEST_F(HelperCommandsTest, ArchiverSizeLimitKeepsCacheLocal) {
  CacheArchiverOptions o = archiver();
  o.url = "https://bucket.example/k";
  o.max_uploaded_archive_size = 1;
  ASSERT_TRUE(run_cache_archiver(o, http_, clock_, log_.log, {}));
  EXPECT_TRUE(http_.requests.empty());
  EXPECT_TRUE(contains(log_.text, "is too big (Limit is set to 1). Cache will be stored only locally."));
}

TEST_F(HelperCommandsTest, ExtractorRestoresTheLocalArchive) {
  ASSERT_TRUE(run_cache_archiver(archiver(), http_, clock_, log_.log, {}));
  fs::remove_all(wd() / "vendor");
  ASSERT_TRUE(run_cache_extractor({.wd = wd(), .file = rel_cache()}, http_, clock_, log_.log, {}));
  EXPECT_EQ(read_file(wd() / "vendor/lib.rb"), "puts 1");
  EXPECT_TRUE(contains(log_.text, "No URL provided, cache will not be downloaded from shared cache "
                                  "server. Instead a local version of cache will be extracted."));
}

TEST_F(HelperCommandsTest, ExtractorMissingArchiveWarnsAndFails) {
  Result<> r = run_cache_extractor({.wd = wd(), .file = rel_cache()}, http_, clock_, log_.log, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "");
  EXPECT_TRUE(contains(log_.text, "WARNING: Cache file does not exist"));
}

TEST_F(HelperCommandsTest, ExtractorRemote404FailsEvenWithALocalArchive) {
  ASSERT_TRUE(run_cache_archiver(archiver(), http_, clock_, log_.log, {}));
  http_.answers = {FakeHttpTransport::respond(404)};
  Result<> r = run_cache_extractor({.wd = wd(), .file = rel_cache(), .url = "https://b/k?sig=1"},
                                   http_, clock_, log_.log, {});
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(log_.text, "WARNING: file does not exist"));
}

TEST_F(HelperCommandsTest, ExtractorDownloadsAndKeepsTheRemoteTime) {
  ASSERT_TRUE(run_cache_archiver(archiver(), http_, clock_, log_.log, {}));
  std::string zip = read_file(cache_file());
  fs::remove(cache_file());
  fs::remove_all(wd() / "vendor");
  http_.answers = {FakeHttpTransport::respond(
      200, {{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}}, zip)};
  ASSERT_TRUE(run_cache_extractor({.wd = wd(), .file = rel_cache(), .url = "https://b/k?sig=1"},
                                  http_, clock_, log_.log, {}))
      << log_.text;
  EXPECT_EQ(read_file(wd() / "vendor/lib.rb"), "puts 1");
  EXPECT_EQ(lstat_mtime(cache_file()), std::chrono::system_clock::from_time_t(784111777));
}

TEST_F(HelperCommandsTest, UploaderWithoutFilesLogsErrorButSucceeds) {
  ArtifactsUploaderOptions o{.credentials = {.url = "http://gl/", .token = "glcbt-x", .id = 5},
                             .selection = {.wd = wd(), .paths = {"missing"}}};
  ASSERT_TRUE(run_artifacts_uploader(o, http_, clock_, log_.log, {}));
  EXPECT_TRUE(contains(log_.text, "ERROR: No files to upload"));
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(HelperCommandsTest, UploaderRawSendsTheFileAsIs) {
  write_file(wd() / "report.json", "{\"ok\":true}");
  ArtifactsUploaderOptions o{
      .credentials = {.url = "http://gl/", .token = "glcbt-x", .id = 5},
      .upload = {.name = "gl-sast-report.json", .artifact_format = "raw", .artifact_type = "sast"},
      .selection = {.wd = wd(), .paths = {"report.json"}}};
  http_.answers = {FakeHttpTransport::respond(201)};
  ASSERT_TRUE(run_artifacts_uploader(o, http_, clock_, log_.log, {})) << log_.text;
  ASSERT_EQ(http_.requests.size(), 1u);
  EXPECT_EQ(http_.requests[0].url,
            "http://gl/api/v4/jobs/5/artifacts?artifact_format=raw&artifact_type=sast");
  EXPECT_TRUE(contains(http_.requests[0].body,
                       "filename=\"gl-sast-report.json\"\r\nContent-Type: "
                       "application/octet-stream\r\n\r\n{\"ok\":true}\r\n--"));
}

TEST_F(HelperCommandsTest, DownloaderNeedsCompleteArguments) {
  Result<> r = run_artifacts_downloader({.wd = wd()}, http_, clock_, log_.log, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "Incomplete arguments");
  EXPECT_TRUE(contains(log_.text, "WARNING: Missing URL (--url)"));
}

}  // namespace glr
