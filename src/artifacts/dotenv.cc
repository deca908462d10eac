// Port of GitLab's app/services/ci/parse_dotenv_artifact_service.rb rules.
#include "artifacts/dotenv.h"

#include <fmt/format.h>

#include "util/strings.h"

namespace glr {
namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if ((c >> 5) == 6) {
      n = 1;
    } else if ((c >> 4) == 14) {
      n = 2;
    } else if ((c >> 3) == 30) {
      n = 3;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n + 1;
  }
  return true;
}

// Ruby String#strip: leading and trailing whitespace and NUL.
std::string ruby_strip(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == '\0'; };
  size_t b = 0;
  size_t e = s.size();
  while (b < e && ws(s[b])) ++b;
  while (e > b && ws(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

bool valid_key(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<DotenvVariable>> parse_dotenv(std::string_view content, DotenvLimits limits) {
  if (content.size() > limits.max_bytes) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("Dotenv Artifact Too Big. Maximum Allowable Size: {} KiB",
                            limits.max_bytes / 1024));
  }
  if (starts_with(content, "\xEF\xBB\xBF")) content.remove_prefix(3);
  if (!valid_utf8(content)) return fail(ErrorKind::kInvalidInput, "Invalid Format");
  std::vector<DotenvVariable> vars;
  size_t start = 0;
  while (start < content.size()) {
    size_t nl = content.find('\n', start);
    std::string_view line = content.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? content.size() : nl + 1;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return fail(ErrorKind::kInvalidInput, "Invalid Format");
    std::string key = ruby_strip(line.substr(0, eq));
    std::string value = ruby_strip(line.substr(eq + 1));
    if (!valid_key(key)) {
      return fail(ErrorKind::kInvalidInput,
                  "Validation failed: Key can contain only letters, digits and '_'.");
    }
    bool replaced = false;
    for (DotenvVariable& v : vars) {
      if (v.key == key) {
        v.value = value;
        replaced = true;
      }
    }
    if (!replaced) vars.push_back({std::move(key), std::move(value)});
  }
  if (vars.size() > limits.max_variables) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("Dotenv files cannot have more than {} variables", limits.max_variables));
  }
  return vars;
}

}  // namespace glr
