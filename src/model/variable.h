// One job variable as GitLab sends it (api spec §3.6) or as the runner adds it (executors §3.1).
#pragma once

#include <string>
#include <vector>

namespace glr {

struct Variable {
  std::string key{};
  std::string value{};
  bool is_public = false;
  bool masked = false;
  bool is_file = false;
  bool raw = false;
  // Set by the runner for its own entries (config `environment`); such variables
  // reach service containers like public ones (executors §3.3).
  bool internal = false;
  friend bool operator==(const Variable&, const Variable&) = default;
};

// Ordered; lookups go from the end (last definition wins).
using Variables = std::vector<Variable>;

// Returns the last variable named `key`, or nullptr.
const Variable* find_variable(const Variables& vars, const std::string& key);

}  // namespace glr
