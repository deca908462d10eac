// Docker Engine API over libcurl: unix sockets via CURLOPT_UNIX_SOCKET_PATH, tcp with
// optional client-certificate TLS (the layout `docker` itself uses: ca/cert/key.pem).
#include "docker/docker_client.h"

#include <curl/curl.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace glr {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

size_t append_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
  for (const std::string& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return e.substr(key.size() + 1);
  }
  return {};
}

}  // namespace

int compare_api_versions(const std::string& a, const std::string& b) {
  std::istringstream as(a), bs(b);
  for (;;) {
    long x = 0, y = 0;
    bool ha = static_cast<bool>(as >> x), hb = static_cast<bool>(bs >> y);
    if (!ha && !hb) return 0;
    if (x != y) return x < y ? -1 : 1;
    as.ignore(1);
    bs.ignore(1);
  }
}

std::string docker_url_escape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

DockerEndpoint resolve_docker_endpoint(const std::string& host, bool tls_verify,
                                       const std::string& tls_cert_path,
                                       const std::vector<std::string>& env) {
  DockerEndpoint e;
  if (!host.empty()) {
    e.host = host;
    e.tls_verify = tls_verify;
    e.tls_cert_path = tls_cert_path;
    return e;
  }
  e.host = env_value(env, "DOCKER_HOST");
  if (e.host.empty()) e.host = "unix:///var/run/docker.sock";
  std::string verify = env_value(env, "DOCKER_TLS_VERIFY");
  e.tls_verify = tls_verify || (!verify.empty() && verify != "0");
  e.tls_cert_path = !tls_cert_path.empty() ? tls_cert_path : env_value(env, "DOCKER_CERT_PATH");
  return e;
}

void DockerStreamDemuxer::feed(std::string_view bytes,
                               const std::function<void(bool, std::string_view)>& out) {
  buffer_.append(bytes);
  size_t pos = 0;
  while (buffer_.size() - pos >= 8) {
    auto b = [&](size_t i) { return static_cast<unsigned char>(buffer_[pos + i]); };
    size_t len = (size_t{b(4)} << 24) | (size_t{b(5)} << 16) | (size_t{b(6)} << 8) | b(7);
    if (buffer_.size() - pos - 8 < len) break;
    out(b(0) == 2, std::string_view(buffer_).substr(pos + 8, len));
    pos += 8 + len;
  }
  buffer_.erase(0, pos);
}

DockerClient::DockerClient(DockerEndpoint endpoint) : endpoint_(std::move(endpoint)) {
  const std::string& h = endpoint_.host;
  if (h.rfind("unix://", 0) == 0) {
    socket_path_ = h.substr(7);
    base_url_ = "http://localhost";
  } else if (h.rfind("tcp://", 0) == 0) {
    bool tls = endpoint_.tls_verify || !endpoint_.tls_cert_path.empty();
    base_url_ = (tls ? "https://" : "http://") + h.substr(6);
  } else if (h.rfind("http://", 0) == 0 || h.rfind("https://", 0) == 0) {
    base_url_ = h;
  }
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

std::string DockerClient::url(const std::string& path) const {
  return base_url_ + "/v" + api_version_ + path;
}

void DockerClient::configure(void* handle) const {
  CURL* c = static_cast<CURL*>(handle);
  if (!socket_path_.empty()) curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path_.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  if (!endpoint_.tls_cert_path.empty()) {
    std::string dir = endpoint_.tls_cert_path;
    curl_easy_setopt(c, CURLOPT_CAINFO, (dir + "/ca.pem").c_str());
    curl_easy_setopt(c, CURLOPT_SSLCERT, (dir + "/cert.pem").c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, (dir + "/key.pem").c_str());
  }
  if (!endpoint_.tls_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

Result<> DockerClient::connect() {
  if (base_url_.empty())
    return fail(ErrorKind::kInvalidInput,
                "docker host \"" + endpoint_.host + "\": expected unix://, tcp:// or http(s)://");
  CurlPtr c(curl_easy_init());
  std::string body;
  configure(c.get());
  curl_easy_setopt(c.get(), CURLOPT_URL, (base_url_ + "/version").c_str());
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(c.get());
  if (rc != CURLE_OK) {
    return fail(ErrorKind::kUnavailable, "Cannot connect to the Docker daemon at " +
                                             endpoint_.host + ". Is the docker daemon running? (" +
                                             curl_easy_strerror(rc) + ")");
  }
  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  nlohmann::json v = nlohmann::json::parse(body, nullptr, false);
  if (status != 200 || !v.is_object())
    return fail(ErrorKind::kUnavailable,
                "docker " + endpoint_.host + ": GET /version answered HTTP " + std::to_string(status));
  std::string server = v.value("ApiVersion", std::string(kDockerMinApiVersion));
  std::string server_min = v.value("MinAPIVersion", std::string(kDockerMinApiVersion));
  if (compare_api_versions(server_min, kDockerMaxApiVersion) > 0)
    return fail(ErrorKind::kUnavailable, "docker daemon requires API version >= " + server_min);
  api_version_ = compare_api_versions(server, kDockerMaxApiVersion) < 0 ? server
                                                                         : kDockerMaxApiVersion;
  os_type_ = v.value("Os", std::string("linux"));
  return {};
}

Result<DockerResponse> DockerClient::request(const std::string& method, const std::string& path,
                                             const std::string& body,
                                             const std::string& content_type,
                                             long timeout_seconds,
                                             const std::vector<std::string>& extra_headers) {
  CurlPtr c(curl_easy_init());
  DockerResponse response;
  configure(c.get());
  std::string full = url(path);
  curl_easy_setopt(c.get(), CURLOPT_URL, full.c_str());
  curl_easy_setopt(c.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, timeout_seconds);
  curl_slist* list = nullptr;
  for (const std::string& h : extra_headers) list = curl_slist_append(list, h.c_str());
  if (method == "POST" || method == "PUT")
    list = curl_slist_append(list, ("Content-Type: " + content_type).c_str());
  SlistPtr headers(list);
  if (list != nullptr) curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, list);
  if (method == "POST" || method == "PUT") {
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  CURLcode rc = curl_easy_perform(c.get());
  if (rc != CURLE_OK) {
    ErrorKind kind = rc == CURLE_OPERATION_TIMEDOUT ? ErrorKind::kTimeout : ErrorKind::kUnavailable;
    return fail(kind, "docker " + method + " " + path + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

namespace {

struct AttachState {
  DockerStreamDemuxer demux;
  const std::function<bool()>* on_attached = nullptr;
  const std::function<void(bool, std::string_view)>* on_output = nullptr;
  bool attached = false;
  std::stop_token stop;
};

size_t attach_header(char* data, size_t size, size_t n, void* user) {
  auto* st = static_cast<AttachState*>(user);
  std::string_view line(data, size * n);
  // The empty line that ends the headers: the daemon is now attached.
  if (!st->attached && (line == "\r\n" || line == "\n")) {
    st->attached = true;
    if (!(*st->on_attached)()) return 0;  // aborts the transfer
  }
  return size * n;
}

size_t attach_body(char* data, size_t size, size_t n, void* user) {
  auto* st = static_cast<AttachState*>(user);
  st->demux.feed(std::string_view(data, size * n), *st->on_output);
  return size * n;
}

int attach_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* st = static_cast<AttachState*>(user);
  return st->stop.stop_requested() ? 1 : 0;
}

}  // namespace

Result<> DockerClient::attach(const std::string& id, const std::function<bool()>& on_attached,
                              const std::function<void(bool, std::string_view)>& on_output,
                              std::stop_token stop) {
  CurlPtr c(curl_easy_init());
  configure(c.get());
  AttachState st;
  st.on_attached = &on_attached;
  st.on_output = &on_output;
  st.stop = stop;
  std::string full = url("/containers/" + id + "/attach?stream=1&stdout=1&stderr=1&logs=0");
  curl_easy_setopt(c.get(), CURLOPT_URL, full.c_str());
  curl_easy_setopt(c.get(), CURLOPT_POST, 1L);
  curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, attach_header);
  curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &st);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, attach_body);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c.get(), CURLOPT_XFERINFOFUNCTION, attach_progress);
  curl_easy_setopt(c.get(), CURLOPT_XFERINFODATA, &st);
  CURLcode rc = curl_easy_perform(c.get());
  if (rc == CURLE_ABORTED_BY_CALLBACK) return fail(ErrorKind::kCanceled, "canceled");
  if (rc == CURLE_WRITE_ERROR && st.attached) return {};  // on_attached gave up
  if (rc != CURLE_OK && rc != CURLE_PARTIAL_FILE && rc != CURLE_RECV_ERROR)
    return fail(ErrorKind::kUnavailable, "docker attach " + id + ": " + curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200 && status != 101)
    return fail(ErrorKind::kUnavailable, "docker attach " + id + ": HTTP " + std::to_string(status));
  if (!st.attached) (void)on_attached();
  return {};
}

Result<std::string> DockerClient::logs(const std::string& id, int tail_bytes_limit) {
  Result<DockerResponse> r =
      request("GET", "/containers/" + id + "/logs?stdout=1&stderr=1&timestamps=1");
  if (!r) return fail(r.error());
  std::string out;
  DockerStreamDemuxer demux;
  demux.feed(r->body, [&out](bool, std::string_view b) { out.append(b); });
  if (static_cast<int>(out.size()) > tail_bytes_limit) out = out.substr(out.size() - tail_bytes_limit);
  return out;
}

}  // namespace glr
