# SPDX-License-Identifier: BSL-1.0
# velt_add_man_page(<program target> NAME <one line> [SUBCOMMANDS <name>...] [SEE_ALSO <page>...]):
# <program>.1.gz in the build tree, made from the program's own --help and --version by
# help2man when the program is built (cmake/velt_man_page.cmake), with each subcommand's
# --help as a section of its own, gzip -9n as Debian policy asks; installed to
# share/man/man1. Does nothing, once with a note, when help2man is not installed
# (scripts/install-deps installs it; scripts/package needs it).
find_program(VELT_HELP2MAN help2man)
find_program(VELT_GZIP gzip)
if(NOT VELT_HELP2MAN OR NOT VELT_GZIP)
  message(STATUS "help2man or gzip not found: no man pages (scripts/install-deps installs help2man)")
endif()

function(velt_add_man_page target)
  cmake_parse_arguments(arg "" "NAME" "SUBCOMMANDS;SEE_ALSO" ${ARGN})
  if(NOT VELT_HELP2MAN OR NOT VELT_GZIP)
    return()
  endif()
  set(page "${CMAKE_CURRENT_BINARY_DIR}/${target}.1.gz")
  add_custom_command(OUTPUT "${page}"
    COMMAND "${CMAKE_COMMAND}" "-DPROGRAM=$<TARGET_FILE:${target}>" "-DNAME=${arg_NAME}"
            "-DSUBCOMMANDS=${arg_SUBCOMMANDS}" "-DSEE_ALSO=${arg_SEE_ALSO}"
            "-DHELP2MAN=${VELT_HELP2MAN}" "-DGZIP=${VELT_GZIP}" "-DPAGE=${page}"
            -P "${PROJECT_SOURCE_DIR}/cmake/velt_man_page.cmake"
    DEPENDS ${target} "${PROJECT_SOURCE_DIR}/cmake/velt_man_page.cmake"
    COMMENT "Man page of ${target} (help2man)"
    VERBATIM)
  add_custom_target(${target}_man_page ALL DEPENDS "${page}")
  install(FILES "${page}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
endfunction()
