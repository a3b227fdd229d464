// SPDX-License-Identifier: BSL-1.0
// Asio SSL's functions as weak, always-emitted inline definitions (see CMakeLists.txt
// here). Asio itself is declared first, as separately compiled (asio_src.cpp defines it),
// so that none of its functions is defined here.
#include "emitted_decl.hpp"

#include <boost/asio.hpp>

#undef BOOST_ASIO_DECL
#define BOOST_ASIO_DECL VELT_EMITTED_DECL

#include <boost/asio/ssl/impl/src.hpp>
