// SPDX-License-Identifier: BSL-1.0
// Fuzzes the client's gzip decoding of response bodies (lib/client/gzip_inflater).
//
// Input: [limit: 2 bytes, big-endian, × 64 + 1 inflated bytes][piece seed: 1 byte][the coded body: the rest]
#include "fuzz_support.hpp"

#include "client/gzip_inflater.hpp"

#include <zlib.h>

#include <string>

namespace {
using velt::detail::gzip_inflater;
using velt::fuzz::check;
using outcome = gzip_inflater::outcome;

struct result {
  outcome o = outcome::ok;
  std::string out, error;
  std::size_t max_capacity = 0;
};

/// Feeds `body` in pieces whose sizes follow `seed` (0: all at once), then finishes.
result inflate(std::string_view body, std::size_t limit, std::uint8_t seed) {
  gzip_inflater z(limit);
  result r;
  std::uint32_t state = seed;
  while (!body.empty() && r.o == outcome::ok) {
    std::size_t n = body.size();
    if (seed != 0) {
      state = state * 1103515245u + 12345u;
      n = 1 + (state >> 16) % 97;
    }
    auto const piece = body.substr(0, n);
    body.remove_prefix(piece.size());
    r.o = z.feed(piece, r.out);
    r.max_capacity = std::max(r.max_capacity, r.out.capacity());
  }
  if (r.o == outcome::ok) r.o = z.finish();
  r.error = z.error();
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  velt::fuzz::reader in(data, size);
  std::size_t const limit = std::size_t{in.u16()} * 64 + 1;
  std::uint8_t const seed = in.byte();
  std::string_view const body = in.rest();

  auto const whole = inflate(body, limit, 0);
  auto const pieces = inflate(body, limit, seed == 0 ? 1 : seed);
  // The piece sizes change nothing: same outcome, same bytes, same reason.
  check(whole.o == pieces.o, "the outcome depends on how the body was split");
  check(whole.error == pieces.error, "the failure depends on how the body was split");
  if (whole.o != outcome::corrupt) check(whole.out == pieces.out, "the bytes depend on how the body was split");
  for (auto const* r : {&whole, &pieces}) {
    check(r->max_capacity <= limit + gzip_inflater::inflate_step + 1, "the output grew past the limit and a step");
    if (r->o == outcome::ok) check(r->out.size() <= limit, "more than the limit accepted");
    if (r->o == outcome::too_large) check(r->out.size() == limit + 1, "refused at a size other than limit + 1");
    if (r->o != outcome::ok) check(!r->error.empty(), "a failure without a reason");
  }
  // A single-member body that was accepted is what zlib's own one-shot inflate makes of it.
  if (whole.o == outcome::ok && !body.empty()) {
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) == Z_OK) {
      std::string out(whole.out.size() + 1, '\0');
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
      z.avail_in = static_cast<uInt>(body.size());
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      int const rc = inflate(&z, Z_FINISH);
      bool const one_member = rc == Z_STREAM_END && z.avail_in == 0;
      out.resize(out.size() - z.avail_out);
      inflateEnd(&z);
      if (one_member) check(out == whole.out, "zlib's one-shot inflate disagrees");
    }
  }
  return 0;
}
