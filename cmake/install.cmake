# `cmake --install` and the .deb (cmake/package.cmake): the binary, the browser assets it serves,
# a systemd unit and a commented config file.
#   PREFIX/bin/onair
#   PREFIX/share/onair/web/...           api/web's layout, what --web-dir expects
#   PREFIX/lib/systemd/system/onair.service
#   /etc/onair/onair.conf                (PREFIX/etc/onair/onair.conf unless PREFIX is /usr)
include(GNUInstallDirs)

install(TARGETS onair RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The browser assets, relative to api/web. Our own folders go whole; from npm only what the server
# reads (api/routes_docs.cpp) and the licence that comes with it. console: the web console's
# bundle (api/routes_console.cpp), which ops/deps builds from api/console with its licences.
set(ONAIR_WEB_DIRS docs console)
set(ONAIR_WEB_FILES
  node_modules/swagger-ui-dist/swagger-ui.css
  node_modules/swagger-ui-dist/swagger-ui-bundle.js
  node_modules/swagger-ui-dist/swagger-ui-standalone-preset.js
  node_modules/swagger-ui-dist/favicon-32x32.png
  node_modules/swagger-ui-dist/favicon-16x16.png
  node_modules/swagger-ui-dist/LICENSE
  node_modules/swagger-ui-dist/NOTICE)
set(ONAIR_INSTALL_WEBDIR ${CMAKE_INSTALL_DATADIR}/onair/web)
foreach(dir ${ONAIR_WEB_DIRS})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/api/web/${dir} DESTINATION ${ONAIR_INSTALL_WEBDIR})
endforeach()
foreach(file ${ONAIR_WEB_FILES})
  get_filename_component(sub ${file} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/api/web/${file} DESTINATION ${ONAIR_INSTALL_WEBDIR}/${sub})
endforeach()

# The server looks for its assets this way from its own executable (api/config.cpp), so an install
# works under any prefix; a build-tree binary finds nothing there and reads the source tree.
file(RELATIVE_PATH ONAIR_WEB_DIR_FROM_BINARY ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_DATADIR}/onair/web)
set_property(SOURCE ${PROJECT_SOURCE_DIR}/api/config.cpp TARGET_DIRECTORY onair_api APPEND PROPERTY
  COMPILE_DEFINITIONS ONAIR_WEB_DIR_FROM_BINARY="${ONAIR_WEB_DIR_FROM_BINARY}")

# The unit names the installed binary and config file, and both depend on the prefix given at
# install time (`--prefix`, or /usr when cpack installs): the unit is made then, and the config
# file goes to /etc for /usr as GNUInstallDirs puts SYSCONFDIR.
install(CODE "
  set(ONAIR_UNIT_TEMPLATE \"${PROJECT_SOURCE_DIR}/ops/systemd/onair.service.in\")
  set(ONAIR_CONFIG_SAMPLE \"${PROJECT_SOURCE_DIR}/ops/onair.conf.sample\")
  set(ONAIR_STAGING_DIR \"${PROJECT_BINARY_DIR}/install-staging\")
  set(ONAIR_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
")
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/install_system_files.cmake)
