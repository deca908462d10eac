// The fake GitLab server behind fake_gitlab.h: Beast's synchronous HTTP/1.1 with a thread per
// connection (tests open a handful of connections), one mutex over all job state, and
// `git http-backend` run as a CGI child for smart HTTP clones.
#include "support/fake_gitlab/fake_gitlab.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "util/strings.h"
#include "util/unique_fd.h"

extern char** environ;

namespace glr {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using json = nlohmann::json;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr std::size_t kWorkhorseJobRequestLimit = 32 * 1024;  // api spec §2.2
constexpr std::size_t kMaxBody = 64 * 1024 * 1024;
constexpr std::chrono::seconds kCgiTimeout{60};

// Server failure reasons a runner can meaningfully send (api spec §4.3, first group, plus the
// runner reasons newer servers know). Anything else is stored as unknown_failure.
const std::set<std::string>& known_failure_reasons() {
  static const std::set<std::string> kReasons = {
      "unknown_failure",           "script_failure",
      "api_failure",               "stuck_or_timeout_failure",
      "runner_system_failure",     "missing_dependency_failure",
      "runner_unsupported",        "stale_schedule",
      "job_execution_timeout",     "archived_failure",
      "unmet_prerequisites",       "scheduler_failure",
      "data_integrity_failure",    "runner_configuration_error",
      "runner_external_dependency_failure", "runner_interrupted",
      "trace_size_exceeded",       "job_token_expired",
  };
  return kReasons;
}

std::string random_string(std::mt19937_64& rng, std::string_view alphabet, std::size_t n) {
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(alphabet[pick(rng)]);
  return out;
}

std::string string_field(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// Ruby's String#to_i: leading decimal digits, 0 when there are none.
int64_t ruby_to_i(std::string_view s) {
  int64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size()) {
      int value = 0;
      bool ok = true;
      for (int k = 1; k <= 2; ++k) {
        char c = s[i + static_cast<std::size_t>(k)];
        value *= 16;
        if (c >= '0' && c <= '9') value += c - '0';
        else if (c >= 'a' && c <= 'f') value += c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') value += c - 'A' + 10;
        else ok = false;
      }
      if (ok) {
        out.push_back(static_cast<char>(value));
        i += 2;
      } else {
        out.push_back('%');
      }
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  for (const std::string& part : split(query, '&')) {
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    if (eq == std::string::npos) {
      out[percent_decode(part)] = "";
    } else {
      out[percent_decode(std::string_view(part).substr(0, eq))] =
          percent_decode(std::string_view(part).substr(eq + 1));
    }
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = value_of(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  return out;
}

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

std::string media_type(std::string_view content_type) {
  std::size_t semi = content_type.find(';');
  return to_lower(trim(content_type.substr(0, semi)));
}

Response make_response(int status, std::string body = "",
                       std::string_view content_type = "application/json") {
  Response res;
  res.version(11);
  res.result(static_cast<unsigned>(status));
  if (!body.empty()) {
    res.set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
    res.body() = std::move(body);
  }
  return res;
}

Response json_message(int status, std::string message) {
  return make_response(status, json{{"message", std::move(message)}}.dump());
}

// What dispatch decided: an answer, or drop the connection without one.
struct Reply {
  std::optional<Response> response{};
  bool close = false;
};

struct Job {
  JobRecord record{};
  json payload{};
};

struct RuleState {
  FaultRule rule{};
  int seen = 0;
};

struct GitRepo {
  std::string url_path{};  // "group/project.git", no leading or trailing slash
  std::filesystem::path dir{};
};

struct Connection {
  std::unique_ptr<tcp::socket> socket{};
  std::thread thread{};
  std::atomic<bool> done{false};
};

struct CgiOutput {
  bool ok = false;
  std::string stdout_bytes{};
  std::string stderr_bytes{};
};

void block_sigpipe_in_this_thread() {
  // Our threads write to sockets and CGI pipes whose reader may be gone: EPIPE, not death.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// Runs argv with exactly `env`, feeding `input` on stdin and collecting stdout/stderr with one
// poll loop (no deadlock whatever the child reads or writes first). Bounded by kCgiTimeout and
// by `stop`.
CgiOutput run_cgi(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  const std::string& input, const std::atomic<bool>& stop) {
  CgiOutput result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return result;
  UniqueFd in_read(in_pipe[0]), in_write(in_pipe[1]);
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return result;
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> c_argv, c_env;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const std::string& e : env) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, c_argv[0], &actions, &attr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return result;
  in_read.reset();
  out_write.reset();
  err_write.reset();
  for (int fd : {in_write.get(), out_read.get(), err_read.get()}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  if (input.empty()) in_write.reset();

  std::size_t written = 0;
  auto deadline = std::chrono::steady_clock::now() + kCgiTimeout;
  bool timed_out = false;
  while (out_read.valid() || err_read.valid()) {
    if (stop.load() || std::chrono::steady_clock::now() > deadline) {
      timed_out = true;
      break;
    }
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    auto add = [&](const UniqueFd& fd, short events) {
      if (fd.valid()) fds[n++] = pollfd{fd.get(), events, 0};
    };
    add(in_write, POLLOUT);
    add(out_read, POLLIN);
    add(err_read, POLLIN);
    if (::poll(fds.data(), n, 100) < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_write.get()) {
        ssize_t w = ::write(in_write.get(), input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN) || written == input.size()) in_write.reset();
      } else {
        UniqueFd& src = fds[i].fd == out_read.get() ? out_read : err_read;
        std::string& dst = &src == &out_read ? result.stdout_bytes : result.stderr_bytes;
        char buf[65536];
        ssize_t r = ::read(src.get(), buf, sizeof buf);
        if (r > 0) dst.append(buf, static_cast<std::size_t>(r));
        else if (r == 0 || errno != EAGAIN) src.reset();
      }
    }
  }
  in_write.reset();
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return result;
}

std::string cgi_env_name(std::string_view header) {
  std::string out = "HTTP_";
  for (char c : header) {
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

json record_to_json(const JobRecord& r) {
  return json{{"id", r.id},
              {"token", r.token},
              {"state", r.state},
              {"failure_reason", r.failure_reason},
              {"exit_code", r.exit_code},
              {"trace", r.trace},
              {"checksum", r.checksum},
              {"bytesize", r.bytesize},
              {"checksum_matches", r.checksum_matches},
              {"final_update_received", r.final_update_received},
              {"puts", r.puts},
              {"final_puts", r.final_puts},
              {"patches", r.patches},
              {"content_ranges", r.content_ranges},
              {"range_mismatches", r.range_mismatches}};
}

const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return kTable;
}

}  // namespace

std::string trace_checksum(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : bytes) {
    crc = crc_table()[(crc ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (crc >> 8);
  }
  crc ^= 0xFFFFFFFFu;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", crc);
  return std::string("crc32:") + buf;
}

std::string RecordedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return "";
}

struct FakeGitLab::Impl {
  Options options;

  mutable std::mutex mu;
  mutable std::condition_variable changed;  // any job/queue change, and stopping
  bool stopping = false;
  std::atomic<bool> stop_flag{false};
  std::set<std::string> runners;
  std::map<int64_t, Job> jobs;
  std::deque<int64_t> pending;
  int64_t next_id = 1;
  std::string queue_value;
  std::vector<RuleState> rules;
  int final_202_left = 0;
  bool force_416 = false;
  int trace_interval = 3;
  std::string last_system_id;
  std::string last_features = "{}";
  std::vector<RecordedRequest> recorded;
  std::vector<GitRepo> repos;
  std::set<std::string> registration_tokens;
  std::set<std::string> pats;
  bool registration_disabled = false;
  std::vector<FakeGitLab::RegisteredRunner> registered;
  int64_t next_runner_id = 4211;
  std::chrono::seconds token_lifetime{0};
  std::mt19937_64 rng{std::random_device{}()};
  // Artifacts (api spec §6): every accepted upload, and what GET serves per job.
  std::vector<FakeGitLab::UploadedArtifact> artifact_uploads;
  std::map<int64_t, FakeGitLab::UploadedArtifact> artifacts;
  bool artifact_redirect = false;

  boost::asio::io_context io;
  UniqueFd listen_fd;
  UniqueFd wake_fd;
  uint16_t port = 0;
  std::thread acceptor;
  std::mutex conn_mu;
  std::list<std::unique_ptr<Connection>> conns;

  explicit Impl(Options o) : options(o), next_id(o.first_job_id) {
    queue_value = random_string(rng, "0123456789abcdef", 32);
  }

  std::string url() const {
    return port == 0 ? "" : "http://127.0.0.1:" + std::to_string(port) + "/";
  }

  bool start() {
    listen_fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    wake_fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!listen_fd.valid() || !wake_fd.valid()) return false;
    int one = 1;
    ::setsockopt(listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return false;
    }
    if (::listen(listen_fd.get(), 128) != 0) return false;
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    acceptor = std::thread([this] { accept_loop(); });
    return true;
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    stop_flag = true;
    changed.notify_all();
    if (acceptor.joinable()) {
      uint64_t one = 1;
      [[maybe_unused]] ssize_t w = ::write(wake_fd.get(), &one, sizeof one);
      acceptor.join();
    }
    // The acceptor is gone, so nobody else touches `conns` any more.
    for (auto& c : conns) ::shutdown(c->socket->native_handle(), SHUT_RDWR);
    for (auto& c : conns) {
      if (c->thread.joinable()) c->thread.join();
    }
    conns.clear();
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
      std::lock_guard lock(conn_mu);
      // Reap finished connections so a long-lived e2e server does not pile up threads.
      for (auto it = conns.begin(); it != conns.end();) {
        if ((*it)->done.load()) {
          (*it)->thread.join();
          it = conns.erase(it);
        } else {
          ++it;
        }
      }
      auto conn = std::make_unique<Connection>();
      conn->socket = std::make_unique<tcp::socket>(io);
      boost::system::error_code ec;
      conn->socket->assign(tcp::v4(), fd, ec);
      if (ec) {
        ::close(fd);
        continue;
      }
      Connection* raw = conn.get();
      conns.push_back(std::move(conn));
      raw->thread = std::thread([this, raw] { serve(*raw); });
    }
  }

  void serve(Connection& conn) {
    block_sigpipe_in_this_thread();
    tcp::socket& sock = *conn.socket;
    beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxBody);
      parser.header_limit(64 * 1024);
      http::read_header(sock, buffer, parser, ec);
      if (ec) break;
      if (iequals(sv(parser.get()[http::field::expect]), "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        http::write(sock, cont, ec);
        if (ec) break;
      }
      http::read(sock, buffer, parser, ec);
      Reply reply;
      bool keep_alive = false;
      if (ec == http::error::body_limit) {
        reply.response = json_message(413, "413 Request Entity Too Large");
      } else if (ec) {
        break;
      } else {
        Request req = parser.release();
        keep_alive = req.keep_alive();
        try {
          reply = dispatch(req);
        } catch (const std::exception& e) {
          reply = Reply{json_message(500, std::string("fake gitlab: ") + e.what()), false};
        }
      }
      if (!reply.response) break;  // fault: drop the connection unanswered
      Response& res = *reply.response;
      keep_alive = keep_alive && !reply.close;
      res.keep_alive(keep_alive);
      try {
        res.prepare_payload();
      } catch (const std::exception&) {
        res.body().clear();
        res.prepare_payload();
      }
      http::write(sock, res, ec);
      if (ec || !keep_alive) break;
    }
    ::shutdown(sock.native_handle(), SHUT_RDWR);
    conn.done = true;
  }

  // ---- routing -------------------------------------------------------------------------------

  // nullopt: a path none of the FakeEndpoint values names (matched only by kAny).
  std::optional<FakeEndpoint> classify(const Request& req, std::string_view path,
                                       int64_t* job_id, const GitRepo** repo) const {
    constexpr std::string_view kJobs = "/api/v4/jobs/";
    if (req.method() == http::verb::post && path == "/api/v4/jobs/request") {
      return FakeEndpoint::kRequestJob;
    }
    if (starts_with(path, kJobs)) {
      std::string_view rest = path.substr(kJobs.size());
      std::size_t slash = rest.find('/');
      std::string_view digits = rest.substr(0, slash);
      std::optional<long long> id = parse_int(digits);
      if (id && !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
            return c >= '0' && c <= '9';
          })) {
        *job_id = *id;
        if (slash == std::string_view::npos && req.method() == http::verb::put) {
          return FakeEndpoint::kUpdateJob;
        }
        if (slash != std::string_view::npos && rest.substr(slash) == "/trace" &&
            req.method() == http::verb::patch) {
          return FakeEndpoint::kPatchTrace;
        }
        if (slash != std::string_view::npos && rest.substr(slash) == "/artifacts" &&
            (req.method() == http::verb::post || req.method() == http::verb::get)) {
          return FakeEndpoint::kArtifacts;
        }
      }
      return std::nullopt;
    }
    if (req.method() == http::verb::get && starts_with(path, "/__storage/artifacts/")) {
      std::optional<long long> id = parse_int(path.substr(std::string_view("/__storage/artifacts/").size()));
      if (id) *job_id = *id;
      return FakeEndpoint::kArtifacts;
    }
    for (const GitRepo& r : repos) {
      std::string prefix = "/" + r.url_path + "/";
      if (starts_with(path, prefix)) {
        *repo = &r;
        return FakeEndpoint::kGit;
      }
    }
    return std::nullopt;
  }

  // REQUIRES: mu held. Advances every matching rule's counter; returns the first that fires.
  std::optional<FaultRule> match_fault(std::optional<FakeEndpoint> endpoint) {
    std::optional<FaultRule> fired;
    for (RuleState& state : rules) {
      const FaultRule& rule = state.rule;
      if (rule.endpoint != FakeEndpoint::kAny && rule.endpoint != endpoint) continue;
      int index = state.seen++;
      bool in_window = index >= rule.skip && (rule.count < 0 || index < rule.skip + rule.count);
      if (in_window && !fired) fired = rule;
    }
    return fired;
  }

  Reply dispatch(const Request& req) {
    std::string target(req.target());
    std::size_t q = target.find('?');
    std::string path = target.substr(0, q);
    std::string query = q == std::string::npos ? "" : target.substr(q + 1);
    if (options.control_api && starts_with(path, "/__control/")) {
      return Reply{handle_control(req, path, parse_query(query))};
    }

    int64_t job_id = 0;
    const GitRepo* repo = nullptr;
    std::optional<FaultRule> fault;
    std::optional<FakeEndpoint> endpoint;
    std::optional<GitRepo> repo_copy;
    {
      std::lock_guard lock(mu);
      RecordedRequest rec{std::string(req.method_string()), target, {}, req.body()};
      for (const auto& field : req) {
        rec.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      recorded.push_back(std::move(rec));
      endpoint = classify(req, path, &job_id, &repo);
      if (repo != nullptr) repo_copy = *repo;  // `repos` may grow while the CGI runs
      fault = match_fault(endpoint);
    }
    changed.notify_all();
    if (fault) {
      switch (fault->action) {
        case FaultAction::kCloseConnection:
          return Reply{};
        case FaultAction::kRespond: {
          Response res = fault->body.empty()
                             ? json_message(fault->status, std::to_string(fault->status))
                             : make_response(fault->status, fault->body);
          if (fault->retry_after_seconds) {
            res.set(http::field::retry_after, std::to_string(*fault->retry_after_seconds));
          }
          return Reply{std::move(res)};
        }
        case FaultAction::kDelay: {
          std::unique_lock lock(mu);
          changed.wait_for(lock, fault->delay, [this] { return stopping; });
          if (stopping) return Reply{};
          break;
        }
      }
    }
    if (!endpoint) {
      if (std::optional<Response> r = handle_registration(req, path)) return Reply{std::move(*r)};
      return Reply{json_message(404, "404 Not Found")};
    }
    switch (*endpoint) {
      case FakeEndpoint::kRequestJob:
        return Reply{handle_request_job(req)};
      case FakeEndpoint::kUpdateJob:
        return Reply{handle_update_job(req, job_id)};
      case FakeEndpoint::kPatchTrace:
        return Reply{handle_patch_trace(req, job_id)};
      case FakeEndpoint::kGit:
        return Reply{handle_git(req, path, query, *repo_copy)};
      case FakeEndpoint::kArtifacts:
        return Reply{handle_artifacts(req, path, query, job_id)};
      case FakeEndpoint::kAny:
        break;
    }
    return Reply{json_message(404, "404 Not Found")};
  }

  // ---- artifacts (api spec §6.1, §6.2) -------------------------------------------------------

  // The single part of a multipart/form-data body; nullopt when malformed.
  static std::optional<FakeGitLab::UploadedArtifact> parse_multipart(const Request& req) {
    std::string ct(sv(req[http::field::content_type]));
    std::size_t b = ct.find("boundary=");
    if (media_type(ct) != "multipart/form-data" || b == std::string::npos) return std::nullopt;
    std::string boundary = ct.substr(b + 9);
    if (boundary.size() >= 2 && boundary.front() == '"') boundary = boundary.substr(1, boundary.size() - 2);
    const std::string& body = req.body();
    std::string open = "--" + boundary + "\r\n";
    if (!starts_with(body, open)) return std::nullopt;
    std::size_t headers_end = body.find("\r\n\r\n", open.size());
    std::string close = "\r\n--" + boundary + "--";
    std::size_t end = body.rfind(close);
    if (headers_end == std::string::npos || end == std::string::npos || end < headers_end + 4) {
      return std::nullopt;
    }
    FakeGitLab::UploadedArtifact up;
    for (const std::string& line : split(body.substr(open.size(), headers_end - open.size()), '\n')) {
      std::string l(trim(line));
      auto quoted = [&](const std::string& key) {
        std::size_t k = l.find(key + "=\"");
        if (k == std::string::npos) return std::string();
        std::size_t s = k + key.size() + 2;
        return l.substr(s, l.find('"', s) - s);
      };
      if (starts_with(to_lower(l), "content-disposition:")) {
        up.field_name = quoted("name");
        up.filename = quoted("filename");
      } else if (starts_with(to_lower(l), "content-type:")) {
        up.content_type = std::string(trim(std::string_view(l).substr(13)));
      }
    }
    up.content = body.substr(headers_end + 4, end - headers_end - 4);
    if (body.find(open, headers_end) != std::string::npos) return std::nullopt;  // two parts
    return up;
  }

  Response handle_artifacts(const Request& req, const std::string& path, const std::string& query,
                            int64_t id) {
    std::lock_guard lock(mu);
    if (starts_with(path, "/__storage/")) {
      auto it = artifacts.find(id);
      if (it == artifacts.end()) return make_response(404, "<Error>NoSuchKey</Error>", "application/xml");
      return make_response(200, it->second.content, "application/octet-stream");
    }
    std::string token(sv(req["JOB-TOKEN"]));
    if (req.method() == http::verb::post) {
      auto job = jobs.find(id);
      if (job == jobs.end() || token.empty() || job->second.record.token != token) {
        return json_message(403, "403 Forbidden");
      }
      std::optional<FakeGitLab::UploadedArtifact> up = parse_multipart(req);
      if (!up || up->field_name != "file") return json_message(400, "400 Bad request - file is missing");
      up->job_id = id;
      up->query = query;
      up->request_content_type = std::string(sv(req[http::field::content_type]));
      up->transfer_encoding = std::string(sv(req[http::field::transfer_encoding]));
      artifact_uploads.push_back(*up);
      // GET serves the job's archive (artifact_type archive or none), never a report.
      std::map<std::string, std::string> args = parse_query(query);
      if (args["artifact_type"].empty() || args["artifact_type"] == "archive") artifacts[id] = *up;
      changed.notify_all();
      return make_response(201, "201", "text/plain");
    }
    bool known = false;
    for (const auto& [jid, job] : jobs) known = known || (!token.empty() && job.record.token == token);
    if (!known) return json_message(403, "403 Forbidden");
    auto it = artifacts.find(id);
    if (it == artifacts.end()) return json_message(404, "404 Not Found");
    if (artifact_redirect) {
      Response res = make_response(302, "");
      res.set(http::field::location, "http://127.0.0.1:" + std::to_string(port) +
                                         "/__storage/artifacts/" + std::to_string(id) +
                                         "?X-Amz-Signature=fake");
      return res;
    }
    return make_response(200, it->second.content, "application/octet-stream");
  }

  // ---- runner lifecycle endpoints (api spec §1.2-§1.6) ---------------------------------------

  // REQUIRES: mu held. A live runner whose token has not expired.
  FakeGitLab::RegisteredRunner* runner_by_token(const std::string& token) {
    for (auto& r : registered)
      if (!r.deleted && r.token == token && !expired(r)) return &r;
    return nullptr;
  }

  static std::string rfc3339(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

  static bool expired(const FakeGitLab::RegisteredRunner& r) {
    // RFC 3339 in UTC with a fixed width compares as text.
    return !r.token_expires_at.empty() &&
           r.token_expires_at <= rfc3339(std::chrono::system_clock::now());
  }

  // REQUIRES: mu held. A new token value and its expiry (api spec §1.6).
  void issue_token(FakeGitLab::RegisteredRunner& r, const std::string& prefix) {
    runners.erase(r.token);
    r.token = prefix + random_string(rng, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 20);
    r.token_expires_at = token_lifetime.count() > 0
                             ? rfc3339(std::chrono::system_clock::now() + token_lifetime)
                             : std::string();
    runners.insert(r.token);
  }

  static json token_answer(const FakeGitLab::RegisteredRunner& r, bool with_id) {
    json j{{"token", r.token}};
    if (with_id) j["id"] = r.id;
    // GitLab sends null for a token that does not expire.
    j["token_expires_at"] = r.token_expires_at.empty() ? json(nullptr) : json(r.token_expires_at);
    return j;
  }

  // REQUIRES: mu held. Creates a runner that may then request jobs.
  json create_runner(const std::string& prefix, const json& body, const std::string& type) {
    FakeGitLab::RegisteredRunner r;
    r.id = next_runner_id++;
    issue_token(r, prefix);
    r.description = string_field(body, "description");
    r.maintenance_note = string_field(body, "maintenance_note");
    r.access_level = string_field(body, "access_level");
    auto flag = [&](const char* key, bool fallback) {
      return body.contains(key) && body[key].is_boolean() ? body[key].get<bool>() : fallback;
    };
    auto number = [&](const char* key) {
      return body.contains(key) && body[key].is_number_integer() ? body[key].get<int64_t>() : 0;
    };
    r.locked = flag("locked", false);
    r.run_untagged = flag("run_untagged", true);
    r.paused = flag("paused", false);
    r.maximum_timeout = number("maximum_timeout");
    r.group_id = number("group_id");
    r.project_id = number("project_id");
    if (body.contains("tag_list")) {
      const json& t = body["tag_list"];
      if (t.is_string()) {
        r.tag_list = t.get<std::string>();
      } else if (t.is_array()) {
        for (const json& e : t) r.tag_list += (r.tag_list.empty() ? "" : ",") + e.get<std::string>();
      }
    }
    r.runner_type = type;
    registered.push_back(r);
    return token_answer(r, true);
  }

  // REQUIRES: mu held. Replaces the token; the old one stops working at once.
  json reset(FakeGitLab::RegisteredRunner& r) {
    issue_token(r, r.token.substr(0, r.token.starts_with("glrt-") ? 8 : 3));
    ++r.token_resets;
    json j = token_answer(r, false);
    // The key is present only when the token expires (api spec §1.6).
    if (r.token_expires_at.empty()) j.erase("token_expires_at");
    return j;
  }

  std::optional<Response> handle_registration(const Request& req, const std::string& path) {
    json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) body = json::object();
    std::string token = string_field(body, "token");
    std::lock_guard lock(mu);
    if (req.method() == http::verb::post && path == "/api/v4/runners") {
      if (registration_disabled) return json_message(410, "410 Gone");
      if (registration_tokens.count(token) == 0) return json_message(403, "403 Forbidden");
      return make_response(201, create_runner("t1_", body, "instance_type").dump());
    }
    if (req.method() == http::verb::post && path == "/api/v4/user/runners") {
      if (pats.count(std::string(sv(req["PRIVATE-TOKEN"]))) == 0)
        return json_message(401, "401 Unauthorized");
      std::string type = string_field(body, "runner_type");
      if (type != "instance_type" && type != "group_type" && type != "project_type")
        return make_response(400, json{{"error", "runner_type does not have a valid value"}}.dump());
      if (type == "group_type" && !body.contains("group_id"))
        return make_response(400, json{{"message", "400 Bad request - group_id is missing"}}.dump());
      if (type == "project_type" && !body.contains("project_id"))
        return make_response(400, json{{"message", "400 Bad request - project_id is missing"}}.dump());
      std::string partition = type == "instance_type" ? "t1_" : type == "group_type" ? "t2_" : "t3_";
      return make_response(201, create_runner("glrt-" + partition, body, type).dump());
    }
    if (req.method() == http::verb::post && path == "/api/v4/runners/verify") {
      FakeGitLab::RegisteredRunner* r = runner_by_token(token);
      if (r == nullptr) return json_message(403, "403 Forbidden");
      if (r->orphaned) return json_message(422, "Runner is orphaned");
      std::string system_id = string_field(body, "system_id");
      if (!system_id.empty() &&
          std::find(r->managers.begin(), r->managers.end(), system_id) == r->managers.end())
        r->managers.push_back(system_id);
      return make_response(200, token_answer(*r, true).dump());
    }
    if (req.method() == http::verb::delete_ && path == "/api/v4/runners") {
      FakeGitLab::RegisteredRunner* r = runner_by_token(token);
      if (r == nullptr) return json_message(403, "403 Forbidden");
      r->deleted = true;
      runners.erase(token);
      return make_response(204);
    }
    if (req.method() == http::verb::delete_ && path == "/api/v4/runners/managers") {
      FakeGitLab::RegisteredRunner* r = runner_by_token(token);
      if (r == nullptr) return json_message(403, "403 Forbidden");
      auto it = std::find(r->managers.begin(), r->managers.end(), string_field(body, "system_id"));
      if (it == r->managers.end()) return json_message(404, "404 Runner manager not found");
      r->managers.erase(it);
      return make_response(204);
    }
    if (req.method() == http::verb::post && path == "/api/v4/runners/reset_authentication_token") {
      FakeGitLab::RegisteredRunner* r = runner_by_token(token);
      if (r == nullptr) return json_message(403, "403 Forbidden");
      return make_response(201, reset(*r).dump());
    }
    // By id with a personal access token: works for an expired token too (api spec §1.6).
    static constexpr std::string_view kRunnersPrefix = "/api/v4/runners/";
    static constexpr std::string_view kResetSuffix = "/reset_authentication_token";
    if (req.method() == http::verb::post && path.starts_with(kRunnersPrefix) &&
        path.ends_with(kResetSuffix) && path.size() > kRunnersPrefix.size() + kResetSuffix.size()) {
      std::optional<long long> id = parse_int(std::string_view(path).substr(
          kRunnersPrefix.size(), path.size() - kRunnersPrefix.size() - kResetSuffix.size()));
      if (pats.count(std::string(sv(req["PRIVATE-TOKEN"]))) == 0)
        return json_message(401, "401 Unauthorized");
      for (auto& r : registered)
        if (id && !r.deleted && r.id == *id) return make_response(201, reset(r).dump());
      return json_message(404, "404 Runner Not Found");
    }
    return std::nullopt;
  }

  // ---- POST /api/v4/jobs/request (api spec §2.2) ---------------------------------------------

  Response handle_request_job(const Request& req) {
    bool polling = false;
    {
      std::lock_guard lock(mu);
      polling = options.long_poll.count() > 0;
    }
    auto finish = [polling](Response res) {
      if (polling) res.set("Gitlab-Ci-Builds-Polling", "yes");  // Workhorse adds it always
      return res;
    };
    if (req.body().size() > kWorkhorseJobRequestLimit) {
      return finish(json_message(413, "413 Request Entity Too Large"));
    }
    std::string type = media_type(sv(req[http::field::content_type]));
    if (type != "application/json") {
      // Grape rejects a content type the API does not declare.
      return finish(make_response(
          415, json{{"error", "The provided content-type '" + type + "' is not supported."}}
                   .dump()));
    }
    json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return finish(make_response(400, json{{"error", "invalid JSON body"}}.dump()));
    }
    std::string token = string_field(body, "token");
    std::string last_update = string_field(body, "last_update");

    std::unique_lock lock(mu);
    if (runners.count(token) == 0) return finish(json_message(403, "403 Forbidden"));

    // Workhorse: hold while the queue value equals what the runner last saw, then answer 204
    // without X-GitLab-Last-Update whether the value changed or the poll timed out.
    if (options.long_poll.count() > 0 && !last_update.empty() && last_update == queue_value) {
      changed.wait_for(lock, options.long_poll,
                       [&] { return stopping || queue_value != last_update; });
      return finish(make_response(204));
    }

    // Rails.
    last_system_id = string_field(body, "system_id");
    last_features = "{}";
    if (body.contains("info") && body["info"].is_object() && body["info"].contains("features")) {
      last_features = body["info"]["features"].dump();
    }
    if (!last_update.empty() && last_update == queue_value) {
      Response res = make_response(204);
      res.set("X-GitLab-Last-Update", last_update);
      return finish(std::move(res));
    }
    while (!pending.empty()) {
      int64_t id = pending.front();
      pending.pop_front();
      Job& job = jobs[id];
      if (job.record.state != "pending") continue;
      job.record.state = "running";
      changed.notify_all();
      // Rails sends no X-GitLab-Last-Update with a job: the runner keeps its old value, so its
      // next request (a second queued job) is not mistaken for "nothing new".
      return finish(make_response(201, job.payload.dump()));
    }
    Response res = make_response(204);
    res.set("X-GitLab-Last-Update", queue_value);
    return finish(std::move(res));
  }

  // ---- PUT /api/v4/jobs/:id (api spec §4.2) --------------------------------------------------

  static bool is_processing(const std::string& state) {
    return state == "running" || state == "canceling";
  }

  static Response forbidden_with_status(const std::string& state) {
    Response res = json_message(403, "403 Forbidden - Job is not processing on runner");
    res.set("Job-Status", state);
    return res;
  }

  Response handle_update_job(const Request& req, int64_t id) {
    json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return make_response(400, json{{"error", "invalid JSON body"}}.dump());
    }
    std::string token = string_field(body, "token");
    if (token.empty()) token = std::string(req["JOB-TOKEN"]);

    std::lock_guard lock(mu);
    auto it = jobs.find(id);
    if (it == jobs.end()) return json_message(404, "404 Not Found");
    JobRecord& r = it->second.record;
    if (token != r.token) return json_message(403, "403 Forbidden");
    ++r.puts;
    changed.notify_all();
    if (!is_processing(r.state)) return forbidden_with_status(r.state);

    std::string state = string_field(body, "state");
    if (state.empty() || state == "running" || state == "pending") {
      Response res = make_response(200, "200", "text/plain");
      res.set("Job-Status", r.state);
      return res;
    }
    if (state != "success" && state != "failed") {
      return make_response(400, json{{"error", "state does not have a valid value"}}.dump());
    }
    ++r.final_puts;
    if (final_202_left > 0) {
      --final_202_left;
      Response res = make_response(202, "202", "text/plain");
      res.set("Job-Status", r.state);
      res.set("X-GitLab-Trace-Update-Interval", "1");
      return res;
    }
    const json output = body.contains("output") ? body["output"] : json::object();
    r.checksum = string_field(output, "checksum");
    if (r.checksum.empty()) r.checksum = string_field(body, "checksum");
    r.bytesize = -1;
    if (output.is_object() && output.contains("bytesize") && output["bytesize"].is_number()) {
      r.bytesize = output["bytesize"].get<int64_t>();
    }
    r.checksum_matches = r.checksum == trace_checksum(r.trace);
    r.exit_code = 0;
    if (body.contains("exit_code") && body["exit_code"].is_number_integer()) {
      r.exit_code = body["exit_code"].get<int>();
    }
    r.failure_reason.clear();
    if (state == "failed") {
      std::string reason = string_field(body, "failure_reason");
      r.failure_reason = known_failure_reasons().count(reason) != 0 ? reason : "unknown_failure";
    }
    r.state = r.state == "canceling" ? "canceled" : state;
    r.final_update_received = true;
    Response res = make_response(200, "200", "text/plain");
    res.set("Job-Status", r.state);
    return res;
  }

  // ---- PATCH /api/v4/jobs/:id/trace (api spec §5.1, §5.2) ------------------------------------

  Response handle_patch_trace(const Request& req, int64_t id) {
    std::lock_guard lock(mu);
    auto it = jobs.find(id);
    if (it == jobs.end()) return json_message(404, "404 Not Found");
    JobRecord& r = it->second.record;
    if (std::string(req["JOB-TOKEN"]) != r.token) return json_message(403, "403 Forbidden");
    if (!is_processing(r.state)) return forbidden_with_status(r.state);
    auto range = req.find("Content-Range");
    if (range == req.end()) return json_message(400, "400 Missing header Content-Range");
    ++r.patches;
    r.content_ranges.emplace_back(range->value());
    changed.notify_all();
    // GitLab uses only the start offset and the body length; `end` is ignored.
    int64_t start = ruby_to_i(sv(range->value()));
    int64_t size = static_cast<int64_t>(r.trace.size());
    if (force_416 || start != size) {
      force_416 = false;
      ++r.range_mismatches;
      Response res = json_message(416, "416 Range Not Satisfiable");
      res.set("Range", "0-" + std::to_string(size));
      return res;
    }
    r.trace.append(req.body());
    Response res = make_response(202, "202", "text/plain");
    res.set("Job-Status", r.state);
    res.set("Range", "0-" + std::to_string(r.trace.size()));
    res.set("X-GitLab-Trace-Update-Interval", std::to_string(trace_interval));
    return res;
  }

  // ---- git smart HTTP ------------------------------------------------------------------------

  bool git_auth_ok(const Request& req) const {
    std::string auth(req[http::field::authorization]);
    if (!starts_with(auth, "Basic ") && !starts_with(auth, "basic ")) return false;
    std::optional<std::string> decoded = base64_decode(trim(std::string_view(auth).substr(6)));
    if (!decoded) return false;
    std::size_t colon = decoded->find(':');
    if (colon == std::string::npos || decoded->substr(0, colon) != "gitlab-ci-token") return false;
    std::string password = decoded->substr(colon + 1);
    std::lock_guard lock(mu);
    for (const auto& [id, job] : jobs) {
      if (job.record.token == password && is_processing(job.record.state)) return true;
    }
    return false;
  }

  Response handle_git(const Request& req, const std::string& path, const std::string& query,
                      const GitRepo& repo) {
    if (!git_auth_ok(req)) {
      Response res = make_response(401, "HTTP Basic: Access denied\n", "text/plain");
      res.set(http::field::www_authenticate, "Basic realm=\"GitLab\"");
      return res;
    }
    std::string rest = path.substr(repo.url_path.size() + 1);  // "/info/refs", ...
    std::filesystem::path dir = repo.dir.lexically_normal();
    if (!dir.has_filename()) dir = dir.parent_path();
    const char* inherited_path = std::getenv("PATH");
    std::vector<std::string> env = {
        "GIT_PROJECT_ROOT=" + dir.parent_path().string(),
        "PATH_INFO=/" + dir.filename().string() + rest,
        "QUERY_STRING=" + query,
        "REQUEST_METHOD=" + std::string(req.method_string()),
        "GIT_HTTP_EXPORT_ALL=1",
        "REMOTE_USER=gitlab-ci-token",
        "REMOTE_ADDR=127.0.0.1",
        "GATEWAY_INTERFACE=CGI/1.1",
        "SERVER_PROTOCOL=HTTP/1.1",
        "GIT_CONFIG_NOSYSTEM=1",
        "HOME=" + dir.parent_path().string(),
        std::string("PATH=") + (inherited_path ? inherited_path : "/usr/local/bin:/usr/bin:/bin"),
    };
    std::string content_type(req[http::field::content_type]);
    if (!content_type.empty()) env.push_back("CONTENT_TYPE=" + content_type);
    if (!req.body().empty() || req.method() == http::verb::post) {
      env.push_back("CONTENT_LENGTH=" + std::to_string(req.body().size()));
    }
    for (const auto& field : req) {
      std::string name(field.name_string());
      if (iequals(name, "Authorization") || iequals(name, "Content-Type") ||
          iequals(name, "Content-Length")) {
        continue;
      }
      env.push_back(cgi_env_name(name) + "=" + std::string(field.value()));
    }
    CgiOutput out = run_cgi({"git", "http-backend"}, env, req.body(), stop_flag);
    std::string& raw = out.stdout_bytes;
    std::size_t header_end = raw.find("\r\n\r\n");
    std::size_t body_start = header_end == std::string::npos ? 0 : header_end + 4;
    if (header_end == std::string::npos) {
      header_end = raw.find("\n\n");
      body_start = header_end == std::string::npos ? 0 : header_end + 2;
    }
    if (header_end == std::string::npos) {
      return make_response(500, "git http-backend failed: " + out.stderr_bytes, "text/plain");
    }
    Response res = make_response(200);
    for (const std::string& line : split(std::string_view(raw).substr(0, header_end), '\n')) {
      std::string_view l = trim(line);
      std::size_t colon = l.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(trim(l.substr(0, colon)));
      std::string value(trim(l.substr(colon + 1)));
      if (iequals(name, "Status")) {
        res.result(static_cast<unsigned>(ruby_to_i(value)));
      } else {
        res.insert(name, value);
      }
    }
    res.body() = raw.substr(body_start);
    return res;
  }

  // ---- /__control/ (fake-gitlab executable) --------------------------------------------------

  Response handle_control(const Request& req, const std::string& path,
                          const std::map<std::string, std::string>& query);
  FakeGitLab* owner = nullptr;
};

FakeGitLab::FakeGitLab() : FakeGitLab(Options{}) {}

FakeGitLab::FakeGitLab(Options options) : impl_(std::make_unique<Impl>(options)) {
  impl_->owner = this;
  if (!impl_->start()) impl_->port = 0;
}

FakeGitLab::~FakeGitLab() { impl_->stop(); }

std::string FakeGitLab::url() const { return impl_->url(); }
uint16_t FakeGitLab::port() const { return impl_->port; }

void FakeGitLab::add_registration_token(std::string token) {
  std::lock_guard lock(impl_->mu);
  impl_->registration_tokens.insert(std::move(token));
}

void FakeGitLab::add_personal_access_token(std::string token) {
  std::lock_guard lock(impl_->mu);
  impl_->pats.insert(std::move(token));
}

void FakeGitLab::set_registration_disabled(bool disabled) {
  std::lock_guard lock(impl_->mu);
  impl_->registration_disabled = disabled;
}

void FakeGitLab::set_token_lifetime(std::chrono::seconds lifetime) {
  std::lock_guard lock(impl_->mu);
  impl_->token_lifetime = lifetime;
}

void FakeGitLab::set_runner_orphaned(int64_t id, bool orphaned) {
  std::lock_guard lock(impl_->mu);
  for (auto& r : impl_->registered)
    if (r.id == id) r.orphaned = orphaned;
}

std::vector<FakeGitLab::UploadedArtifact> FakeGitLab::uploaded_artifacts() const {
  std::lock_guard lock(impl_->mu);
  return impl_->artifact_uploads;
}

void FakeGitLab::set_artifact(int64_t id, std::string filename, std::string content) {
  std::lock_guard lock(impl_->mu);
  UploadedArtifact& a = impl_->artifacts[id];
  a.job_id = id;
  a.filename = std::move(filename);
  a.content = std::move(content);
}

void FakeGitLab::set_artifact_download_redirect(bool redirect) {
  std::lock_guard lock(impl_->mu);
  impl_->artifact_redirect = redirect;
}

std::vector<FakeGitLab::RegisteredRunner> FakeGitLab::registered_runners() const {
  std::lock_guard lock(impl_->mu);
  return impl_->registered;
}

void FakeGitLab::add_runner(std::string token) {
  std::lock_guard lock(impl_->mu);
  impl_->runners.insert(std::move(token));
}

int64_t FakeGitLab::enqueue_job(std::string payload_json) {
  int64_t id = 0;
  std::string token;
  {
    std::lock_guard lock(impl_->mu);
    id = impl_->next_id++;
    token = "glcbt-" + random_string(impl_->rng,
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                                     20);
  }
  std::string text = replace_all(payload_json, "{{JOB_TOKEN}}", token);
  text = replace_all(text, "{{JOB_ID}}", std::to_string(id));
  text = replace_all(text, "{{URL}}", url());
  text = replace_all(text, "{{HOST}}", "127.0.0.1:" + std::to_string(port()));
  json payload = json::parse(text, nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) return -1;
  payload["id"] = id;
  payload["token"] = token;
  if (!payload.contains("job_info") || !payload["job_info"].is_object()) {
    payload["job_info"] = json::object();
  }
  payload["job_info"]["id"] = id;
  {
    std::lock_guard lock(impl_->mu);
    Job job;
    job.record.id = id;
    job.record.token = token;
    job.record.state = "pending";
    job.payload = std::move(payload);
    impl_->jobs[id] = std::move(job);
    impl_->pending.push_back(id);
    // GitLab ticks the runner queue whenever a job becomes pending.
    impl_->queue_value = random_string(impl_->rng, "0123456789abcdef", 32);
  }
  impl_->changed.notify_all();
  return id;
}

std::string FakeGitLab::job_token(int64_t id) const { return job(id).token; }

JobRecord FakeGitLab::job(int64_t id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->jobs.find(id);
  return it == impl_->jobs.end() ? JobRecord{} : it->second.record;
}

bool FakeGitLab::wait_for(int64_t id, std::function<bool(const JobRecord&)> pred,
                          std::chrono::milliseconds timeout) const {
  // pred runs on a copy without the lock, so it may call back into this object or look at the
  // file system; a change that lands while it runs is seen at the next recheck (25 ms at most).
  constexpr std::chrono::milliseconds kRecheck{25};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred(job(id))) return true;
    std::unique_lock lock(impl_->mu);
    auto now = std::chrono::steady_clock::now();
    if (impl_->stopping || now >= deadline) break;
    impl_->changed.wait_until(lock, std::min(deadline, now + kRecheck));
  }
  return pred(job(id));
}

void FakeGitLab::cancel_job(int64_t id, bool graceful) {
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->jobs.find(id);
    if (it == impl_->jobs.end()) return;
    std::string& state = it->second.record.state;
    if (state == "running" && graceful) {
      state = "canceling";
    } else if (state == "pending" || state == "running" || state == "canceling") {
      state = "canceled";
    }
  }
  impl_->changed.notify_all();
}

void FakeGitLab::inject(FaultRule rule) {
  std::lock_guard lock(impl_->mu);
  impl_->rules.push_back(RuleState{std::move(rule), 0});
}

void FakeGitLab::clear_faults() {
  std::lock_guard lock(impl_->mu);
  impl_->rules.clear();
}

void FakeGitLab::set_final_update_202_count(int n) {
  std::lock_guard lock(impl_->mu);
  impl_->final_202_left = n;
}

void FakeGitLab::force_trace_range_mismatch_once() {
  std::lock_guard lock(impl_->mu);
  impl_->force_416 = true;
}

void FakeGitLab::set_trace_update_interval(int seconds) {
  std::lock_guard lock(impl_->mu);
  impl_->trace_interval = seconds;
}

void FakeGitLab::set_long_poll(std::chrono::milliseconds duration) {
  std::lock_guard lock(impl_->mu);
  impl_->options.long_poll = duration;
}

std::string FakeGitLab::last_update() const {
  std::lock_guard lock(impl_->mu);
  return impl_->queue_value;
}

std::string FakeGitLab::last_system_id() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_system_id;
}

std::string FakeGitLab::last_features_json() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_features;
}

std::vector<RecordedRequest> FakeGitLab::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

void FakeGitLab::add_git_repo(std::string url_path, std::filesystem::path repo_dir) {
  std::string_view p = url_path;
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  std::lock_guard lock(impl_->mu);
  impl_->repos.push_back(GitRepo{std::string(p), std::move(repo_dir)});
}

Response FakeGitLab::Impl::handle_control(const Request& req, const std::string& path,
                                          const std::map<std::string, std::string>& query) {
  auto param = [&](const char* key) {
    auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  };
  auto ok = [] { return make_response(200, "{}"); };
  FakeGitLab& gl = *owner;
  const bool post = req.method() == http::verb::post;
  if (post && path == "/__control/runners") {
    std::string token(trim(req.body()));
    if (token.empty()) token = param("token");
    if (token.empty()) return json_message(400, "token required");
    gl.add_runner(token);
    return ok();
  }
  if (post && path == "/__control/registration_tokens") {
    gl.add_registration_token(std::string(trim(req.body())));
    return ok();
  }
  if (post && path == "/__control/pats") {
    gl.add_personal_access_token(std::string(trim(req.body())));
    return ok();
  }
  if (post && path == "/__control/registration_disabled") {
    gl.set_registration_disabled(param("value") != "0");
    return ok();
  }
  if (post && path == "/__control/token_lifetime") {
    std::optional<long long> seconds = parse_int(param("seconds"));
    if (!seconds || *seconds < 0) return json_message(400, "seconds=<n> required");
    gl.set_token_lifetime(std::chrono::seconds(*seconds));
    return ok();
  }
  if (post && path == "/__control/runner_orphaned") {
    std::optional<long long> id = parse_int(param("id"));
    if (!id) return json_message(400, "id=<n> required");
    gl.set_runner_orphaned(*id, param("value") != "0");
    return ok();
  }
  if (req.method() == http::verb::get && path == "/__control/registered_runners") {
    json list = json::array();
    for (const RegisteredRunner& r : gl.registered_runners()) {
      list.push_back({{"id", r.id}, {"token", r.token}, {"description", r.description},
                      {"tag_list", r.tag_list}, {"runner_type", r.runner_type},
                      {"managers", r.managers}, {"deleted", r.deleted},
                      {"maintenance_note", r.maintenance_note}, {"access_level", r.access_level},
                      {"locked", r.locked}, {"run_untagged", r.run_untagged},
                      {"paused", r.paused}, {"maximum_timeout", r.maximum_timeout},
                      {"group_id", r.group_id}, {"project_id", r.project_id},
                      {"token_expires_at", r.token_expires_at},
                      {"token_resets", r.token_resets}, {"orphaned", r.orphaned}});
    }
    return make_response(200, list.dump());
  }
  // Artifacts: GET /__control/artifacts lists uploads (without content);
  // GET /__control/artifacts/<n> is the content of upload n; POST /__control/artifacts?id=N&filename=F
  // stores the body for GET /jobs/N/artifacts; POST /__control/artifact_redirect?value=1|0.
  if (req.method() == http::verb::get && path == "/__control/artifacts") {
    json list = json::array();
    for (const UploadedArtifact& a : gl.uploaded_artifacts()) {
      list.push_back({{"job_id", a.job_id}, {"query", a.query}, {"field_name", a.field_name},
                      {"filename", a.filename}, {"content_type", a.content_type},
                      {"size", a.content.size()}, {"request_content_type", a.request_content_type},
                      {"transfer_encoding", a.transfer_encoding}});
    }
    return make_response(200, list.dump());
  }
  if (req.method() == http::verb::get && starts_with(path, "/__control/artifacts/")) {
    std::optional<long long> n = parse_int(path.substr(std::string_view("/__control/artifacts/").size()));
    std::vector<UploadedArtifact> all = gl.uploaded_artifacts();
    if (!n || *n < 0 || static_cast<std::size_t>(*n) >= all.size()) return json_message(404, "no such upload");
    return make_response(200, all[static_cast<std::size_t>(*n)].content, "application/octet-stream");
  }
  if (post && path == "/__control/artifacts") {
    std::optional<long long> id = parse_int(param("id"));
    if (!id) return json_message(400, "id=<n> required");
    gl.set_artifact(*id, param("filename"), req.body());
    return ok();
  }
  if (post && path == "/__control/artifact_redirect") {
    gl.set_artifact_download_redirect(param("value") != "0");
    return ok();
  }
  if (post && path == "/__control/jobs") {
    int64_t id = gl.enqueue_job(req.body());
    if (id < 0) return json_message(400, "payload is not a JSON object");
    return make_response(201, json{{"id", id}, {"token", gl.job_token(id)}}.dump());
  }
  if (starts_with(path, "/__control/jobs/")) {
    std::string_view rest = std::string_view(path).substr(std::string_view("/__control/jobs/").size());
    std::size_t slash = rest.find('/');
    std::optional<long long> id = parse_int(rest.substr(0, slash));
    if (!id) return json_message(404, "no such job");
    if (req.method() == http::verb::get && slash == std::string_view::npos) {
      JobRecord r = gl.job(*id);
      if (r.id == 0) return json_message(404, "no such job");
      return make_response(200, record_to_json(r).dump(-1, ' ', false,
                                                         json::error_handler_t::replace));
    }
    if (req.method() == http::verb::get && slash != std::string_view::npos &&
        rest.substr(slash) == "/wait") {
      // Lets shell tests block until the job is over instead of polling with sleeps.
      auto timeout = std::chrono::milliseconds(
          std::clamp<int64_t>(ruby_to_i(param("timeout_ms")), 0, 600000));
      bool done = gl.wait_for(
          *id,
          [](const JobRecord& r) {
            return r.final_update_received || r.state == "success" || r.state == "failed" ||
                   r.state == "canceled";
          },
          timeout);
      return make_response(done ? 200 : 408, record_to_json(gl.job(*id)).dump(
                                                 -1, ' ', false, json::error_handler_t::replace));
    }
    if (post && slash != std::string_view::npos && rest.substr(slash) == "/cancel") {
      gl.cancel_job(*id, param("graceful") == "1" || param("graceful") == "true");
      return ok();
    }
    return json_message(404, "unknown control endpoint");
  }
  if (post && path == "/__control/git") {
    if (param("path").empty() || param("dir").empty()) {
      return json_message(400, "path and dir required");
    }
    gl.add_git_repo(param("path"), param("dir"));
    return ok();
  }
  if (post && path == "/__control/final_update_202") {
    gl.set_final_update_202_count(static_cast<int>(ruby_to_i(param("count"))));
    return ok();
  }
  if (post && path == "/__control/trace_range_mismatch") {
    gl.force_trace_range_mismatch_once();
    return ok();
  }
  if (post && path == "/__control/trace_update_interval") {
    gl.set_trace_update_interval(static_cast<int>(ruby_to_i(param("seconds"))));
    return ok();
  }
  if (post && path == "/__control/long_poll") {
    gl.set_long_poll(std::chrono::milliseconds(ruby_to_i(param("ms"))));
    return ok();
  }
  if (post && path == "/__control/faults") {
    json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) return json_message(400, "bad fault JSON");
    FaultRule rule;
    std::string endpoint = string_field(body, "endpoint");
    if (endpoint == "request_job") rule.endpoint = FakeEndpoint::kRequestJob;
    else if (endpoint == "update_job") rule.endpoint = FakeEndpoint::kUpdateJob;
    else if (endpoint == "patch_trace") rule.endpoint = FakeEndpoint::kPatchTrace;
    else if (endpoint == "git") rule.endpoint = FakeEndpoint::kGit;
    else if (endpoint == "artifacts") rule.endpoint = FakeEndpoint::kArtifacts;
    else if (endpoint == "any" || endpoint.empty()) rule.endpoint = FakeEndpoint::kAny;
    else return json_message(400, "unknown endpoint");
    std::string action = string_field(body, "action");
    if (action == "respond" || action.empty()) rule.action = FaultAction::kRespond;
    else if (action == "close") rule.action = FaultAction::kCloseConnection;
    else if (action == "delay") rule.action = FaultAction::kDelay;
    else return json_message(400, "unknown action");
    rule.skip = body.value("skip", 0);
    rule.count = body.value("count", 1);
    rule.status = body.value("status", 500);
    if (body.contains("retry_after")) rule.retry_after_seconds = body.value("retry_after", 0);
    rule.delay = std::chrono::milliseconds(body.value("delay_ms", 0));
    rule.body = string_field(body, "body");
    gl.inject(std::move(rule));
    return ok();
  }
  if (req.method() == http::verb::get && path == "/__control/requests") {
    json list = json::array();
    for (const RecordedRequest& r : gl.requests()) {
      json headers = json::object();
      for (const auto& [k, v] : r.headers) headers[k] = v;
      list.push_back({{"method", r.method}, {"target", r.target}, {"headers", headers},
                      {"body", r.body}});
    }
    return make_response(200, list.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return json_message(404, "unknown control endpoint");
}

}  // namespace glr
