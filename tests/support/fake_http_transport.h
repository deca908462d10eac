// FakeHttpTransport: answers from a scripted queue and records every request.
#pragma once

#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

#include "http/http_transport.h"

namespace glr {

class FakeHttpTransport final : public HttpTransport {
 public:
  // Each entry is either a response or a transport error.
  std::deque<Result<HttpResponse>> answers;
  std::vector<HttpRequest> requests;

  Result<HttpResponse> send(const HttpRequest& request, std::stop_token) override {
    std::lock_guard lock(mu_);
    requests.push_back(request);
    if (!request.body_file.empty()) {  // record a streamed body as if it had been inline
      std::ifstream in(request.body_file, std::ios::binary);
      requests.back().body.append(std::istreambuf_iterator<char>(in), {});
      requests.back().body += request.body_suffix;
    }
    if (answers.empty()) return HttpResponse{.status = 500};
    Result<HttpResponse> r = answers.front();
    answers.pop_front();
    return r;
  }

  static HttpResponse respond(int status, std::vector<HttpHeader> headers = {},
                              std::string body = {}) {
    HttpResponse r;
    r.status = status;
    r.headers = std::move(headers);
    r.body = std::move(body);
    return r;
  }

 private:
  std::mutex mu_;
};

}  // namespace glr
