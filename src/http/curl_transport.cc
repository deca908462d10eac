// libcurl adapter. Timeouts follow api spec §0.4 (connect 30 s, TLS >= 1.2);
// proxies come from the standard environment variables, which libcurl honours.
// Note: CURLOPT_CAINFO replaces the system bundle, while the official runner
// appends tls-ca-file to the system pool; a CA file must therefore hold the
// whole chain GitLab needs (documented in README).
#include "http/curl_transport.h"

#include <curl/curl.h>

#include <mutex>

#include "util/strings.h"

namespace glr {
namespace {

std::once_flag g_curl_init;

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<HttpHeader>*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100-continue or a redirect)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    headers->push_back(HttpHeader{std::string(trim(line.substr(0, colon))),
                                  std::string(trim(line.substr(colon + 1)))});
  }
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* stop = static_cast<std::stop_token*>(user);
  return stop->stop_requested() ? 1 : 0;  // non-zero aborts the transfer
}

}  // namespace

CurlTransport::CurlTransport() {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlTransport::~CurlTransport() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* CurlTransport::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void CurlTransport::release(void* handle) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 16) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

Result<HttpResponse> CurlTransport::send(const HttpRequest& request, std::stop_token stop) {
  CURL* curl = static_cast<CURL*>(acquire());
  if (curl == nullptr) return fail(ErrorKind::kInternal, "curl_easy_init failed");
  curl_easy_reset(curl);

  HttpResponse response;
  curl_slist* headers = nullptr;
  for (const HttpHeader& h : request.headers) {
    headers = curl_slist_append(headers, (h.name + ": " + h.value).c_str());
  }
  // libcurl adds "Expect: 100-continue" to large bodies; GitLab does not need it.
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stop);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (!request.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, request.ca_file.c_str());
  if (!request.cert_file.empty() && !request.key_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, request.cert_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, request.key_file.c_str());
  }

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  release(curl);

  if (rc == CURLE_ABORTED_BY_CALLBACK || stop.stop_requested())
    return fail(ErrorKind::kCanceled, request.method + " " + request.url + ": canceled");
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return fail(ErrorKind::kTimeout, request.method + " " + request.url + ": " + curl_easy_strerror(rc));
  if (rc != CURLE_OK)
    return fail(ErrorKind::kUnavailable,
                request.method + " " + request.url + ": " + curl_easy_strerror(rc));
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace glr
