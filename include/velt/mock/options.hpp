// SPDX-License-Identifier: BSL-1.0
// velt/mock/options.hpp: what the local Velt-compatible server serves and how it misbehaves.
//
// Everything here is plain data plus the parsers the `velt-mock-server` program uses for its
// flags, so that a test, a benchmark and the program describe a server the same way.
#pragma once

#include <velt/wire.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// A local, Velt-compatible HTTPS server for tests, demos and benchmarks
/// (`velt::mock::server`, CMake target `velt::mock`), and the options that say what it
/// serves and how it misbehaves.
namespace velt::mock {

/// How the last page of a user's export says that there is no more data.
enum class end_of_data {
  absent,  ///< no `nextPageToken` key
  null,    ///< `"nextPageToken": null`
  empty,   ///< `"nextPageToken": ""`
  mixed,   ///< per user, deterministic: the n-th user (1-based) uses absent, null, empty
           ///< for n % 3 == 1, 2, 0 (user-0001 absent, user-0002 null, user-0003 "")
};

/// Which of the two documented success envelopes `POST .../users/data/delete` answers with.
enum class delete_envelope {
  status_code,  ///< HTTP 202, top level `{"status","message","data":{"jobId","tasksCount"},"statusCode":202}`
  result,       ///< HTTP 200, `{"result":{"status","message","data":{"jobId"}}}`
};

/// The deterministic data set of one organization. The same profile gives the same users,
/// items and page bytes, in every process, on every run.
///
/// User ids: `user_id(n)` for n = 1..users, i.e. "user-0001", "user-0002", ... (the 1-based
/// index zero-padded to at least four digits), followed by `unusual_user_ids` ids from a
/// fixed list of hostile-but-valid ids (spaces, Unicode, `/`, `+`, `%`, quotes, backslash).
///
/// Which users are heavy or empty: the last `heavy_users` regular users are heavy (each
/// feature gets `heavy_items` items, scaled per feature); of the others,
/// round(empty_user_fraction * users) chosen by the seed have no data at all; the rest get
/// a seeded count in [min_items, max_items] per feature. `server::user_summaries()` tells.
struct data_profile {
  /// Seeds every random choice: which users are empty, item counts and contents, and (unless
  /// `server_options::token_secret` is set) the page-token key; faults and job ids too.
  std::uint64_t seed = 1;
  std::string organization_id = "org-1";  ///< the one organization with data
  /// Regular users: `user_id(1)` to `user_id(users)`.
  std::size_t users = 20;
  /// @var min_items
  /// The fewest items per feature of a user that is neither heavy nor empty: each gets a
  /// seeded count from `min_items` to `max_items` (more than `max_items` throws
  /// std::invalid_argument when the server starts).
  std::size_t min_items = 0, max_items = 250;    ///< per user per feature
  double empty_user_fraction = 0.1;              ///< users with no data at all
  std::size_t heavy_users = 1;                   ///< users with thousands of items
  /// Heavy users' item count for "comments" (plus up to page_size); reactions get half,
  /// recordings a quarter, notifications 80 %, so features run out at different pages.
  std::size_t heavy_items = 2000;
  std::size_t page_size = 100;                   ///< items per feature per page (>= 1)
  /// How the users' last pages say that there is no more data.
  end_of_data end = end_of_data::mixed;
  bool extra_feature = false;  ///< also emit the undocumented feature "userProfiles" (on page 0)
  /// Some users (user-0003, user-0008, user-0013, ... when they have data) get one page whose
  /// arrays are all empty: alternately in the middle (with a token; when the user has at
  /// least two pages of data) and as the final page.
  bool empty_pages = true;
  /// Omit the arrays of features that have run out on pages after the first.
  bool omit_exhausted_features = false;
  std::size_t unusual_user_ids = 0;  ///< how many hostile-ish ids to append (at most 8)
  /// Users whose items carry media URLs on the server's own origin, appended after every
  /// other user (so no other user's data changes): "media-0001", "media-0002", ... Their
  /// comments get an image attachment, a voice comment and a recorder (video, audio,
  /// thumbnail), their recordings mp4/webm files and a WebVTT transcript, their reactions an
  /// icon, every user object an avatar: all served by `GET /media/ok/KEY.EXT`
  /// (see `server`). 2 to 6 items per feature, seeded. 0 (the default): none.
  std::size_t media_users = 0;
  /// Like `media_users` ("media-fault-0001", ... after them), and the first comment of each
  /// also holds one attachment per media fault (`/media/404/`, `slow`, `big`,
  /// `bigchunked`, `redirect-same`, `redirect-other`, `redirect-loop`, `500-then-ok`), an
  /// `http://` URL and a URL on `storage.example.com`.
  std::size_t media_fault_users = 0;
};

/// The n-th regular user id (1-based): `user_id(1) == "user-0001"`, `user_id(12345) == "user-12345"`.
std::string user_id(std::size_t n);

/// Every way the server can misbehave.
enum class fault_kind {
  latency,                ///< delay the response by `latency` + up to `jitter`
  throttle_429,           ///< HTTP 429, plain-text body (a gateway), `Retry-After: retry_after`
  http_error_json,        ///< `http_status` with a JSON error envelope (INTERNAL / UNAVAILABLE / DEADLINE_EXCEEDED; a 4xx: its status, e.g. 403 PERMISSION_DENIED for one user)
  http_error_html,        ///< `http_status` with an HTML body, as a gateway sends
  resource_exhausted,     ///< HTTP 429, `RESOURCE_EXHAUSTED` envelope, `Retry-After: retry_after`
  unavailable,            ///< `http_status` (default 503), `UNAVAILABLE` envelope
  close_before_response,  ///< the request is handled (a delete is queued!), the connection closed unanswered
  reset_mid_body,         ///< headers and part of the body, then a TCP RST
  truncated_body,         ///< Content-Length of the whole body, half of it sent, then a clean close
  malformed_json,         ///< HTTP 200 whose body is a cut-off prefix of the real one (request handled)
  slow_drip,              ///< the body trickles out: `drip_bytes` per write, `latency` (default 20 ms) between
  connection_close,       ///< `Connection: close` on the response, then the server closes
  chunked,                ///< `Transfer-Encoding: chunked` instead of Content-Length
  oversized_headers,      ///< extra headers `X-Mock-Padding-N` (values <= 4000 bytes) totalling `header_bytes`
  /// The following answer with the real status and headers, whatever the request's
  /// Accept-Encoding (request handled):
  gzip_bomb,              ///< `Content-Encoding: gzip`, a body of ~16 KiB that inflates to 16 MiB of zero bytes
  gzip_corrupt,           ///< `Content-Encoding: gzip`, the real body compressed, its CRC-32 wrong
  gzip_truncated,         ///< `Content-Encoding: gzip`, the first half of the compressed body (a complete HTTP message)
  unsupported_encoding,   ///< `Content-Encoding: br` on the real, uncompressed body
};

/// One scripted fault. A request matches when every filter that is set matches; then the
/// fault fires with `probability` (a deterministic draw from the seed, the fault and the
/// request number), at most `max_times` times. Latency faults add up; of the other kinds,
/// the first firing fault in insertion order acts. Requests to `/_mock/...` never match.
struct fault {
  /// What the fault does.
  fault_kind kind = fault_kind::latency;
  double probability = 1.0;                       ///< in [0, 1]
  std::optional<std::string> user_id{};             ///< requests naming this user (get: userId, delete: userIds)
  std::optional<std::size_t> page_index{};          ///< only get-user-data of this page (0: no token; else the token's)
  std::optional<std::uint64_t> nth_request{};       ///< only the n-th request (1-based, since start or reset_stats())
  std::optional<std::uint64_t> max_times{};         ///< stop after firing this many times
  std::optional<wire::endpoint> endpoint{};         ///< only this endpoint (either API version)
  /// @var latency
  /// For `latency`: the delay before the response, plus up to `jitter` drawn per request;
  /// for `slow_drip`: the pause between writes (0: 20 ms). Neither may be negative.
  std::chrono::milliseconds latency{0}, jitter{0};///< latency fault; slow_drip pause between writes
  unsigned http_status = 503;                     ///< http_error_json / http_error_html / unavailable
  /// throttle_429 / resource_exhausted: the Retry-After value sent verbatim ("N" seconds or an
  /// HTTP-date); "+N" sends the HTTP-date N seconds after the response; empty: no header.
  std::string retry_after = "1";
  std::size_t drip_bytes = 0;                     ///< slow_drip bytes per write (0: the body in 16 parts)
  std::size_t header_bytes = 100 * 1024;          ///< oversized_headers padding size
};

/// How a request refused by the rate limit is answered (always HTTP 429).
enum class rate_limit_answer {
  plain,        ///< plain-text body, no `Retry-After`
  retry_after,  ///< plain-text body, `Retry-After: N` with N the whole seconds until a token is free (>= 1)
  envelope,     ///< the `RESOURCE_EXHAUSTED` JSON envelope, no `Retry-After` (the wait is in the message)
};

/// A token bucket over all API requests. The bucket holds up to `burst` tokens and starts
/// full; it refills at `per_second` tokens per second; a request takes one token or is
/// refused. So `burst` requests may arrive at once, then one per 1/per_second seconds.
/// (Unlike nginx's limit_req, excess requests are never queued or delayed: `burst` is the
/// bucket's size, and the default 1 means no bursts at all.)
struct rate_limit {
  double per_second = 0;  ///< > 0
  std::size_t burst = 1;  ///< >= 1
  /// How a refused request is answered.
  rate_limit_answer answer = rate_limit_answer::retry_after;
};

/// A fixed window: at most `requests` API requests per `window`, windows counted from the
/// server's start. Over it: HTTP 429, the `RESOURCE_EXHAUSTED` envelope with the message
/// "Rate limit exceeded. Try again after 1 minute." (the window named: "1 minute",
/// "N minutes" for whole minutes, "1 second" / "N seconds" otherwise), no `Retry-After`.
struct request_quota {
  /// API requests admitted per window.
  std::uint64_t requests = 0;
  std::chrono::seconds window{60};  ///< >= 1 s
};

/// How requests beyond `server_options::max_concurrent` are answered (always HTTP 503).
enum class busy_answer {
  envelope,  ///< the `UNAVAILABLE` JSON envelope
  html,      ///< an nginx-style HTML page
};

/// What the server does during an outage.
enum class outage_mode {
  refuse,   ///< new connections are accepted and reset at once (RST); requests read on open
            ///< connections get the connection reset instead of an answer
  html503,  ///< every API request gets HTTP 503 with nginx's HTML page
};

/// A window of time, from the server's start, during which the service is down.
struct outage_window {
  /// @var start
  /// When the outage begins, counted from the server's start.
  /// @var duration
  /// How long it lasts.
  std::chrono::milliseconds start{0}, duration{0};
  /// What the server does during it.
  outage_mode mode = outage_mode::refuse;
};

/// How to start a server.
struct server_options {
  /// The IP address to listen on (an address, not a host name).
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0: an ephemeral port
  unsigned threads = 1;    ///< threads running the server's io_context
  bool tls = true;         ///< plain HTTP only when false (explicitly)
  /// PEM files. Empty cert_file/key_file: a throw-away CA and server certificate are generated
  /// at start-up and the CA is written to `work_dir/ca.pem`. ca_file is only reported.
  std::string cert_file, key_file, ca_file;
  /// @var key_file
  /// The private key of `cert_file` (PEM); the two are given together or not at all.
  /// @var ca_file
  /// With `cert_file` and `key_file`: the file `server::ca_file()` reports (never read).
  std::vector<std::string> cert_hosts = {"127.0.0.1", "localhost"};  ///< SANs of the generated cert
  bool cert_expired = false;  ///< the generated server certificate was valid only in the past
  /// @var api_key
  /// The API key every API request must carry (`x-velt-api-key`): without one it gets
  /// HTTP 400 INVALID_ARGUMENT, with another one 403 PERMISSION_DENIED.
  /// @var auth_token
  /// The auth token every API request must carry (`x-velt-auth-token`): without one it gets
  /// HTTP 400 INVALID_ARGUMENT, with another one 401 UNAUTHENTICATED.
  std::string api_key = "test-api-key", auth_token = "test-auth-token";
  /// The data set it serves.
  data_profile data;
  std::size_t delete_tasks = 3;                         ///< tasks per deletion job (0: done at once)
  std::chrono::milliseconds delete_task_duration{50};   ///< time each task takes
  /// The success envelope of Delete All User Data answers.
  delete_envelope delete_shape = delete_envelope::result;
  /// Close keep-alive connections idle this long without notice (no close_notify). 0: never.
  std::chrono::milliseconds idle_timeout{0};
  /// Faults from the start (`server::add_fault` adds more while it serves).
  std::vector<fault> faults;
  /// Where the generated CA file goes. Empty: a fresh directory under the system temp
  /// directory, removed again when the server is destroyed.
  std::filesystem::path work_dir;
  /// Bound on the cache of rendered page bodies (least recently used pages are dropped).
  /// With `gzip`, their compressed copies are cached too, within the same bound again.
  std::size_t page_cache_bytes = std::size_t{256} << 20;
  /// Answer API requests whose `Accept-Encoding` allows gzip with `Content-Encoding: gzip`
  /// (deflate level 1, the fastest), and send `Vary: Accept-Encoding` on every API answer.
  /// Off (the default): bodies always go as they are.
  bool gzip = false;
  /// Error envelopes for bad requests carry `"code": 500` while the HTTP status is 400, as
  /// one page of Velt's docs shows (the client must decide from `status`).
  bool mismatched_error_codes = false;
  /// Token signing key. Empty: derived from data.seed, so two servers with the same seed
  /// produce the same bytes (and accept each other's tokens).
  std::string token_secret;
  /// Limits of a real deployment. Requests to `/_mock/...` are never limited; a refused
  /// request still counts in `server_stats::requests` (and takes a request number), gets no
  /// fault, and counts in one `server_stats::refused_*` counter. Checked in the order outage,
  /// max_concurrent, rate_limit, quota; a request refused by one does not use up the others.
  std::optional<rate_limit> rate;
  /// A fixed-window quota; none: no quota.
  std::optional<request_quota> quota;
  /// More API requests than this being handled at once (read, not yet answered): HTTP 503.
  /// 0: no limit.
  std::size_t max_concurrent = 0;
  /// How requests over `max_concurrent` are answered.
  busy_answer busy = busy_answer::envelope;
  /// A scheduled outage; none: no outage.
  std::optional<outage_window> outage;
  /// Keep the `data` objects of the last this many API requests (`server::recent_requests`),
  /// for tests that check what a client sent. 0: none are kept (the default).
  std::size_t recorded_requests = 0;
  /// Receives one line per event (connections, requests, faults) when set, from the server's
  /// threads concurrently. Never given secrets.
  std::function<void(std::string_view)> logger;
};

/// `"throttle_429"` etc.: the enumerator's name.
std::string_view to_string(fault_kind k) noexcept;
/// The inverse of `to_string`: the value of exactly that name, else `std::nullopt`.
std::optional<fault_kind> fault_kind_from_string(std::string_view name) noexcept;
/// `"absent"`, `"null"`, `"empty"`, `"mixed"`.
std::string_view to_string(end_of_data e) noexcept;
/// The inverse of `to_string`: the value of exactly that name, else `std::nullopt`.
std::optional<end_of_data> end_of_data_from_string(std::string_view name) noexcept;
/// `"status_code"`, `"result"`.
std::string_view to_string(delete_envelope e) noexcept;
/// The inverse of `to_string`: the value of exactly that name, else `std::nullopt`.
std::optional<delete_envelope> delete_envelope_from_string(std::string_view name) noexcept;

/// `"plain"`, `"retry-after"`, `"envelope"`.
std::string_view to_string(rate_limit_answer a) noexcept;
/// The inverse of `to_string`: the value of exactly that name, else `std::nullopt`.
std::optional<rate_limit_answer> rate_limit_answer_from_string(std::string_view name) noexcept;
/// `"envelope"`, `"html"`.
std::string_view to_string(busy_answer a) noexcept;
/// The inverse of `to_string`: the value of exactly that name, else `std::nullopt`.
std::optional<busy_answer> busy_answer_from_string(std::string_view name) noexcept;
/// `"refuse"`, `"html503"`.
std::string_view to_string(outage_mode m) noexcept;
/// The inverse of `to_string`: the value of exactly that name, else `std::nullopt`.
std::optional<outage_mode> outage_mode_from_string(std::string_view name) noexcept;

/// `R[,BURST]`: R requests per second (a decimal, > 0), BURST >= 1 (default 1); answer
/// left at its default. Throws std::invalid_argument.
rate_limit parse_rate_limit(std::string_view spec);
/// `N/SECONDS`, such as `30/60`; SECONDS may carry a unit (`30/1m`, `5/10s`). Throws
/// std::invalid_argument.
request_quota parse_quota(std::string_view spec);
/// `START+DURATION` from the server's start, each a number with unit `ms`, `s` or `m`
/// (bare: seconds), such as `2s+4s`, `500ms+1.5s`; mode left at its default. Throws
/// std::invalid_argument.
outage_window parse_outage(std::string_view spec);
/// A duration as parse_outage reads it: `250ms`, `2s`, `1.5s`, `1m`, `3` (seconds).
std::chrono::milliseconds parse_duration(std::string_view text);

/// Parses a compact fault spec: comma-separated `key=value` pairs, the first may be a bare
/// kind. Keys: `kind`, `p` (probability), `user`, `page`, `nth`, `times` (max_times),
/// `endpoint` (`get` | `delete` | `status`), `latency` and `jitter` (milliseconds),
/// `status` (HTTP status), `retry_after` (as in `fault::retry_after`; `none` for no header),
/// `drip_bytes`, `header_bytes`. A value may be double-quoted to contain commas
/// (`retry_after="Wed, 21 Oct 2015 07:28:00 GMT"`).
/// Example: `throttle_429,p=0.1,retry_after=2` or `kind=reset_mid_body,user=user-0003,page=1`.
/// Throws std::invalid_argument naming the offending key.
fault parse_fault(std::string_view spec);

/// The spec form of a fault, accepted by parse_fault.
std::string to_string(fault const& f);

}  // namespace velt::mock
