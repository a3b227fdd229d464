# SPDX-License-Identifier: BSL-1.0
# cmake -P script (cmake/VeltManPage.cmake): PAGE (<program>.1.gz) from PROGRAM's --help and
# --version by HELP2MAN, NAME its one-line description, SUBCOMMANDS those whose --help
# becomes a section each, SEE_ALSO other pages; then GZIP -9n (no name or time stamp in the
# gzip header, so the same page gives the same bytes). help2man honours SOURCE_DATE_EPOCH
# for the page's date.
get_filename_component(program_name "${PROGRAM}" NAME)
set(work "${PAGE}.work")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")

# roff text that shows `text` as it is: backslashes escaped, no line taken for a request.
function(roff_verbatim text out)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

set(include "")
foreach(sub IN LISTS SUBCOMMANDS)
  execute_process(COMMAND "${PROGRAM}" ${sub} --help RESULT_VARIABLE rc OUTPUT_VARIABLE help ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${program_name} ${sub} --help failed (${rc}): ${err}")
  endif()
  roff_verbatim("${help}" help)
  if(include STREQUAL "")
    string(APPEND include "[SUBCOMMANDS]\n")
  endif()
  string(APPEND include ".SS \"${program_name} ${sub}\"\n.nf\n${help}.fi\n")
endforeach()
if(SEE_ALSO)
  string(APPEND include "[SEE ALSO]\n")
  set(sep "")
  foreach(other IN LISTS SEE_ALSO)
    string(REGEX REPLACE "^(.*)\\(([0-9])\\)$" ".BR \\1 (\\2)" ref "${other}")
    string(APPEND include "${sep}${ref}\n")
    set(sep ".br\n")
  endforeach()
endif()
file(WRITE "${work}/include.h2m" "${include}")

# A sanitizer build's leak check must not turn --help's exit status into a failure.
execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env ASAN_OPTIONS=detect_leaks=0
          "${HELP2MAN}" --no-info "--name=${NAME}" "--include=${work}/include.h2m"
          "--output=${work}/${program_name}.1" "${PROGRAM}"
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man ${PROGRAM} failed (${rc}): ${err}")
endif()
execute_process(COMMAND "${GZIP}" -9n -c "${work}/${program_name}.1" OUTPUT_FILE "${PAGE}.tmp" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip of ${program_name}.1 failed (${rc})")
endif()
file(RENAME "${PAGE}.tmp" "${PAGE}")
file(REMOVE_RECURSE "${work}")
