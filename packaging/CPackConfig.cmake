# CPack settings: `cd build && cpack -G DEB` makes ticketlab_<version>-1_<arch>.deb for
# Debian 12, `cpack -G TGZ` a relocatable tarball. What goes in is packaging/install.cmake.
set(CPACK_PACKAGE_NAME ticketlab)
set(CPACK_PACKAGE_VENDOR TicketLab)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(TICKETLAB_PACKAGE_MAINTAINER
    "TicketLab maintainers <maintainers@users.noreply.r-seed-0d0caa52.example>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${TICKETLAB_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Debian wants description lines of at most 80 characters: keep the line breaks.
set(CPACK_PACKAGE_DESCRIPTION
    "TicketLab finds lottery tickets in pre-trained BERT: sparse subnetworks that,
fine-tuned from the pre-trained weights, match the full model (Chen et al.,
NeurIPS 2020). It reads BERT from Hugging Face checkpoints, fine-tunes on the
GLUE tasks, pre-trains with masked-LM, runs iterative magnitude pruning with
rewinding and the paper's baselines, and keeps every experiment in an SQLite
database.")
if(TARGET ticketlab)
  string(APPEND CPACK_PACKAGE_DESCRIPTION "
This package holds the command-line tool ticketlab-cli and the Qt desktop
app ticketlab.")
else()
  string(APPEND CPACK_PACKAGE_DESCRIPTION "
This package holds the command-line tool ticketlab-cli (built without the
desktop app).")
endif()
if(NOT CPACK_GENERATOR)
  set(CPACK_GENERATOR "DEB;TGZ")
endif()
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

# Runtime dependencies on Debian 12. What the binaries link (LibTorch, ICU, zstd, SQLite,
# Qt, QCustomPlot) comes from dpkg-shlibdeps (package dpkg-dev), versioned from the
# libraries' shlibs files. Listed by hand, because the binaries need not link them:
#  - libopenblas0-pthread: LibTorch uses whatever libblas.so.3 the alternatives system
#    selects, and the reference BLAS is about 10x slower;
#  - libqt6svg6: Qt's SVG icon engine and image plugins, which draw the SVG icon (left to
#    dpkg-shlibdeps when the GUI links Qt6::Svg, so that it isn't listed twice).
set(ticketlab_deps_extra libopenblas0-pthread)
find_program(TICKETLAB_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(TARGET ticketlab)
  set(ticketlab_ui_libs "")
  if(TARGET ticketlab_ui)
    get_target_property(ticketlab_ui_libs ticketlab_ui LINK_LIBRARIES)
  endif()
  if(NOT TICKETLAB_DPKG_SHLIBDEPS OR NOT "Qt6::Svg" IN_LIST ticketlab_ui_libs)
    list(APPEND ticketlab_deps_extra libqt6svg6)
  endif()
endif()
if(TICKETLAB_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(ticketlab_deps ${ticketlab_deps_extra})
else()
  # Without dpkg-shlibdeps: the packages that hold the libraries the binaries link
  # (found with ldd and dpkg -S on Debian 12).
  set(ticketlab_deps libc6 libstdc++6 libgcc-s1 libtorch1.13 libicu72 libzstd1 libsqlite3-0
      ${ticketlab_deps_extra})
  if(TARGET ticketlab)
    list(APPEND ticketlab_deps libqt6core6 libqt6gui6 libqt6widgets6 libqt6printsupport6
         libqt6concurrent6 libqcustomplot2.1-qt6)
  endif()
endif()
list(JOIN ticketlab_deps ", " CPACK_DEBIAN_PACKAGE_DEPENDS)

include(CPack)
