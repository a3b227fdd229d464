// SPDX-License-Identifier: BSL-1.0
#include "client/gzip_inflater.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <new>

namespace velt::detail {

struct gzip_inflater::stream {
  z_stream z{};
  bool ready = false;
  ~stream() {
    if (ready) inflateEnd(&z);
  }
};

gzip_inflater::gzip_inflater(std::size_t max_output)
    : z_(std::make_unique<stream>()), max_output_(max_output) {
  // 16 + MAX_WBITS: a gzip wrapper (header and CRC-32 / ISIZE trailer), nothing else; a
  // zlib or raw deflate stream is not what "gzip" names.
  if (inflateInit2(&z_->z, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  z_->ready = true;
}

gzip_inflater::~gzip_inflater() = default;

gzip_inflater::outcome gzip_inflater::fail(outcome o, std::string why) {
  failed_ = o;
  error_ = std::move(why);
  return o;
}

namespace {
// Makes room for `need` bytes in `out` without letting its capacity pass `cap`: a string
// left to grow by itself doubles, and could hold nearly twice the limit.
void grow(std::string& out, std::size_t need, std::size_t cap) {
  if (need <= out.capacity()) return;
  std::size_t const target = std::min(cap, std::max(need, out.capacity() * 2));
  if (target < out.capacity() * 2) {
    // libstdc++'s reserve() rounds a request below twice the capacity up to twice it:
    // move to a string of exactly `target` bytes instead.
    std::string bigger;
    bigger.reserve(target);
    bigger.append(out);
    out.swap(bigger);
  } else {
    out.reserve(target);
  }
}
}  // namespace

gzip_inflater::outcome gzip_inflater::feed(std::string_view in, std::string& out) {
  if (failed_ != outcome::ok) return failed_;
  z_stream& z = z_->z;
  std::size_t const cap = max_output_ + inflate_step + 1;
  while (!in.empty()) {
    if (!member_open_) member_open_ = true;  // bytes after a member start another one
    // zlib counts input in uInt: feed at most 1 GiB at a time.
    auto const piece = std::min<std::size_t>(in.size(), std::size_t{1} << 30);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(piece);
    for (;;) {
      // One byte past the limit proves the body is over it; never ask for more than that.
      std::size_t const room = max_output_ + 1 - std::min(out.size(), max_output_ + 1);
      std::size_t const step = std::min(inflate_step, room);
      std::size_t const before = out.size();
      grow(out, before + step, cap);
      out.resize(before + step);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      z.avail_out = static_cast<uInt>(step);
      int const rc = inflate(&z, Z_NO_FLUSH);
      out.resize(before + step - z.avail_out);
      if (out.size() > max_output_)
        return fail(outcome::too_large, "the inflated body exceeds " +
                                            std::to_string(max_output_) + " bytes");
      if (rc == Z_STREAM_END) {
        member_open_ = false;
        if (z.avail_in == 0) break;
        // Another member follows (or garbage, which its header check will find).
        inflateReset(&z);
        member_open_ = true;
        continue;
      }
      if (rc == Z_OK || rc == Z_BUF_ERROR) {
        // Z_BUF_ERROR: no progress possible; with input left that means the output was
        // full, which the next round gives room for.
        if (z.avail_in == 0 && z.avail_out != 0) break;
        if (rc == Z_BUF_ERROR && z.avail_out != 0)  // input and room, and yet no progress
          return fail(outcome::corrupt, "inflate made no progress");
        continue;
      }
      return fail(outcome::corrupt, z.msg != nullptr ? z.msg : "inflate error " + std::to_string(rc));
    }
    bytes_in_ += piece;
    in.remove_prefix(piece);
  }
  return outcome::ok;
}

gzip_inflater::outcome gzip_inflater::finish() {
  if (failed_ != outcome::ok) return failed_;
  if (member_open_) return fail(outcome::corrupt, "the gzip stream ends early");
  return outcome::ok;
}

}  // namespace velt::detail
