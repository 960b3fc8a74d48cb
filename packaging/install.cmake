# Install rules: `cmake --install build` and the packages CPack makes
# (packaging/CPackConfig.cmake). Included from the top-level CMakeLists.txt after the
# targets exist.
include(GNUInstallDirs)

# `make install` and cpack (which runs the preinstall target) would otherwise build every
# target first, tests and benchmarks included: build ticketlab-cli and ticketlab, then package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(TICKETLAB_APP_ID io.github.ticketlab.TicketLab)
# The date of the release PROJECT_VERSION names, for the AppStream metadata: bump it
# together with project(VERSION).
set(TICKETLAB_RELEASE_DATE 2026-11-29)

install(TARGETS ticketlab-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# share/doc/<package name>, Debian's place (CMAKE_INSTALL_DOCDIR would say TicketLab).
set(TICKETLAB_INSTALL_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/ticketlab)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${TICKETLAB_INSTALL_DOCDIR})
foreach(license_file LICENSE LICENSE.md LICENSE.txt COPYING)
  if(EXISTS ${PROJECT_SOURCE_DIR}/${license_file})
    install(FILES ${PROJECT_SOURCE_DIR}/${license_file} DESTINATION ${TICKETLAB_INSTALL_DOCDIR})
  endif()
endforeach()

if(TARGET ticketlab)
  install(TARGETS ticketlab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/${TICKETLAB_APP_ID}.desktop
          DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${PROJECT_SOURCE_DIR}/resources/ticketlab.svg
          DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${TICKETLAB_APP_ID}.metainfo.xml.in
                 ${PROJECT_BINARY_DIR}/packaging/${TICKETLAB_APP_ID}.metainfo.xml @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/packaging/${TICKETLAB_APP_ID}.metainfo.xml
          DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)

  # The validators (Debian packages desktop-file-utils and appstream) are skipped with a
  # message where they are not installed, and fail under TICKETLAB_REQUIRE_DATA (CI).
  if(TICKETLAB_BUILD_TESTS)
    set(_validator ${CMAKE_CURRENT_LIST_DIR}/run-validator.sh)
    add_test(NAME packaging_desktop_file
             COMMAND ${_validator} desktop-file-validate ${CMAKE_CURRENT_LIST_DIR}/${TICKETLAB_APP_ID}.desktop)
    add_test(NAME packaging_metainfo
             COMMAND ${_validator} appstreamcli validate --no-net
                     ${PROJECT_BINARY_DIR}/packaging/${TICKETLAB_APP_ID}.metainfo.xml)
    set_tests_properties(packaging_desktop_file packaging_metainfo PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endif()
