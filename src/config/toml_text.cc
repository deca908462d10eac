// TOML text conventions shared inside src/config (see toml_text.h).
#include "config/toml_text.h"

#include <sstream>

namespace glr::config_internal {
namespace {

// Go-like literals: double-quoted strings with escapes, integers keep their base.
constexpr toml::format_flags kValueFlags =
    toml::format_flags::allow_unicode_strings | toml::format_flags::allow_binary_integers |
    toml::format_flags::allow_octal_integers | toml::format_flags::allow_hexadecimal_integers;

bool is_bare_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string table_text(const toml::table& table) {
  toml::table copy = table;
  copy.is_inline(false);
  std::ostringstream os;
  os << toml::toml_formatter(copy);
  return os.str();
}

std::string value_text(const toml::node& value) {
  std::ostringstream os;
  os << toml::toml_formatter(value, kValueFlags);
  return os.str();
}

std::string key_text(std::string_view key) {
  if (is_bare_key(key)) return std::string(key);
  return value_text(toml::value<std::string>(std::string(key)));
}

}  // namespace glr::config_internal
