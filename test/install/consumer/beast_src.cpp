// SPDX-License-Identifier: BSL-1.0
// The consumer's own Beast (VELT_CONSUMER_ASIO=separate; see asio_src.cpp).
#include <boost/beast/src.hpp>
