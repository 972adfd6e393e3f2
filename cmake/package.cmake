# `cpack -G DEB` in the build folder: onair_VERSION_ARCH.deb with what cmake/install.cmake installs,
# under /usr (the config file under /etc), and ops/debian's maintainer scripts for the service user.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME onair)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "onair maintainers <onair@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "live broadcast backend: RTMP ingest; RTMP, HTTP-FLV, LL-HLS and DASH playback; VOD")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The install script (cmake/install_system_files.cmake) puts the config file in /etc: outside the
# prefix, which CPack allows only when it installs through DESTDIR.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/ops/debian/postinst
  ${PROJECT_SOURCE_DIR}/ops/debian/prerm
  ${PROJECT_SOURCE_DIR}/ops/debian/postrm
  ${PROJECT_SOURCE_DIR}/ops/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
