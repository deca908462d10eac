// Lookup in an ordered variable list: the last definition wins (executors §3.1).
#include "model/variable.h"

namespace glr {

const Variable* find_variable(const Variables& vars, const std::string& key) {
  for (auto it = vars.rbegin(); it != vars.rend(); ++it) {
    if (it->key == key) return &*it;
  }
  return nullptr;
}

}  // namespace glr
