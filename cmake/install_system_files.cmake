# Runs at install time (install(SCRIPT) from cmake/install.cmake), once the prefix is known:
# writes the systemd unit for the binary's installed path and installs the sample config file.
# In: ONAIR_UNIT_TEMPLATE, ONAIR_CONFIG_SAMPLE, ONAIR_STAGING_DIR, ONAIR_BINDIR, CMAKE_INSTALL_PREFIX.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(sysconfdir /etc)
else()
  set(sysconfdir ${CMAKE_INSTALL_PREFIX}/etc)
endif()
set(ONAIR_BINARY ${CMAKE_INSTALL_PREFIX}/${ONAIR_BINDIR}/onair)
set(ONAIR_CONFIG_FILE ${sysconfdir}/onair/onair.conf)

# One staging folder per destination: an install and a cpack run may overlap.
string(MD5 destination "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(unit ${ONAIR_STAGING_DIR}/${destination}/onair.service)
configure_file(${ONAIR_UNIT_TEMPLATE} ${unit} @ONLY)
file(INSTALL ${unit} DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL ${ONAIR_CONFIG_SAMPLE} DESTINATION ${sysconfdir}/onair RENAME onair.conf
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
