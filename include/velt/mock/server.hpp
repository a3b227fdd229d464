// SPDX-License-Identifier: BSL-1.0
// velt/mock/server.hpp: a local, Velt-compatible HTTPS server for tests, demos and benchmarks.
//
// It speaks the three GDPR endpoints (v1 and v2 paths) with the documented envelopes over
// HTTP/1.1 keep-alive on TLS 1.2+, serves a deterministic data set, and misbehaves on
// command (see `fault`). Start one in-process on an ephemeral port:
//
//   velt::mock::server srv{velt::mock::server_options{}};
//   // srv.url() == "https://127.0.0.1:PORT", trust srv.ca_file()
//
// Besides the API it answers `GET /_mock/stats` (no credentials needed; the counters of
// `server_stats` as JSON). Requests for a user the organization does not have (or for another
// organization) get a single empty last page (ending as data_profile::end says; "absent" when
// it is mixed), as do users whose deletion has completed (ending as that user's pages do).
// Page tokens stay valid after a deletion and then lead to that empty last page.
//
// With `data_profile::media_users` / `media_fault_users` it is also the media host of their
// items: `GET /media/KIND/KEY.EXT` without credentials (see `server`).
#pragma once

#include <velt/mock/options.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace velt::mock {

/// A snapshot of the server's counters. "Requests" are HTTP requests read from clients on
/// any path except `/_mock/...`, including those answered by a fault.
struct server_stats {
  /// HTTP requests read on any path but `/_mock/...`, refused and faulted ones included.
  std::uint64_t requests = 0;
  /// Connections accepted and served (those reset at accept during an outage count in
  /// `refused_outage` instead).
  std::uint64_t connections_accepted = 0;
  std::uint64_t handshakes_full = 0;      ///< TLS handshakes that created a session
  std::uint64_t handshakes_resumed = 0;   ///< TLS handshakes that resumed one (SSL_session_reused)
  /// TLS handshakes that failed or timed out.
  std::uint64_t handshake_failures = 0;
  std::uint64_t faults_injected = 0;      ///< all kinds together
  /// Connections open now.
  std::uint64_t active_connections = 0;
  /// The most connections open at once, since the start or `reset_stats()`.
  std::uint64_t max_active_connections = 0;
  std::uint64_t idle_closes = 0;          ///< connections closed by idle_timeout
  std::uint64_t pages_served = 0;         ///< get-user-data success bodies written in full
  std::uint64_t response_bytes = 0;       ///< HTTP bytes (head and body) written
  /// Answers compressed because `server_options::gzip` is on and the request's
  /// Accept-Encoding allowed gzip (content-coding faults not counted).
  std::uint64_t responses_gzip = 0;
  /// Requests refused by the limits of server_options (one counter per limit). Share refused:
  /// refused() / requests. refused_outage also counts connections reset at accept.
  std::uint64_t refused_rate = 0, refused_quota = 0, refused_concurrency = 0, refused_outage = 0;
  /// @var refused_quota
  /// Requests refused by `server_options::quota`.
  /// @var refused_concurrency
  /// Requests refused by `server_options::max_concurrent`.
  /// @var refused_outage
  /// Requests refused by `server_options::outage`, and connections reset at accept.

  /// Requests to `/media/...` (counted only here and in the two below, never in `requests`).
  std::uint64_t media_requests = 0;
  /// Body bytes of answers to media requests, counted as each write starts (so a client
  /// that has read an answer sees it counted).
  std::uint64_t media_bytes = 0;
  /// Media requests that carried any `x-velt-*` header (a Velt credential sent to a media
  /// host: a client must never do that).
  std::uint64_t media_requests_with_velt_headers = 0;

  /// All refusals: the four `refused_*` counters added up.
  std::uint64_t refused() const noexcept { return refused_rate + refused_quota + refused_concurrency + refused_outage; }
  /// Faults fired, per kind.
  std::map<fault_kind, std::uint64_t> faults_by_kind;
  /// Requests per endpoint (requests to other paths are counted only in `requests`).
  std::map<wire::endpoint, std::uint64_t> requests_by_endpoint;
  /// get-user-data requests per (user id, page index); page 0 is the request without a token.
  /// Requests with a token that does not verify are not counted here.
  std::map<std::pair<std::string, std::size_t>, std::uint64_t> page_requests;

  /// The `page_requests` of one page of one user (0 when none).
  std::uint64_t requests_for(std::string const& user_id, std::size_t page) const;
  /// The `page_requests` of every page of one user, added up.
  std::uint64_t requests_for_user(std::string const& user_id) const;
  /// The `faults_by_kind` of one kind (0 when none fired).
  std::uint64_t faults_of(fault_kind k) const;
  /// The `requests_by_endpoint` of one endpoint (0 when none).
  std::uint64_t requests_to(wire::endpoint e) const;
  /// The JSON that `GET /_mock/stats` returns: the scalar counters by name,
  /// "faults_by_kind": {kind: n}, "requests_by_endpoint": {"get"|"delete"|"status": n},
  /// "page_requests": {user: {"page": n}}.
  boost::json::object to_json() const;
};

/// One API request as the server read it (`server::recent_requests`).
struct recorded_request {
  /// Its number (1-based, since start or `server::reset_stats()`, as `fault::nth_request`
  /// counts).
  std::uint64_t number = 0;
  wire::endpoint endpoint = wire::endpoint::get_user_data;  ///< which of the three endpoints (either version)
  /// The body's `data` object as parsed: every member, known to the API or not (the server
  /// ignores the ones it does not know). Empty when the request was refused before its body
  /// was read (credentials) or the body held no `data` object.
  boost::json::object data;
};

/// One request to the media path, as it arrived (for tests of what a media client sends).
struct media_request {
  /// The request target (path and query).
  std::string target;
  /// Every header field, name and value, in the order received (names as sent).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// What the data set holds for one user (now: a completed deletion empties it).
struct user_summary {
  /// The user's id.
  std::string user_id;
  /// @var comments
  /// Items of `comments` (0 for a deleted user, as for the other features).
  /// @var reactions
  /// Items of `reactions`.
  /// @var recordings
  /// Items of `recordings`.
  /// @var notifications
  /// Items of `notifications`.
  std::size_t comments = 0, reactions = 0, recordings = 0, notifications = 0;
  std::size_t pages = 1;                   ///< pages a full export takes
  std::optional<std::size_t> empty_page;   ///< the page whose arrays are all empty, if any
  end_of_data end = end_of_data::absent;   ///< how its last page ends (never `mixed`)
  /// One of the `data_profile::heavy_users`.
  bool heavy = false;
  bool deleted = false;                    ///< a deletion job for the user has completed
  /// The four counts added up.
  std::size_t items() const noexcept { return comments + reactions + recordings + notifications; }
};

/// The server. Every member function is thread-safe.
///
/// The media host (for `data_profile::media_users` and `media_fault_users`): `GET
/// /media/KIND/KEY.EXT`, no credentials needed. KIND `ok` answers 200 with the
/// file's deterministic bytes (a 16x16 PNG, a 0.5 s WAV, a WebVTT or SRT file, mp4- and
/// webm-looking bytes; Content-Type and Content-Length set); the faults: `404`; `slow` (the
/// file, 1 KiB per 200 ms, a pause before each part); `big` (`Content-Length` 3 GiB, zero
/// bytes until the client closes, at most 1 GiB); `bigchunked` (the same, chunked);
/// `redirect-same` (302 to `/media/ok/...` on this origin); `redirect-other` (302 to
/// `https://localhost:PORT/media/ok/...`, the same server under another name);
/// `redirect-loop` (302 to itself); `500-then-ok` (500 the first time per target since the
/// start or `reset_stats()`, then the file). Other methods get 405, other paths 404. Media
/// requests take no part in faults, limits, request numbers or `server_stats::requests`.
class server {
 public:
  /// Binds, prepares TLS (generating certificates if needed) and starts serving on its own
  /// threads. Throws std::system_error / std::runtime_error / std::invalid_argument.
  explicit server(server_options opts);
  /// Stops and joins.
  ~server();
  server(server const&) = delete;
  server& operator=(server const&) = delete;

  /// "https://127.0.0.1:PORT" ("http://..." when tls is false).
  std::string url() const;
  /// `server_options::host`.
  std::string const& host() const noexcept;
  /// The port it listens on (the ephemeral one when `server_options::port` was 0).
  std::uint16_t port() const noexcept;
  /// PEM of the CA that signed the server certificate (the given ca_file with own certs).
  std::filesystem::path ca_file() const;
  /// `server_options::api_key`, the API key requests must carry.
  std::string const& api_key() const noexcept;
  /// `server_options::auth_token`, the auth token requests must carry.
  std::string const& auth_token() const noexcept;
  /// The organization with data, `data_profile::organization_id`.
  std::string const& organization_id() const noexcept;
  /// The options it was made with.
  server_options const& options() const noexcept;

  /// Every user of the data set, in order.
  std::vector<std::string> user_ids() const;
  /// Every user with counts, pages and end form.
  std::vector<user_summary> user_summaries() const;
  /// The merged `data` object of all pages of a user's export (feature -> array, every key
  /// any page carries), exactly as a client should reconstruct it. For an unknown user and
  /// after a completed deletion: the single empty page's arrays.
  boost::json::object expected_export(std::string const& user_id) const;
  /// How many pages a complete export of the user takes (1 for unknown or deleted users).
  std::size_t expected_pages(std::string const& user_id) const;
  /// The whole ground truth as one JSON file:
  /// `{"organizationId": "...", "users": {"user-0001": {data object}, ...}}`, numbers
  /// written exactly (shortest round-trip doubles).
  void write_expected_export(std::filesystem::path const& file) const;
  /// The response body of a page, byte for byte as served (0-based page index).
  std::string page_body(std::string const& user_id, std::size_t page) const;

  /// Faults can be changed while serving; they apply to requests read afterwards.
  void add_fault(fault f);
  /// Removes every fault (the latency of `set_latency` stays).
  void clear_faults();
  /// A latency applied to every request (replaces the previous one; 0, 0 removes it).
  void set_latency(std::chrono::milliseconds fixed, std::chrono::milliseconds jitter);

  /// A snapshot of the counters.
  server_stats stats() const;
  /// Zeroes every counter except active_connections, restarts the request numbering
  /// that `fault::nth_request` refers to, and forgets the recorded requests (media ones
  /// too, and which `500-then-ok` targets have had their 500).
  void reset_stats();

  /// The last `server_options::recorded_requests` API requests (on the three endpoints'
  /// paths, either version), oldest first: those answered by a fault or refused by a limit
  /// included, requests to `/_mock/...` not. Empty when recording is off.
  std::vector<recorded_request> recent_requests() const;
  /// The last 1000 media requests, oldest first, with every header (always recorded).
  std::vector<media_request> media_requests() const;

  /// Stops accepting, closes every connection and joins the threads. Idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace velt::mock
