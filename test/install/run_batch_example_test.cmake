# SPDX-License-Identifier: BSL-1.0
# cmake -P script: install, build examples/batch_export.cpp out of tree against the
# installed package with only find_package(velt CONFIG REQUIRED) and velt::batch, run it.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(step_rc "${rc}" PARENT_SCOPE)
  set(step_err "${err}" PARENT_SCOPE)
  if(NOT rc EQUAL 0 AND NOT what STREQUAL "run")
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

step("install" ${CMAKE_COMMAND} --install "${VELT_BUILD_DIR}" --prefix "${prefix}")
foreach(f include/velt/batch.hpp include/velt/batch_export.hpp include/velt/batch_erase.hpp)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(READ "${prefix}/lib/pkgconfig/velt.pc" pc)
if(NOT pc MATCHES "-lvelt_batch")
  message(FATAL_ERROR "velt.pc does not link velt_batch:\n${pc}")
endif()
step("configure" ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/build"
     -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
     -DCMAKE_BUILD_TYPE=Release "-DEXAMPLE_SOURCE=${EXAMPLE_SOURCE}"
     "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
step("build" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
# Without arguments the program prints its usage and exits 2 (it linked and started).
step("run" "${WORK_DIR}/build/app")
if(NOT step_rc EQUAL 2 OR NOT step_err MATCHES "usage: batch_export")
  message(FATAL_ERROR "unexpected: exit ${step_rc}, stderr: ${step_err}")
endif()
message(STATUS "batch_export built against the installed package")
