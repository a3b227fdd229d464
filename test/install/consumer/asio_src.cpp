// SPDX-License-Identifier: BSL-1.0
// The consumer's own Asio, Asio SSL and Beast, as their documentation says to compile them
// (VELT_CONSUMER_ASIO=separate): this program defines every one of their functions itself,
// and must still link with velt::client, which must not define them a second time.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
