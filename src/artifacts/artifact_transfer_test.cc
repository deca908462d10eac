// The artifact wire protocol against the fake GitLab over real HTTP (api spec §6.1, §6.2).
#include "artifacts/artifact_transfer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "http/curl_transport.h"
#include "support/fake_clock.h"
#include "support/fake_gitlab/fake_gitlab.h"
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

class ArtifactTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    job_id_ = gitlab_.enqueue_job("{}");
    creds_ = {.url = gitlab_.url(), .token = gitlab_.job_token(job_id_), .id = job_id_};
    write_file(tmp_.path() / "src/out/a.txt", "alpha");
    write_file(tmp_.path() / "src/out/b.bin", std::string(70000, '\x01'));
    FileSelection files = select_files({.wd = tmp_.path() / "src", .paths = {"out"}}, log_.log);
    ASSERT_TRUE(write_archive(ArtifactFormat::kZip, tmp_.path() / "src", files, zip(), 1, log_.log));
  }
  fs::path zip() const { return tmp_.path() / "archive.zip"; }
  int artifact_requests() const {
    int n = 0;
    for (const RecordedRequest& r : gitlab_.requests()) n += r.target.find("/artifacts") != std::string::npos;
    return n;
  }

  FakeGitLab gitlab_;
  CurlTransport http_;
  FakeClock clock_;
  TempDir tmp_;
  CollectingHelperLog log_;
  int64_t job_id_ = 0;
  JobCredentials creds_;
};

}  // namespace

TEST(ArtifactUploadPath, QueryArgsSortedAndFormEncoded) {
  EXPECT_EQ(artifact_upload_path(7, {.name = "x", .expire_in = "1 week", .artifact_format = "zip",
                                     .artifact_type = "archive"}),
            "jobs/7/artifacts?artifact_format=zip&artifact_type=archive&expire_in=1+week");
  EXPECT_EQ(artifact_upload_path(7, {}), "jobs/7/artifacts?");
  EXPECT_EQ(url_query_escape("a&b=c/d"), "a%26b%3Dc%2Fd");
}

TEST_F(ArtifactTransferTest, UploadSendsTheArchiveByteForByteWithQueryAndToken) {
  ArtifactUpload up{.name = "my build", .expire_in = "1 week", .artifact_format = "zip",
                    .artifact_type = "archive"};
  ASSERT_TRUE(upload_artifact(http_, clock_, creds_, up, zip(), log_.log, {})) << log_.text;
  std::vector<FakeGitLab::UploadedArtifact> ups = gitlab_.uploaded_artifacts();
  ASSERT_EQ(ups.size(), 1u);
  EXPECT_EQ(ups[0].job_id, job_id_);
  EXPECT_EQ(ups[0].field_name, "file");
  EXPECT_EQ(ups[0].filename, "my build.zip");
  EXPECT_EQ(ups[0].content_type, "application/octet-stream");
  EXPECT_EQ(ups[0].content, read_file(zip()));
  EXPECT_EQ(ups[0].query, "artifact_format=zip&artifact_type=archive&expire_in=1+week");
  EXPECT_NE(ups[0].request_content_type.find("multipart/form-data; boundary="), std::string::npos);
  EXPECT_EQ(gitlab_.requests().back().header("JOB-TOKEN"), creds_.token);
  EXPECT_NE(log_.text.find("Uploading artifacts as \"archive\" to coordinator... 201 Created"),
            std::string::npos);
}

TEST_F(ArtifactTransferTest, ForbiddenIsFatalWithoutRetry) {
  creds_.token = "glcbt-wrong";
  Result<> r = upload_artifact(http_, clock_, creds_, {}, zip(), log_.log, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "permission denied");
  EXPECT_EQ(artifact_requests(), 1);
}

TEST_F(ArtifactTransferTest, TooLargeIsReportedWithoutRetry) {
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kArtifacts, .count = -1, .status = 413});
  Result<> r = upload_artifact(http_, clock_, creds_, {}, zip(), log_.log, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "too large");
  EXPECT_EQ(artifact_requests(), 1);
  EXPECT_NE(log_.text.find("ERROR: Uploading artifacts to coordinator... 413"), std::string::npos);
}

TEST_F(ArtifactTransferTest, ServiceUnavailableIsTriedSixTimesWithCappedBackoff) {
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kArtifacts, .count = -1, .status = 503});
  Result<> r = upload_artifact(http_, clock_, creds_, {}, zip(), log_.log, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(artifact_requests(), 6);
  using std::chrono::seconds;
  EXPECT_EQ(clock_.sleeps(), (std::vector<std::chrono::nanoseconds>{seconds(1), seconds(2), seconds(4),
                                                                    seconds(5), seconds(5)}));
}

TEST_F(ArtifactTransferTest, OtherFailuresAreTriedThreeTimesThenSucceedOrFail) {
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kArtifacts, .count = 2, .status = 500});
  ASSERT_TRUE(upload_artifact(http_, clock_, creds_, {}, zip(), log_.log, {})) << log_.text;
  EXPECT_EQ(artifact_requests(), 3);
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kArtifacts, .count = -1, .status = 400});
  EXPECT_FALSE(upload_artifact(http_, clock_, creds_, {}, zip(), log_.log, {}));
  EXPECT_EQ(artifact_requests(), 6);
}

TEST_F(ArtifactTransferTest, DownloadExtractsIntoTheProjectDir) {
  gitlab_.set_artifact(4242, "artifacts.zip", read_file(zip()));
  fs::path project = tmp_.path() / "project";
  ASSERT_TRUE(download_artifacts(http_, clock_, {.url = gitlab_.url(), .token = creds_.token, .id = 4242},
                                 {.direct_download = true, .staging_dir = tmp_.path() / "stage"},
                                 project, log_.log, {}))
      << log_.text;
  EXPECT_EQ(read_file(project / "out/a.txt"), "alpha");
  EXPECT_EQ(read_file(project / "out/b.bin"), std::string(70000, '\x01'));
  RecordedRequest get = gitlab_.requests().back();
  EXPECT_EQ(get.target, "/api/v4/jobs/4242/artifacts?direct_download=true");
  EXPECT_EQ(get.header("JOB-TOKEN"), creds_.token);
  EXPECT_NE(log_.text.find("Downloading artifacts from coordinator... ok"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(tmp_.path() / "stage"));
}

TEST_F(ArtifactTransferTest, DownloadFollowsRedirectToObjectStorage) {
  gitlab_.set_artifact(4242, "artifacts.zip", read_file(zip()));
  gitlab_.set_artifact_download_redirect(true);
  fs::path project = tmp_.path() / "project";
  ASSERT_TRUE(download_artifacts(http_, clock_, {.url = gitlab_.url(), .token = creds_.token, .id = 4242},
                                 {}, project, log_.log, {}))
      << log_.text;
  EXPECT_EQ(read_file(project / "out/a.txt"), "alpha");
  EXPECT_EQ(gitlab_.requests().back().target.rfind("/__storage/artifacts/4242?", 0), 0u);
}

TEST_F(ArtifactTransferTest, DownloadNotFoundAndForbiddenAreFatalAtOnce) {
  Result<> r = download_artifacts(http_, clock_, {.url = gitlab_.url(), .token = creds_.token, .id = 1},
                                  {}, tmp_.path() / "p", log_.log, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "file does not exist");
  gitlab_.set_artifact(1, "a.zip", "x");
  r = download_artifacts(http_, clock_, {.url = gitlab_.url(), .token = "nope", .id = 1}, {},
                         tmp_.path() / "p", log_.log, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "permission denied");
  EXPECT_EQ(artifact_requests(), 2);
}

TEST_F(ArtifactTransferTest, DownloadRetriesServerErrorsThreeTimesWithoutDirectDownloadLater) {
  gitlab_.set_artifact(4242, "artifacts.zip", read_file(zip()));
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kArtifacts, .count = 2, .status = 502});
  ASSERT_TRUE(download_artifacts(http_, clock_, {.url = gitlab_.url(), .token = creds_.token, .id = 4242},
                                 {.direct_download = true}, tmp_.path() / "p", log_.log, {}));
  std::vector<RecordedRequest> reqs = gitlab_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/api/v4/jobs/4242/artifacts?direct_download=true");
  EXPECT_EQ(reqs[1].target, "/api/v4/jobs/4242/artifacts");
  EXPECT_EQ(reqs[2].target, "/api/v4/jobs/4242/artifacts");
  EXPECT_EQ(clock_.sleeps().size(), 2u);
}

}  // namespace glr
