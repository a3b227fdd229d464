#include "client/client_impl.hpp"

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
  std::shared_ptr<asio::ssl::context> tls;
  if (origin_.tls) tls = make_tls_context(options_);
  pool_ = std::make_unique<connection_pool>(executor_, origin_, std::move(tls), options_,
                                            counters_);
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
  constexpr std::string_view mask = "[redacted]";
  constexpr std::string_view delimiters = " \t\r\n\"'<>";
  // The length of an encoding of `c` at the start of `s`, as a server re-encodes what it
  // echoes (JSON: \" \\ \/ \uXXXX; HTML: &quot; &apos; &lt; &gt; &amp; &#NN; &#xHH;), or 0.
  auto const encoded_length = [](std::string_view s, char c) -> std::size_t {
    int const want = static_cast<unsigned char>(c);
    auto const number = [](std::string_view digits, int base) {
      int v = 0;
      if (digits.empty() || digits.size() > 6) return -1;
      for (char d : digits) {
        int const x = d >= '0' && d <= '9'                  ? d - '0'
                      : base == 16 && d >= 'a' && d <= 'f' ? d - 'a' + 10
                      : base == 16 && d >= 'A' && d <= 'F' ? d - 'A' + 10
                                                           : -1;
        if (x < 0) return -1;
        v = v * base + x;
      }
      return v;
    };
    if (s.size() >= 2 && s[0] == '\\') {
      if (s[1] == c && (c == '"' || c == '\\' || c == '/')) return 2;
      if (s[1] == 'u' && s.size() >= 6 && number(s.substr(2, 4), 16) == want) return 6;
      return 0;
    }
    if (s.size() >= 4 && s[0] == '&') {
      auto const semi = s.substr(0, 10).find(';');
      if (semi == std::string_view::npos) return 0;
      std::string_view const name = s.substr(1, semi - 1);
      int value = -1;
      if (name.size() >= 2 && name[0] == '#')
        value = name[1] == 'x' || name[1] == 'X' ? number(name.substr(2), 16) : number(name.substr(1), 10);
      else if (name == "quot") value = '"';
      else if (name == "apos") value = '\'';
      else if (name == "lt") value = '<';
      else if (name == "gt") value = '>';
      else if (name == "amp") value = '&';
      return value == want ? semi + 1 : 0;
    }
    return 0;
  };
  // Whole occurrences, then anything that starts like a secret: the first 8 bytes of a
  // credential do not occur in messages by chance. From such a prefix, the mask covers
  // what matches the secret, also re-encoded (a JSON or HTML echo escapes quotes and angle
  // brackets). When that is not the whole secret (an excerpt cut it, or the server altered
  // it), the mask goes on to the next delimiter and, for a secret that itself contains a
  // delimiter (header values may hold spaces and quotes), over at least the secret's length
  // first, so that its tail is not left behind.
  constexpr std::size_t prefix_len = 8;
  for (std::string const* secret : {&options_.api_key, token.get()}) {
    if (secret->empty()) continue;
    for (auto pos = text.find(*secret); pos != std::string::npos; pos = text.find(*secret, pos + mask.size()))
      text.replace(pos, secret->size(), mask);
    if (secret->size() < prefix_len) continue;
    bool const has_delimiter = secret->find_first_of(delimiters) != std::string::npos;
    std::string_view const prefix(secret->data(), prefix_len);
    for (auto pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix, pos + mask.size())) {
      std::size_t end = pos, matched = 0;
      while (matched < secret->size() && end < text.size()) {
        std::size_t const n = text[end] == (*secret)[matched]
                                  ? 1
                                  : encoded_length(std::string_view(text).substr(end), (*secret)[matched]);
        if (n == 0) break;
        end += n;
        ++matched;
      }
      if (matched < secret->size()) {
        std::size_t from = end;
        if (has_delimiter) from = std::max(from, std::min(text.size(), pos + secret->size()));
        end = text.find_first_of(delimiters, from);
        if (end == std::string::npos) end = text.size();
      }
      text.replace(pos, end - pos, mask);
    }
  }
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
  // Bodies are read as they are: ask for no content coding (RFC 9110 §12.5.3), so that a
  // gateway in front of the API does not compress them.
  req.set(http::field::accept_encoding, "identity");
  req.set("x-velt-api-key", options_.api_key);
  req.set("x-velt-auth-token", *token);
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  return req;
}

bool client_impl::after_failure(error_details& err, unsigned attempt, bool may_resend,
                                std::optional<clock_type::time_point> deadline,
                                std::chrono::milliseconds& delay, retry_hook const* hook) {
  err.attempts = attempt;
  redact(err.message);
  if (canonical_status(err.code) == status::cancelled) return false;
  retry_decision const d =
      decide_retry(options_.retry, budget_, attempt, err, may_resend, uniform01());
  if (d.what == retry_decision::verdict::give_up) return false;
  if (d.what == retry_decision::verdict::budget_exhausted) {
    counters_.add(counters_.budget_exhausted);
    err.message = "retry budget exhausted, not retried; last error: " + err.to_string();
    err.code = make_error_code(errc::retry_budget_exhausted);
    err.status = canonical_status(err.code);
    log(log_level::warning, err.message);
    return false;
  }
  if (deadline && clock_type::now() + d.delay >= *deadline) {
    err.message = "deadline passes before the next retry; last error: " + err.to_string();
    err.code = make_error_code(errc::deadline_exceeded);
    err.status = canonical_status(err.code);
    return false;
  }
  delay = d.delay;
  counters_.add(counters_.retries);
  switch (d.kind) {
    case failure_kind::throttled:
      counters_.add(counters_.retries_throttled);
      counters_.add(counters_.throttled_ms, static_cast<std::uint64_t>(delay.count()));
      break;
    case failure_kind::server: counters_.add(counters_.retries_server); break;
    case failure_kind::transport: counters_.add(counters_.retries_transport); break;
  }
  if (options_.on_retry) options_.on_retry(retry_event{d.kind, err, delay});
  if (hook && *hook) (*hook)(retry_event{d.kind, err, delay});
  log(log_level::info, std::string("retrying after ") + level_name(d.kind) + " in " +
                           std::to_string(delay.count()) + " ms (attempt " +
                           std::to_string(attempt) + "): " + err.to_string());
  return true;
}

}  // namespace velt::detail
