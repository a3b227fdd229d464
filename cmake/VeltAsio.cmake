# SPDX-License-Identifier: BSL-1.0
# velt_compile_asio_separately(<target>): the target's own translation units include Asio
# and Beast without their implementation (BOOST_ASIO_SEPARATE_COMPILATION,
# BOOST_BEAST_SEPARATE_COMPILATION), which keeps this project's build fast. PRIVATE on
# purpose: the installed targets pass nothing on, so a consumer compiles Asio as it likes
# (header-only, or its own boost/asio/impl/src.hpp); lib/asio/CMakeLists.txt says why both
# link. Code of this project only: every target that includes Asio gets it, and one that
# does not merely compiles slower (it is then a header-only consumer, which is supported).
function(velt_compile_asio_separately target)
  target_compile_definitions(${target} PRIVATE
    BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION)
endfunction()
