// libcurl adapter (api spec §0.4, §0.5): connect timeout 30 s, TCP keep-alive
// 30 s, connections retired after 15 min (connection_max_age), TLS >= 1.2, the
// CA file appended to the system trust store, proxies from the environment.
// Transfers run through a multi handle so a stop wakes them immediately.
#include "http/curl_transport.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/log.h"
#include "util/strings.h"

namespace glr {
namespace {

std::once_flag g_curl_init;
constexpr size_t kMaxIdleHandles = 16;
constexpr long kConnectTimeoutMs = 30'000;
constexpr long kKeepAliveSeconds = 30;
constexpr long kConnectionMaxAgeSeconds = 15 * 60;
// How long one curl_multi_poll may block; a stop or socket activity ends it sooner.
constexpr int kPollTimeoutMs = 1000;

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<HttpHeader>*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100-continue or a proxy CONNECT)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    headers->push_back(HttpHeader{std::string(trim(line.substr(0, colon))),
                                  std::string(trim(line.substr(colon + 1)))});
  }
  return size * n;
}

// Adds the configured CA bundle to the store libcurl already filled with the
// system CAs. The official runner appends tls-ca-file to the system pool, while
// CURLOPT_CAINFO would replace it. A missing file is ignored like upstream does.
CURLcode add_ca_file(CURL*, void* ssl_ctx, void* user) {
  const std::string& path = *static_cast<const std::string*>(user);
  if (::access(path.c_str(), R_OK) != 0) return CURLE_OK;
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  if (store == nullptr || X509_STORE_load_file(store, path.c_str()) != 1) {
    log_warning("Failed to parse PEM in tls-ca-file", {{"file", path}});
  }
  return CURLE_OK;
}

Error transfer_error(const HttpRequest& request, CURLcode rc) {
  std::string what = request.method + " " + request.url + ": " + curl_easy_strerror(rc);
  if (rc == CURLE_OPERATION_TIMEDOUT) return Error{ErrorKind::kTimeout, std::move(what)};
  return Error{ErrorKind::kUnavailable, std::move(what)};
}

// Owns the file a body_file request streams from.
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// A streamed body: prefix, file, suffix (HttpRequest::body_file).
struct StreamedBody {
  std::string_view prefix;
  FilePtr file;
  std::string_view suffix;
  curl_off_t size = 0;
};

size_t on_read(char* data, size_t size, size_t n, void* user) {
  StreamedBody& b = *static_cast<StreamedBody*>(user);
  size_t room = size * n;
  size_t out = 0;
  auto take = [&](std::string_view& part) {
    size_t k = std::min(room - out, part.size());
    std::memcpy(data + out, part.data(), k);
    part.remove_prefix(k);
    out += k;
  };
  take(b.prefix);
  if (out < room && b.prefix.empty() && b.file) {
    size_t got = std::fread(data + out, 1, room - out, b.file.get());
    if (got == 0 && std::ferror(b.file.get()) != 0) return CURL_READFUNC_ABORT;
    if (got == 0) b.file.reset();
    out += got;
  }
  if (out < room && !b.file) take(b.suffix);
  return out;
}

void configure(CURL* curl, const HttpRequest& request, curl_slist* headers,
               HttpResponse& response, StreamedBody* streamed) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (streamed != nullptr) {
    // UPLOAD makes libcurl read the body; CUSTOMREQUEST above keeps the method.
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, streamed);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, streamed->size);
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024L);
  } else if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  // No CURLOPT_ACCEPT_ENCODING: we never advertise gzip, so bodies arrive plain (§0.2).
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, kKeepAliveSeconds);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, kKeepAliveSeconds);
  curl_easy_setopt(curl, CURLOPT_MAXLIFETIME_CONN, kConnectionMaxAgeSeconds);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (!request.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, add_ca_file);
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, &request.ca_file);
    // The shared CA-store cache must not pick up (or hand out) our extra CAs.
    curl_easy_setopt(curl, CURLOPT_CA_CACHE_TIMEOUT, 0L);
  }
  if (!request.cert_file.empty() && !request.key_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, request.cert_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, request.key_file.c_str());
  }
}

}  // namespace

CurlTransport::CurlTransport() {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlTransport::~CurlTransport() {
  for (Handles h : idle_) {
    curl_easy_cleanup(static_cast<CURL*>(h.easy));
    curl_multi_cleanup(static_cast<CURLM*>(h.multi));
  }
}

CurlTransport::Handles CurlTransport::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      Handles h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  Handles h{curl_easy_init(), curl_multi_init()};
  if (h.easy == nullptr || h.multi == nullptr) {
    if (h.easy != nullptr) curl_easy_cleanup(static_cast<CURL*>(h.easy));
    if (h.multi != nullptr) curl_multi_cleanup(static_cast<CURLM*>(h.multi));
    return Handles{};
  }
  return h;
}

void CurlTransport::release(Handles handles) {
  {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(handles);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handles.easy));
  curl_multi_cleanup(static_cast<CURLM*>(handles.multi));
}

Result<HttpResponse> CurlTransport::send(const HttpRequest& request, std::stop_token stop) {
  auto canceled = [&] {
    return fail(ErrorKind::kCanceled, request.method + " " + request.url + ": canceled");
  };
  if (stop.stop_requested()) return canceled();
  Handles handles = acquire();
  if (handles.easy == nullptr) return fail(ErrorKind::kInternal, "curl: cannot create a handle");
  CURL* curl = static_cast<CURL*>(handles.easy);
  CURLM* multi = static_cast<CURLM*>(handles.multi);
  std::optional<StreamedBody> streamed;
  if (!request.body_file.empty()) {
    streamed.emplace();
    streamed->prefix = request.body;
    streamed->suffix = request.body_suffix;
    streamed->file.reset(std::fopen(request.body_file.c_str(), "rbe"));
    struct stat st {};
    if (!streamed->file || ::fstat(::fileno(streamed->file.get()), &st) != 0) {
      release(handles);
      return fail(ErrorKind::kIo, request.method + " " + request.url + ": open " +
                                      request.body_file + ": " + std::strerror(errno));
    }
    streamed->size = static_cast<curl_off_t>(request.body.size() + request.body_suffix.size()) +
                     static_cast<curl_off_t>(st.st_size);
  }
  curl_easy_reset(curl);

  HttpResponse response;
  curl_slist* headers = nullptr;
  for (const HttpHeader& h : request.headers) {
    headers = curl_slist_append(headers, (h.name + ": " + h.value).c_str());
  }
  // libcurl adds "Expect: 100-continue" to large bodies; GitLab does not need it.
  headers = curl_slist_append(headers, "Expect:");
  configure(curl, request, headers, response, streamed ? &*streamed : nullptr);

  CURLcode rc = CURLE_OK;
  bool stopped = false;
  bool multi_failed = false;
  curl_multi_add_handle(multi, curl);
  {
    // Destroyed before the handles go back to the pool, so no late wakeup can
    // reach a transfer that belongs to another request.
    std::stop_callback wake(stop, [multi] { curl_multi_wakeup(multi); });
    for (;;) {
      int running = 0;
      if (curl_multi_perform(multi, &running) != CURLM_OK) {
        multi_failed = true;
        break;
      }
      if (running == 0) break;
      if (stop.stop_requested()) {
        stopped = true;
        break;
      }
      if (curl_multi_poll(multi, nullptr, 0, kPollTimeoutMs, nullptr) != CURLM_OK) {
        multi_failed = true;
        break;
      }
    }
  }
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == curl) rc = msg->data.result;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  // Removing an unfinished transfer closes its connection; a finished one stays
  // in the multi handle's cache for the next request.
  curl_multi_remove_handle(multi, curl);
  curl_slist_free_all(headers);
  release(handles);

  if (stopped) return canceled();
  if (multi_failed) return fail(ErrorKind::kInternal, request.method + " " + request.url +
                                                          ": curl multi interface failed");
  if (rc != CURLE_OK) return fail(transfer_error(request, rc));
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace glr
