// Build identity: what we report to GitLab and print in the job log header.
#pragma once

#include <string>

namespace glr {

// The official runner release we are wire-compatible with ("19.4.0"); GitLab and
// the helper-image naming key on it.
const char* compat_version();
// Our own version ("0.1.0").
const char* glrunner_version();
// 8 hex characters of the source revision.
const char* revision();
// "linux", "amd64" etc. in Go's GOOS/GOARCH vocabulary.
const char* platform();
const char* architecture();
// "gitlab-runner 19.4.0 (glrunner 0.1.0; linux/amd64)" for User-Agent.
std::string user_agent();

}  // namespace glr
