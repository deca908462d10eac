// Small string helpers shared by every component; no dependencies.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace glr {

std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
// split() without the empty fields: "a\0\0b\0" -> {"a", "b"} (git's -z output).
std::vector<std::string> split_nonempty(std::string_view s, char sep);
// Splits on runs of ASCII whitespace, dropping empty fields (Go strings.Fields).
std::vector<std::string> split_fields(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

// Standard base64 with padding (RFC 4648 §4).
std::string base64_encode(std::string_view in);

// Go strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False; anything else nullopt.
std::optional<bool> parse_go_bool(std::string_view s);
// Go strconv.Atoi on a base-10 integer with optional sign; nullopt on junk or overflow.
std::optional<long long> parse_int(std::string_view s);

}  // namespace glr
