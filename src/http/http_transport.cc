// Header lookup for HttpResponse.
#include "http/http_transport.h"

#include "util/strings.h"

namespace glr {

std::string HttpResponse::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

}  // namespace glr
