// SPDX-License-Identifier: BSL-1.0
// Incremental gzip decoding of a response body (Content-Encoding: gzip), sans-I/O: bytes go
// in as they arrive, in pieces of any size, and the inflated bytes are appended to a string
// that never holds more than the configured limit (plus one byte, which proves the body is
// over it). A decompression bomb is refused while it is being inflated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace velt::detail {

class gzip_inflater {
 public:
  /// Inflated bytes are produced in steps of at most this many; the output string's
  /// capacity never exceeds `max_output + inflate_step + 1`.
  static constexpr std::size_t inflate_step = 16 * 1024;

  enum class outcome {
    ok,         ///< all input consumed (more may follow)
    too_large,  ///< the inflated body exceeds `max_output` (nothing more is accepted)
    corrupt,    ///< not gzip, bad CRC or length, trailing garbage (`error()` says which)
  };

  /// `max_output`: the most inflated bytes accepted in all (the body-size limit).
  explicit gzip_inflater(std::size_t max_output);
  ~gzip_inflater();
  gzip_inflater(gzip_inflater const&) = delete;
  gzip_inflater& operator=(gzip_inflater const&) = delete;

  /// Inflates `in` (the next bytes of the coded body) and appends the result to `out`.
  /// Several gzip members one after the other (RFC 1952 §2.2) are inflated in turn; bytes
  /// after a member that do not start another one are `corrupt`. After a failure, every
  /// further call fails the same way.
  outcome feed(std::string_view in, std::string& out);

  /// The coded body ended: `ok` when it ended with a complete member (or was empty),
  /// `corrupt` when a member was cut short.
  outcome finish();

  /// Why the last call failed, e.g. "invalid stored block lengths", "incorrect data check",
  /// "the gzip stream ends early".
  std::string const& error() const noexcept { return error_; }

  /// Coded bytes consumed so far.
  std::uint64_t bytes_in() const noexcept { return bytes_in_; }

 private:
  struct stream;
  outcome fail(outcome o, std::string why);

  std::unique_ptr<stream> z_;
  std::size_t max_output_;
  std::uint64_t bytes_in_ = 0;
  bool member_open_ = false;  ///< a member has started and not ended
  outcome failed_ = outcome::ok;
  std::string error_;
};

}  // namespace velt::detail
