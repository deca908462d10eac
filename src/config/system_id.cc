// system_id per api spec §1.8: reuse a valid `.runner_system_id`, else derive one from the
// OS machine ID like the official runner (machineid.ProtectedID), else make a random one.
#include "config/system_id.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/log.h"
#include "util/strings.h"
#include "util/unique_fd.h"

namespace glr {
namespace {

constexpr std::string_view kAlphanumerics =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr size_t kIdLength = 12;

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::optional<std::string> read_trimmed(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::string(trim(text.str()));
}

// The official machineid package returns "" for an empty file; an HMAC keyed with ""
// would give every such host the same ID, so an empty file counts as "no machine ID".
std::optional<std::string> machine_id(const MachineIdSources& sources) {
  for (const std::filesystem::path& p : sources.files) {
    std::optional<std::string> id = read_trimmed(p);
    if (id && !id->empty()) return id;
  }
  return std::nullopt;
}

Result<std::string> random_system_id() {
  std::string out = "r_";
  // Rejection sampling keeps the 62 characters equally likely.
  const unsigned limit = 256 - (256 % kAlphanumerics.size());
  while (out.size() < 2 + kIdLength) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
      return fail(ErrorKind::kInternal, "system_id: no random bytes available");
    }
    for (unsigned char b : bytes) {
      if (b >= limit || out.size() >= 2 + kIdLength) continue;
      out += kAlphanumerics[b % kAlphanumerics.size()];
    }
  }
  return out;
}

// Writes `id` with mode 0600 (also tightening an existing file); "" on success.
std::string write_id(const std::filesystem::path& path, const std::string& id) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return std::strerror(errno);
  if (::fchmod(fd.get(), 0600) != 0) return std::strerror(errno);
  size_t done = 0;
  while (done < id.size()) {
    ssize_t n = ::write(fd.get(), id.data() + done, id.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::strerror(errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd.release()) != 0) return std::strerror(errno);
  return {};
}

}  // namespace

std::filesystem::path system_id_path(const std::filesystem::path& config_path) {
  return config_path.parent_path() / ".runner_system_id";
}

bool is_valid_system_id(std::string_view id) {
  if (id.size() != 2 + kIdLength) return false;
  if ((id[0] != 's' && id[0] != 'r') || id[1] != '_') return false;
  for (char c : id.substr(2)) {
    if (!is_alnum(c)) return false;
  }
  return true;
}

std::string system_id_from_machine_id(std::string_view machine_id_value) {
  static constexpr std::string_view kMessage = "gitlab-runner";
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  unsigned char* ok =
      EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, machine_id_value.data(),
                machine_id_value.size(), reinterpret_cast<const unsigned char*>(kMessage.data()),
                kMessage.size(), mac, sizeof(mac), &mac_len);
  // SHA-256 HMAC is always available in OpenSSL 3; failing here is a broken installation.
  if (ok == nullptr || mac_len < kIdLength / 2) std::abort();
  std::string out = "s_";
  for (size_t i = 0; i < kIdLength / 2; ++i) out += fmt::format("{:02x}", mac[i]);
  return out;
}

Result<SystemId> resolve_system_id(const std::filesystem::path& config_path,
                                   const MachineIdSources& sources) {
  const std::filesystem::path file = system_id_path(config_path);
  if (std::optional<std::string> existing = read_trimmed(file)) {
    if (is_valid_system_id(*existing)) return SystemId{.id = *existing};
  }
  SystemId result{.generated = true};
  if (std::optional<std::string> mid = machine_id(sources)) {
    result.id = system_id_from_machine_id(*mid);
  } else {
    Result<std::string> random = random_system_id();
    if (!random) return fail(random.error());
    result.id = *random;
  }
  if (std::string err = write_id(file, result.id); !err.empty()) {
    result.warning = fmt::format("couldn't save system_id to {}: {} (using {} for this process)",
                                 file.string(), err, result.id);
  }
  return result;
}

Result<std::string> load_or_create_system_id(const std::filesystem::path& config_path,
                                             const MachineIdSources& sources) {
  Result<SystemId> id = resolve_system_id(config_path, sources);
  if (!id) return fail(id.error());
  if (!id->warning.empty()) log_warning(id->warning);
  return id->id;
}

}  // namespace glr
