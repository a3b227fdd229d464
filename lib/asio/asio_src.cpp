// SPDX-License-Identifier: BSL-1.0
// Asio's functions as weak, always-emitted inline definitions (see CMakeLists.txt here).
// BOOST_ASIO_SEPARATE_COMPILATION is set on the target (cmake/VeltAsio.cmake).
#include "emitted_decl.hpp"

#include <boost/asio/detail/config.hpp>

#undef BOOST_ASIO_DECL
#define BOOST_ASIO_DECL VELT_EMITTED_DECL

#include <boost/asio/impl/src.hpp>
