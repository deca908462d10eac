// Go duration parsing and formatting, written from the Go documentation's grammar:
// [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ with units ns, us, µs, ms, s, m, h.
#include "util/duration.h"

#include <cmath>
#include <cstdint>

namespace glr {
namespace {

std::optional<int64_t> unit_ns(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1000;
  if (unit == "ms") return 1000000;
  if (unit == "s") return 1000000000LL;
  if (unit == "m") return 60LL * 1000000000LL;
  if (unit == "h") return 3600LL * 1000000000LL;
  return std::nullopt;
}

// Writes v/10^prec with trailing zeros of the fraction removed, like Go's fmtFrac+fmtInt.
std::string format_fraction(uint64_t v, int prec) {
  std::string frac;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    int digit = static_cast<int>(v % 10);
    print = print || digit != 0;
    if (print) frac.insert(frac.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  std::string out = std::to_string(v);
  if (print) out += "." + frac;
  return out;
}

}  // namespace

std::optional<Nanoseconds> parse_go_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Nanoseconds(0);
  if (s.empty()) return std::nullopt;
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    std::string number;
    bool digits = false;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0)) {
      number += s[i++];
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      number += s[i++];
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0)) {
        number += s[i++];
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    size_t u = i;
    while (u < s.size() && s[u] != '.' && (std::isdigit(static_cast<unsigned char>(s[u])) == 0))
      ++u;
    auto mult = unit_ns(s.substr(i, u - i));
    if (!mult) return std::nullopt;
    total += std::stold(number) * static_cast<long double>(*mult);
    if (total > 9.2e18L) return std::nullopt;
    s.remove_prefix(u);
  }
  auto ns = static_cast<int64_t>(std::llround(static_cast<double>(total)));
  return Nanoseconds(neg ? -ns : ns);
}

std::string format_go_duration(Nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  bool neg = ns < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-ns) : static_cast<uint64_t>(ns);
  std::string out;
  if (u < 1000000000ULL) {
    // Sub-second: ns, µs or ms with a fraction.
    if (u < 1000) {
      out = std::to_string(u) + "ns";
    } else if (u < 1000000) {
      out = format_fraction(u, 3) + "\xC2\xB5s";
    } else {
      out = format_fraction(u, 6) + "ms";
    }
  } else {
    std::string secs = format_fraction(u % 60000000000ULL, 9) + "s";
    uint64_t minutes = u / 60000000000ULL;
    if (minutes > 0) {
      uint64_t hours = minutes / 60;
      minutes %= 60;
      secs = std::to_string(minutes) + "m" + secs;
      if (hours > 0) secs = std::to_string(hours) + "h" + secs;
    }
    out = secs;
  }
  return neg ? "-" + out : out;
}

}  // namespace glr
