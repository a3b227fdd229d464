# SPDX-License-Identifier: BSL-1.0
# The Debian package (CPack's DEB generator): velt-gdpr_<version>_<arch>.deb with everything
# `cmake --install` installs (velt-gdpr, velt-mock-server and their man pages, the libraries,
# headers, CMake package and velt.pc) under /usr, and usr/share/doc/velt-gdpr/copyright.
# scripts/package builds it from a Release tree; the package test (test/package) from the
# tree it runs in. `cpack --config CPackConfig.cmake` in a built tree makes it.
set(VELT_PACKAGE_MAINTAINER "velt-gdpr maintainers <maintainers@users.noreply.r-seed-3c26f72e.example>"
    CACHE STRING "Maintainer field of the Debian package (Name <address>)")

# The copyright file Debian policy asks for (machine-readable format): this project's
# license, and CLI11's, whose code is compiled into both programs and whose BSD license
# asks binaries to carry its notice (taken from libcli11-dev's own copyright file). Boost's
# headers are compiled in too, under this same license; libraries linked dynamically
# (OpenSSL, Boost.JSON/URL, fmt) carry their own in their packages.
file(READ "${PROJECT_SOURCE_DIR}/LICENSE" velt_license)
string(STRIP "${velt_license}" velt_license)
string(REGEX REPLACE "\n\n" "\n.\n" velt_license "${velt_license}")
string(REGEX REPLACE "\n\n" "\n.\n" velt_license "${velt_license}")
string(REPLACE "\n" "\n " velt_license "${velt_license}")
set(velt_copyright "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: velt-gdpr

Files: *
Copyright: velt-gdpr contributors
License: BSL-1.0
")
set(cli11_copyright "/usr/share/doc/libcli11-dev/copyright")
if(TARGET velt-gdpr AND EXISTS "${cli11_copyright}")
  file(READ "${cli11_copyright}" cli11)
  string(REGEX MATCH "\nLicense: BSD-3-clause\n( [^\n]*\n)+" cli11_license "${cli11}")
  string(REGEX MATCH "\nFiles: \\*\nCopyright: ([^\n]*)\n" cli11_holder "${cli11}")
  if(cli11_license AND cli11_holder)
    string(APPEND velt_copyright "
Files: usr/bin/velt-gdpr usr/bin/velt-mock-server
Comment: Both programs contain CLI11 (https://github.com/CLIUtils/CLI11), a header-only
 library, as compiled from Debian's libcli11-dev.
Copyright: ${CMAKE_MATCH_1}
License: BSD-3-clause
")
  else()
    message(WARNING "${cli11_copyright}: no BSD-3-clause paragraph found; the package's copyright file lacks CLI11's")
  endif()
endif()
string(APPEND velt_copyright "
License: BSL-1.0
 ${velt_license}
")
if(cli11_license)
  string(APPEND velt_copyright "${cli11_license}")
endif()
file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/copyright" CONTENT "${velt_copyright}")
install(FILES "${PROJECT_BINARY_DIR}/copyright" DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/velt-gdpr")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME velt-gdpr)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "velt-gdpr contributors")
set(CPACK_PACKAGE_CONTACT "${VELT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the programs; static libraries keep their symbols
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # velt-gdpr_0.1.0_amd64.deb
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)    # as Debian's own (the package test uses gzip: faster)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${VELT_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "command-line tool and C++20 SDK for Velt's GDPR REST API")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "velt-gdpr runs data-subject requests against Velt's GDPR REST API in batches:
export writes one JSON file per user (atomically, resumable after a crash, pacing
itself when throttled), erase queues deletion jobs, waits for them and verifies
that nothing is left, and demo shows both against an embedded local server.
velt-mock-server is that local Velt-compatible HTTPS server on its own.
.
The package also holds the C++20 SDK they are built on (velt::client,
velt::batch, velt::mock): headers, static libraries, a CMake package
(find_package(velt CONFIG)) and velt.pc; building against them needs the
recommended Boost and OpenSSL development packages.")
# Depends: what the programs load (dpkg-shlibdeps: libssl3, libboost-json1.81.0, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Recommends, not Depends: the programs run without them, and they are what building
# against the SDK needs (the headers include Boost.Asio/Beast/JSON/URL and OpenSSL's;
# veltConfig.cmake finds Boost json/url, OpenSSL and zlib). apt installs Recommends by default,
# so `apt-get install ./velt-gdpr_*.deb` gives a working SDK, and --no-install-recommends
# a CLI without some 200 MB of headers.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev, libssl-dev, zlib1g-dev")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake (>= 3.25), g++ (>= 4:12) | clang (>= 1:14), pkg-config")
include(CPack)
