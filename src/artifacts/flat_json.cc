// Flat JSON object reader (strings with escapes, numbers, true/false/null).
#include "artifacts/flat_json.h"

#include <cctype>
#include <fmt/format.h>

namespace glr {
namespace {

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])) != 0) ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    ws();
    return i_ < s_.size() && s_[i_] == c;
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string v;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        v.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      char e = s_[i_++];
      switch (e) {
        case 'n': v.push_back('\n'); break;
        case 't': v.push_back('\t'); break;
        case 'r': v.push_back('\r'); break;
        case 'b': v.push_back('\b'); break;
        case 'f': v.push_back('\f'); break;
        case 'u': {
          if (i_ + 4 > s_.size()) return std::nullopt;
          unsigned cp = static_cast<unsigned>(std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16));
          i_ += 4;
          append_utf8(v, cp);
          break;
        }
        default: v.push_back(e);
      }
    }
    if (i_ >= s_.size()) return std::nullopt;
    ++i_;
    return v;
  }
  std::optional<std::string> scalar() {
    ws();
    if (peek('"')) return string();
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) != 0 ||
                              s_[i_] == '-' || s_[i_] == '+' || s_[i_] == '.')) {
      ++i_;
    }
    if (start == i_) return std::nullopt;
    return std::string(s_.substr(start, i_ - start));
  }
  bool at_end() {
    ws();
    return i_ == s_.size();
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> parse_flat_json_object(
    std::string_view text) {
  Reader r(text);
  std::vector<std::pair<std::string, std::string>> out;
  if (!r.eat('{')) return std::nullopt;
  if (r.eat('}')) return r.at_end() ? std::optional(out) : std::nullopt;
  for (;;) {
    std::optional<std::string> k = r.string();
    if (!k || !r.eat(':')) return std::nullopt;
    std::optional<std::string> v = r.scalar();
    if (!v) return std::nullopt;
    out.emplace_back(std::move(*k), std::move(*v));
    if (r.eat(',')) continue;
    if (r.eat('}')) break;
    return std::nullopt;
  }
  if (!r.at_end()) return std::nullopt;
  return out;
}

std::string flat_json_value(std::string_view text, std::string_view key) {
  auto fields = parse_flat_json_object(text);
  if (!fields) return "";
  for (const auto& [k, v] : *fields) {
    if (k == key) return v;
  }
  return "";
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

}  // namespace glr
