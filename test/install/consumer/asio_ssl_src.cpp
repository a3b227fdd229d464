// SPDX-License-Identifier: BSL-1.0
// The consumer's own Asio SSL (VELT_CONSUMER_ASIO=separate; see asio_src.cpp).
#include <boost/asio/ssl/impl/src.hpp>
