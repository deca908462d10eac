// HttpTransport over libcurl: the only libcurl user (STYLE C0).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "http/http_transport.h"

namespace glr {

// Thread-safe. Keeps a small pool of easy handles so connections are reused
// between requests of one thread at a time (keep-alive to GitLab).
class CurlTransport final : public HttpTransport {
 public:
  CurlTransport();
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> send(const HttpRequest& request, std::stop_token stop) override;

 private:
  void* acquire();
  void release(void* handle);

  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles. Guarded by mu_.
};

}  // namespace glr
