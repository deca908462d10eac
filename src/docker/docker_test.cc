// Unit tests for the pure parts of the docker component; the Engine itself is
// exercised by the tests/e2e/docker_*.sh scripts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/docker_config.h"
#include "docker/docker_archive.h"
#include "docker/docker_client.h"
#include "docker/docker_executor.h"

namespace glr {
namespace {

TEST(DockerStreamDemuxer, SplitsFramesAcrossFeeds) {
  std::string stream;
  auto frame = [&](char kind, std::string_view text) {
    stream += kind;
    stream += std::string(3, '\0');
    uint32_t n = static_cast<uint32_t>(text.size());
    stream += static_cast<char>(n >> 24);
    stream += static_cast<char>(n >> 16);
    stream += static_cast<char>(n >> 8);
    stream += static_cast<char>(n);
    stream += text;
  };
  frame(1, "out\n");
  frame(2, "err\n");
  std::string out, err;
  DockerStreamDemuxer demux;
  for (char c : stream) {
    demux.feed(std::string_view(&c, 1), [&](bool is_err, std::string_view b) {
      (is_err ? err : out).append(b);
    });
  }
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");
}

TEST(DockerClient, ComparesApiVersionsNumerically) {
  EXPECT_LT(compare_api_versions("1.9", "1.44"), 0);
  EXPECT_EQ(compare_api_versions("1.44", "1.44"), 0);
  EXPECT_GT(compare_api_versions("1.50", "1.44"), 0);
}

TEST(DockerClient, EndpointFromConfigThenEnvironment) {
  EXPECT_EQ(resolve_docker_endpoint("", false, "", {}).host, "unix:///var/run/docker.sock");
  DockerEndpoint e = resolve_docker_endpoint("", false, "", {"DOCKER_HOST=tcp://127.0.0.1:2375"});
  EXPECT_EQ(e.host, "tcp://127.0.0.1:2375");
  EXPECT_EQ(resolve_docker_endpoint("unix:///x.sock", false, "", {"DOCKER_HOST=tcp://h:1"}).host,
            "unix:///x.sock");
}

TEST(DockerClient, BadHostIsAConfigurationError) {
  DockerClient c(DockerEndpoint{.host = "ftp://x"});
  Result<> r = c.connect();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
}

TEST(DockerClient, UnreachableDaemonIsUnavailable) {
  DockerClient c(DockerEndpoint{.host = "unix:///nonexistent/docker.sock"});
  Result<> r = c.connect();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(r.error().message.find("Cannot connect to the Docker daemon"), std::string::npos);
}

TEST(DockerNames, CleanNameFollowsRfc1123Rules) {
  EXPECT_EQ(docker_clean_name("--Runner_ABC-project-1"), "runnerabc-project-1");
  EXPECT_EQ(docker_clean_name(std::string(80, 'a')).size(), 63u);
}

TEST(DockerNames, ServiceAliases) {
  EXPECT_EQ(docker_service_aliases("registry.example.com:5000/grp/db:1", ""),
            (std::vector<std::string>{"registry.example.com__grp__db", "registry.example.com-grp-db"}));
  EXPECT_EQ(docker_service_aliases("redis:7", "cache, kv"),
            (std::vector<std::string>{"redis", "cache", "kv"}));
}

TEST(DockerRegistryAuth, DockerAuthConfigWinsOverPayloadCredentials) {
  // "user:pa55" in base64.
  Variables vars{Variable{.key = "DOCKER_AUTH_CONFIG",
                          .value = R"({"auths":{"registry.example.com:5000":{"auth":"dXNlcjpwYTU1"}}})"}};
  std::vector<Credential> creds{Credential{.type = "registry", .url = "registry.example.com:5000",
                                           .username = "gitlab-ci-token", .password = Secret{"tok"}}};
  RegistryAuth a = docker_registry_auth("registry.example.com:5000/grp/img:1", vars, creds);
  EXPECT_EQ(a.source, "$DOCKER_AUTH_CONFIG");
  EXPECT_FALSE(a.header.empty());
  a = docker_registry_auth("registry.example.com:5000/grp/img:1", {}, creds);
  EXPECT_EQ(a.source, "job payload (GitLab Registry)");
  a = docker_registry_auth("alpine:3", vars, creds);
  EXPECT_TRUE(a.header.empty());
}

TEST(DockerPull, ErrorKinds) {
  EXPECT_EQ(pull_error_kind(404, ""), ErrorKind::kNotFound);
  EXPECT_EQ(pull_error_kind(200, "manifest unknown: manifest unknown"), ErrorKind::kNotFound);
  EXPECT_EQ(pull_error_kind(500, "unauthorized: authentication required"), ErrorKind::kUnauthorized);
  EXPECT_EQ(pull_error_kind(500, "dial tcp 127.0.0.1:1: connect: connection refused"),
            ErrorKind::kExternalDependency);
}

TEST(DockerConfig, ParsesKeysAndSizes) {
  Result<DockerSettings> s = parse_docker_settings(
      "image = 'alpine'\npull_policy = ['if-not-present', 'never']\nmemory = '512m'\n"
      "cpus = '1.5'\nvolumes = ['/cache']\n[[services]]\nname = 'redis:7'\nalias = 'kv'\n");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->image, "alpine");
  EXPECT_EQ(s->pull_policy.size(), 2u);
  EXPECT_EQ(s->memory, 512 * 1024 * 1024);
  EXPECT_EQ(s->nano_cpus, 1500000000);
  ASSERT_EQ(s->services.size(), 1u);
  EXPECT_EQ(s->services[0].alias, "kv");
}

TEST(DockerConfig, BadValuesNameTheField) {
  Result<DockerSettings> s = parse_docker_settings("memory = '12qq'\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("[runners.docker] memory"), std::string::npos);
  s = parse_docker_settings("pull_policy = ['sometimes']\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("pull_policy"), std::string::npos);
  s = parse_docker_settings("privileged = 'yes'\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("privileged"), std::string::npos);
}

TEST(DockerConfig, ServiceErrorsNameTheServiceAndKey) {
  Result<DockerSettings> s =
      parse_docker_settings("[[services]]\nname = 'a'\n[[services]]\nname = 5\n");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "[runners.docker] services[1].name: expected a string");
  s = parse_docker_settings("[[services]]\nalias = 'kv'\n");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "[runners.docker] services[0].name: is required");
}

TEST(DockerConfig, IntegersOutOfIntRangeAreRefused) {
  Result<DockerSettings> s = parse_docker_settings("services_limit = 4294967297\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("[runners.docker] services_limit"), std::string::npos)
      << s.error().message;
  s = parse_docker_settings("wait_for_services_timeout = -4294967296\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("[runners.docker] wait_for_services_timeout"),
            std::string::npos)
      << s.error().message;
  s = parse_docker_settings("services_limit = -1\nwait_for_services_timeout = 30\n");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->services_limit, -1);
  EXPECT_EQ(s->wait_for_services_timeout, 30);
}

TEST(DockerArchive, DirectoryRoundTrip) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("glr-docker-test-" + std::to_string(::getpid()));
  fs::create_directories(root / "src" / "sub");
  std::ofstream(root / "src" / "sub" / "a.txt") << "hello";
  fs::create_symlink("sub/a.txt", root / "src" / "link");
  Result<std::string> tar = tar_directory(root / "src", "grp/app");
  ASSERT_TRUE(tar) << tar.error().message;
  fs::create_directories(root / "out");
  ASSERT_TRUE(untar_into(*tar, root / "out"));
  std::ifstream in(root / "out" / "grp" / "app" / "sub" / "a.txt");
  std::string text;
  in >> text;
  EXPECT_EQ(text, "hello");
  EXPECT_TRUE(fs::is_symlink(root / "out" / "grp" / "app" / "link"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace glr
