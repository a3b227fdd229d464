# SPDX-License-Identifier: BSL-1.0
# cmake -P script (test/package/CMakeLists.txt): the Debian package of VELT_BUILD_DIR, made
# by CPack into WORK_DIR, checked with dpkg-deb, unpacked into WORK_DIR/root and used from
# there. No network, no root, nothing outside WORK_DIR changes.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(root "${WORK_DIR}/root")
string(TIMESTAMP started "%s")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

function(expect what text pattern)
  if(NOT text MATCHES "${pattern}")
    message(FATAL_ERROR "${what}: expected to match '${pattern}':\n${text}")
  endif()
endfunction()

# `text` as a regular expression that matches exactly it.
function(regex_escape text out)
  string(REGEX REPLACE "([][.*+?^$()|\\])" "\\\\\\1" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(elapsed what)
  string(TIMESTAMP now "%s")
  math(EXPR s "${now} - ${started}")
  message(STATUS "${what} (${s} s)")
endfunction()

# 1. The package, from the installed tree of this build. gzip: the test wants the package's
# contents, not xz's ratio, and gzip is several times faster on a Debug build's 150 MB.
run_step("cpack" "${CPACK}" --config "${VELT_BUILD_DIR}/CPackConfig.cmake" -B "${WORK_DIR}/out"
         -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip)
file(GLOB debs "${WORK_DIR}/out/velt-gdpr_${VELT_VERSION}_*.deb")
list(LENGTH debs n)
if(NOT n EQUAL 1)
  file(GLOB all "${WORK_DIR}/out/*")
  message(FATAL_ERROR "expected one velt-gdpr_${VELT_VERSION}_<arch>.deb, found: ${all}")
endif()
set(deb "${debs}")
file(SIZE "${deb}" deb_size)
elapsed("built ${deb}, ${deb_size} bytes")

# 2. Control fields. Depends comes from dpkg-shlibdeps (the shared libraries the programs
# load), Recommends names what building against the SDK needs.
run_step("dpkg-deb --info" "${DPKG_DEB}" --info "${deb}")
set(info "${step_output}")
expect("Package" "${info}" "\n Package: velt-gdpr\n")
expect("Version" "${info}" "\n Version: ${VELT_VERSION}\n")
expect("Maintainer" "${info}" "\n Maintainer: [^\n]+ <[^\n]+@[^\n]+>\n")
expect("Section" "${info}" "\n Section: [a-z]+\n")
expect("Description" "${info}" "\n Description: [^\n]+\n  velt-gdpr runs")
string(REGEX MATCH "\n Depends: ([^\n]*)" depends "${info}")
foreach(lib libc6 libstdc\\+\\+6 libssl3 libboost-json1\\.81\\.0 libboost-url1\\.81\\.0)
  expect("Depends (dpkg-shlibdeps)" "${depends}" "[ ,]${lib} \\(>= ")
endforeach()
string(REGEX MATCH "\n Recommends: ([^\n]*)" recommends "${info}")
foreach(dev libboost1\\.81-dev libboost-json1\\.81-dev libboost-url1\\.81-dev libssl-dev)
  expect("Recommends" "${recommends}" "[ ,]${dev}(,|$)")
endforeach()

# 3. Contents: what a user reaches for, under /usr only, owned by root.
run_step("dpkg-deb --contents" "${DPKG_DEB}" --contents "${deb}")
set(contents "${step_output}")
foreach(f usr/bin/velt-gdpr usr/bin/velt-mock-server
          usr/share/man/man1/velt-gdpr.1.gz usr/share/man/man1/velt-mock-server.1.gz
          usr/include/velt/client.hpp usr/include/velt/batch.hpp usr/include/velt/version.hpp
          usr/include/velt/mock/server.hpp
          usr/lib/libvelt_client.a usr/lib/libvelt_batch.a usr/lib/libvelt_mock.a
          usr/lib/cmake/velt/veltConfig.cmake usr/lib/cmake/velt/veltConfigVersion.cmake
          usr/lib/cmake/velt/veltTargets.cmake usr/lib/pkgconfig/velt.pc
          usr/share/doc/velt-gdpr/copyright)
  string(REPLACE "+" "\\+" pattern "${f}")
  expect("dpkg-deb --contents" "${contents}" " \\./${pattern}\n")
endforeach()
string(REGEX MATCHALL " \\./[^\n]*" paths "${contents}")
foreach(p IN LISTS paths)
  if(NOT p MATCHES "^ \\./(usr/)?$" AND NOT p MATCHES "^ \\./usr/(bin|include|lib|share)/")
    message(FATAL_ERROR "installed outside /usr/{bin,include,lib,share}:${p}")
  endif()
endforeach()
string(REGEX MATCHALL "\n[-dl][rwxs-]+ [^ ]+" owners "${contents}")
foreach(o IN LISTS owners)
  if(NOT o MATCHES " root/root$")
    message(FATAL_ERROR "a file not owned by root/root:${o}")
  endif()
endforeach()
string(REGEX MATCH "\n-[rwxs-]+ [^\n]* \\./usr/bin/velt-gdpr\n" bin_line "${contents}")
expect("velt-gdpr is executable" "${bin_line}" "^\n-rwxr-xr-x ")

# 4. Unpacked, the programs run from there: they link the libraries statically, and Depends
# covers what they load (so no LD_LIBRARY_PATH).
run_step("dpkg-deb -x" "${DPKG_DEB}" -x "${deb}" "${root}")
foreach(program velt-gdpr velt-mock-server)
  run_step("${program} --version" "${root}/usr/bin/${program}" --version)
  expect("${program} --version" "${step_output}" "^${program} ${VELT_VERSION}\n")
endforeach()
execute_process(COMMAND "${root}/usr/bin/velt-gdpr" demo --users 20 --out "${WORK_DIR}/demo" --progress never
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "verified +([0-9]+) of ([0-9]+) files match" OR
   NOT CMAKE_MATCH_1 EQUAL CMAKE_MATCH_2 OR CMAKE_MATCH_1 LESS 20)
  message(FATAL_ERROR "velt-gdpr demo (exit ${rc}) did not verify every file:\n${out}")
endif()
if(NOT EXISTS "${WORK_DIR}/demo/report.json")
  message(FATAL_ERROR "velt-gdpr demo wrote no ${WORK_DIR}/demo/report.json")
endif()
elapsed("velt-gdpr --version and demo ran from ${root}/usr/bin")

# 5. The man page renders (man, else groff; else this one check is skipped, saying why).
set(page "${root}/usr/share/man/man1/velt-gdpr.1.gz")
if(MAN)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env MANWIDTH=80 MANPAGER=cat PAGER=cat "${MAN}" -l "${page}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE rendered ERROR_VARIABLE err)
  set(renderer "man -l")
elseif(GROFF AND GZIP)
  execute_process(COMMAND "${GZIP}" -dc "${page}" COMMAND "${GROFF}" -man -Tutf8
                  RESULT_VARIABLE rc OUTPUT_VARIABLE rendered ERROR_VARIABLE err)
  set(renderer "groff -man -Tutf8")
endif()
if(renderer)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${renderer} ${page} failed (${rc}): ${err}")
  endif()
  # groff may embolden by overstriking (X, backspace, X) when it does not write to a
  # terminal, and in a UTF-8 locale writes - as a Unicode hyphen or minus: match around both.
  string(ASCII 8 backspace)
  string(REGEX REPLACE ".${backspace}" "" rendered "${rendered}")
  expect("${renderer} velt-gdpr.1.gz" "${rendered}" "NAME\n +velt[^\n]+gdpr [^\n]+ export and erase")
  expect("${renderer} velt-gdpr.1.gz" "${rendered}" "SUBCOMMANDS\n +velt[^\n]+gdpr export\n")
  expect("${renderer} velt-gdpr.1.gz" "${rendered}" "SEE ALSO\n +velt[^\n]+mock[^\n]+server\\(1\\)")
  message(STATUS "the man page renders (${renderer})")
else()
  message(STATUS "man page rendering not checked: neither man nor groff (with gzip) is installed")
endif()

# 6. A CMake consumer against <root>/usr (test/install/consumer: find_package(velt CONFIG),
# velt::client and velt::mock, an export over TLS), and velt.pc with pkg-config.
set(build "${WORK_DIR}/consumer")
run_step("configure consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
         -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_PREFIX_PATH=${root}/usr" -DCMAKE_BUILD_TYPE=Release
         "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
file(STRINGS "${build}/CMakeCache.txt" velt_dir REGEX "^velt_DIR:")
regex_escape("${root}" root_re)
expect("the consumer's velt package" "${velt_dir}" "=${root_re}/usr/lib/cmake/velt$")
run_step("build consumer" "${CMAKE_COMMAND}" --build "${build}")
run_step("run consumer" "${build}/velt_consumer")
expect("consumer" "${step_output}" "^consumer ok: velt ${VELT_VERSION} ")
elapsed("test/install's consumer built against ${root}/usr and ran")

if(PKG_CONFIG)
  file(WRITE "${WORK_DIR}/pc/main.cpp" "// SPDX-License-Identifier: BSL-1.0\n"
       "#include <velt/version.hpp>\n#include <string>\n"
       "int main() { return velt::version() == std::string(VELT_VERSION_STRING) ? 0 : 1; }\n")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${root}/usr/lib/pkgconfig"
                          "${PKG_CONFIG}" --cflags --libs velt
                  RESULT_VARIABLE rc OUTPUT_VARIABLE flags ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags --libs velt failed (${rc}): ${err}")
  endif()
  expect("pkg-config velt" "${flags}" "-I${root_re}/usr/lib/pkgconfig/\\.\\./\\.\\./include")
  if(flags MATCHES "SEPARATE_COMPILATION")
    message(FATAL_ERROR "velt.pc imposes how Asio is compiled: ${flags}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  separate_arguments(cxx_flags UNIX_COMMAND "${CXX_FLAGS} ${LINKER_FLAGS}")
  run_step("build with pkg-config" "${CXX_COMPILER}" ${cxx_flags} "${WORK_DIR}/pc/main.cpp" ${flags}
           -o "${WORK_DIR}/pc/app")
  run_step("run the pkg-config program" "${WORK_DIR}/pc/app")
  message(STATUS "a program built with pkg-config's flags for velt ran")
else()
  message(STATUS "velt.pc not checked: pkg-config is not installed")
endif()
# Passed: keep the package, drop the bulky copies of its tree (CPack's staging, the root).
file(REMOVE_RECURSE "${WORK_DIR}/out/_CPack_Packages" "${root}" "${WORK_DIR}/demo")
elapsed("the package checks passed")
