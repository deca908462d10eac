// Tests for writing config.toml (api spec §1.7, §1.6, §8, §10.2): exact shape, lossless
// load -> write round trips, and atomic saves that never lose the old file.
#include "config/config_writer.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/runner_config.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::optional<std::string> no_env(std::string_view) { return std::nullopt; }

GlobalConfig parse_ok(std::string_view text) {
  Result<GlobalConfig> c = parse_config(text, "config.toml", no_env);
  EXPECT_TRUE(c) << c.error().message << "\n" << text;
  return c ? *c : GlobalConfig{};
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Field-by-field comparison, so a failing round trip names the field that changed.
void expect_same_runner(const RunnerSettings& a, const RunnerSettings& b, size_t i) {
  SCOPED_TRACE("runners[" + std::to_string(i) + "] " + a.name);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.token.value, b.token.value);
  EXPECT_EQ(a.token_obtained_at, b.token_obtained_at);
  EXPECT_EQ(a.token_expires_at, b.token_expires_at);
  EXPECT_EQ(a.executor, b.executor);
  EXPECT_EQ(a.environment, b.environment);
  EXPECT_EQ(a.pre_get_sources_script, b.pre_get_sources_script);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.feature_flags, b.feature_flags);
  EXPECT_EQ(a.sections, b.sections);
  EXPECT_EQ(a.raw_sections, b.raw_sections);
  EXPECT_EQ(a.unknown_values, b.unknown_values);
  EXPECT_EQ(a, b);  // and everything else
}

void expect_same_config(const GlobalConfig& a, const GlobalConfig& b) {
  EXPECT_EQ(a.sections, b.sections);
  EXPECT_EQ(a.raw_sections, b.raw_sections);
  EXPECT_EQ(a.unknown_keys, b.unknown_keys);
  EXPECT_EQ(a.unknown_values, b.unknown_values);
  EXPECT_EQ(a.labels, b.labels);
  ASSERT_EQ(a.runners.size(), b.runners.size());
  for (size_t i = 0; i < a.runners.size(); ++i) expect_same_runner(a.runners[i], b.runners[i], i);
  EXPECT_EQ(a, b);
}

// The one normalisation of a write: an absent timestamp is written as Go's zero time (§1.7).
GlobalConfig with_zero_timestamps(GlobalConfig c) {
  for (RunnerSettings& r : c.runners) {
    if (r.token_obtained_at.empty()) r.token_obtained_at = "0001-01-01T00:00:00Z";
    if (r.token_expires_at.empty()) r.token_expires_at = "0001-01-01T00:00:00Z";
  }
  return c;
}

// What `register` builds for a fresh docker runner (§1.7), as plain values.
GlobalConfig fresh_register_config() {
  RunnerSettings r;
  r.name = "build-host-01";
  r.url = "https://gitlab.example.com/";
  r.id = 4211;
  r.token.value = "glrt-t1_AbCdEfGhIjKlMnOpQrSt";
  r.token_obtained_at = "2026-05-04T10:11:12Z";
  r.executor = "docker";
  r.sections = {"cache", "docker"};
  r.raw_sections["cache"] =
      "MaxUploadedArchiveSize = 0\n\n[s3]\nAssumeRoleMaxConcurrency = 0\n\n[gcs]\n\n[azure]\n";
  r.raw_sections["docker"] = "image = \"alpine:3.20\"\nvolumes = [\"/cache\"]\n";
  GlobalConfig c;
  c.sections = {"session_server"};
  c.raw_sections["session_server"] = "session_timeout = 1800\n";
  c.runners.push_back(r);
  return c;
}

// §1.7's file, as we write it: toml++ spaces inside brackets and sorts sub-tables by name.
constexpr std::string_view kFreshRegisterFile = R"(concurrent = 1
check_interval = 0
connection_max_age = "15m0s"
shutdown_timeout = 0

[session_server]
  session_timeout = 1800

[[runners]]
  name = "build-host-01"
  url = "https://gitlab.example.com/"
  id = 4211
  token = "glrt-t1_AbCdEfGhIjKlMnOpQrSt"
  token_obtained_at = 2026-05-04T10:11:12Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "docker"
  [runners.cache]
    MaxUploadedArchiveSize = 0
    [runners.cache.azure]
    [runners.cache.gcs]
    [runners.cache.s3]
      AssumeRoleMaxConcurrency = 0
  [runners.docker]
    image = "alpine:3.20"
    volumes = [ "/cache" ]
)";

TEST(ConfigWriter, RendersAFreshRegisterConfigInTheGoShape) {
  EXPECT_EQ(render_config(fresh_register_config()), kFreshRegisterFile);
}

TEST(ConfigWriter, RendersTheOfficialRegisterFileEquivalently) {
  // The file the Go runner writes (§1.7), loaded and written again.
  constexpr std::string_view kGoFile = R"(concurrent = 1
check_interval = 0
connection_max_age = "15m0s"
shutdown_timeout = 0

[session_server]
  session_timeout = 1800

[[runners]]
  name = "build-host-01"
  url = "https://gitlab.example.com/"
  id = 4211
  token = "glrt-t1_AbCdEfGhIjKlMnOpQrSt"
  token_obtained_at = 2026-05-04T10:11:12Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "docker"
  [runners.cache]
    MaxUploadedArchiveSize = 0
    [runners.cache.s3]
      AssumeRoleMaxConcurrency = 0
    [runners.cache.gcs]
    [runners.cache.azure]
  [runners.docker]
    image = "alpine:3.20"
    volumes = ["/cache"]
)";
  GlobalConfig c = parse_ok(kGoFile);
  EXPECT_EQ(render_config(c), kFreshRegisterFile);
  EXPECT_EQ(parse_ok(render_config(c)), c);
}

TEST(ConfigWriter, WritesOptionalGlobalKeysOnlyWhenSet) {
  GlobalConfig c;
  c.concurrent = 4;
  c.check_interval = 10;
  c.listen_address = ":9252";
  c.log_level = "debug";
  c.log_format = "json";
  c.shutdown_timeout = 60;
  c.connection_max_age = 90s;
  EXPECT_EQ(render_config(c), R"(listen_address = ":9252"
concurrent = 4
check_interval = 10
log_level = "debug"
log_format = "json"
connection_max_age = "1m30s"
shutdown_timeout = 60
)");
}

TEST(ConfigWriter, WritesNonDefaultRunnerKeysInGoFieldOrder) {
  RunnerSettings r;
  r.name = "n";
  r.url = "https://gitlab.example.com";
  r.token.value = "glrt-x";
  r.executor = "shell";
  r.shell = "bash";
  r.builds_dir = "/b";
  r.cache_dir = "/c";
  r.clone_url = "https://mirror";
  r.environment = {"A=1", "B=\"two\""};
  r.limit = 2;
  r.output_limit = 8192;
  r.request_concurrency = 3;
  r.unhealthy_interval = 2h;
  r.pre_build_script = "echo pre\necho two";
  r.debug_trace_disabled = true;
  r.clean_git_config = false;
  r.prepare_timeout = 90s;
  r.labels = {{"team", "ci"}};
  r.feature_flags = {{"FF_USE_FASTZIP", true}};
  r.custom_build_dir_enabled = true;
  GlobalConfig c;
  c.runners.push_back(r);
  EXPECT_EQ(render_config(c), R"(concurrent = 1
check_interval = 0
connection_max_age = "15m0s"
shutdown_timeout = 0

[[runners]]
  name = "n"
  limit = 2
  output_limit = 8192
  request_concurrency = 3
  unhealthy_interval = "2h0m0s"
  url = "https://gitlab.example.com"
  id = 0
  token = "glrt-x"
  token_obtained_at = 0001-01-01T00:00:00Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "shell"
  builds_dir = "/b"
  cache_dir = "/c"
  clone_url = "https://mirror"
  environment = [ "A=1", "B=\"two\"" ]
  pre_build_script = "echo pre\necho two"
  prepare_timeout = "1m30s"
  debug_trace_disabled = true
  clean_git_config = false
  shell = "bash"
  [runners.labels]
    team = "ci"
  [runners.custom_build_dir]
    enabled = true
  [runners.feature_flags]
    FF_USE_FASTZIP = true
)");
  GlobalConfig back = parse_ok(render_config(c));
  ASSERT_EQ(back.runners.size(), 1u);
  const RunnerSettings& b = back.runners[0];
  EXPECT_EQ(b.environment, r.environment);
  EXPECT_EQ(b.pre_build_script, r.pre_build_script);
  EXPECT_EQ(b.unhealthy_interval, 2h);
  EXPECT_EQ(b.prepare_timeout, 90s);
  EXPECT_EQ(b.clean_git_config, std::optional<bool>(false));
  EXPECT_EQ(b.labels, r.labels);
  EXPECT_EQ(b.feature_flags, r.feature_flags);
  EXPECT_EQ(b.custom_build_dir_enabled, std::optional<bool>(true));
}

// Everything a real file may hold, including sections and keys nobody models.
constexpr std::string_view kRichFile = R"(listen_address = "0.0.0.0:9252"
concurrent = 10
check_interval = 5
log_level = "warning"
log_format = "text"
sentry_dsn = "https://sentry.example.com/1"
connection_max_age = "1h"
shutdown_timeout = 45
some_future_key = [1, 2, 3]

[labels]
region = "eu"
"app.kubernetes.io/name" = "runner"

[session_server]
listen_address = "[::]:8093"
advertise_address = "runner.example.com:8093"
session_timeout = 1800

[machine.shutdown_drain]
enabled = true
retry_backoff = "5s"

[experimental.usage_logger]
enabled = true
writers = ["logrotate", "snowplow_billing"]
[experimental.usage_logger.logrotate]
log_dir = "/var/log/usage"
max_backup_files = 0x10

[[runners]]
name = "docker-1"
url = "https://gitlab.example.com/"
id = 42
token = "glrt-abc"
token_obtained_at = 2026-05-04T10:11:12.123456789Z
token_expires_at = 2026-08-02T10:11:12+02:00
tls-ca-file = "/etc/ca.pem"
executor = "docker"
shell = "bash"
limit = 4
request_concurrency = 2
environment = ["GIT_DEPTH=10", "A=b c"]
pre_get_sources_script = '''
echo "multi"
echo 'line'
'''
unhealthy_requests_limit = 5
unhealthy_interval = "30m"
job_status_final_update_retry_limit = 7
safe_directory_checkout = true
step_runner_image = "registry.example.com/step:1"
not_a_runner_key = "kept"
another_unknown = 3.25
[runners.labels]
tier = "gold"
[runners.feature_flags]
FF_USE_FASTZIP = true
FF_SCRIPT_SECTIONS = false
[runners.custom_build_dir]
enabled = true
[runners.cache]
Type = "s3"
Shared = true
MaxUploadedArchiveSize = 1_000_000
[runners.cache.s3]
ServerAddress = "s3.example.com"
BucketName = "runner-cache"
Insecure = false
[runners.docker]
image = "alpine:3.20"
privileged = true
volumes = ["/cache", "/var/run/docker.sock:/var/run/docker.sock", "/very/long/path/that/forces/the/array/to/wrap/over/several/lines:/mnt/x:ro", "/another/quite/long/volume/path:/y"]
container_labels = { "com.example.team" = "ci", owner = "ops" }
shm_size = 0
cpus = "1.5"
tmpfs = { "/tmp" = "rw,noexec" }
[[runners.docker.services]]
name = "postgres:16"
alias = "db"
[[runners.docker.services]]
name = "redis:7"
command = ["redis-server", "--appendonly", "yes"]
[runners.something_new.deeper]
x = 1

[[runners]]
name = "k8s"
url = "https://gitlab.example.com/"
token = "glrt-def"
executor = "kubernetes"
[runners.kubernetes]
namespace = "ci"
poll_timeout = 600
[runners.kubernetes.node_selector]
"kubernetes.io/arch" = "amd64"
[runners.kubernetes.volumes]
[[runners.kubernetes.volumes.empty_dir]]
name = "scratch"
mount_path = "/scratch"
medium = "Memory"
[[runners.kubernetes.volumes.host_path]]
name = "docker"
mount_path = "/var/run/docker.sock"
[[runners.kubernetes.services]]
name = "mysql"
[runners.kubernetes.pod_security_context]
run_as_user = 1000
)";

TEST(ConfigWriter, RoundTripKeepsEveryFieldSectionAndUnknownKey) {
  GlobalConfig c = parse_ok(kRichFile);
  ASSERT_EQ(c.runners.size(), 2u);
  const std::string text = render_config(c);
  GlobalConfig back = parse_ok(text);
  expect_same_config(back, with_zero_timestamps(c));
  // Writing is a fixed point: the second write is byte-identical.
  EXPECT_EQ(render_config(back), text);

  // Spot checks that the content survived, not only that both sides agree.
  EXPECT_EQ(back.unknown_values,
            (std::vector<std::pair<std::string, std::string>>{{"some_future_key", "[ 1, 2, 3 ]"}}));
  const RunnerSettings& r = back.runners[0];
  EXPECT_EQ(r.unknown_values, (std::vector<std::pair<std::string, std::string>>{
                                  {"not_a_runner_key", "\"kept\""}, {"another_unknown", "3.25"}}));
  EXPECT_EQ(r.token_obtained_at, "2026-05-04T10:11:12.123456789Z");
  EXPECT_EQ(r.token_expires_at, "2026-08-02T10:11:12+02:00");
  EXPECT_EQ(r.pre_get_sources_script, "echo \"multi\"\necho 'line'\n");
  EXPECT_EQ(r.sections, (std::vector<std::string>{"labels", "feature_flags", "custom_build_dir",
                                                  "cache", "docker", "something_new"}));
  EXPECT_NE(text.find("[[runners.docker.services]]"), std::string::npos) << text;
  EXPECT_NE(text.find("[[runners.kubernetes.volumes.empty_dir]]"), std::string::npos) << text;
  EXPECT_NE(text.find("  [runners.something_new]\n    [runners.something_new.deeper]\n      x = 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("container_labels = { \"com.example.team\" = \"ci\", owner = \"ops\" }"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("max_backup_files = 16"), std::string::npos) << text;
}

TEST(ConfigWriter, GlobalSectionsAfterTheRunnersAreKept) {
  GlobalConfig c = parse_ok(R"(concurrent = 2
[[runners]]
name = "a"
url = "https://x"
token = "t"
executor = "shell"

[session_server]
session_timeout = 10
)");
  GlobalConfig back = parse_ok(render_config(c));
  EXPECT_EQ(back.raw_sections, c.raw_sections);
  EXPECT_EQ(back.runners, with_zero_timestamps(c).runners);
}

TEST(ConfigWriter, TokenRotationRewritesOnlyTheTokenFields) {
  GlobalConfig c = with_zero_timestamps(parse_ok(kRichFile));
  GlobalConfig rotated = c;
  rotated.runners[0].token.value = "glrt-rotated";
  rotated.runners[0].token_obtained_at = "2026-06-01T00:00:00Z";
  rotated.runners[0].token_expires_at = "2026-09-01T00:00:00Z";
  GlobalConfig back = parse_ok(render_config(rotated));
  EXPECT_EQ(back, rotated);
  EXPECT_EQ(back.runners[0].token.value, "glrt-rotated");
  EXPECT_EQ(back.runners[1], c.runners[1]);
}

TEST(ConfigWriter, ModelledTablesAreWrittenFromTheFields) {
  GlobalConfig c = parse_ok(kRichFile);
  RunnerSettings& r = c.runners[0];
  r.labels = {{"tier", "silver"}, {"new", "yes"}};
  r.feature_flags.erase("FF_SCRIPT_SECTIONS");
  r.custom_build_dir_enabled.reset();
  c.labels.erase("region");
  GlobalConfig back = parse_ok(render_config(c));
  EXPECT_EQ(back.runners[0].labels, r.labels);
  EXPECT_EQ(back.runners[0].feature_flags, (std::map<std::string, bool>{{"FF_USE_FASTZIP", true}}));
  EXPECT_FALSE(back.runners[0].custom_build_dir_enabled.has_value());
  EXPECT_EQ(back.labels, c.labels);
}

TEST(ConfigWriter, TimestampsThatAreNotDatetimesStayStrings) {
  GlobalConfig c = fresh_register_config();
  c.runners[0].token_obtained_at = "yesterday\nevil = 1";
  const std::string text = render_config(c);
  EXPECT_NE(text.find("token_obtained_at = \"yesterday\\nevil = 1\""), std::string::npos) << text;
  EXPECT_EQ(parse_ok(text).runners[0].token_obtained_at, "yesterday\nevil = 1");
}

TEST(ConfigWriter, KeysThatNeedQuotingAreQuoted) {
  GlobalConfig c;
  c.labels = {{"a.b c", "v\"q"}};
  const std::string text = render_config(c);
  EXPECT_NE(text.find("\"a.b c\" = \"v\\\"q\""), std::string::npos) << text;
  EXPECT_EQ(parse_ok(text).labels, c.labels);
}

TEST(ConfigWriter, InvalidKeptTextIsReportedNotDropped) {
  GlobalConfig c = fresh_register_config();
  c.runners[0].raw_sections["docker"] = "image = \n";
  Result<std::string> checked = try_render_config(c);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(checked.error().message.find("runners[0]: section [runners.docker]"), std::string::npos)
      << checked.error().message;
  const std::string text = render_config(c);
  EXPECT_NE(text.find("    # image = "), std::string::npos) << text;
}

TEST(ConfigSave, CreatesDirectory0700AndFile0600WithNoTempLeft) {
  TempDir tmp;
  const fs::path path = tmp.path() / "a" / "b" / "config.toml";
  ASSERT_TRUE(save_config_atomic(path, fresh_register_config()));
  EXPECT_EQ(read_file(path), kFreshRegisterFile);
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(tmp.path() / "a"), 0700u);
  EXPECT_EQ(mode_of(tmp.path() / "a" / "b"), 0700u);
  EXPECT_EQ(names_in(path.parent_path()), std::vector<std::string>{"config.toml"});
  Result<GlobalConfig> loaded = load_config(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->runners[0].token.value, "glrt-t1_AbCdEfGhIjKlMnOpQrSt");
}

TEST(ConfigSave, ReplacesAnExistingFileAndLeavesTheDirectoryModeAlone) {
  TempDir tmp;
  const fs::path path = tmp.path() / "config.toml";
  write_file(path, "concurrent = 7\n");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  ASSERT_TRUE(save_config_atomic(path, fresh_register_config()));
  EXPECT_EQ(read_file(path), kFreshRegisterFile);
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(tmp.path()), 0755u);
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"config.toml"});
}

TEST(ConfigSave, ReadOnlyDirectoryFailsAndKeepsTheOldFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir tmp;
  const fs::path dir = tmp.path() / "ro";
  fs::create_directory(dir);
  const fs::path path = dir / "config.toml";
  write_file(path, "concurrent = 7\n");
  ASSERT_EQ(::chmod(dir.c_str(), 0500), 0);
  Result<> saved = save_config_atomic(path, fresh_register_config());
  ::chmod(dir.c_str(), 0700);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().kind, ErrorKind::kIo);
  EXPECT_NE(saved.error().message.find(path.string()), std::string::npos);
  EXPECT_EQ(read_file(path), "concurrent = 7\n");
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"config.toml"});
}

// Restores the file size limit and SIGXFSZ on scope exit.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = old_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  struct rlimit old_ {};
  void (*old_handler_)(int) = nullptr;
};

TEST(ConfigSave, FailedWriteRemovesTheTempFileAndKeepsTheOldFile) {
  // RLIMIT_FSIZE makes write() fail with EFBIG even for root: a real mid-write failure.
  TempDir tmp;
  const fs::path path = tmp.path() / "config.toml";
  write_file(path, "concurrent = 7\n");
  Result<> saved;
  {
    FileSizeLimit limit(64);
    saved = save_config_atomic(path, fresh_register_config());
  }
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().kind, ErrorKind::kIo);
  EXPECT_NE(saved.error().message.find(path.string()), std::string::npos) << saved.error().message;
  EXPECT_EQ(read_file(path), "concurrent = 7\n");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"config.toml"});
}

TEST(ConfigSave, FailedRenameRemovesTheTempFile) {
  TempDir tmp;
  const fs::path path = tmp.path() / "config.toml";
  fs::create_directory(path);
  write_file(path / "keep", "x");
  Result<> saved = save_config_atomic(path, fresh_register_config());
  ASSERT_FALSE(saved);
  EXPECT_NE(saved.error().message.find(path.string()), std::string::npos) << saved.error().message;
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"config.toml"});
  EXPECT_EQ(read_file(path / "keep"), "x");
}

TEST(ConfigSave, ParentThatIsAFileIsAnErrorNamingThePath) {
  TempDir tmp;
  write_file(tmp.path() / "file", "x");
  const fs::path path = tmp.path() / "file" / "config.toml";
  Result<> saved = save_config_atomic(path, fresh_register_config());
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().kind, ErrorKind::kIo);
  EXPECT_NE(saved.error().message.find(path.string()), std::string::npos) << saved.error().message;
}

TEST(ConfigSave, FollowsASymlinkedConfigFile) {
  TempDir tmp;
  const fs::path real = tmp.path() / "real" / "config.toml";
  fs::create_directories(real.parent_path());
  write_file(real, "concurrent = 7\n");
  const fs::path link = tmp.path() / "config.toml";
  fs::create_symlink(real, link);
  ASSERT_TRUE(save_config_atomic(link, fresh_register_config()));
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(read_file(real), kFreshRegisterFile);
}

TEST(ConfigSave, RefusesAConfigWhoseKeptTextIsInvalidAndKeepsTheOldFile) {
  TempDir tmp;
  const fs::path path = tmp.path() / "config.toml";
  write_file(path, "concurrent = 7\n");
  GlobalConfig c = fresh_register_config();
  c.raw_sections["session_server"] = "[[[";
  Result<> saved = save_config_atomic(path, c);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(saved.error().message.find(path.string()), std::string::npos);
  EXPECT_EQ(read_file(path), "concurrent = 7\n");
}

TEST(ConfigSave, RefusesAConfigThatWouldNotLoadBack) {
  TempDir tmp;
  const fs::path path = tmp.path() / "config.toml";
  GlobalConfig c = fresh_register_config();
  c.concurrent = 0;  // the loader refuses concurrent < 1 (§2.5)
  Result<> saved = save_config_atomic(path, c);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().kind, ErrorKind::kInvalidInput);
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace glr
