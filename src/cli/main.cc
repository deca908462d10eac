// glrunner's entry point: the composition root (STYLE C1) and signal handler.
#include <cstdio>
#include <cstring>

#include "util/version.h"

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-v") == 0)) {
    std::printf("Version:      %s\nGit revision: %s\n", glr::compat_version(), glr::revision());
    return 0;
  }
  std::fprintf(stderr, "glrunner: no command given\n");
  return 1;
}
