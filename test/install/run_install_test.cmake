# SPDX-License-Identifier: BSL-1.0
# cmake -P script: install, build a consumer against the installed package, run it; and
# check the package's version file: find_package(velt MAJOR.MINOR) of the version installed
# (VELT_VERSION) finds it, a later minor or a major of 9 does not (CHECK_VERSIONS).
#
# ASIO_MODE is how the consumer compiles Asio and Beast: header-only, or separate (it
# compiles their src.hpp itself: all three, and in a second program Asio's alone). With NM, checks what makes both link into one correct
# program: the installed archives define none of Asio's or Beast's functions or objects
# strongly (a program with its own boost/asio/impl/src.hpp would get "multiple definition"),
# and the linked consumer holds one instance of each error category (two would make
# `ec == boost::asio::error::eof` false across them).
# LIBRARY_COMPILER_ID: the nm checks hold for a library built by g++ only (clang 14 gets
# plain weak definitions, lib/asio/emitted_decl.hpp); building and running still apply.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
if(NM AND NOT LIBRARY_COMPILER_ID STREQUAL "GNU")
  message(STATUS "nm checks skipped: the library was built by ${LIBRARY_COMPILER_ID}, not g++ "
                 "(lib/asio/emitted_decl.hpp)")
  set(NM "")
endif()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# nm's listing of a file (arguments before it) into ${WORK_DIR}/nm.txt: large, read by lines.
function(nm_to_file)
  execute_process(COMMAND "${NM}" ${ARGN} RESULT_VARIABLE rc OUTPUT_FILE "${WORK_DIR}/nm.txt" ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm ${ARGN} failed (${rc}): ${err}")
  endif()
endfunction()

run_step("install" ${CMAKE_COMMAND} --install "${VELT_BUILD_DIR}" --prefix "${prefix}")
foreach(f include/velt/client.hpp include/velt/wire.hpp include/velt/version.hpp include/velt/audit.hpp
          lib/cmake/velt/veltConfig.cmake lib/cmake/velt/veltConfigVersion.cmake lib/pkgconfig/velt.pc)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
if(NM)
  file(GLOB archives "${prefix}/lib/*.a")
  if(NOT archives)
    message(FATAL_ERROR "no static library installed in ${prefix}/lib")
  endif()
  foreach(archive IN LISTS archives)
    nm_to_file(--defined-only "${archive}")
    # Global symbols in namespace boost::asio / boost::beast (functions, vtables, typeinfo,
    # function-local statics): weak (W, V) and unique (u) ones are allowed, strong ones not.
    file(STRINGS "${WORK_DIR}/nm.txt" strong REGEX " [A-TX-Z] _Z(T[VIS]|GVZ|GV|Z)?N5boost(4asio|5beast)")
    if(strong)
      list(LENGTH strong n)
      list(SUBLIST strong 0 5 some)
      list(JOIN some "\n" some)
      message(FATAL_ERROR "${archive} defines ${n} Asio/Beast symbols strongly, e.g.:\n${some}")
    endif()
  endforeach()
endif()

string(REGEX MATCH "^[0-9]+\\.[0-9]+" major_minor "${VELT_VERSION}")
string(REGEX MATCH "^[0-9]+" major "${VELT_VERSION}")
string(REGEX REPLACE "^[0-9]+\\.([0-9]+).*" "\\1" minor "${VELT_VERSION}")
math(EXPR next_minor "${minor} + 1")
if(major_minor STREQUAL "" OR major GREATER_EQUAL 9)
  message(FATAL_ERROR "VELT_VERSION '${VELT_VERSION}': expected MAJOR.MINOR.PATCH below 9")
endif()

# The package refuses what it is not compatible with: the configure step stops at
# find_package(velt ... REQUIRED) and says which version it has.
set(refused_versions 9 "${major}.${next_minor}")
if(NOT CHECK_VERSIONS)
  set(refused_versions)
endif()
foreach(wanted IN LISTS refused_versions)
  set(build "${WORK_DIR}/refused-${wanted}")
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
                          -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
                          -DVELT_WANTED_VERSION=${wanted}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "find_package(velt ${wanted} CONFIG) found the installed ${VELT_VERSION}:\n${out}")
  endif()
  if(NOT err MATCHES "${VELT_VERSION}")
    message(FATAL_ERROR "find_package(velt ${wanted} CONFIG) failed without naming ${VELT_VERSION}:\n${err}")
  endif()
endforeach()

run_step("configure consumer" ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/build"
         -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
         -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DVELT_WANTED_VERSION=${major_minor}
         -DVELT_CONSUMER_ASIO=${ASIO_MODE}
         "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
run_step("build consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
set(consumers velt_consumer)
if(ASIO_MODE STREQUAL "separate")
  list(APPEND consumers velt_consumer_own_asio_only)
endif()
foreach(consumer IN LISTS consumers)
  run_step("run ${consumer}" "${WORK_DIR}/build/${consumer}")
  if(NOT step_output MATCHES "consumer ok: velt ${VELT_VERSION} \\(Asio ${ASIO_MODE}\\)")
    message(FATAL_ERROR "unexpected output of ${consumer}: ${step_output}")
  endif()
  if(NM)
    nm_to_file(-C "${WORK_DIR}/build/${consumer}")
    foreach(category "boost::asio::error::get_misc_category()::instance"
                     "boost::asio::error::get_ssl_category()::instance"
                     "boost::asio::ssl::error::get_stream_category()::instance"
                     "boost::beast::http::make_error_code(boost::beast::http::error)::cat")
      string(REGEX REPLACE "([().])" "\\\\\\1" pattern "${category}")
      file(STRINGS "${WORK_DIR}/nm.txt" found REGEX " [a-zA-Z] ${pattern}$")
      list(LENGTH found n)
      if(NOT n EQUAL 1)
        list(JOIN found "\n" found)
        message(FATAL_ERROR "${consumer} holds ${n} instances of ${category} (one expected):\n${found}")
      endif()
    endforeach()
  endif()
  message(STATUS "${consumer}: ${step_output}")
endforeach()
