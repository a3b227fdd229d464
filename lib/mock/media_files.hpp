// SPDX-License-Identifier: BSL-1.0
// The mock's media host: the paths `/media/<kind>/<key>.<ext>`, the deterministic bytes of
// every file (a real PNG, WAV and WebVTT; mp4/webm-looking bytes), the response heads, and
// the little state the faults need (which targets already had their 500, the recent
// requests). Sans-I/O; media_state is thread-safe.
#pragma once

#include <velt/mock/server.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace velt::mock::detail {

/// What a media path asks for: the kind is the second path segment.
enum class media_kind {
  ok,              ///< `/media/ok/...`: 200 with the file
  not_found,       ///< `/media/404/...`: 404
  slow,            ///< `/media/slow/...`: the file, 1 KiB per 200 ms (a pause before each part)
  big,             ///< `/media/big/...`: `Content-Length: 3 GiB`, zero bytes until the client goes
  big_chunked,     ///< `/media/bigchunked/...`: chunked, zero bytes until the client goes
  redirect_same,   ///< `/media/redirect-same/...`: 302 to `/media/ok/...` on the same origin
  redirect_other,  ///< `/media/redirect-other/...`: 302 to `https://localhost:PORT/media/ok/...`
  redirect_loop,   ///< `/media/redirect-loop/...`: 302 to itself
  error_then_ok,   ///< `/media/500-then-ok/...`: 500 the first time per target, then the file
};

/// The path segment of a kind: "ok", "404", "slow", "big", "bigchunked", "redirect-same",
/// "redirect-other", "redirect-loop", "500-then-ok".
std::string_view media_kind_segment(media_kind k) noexcept;

/// Every kind, in declaration order.
inline constexpr media_kind all_media_kinds[] = {
    media_kind::ok,           media_kind::not_found,      media_kind::slow,
    media_kind::big,          media_kind::big_chunked,    media_kind::redirect_same,
    media_kind::redirect_other, media_kind::redirect_loop, media_kind::error_then_ok};

/// A parsed media path.
struct media_path {
  media_kind kind = media_kind::ok;
  std::string key;  ///< [A-Za-z0-9_-]{1,64}
  std::string ext;  ///< [a-z0-9]{1,5}
};

/// Whether a request target (path, optionally with a query) is on the media host's path.
bool is_media_target(std::string_view target) noexcept;
/// `/media/<kind>/<key>.<ext>` (a query is ignored); nullopt for anything else.
std::optional<media_path> parse_media_path(std::string_view target);
/// `/media/<kind>/<key>.<ext>`.
std::string media_target(media_kind k, std::string_view key, std::string_view ext);

/// A file as the media host serves it.
struct media_file {
  std::string bytes;
  std::string_view content_type;
};

/// The file for `<key>.<ext>`, the same bytes in every process: `png` a valid 16x16 RGB PNG
/// of a key-derived colour; `wav` 0.5 s of 8 kHz 16-bit mono PCM (a key-derived tone);
/// `vtt` a WebVTT file of three cues; `srt` the same cues as SubRip; `mp4` an `ftyp` box and
/// a `free` box of key-derived bytes (not playable); `webm` an EBML header id and
/// key-derived bytes; anything else key-derived bytes (`application/octet-stream`).
media_file media_bytes(std::string_view key, std::string_view ext);

/// The bytes written for `big` and `big_chunked` before the server gives up on a client
/// that keeps reading (then it closes the connection).
inline constexpr std::uint64_t media_endless_cap = std::uint64_t{1} << 30;
/// The Content-Length `big` announces: 3 GiB.
inline constexpr std::uint64_t media_big_length = std::uint64_t{3} << 30;

/// An HTTP/1.1 response head: status line, `headers` in order, `Connection: keep-alive` or
/// `close`, the blank line.
std::string media_head(unsigned status, std::vector<std::pair<std::string, std::string>> const& headers,
                       bool keep_alive);

/// The recent media requests and the targets that have had their first answer.
class media_state {
 public:
  /// Keeps at most `capacity` requests.
  explicit media_state(std::size_t capacity) : capacity_(capacity) {}
  void record(media_request r);
  std::vector<media_request> snapshot() const;
  /// True the first time a target is seen (for `error_then_ok`).
  bool first_time(std::string const& target);
  /// Forgets the requests and the targets seen.
  void clear();

 private:
  std::size_t const capacity_;
  mutable std::mutex mutex_;
  std::deque<media_request> kept_;
  std::unordered_set<std::string> seen_;
};

}  // namespace velt::mock::detail
