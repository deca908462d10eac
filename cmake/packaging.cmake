# `cmake --install` layout and the Debian package (CPack): the binary, a
# gitlab-runner link, the systemd unit and a 0700 config directory.
include(GNUInstallDirs)
install(TARGETS glrunner RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(CODE "execute_process(COMMAND \${CMAKE_COMMAND} -E create_symlink glrunner
  \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/gitlab-runner)")
# The Kubernetes executor's scripts call /usr/bin/gitlab-runner-helper in the helper
# container (executors §7.1, §7.6): the same image then serves as helper_image.
install(CODE "execute_process(COMMAND \${CMAKE_COMMAND} -E create_symlink glrunner
  \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/gitlab-runner-helper)")
install(FILES ${CMAKE_SOURCE_DIR}/packaging/systemd/gitlab-runner.service
        DESTINATION lib/systemd/system)
# /etc/gitlab-runner (0700) and the gitlab-runner user are created by the package's
# postinst, as the official package does.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME glrunner)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "glrunner developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "GitLab Runner compatible runner written in C++")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "git, bash, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONFLICTS "gitlab-runner")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/packaging/postinst)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
