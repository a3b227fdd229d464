// SPDX-License-Identifier: BSL-1.0
// A Beast body type for responses: the body as a std::string, inflated as it arrives when
// the response says `Content-Encoding: gzip` (or `x-gzip`). The body-size limit applies to
// the inflated bytes, checked after every piece, so a decompression bomb fails while it is
// read and never holds more than the limit plus one inflate step. Any other content coding
// fails before a body byte is kept (the reader cannot decode it).
#pragma once

#include "client/gzip_inflater.hpp"

#include <velt/error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace velt::detail {

/// The content coding a response's `Content-Encoding` fields name, all of them joined.
struct content_coding {
  enum class kind { identity, gzip, unsupported } what = kind::identity;
  std::string name;  ///< as the server wrote it (lower case), for messages: "br", "gzip, gzip"
};

/// Reads the comma-separated codings of `field_values` (every Content-Encoding field,
/// joined with ","): none or `identity` → identity; exactly one `gzip` / `x-gzip` → gzip;
/// anything else (br, deflate, compress, zstd, stacked codings) → unsupported.
content_coding parse_content_coding(std::string_view field_values);

struct inflating_body {
  struct value_type {
    std::string data;  ///< the body, inflated
    /// Set before reading: the most body bytes kept (after inflating).
    std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
    content_coding coding;       ///< what the response said (set when its body starts)
    std::uint64_t coded_bytes = 0;  ///< body bytes as they came (before inflating)
    std::string failure;  ///< why reading the body failed, for the error message
  };

  static std::uint64_t size(value_type const& v) noexcept { return v.data.size(); }

  class reader {
   public:
    // Beast makes the reader with the parser, before any header is in: the coding is read
    // from the header in init(), when the body starts.
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>& h, value_type& b)
        : header_(&h), codings_(&codings_of<boost::beast::http::header<isRequest, Fields>>), body_(b) {}

    void init(boost::optional<std::uint64_t> const& length, boost::beast::error_code& ec);

    template <class ConstBufferSequence>
    std::size_t put(ConstBufferSequence const& buffers, boost::beast::error_code& ec) {
      std::size_t n = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer const b = *it;
        take({static_cast<char const*>(b.data()), b.size()}, ec);
        if (ec) return n;
        n += b.size();
      }
      return n;
    }

    void finish(boost::beast::error_code& ec);

   private:
    void take(std::string_view piece, boost::beast::error_code& ec);

    /// Every Content-Encoding field value of the header `h` points to, joined with ",".
    template <class Header>
    static std::string codings_of(void const* h) {
      auto const& header = *static_cast<Header const*>(h);
      std::string joined;
      auto [it, end] = header.equal_range(boost::beast::http::field::content_encoding);
      for (; it != end; ++it) {
        if (!joined.empty()) joined += ',';
        joined.append(it->value().data(), it->value().size());
      }
      return joined;
    }

    void const* header_;
    std::string (*codings_)(void const*);
    value_type& body_;
    std::optional<gzip_inflater> inflater_;
  };
};

}  // namespace velt::detail
