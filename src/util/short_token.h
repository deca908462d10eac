// The 9-character short token used in logs, metric labels and builds-dir paths
// (api spec §1.1, executors §2.4).
#pragma once

#include <string>
#include <string_view>

namespace glr {

// Strips glrt- (+ t1_/t2_/t3_), a bare t1_..t3_, glrtr-, glcbt- or GR+7 hex, then keeps 9 chars.
std::string short_token(std::string_view token);

}  // namespace glr
