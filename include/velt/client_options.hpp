// SPDX-License-Identifier: BSL-1.0
// velt/client_options.hpp: configuration, statistics and logging of velt::client.
#pragma once

#include <velt/error.hpp>
#include <velt/model.hpp>
#include <velt/wire.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace velt {

using namespace std::chrono_literals;

/// Retries of failed requests (see README "Retries" for the full table).
///
/// A request is retried when the failure is retryable (`velt::is_retryable` of its canonical
/// status: connection failures, timeouts, HTTP 408/429/500/502/503/504, UNAVAILABLE,
/// RESOURCE_EXHAUSTED, ...), attempts remain and the retry budget allows it. The delay is
/// "full jitter": uniform in [0, min(max_backoff, initial_backoff * multiplier^(n-1))], and
/// never less than the server's `Retry-After` (clamped to `max_retry_after`).
struct retry_options {
  unsigned max_attempts = 6;  ///< attempts per request, the first included (1: no retries)
  /// Bound on the delay before the first retry (the delay is uniform below it).
  std::chrono::milliseconds initial_backoff = 200ms;
  /// Cap on that bound as it grows; a server's Retry-After may still ask for longer (up to
  /// `max_retry_after`).
  std::chrono::milliseconds max_backoff = 30s;
  /// Growth of the bound per retry; values below 1 count as 1.
  double multiplier = 2.0;
  std::chrono::milliseconds max_retry_after = 60s;  ///< cap on a server's Retry-After

  /// Client-wide retry budget (gRPC-style retry throttling): the bucket starts full with
  /// `budget_max_tokens`; each retryable failure takes one token, each success puts back
  /// `budget_token_ratio`; while the bucket holds no more than half its capacity, failures
  /// are not retried (they fail fast with `errc::retry_budget_exhausted`).
  /// Throttling answers that carry a Retry-After (the server's own pacing) take no token.
  /// `budget_max_tokens = 0` disables the budget.
  double budget_max_tokens = 100;
  /// Tokens each success puts back into the budget.
  double budget_token_ratio = 0.1;
};

/// Timeouts. Zero disables one.
struct timeout_options {
  std::chrono::milliseconds connect = 10s;    ///< TCP connect (all resolved addresses)
  std::chrono::milliseconds handshake = 10s;  ///< TLS handshake
  /// Whole request: writing it and reading the complete response. Velt documents that a
  /// page "may take a few seconds" and a delete call up to ~5 minutes.
  std::chrono::milliseconds request = 360s;
  /// No response byte for this long. For a delete (which Velt says may take ~5 minutes to
  /// answer), the wait for the first byte of the final response is bounded by `request`
  /// alone, also after a "102 Processing"; the limit runs between bytes once it has started.
  std::chrono::milliseconds idle_read = 120s;
};

/// Severity of a log line.
enum class log_level { debug, info, warning, error };

/// Receives log lines (never containing the API key or auth token). May be called from
/// any thread the client's executor runs on; must not block.
using log_function = std::function<void(log_level, std::string_view)>;

/// A failed attempt that the client is about to retry (see `client_options::on_retry`).
struct retry_event {
  /// Kept for source compatibility: the same enum as `velt::failure_kind`.
  using reason = failure_kind;
  failure_kind why;  ///< throttled, another retryable answer (5xx, ...), or no answer
  error_details const& error;        ///< the failure (attempts = the failed attempt's number)
  std::chrono::milliseconds delay;   ///< the backoff before the next attempt
};

/// Everything a client is made with.
struct client_options {
  std::string base_url = "https://api.velt.dev";  ///< scheme://host[:port], no path
  std::string api_key;                            ///< x-velt-api-key (secret)
  std::string auth_token;                         ///< x-velt-auth-token (secret)
  std::string ca_file;        ///< PEM CA bundle; empty: the system trust store
  bool allow_plain_http = false;  ///< permit an http:// base URL (tests, benchmarks)
  /// Which API version's paths requests use.
  api_version version = api_version::v2;

  /// The HTTP proxy requests go through (a CONNECT tunnel; TLS to the origin inside it, its
  /// certificate checked against the origin's name as without a proxy).
  /// `std::nullopt` (the default): from the environment as curl reads it, `https_proxy`,
  /// else `HTTPS_PROXY`, for an https:// `base_url` (a plain http:// one takes none from
  /// the environment). Empty: no proxy. Else `http://[user:password@]host[:port]` (port
  /// 1080 when none, as curl; a URL without a scheme is http://); the user name and
  /// password, percent-decoded, go to the proxy as `Proxy-Authorization: Basic` and never
  /// into a message or log line. https:// (TLS to the proxy) and SOCKS proxies are refused
  /// when the client is made (`errc::invalid_request`, naming the option or variable).
  std::optional<std::string> proxy;
  /// Hosts reached without the proxy (curl's NO_PROXY rules: comma or space separated
  /// names, domain suffixes with or without a leading dot, IP addresses, CIDR blocks, `*`
  /// for all). `std::nullopt`: `no_proxy`, else `NO_PROXY`, from the environment.
  /// Loopback is not excluded unless listed (as in curl).
  std::optional<std::string> no_proxy;

  std::size_t max_connections = 32;  ///< pool size per origin (connections open at once)
  std::chrono::milliseconds idle_connection_timeout = 30s;  ///< pooled idle connections expire

  /// Optional deadline for a whole page_stream / merged fetch (0: none).
  std::chrono::milliseconds stream_deadline = 0ms;

  /// Connect, handshake, whole-request and idle-read timeouts.
  timeout_options timeouts;
  /// Retries of failed requests (`client::retry_policy()` returns it).
  retry_options retry;
  wire::decode_limits limits;               ///< body size and JSON depth
  std::size_t max_header_bytes = 64u << 10; ///< response header block
  /// Ask for gzip-compressed responses (`Accept-Encoding: gzip`); off: `Accept-Encoding:
  /// identity`. Bodies are inflated as they arrive, and `limits.max_body_bytes` bounds the
  /// inflated size (a body that inflates past it fails with `errc::response_too_large`
  /// while it is read). A gzip body is decoded even when it was not asked for; any other
  /// content coding is `errc::unsupported_content_coding`. Pages are the same bytes either
  /// way (`page_format::raw` items included); compression trades client CPU for fewer
  /// bytes on the wire (see README "Compression").
  bool accept_gzip = true;
  /// Bytes of response bodies the pool reads at once, across all its connections (0: no
  /// bound). A response waits (within its deadline) for its Content-Length, or 1 MiB when
  /// the length is not announced, before its body is read: the connection stops reading and
  /// TCP holds the server back. With many connections and large pages this bounds memory
  /// whatever `max_connections` is. A body larger than the whole budget waits until it can
  /// have all of it.
  std::size_t max_buffered_response_bytes = 64u << 20;

  /// Where large response bodies are decoded (JSON validation, and in the parsed format the
  /// DOM). Empty: on the operation's own executor, the one that read the response. Set it
  /// to a thread pool's executor to keep an I/O thread free for other work while a page is
  /// decoded (a 650 KB page takes about 0.3 ms in `page_format::raw`, 1.7 ms parsed): the
  /// operation hops there for the decode and resumes on its own executor with the result.
  /// The executor must keep running while operations are in flight, and must be stopped
  /// and joined before the client's own execution context is destroyed (a decode that
  /// finishes hands its result to that context). A body waiting there for a decode thread
  /// still holds its share of `max_buffered_response_bytes` until it is decoded.
  std::optional<boost::asio::any_io_executor> decode_executor;
  /// Bodies smaller than this are decoded in place even with a `decode_executor`: the hop
  /// to another thread and back would cost more than the decode.
  std::size_t decode_elsewhere_min_bytes = 64u << 10;

  /// The User-Agent header of every request; non-empty, without control characters.
  std::string user_agent = "velt-gdpr-cpp/0.1";
  log_function log;  ///< empty: no logging
  /// Called before each retry's backoff (from the operation's strand; must not block).
  /// Lets a batch job slow down as a whole when the server throttles. May be empty.
  std::function<void(retry_event const&)> on_retry;
};

/// Options of one page stream (`client::async_fetch_all_user_data`).
struct fetch_options {
  /// How the stream delivers its pages' items.
  page_format format = page_format::parsed;
  /// Called before each retry of this stream's requests, after `client_options::on_retry`
  /// (on the stream's strand; must not block). Lets a batch run that shares the client
  /// with other work slow itself down when the server throttles it. May be empty.
  std::function<void(retry_event const&)> on_retry{};
  /// Attempts per request of this stream, the first included; 0: the client's
  /// `retry_options::max_attempts`. 1 hands every failure to the caller at once, for a
  /// caller that waits and retries on its own terms (`velt::batch_exporter` does: a batch
  /// run waits out throttling and outages instead of spending a retry budget).
  unsigned max_attempts = 0;
};

/// Polling of a deletion job by `client::async_wait_for_deletion`.
struct wait_for_deletion_request {
  /// The job to wait for (`delete_job::job_id`); required, non-empty.
  std::string job_id{};
  /// Time between two polls; must be positive (else `errc::invalid_request`).
  std::chrono::milliseconds poll_interval = 5s;
  std::chrono::milliseconds timeout = 24h;  ///< Velt documents up to 24 hours
  /// Called after each successful poll (on the operation's strand); may be empty.
  std::function<void(delete_status const&)> on_progress{};
};

/// Counters of one client (all its copies), since it was made.
struct client_stats {
  std::uint64_t requests = 0;          ///< HTTP requests sent (attempts, resends included)
  std::uint64_t responses = 0;         ///< complete HTTP responses received
  std::uint64_t retries = 0;           ///< attempts after the first, all reasons
  std::uint64_t retries_throttled = 0; ///< ... after 429 / RESOURCE_EXHAUSTED
  std::uint64_t retries_server = 0;    ///< ... after other retryable server answers (5xx, ...)
  std::uint64_t retries_transport = 0; ///< ... after connection failures and timeouts
  std::uint64_t stale_resends = 0;     ///< requests resent because a pooled connection was dead
  std::uint64_t budget_exhausted = 0;  ///< failures not retried because the budget was spent
  std::chrono::milliseconds time_throttled{0};  ///< summed backoff after throttling answers
  /// @var bytes_sent
  /// HTTP bytes written: request heads and bodies, every attempt (TLS records not counted).
  /// @var bytes_received
  /// HTTP bytes of responses read: heads and bodies, interim (1xx) responses included.
  std::uint64_t bytes_sent = 0, bytes_received = 0;
  /// @var responses_inflated
  /// Responses whose body came gzip-coded and was inflated.
  /// @var bytes_inflated
  /// Body bytes those responses inflated to (`bytes_received` counts them as they came).
  std::uint64_t responses_inflated = 0, bytes_inflated = 0;
  /// @var connections_opened
  /// Connections opened (counted once TCP is connected, before any TLS handshake).
  /// @var connections_reused
  /// Requests sent on an idle pooled connection instead of a new one.
  /// @var connections_closed
  /// Connections closed (after being opened), for any reason.
  std::uint64_t connections_opened = 0, connections_reused = 0, connections_closed = 0;
  /// @var tls_handshakes_full
  /// TLS handshakes that negotiated a new session.
  /// @var tls_handshakes_resumed
  /// TLS handshakes that resumed a session the client had cached.
  std::uint64_t tls_handshakes_full = 0, tls_handshakes_resumed = 0;
  std::uint64_t pages = 0;           ///< user-data pages decoded successfully
  std::size_t connections_open = 0;  ///< open now (idle and busy)
  std::size_t connections_idle = 0;  ///< idle in the pool now
  std::size_t connections_open_max = 0;  ///< the most ever open at once (≤ max_connections)
  /// Latency of successful requests, from sending to the complete response.
  /// `latency_p50` is the median; percentiles are read from buckets about 9 % wide (the
  /// upper edge of the one that holds them, at most `latency_max`).
  std::chrono::microseconds latency_p50{0}, latency_p90{0}, latency_p99{0}, latency_max{0};
  /// @var latency_p90
  /// The 90th percentile of the latency (see `latency_p50`).
  /// @var latency_p99
  /// The 99th percentile of the latency (see `latency_p50`).
  /// @var latency_max
  /// The longest latency seen.
};

}  // namespace velt
