// SPDX-License-Identifier: BSL-1.0
// Sans-I/O tests of gzip decoding: the inflater fed in arbitrary pieces, the Content-Encoding
// rules, and the response body type inside a Beast parser (chunked framing, the inflated
// size limit and its memory bound).
#include "client/gzip_inflater.hpp"
#include "client/inflating_body.hpp"
#include "client/response_exchange.hpp"
#include "mock/compression.hpp"
#include "mock/delivery.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace velt::detail {
namespace {
namespace http = boost::beast::http;
using velt::mock::detail::gzip_compress;
using outcome = gzip_inflater::outcome;

std::string sample_json(std::size_t items) {
  std::string s = R"({"result":{"data":{"comments":[)";
  for (std::size_t i = 0; i < items; ++i) {
    if (i) s += ',';
    s += R"({"id":")" + std::to_string(i * 7919) + R"(","text":"caf\u00e9 )" + std::to_string(i) +
         R"(","t":1748972106739,"x":0.1})";
  }
  return s + "]}}}";
}

/// Inflates `gz` fed in pieces of `piece` bytes (0: random sizes from `seed`).
std::pair<outcome, std::string> inflate_in_pieces(std::string const& gz, std::size_t piece,
                                                  std::size_t limit = 1u << 30, unsigned seed = 1) {
  gzip_inflater z(limit);
  std::string out;
  std::mt19937 rng(seed);
  std::size_t pos = 0;
  while (pos < gz.size()) {
    std::size_t const n = piece != 0 ? piece : 1 + rng() % 700;
    auto const part = std::string_view(gz).substr(pos, n);
    pos += part.size();
    if (auto const o = z.feed(part, out); o != outcome::ok) return {o, out};
  }
  return {z.finish(), out};
}

TEST(ClientGzipUnit, InflatesWhateverThePieceSizes) {
  std::string const body = sample_json(2000);
  std::string const gz = gzip_compress(body);
  ASSERT_LT(gz.size() * 3, body.size());
  for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{4096}, gz.size()}) {
    auto const [o, out] = inflate_in_pieces(gz, piece);
    EXPECT_EQ(o, outcome::ok) << piece;
    EXPECT_TRUE(out == body) << "piece " << piece;
  }
  for (unsigned seed = 1; seed <= 20; ++seed) {
    auto const [o, out] = inflate_in_pieces(gz, 0, 1u << 30, seed);
    EXPECT_EQ(o, outcome::ok);
    EXPECT_TRUE(out == body) << "seed " << seed;
  }
}

TEST(ClientGzipUnit, ConcatenatedMembersAreOneBody) {
  std::string const a = sample_json(10), b = "tail of the body";
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{100000}}) {
    auto const [o, out] = inflate_in_pieces(gzip_compress(a) + gzip_compress(b), piece);
    EXPECT_EQ(o, outcome::ok);
    EXPECT_EQ(out, a + b);
  }
}

TEST(ClientGzipUnit, CorruptStreamsAreRefused) {
  std::string const gz = gzip_compress(sample_json(200));
  struct bad {
    std::string bytes;
    char const* why;
  };
  std::string crc = gz;
  crc[crc.size() - 8] ^= 0x01;
  std::string length = gz;
  length[length.size() - 1] ^= 0x01;
  std::string data = gz;
  data[gz.size() / 2] ^= 0x40;
  for (auto const& [bytes, why] : {bad{crc, "incorrect data check"}, bad{length, "incorrect length check"},
                                   bad{gz.substr(0, gz.size() / 2), "the gzip stream ends early"},
                                   bad{gz.substr(0, gz.size() - 1), "the gzip stream ends early"},
                                   bad{gz + "garbage", "incorrect header check"},
                                   bad{gz + std::string(1, '\x1f'), "the gzip stream ends early"},
                                   bad{"not gzip at all", "incorrect header check"},
                                   bad{data, nullptr}}) {
    for (std::size_t piece : {std::size_t{1}, bytes.size()}) {
      gzip_inflater z(1u << 30);
      std::string out;
      std::string_view rest = bytes;
      outcome o = outcome::ok;
      while (!rest.empty() && o == outcome::ok) {
        o = z.feed(rest.substr(0, piece), out);
        rest.remove_prefix(std::min(piece, rest.size()));
      }
      if (o == outcome::ok) o = z.finish();
      EXPECT_EQ(o, outcome::corrupt) << (why ? why : "flipped data bit") << " piece " << piece;
      if (why != nullptr) {
        EXPECT_EQ(z.error(), why);
      }
      EXPECT_EQ(z.feed("more", out), outcome::corrupt);  // a failure sticks
    }
  }
}

TEST(ClientGzipUnit, AnEmptyBodyIsAnEmptyBody) {
  gzip_inflater z(100);
  std::string out;
  EXPECT_EQ(z.feed("", out), outcome::ok);
  EXPECT_EQ(z.finish(), outcome::ok);
  EXPECT_TRUE(out.empty());
}

TEST(ClientGzipUnit, ABombStopsAtTheLimitWithBoundedMemory) {
  std::string const zeros(std::size_t{16} << 20, '\0');
  std::string const gz = gzip_compress(zeros, 9);
  ASSERT_LT(gz.size(), 32u << 10);
  std::size_t const limit = 1u << 20;
  for (std::size_t piece : {std::size_t{1}, std::size_t{512}, gz.size()}) {
    gzip_inflater z(limit);
    std::string out;
    std::size_t fed = 0;
    outcome o = outcome::ok;
    while (fed < gz.size() && o == outcome::ok) {
      o = z.feed(std::string_view(gz).substr(fed, piece), out);
      fed += piece;
      ASSERT_LE(out.capacity(), limit + gzip_inflater::inflate_step + 1) << "piece " << piece;
    }
    EXPECT_EQ(o, outcome::too_large) << piece;
    EXPECT_EQ(out.size(), limit + 1);  // one byte over proves it, no more is kept
    EXPECT_LT(z.bytes_in(), gz.size() / 8);  // refused early: most of the bomb never read
  }
  // Exactly at the limit is fine.
  auto const [o, out] = inflate_in_pieces(gzip_compress(std::string(limit, 'a')), 4096, limit);
  EXPECT_EQ(o, outcome::ok);
  EXPECT_EQ(out.size(), limit);
}

TEST(ClientGzipUnit, ContentEncodingRules) {
  using kind = content_coding::kind;
  EXPECT_EQ(parse_content_coding("").what, kind::identity);
  EXPECT_EQ(parse_content_coding("identity").what, kind::identity);
  EXPECT_EQ(parse_content_coding(" , identity ,").what, kind::identity);
  EXPECT_EQ(parse_content_coding("gzip").what, kind::gzip);
  EXPECT_EQ(parse_content_coding("GZip").what, kind::gzip);
  EXPECT_EQ(parse_content_coding("x-gzip").what, kind::gzip);
  EXPECT_EQ(parse_content_coding("identity, gzip ").what, kind::gzip);
  auto const br = parse_content_coding("br");
  EXPECT_EQ(br.what, kind::unsupported);
  EXPECT_EQ(br.name, "br");
  EXPECT_EQ(parse_content_coding("deflate").what, kind::unsupported);
  auto const stacked = parse_content_coding("gzip,gzip");
  EXPECT_EQ(stacked.what, kind::unsupported);
  EXPECT_EQ(stacked.name, "gzip, gzip");
  EXPECT_EQ(parse_content_coding("gzip, br").what, kind::unsupported);
}

TEST(ClientGzipUnit, ACodedBodyTakesAnEstimateOfItsInflatedSizeFromTheBudget) {
  std::size_t const budget = 64u << 20, mib = 1u << 20;
  EXPECT_EQ(body_budget_share(20000, budget, true, 64u << 20), mib);  // not its 20 KB on the wire
  EXPECT_EQ(body_budget_share(20000, budget, true, 300000), 300000u);  // never above the limit
  EXPECT_EQ(body_budget_share(5 * mib, budget, true, 64u << 20), 5 * mib);
  EXPECT_EQ(body_budget_share(std::nullopt, budget, true, 64u << 20), mib);
  EXPECT_EQ(body_budget_share(20000, budget, false, 64u << 20), 20000u);
}

/// A response with `headers` and `body` fed to a parser of inflating_body in `piece`-byte parts.
struct parsed_response {
  boost::beast::error_code ec;
  std::string body, failure;
  std::size_t capacity = 0;
  bool done = false;
};
parsed_response parse(std::string const& wire, std::size_t piece, std::size_t limit) {
  http::response_parser<inflating_body> p;
  p.eager(true);
  p.body_limit(limit);
  p.get().body().max_bytes = limit;
  parsed_response r;
  std::size_t pos = 0;
  std::string pending;
  while (pos < wire.size() || !pending.empty()) {
    if (pos < wire.size()) {
      pending.append(wire, pos, piece);
      pos += piece;
    }
    std::size_t const used = p.put(boost::asio::buffer(pending), r.ec);
    pending.erase(0, used);
    r.capacity = std::max(r.capacity, p.get().body().data.capacity());
    if (r.ec == http::error::need_more) {
      r.ec = {};
      if (pos >= wire.size()) break;
      continue;
    }
    if (r.ec || p.is_done()) break;
  }
  r.done = p.is_done();
  r.body = p.get().body().data;
  r.failure = p.get().body().failure;
  return r;
}

TEST(ClientGzipUnit, TheBodyTypeInflatesChunkedAndLengthFramedAnswers) {
  std::string const body = sample_json(500);
  std::string const gz = gzip_compress(body);
  std::string const framed = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                             std::to_string(gz.size()) + "\r\n\r\n" + gz;
  std::string const chunked = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" +
                              velt::mock::detail::chunk_frame(gz);
  for (auto const* wire : {&framed, &chunked}) {
    for (std::size_t piece : {std::size_t{1}, std::size_t{333}, wire->size()}) {
      auto const r = parse(*wire, piece, 64u << 20);
      EXPECT_FALSE(r.ec) << r.ec.message();
      EXPECT_TRUE(r.done);
      EXPECT_TRUE(r.body == body);
    }
  }
  // Identity answers go through untouched.
  auto const r = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 2, 100);
  EXPECT_EQ(r.body, "hello");
}

TEST(ClientGzipUnit, TheBodyTypeRefusesABombAtTheInflatedLimit) {
  std::string const gz = gzip_compress(std::string(std::size_t{16} << 20, '\0'), 9);
  std::string const wire = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                           std::to_string(gz.size()) + "\r\n\r\n" + gz;
  std::size_t const limit = 1u << 20;
  auto const r = parse(wire, 4096, limit);
  EXPECT_EQ(r.ec, http::error::body_limit);
  EXPECT_LE(r.capacity, limit + gzip_inflater::inflate_step + 1);
  EXPECT_EQ(r.failure, "gzip body: the inflated body exceeds 1048576 bytes");
}

TEST(ClientGzipUnit, TheBodyTypeRefusesOtherCodingsAndCorruptStreams) {
  auto const br = parse("HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc", 100, 100);
  EXPECT_EQ(br.ec, make_error_code(errc::unsupported_content_coding));
  EXPECT_EQ(br.failure, "unsupported Content-Encoding 'br' (the client decodes gzip only)");
  auto const twice = parse(
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", 100, 100);
  EXPECT_EQ(twice.ec, make_error_code(errc::unsupported_content_coding));
  std::string const gz = gzip_compress("{}");
  auto const cut = parse("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                             std::to_string(gz.size() - 4) + "\r\n\r\n" + gz.substr(0, gz.size() - 4),
                         100, 100);
  EXPECT_EQ(cut.ec, make_error_code(errc::malformed_response));
  EXPECT_EQ(cut.failure, "corrupt gzip body: the gzip stream ends early");
}

}  // namespace
}  // namespace velt::detail
