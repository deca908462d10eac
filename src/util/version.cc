// Build identity values, filled in by CMake definitions.
#include "util/version.h"

namespace glr {

const char* compat_version() { return GLR_COMPAT_VERSION_STR; }
const char* glrunner_version() { return GLR_VERSION_STR; }
const char* revision() { return GLR_REVISION_STR; }
const char* platform() { return "linux"; }
const char* architecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__powerpc64__)
  return "ppc64le";
#elif defined(__riscv)
  return "riscv64";
#else
  return "unknown";
#endif
}

std::string user_agent() {
  return std::string("gitlab-runner ") + compat_version() + " (glrunner " + glrunner_version() +
         "; " + platform() + "/" + architecture() + ")";
}

}  // namespace glr
