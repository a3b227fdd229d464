# SPDX-License-Identifier: BSL-1.0
# The `docs` target: the API reference of include/velt/ as HTML (doxygen, docs/Doxyfile.in),
# in <build>/docs/html/index.html. Not built by default. Any doxygen warning, an
# undocumented public name among them, fails it. Without doxygen there is no such target.
find_package(Doxygen COMPONENTS doxygen)  # not dot: HAVE_DOT = NO
if(DOXYGEN_FOUND)
  configure_file("${PROJECT_SOURCE_DIR}/docs/Doxyfile.in" "${PROJECT_BINARY_DIR}/docs/Doxyfile" @ONLY)
  add_custom_target(docs
    COMMAND Doxygen::doxygen "${PROJECT_BINARY_DIR}/docs/Doxyfile"
    WORKING_DIRECTORY "${PROJECT_BINARY_DIR}/docs"
    COMMENT "API reference (doxygen): ${PROJECT_BINARY_DIR}/docs/html/index.html"
    VERBATIM)
else()
  message(STATUS "doxygen not found: no docs target (scripts/install-deps installs it)")
endif()
