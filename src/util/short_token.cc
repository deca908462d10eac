// Short token derivation (api spec §1.1).
#include "util/short_token.h"

#include <cctype>

namespace glr {
namespace {

bool strip_partition(std::string_view& t) {
  if (t.size() >= 3 && t[0] == 't' && (t[1] == '1' || t[1] == '2' || t[1] == '3') && t[2] == '_') {
    t.remove_prefix(3);
    return true;
  }
  return false;
}

}  // namespace

std::string short_token(std::string_view t) {
  if (t.starts_with("glrt-")) {
    t.remove_prefix(5);
    strip_partition(t);
  } else if (strip_partition(t)) {
  } else if (t.starts_with("glrtr-")) {
    t.remove_prefix(6);
  } else if (t.starts_with("glcbt-")) {
    t.remove_prefix(6);
  } else if (t.size() >= 9 && t.starts_with("GR")) {
    bool hex = true;
    for (size_t i = 2; i < 9; ++i) hex = hex && std::isxdigit(static_cast<unsigned char>(t[i]));
    if (hex) t.remove_prefix(9);
  }
  return std::string(t.substr(0, 9));
}

}  // namespace glr
