# SPDX-License-Identifier: BSL-1.0
# velt_set_warnings(<target>): the project's warning set, applied to project code only
# (Boost and OpenSSL headers live in system include directories and stay quiet).
function(velt_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 reports -Wmismatched-new-delete on Asio's coroutine frames (allocated through
    # a custom operator new) at -O1 and above: a known false positive, not a bug of ours.
    target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete)
  endif()
  if(VELT_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
