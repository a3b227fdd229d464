// SPDX-License-Identifier: BSL-1.0
// Beast's functions as weak, always-emitted inline definitions (see CMakeLists.txt here).
// Asio stays declared as separately compiled (BOOST_ASIO_DECL is left alone: asio_src.cpp
// and asio_ssl_src.cpp define it), so none of its functions is defined here.
#include "emitted_decl.hpp"

#include <boost/beast/core/detail/config.hpp>

#undef BOOST_BEAST_DECL
#define BOOST_BEAST_DECL VELT_EMITTED_DECL

#include <boost/beast/src.hpp>
