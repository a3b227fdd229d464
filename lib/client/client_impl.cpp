// SPDX-License-Identifier: BSL-1.0
#include "client/client_impl.hpp"
#include "client/proxy.hpp"
#include "client/redaction.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <random>

namespace velt::detail {
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {
[[noreturn]] void refuse(std::optional<error_details> e) { throw velt::error(std::move(*e)); }

[[noreturn]] void refuse(std::string message) {
  refuse(make_error_details(make_error_code(errc::invalid_request), std::move(message)));
}

std::shared_ptr<asio::ssl::context> make_tls_context(client_options const& o) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  boost::system::error_code ec;
  if (o.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) refuse("the system trust store could not be loaded: " + ec.message());
  } else {
    ctx->load_verify_file(o.ca_file, ec);
    if (ec) refuse("ca_file '" + o.ca_file + "' could not be loaded: " + ec.message());
    // OpenSSL caches each certificate's decoded extensions on first use, and every
    // connection's chain check uses the trusted certificates. Decode them now, on one
    // thread, rather than in the first handshakes, which run on several at once.
    STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx->native_handle()));
    for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
      if (X509* cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i)); cert != nullptr)
        (void)X509_check_purpose(cert, -1, 0);
    }
  }
  return ctx;
}

double uniform01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

char const* level_name(failure_kind k) {
  switch (k) {
    case failure_kind::throttled: return "throttled";
    case failure_kind::server: return "server error";
    case failure_kind::transport: return "transport error";
  }
  return "error";
}
}  // namespace

client_impl::client_impl(asio::any_io_executor ex, client_options opts)
    : executor_(std::move(ex)), options_(std::move(opts)), budget_(options_.retry) {
  if (auto e = parse_origin(options_.base_url, options_.allow_plain_http, origin_)) refuse(e);
  if (auto e = validate_header_value("api_key", options_.api_key)) refuse(e);
  if (auto e = validate_header_value("auth_token", options_.auth_token)) refuse(e);
  if (auto e = validate_header_value("user_agent", options_.user_agent)) refuse(e);
  if (options_.max_connections == 0) refuse("max_connections must be at least 1");
  if (options_.decode_executor && !*options_.decode_executor)
    refuse("decode_executor is set but holds no executor");
  if (options_.retry.max_attempts == 0) refuse("retry.max_attempts must be at least 1");
  if (options_.limits.max_body_bytes == 0) refuse("limits.max_body_bytes must be positive");
  if (options_.limits.max_depth == 0) refuse("limits.max_depth must be positive");
  auth_token_ = std::make_shared<std::string const>(std::move(options_.auth_token));
  options_.auth_token.clear();
  if (options_.no_proxy)
    for (unsigned char c : *options_.no_proxy)
      if (c < 0x20 && c != '\t') refuse("no_proxy contains a control byte");
  proxy_choice route;
  if (auto e = choose_proxy(options_, origin_, process_environment(), route)) refuse(e);
  std::shared_ptr<asio::ssl::context> tls;
  if (origin_.tls) tls = make_tls_context(options_);
  std::optional<proxy_route> via;
  if (route.proxy) {
    proxy_password_ = route.proxy->password;
    log(log_level::debug, "requests go through the HTTP proxy " + route.proxy->authority + " (from " +
                              route.source + ")");
    std::string connect = connect_request(origin_, *route.proxy, options_.user_agent);
    via.emplace(proxy_route{std::move(*route.proxy), std::move(connect)});
  }
  pool_ = std::make_unique<connection_pool>(executor_, origin_, std::move(tls), options_,
                                            counters_, std::move(via));
}

void client_impl::set_auth_token(std::string token) {
  if (auto e = validate_header_value("auth_token", token)) refuse(e);
  auto fresh = std::make_shared<std::string const>(std::move(token));
  std::lock_guard lock(token_mutex_);
  auth_token_ = std::move(fresh);
}

void client_impl::redact(std::string& text) const {
  std::shared_ptr<std::string const> token;
  {
    std::lock_guard lock(token_mutex_);
    token = auth_token_;
  }
  // Each secret alone (redaction.hpp), the API key first.
  detail::redact(text, options_.api_key);
  detail::redact(text, *token);
  detail::redact(text, proxy_password_);
}

void client_impl::log(log_level level, std::string const& line) const {
  if (options_.log) options_.log(level, line);
}

request_type client_impl::make_request(wire::endpoint ep, std::string const& body) const {
  std::shared_ptr<std::string const> token;
  {
    std::lock_guard lock(token_mutex_);
    token = auth_token_;
  }
  request_type req{http::verb::post, wire::path(ep, options_.version), 11};
  req.set(http::field::host, origin_.host_header);
  req.set(http::field::user_agent, options_.user_agent);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  // gzip is the one coding the client decodes (inflating_body.hpp). Off, ask for none
  // (RFC 9110 §12.5.3), so that a gateway in front of the API does not compress.
  req.set(http::field::accept_encoding, options_.accept_gzip ? "gzip" : "identity");
  req.set("x-velt-api-key", options_.api_key);
  req.set("x-velt-auth-token", *token);
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  return req;
}

bool client_impl::after_failure(error_details& err, unsigned attempt, bool may_resend,
                                std::optional<clock_type::time_point> deadline,
                                std::chrono::milliseconds& delay, call_tuning const* tuning) {
  redact(err.message);
  retry_options retry = options_.retry;
  if (tuning && tuning->max_attempts > 0) retry.max_attempts = tuning->max_attempts;
  attempt_verdict const v = decide_attempt(retry, budget_, attempt, err, may_resend,
                                           deadline, clock_type::now(), uniform01());
  switch (v.what) {
    case attempt_verdict::kind::give_up:
    case attempt_verdict::kind::deadline:
      return false;
    case attempt_verdict::kind::budget_exhausted:
      counters_.add(counters_.budget_exhausted);
      log(log_level::warning, err.message);
      return false;
    case attempt_verdict::kind::retry:
      break;
  }
  delay = v.delay;
  counters_.add(counters_.retries);
  switch (v.failure) {
    case failure_kind::throttled:
      counters_.add(counters_.retries_throttled);
      counters_.add(counters_.throttled_ms, static_cast<std::uint64_t>(delay.count()));
      break;
    case failure_kind::server: counters_.add(counters_.retries_server); break;
    case failure_kind::transport: counters_.add(counters_.retries_transport); break;
  }
  if (options_.on_retry) options_.on_retry(retry_event{v.failure, err, delay});
  if (tuning && tuning->on_retry) tuning->on_retry(retry_event{v.failure, err, delay});
  log(log_level::info, std::string("retrying after ") + level_name(v.failure) + " in " +
                           std::to_string(delay.count()) + " ms (attempt " +
                           std::to_string(attempt) + "): " + describe_without_attempts(err));
  return true;
}

}  // namespace velt::detail
