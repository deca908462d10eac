// HttpTransport over libcurl: the only libcurl user (STYLE C0). Keeps curl types
// out of every header so the rest of the tree never includes <curl/curl.h>.
#pragma once

#include <mutex>
#include <stop_token>
#include <vector>

#include "http/http_transport.h"

namespace glr {

// Thread-safe. Each request runs on its own easy+multi handle pair taken from a
// small pool, so keep-alive connections to GitLab are reused between requests.
// A requested stop wakes the transfer at once (curl_multi_wakeup) and the call
// returns kCanceled; refused/DNS/reset/TLS failures are kUnavailable and a
// request running past HttpRequest::timeout is kTimeout.
//
// TLS (api spec §0.5): HttpRequest::ca_file is added to the system trust store
// like the official runner does (not a replacement); a missing file is ignored.
// cert_file + key_file (both set) give a client certificate. Proxies come from
// the standard *_proxy environment variables, which libcurl honours.
class CurlTransport final : public HttpTransport {
 public:
  CurlTransport();
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> send(const HttpRequest& request, std::stop_token stop) override;

 private:
  struct Handles {
    void* easy = nullptr;   // CURL*
    void* multi = nullptr;  // CURLM*, owns the connection cache of `easy`
  };
  Handles acquire();
  void release(Handles handles);

  std::mutex mu_;
  std::vector<Handles> idle_;  // Guarded by mu_.
};

}  // namespace glr
