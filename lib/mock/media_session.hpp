// SPDX-License-Identifier: BSL-1.0
// Answers a request to `/media/...` on a connection: the file, or the fault its path names
// (media_files.hpp). Records the request and counts it (server_stats::media_*).
#pragma once

#include "server_core.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace velt::mock::detail {

/// The request type the session reads.
using media_http_request = boost::beast::http::request<boost::beast::http::string_body>;

/// Answers a media request on a TLS connection. Returns whether the connection can serve
/// another request.
boost::asio::awaitable<bool> serve_media(boost::asio::ssl::stream<boost::beast::tcp_stream>& stream,
                                         server_core& core, media_http_request const& req, bool keep_alive);
/// The same on a plain connection (server_options::tls false).
boost::asio::awaitable<bool> serve_media(boost::beast::tcp_stream& stream, server_core& core,
                                         media_http_request const& req, bool keep_alive);

}  // namespace velt::mock::detail
