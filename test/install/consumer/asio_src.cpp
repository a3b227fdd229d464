// SPDX-License-Identifier: BSL-1.0
// The consumer's own Asio, as Asio's documentation says to compile it
// (VELT_CONSUMER_ASIO=separate): this program defines Asio's functions itself, and must
// still link with velt::client, which must not define them a second time.
#include <boost/asio/impl/src.hpp>
