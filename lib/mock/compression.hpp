// SPDX-License-Identifier: BSL-1.0
// gzip content coding of responses (server_options::gzip): whether a request accepts it,
// compressing a body, a cache of compressed page bodies (so that a benchmark measures the
// client, not the server's deflate), and the bodies of the content-coding faults.
#pragma once

#include "page_cache.hpp"

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace velt::mock::detail {

/// The deflate level the server compresses with: 1, the fastest; a page compresses about
/// as well at 1 as at 6 (repetitive JSON keys), and a benchmark wants the server cheap.
inline constexpr int gzip_level = 1;

/// Whether an `Accept-Encoding` value allows gzip (RFC 9110 §12.5.3): `gzip`, `x-gzip` or
/// `*` with a q-value above 0 (an explicit `gzip;q=0` refuses it even with `*`).
bool accepts_gzip(std::string_view accept_encoding);

/// `body` as one gzip member at `level`.
std::string gzip_compress(std::string_view body, int level = gzip_level);

/// A gzip member that inflates to 16 MiB of zero bytes (about 16 KiB), made once.
shared_body gzip_bomb();

/// Compressed copies of shared bodies (page bodies from the page cache), bounded LRU by
/// the bytes of the compressed copies. A body is known by its address and checked to be the
/// same object still alive (a weak pointer), so a freed and reused address never matches.
/// Thread-safe.
class gzip_cache {
 public:
  explicit gzip_cache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  /// The compressed `body`, from the cache or made and cached now.
  shared_body compressed(shared_body const& body);

 private:
  struct entry {
    std::weak_ptr<std::string const> original;
    shared_body gz;
    std::list<std::string const*>::iterator lru;
  };
  std::size_t const max_bytes_;
  std::mutex mutex_;
  std::unordered_map<std::string const*, entry> entries_;
  std::list<std::string const*> lru_;  // front: most recently used
  std::size_t bytes_ = 0;
};

}  // namespace velt::mock::detail
