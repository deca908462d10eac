// A string that must never reach a log. fmt and ostream print it as "[MASKED]".
#pragma once

#include <ostream>
#include <string>

namespace glr {

struct Secret {
  std::string value{};
  bool empty() const { return value.empty(); }
  friend bool operator==(const Secret&, const Secret&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "[MASKED]"; }
};

}  // namespace glr
