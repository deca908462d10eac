// Tests for the .runner_system_id file (api spec §1.8).
#include "config/system_id.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "support/temp_dir.h"

namespace glr {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 0777;
}

// The expected ID computed independently with OpenSSL's one-shot HMAC().
std::string expected_id(const std::string& machine_id) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string msg = "gitlab-runner";
  HMAC(EVP_sha256(), machine_id.data(), static_cast<int>(machine_id.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 0xf];
  }
  return "s_" + hex.substr(0, 12);
}

MachineIdSources no_machine_id(const TempDir& dir) {
  return MachineIdSources{.files = {dir.path() / "absent-1", dir.path() / "absent-2"}};
}

TEST(SystemId, ValidatesFormat) {
  EXPECT_TRUE(is_valid_system_id("s_0123456789ab"));
  EXPECT_TRUE(is_valid_system_id("r_AbCdEfGhIjKl"));
  EXPECT_FALSE(is_valid_system_id("x_0123456789ab"));
  EXPECT_FALSE(is_valid_system_id("s_0123456789a"));
  EXPECT_FALSE(is_valid_system_id("s_0123456789abc"));
  EXPECT_FALSE(is_valid_system_id("s-0123456789ab"));
  EXPECT_FALSE(is_valid_system_id("s_0123456789a!"));
  EXPECT_FALSE(is_valid_system_id(""));
}

TEST(SystemId, ReusesValidFileAfterTrimming) {
  TempDir dir;
  write_file(dir.path() / ".runner_system_id", "  r_AbCdEfGhIjKl\n");
  Result<SystemId> id = resolve_system_id(dir.path() / "config.toml", no_machine_id(dir));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->id, "r_AbCdEfGhIjKl");
  EXPECT_FALSE(id->generated);
  EXPECT_EQ(read_file(dir.path() / ".runner_system_id"), "  r_AbCdEfGhIjKl\n");  // untouched
}

TEST(SystemId, DerivesFromMachineIdWithHmacSha256) {
  TempDir dir;
  const std::string machine_id = "4c4c4544004a4b1080354ac04f4e3732";
  write_file(dir.path() / "etc-machine-id", machine_id + "\n");
  MachineIdSources sources{.files = {dir.path() / "missing-dbus", dir.path() / "etc-machine-id"}};
  Result<SystemId> id = resolve_system_id(dir.path() / "config.toml", sources);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->id, expected_id(machine_id));
  EXPECT_TRUE(id->generated);
  EXPECT_TRUE(id->warning.empty()) << id->warning;
  EXPECT_EQ(read_file(dir.path() / ".runner_system_id"), id->id);
  EXPECT_EQ(mode_of(dir.path() / ".runner_system_id"), 0600u);
}

TEST(SystemId, FirstNonEmptyMachineIdFileWins) {
  TempDir dir;
  write_file(dir.path() / "dbus", "   \n");
  write_file(dir.path() / "etc", "abc\n");
  write_file(dir.path() / "later", "zzz\n");
  MachineIdSources sources{
      .files = {dir.path() / "dbus", dir.path() / "etc", dir.path() / "later"}};
  Result<SystemId> id = resolve_system_id(dir.path() / "config.toml", sources);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->id, expected_id("abc"));
  EXPECT_EQ(system_id_from_machine_id("abc"), expected_id("abc"));
}

TEST(SystemId, RegeneratesInvalidFileAndRewritesItWith0600) {
  TempDir dir;
  const std::filesystem::path file = dir.path() / ".runner_system_id";
  write_file(file, "s_tooshort\n");
  std::filesystem::permissions(file, std::filesystem::perms(0644));
  write_file(dir.path() / "mid", "feedface");
  Result<SystemId> id = resolve_system_id(dir.path() / "config.toml",
                                          MachineIdSources{.files = {dir.path() / "mid"}});
  ASSERT_TRUE(id);
  EXPECT_EQ(id->id, expected_id("feedface"));
  EXPECT_TRUE(id->generated);
  EXPECT_EQ(read_file(file), id->id);
  EXPECT_EQ(mode_of(file), 0600u);
}

TEST(SystemId, FallsBackToRandomId) {
  TempDir dir;
  Result<SystemId> a = resolve_system_id(dir.path() / "config.toml", no_machine_id(dir));
  ASSERT_TRUE(a);
  EXPECT_TRUE(std::regex_match(a->id, std::regex("^r_[0-9a-zA-Z]{12}$"))) << a->id;
  EXPECT_EQ(read_file(dir.path() / ".runner_system_id"), a->id);
  // Second call reuses the saved one.
  Result<SystemId> again = resolve_system_id(dir.path() / "config.toml", no_machine_id(dir));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, a->id);
  EXPECT_FALSE(again->generated);
  // A fresh directory gets a different random ID.
  TempDir other;
  Result<SystemId> b = resolve_system_id(other.path() / "config.toml", no_machine_id(other));
  ASSERT_TRUE(b);
  EXPECT_NE(a->id, b->id);
}

TEST(SystemId, WriteFailureIsAWarningNotAnError) {
  TempDir dir;
  const std::filesystem::path config = dir.path() / "no-such-dir" / "config.toml";
  Result<SystemId> id = resolve_system_id(config, no_machine_id(dir));
  ASSERT_TRUE(id);
  EXPECT_TRUE(is_valid_system_id(id->id));
  EXPECT_NE(id->warning.find(".runner_system_id"), std::string::npos) << id->warning;
  Result<std::string> plain = load_or_create_system_id(config, no_machine_id(dir));
  ASSERT_TRUE(plain);
  EXPECT_TRUE(is_valid_system_id(*plain));
}

TEST(SystemId, FileLivesBesideConfig) {
  EXPECT_EQ(system_id_path("/etc/gitlab-runner/config.toml"),
            std::filesystem::path("/etc/gitlab-runner/.runner_system_id"));
}

}  // namespace
}  // namespace glr
