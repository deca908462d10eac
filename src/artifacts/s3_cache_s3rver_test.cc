// The S3 cache end to end against s3rver (an S3-compatible server on 127.0.0.1): presigned PUT
// from cache-archiver, presigned GET into cache-extractor, 404 for a missing key. s3rver comes
// from src/artifacts/s3rver/install.sh; without it the test skips.
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "artifacts/helper_commands.h"
#include "artifacts/s3_cache.h"
#include "http/curl_transport.h"
#include "process/subprocess.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

namespace fs = std::filesystem;

class S3rver {
 public:
  explicit S3rver(const fs::path& data) {
    const char* path = std::getenv("PATH");
    Result<Subprocess> child = Subprocess::spawn(
        {.argv = {GLR_S3RVER_BIN, "-d", data.string(), "-a", "127.0.0.1", "-p", "0",
                  "--configure-bucket", "cache", "--no-vhost-buckets"},
         .env = {"PATH=" + std::string(path != nullptr ? path : "/usr/bin:/bin"),
                 "HOME=" + data.string()},
         .cwd = data,
         .stdin_data = {}});
    if (!child) return;
    child_.emplace(std::move(*child));
    std::string out;
    // Wait (poll with a deadline, no sleeps) for "S3rver listening on 127.0.0.1:PORT".
    for (int i = 0; i < 200 && port_.empty(); ++i) {
      struct pollfd p {child_->stdout_fd(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[512];
      ssize_t n = ::read(child_->stdout_fd(), buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      size_t at = out.find("listening on 127.0.0.1:");
      if (at != std::string::npos) {
        size_t s = at + 23;
        size_t e = s;
        while (e < out.size() && std::isdigit(static_cast<unsigned char>(out[e])) != 0) ++e;
        if (e < out.size()) port_ = out.substr(s, e - s);
      }
    }
  }
  const std::string& port() const { return port_; }

 private:
  std::optional<Subprocess> child_;
  std::string port_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(S3CacheS3rver, ArchiverPutsAndExtractorGetsThroughPresignedUrls) {
  if (!fs::exists(GLR_S3RVER_BIN)) {
    GTEST_SKIP() << "s3rver not installed: src/artifacts/s3rver/install.sh " << GLR_S3RVER_DIR;
  }
  TempDir tmp;
  fs::create_directories(tmp.path() / "s3");
  S3rver server(tmp.path() / "s3");
  ASSERT_FALSE(server.port().empty()) << "s3rver did not start";

  S3CacheConfig config{.server_address = "127.0.0.1:" + server.port(), .insecure = true,
                       .bucket_name = "cache"};
  AwsCredentials creds{.access_key_id = "S3RVER", .secret_access_key = "S3RVER"};
  const std::string object = "runner/abc123def/project/7/rspec/main";
  auto now = std::chrono::system_clock::now();
  Result<PresignedUrl> put = s3_presign(config, creds, "PUT", object, now, std::chrono::hours(1),
                                        {{"cachekey", "rspec/main"}});
  ASSERT_TRUE(put);
  CurlTransport http;
  FakeClock clock;

  fs::path wd = tmp.path() / "builds/p";
  fs::create_directories(wd / "vendor");
  std::ofstream(wd / "vendor/gem.rb") << "puts :cached";
  CollectingHelperLog log;
  ASSERT_TRUE(run_cache_archiver({.wd = wd, .file = "../../cache/rspec/main/cache.zip",
                                  .paths = {"vendor"}, .url = put->url, .headers = put->headers},
                                 http, clock, log.log, {}))
      << log.text;
  EXPECT_NE(log.text.find("Uploading cache.zip to http://127.0.0.1:" + server.port() +
                          "/cache/runner/abc123def/project/7/rspec/main"),
            std::string::npos)
      << log.text;

  // Another machine: no local archive, the presigned GET brings it.
  fs::path wd2 = tmp.path() / "other/p";
  fs::create_directories(wd2);
  Result<PresignedUrl> get = s3_presign(config, creds, "GET", object, now, std::chrono::hours(1));
  ASSERT_TRUE(get);
  ASSERT_TRUE(run_cache_extractor({.wd = wd2, .file = "../../cache/rspec/main/cache.zip", .url = get->url},
                                  http, clock, log.log, {}))
      << log.text;
  EXPECT_EQ(read_file(wd2 / "vendor/gem.rb"), "puts :cached");

  // A key nobody wrote: 404, the extractor fails with the official warning.
  Result<PresignedUrl> missing = s3_presign(config, creds, "GET", "runner/x/project/7/none", now,
                                            std::chrono::hours(1));
  ASSERT_TRUE(missing);
  log.text.clear();
  EXPECT_FALSE(run_cache_extractor({.wd = wd2, .file = "../../cache/none/cache.zip", .url = missing->url},
                                   http, clock, log.log, {}));
  EXPECT_NE(log.text.find("WARNING: file does not exist"), std::string::npos) << log.text;

  // An expired URL (presigned for a job whose timeout has passed) is refused: 403, no extraction.
  Result<PresignedUrl> bad = s3_presign(config, creds, "GET", object, now - std::chrono::hours(2),
                                        std::chrono::hours(1));
  ASSERT_TRUE(bad);
  log.text.clear();
  EXPECT_FALSE(run_cache_extractor({.wd = wd2, .file = "../../cache/bad/cache.zip", .url = bad->url},
                                   http, clock, log.log, {}))
      << log.text;
  EXPECT_NE(log.text.find("WARNING: received: 403"), std::string::npos) << log.text;
}

}  // namespace glr
