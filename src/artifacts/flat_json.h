// The few JSON documents this component reads (CACHE_METADATA, AWS credential endpoints) are
// flat objects of scalars; a small reader keeps nlohmann inside gitlab/ (STYLE C12).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glr {

// {"k": "v", "n": 1, "b": true, "z": null} -> pairs in document order; scalars other than strings
// are returned as their text ("1", "true", "null"). nullopt for anything else (nesting included).
std::optional<std::vector<std::pair<std::string, std::string>>> parse_flat_json_object(
    std::string_view text);
// The value of `key` in a flat object; "" when absent or malformed.
std::string flat_json_value(std::string_view text, std::string_view key);
// A JSON string body (without the quotes).
std::string json_escape(std::string_view s);

}  // namespace glr
