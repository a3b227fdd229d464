# velt_set_warnings(<target>): the project's warning set, applied to project code only
# (Boost and OpenSSL headers live in system include directories and stay quiet).
function(velt_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(VELT_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
