# SPDX-License-Identifier: BSL-1.0
# cmake -P script: install, build a consumer against the installed package, run it; and
# check the package's version file: find_package(velt MAJOR.MINOR) of the version installed
# (VELT_VERSION) finds it, a later minor or a major of 9 does not.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step("install" ${CMAKE_COMMAND} --install "${VELT_BUILD_DIR}" --prefix "${prefix}")
foreach(f include/velt/client.hpp include/velt/wire.hpp include/velt/version.hpp
          lib/cmake/velt/veltConfig.cmake lib/cmake/velt/veltConfigVersion.cmake lib/pkgconfig/velt.pc)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
string(REGEX MATCH "^[0-9]+\\.[0-9]+" major_minor "${VELT_VERSION}")
string(REGEX MATCH "^[0-9]+" major "${VELT_VERSION}")
string(REGEX REPLACE "^[0-9]+\\.([0-9]+).*" "\\1" minor "${VELT_VERSION}")
math(EXPR next_minor "${minor} + 1")
if(major_minor STREQUAL "" OR major GREATER_EQUAL 9)
  message(FATAL_ERROR "VELT_VERSION '${VELT_VERSION}': expected MAJOR.MINOR.PATCH below 9")
endif()

# The package refuses what it is not compatible with: the configure step stops at
# find_package(velt ... REQUIRED) and says which version it has.
foreach(wanted 9 "${major}.${next_minor}")
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
         "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
run_step("build consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run_step("run consumer" "${WORK_DIR}/build/velt_consumer")
if(NOT step_output MATCHES "consumer ok: velt ${VELT_VERSION}:")
  message(FATAL_ERROR "unexpected consumer output: ${step_output}")
endif()
message(STATUS "${step_output}")
