// The fake Kubernetes API server behind fake_kube.h: Beast over OpenSSL with a thread per
// connection, one mutex over the object store and its event history, a supervisor thread per pod
// that runs the containers as local process groups, and an Asio loop per exec/attach WebSocket.
#include "support/fake_kube/fake_kube.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <fstream>
#include <list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "util/strings.h"
#include "util/unique_fd.h"

extern char** environ;

namespace glr {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;
using json = nlohmann::json;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using SslStream = beast::ssl_stream<tcp::socket>;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxBody = 16 * 1024 * 1024;
constexpr std::size_t kMaxEvents = 20000;

const std::map<std::string, std::string>& kinds() {
  static const std::map<std::string, std::string> kKinds = {
      {"pods", "Pod"},
      {"secrets", "Secret"},
      {"services", "Service"},
      {"configmaps", "ConfigMap"},
      {"serviceaccounts", "ServiceAccount"},
      {"namespaces", "Namespace"},
      {"events", "Event"},
  };
  return kKinds;
}

void block_sigpipe_in_this_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

using Query = std::vector<std::pair<std::string, std::string>>;

Query parse_query(std::string_view query) {
  Query out;
  for (const std::string& part : split(query, '&')) {
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(percent_decode(part), "");
    } else {
      out.emplace_back(percent_decode(std::string_view(part).substr(0, eq)),
                       percent_decode(std::string_view(part).substr(eq + 1)));
    }
  }
  return out;
}

std::string query_value(const Query& q, std::string_view key) {
  for (const auto& [k, v] : q) {
    if (k == key) return v;
  }
  return "";
}
bool query_has(const Query& q, std::string_view key) {
  for (const auto& [k, v] : q) {
    if (k == key) return true;
  }
  return false;
}
bool query_true(const Query& q, std::string_view key) {
  std::string v = query_value(q, key);
  return query_has(q, key) && (v == "1" || v == "true" || v.empty());
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string sv(beast::string_view s) { return std::string(s.data(), s.size()); }

json status_body(int code, const std::string& reason, const std::string& message,
                 json details = nullptr) {
  json s = {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", json::object()},
            {"status", code < 300 ? "Success" : "Failure"},
            {"message", message},
            {"reason", reason},
            {"code", code}};
  if (!details.is_null()) s["details"] = std::move(details);
  return s;
}

Response make_response(int status, const json& body) {
  Response res;
  res.version(11);
  res.result(static_cast<unsigned>(status));
  res.set(http::field::content_type, "application/json");
  res.body() = body.dump();
  return res;
}

Response status_response(int code, const std::string& reason, const std::string& message,
                         json details = nullptr) {
  return make_response(code, status_body(code, reason, message, std::move(details)));
}

Response not_found(const std::string& resource, const std::string& name) {
  return status_response(404, "NotFound", resource + " \"" + name + "\" not found",
                         json{{"name", name}, {"kind", resource}});
}

Response invalid(const std::string& kind, const std::string& name, const std::string& field,
                 const std::string& cause_reason, const std::string& detail) {
  std::string msg = kind + " \"" + name + "\" is invalid: " + field + ": " + detail;
  return status_response(
      422, "Invalid", msg,
      json{{"name", name},
           {"kind", kind},
           {"causes",
            json::array({{{"reason", cause_reason}, {"message", detail}, {"field", field}}})}});
}

bool valid_dns_subdomain(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return alnum(name.front()) && alnum(name.back());
}

// ---- label and field selectors ----------------------------------------------------------------

struct Requirement {
  std::string key{};
  std::string op{};  // = != in notin exists !exists
  std::set<std::string> values{};
};

std::optional<std::vector<Requirement>> parse_label_selector(std::string_view text) {
  std::vector<Requirement> out;
  // Split on commas outside parentheses.
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  parts.push_back(cur);
  for (const std::string& raw : parts) {
    std::string p(trim(raw));
    if (p.empty()) continue;
    Requirement r;
    std::size_t pos;
    auto set_values = [&](std::string_view list) -> bool {
      list = trim(list);
      if (list.size() < 2 || list.front() != '(' || list.back() != ')') return false;
      for (const std::string& v : split(list.substr(1, list.size() - 2), ',')) {
        r.values.insert(std::string(trim(v)));
      }
      return true;
    };
    if ((pos = p.find(" notin ")) != std::string::npos) {
      r.key = trim(p.substr(0, pos));
      r.op = "notin";
      if (!set_values(std::string_view(p).substr(pos + 7))) return std::nullopt;
    } else if ((pos = p.find(" in ")) != std::string::npos) {
      r.key = trim(p.substr(0, pos));
      r.op = "in";
      if (!set_values(std::string_view(p).substr(pos + 4))) return std::nullopt;
    } else if ((pos = p.find("!=")) != std::string::npos) {
      r.key = trim(p.substr(0, pos));
      r.op = "!=";
      r.values.insert(std::string(trim(p.substr(pos + 2))));
    } else if ((pos = p.find("==")) != std::string::npos) {
      r.key = trim(p.substr(0, pos));
      r.op = "=";
      r.values.insert(std::string(trim(p.substr(pos + 2))));
    } else if ((pos = p.find('=')) != std::string::npos) {
      r.key = trim(p.substr(0, pos));
      r.op = "=";
      r.values.insert(std::string(trim(p.substr(pos + 1))));
    } else if (p[0] == '!') {
      r.key = trim(p.substr(1));
      r.op = "!exists";
    } else {
      r.key = p;
      r.op = "exists";
    }
    if (r.key.empty()) return std::nullopt;
    out.push_back(std::move(r));
  }
  return out;
}

bool labels_match(const json& object, const std::vector<Requirement>& reqs) {
  const json* labels = nullptr;
  if (object.contains("metadata") && object["metadata"].contains("labels")) {
    labels = &object["metadata"]["labels"];
  }
  for (const Requirement& r : reqs) {
    bool has = labels && labels->contains(r.key) && (*labels)[r.key].is_string();
    std::string value = has ? (*labels)[r.key].get<std::string>() : "";
    if (r.op == "exists" && !has) return false;
    if (r.op == "!exists" && has) return false;
    if ((r.op == "=" || r.op == "in") && (!has || !r.values.count(value))) return false;
    if ((r.op == "!=" || r.op == "notin") && has && r.values.count(value)) return false;
  }
  return true;
}

// Field selectors: metadata.name, metadata.namespace and status.phase with =, == and !=.
bool fields_match(const json& object, std::string_view selector) {
  for (const std::string& raw : split(selector, ',')) {
    std::string p(trim(raw));
    if (p.empty()) continue;
    bool negate = false;
    std::size_t pos = p.find("!=");
    std::string key, value;
    if (pos != std::string::npos) {
      negate = true;
      key = p.substr(0, pos);
      value = p.substr(pos + 2);
    } else if ((pos = p.find("==")) != std::string::npos) {
      key = p.substr(0, pos);
      value = p.substr(pos + 2);
    } else if ((pos = p.find('=')) != std::string::npos) {
      key = p.substr(0, pos);
      value = p.substr(pos + 1);
    } else {
      return false;
    }
    std::string actual;
    try {
      if (key == "metadata.name")
        actual = object.at("metadata").value("name", "");
      else if (key == "metadata.namespace")
        actual = object.at("metadata").value("namespace", "");
      else if (key == "status.phase")
        actual = object.at("status").value("phase", "");
    } catch (const json::exception&) {
    }
    if ((actual == value) == negate) return false;
  }
  return true;
}

// ---- server-side printing (kubectl asks for meta.k8s.io Table) ------------------------------

std::string age_of(const json& object) {
  std::string ts = object["metadata"].value("creationTimestamp", "");
  std::tm tm{};
  if (ts.empty() || !strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return "<unknown>";
  long secs = static_cast<long>(std::time(nullptr) - timegm(&tm));
  if (secs < 0) secs = 0;
  if (secs < 120) return std::to_string(secs) + "s";
  if (secs < 3600 * 3) return std::to_string(secs / 60) + "m";
  if (secs < 86400 * 2) return std::to_string(secs / 3600) + "h";
  return std::to_string(secs / 86400) + "d";
}

json table_columns(const std::string& resource) {
  auto col = [](const char* name, const char* type, const char* format) {
    return json{
        {"name", name}, {"type", type}, {"format", format}, {"description", ""}, {"priority", 0}};
  };
  if (resource == "pods") {
    return json::array({col("Name", "string", "name"), col("Ready", "string", ""),
                        col("Status", "string", ""), col("Restarts", "string", ""),
                        col("Age", "string", "")});
  }
  if (resource == "namespaces") {
    return json::array(
        {col("Name", "string", "name"), col("Status", "string", ""), col("Age", "string", "")});
  }
  return json::array({col("Name", "string", "name"), col("Age", "string", "")});
}

json table_row(const std::string& resource, const json& object) {
  json cells = json::array({object["metadata"].value("name", "")});
  if (resource == "pods") {
    int ready = 0, total = 0;
    std::string status =
        object.contains("status") ? object["status"].value("phase", "Pending") : "Pending";
    if (object.contains("status") && object["status"].contains("containerStatuses")) {
      for (const json& c : object["status"]["containerStatuses"]) {
        ++total;
        ready += c.value("ready", false) ? 1 : 0;
        if (c.contains("state") && c["state"].contains("waiting") && status == "Pending") {
          status = c["state"]["waiting"].value("reason", status);
        }
      }
    }
    if (status == "Succeeded") status = "Completed";
    if (status == "Failed") status = "Error";
    if (object["metadata"].contains("deletionTimestamp")) status = "Terminating";
    cells.push_back(std::to_string(ready) + "/" + std::to_string(total));
    cells.push_back(status);
    cells.push_back("0");
  } else if (resource == "namespaces") {
    cells.push_back(object.contains("status") ? object["status"].value("phase", "Active")
                                              : "Active");
  }
  cells.push_back(age_of(object));
  json meta = object["metadata"];
  return json{
      {"cells", cells},
      {"object",
       {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", meta}}}};
}

json make_table(const std::string& resource, const std::vector<json>& objects,
                const std::string& rv) {
  json rows = json::array();
  for (const json& o : objects) rows.push_back(table_row(resource, o));
  return json{{"kind", "Table"},
              {"apiVersion", "meta.k8s.io/v1"},
              {"metadata", {{"resourceVersion", rv}}},
              {"columnDefinitions", table_columns(resource)},
              {"rows", rows}};
}

bool wants_table(const Request& req) {
  return sv(req[http::field::accept]).find("as=Table") != std::string::npos;
}

// ---- the self-signed serving certificate --------------------------------------------------------

struct CertPair {
  std::string cert_pem{};
  std::string key_pem{};
};

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// An ECDSA P-256 certificate that is its own CA (so kubectl can trust it as
// certificate-authority) with SANs IP:127.0.0.1 and DNS:localhost.
std::optional<CertPair> make_certificate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) return std::nullopt;
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert),
                   static_cast<long>(std::random_device{}() & 0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fake-kube"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  const std::pair<int, const char*> exts[] = {
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "critical,digitalSignature,keyCertSign"},
      {NID_ext_key_usage, "serverAuth,clientAuth"},
      {NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
      {NID_subject_key_identifier, "hash"},
  };
  bool ok = true;
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) {
      ok = false;
      break;
    }
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (ok) ok = X509_sign(cert, key, EVP_sha256()) > 0;
  CertPair pair;
  if (ok) {
    BIO* cb = BIO_new(BIO_s_mem());
    BIO* kb = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cb, cert);
    PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
    pair.cert_pem = bio_string(cb);
    pair.key_pem = bio_string(kb);
    BIO_free(cb);
    BIO_free(kb);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) return std::nullopt;
  return pair;
}

std::string base64_decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  return out;
}

// ---- processes --------------------------------------------------------------------------------

struct Spawned {
  pid_t pid = -1;
  UniqueFd pidfd{};
  UniqueFd stdin_write{};
  UniqueFd stdout_read{};
  UniqueFd stderr_read{};
};

enum class Stdio { kNull, kPipe, kFile };

// Spawns argv in its own session. stdin is /dev/null or a pipe; stdout/stderr go to pipes, or
// both to `log_fd` (append) when that is valid.
std::optional<Spawned> spawn_process(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& env,
                                     const std::filesystem::path& cwd, bool stdin_pipe, int log_fd,
                                     std::string* error) {
  if (argv.empty()) {
    *error = "empty command";
    return std::nullopt;
  }
  Spawned s;
  UniqueFd in_read, out_write, err_write;
  int p[2];
  if (stdin_pipe) {
    if (pipe2(p, O_CLOEXEC) != 0) return std::nullopt;
    in_read.reset(p[0]);
    s.stdin_write.reset(p[1]);
  } else {
    in_read.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  if (log_fd < 0) {
    if (pipe2(p, O_CLOEXEC) != 0) return std::nullopt;
    s.stdout_read.reset(p[0]);
    out_write.reset(p[1]);
    if (pipe2(p, O_CLOEXEC) != 0) return std::nullopt;
    s.stderr_read.reset(p[0]);
    err_write.reset(p[1]);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd >= 0 ? log_fd : out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd >= 0 ? log_fd : err_write.get(), 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  std::vector<char*> c_argv, c_env;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const std::string& e : env) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);
  // posix_spawnp searches the PATH of *our* environment; look the name up in the child's PATH.
  std::string program = argv[0];
  if (program.find('/') == std::string::npos) {
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const std::string& e : env) {
      if (starts_with(e, "PATH=")) path = e.substr(5);
    }
    for (const std::string& dir : split(path, ':')) {
      std::string candidate = dir + "/" + program;
      if (::access(candidate.c_str(), X_OK) == 0) {
        program = candidate;
        break;
      }
    }
  }
  int rc = posix_spawn(&s.pid, program.c_str(), &actions, &attr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    *error = std::string("exec: \"") + argv[0] + "\": " + std::strerror(rc);
    return std::nullopt;
  }
  s.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, s.pid, 0)));
  return s;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

bool path_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// mountPath -> host directory, longest first.
using Rewrites = std::vector<std::pair<std::string, std::string>>;

std::string rewrite(std::string_view text, const Rewrites& rewrites) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    if (text[i] == '/' && (i == 0 || !path_char(text[i - 1]))) {
      for (const auto& [from, to] : rewrites) {
        if (text.substr(i, from.size()) == from &&
            (i + from.size() == text.size() || !path_char(text[i + from.size()]) || from == "/")) {
          out += to;
          i += from.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

// ---- server state -----------------------------------------------------------------------------

struct Event {
  int64_t rv = 0;
  std::string resource{};
  std::string ns{};
  std::string type{};
  json object{};
};

struct ContainerRt {
  std::string name{};
  std::vector<std::string> env{};
  std::filesystem::path cwd{};
  std::filesystem::path log{};
  Rewrites rewrites{};
  pid_t pid = -1;
  UniqueFd pidfd{};
  UniqueFd stdin_write{};
  bool stdin_once = false;  // the first attach that ends closes the container's stdin
  bool running = false;
  bool finished = false;
  int exit_code = 0;
};

struct PodRt {
  std::string ns{};
  std::string name{};
  std::string uid{};
  std::filesystem::path dir{};
  std::map<std::string, std::shared_ptr<ContainerRt>> containers{};
  std::thread supervisor{};
  bool terminating = false;
  Clock::time_point kill_at{};
  std::chrono::milliseconds start_delay{0};
  // spec.activeDeadlineSeconds counted from the start; past it the containers are killed and
  // the pod fails with reason DeadlineExceeded.
  std::optional<Clock::time_point> active_deadline{};
  bool deadline_exceeded = false;
};

struct FaultState {
  FakeKubeFault fault{};
  int left = 0;
};

struct Connection {
  int fd = -1;
  std::thread thread{};
  std::atomic<bool> done{false};
};

using Key = std::tuple<std::string, std::string, std::string>;  // resource, ns, name

}  // namespace

struct FakeKube::Impl {
  Options options;
  mutable std::mutex mu;
  std::condition_variable changed;
  bool stopping = false;
  std::map<Key, json> objects;
  int64_t rv = 1;
  std::deque<Event> events;
  int64_t compacted_rv = 0;
  std::vector<FaultState> faults;
  int drop_after_events = 0;
  // drop_execs: the next `count` exec streams whose command contains `contains` are cut (TCP
  // closed, no status) after `after_bytes` bytes of output.
  std::string drop_exec_contains;
  size_t drop_exec_after_bytes = 0;
  int drop_exec_count = 0;
  int drop_connections = 0;
  std::chrono::milliseconds start_delay{0};
  std::set<std::string> bad_images;
  std::atomic<int> accepted{0};
  std::vector<std::string> request_log;
  std::map<std::string, std::shared_ptr<PodRt>> pods;  // uid -> runtime
  std::mt19937_64 rng{std::random_device{}()};
  int next_cluster_ip = 10;

  std::string cert_pem, key_pem;
  ssl::context ssl_ctx{ssl::context::tls_server};
  UniqueFd listen_fd, wake_fd;
  uint16_t port = 0;
  std::thread acceptor;
  std::mutex conn_mu;
  std::list<std::unique_ptr<Connection>> conns;

  explicit Impl(Options o) : options(std::move(o)) {}

  std::string url() const { return port ? "https://127.0.0.1:" + std::to_string(port) : ""; }

  bool start() {
    std::error_code fec;
    std::filesystem::create_directories(options.state_dir / "pods", fec);
    if (fec) return false;
    std::optional<CertPair> pair = make_certificate();
    if (!pair) return false;
    cert_pem = pair->cert_pem;
    key_pem = pair->key_pem;
    boost::system::error_code ec;
    ssl_ctx.use_certificate_chain(asio::buffer(cert_pem), ec);
    if (!ec) ssl_ctx.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
    if (ec) return false;
    { std::ofstream(options.state_dir / "ca.crt") << cert_pem; }
    listen_fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    wake_fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!listen_fd.valid() || !wake_fd.valid()) return false;
    int one = 1;
    ::setsockopt(listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    if (::listen(listen_fd.get(), 128) != 0) return false;
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    write_kubeconfig();
    seed();
    acceptor = std::thread([this] { accept_loop(); });
    return true;
  }

  void write_kubeconfig() {
    std::ofstream out(options.state_dir / "kubeconfig");
    out << "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: "
        << url() << "\n    certificate-authority: " << (options.state_dir / "ca.crt").string()
        << "\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n"
           "    namespace: default\ncurrent-context: fake\nusers:\n- name: fake\n  user:\n";
    if (!options.token.empty()) {
      out << "    token: " << options.token << "\n";
    } else {
      out << "    token: unused\n";
    }
  }

  void seed() {
    std::lock_guard lock(mu);
    for (const char* ns : {"default", "kube-system", "kube-public"}) {
      store_new("namespaces", "", json{{"metadata", {{"name", ns}}}});
      store_new("serviceaccounts", ns, json{{"metadata", {{"name", "default"}}}});
    }
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
      for (auto& [uid, pod] : pods) {
        pod->terminating = true;
        pod->kill_at = Clock::now();
      }
    }
    changed.notify_all();
    if (acceptor.joinable()) {
      uint64_t one = 1;
      [[maybe_unused]] ssize_t w = ::write(wake_fd.get(), &one, sizeof one);
      acceptor.join();
    }
    for (auto& c : conns) ::shutdown(c->fd, SHUT_RDWR);
    for (auto& c : conns) {
      if (c->thread.joinable()) c->thread.join();
    }
    conns.clear();
    std::map<std::string, std::shared_ptr<PodRt>> all;
    {
      std::lock_guard lock(mu);
      all = pods;
    }
    for (auto& [uid, pod] : all) {
      if (pod->supervisor.joinable()) pod->supervisor.join();
    }
  }

  void accept_loop() {
    block_sigpipe_in_this_thread();
    for (;;) {
      std::array<pollfd, 2> fds{pollfd{listen_fd.get(), POLLIN, 0},
                                pollfd{wake_fd.get(), POLLIN, 0}};
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      if (fds[0].revents == 0) continue;
      int fd = ::accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++accepted;
      std::lock_guard lock(conn_mu);
      for (auto it = conns.begin(); it != conns.end();) {
        if ((*it)->done.load()) {
          (*it)->thread.join();
          it = conns.erase(it);
        } else {
          ++it;
        }
      }
      auto conn = std::make_unique<Connection>();
      conn->fd = fd;
      Connection* raw = conn.get();
      conns.push_back(std::move(conn));
      raw->thread = std::thread([this, raw] { serve(*raw); });
    }
  }

  void serve(Connection& conn) {
    block_sigpipe_in_this_thread();
    asio::io_context io;
    SslStream stream(tcp::socket(io), ssl_ctx);
    boost::system::error_code ec;
    stream.next_layer().assign(tcp::v4(), conn.fd, ec);
    if (ec) {
      ::close(conn.fd);
      conn.done = true;
      return;
    }
    stream.handshake(ssl::stream_base::server, ec);
    beast::flat_buffer buffer;
    while (!ec) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxBody);
      http::read(stream, buffer, parser, ec);
      if (ec) break;
      Request req = parser.release();
      bool keep_alive = req.keep_alive();
      if (!handle(stream, req, io)) break;
      if (!keep_alive) break;
    }
    ::shutdown(stream.next_layer().native_handle(), SHUT_RDWR);
    conn.done = true;
  }

  // ---- store ---------------------------------------------------------------------------------

  std::string random_suffix(std::size_t n) {
    static const std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(kAlphabet[pick(rng)]);
    return out;
  }

  std::string new_uid() {
    std::uniform_int_distribution<uint64_t> pick;
    char buf[40];
    uint64_t a = pick(rng), b = pick(rng);
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-a%03llx-%012llx",
                  static_cast<unsigned long long>(a >> 32),
                  static_cast<unsigned long long>((a >> 16) & 0xffff),
                  static_cast<unsigned long long>(a & 0xfff),
                  static_cast<unsigned long long>(b >> 52),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
  }

  void record(const std::string& resource, const std::string& ns, const std::string& type,
              const json& object) {
    events.push_back(Event{rv, resource, ns, type, object});
    if (events.size() > kMaxEvents) {
      compacted_rv = events.front().rv;
      events.pop_front();
    }
    changed.notify_all();
  }

  // REQUIRES: mu held. Fills metadata and stores a new object; records ADDED.
  json& store_new(const std::string& resource, const std::string& ns, json object) {
    object["kind"] = kinds().at(resource);
    object["apiVersion"] = "v1";
    json& md = object["metadata"];
    if (!ns.empty()) md["namespace"] = ns;
    md["uid"] = new_uid();
    md["creationTimestamp"] = now_rfc3339();
    md["resourceVersion"] = std::to_string(++rv);
    if (resource == "namespaces") object["status"] = {{"phase", "Active"}};
    std::string name = md["name"].get<std::string>();
    json& stored = objects[Key{resource, ns, name}] = std::move(object);
    record(resource, ns, "ADDED", stored);
    return stored;
  }

  // REQUIRES: mu held.
  void store_modified(const std::string& resource, const std::string& ns, json& object) {
    object["metadata"]["resourceVersion"] = std::to_string(++rv);
    record(resource, ns, "MODIFIED", object);
  }

  // REQUIRES: mu held. Removes the object, records DELETED and collects objects it owns.
  void store_delete(const std::string& resource, const std::string& ns, const std::string& name) {
    auto it = objects.find(Key{resource, ns, name});
    if (it == objects.end()) return;
    json object = std::move(it->second);
    objects.erase(it);
    object["metadata"]["resourceVersion"] = std::to_string(++rv);
    record(resource, ns, "DELETED", object);
    // Background garbage collection of dependents (ownerReferences naming this uid).
    std::string uid = object["metadata"].value("uid", "");
    std::vector<Key> owned;
    for (const auto& [key, obj] : objects) {
      if (!obj["metadata"].contains("ownerReferences")) continue;
      for (const json& ref : obj["metadata"]["ownerReferences"]) {
        if (ref.value("uid", "") == uid) owned.push_back(key);
      }
    }
    for (const Key& key : owned) {
      if (std::get<0>(key) == "pods") {
        begin_pod_delete(std::get<1>(key), std::get<2>(key), 0);
      } else {
        store_delete(std::get<0>(key), std::get<1>(key), std::get<2>(key));
      }
    }
  }

  // ---- request handling ------------------------------------------------------------------------

  bool write_response(SslStream& stream, Response res) {
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, res, ec);
    return !ec;
  }

  // false: close the connection.
  bool handle(SslStream& stream, Request& req, asio::io_context& io) {
    std::string target = sv(req.target());
    std::size_t qpos = target.find('?');
    std::string path = target.substr(0, qpos);
    Query query = qpos == std::string::npos ? Query{} : parse_query(target.substr(qpos + 1));
    std::string method = sv(req.method_string());

    if (starts_with(path, "/__control/")) {
      if (!options.control_api) return write_response(stream, not_found("paths", path));
      return write_response(stream, control(method, path, query, req.body()));
    }
    {
      std::lock_guard lock(mu);
      request_log.push_back(method + " " + path);
      for (FaultState& f : faults) {
        if (f.left == 0) continue;
        if (!f.fault.method.empty() && f.fault.method != method) continue;
        if (path.find(f.fault.path_contains) == std::string::npos) continue;
        if (f.left > 0) --f.left;
        if (f.fault.status == 0) return false;
        std::string msg = f.fault.message.empty() ? "fake fault " + std::to_string(f.fault.status)
                                                  : f.fault.message;
        std::string reason = f.fault.status == 429   ? "TooManyRequests"
                             : f.fault.status == 503 ? "ServiceUnavailable"
                             : f.fault.status == 504 ? "Timeout"
                                                     : "InternalError";
        Response res = status_response(f.fault.status, reason, msg);
        if (f.fault.retry_after_seconds) {
          res.set(http::field::retry_after, std::to_string(*f.fault.retry_after_seconds));
        }
        return write_response(stream, std::move(res));
      }
    }
    if (!options.token.empty()) {
      std::string auth = sv(req[http::field::authorization]);
      if (auth != "Bearer " + options.token) {
        return write_response(stream, status_response(401, "Unauthorized", "Unauthorized"));
      }
    }
    try {
      return route(stream, req, io, method, path, query);
    } catch (const std::exception& e) {
      return write_response(stream, status_response(500, "InternalError", e.what()));
    }
  }

  json api_resources() const {
    json list = json::array();
    auto add = [&](const std::string& name, bool namespaced, const std::string& kind,
                   std::vector<std::string> verbs, std::vector<std::string> short_names) {
      json r = {{"name", name},
                {"singularName", ""},
                {"namespaced", namespaced},
                {"kind", kind},
                {"verbs", verbs}};
      if (!short_names.empty()) r["shortNames"] = short_names;
      list.push_back(r);
    };
    std::vector<std::string> all = {"create", "delete", "get", "list", "patch", "update", "watch"};
    add("namespaces", false, "Namespace", all, {"ns"});
    add("pods", true, "Pod", all, {"po"});
    add("pods/log", true, "Pod", {"get"}, {});
    add("pods/exec", true, "PodExecOptions", {"create", "get"}, {});
    add("pods/attach", true, "PodAttachOptions", {"create", "get"}, {});
    add("pods/status", true, "Pod", {"get", "patch", "update"}, {});
    add("secrets", true, "Secret", all, {});
    add("services", true, "Service", all, {"svc"});
    add("configmaps", true, "ConfigMap", all, {"cm"});
    add("serviceaccounts", true, "ServiceAccount", all, {"sa"});
    add("events", true, "Event", {"list", "watch", "get"}, {"ev"});
    return json{{"kind", "APIResourceList"}, {"groupVersion", "v1"}, {"resources", list}};
  }

  // Just enough OpenAPI v3 for kubectl's client-side validation: one open object schema per kind.
  static json openapi_v1() {
    json schemas = json::object();
    json paths = json::object();
    for (const auto& [resource, kind] : kinds()) {
      // kubectl looks for the fieldValidation parameter here; finding it, it leaves validation
      // to the server (which accepts any fields).
      json gvk = {{"group", ""}, {"kind", kind}, {"version", "v1"}};
      json params = json::array(
          {{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}}});
      json op = {{"x-kubernetes-group-version-kind", gvk},
                 {"parameters", params},
                 {"responses", json::object()}};
      std::string collection = resource == "namespaces"
                                   ? "/api/v1/namespaces"
                                   : "/api/v1/namespaces/{namespace}/" + resource;
      paths[collection] = {{"post", op}};
      paths[collection + "/{name}"] = {{"patch", op}, {"put", op}};
      schemas["io.k8s.api.core.v1." + kind] = {
          {"type", "object"},
          {"x-kubernetes-preserve-unknown-fields", true},
          {"x-kubernetes-group-version-kind",
           {{{"group", ""}, {"kind", kind}, {"version", "v1"}}}}};
    }
    return json{{"openapi", "3.0.0"},
                {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
                {"paths", paths},
                {"components", {{"schemas", schemas}}}};
  }

  bool route(SslStream& stream, Request& req, asio::io_context& io, const std::string& method,
             const std::string& path, const Query& query) {
    if (path == "/version") {
      return write_response(stream, make_response(200, json{{"major", "1"},
                                                            {"minor", "32"},
                                                            {"gitVersion", "v1.32.0-fake"},
                                                            {"gitCommit", "fake"},
                                                            {"gitTreeState", "clean"},
                                                            {"buildDate", "2026-01-01T00:00:00Z"},
                                                            {"goVersion", "go1.23"},
                                                            {"compiler", "gc"},
                                                            {"platform", "linux/amd64"}}));
    }
    if (path == "/healthz" || path == "/readyz" || path == "/livez") {
      Response res;
      res.version(11);
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain");
      res.body() = "ok";
      return write_response(stream, std::move(res));
    }
    if (path == "/api") {
      return write_response(
          stream,
          make_response(200, json{{"kind", "APIVersions"},
                                  {"versions", {"v1"}},
                                  {"serverAddressByClientCIDRs",
                                   {{{"clientCIDR", "0.0.0.0/0"},
                                     {"serverAddress", "127.0.0.1:" + std::to_string(port)}}}}}));
    }
    if (path == "/apis") {
      return write_response(stream, make_response(200, json{{"kind", "APIGroupList"},
                                                            {"apiVersion", "v1"},
                                                            {"groups", json::array()}}));
    }
    if (path == "/api/v1") return write_response(stream, make_response(200, api_resources()));
    if (path == "/openapi/v3") {
      return write_response(
          stream,
          make_response(
              200, json{{"paths",
                         {{"api/v1", {{"serverRelativeURL", "/openapi/v3/api/v1?hash=fake1"}}}}}}));
    }
    if (path == "/openapi/v3/api/v1")
      return write_response(stream, make_response(200, openapi_v1()));
    if (!starts_with(path, "/api/v1/")) {
      return write_response(
          stream,
          status_response(404, "NotFound", "the server could not find the requested resource"));
    }
    // JSON only: protobuf (and CBOR) bodies get 415, on which client-go falls back to JSON.
    std::string content_type = sv(req[http::field::content_type]);
    if (!req.body().empty() && !content_type.empty() &&
        content_type.find("json") == std::string::npos &&
        content_type.find("apply-patch") == std::string::npos) {
      return write_response(
          stream, status_response(415, "UnsupportedMediaType",
                                  "the body of the request was in an unknown format - accepted "
                                  "media types include: application/json, application/yaml"));
    }
    std::vector<std::string> seg;
    for (const std::string& s : split(path.substr(8), '/')) {
      if (!s.empty()) seg.push_back(percent_decode(s));
    }
    std::string ns, resource, name, sub;
    if (seg.size() >= 1 && seg[0] == "namespaces") {
      if (seg.size() == 1) {
        resource = "namespaces";
      } else if (seg.size() == 2) {
        resource = "namespaces";
        name = seg[1];
      } else {
        ns = seg[1];
        resource = seg[2];
        if (seg.size() >= 4) name = seg[3];
        if (seg.size() >= 5) sub = seg[4];
        if (seg.size() > 5)
          return write_response(
              stream,
              status_response(404, "NotFound", "the server could not find the requested resource"));
      }
    } else if (seg.size() == 1) {
      resource = seg[0];  // every namespace
    } else {
      return write_response(
          stream,
          status_response(404, "NotFound", "the server could not find the requested resource"));
    }
    if (!kinds().count(resource)) {
      return write_response(
          stream,
          status_response(404, "NotFound", "the server could not find the requested resource"));
    }
    if (!sub.empty()) {
      if (resource != "pods")
        return write_response(
            stream,
            status_response(404, "NotFound", "the server could not find the requested resource"));
      if (sub == "log" && method == "GET") return pod_log(stream, ns, name, query);
      if (sub == "exec" || sub == "attach")
        return pod_stream(stream, req, io, ns, name, query, sub == "attach");
      if (sub == "status" && method == "GET")
        return write_response(stream, get_object(resource, ns, name));
      return write_response(
          stream,
          status_response(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource"));
    }
    if (name.empty()) {
      if (method == "GET" && query_true(query, "watch"))
        return watch(stream, resource, ns, query, wants_table(req));
      if (method == "GET")
        return write_response(stream, list_objects(resource, ns, query, wants_table(req)));
      if (method == "POST") {
        if (ns.empty() && resource != "namespaces") {
          return write_response(
              stream,
              status_response(405, "MethodNotAllowed",
                              "the server does not allow this method on the requested resource"));
        }
        return write_response(stream, create_object(resource, ns, req.body()));
      }
      return write_response(
          stream,
          status_response(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource"));
    }
    if (method == "GET" && query_true(query, "watch")) {
      Query q = query;
      q.emplace_back("fieldSelector", "metadata.name=" + name);
      return watch(stream, resource, ns, q, wants_table(req));
    }
    if (method == "GET") {
      Response res = get_object(resource, ns, name);
      if (res.result_int() == 200 && wants_table(req)) {
        res = make_response(200, make_table(resource, {json::parse(res.body())}, ""));
      }
      return write_response(stream, std::move(res));
    }
    if (method == "DELETE")
      return write_response(stream, delete_object(resource, ns, name, query, req.body()));
    if (method == "PUT")
      return write_response(stream, update_object(resource, ns, name, req.body()));
    if (method == "PATCH") {
      // Server-side apply (kubectl sends the YAML as JSON): creates a missing object, else
      // merges; field ownership is not tracked.
      if (content_type.find("apply-patch") != std::string::npos) {
        bool exists;
        {
          std::lock_guard lock(mu);
          exists = objects.count(Key{resource, ns, name}) > 0;
        }
        if (!exists) return write_response(stream, create_object(resource, ns, req.body()));
        return write_response(stream, patch_object(resource, ns, name, "merge-patch", req.body()));
      }
      return write_response(stream, patch_object(resource, ns, name, content_type, req.body()));
    }
    return write_response(
        stream, status_response(405, "MethodNotAllowed",
                                "the server does not allow this method on the requested resource"));
  }

  Response get_object(const std::string& resource, const std::string& ns, const std::string& name) {
    std::lock_guard lock(mu);
    auto it = objects.find(Key{resource, ns, name});
    if (it == objects.end()) return not_found(resource, name);
    return make_response(200, it->second);
  }

  Response list_objects(const std::string& resource, const std::string& ns, const Query& query,
                        bool table) {
    std::optional<std::vector<Requirement>> selector =
        parse_label_selector(query_value(query, "labelSelector"));
    if (!selector) {
      return status_response(400, "BadRequest",
                             "unable to parse requirement: " + query_value(query, "labelSelector"));
    }
    std::string fields = query_value(query, "fieldSelector");
    std::lock_guard lock(mu);
    json items = json::array();
    for (const auto& [key, obj] : objects) {
      if (std::get<0>(key) != resource) continue;
      if (!ns.empty() && std::get<1>(key) != ns) continue;
      if (!labels_match(obj, *selector) || !fields_match(obj, fields)) continue;
      items.push_back(obj);
    }
    if (table)
      return make_response(
          200, make_table(resource, items.get<std::vector<json>>(), std::to_string(rv)));
    return make_response(200, json{{"kind", kinds().at(resource) + "List"},
                                   {"apiVersion", "v1"},
                                   {"metadata", {{"resourceVersion", std::to_string(rv)}}},
                                   {"items", items}});
  }

  Response create_object(const std::string& resource, const std::string& ns,
                         const std::string& body) {
    json object;
    try {
      object = json::parse(body);
    } catch (const json::exception& e) {
      return status_response(
          400, "BadRequest",
          std::string("the body of the request was in an unknown format: ") + e.what());
    }
    if (!object.is_object())
      return status_response(400, "BadRequest", "the body of the request was in an unknown format");
    const std::string& kind = kinds().at(resource);
    if (object.contains("kind") && object["kind"] != kind) {
      return status_response(400, "BadRequest",
                             "the API version in the data (" + object.value("apiVersion", "") +
                                 ") does not match the expected API version (v1)");
    }
    if (!object.contains("metadata") || !object["metadata"].is_object())
      object["metadata"] = json::object();
    json& md = object["metadata"];
    if (!ns.empty() && md.contains("namespace") && md["namespace"] != ns) {
      return status_response(
          400, "BadRequest",
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    std::lock_guard lock(mu);
    if (!ns.empty() && !objects.count(Key{"namespaces", "", ns}))
      return not_found("namespaces", ns);
    std::string name = md.value("name", "");
    if (name.empty() && md.contains("generateName") && md["generateName"].is_string() &&
        !md["generateName"].get<std::string>().empty()) {
      do {
        name = md["generateName"].get<std::string>() + random_suffix(5);
      } while (objects.count(Key{resource, ns, name}));
    }
    if (name.empty()) {
      return invalid(kind, "", "metadata.name", "FieldValueRequired",
                     "Required value: name or generateName is required");
    }
    if (!valid_dns_subdomain(name)) {
      return invalid(kind, name, "metadata.name", "FieldValueInvalid",
                     "Invalid value: \"" + name +
                         "\": a lowercase RFC 1123 subdomain must consist of lower case "
                         "alphanumeric characters, '-' or '.', and must start and end with an "
                         "alphanumeric character");
    }
    md["name"] = name;
    if (resource == "pods") {
      std::optional<Response> bad = validate_pod(object, name);
      if (bad) return std::move(*bad);
    }
    if (objects.count(Key{resource, ns, name})) {
      return status_response(409, "AlreadyExists", resource + " \"" + name + "\" already exists",
                             json{{"name", name}, {"kind", resource}});
    }
    if (ns != "" &&
        objects.at(Key{"namespaces", "", ns})["status"].value("phase", "") == "Terminating") {
      return status_response(403, "Forbidden",
                             resource + " \"" + name +
                                 "\" is forbidden: unable to create new content in namespace " +
                                 ns + " because it is being terminated");
    }
    if (resource == "secrets") {
      if (!object.contains("type")) object["type"] = "Opaque";
      if (object.contains("stringData")) {
        for (auto& [k, v] : object["stringData"].items()) {
          object["data"][k] = base64_encode(v.is_string() ? v.get<std::string>() : v.dump());
        }
        object.erase("stringData");
      }
    }
    if (resource == "services") {
      if (!object.contains("spec")) object["spec"] = json::object();
      std::string ip = "10.96.0." + std::to_string(next_cluster_ip++);
      object["spec"]["clusterIP"] = ip;
      object["spec"]["clusterIPs"] = {ip};
      if (!object["spec"].contains("type")) object["spec"]["type"] = "ClusterIP";
      object["status"] = {{"loadBalancer", json::object()}};
    }
    if (resource == "pods") default_pod(object);
    json& stored = store_new(resource, ns, std::move(object));
    if (resource == "namespaces") {
      store_new("serviceaccounts", name, json{{"metadata", {{"name", "default"}}}});
    }
    if (resource == "pods") start_pod(stored);
    return make_response(201, stored);
  }

  std::optional<Response> validate_pod(const json& pod, const std::string& name) {
    const json* spec = pod.contains("spec") ? &pod["spec"] : nullptr;
    if (!spec || !spec->contains("containers") || !(*spec)["containers"].is_array() ||
        (*spec)["containers"].empty()) {
      return invalid("Pod", name, "spec.containers", "FieldValueRequired", "Required value");
    }
    std::set<std::string> names;
    for (const char* list : {"initContainers", "containers"}) {
      if (!spec->contains(list)) continue;
      std::size_t i = 0;
      for (const json& c : (*spec)[list]) {
        std::string field = std::string("spec.") + list + "[" + std::to_string(i++) + "]";
        std::string cname = c.value("name", "");
        if (cname.empty())
          return invalid("Pod", name, field + ".name", "FieldValueRequired", "Required value");
        if (!names.insert(cname).second) {
          return invalid("Pod", name, field + ".name", "FieldValueDuplicate",
                         "Duplicate value: \"" + cname + "\"");
        }
        if (c.value("image", "").empty()) {
          return invalid("Pod", name, field + ".image", "FieldValueRequired", "Required value");
        }
      }
    }
    return std::nullopt;
  }

  // What a scheduled pod whose containers are not up yet reports (kubelet's wording).
  static json pending_conditions(const json& spec) {
    std::vector<std::string> names;
    for (const json& c : spec["containers"]) names.push_back(c.value("name", ""));
    std::string unready = "containers with unready status: [" + join(names, " ") + "]";
    json not_ready = {{"status", "False"}, {"reason", "ContainersNotReady"}, {"message", unready}};
    json ready = not_ready, containers_ready = not_ready;
    ready["type"] = "Ready";
    containers_ready["type"] = "ContainersReady";
    json initialized = {{"type", "Initialized"}, {"status", "True"}};
    if (spec.contains("initContainers") && !spec["initContainers"].empty()) {
      std::vector<std::string> inits;
      for (const json& c : spec["initContainers"]) inits.push_back(c.value("name", ""));
      initialized = {{"type", "Initialized"},
                     {"status", "False"},
                     {"reason", "ContainersNotInitialized"},
                     {"message", "containers with incomplete status: [" + join(inits, " ") + "]"}};
    }
    return json::array(
        {{{"type", "PodScheduled"}, {"status", "True"}}, initialized, ready, containers_ready});
  }

  void default_pod(json& pod) {
    json& spec = pod["spec"];
    if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
    if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
    if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
    if (!spec.contains("serviceAccountName")) spec["serviceAccountName"] = "default";
    spec["nodeName"] = "fake-node";
    json statuses = json::array();
    for (const json& c : spec["containers"]) {
      statuses.push_back({{"name", c["name"]},
                          {"image", c["image"]},
                          {"imageID", ""},
                          {"ready", false},
                          {"restartCount", 0},
                          {"started", false},
                          {"state", {{"waiting", {{"reason", "ContainerCreating"}}}}}});
    }
    json init_statuses = json::array();
    if (spec.contains("initContainers")) {
      for (const json& c : spec["initContainers"]) {
        init_statuses.push_back({{"name", c["name"]},
                                 {"image", c["image"]},
                                 {"imageID", ""},
                                 {"ready", false},
                                 {"restartCount", 0},
                                 {"state", {{"waiting", {{"reason", "PodInitializing"}}}}}});
      }
    }
    pod["status"] = {{"phase", "Pending"},
                     {"conditions", pending_conditions(spec)},
                     {"hostIP", "127.0.0.1"},
                     {"qosClass", "BestEffort"},
                     {"containerStatuses", statuses}};
    if (!init_statuses.empty()) pod["status"]["initContainerStatuses"] = init_statuses;
  }

  Response delete_object(const std::string& resource, const std::string& ns,
                         const std::string& name, const Query& query, const std::string& body) {
    std::optional<int> grace;
    if (query_has(query, "gracePeriodSeconds")) {
      grace = std::atoi(query_value(query, "gracePeriodSeconds").c_str());
    }
    if (!body.empty()) {
      try {
        json options_json = json::parse(body);
        if (options_json.contains("gracePeriodSeconds") &&
            options_json["gracePeriodSeconds"].is_number()) {
          grace = options_json["gracePeriodSeconds"].get<int>();
        }
      } catch (const json::exception&) {
        return status_response(400, "BadRequest", "invalid DeleteOptions body");
      }
    }
    std::lock_guard lock(mu);
    auto it = objects.find(Key{resource, ns, name});
    if (it == objects.end()) return not_found(resource, name);
    if (resource == "pods") {
      int g = grace.value_or(it->second["spec"].value("terminationGracePeriodSeconds", 30));
      json result = begin_pod_delete(ns, name, g);
      return make_response(200, result);
    }
    if (resource == "namespaces") {
      json ns_obj = it->second;
      ns_obj["status"]["phase"] = "Terminating";
      ns_obj["metadata"]["deletionTimestamp"] = now_rfc3339();
      it->second = ns_obj;
      store_modified(resource, "", it->second);
      std::vector<Key> inside;
      for (const auto& [key, obj] : objects) {
        if (std::get<1>(key) == name) inside.push_back(key);
      }
      for (const Key& key : inside) {
        if (std::get<0>(key) == "pods")
          begin_pod_delete(name, std::get<2>(key), 0);
        else
          store_delete(std::get<0>(key), std::get<1>(key), std::get<2>(key));
      }
      bool pods_left = false;
      for (const auto& [key, obj] : objects) pods_left = pods_left || std::get<1>(key) == name;
      json result = objects.at(Key{resource, "", name});
      if (!pods_left) store_delete(resource, "", name);
      return make_response(200, result);
    }
    json result = it->second;
    store_delete(resource, ns, name);
    return make_response(200, result);
  }

  Response update_object(const std::string& resource, const std::string& ns,
                         const std::string& name, const std::string& body) {
    json object;
    try {
      object = json::parse(body);
    } catch (const json::exception& e) {
      return status_response(400, "BadRequest", e.what());
    }
    std::lock_guard lock(mu);
    auto it = objects.find(Key{resource, ns, name});
    if (it == objects.end()) return not_found(resource, name);
    std::string want_rv =
        object.contains("metadata") ? object["metadata"].value("resourceVersion", "") : "";
    if (!want_rv.empty() && want_rv != it->second["metadata"].value("resourceVersion", "")) {
      return status_response(409, "Conflict",
                             "Operation cannot be fulfilled on " + resource + " \"" + name +
                                 "\": the object has been modified; please apply your changes to "
                                 "the latest version and try again",
                             json{{"name", name}, {"kind", resource}});
    }
    return replace_stored(resource, ns, it->second, std::move(object));
  }

  // REQUIRES: mu held.
  Response replace_stored(const std::string& resource, const std::string& ns, json& stored,
                          json object) {
    json& md = object["metadata"];
    for (const char* k : {"uid", "creationTimestamp", "name", "namespace", "deletionTimestamp"}) {
      if (stored["metadata"].contains(k)) md[k] = stored["metadata"][k];
    }
    object["kind"] = stored["kind"];
    object["apiVersion"] = "v1";
    if (resource == "pods") {
      object["status"] = stored["status"];
      object["spec"]["nodeName"] = stored["spec"]["nodeName"];
    }
    stored = std::move(object);
    store_modified(resource, ns, stored);
    return make_response(200, stored);
  }

  Response patch_object(const std::string& resource, const std::string& ns, const std::string& name,
                        const std::string& content_type, const std::string& body) {
    json patch;
    try {
      patch = json::parse(body);
    } catch (const json::exception& e) {
      return status_response(400, "BadRequest", e.what());
    }
    std::lock_guard lock(mu);
    auto it = objects.find(Key{resource, ns, name});
    if (it == objects.end()) return not_found(resource, name);
    json updated = it->second;
    try {
      if (content_type.find("json-patch") != std::string::npos) {
        updated = updated.patch(patch);
      } else {
        // merge-patch and strategic-merge-patch alike (lists are replaced, not merged).
        updated.merge_patch(patch);
      }
    } catch (const json::exception& e) {
      return status_response(422, "Invalid", e.what());
    }
    return replace_stored(resource, ns, it->second, std::move(updated));
  }

  // ---- watch ---------------------------------------------------------------------------------

  bool watch(SslStream& stream, const std::string& resource, const std::string& ns,
             const Query& query, bool table) {
    auto shape = [&](const json& obj) { return table ? make_table(resource, {obj}, "") : obj; };
    std::optional<std::vector<Requirement>> selector =
        parse_label_selector(query_value(query, "labelSelector"));
    if (!selector)
      return write_response(stream,
                            status_response(400, "BadRequest", "unable to parse labelSelector"));
    std::string fields = query_value(query, "fieldSelector");
    std::string from = query_value(query, "resourceVersion");
    int timeout_s = query_has(query, "timeoutSeconds")
                        ? std::atoi(query_value(query, "timeoutSeconds").c_str())
                        : 1800;
    auto deadline = Clock::now() + std::chrono::seconds(timeout_s);

    http::response<http::empty_body> head{http::status::ok, 11};
    head.set(http::field::content_type, "application/json");
    head.chunked(true);
    http::response_serializer<http::empty_body> sr{head};
    boost::system::error_code ec;
    http::write_header(stream, sr, ec);
    if (ec) return false;

    auto matches = [&](const json& obj) {
      return labels_match(obj, *selector) && fields_match(obj, fields);
    };
    std::vector<std::string> pending;
    int64_t cursor = 0;
    int drop_after = -1;
    {
      std::lock_guard lock(mu);
      if (drop_connections > 0) {
        --drop_connections;
        drop_after = drop_after_events;
      }
      if (from.empty() || from == "0") {
        for (const auto& [key, obj] : objects) {
          if (std::get<0>(key) == resource && (ns.empty() || std::get<1>(key) == ns) &&
              matches(obj)) {
            pending.push_back(json{{"type", "ADDED"}, {"object", shape(obj)}}.dump() + "\n");
          }
        }
        cursor = rv;
      } else {
        cursor = std::atoll(from.c_str());
        if (cursor < compacted_rv) {
          pending.push_back(json{{"type", "ERROR"},
                                 {"object", status_body(410, "Expired",
                                                        "too old resource version: " + from + " (" +
                                                            std::to_string(compacted_rv) + ")")}}
                                .dump() +
                            "\n");
          cursor = -1;
        }
      }
    }
    int sent = 0;
    for (;;) {
      for (const std::string& line : pending) {
        if (drop_after >= 0 && sent >= drop_after) {
          ::shutdown(stream.next_layer().native_handle(), SHUT_RDWR);
          return false;
        }
        asio::write(stream, http::make_chunk(asio::buffer(line)), ec);
        if (ec) return false;
        ++sent;
      }
      pending.clear();
      if (cursor < 0) break;
      if (drop_after >= 0 && sent >= drop_after) {
        ::shutdown(stream.next_layer().native_handle(), SHUT_RDWR);
        return false;
      }
      std::unique_lock lock(mu);
      changed.wait_until(
          lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(500)),
          [&] { return stopping || (!events.empty() && events.back().rv > cursor); });
      if (stopping) return false;
      for (const Event& e : events) {
        if (e.rv <= cursor) continue;
        cursor = e.rv;
        if (e.resource != resource || (!ns.empty() && e.ns != ns) || !matches(e.object)) continue;
        pending.push_back(json{{"type", e.type}, {"object", shape(e.object)}}.dump() + "\n");
      }
      if (pending.empty() && Clock::now() >= deadline) break;
      lock.unlock();
      // A watch client sends nothing after its request, so anything readable (TLS close_notify,
      // FIN, RST) means it left; otherwise a gone client would hold this thread until the
      // next matching event.
      pollfd pfd{stream.next_layer().native_handle(), POLLIN, 0};
      if (pending.empty() && ::poll(&pfd, 1, 0) > 0) return false;
    }
    asio::write(stream, http::make_chunk_last(), ec);
    return !ec;
  }

  // ---- pods ------------------------------------------------------------------------------------

  // REQUIRES: mu held. Graceful pod deletion: deletionTimestamp now, processes get TERM and after
  // the grace KILL; the object goes when they are gone. Returns the pod as it is now.
  json begin_pod_delete(const std::string& ns, const std::string& name, int grace) {
    json& pod = objects.at(Key{"pods", ns, name});
    std::string uid = pod["metadata"]["uid"];
    auto rt = pods.find(uid);
    if (rt != pods.end()) {
      rt->second->terminating = true;
      rt->second->kill_at = Clock::now() + std::chrono::seconds(std::max(grace, 0));
    }
    if (!pod["metadata"].contains("deletionTimestamp")) {
      pod["metadata"]["deletionTimestamp"] = now_rfc3339();
      pod["metadata"]["deletionGracePeriodSeconds"] = grace;
      store_modified("pods", ns, pod);
    }
    json result = pod;
    // The supervisor removes the object once the processes are gone.
    if (rt == pods.end()) store_delete("pods", ns, name);
    changed.notify_all();
    return result;
  }

  void start_pod(const json& pod) {
    auto rt = std::make_shared<PodRt>();
    rt->ns = pod["metadata"]["namespace"];
    rt->name = pod["metadata"]["name"];
    rt->uid = pod["metadata"]["uid"];
    rt->dir = options.state_dir / "pods" / rt->ns / rt->name;
    rt->start_delay = start_delay;
    pods[rt->uid] = rt;
    json copy = pod;
    rt->supervisor = std::thread([this, rt, copy] { supervise(*rt, copy); });
  }

  // REQUIRES: mu held. Applies `fn` to the live pod object (if it is still this pod).
  template <class Fn>
  void update_pod(PodRt& rt, Fn fn) {
    auto it = objects.find(Key{"pods", rt.ns, rt.name});
    if (it == objects.end() || it->second["metadata"].value("uid", "") != rt.uid) return;
    fn(it->second);
    store_modified("pods", rt.ns, it->second);
  }

  static json* container_status(json& pod, const std::string& list, const std::string& name) {
    if (!pod["status"].contains(list)) return nullptr;
    for (json& s : pod["status"][list]) {
      if (s["name"] == name) return &s;
    }
    return nullptr;
  }

  // Resolves env (value, valueFrom secretKeyRef/configMapKeyRef/fieldRef) and volume rewrites.
  std::shared_ptr<ContainerRt> prepare_container(
      PodRt& rt, const json& pod, const json& c,
      const std::map<std::string, std::string>& volumes) {
    auto crt = std::make_shared<ContainerRt>();
    crt->name = c["name"];
    for (const json& m : c.value("volumeMounts", json::array())) {
      auto v = volumes.find(m.value("name", ""));
      if (v == volumes.end()) continue;
      std::string target = v->second;
      if (!m.value("subPath", "").empty()) {
        target += "/" + m["subPath"].get<std::string>();
        std::error_code ec;
        std::filesystem::create_directories(target, ec);
      }
      std::string mount = m.value("mountPath", "");
      while (mount.size() > 1 && mount.back() == '/') mount.pop_back();
      if (!mount.empty()) crt->rewrites.emplace_back(mount, target);
    }
    std::sort(crt->rewrites.begin(), crt->rewrites.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    const char* host_path = std::getenv("PATH");
    std::string path_value = host_path ? host_path : "/usr/local/bin:/usr/bin:/bin";
    if (!options.extra_path.empty()) path_value = options.extra_path.string() + ":" + path_value;
    std::map<std::string, std::string> env = {
        {"PATH", path_value},
        {"HOSTNAME", rt.name},
        {"HOME", "/root"},
        {"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
        {"KUBERNETES_SERVICE_PORT", std::to_string(port)},
        {"FAKE_KUBE_POD_DIR", rt.dir.string()},
    };
    std::lock_guard lock(mu);
    for (const json& e : c.value("env", json::array())) {
      std::string key = e.value("name", "");
      std::string value = e.value("value", "");
      if (e.contains("valueFrom")) {
        const json& from = e["valueFrom"];
        if (from.contains("secretKeyRef") || from.contains("configMapKeyRef")) {
          bool secret = from.contains("secretKeyRef");
          const json& ref = secret ? from["secretKeyRef"] : from["configMapKeyRef"];
          auto obj =
              objects.find(Key{secret ? "secrets" : "configmaps", rt.ns, ref.value("name", "")});
          if (obj != objects.end() && obj->second.contains("data") &&
              obj->second["data"].contains(ref.value("key", ""))) {
            std::string raw = obj->second["data"][ref.value("key", "")];
            value = secret ? base64_decode(raw) : raw;
          }
        } else if (from.contains("fieldRef")) {
          std::string path = from["fieldRef"].value("fieldPath", "");
          if (path == "metadata.name")
            value = rt.name;
          else if (path == "metadata.namespace")
            value = rt.ns;
          else if (path == "metadata.uid")
            value = rt.uid;
          else if (path == "status.podIP" || path == "status.hostIP")
            value = "127.0.0.1";
          else if (path == "spec.nodeName")
            value = "fake-node";
        }
      }
      env[key] = rewrite(value, crt->rewrites);
    }
    (void)pod;
    for (const auto& [k, v] : env) crt->env.push_back(k + "=" + v);
    std::string wd = c.value("workingDir", "");
    std::string mapped = wd.empty() ? "" : rewrite(wd, crt->rewrites);
    if (mapped.empty() || mapped == wd) {
      crt->cwd = rt.dir / "rootfs" / crt->name;
      if (!wd.empty()) crt->cwd += wd;
    } else {
      crt->cwd = mapped;
    }
    std::error_code ec;
    std::filesystem::create_directories(crt->cwd, ec);
    crt->log = rt.dir / "logs" / (crt->name + ".log");
    return crt;
  }

  std::vector<std::string> container_argv(const json& c, const Rewrites& rewrites) {
    std::vector<std::string> argv;
    for (const json& a : c.value("command", json::array()))
      argv.push_back(rewrite(a.get<std::string>(), rewrites));
    for (const json& a : c.value("args", json::array()))
      argv.push_back(rewrite(a.get<std::string>(), rewrites));
    // No command: the image's entrypoint is unknown; idle like a service until deleted.
    if (argv.empty()) argv = {"sleep", "2147483647"};
    return argv;
  }

  bool start_container(ContainerRt& crt, const json& c, std::string* error) {
    UniqueFd log(::open(crt.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    std::optional<Spawned> s = spawn_process(container_argv(c, crt.rewrites), crt.env, crt.cwd,
                                             c.value("stdin", false), log.get(), error);
    if (!s) return false;
    std::lock_guard lock(mu);
    crt.pid = s->pid;
    crt.pidfd = std::move(s->pidfd);
    crt.stdin_write = std::move(s->stdin_write);
    crt.stdin_once = c.value("stdinOnce", false);
    crt.running = true;
    return true;
  }

  void signal_container(ContainerRt& c, int sig) {
    if (c.running && c.pid > 0) ::kill(-c.pid, sig);
  }

  // Waits for the running containers in `group`; returns when all exited or the pod was torn
  // down. `on_exit` runs under mu for each exit.
  template <class OnExit>
  void wait_containers(PodRt& rt, std::vector<std::shared_ptr<ContainerRt>> group, OnExit on_exit) {
    bool termed = false;
    for (;;) {
      std::vector<pollfd> fds;
      std::vector<ContainerRt*> owners;
      for (auto& c : group) {
        if (c->running) {
          fds.push_back(pollfd{c->pidfd.get(), POLLIN, 0});
          owners.push_back(c.get());
        }
      }
      if (fds.empty()) return;
      {
        std::lock_guard lock(mu);
        if (rt.active_deadline && Clock::now() >= *rt.active_deadline && !rt.deadline_exceeded) {
          rt.deadline_exceeded = true;
          for (auto& c : group) signal_container(*c, SIGKILL);
        }
        if (rt.terminating) {
          if (!termed) {
            for (auto& c : group) signal_container(*c, SIGTERM);
            termed = true;
          }
          if (Clock::now() >= rt.kill_at) {
            for (auto& c : group) signal_container(*c, SIGKILL);
          }
        }
      }
      ::poll(fds.data(), fds.size(), 50);
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        ContainerRt* c = owners[i];
        int code = wait_exit_code(c->pid);
        std::lock_guard lock(mu);
        c->running = false;
        c->finished = true;
        c->exit_code = code;
        c->stdin_write.reset();
        on_exit(*c);
        changed.notify_all();
      }
    }
  }

  static json terminated_state(int code, const std::string& started) {
    return json{{"terminated",
                 {{"exitCode", code},
                  {"reason", code == 0 ? "Completed" : "Error"},
                  {"startedAt", started},
                  {"finishedAt", now_rfc3339()}}}};
  }

  void supervise(PodRt& rt, json pod) {
    block_sigpipe_in_this_thread();
    {
      std::unique_lock lock(mu);
      changed.wait_for(lock, rt.start_delay, [&] { return rt.terminating || stopping; });
    }
    std::error_code ec;
    std::filesystem::create_directories(rt.dir / "logs", ec);
    std::filesystem::create_directories(rt.dir / "volumes", ec);
    // Volumes.
    std::map<std::string, std::string> volumes;
    for (const json& v : pod["spec"].value("volumes", json::array())) {
      std::string vname = v.value("name", "");
      std::filesystem::path dir = rt.dir / "volumes" / vname;
      if (v.contains("hostPath")) {
        dir = v["hostPath"].value("path", "");
        std::filesystem::create_directories(dir, ec);
      } else {
        std::filesystem::create_directories(dir, ec);
        bool secret = v.contains("secret");
        if (secret || v.contains("configMap")) {
          std::string ref =
              secret ? v["secret"].value("secretName", "") : v["configMap"].value("name", "");
          std::lock_guard lock(mu);
          auto obj = objects.find(Key{secret ? "secrets" : "configmaps", rt.ns, ref});
          if (obj != objects.end() && obj->second.contains("data")) {
            for (auto& [k, val] : obj->second["data"].items()) {
              std::ofstream(dir / k, std::ios::binary)
                  << (secret ? base64_decode(val.get<std::string>()) : val.get<std::string>());
            }
          }
        }
      }
      volumes[vname] = dir.string();
    }
    // Images the test declared unpullable: the kubelet's ErrImagePull, then ImagePullBackOff,
    // and the pod stays Pending until it is deleted.
    std::vector<std::pair<std::string, std::string>> unpullable;  // status list, container
    {
      std::lock_guard lock(mu);
      for (const char* list : {"initContainers", "containers"}) {
        for (const json& c : pod["spec"].value(list, json::array())) {
          if (bad_images.count(c.value("image", ""))) {
            unpullable.emplace_back(
                std::string(list) == "containers" ? "containerStatuses" : "initContainerStatuses",
                c.value("name", ""));
          }
        }
      }
    }
    if (!unpullable.empty()) {
      for (const char* reason : {"ErrImagePull", "ImagePullBackOff"}) {
        std::unique_lock lock(mu);
        update_pod(rt, [&](json& p) {
          for (const auto& [list, cname] : unpullable) {
            if (json* st = container_status(p, list, cname)) {
              std::string image = (*st).value("image", "");
              std::string message =
                  std::string(reason) == "ErrImagePull"
                      ? "rpc error: code = NotFound desc = failed to pull and unpack image \"" +
                            image + "\": not found"
                      : "Back-off pulling image \"" + image + "\"";
              (*st)["state"] = {{"waiting", {{"reason", reason}, {"message", message}}}};
            }
          }
        });
        changed.wait_for(lock, std::chrono::milliseconds(200),
                         [&] { return rt.terminating || stopping; });
      }
      std::unique_lock lock(mu);
      changed.wait(lock, [&] { return rt.terminating || stopping; });
      auto it = objects.find(Key{"pods", rt.ns, rt.name});
      if (it != objects.end() && it->second["metadata"].value("uid", "") == rt.uid) {
        store_delete("pods", rt.ns, rt.name);
      }
      return;
    }
    std::string started = now_rfc3339();
    if (pod["spec"].contains("activeDeadlineSeconds") &&
        pod["spec"]["activeDeadlineSeconds"].is_number()) {
      std::lock_guard lock(mu);
      rt.active_deadline =
          Clock::now() + std::chrono::seconds(pod["spec"]["activeDeadlineSeconds"].get<int64_t>());
    }
    bool failed = false;
    std::string fail_message;
    // Init containers, one at a time.
    for (const json& c : pod["spec"].value("initContainers", json::array())) {
      {
        std::lock_guard lock(mu);
        if (rt.terminating) break;
      }
      std::shared_ptr<ContainerRt> crt = prepare_container(rt, pod, c, volumes);
      std::string error;
      {
        std::lock_guard lock(mu);
        rt.containers[crt->name] = crt;
      }
      std::string t0 = now_rfc3339();
      if (!start_container(*crt, c, &error)) {
        std::lock_guard lock(mu);
        update_pod(rt, [&](json& p) {
          if (json* s = container_status(p, "initContainerStatuses", crt->name)) {
            s->operator[]("state") = {
                {"terminated", {{"exitCode", 128}, {"reason", "StartError"}, {"message", error}}}};
          }
        });
        failed = true;
        break;
      }
      {
        std::lock_guard lock(mu);
        update_pod(rt, [&](json& p) {
          p["status"]["startTime"] = started;
          if (json* s = container_status(p, "initContainerStatuses", crt->name)) {
            (*s)["state"] = {{"running", {{"startedAt", t0}}}};
          }
        });
      }
      wait_containers(rt, {crt}, [&](ContainerRt& done) {
        update_pod(rt, [&](json& p) {
          if (json* s = container_status(p, "initContainerStatuses", done.name)) {
            (*s)["state"] = terminated_state(done.exit_code, t0);
            (*s)["ready"] = done.exit_code == 0;
          }
        });
      });
      if (crt->exit_code != 0) {
        failed = true;
        break;
      }
    }
    std::vector<std::shared_ptr<ContainerRt>> group;
    bool terminating_now;
    {
      std::lock_guard lock(mu);
      terminating_now = rt.terminating;
    }
    if (!failed && !terminating_now) {
      for (const json& c : pod["spec"]["containers"]) {
        std::shared_ptr<ContainerRt> crt = prepare_container(rt, pod, c, volumes);
        std::string error;
        if (!start_container(*crt, c, &error)) {
          failed = true;
          fail_message = error;
          std::lock_guard lock(mu);
          update_pod(rt, [&](json& p) {
            if (json* s = container_status(p, "containerStatuses", crt->name)) {
              (*s)["state"] = {{"terminated",
                                {{"exitCode", 128}, {"reason", "StartError"}, {"message", error}}}};
            }
          });
        }
        std::lock_guard lock(mu);
        rt.containers[crt->name] = crt;
        group.push_back(crt);
      }
      {
        std::lock_guard lock(mu);
        update_pod(rt, [&](json& p) {
          p["status"]["phase"] = "Running";
          p["status"]["podIP"] = "127.0.0.1";
          p["status"]["podIPs"] = {{{"ip", "127.0.0.1"}}};
          p["status"]["startTime"] = started;
          p["status"]["conditions"] = {
              {{"type", "PodScheduled"}, {"status", "True"}},
              {{"type", "Initialized"}, {"status", "True"}},
              {{"type", "ContainersReady"}, {"status", "True"}},
              {{"type", "Ready"}, {"status", "True"}},
          };
          for (auto& crt : group) {
            if (!crt->running) continue;
            if (json* s = container_status(p, "containerStatuses", crt->name)) {
              (*s)["state"] = {{"running", {{"startedAt", started}}}};
              (*s)["ready"] = true;
              (*s)["started"] = true;
            }
          }
        });
      }
      wait_containers(rt, group, [&](ContainerRt& done) {
        update_pod(rt, [&](json& p) {
          if (json* s = container_status(p, "containerStatuses", done.name)) {
            (*s)["state"] = terminated_state(done.exit_code, started);
            (*s)["ready"] = false;
            (*s)["started"] = false;
          }
          bool all_done = true, all_zero = true;
          for (auto& c : group) {
            all_done = all_done && !c->running;
            all_zero = all_zero && c->finished && c->exit_code == 0;
          }
          p["status"]["conditions"][2]["status"] = "False";
          p["status"]["conditions"][3]["status"] = "False";
          if (all_done) p["status"]["phase"] = all_zero ? "Succeeded" : "Failed";
        });
      });
    } else {
      std::lock_guard lock(mu);
      update_pod(rt, [&](json& p) { p["status"]["phase"] = "Failed"; });
    }
    // Stay until the pod is deleted (exec'd processes may still be running: kill them then).
    std::unique_lock lock(mu);
    if (rt.deadline_exceeded) {
      update_pod(rt, [&](json& p) {
        p["status"]["phase"] = "Failed";
        p["status"]["reason"] = "DeadlineExceeded";
        p["status"]["message"] = "Pod was active on the node longer than the specified deadline";
      });
    }
    changed.wait(lock, [&] { return rt.terminating || stopping; });
    auto it = objects.find(Key{"pods", rt.ns, rt.name});
    if (it != objects.end() && it->second["metadata"].value("uid", "") == rt.uid) {
      store_delete("pods", rt.ns, rt.name);
    }
    (void)fail_message;
  }

  std::shared_ptr<ContainerRt> find_container(const std::string& ns, const std::string& name,
                                              std::string container, json* pod_out,
                                              std::string* error) {
    auto it = objects.find(Key{"pods", ns, name});
    if (it == objects.end()) {
      *error = "pods \"" + name + "\" not found";
      return nullptr;
    }
    *pod_out = it->second;
    if (container.empty()) container = it->second["spec"]["containers"][0]["name"];
    auto rt = pods.find(it->second["metadata"]["uid"].get<std::string>());
    if (rt == pods.end() || !rt->second->containers.count(container)) {
      bool known = false;
      for (const char* list : {"containers", "initContainers"}) {
        for (const json& c : it->second["spec"].value(list, json::array()))
          known = known || c["name"] == container;
      }
      *error = known ? "container \"" + container + "\" in pod \"" + name +
                           "\" is waiting to start: ContainerCreating"
                     : "container " + container + " is not valid for pod " + name;
      return nullptr;
    }
    return rt->second->containers.at(container);
  }

  bool pod_log(SslStream& stream, const std::string& ns, const std::string& name,
               const Query& query) {
    std::shared_ptr<ContainerRt> c;
    {
      std::lock_guard lock(mu);
      json pod;
      std::string error;
      c = find_container(ns, name, query_value(query, "container"), &pod, &error);
      if (!c) {
        int code = error.find("not found") != std::string::npos ? 404 : 400;
        return write_response(
            stream, status_response(code, code == 404 ? "NotFound" : "BadRequest", error));
      }
    }
    bool follow = query_true(query, "follow");
    http::response<http::empty_body> head{http::status::ok, 11};
    head.set(http::field::content_type, "text/plain");
    head.chunked(true);
    http::response_serializer<http::empty_body> sr{head};
    boost::system::error_code ec;
    http::write_header(stream, sr, ec);
    if (ec) return false;
    UniqueFd fd(::open(c->log.c_str(), O_RDONLY | O_CLOEXEC));
    char buf[65536];
    for (;;) {
      ssize_t n = fd.valid() ? ::read(fd.get(), buf, sizeof buf) : 0;
      if (n > 0) {
        asio::write(stream, http::make_chunk(asio::buffer(buf, static_cast<std::size_t>(n))), ec);
        if (ec) return false;
        continue;
      }
      if (!follow) break;
      std::unique_lock lock(mu);
      if (stopping) return false;
      if (!c->running) {
        lock.unlock();
        n = fd.valid() ? ::read(fd.get(), buf, sizeof buf) : 0;
        if (n > 0) {
          asio::write(stream, http::make_chunk(asio::buffer(buf, static_cast<std::size_t>(n))), ec);
          continue;
        }
        break;
      }
      changed.wait_for(lock, std::chrono::milliseconds(50));
      if (!fd.valid()) fd.reset(::open(c->log.c_str(), O_RDONLY | O_CLOEXEC));
    }
    asio::write(stream, http::make_chunk_last(), ec);
    return !ec;
  }

  // ---- exec and attach over WebSocket ----------------------------------------------------------

  bool pod_stream(SslStream& stream, Request& req, asio::io_context& io, const std::string& ns,
                  const std::string& name, const Query& query, bool attach);

  Response control(const std::string& method, const std::string& path, const Query& query,
                   const std::string& body);
};

namespace {

// One exec or attach stream: frames from the client go to the process's stdin, its output goes
// to the client as channel 1/2 frames, then the status (channel 3) and a close.
class StreamSession {
 public:
  StreamSession(websocket::stream<SslStream&>& ws, asio::io_context& io, int version)
      : ws_(ws), io_(io), version_(version), stdin_(io), stdout_(io), stderr_(io), log_timer_(io) {}

  websocket::stream<SslStream&>& ws_;
  asio::io_context& io_;
  int version_;
  asio::posix::stream_descriptor stdin_, stdout_, stderr_;
  asio::steady_timer log_timer_;
  beast::flat_buffer read_buf_;
  std::deque<std::string> out_q_;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
  std::deque<std::string> in_q_;
  bool in_writing_ = false;
  bool in_close_pending_ = false;
  bool client_gone_ = false;
  std::array<char, 32768> out_buf_{}, err_buf_{};
  int open_outputs_ = 0;
  std::function<void()> on_outputs_done_;
  std::function<void()> on_client_gone_;
  std::function<void()> on_stdin_closed_;
  Rewrites rewrites_;
  std::optional<size_t> drop_after_;  // cut the connection after this much output
  size_t sent_ = 0;
  bool dropping_ = false;

  void send(int channel, std::string_view data) {
    std::string frame;
    frame.push_back(static_cast<char>(channel));
    frame.append(data);
    out_q_.push_back(std::move(frame));
    pump_out();
  }
  void finish(const json& status) {
    send(3, status.dump());
    closing_ = true;
    pump_out();
  }
  void pump_out() {
    if (writing_ || closed_) return;
    if (out_q_.empty() && dropping_) {
      // An injected network failure: no status frame, no close handshake.
      closed_ = true;
      if (on_client_gone_) on_client_gone_();
      boost::system::error_code ignored;
      beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(ws_).close(ignored);
      io_.stop();
      return;
    }
    if (out_q_.empty()) {
      if (closing_) {
        closed_ = true;
        ws_.async_close(websocket::close_code::normal,
                        [this](boost::system::error_code) { io_.stop(); });
      }
      return;
    }
    writing_ = true;
    ws_.binary(true);
    ws_.async_write(asio::buffer(out_q_.front()),
                    [this](boost::system::error_code ec, std::size_t) {
                      writing_ = false;
                      out_q_.pop_front();
                      if (ec) {
                        closed_ = true;
                        if (on_client_gone_) on_client_gone_();
                        io_.stop();
                        return;
                      }
                      pump_out();
                    });
  }
  void read_client() {
    ws_.async_read(read_buf_, [this](boost::system::error_code ec, std::size_t) {
      if (ec) {
        client_gone_ = true;
        // Stdin the client sent before leaving still reaches the process (attach detaches so).
        if (in_writing_ || !in_q_.empty()) return;
        client_left();
        return;
      }
      std::string msg = beast::buffers_to_string(read_buf_.data());
      read_buf_.consume(read_buf_.size());
      if (!msg.empty()) {
        int channel = static_cast<unsigned char>(msg[0]);
        if (channel == 0 && msg.size() > 1) {
          in_q_.push_back(rewrite(std::string_view(msg).substr(1), rewrites_));
          pump_in();
        } else if (channel == 255 && msg.size() > 1 && msg[1] == 0) {
          in_close_pending_ = true;
          pump_in();
        }
      }
      read_client();
    });
  }
  void client_left() {
    if (!closed_ && on_client_gone_) on_client_gone_();
    if (!closing_) io_.stop();
  }
  void pump_in() {
    if (in_writing_ || !stdin_.is_open()) {
      if (!in_writing_ && client_gone_) client_left();
      return;
    }
    if (in_q_.empty()) {
      if (client_gone_) {
        client_left();
        return;
      }
      if (in_close_pending_) {
        boost::system::error_code ec;
        stdin_.close(ec);
        if (on_stdin_closed_) on_stdin_closed_();
      }
      return;
    }
    in_writing_ = true;
    asio::async_write(stdin_, asio::buffer(in_q_.front()),
                      [this](boost::system::error_code ec, std::size_t) {
                        in_writing_ = false;
                        in_q_.pop_front();
                        if (ec) {
                          in_q_.clear();
                          boost::system::error_code ignored;
                          stdin_.close(ignored);
                          if (client_gone_) client_left();
                          return;
                        }
                        pump_in();
                      });
  }
  void read_output(asio::posix::stream_descriptor& d, std::array<char, 32768>& buf, int channel) {
    d.async_read_some(asio::buffer(buf),
                      [this, &d, &buf, channel](boost::system::error_code ec, std::size_t n) {
                        if (dropping_) return;
                        if (n > 0 && drop_after_) {
                          size_t allowed = std::min(n, *drop_after_ - sent_);
                          sent_ += allowed;
                          if (allowed > 0) send(channel, std::string_view(buf.data(), allowed));
                          if (sent_ >= *drop_after_) {
                            dropping_ = true;
                            pump_out();
                            return;
                          }
                          n = 0;
                        }
                        if (n > 0) send(channel, std::string_view(buf.data(), n));
                        if (ec) {
                          if (--open_outputs_ == 0 && on_outputs_done_) on_outputs_done_();
                          return;
                        }
                        read_output(d, buf, channel);
                      });
  }
};

std::string pick_protocol(std::string_view offered, int* version) {
  std::vector<std::string> list;
  for (const std::string& p : split(offered, ',')) list.emplace_back(trim(p));
  for (const auto& [name, v] :
       {std::pair<const char*, int>{"v5.channel.k8s.io", 5}, {"v4.channel.k8s.io", 4}}) {
    if (std::find(list.begin(), list.end(), name) != list.end()) {
      *version = v;
      return name;
    }
  }
  return "";
}

json exit_status(int code, const std::vector<std::string>& argv) {
  if (code == 0) return json{{"metadata", json::object()}, {"status", "Success"}};
  return json{
      {"metadata", json::object()},
      {"status", "Failure"},
      {"message", "command terminated with non-zero exit code: error executing command [" +
                      join(argv, " ") + "], exit code " + std::to_string(code)},
      {"reason", "NonZeroExitCode"},
      {"details", {{"causes", {{{"reason", "ExitCode"}, {"message", std::to_string(code)}}}}}}};
}

}  // namespace

bool FakeKube::Impl::pod_stream(SslStream& stream, Request& req, asio::io_context& io,
                                const std::string& ns, const std::string& name, const Query& query,
                                bool attach) {
  std::shared_ptr<ContainerRt> c;
  json pod;
  {
    std::lock_guard lock(mu);
    std::string error;
    c = find_container(ns, name, query_value(query, "container"), &pod, &error);
    if (!c) {
      int code = error.find("not found") != std::string::npos ? 404 : 400;
      return write_response(stream,
                            status_response(code, code == 404 ? "NotFound" : "BadRequest", error));
    }
    if (!c->running && !attach) {
      // Real clusters refuse exec into a stopped container.
      return write_response(
          stream, status_response(400, "BadRequest",
                                  "container " + c->name + " is not running: cannot exec"));
    }
    std::string phase =
        pod.contains("status") ? pod["status"].value("phase", "") : std::string();
    if (attach && (phase == "Succeeded" || phase == "Failed")) {
      // And attach into a finished pod (the API server's wording).
      return write_response(
          stream, status_response(400, "BadRequest",
                                  "cannot attach to a container in a completed pod; current "
                                  "phase is " + phase));
    }
  }
  if (!websocket::is_upgrade(req)) {
    return write_response(
        stream, status_response(400, "BadRequest", "Upgrade request required (WebSocket)"));
  }
  int version = 0;
  std::string protocol = pick_protocol(sv(req[http::field::sec_websocket_protocol]), &version);
  if (protocol.empty()) {
    return write_response(
        stream, status_response(400, "BadRequest",
                                "no supported channel subprotocol (v4/v5.channel.k8s.io)"));
  }
  std::vector<std::string> command;
  for (const auto& [k, v] : query) {
    if (k == "command") command.push_back(rewrite(v, c->rewrites));
  }
  bool want_stdin = query_true(query, "stdin");
  bool want_stdout = query_true(query, "stdout");
  bool want_stderr = query_true(query, "stderr");
  if (!attach && command.empty()) {
    return write_response(
        stream, status_response(400, "BadRequest", "you must specify at least 1 command"));
  }

  websocket::stream<SslStream&> ws(stream);
  ws.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
    res.set(http::field::sec_websocket_protocol, protocol);
  }));
  boost::system::error_code ec;
  ws.accept(req, ec);
  if (ec) return false;

  StreamSession session(ws, io, version);
  session.rewrites_ = c->rewrites;
  if (!attach) {
    std::string error;
    std::optional<Spawned> s = spawn_process(command, c->env, c->cwd, want_stdin, -1, &error);
    if (!s) {
      json st = {{"metadata", json::object()},
                 {"status", "Failure"},
                 {"reason", "InternalError"},
                 {"message", "failed to exec in container: " + error}};
      session.finish(st);
      io.restart();
      io.run();
      return false;
    }
    pid_t pid = s->pid;
    {
      std::lock_guard lock(mu);
      if (drop_exec_count > 0 && !drop_exec_contains.empty() &&
          join(command, " ").find(drop_exec_contains) != std::string::npos) {
        --drop_exec_count;
        session.drop_after_ = drop_exec_after_bytes;
      }
    }
    if (want_stdin) session.stdin_.assign(s->stdin_write.release());
    session.stdout_.assign(s->stdout_read.release());
    session.stderr_.assign(s->stderr_read.release());
    session.open_outputs_ = 2;
    session.on_client_gone_ = [pid] { ::kill(-pid, SIGKILL); };
    bool reaped = false;
    session.on_outputs_done_ = [&] {
      int code = wait_exit_code(pid);
      reaped = true;
      session.finish(exit_status(code, command));
    };
    (void)want_stdout;
    (void)want_stderr;
    session.read_output(session.stdout_, session.out_buf_, 1);
    session.read_output(session.stderr_, session.err_buf_, 2);
    session.read_client();
    io.restart();
    io.run();
    if (!reaped) {
      ::kill(-pid, SIGKILL);
      wait_exit_code(pid);
    }
    return false;
  }
  // attach: stdin goes to the container's stdin; output is the container's log from now on.
  {
    std::lock_guard lock(mu);
    if (want_stdin && c->stdin_write.valid()) session.stdin_.assign(::dup(c->stdin_write.get()));
  }
  auto close_container_stdin = [this, c] {
    std::lock_guard lock(mu);
    if (c->stdin_once) c->stdin_write.reset();
  };
  session.on_stdin_closed_ = close_container_stdin;
  session.on_client_gone_ = close_container_stdin;
  UniqueFd log(::open(c->log.c_str(), O_RDONLY | O_CLOEXEC));
  if (log.valid()) ::lseek(log.get(), 0, SEEK_END);
  std::function<void()> tick = [&] {
    char buf[32768];
    for (;;) {
      ssize_t n = log.valid() ? ::read(log.get(), buf, sizeof buf) : 0;
      if (n <= 0) break;
      if (want_stdout) session.send(1, std::string_view(buf, static_cast<std::size_t>(n)));
    }
    bool running;
    int code;
    {
      std::lock_guard lock(mu);
      running = c->running;
      code = c->exit_code;
    }
    if (!running) {
      session.finish(exit_status(code, {}));
      return;
    }
    session.log_timer_.expires_after(std::chrono::milliseconds(50));
    session.log_timer_.async_wait([&](boost::system::error_code e) {
      if (!e) tick();
    });
  };
  session.read_client();
  tick();
  io.restart();
  io.run();
  return false;
}

Response FakeKube::Impl::control(const std::string& method, const std::string& path,
                                 const Query& query, const std::string& body) {
  std::string what = path.substr(std::string("/__control/").size());
  if (method == "POST" && what == "faults") {
    json f;
    try {
      f = json::parse(body);
    } catch (const json::exception& e) {
      return status_response(400, "BadRequest", e.what());
    }
    FakeKubeFault fault;
    fault.method = f.value("method", "");
    fault.path_contains = f.value("path", "");
    fault.count = f.value("count", 1);
    fault.status = f.value("status", 500);
    if (f.contains("retry_after")) fault.retry_after_seconds = f["retry_after"].get<int>();
    fault.message = f.value("message", "");
    std::lock_guard lock(mu);
    faults.push_back(FaultState{fault, fault.count});
    return make_response(200, json::object());
  }
  if (method == "DELETE" && what == "faults") {
    std::lock_guard lock(mu);
    faults.clear();
    return make_response(200, json::object());
  }
  if (method == "POST" && what == "drop_watches") {
    std::lock_guard lock(mu);
    drop_after_events = std::atoi(query_value(query, "events").c_str());
    drop_connections =
        query_has(query, "connections") ? std::atoi(query_value(query, "connections").c_str()) : 1;
    return make_response(200, json::object());
  }
  if (method == "POST" && what == "drop_execs") {
    std::lock_guard lock(mu);
    drop_exec_contains = query_value(query, "contains");
    drop_exec_after_bytes =
        static_cast<size_t>(std::atoll(query_value(query, "after_bytes").c_str()));
    drop_exec_count =
        query_has(query, "count") ? std::atoi(query_value(query, "count").c_str()) : 1;
    return make_response(200, json::object());
  }
  if (method == "POST" && what == "pod_start_delay") {
    std::lock_guard lock(mu);
    start_delay = std::chrono::milliseconds(std::atoll(query_value(query, "ms").c_str()));
    return make_response(200, json::object());
  }
  if (method == "POST" && what == "bad_images") {
    std::lock_guard lock(mu);
    bad_images.insert(query_value(query, "image"));
    return make_response(200, json::object());
  }
  if (method == "POST" && what == "compact") {
    std::lock_guard lock(mu);
    compacted_rv = rv + 1;
    events.clear();
    return make_response(200, json::object());
  }
  if (method == "GET" && what == "requests") {
    std::lock_guard lock(mu);
    return make_response(200, json(request_log));
  }
  return not_found("control", what);
}

FakeKube::FakeKube(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  if (!impl_->start()) impl_->port = 0;
}
FakeKube::~FakeKube() { impl_->stop(); }
uint16_t FakeKube::port() const { return impl_->port; }
std::string FakeKube::url() const { return impl_->url(); }
std::string FakeKube::ca_pem() const { return impl_->cert_pem; }
std::filesystem::path FakeKube::ca_file() const { return impl_->options.state_dir / "ca.crt"; }
std::filesystem::path FakeKube::kubeconfig_file() const {
  return impl_->options.state_dir / "kubeconfig";
}
void FakeKube::inject(FakeKubeFault fault) {
  std::lock_guard lock(impl_->mu);
  int count = fault.count;
  impl_->faults.push_back(FaultState{std::move(fault), count});
}
void FakeKube::clear_faults() {
  std::lock_guard lock(impl_->mu);
  impl_->faults.clear();
}
void FakeKube::drop_watches_after(int events, int connections) {
  std::lock_guard lock(impl_->mu);
  impl_->drop_after_events = events;
  impl_->drop_connections = connections;
}
void FakeKube::set_pod_start_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mu);
  impl_->start_delay = delay;
}
void FakeKube::fail_image_pull(const std::string& image) {
  std::lock_guard lock(impl_->mu);
  impl_->bad_images.insert(image);
}
void FakeKube::compact() {
  std::lock_guard lock(impl_->mu);
  impl_->compacted_rv = impl_->rv + 1;
  impl_->events.clear();
}
std::string FakeKube::object_json(const std::string& ns, const std::string& resource,
                                  const std::string& name) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->objects.find(Key{resource, ns, name});
  return it == impl_->objects.end() ? "" : it->second.dump();
}
int FakeKube::request_count(const std::string& needle) const {
  std::lock_guard lock(impl_->mu);
  int n = 0;
  for (const std::string& r : impl_->request_log) n += r.find(needle) != std::string::npos;
  return n;
}

int FakeKube::connection_count() const { return impl_->accepted.load(); }

}  // namespace glr
