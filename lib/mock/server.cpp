// SPDX-License-Identifier: BSL-1.0
#include <velt/mock/server.hpp>

#include "certificates.hpp"
#include "http_session.hpp"
#include "json_writer.hpp"
#include "rng.hpp"
#include "server_core.hpp"
#include "text_corpus.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

// g++ 12 reports a false -Wmismatched-new-delete for Asio's awaitable frames when optimising
// (the frame's operator new and delete are a matching pair).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace velt::mock {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace detail {

std::string token_secret_for(server_options const& o) {
  if (!o.token_secret.empty()) return o.token_secret;
  return "velt-mock-token-key-" + make_id(hash_combine(o.data.seed, 0x70ce), 32);
}

server_core::server_core(server_options o, std::string own_origin)
    : opts(std::move(o)),
      origin(std::move(own_origin)),
      data(opts.data, origin),
      signer(token_secret_for(opts)),
      pages(data, signer, opts.page_cache_bytes),
      jobs(opts.data.seed, opts.data.organization_id, opts.delete_tasks, opts.delete_task_duration),
      handler(api_handler::config{opts.api_key, opts.auth_token, opts.delete_shape, opts.mismatched_error_codes},
              data, signer, pages, jobs),
      faults(opts.data.seed),
      limits(opts, started) {
  for (auto const& f : opts.faults) faults.add(f);
}

namespace {

asio::awaitable<void> accept_loop(std::shared_ptr<server_core> core, tcp::acceptor acceptor) {
  for (;;) {
    tcp::socket socket(asio::make_strand(acceptor.get_executor()));
    auto [ec] = co_await acceptor.async_accept(socket, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;  // e.g. too many open files: drop this one, keep accepting
    }
    if (core->limits.refuses_connections(std::chrono::steady_clock::now())) {
      boost::system::error_code ignored;
      socket.set_option(asio::socket_base::linger(true, 0), ignored);  // close sends a RST
      socket.close(ignored);
      core->stats.refused(&server_stats::refused_outage);
      core->log("connection reset: outage");
      continue;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, serve_connection(core, std::move(socket)), asio::detached);
  }
}

void configure_tls(asio::ssl::context& ctx, server_options const& o, std::filesystem::path const& ca_out) {
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  static constexpr unsigned char session_context[] = "velt-mock";
  SSL_CTX_set_session_id_context(native, session_context, sizeof session_context - 1);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(native, 4096);
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (o.cert_file.empty() || o.key_file.empty()) {
      throw std::invalid_argument("cert_file and key_file must be given together");
    }
    ctx.use_certificate_chain_file(o.cert_file);
    ctx.use_private_key_file(o.key_file, asio::ssl::context::pem);
    return;
  }
  auto const certs = detail::generate_certificates(o.cert_hosts, o.cert_expired);
  ctx.use_certificate_chain(asio::buffer(certs.cert_pem));
  ctx.use_private_key(asio::buffer(certs.key_pem), asio::ssl::context::pem);
  std::ofstream out(ca_out, std::ios::binary | std::ios::trunc);
  out << certs.ca_pem;
  out.close();
  if (!out) throw std::runtime_error("cannot write the CA certificate to " + ca_out.string());
}

std::string origin_of(server_options const& o, std::uint16_t port) {
  std::string const host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  return (o.tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "velt-mock-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  return pattern;
}

}  // namespace
}  // namespace detail

struct server::impl {
  std::shared_ptr<detail::server_core> core;
  std::unique_ptr<asio::io_context> ioc;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  std::filesystem::path ca_file;
  std::filesystem::path owned_dir;  // removed on destruction
  std::mutex stop_mutex;
  bool stopped = false;
};

server::server(server_options opts) : impl_(std::make_unique<impl>()) {
  if (opts.threads == 0) throw std::invalid_argument("server_options.threads must be at least 1");
  auto& m = *impl_;
  try {
    // Bound first: the media users' URLs carry the server's own origin.
    m.ioc = std::make_unique<asio::io_context>(static_cast<int>(opts.threads));
    tcp::acceptor acceptor(*m.ioc);
    tcp::endpoint const ep(asio::ip::make_address(opts.host), opts.port);
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(asio::socket_base::max_listen_connections);
    m.port = acceptor.local_endpoint().port();
    std::string origin = detail::origin_of(opts, m.port);
    m.core = std::make_shared<detail::server_core>(std::move(opts), std::move(origin));
    auto const& o = m.core->opts;
    if (o.tls) {
      m.core->tls.emplace(asio::ssl::context::tls_server);
      std::filesystem::path dir = o.work_dir;
      if (o.cert_file.empty() && o.key_file.empty()) {
        if (dir.empty()) dir = m.owned_dir = detail::make_temp_dir();
        else std::filesystem::create_directories(dir);
        m.ca_file = dir / "ca.pem";
      } else {
        m.ca_file = o.ca_file;
      }
      detail::configure_tls(*m.core->tls, o, m.ca_file);
    }
    asio::co_spawn(*m.ioc, detail::accept_loop(m.core, std::move(acceptor)), asio::detached);
    for (unsigned i = 0; i < o.threads; ++i) {
      m.threads.emplace_back([ioc = m.ioc.get()] { ioc->run(); });
    }
  } catch (...) {
    stop();
    if (!m.owned_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(m.owned_dir, ec);
    }
    throw;
  }
  m.core->log("listening on " + url());
}

server::~server() {
  stop();
  if (!impl_->owned_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(impl_->owned_dir, ec);
  }
}

void server::stop() {
  auto& m = *impl_;
  std::lock_guard lock(m.stop_mutex);
  if (m.stopped) return;
  m.stopped = true;
  if (m.core) m.core->stopping = true;
  if (m.ioc) m.ioc->stop();
  for (auto& t : m.threads) {
    if (t.joinable()) t.join();
  }
  m.threads.clear();
  m.ioc.reset();  // destroys the acceptor and every connection
}

std::string server::url() const { return impl_->core->origin; }

std::string const& server::host() const noexcept { return impl_->core->opts.host; }
std::uint16_t server::port() const noexcept { return impl_->port; }
std::filesystem::path server::ca_file() const { return impl_->ca_file; }
std::string const& server::api_key() const noexcept { return impl_->core->opts.api_key; }
std::string const& server::auth_token() const noexcept { return impl_->core->opts.auth_token; }
std::string const& server::organization_id() const noexcept { return impl_->core->data.organization_id(); }
server_options const& server::options() const noexcept { return impl_->core->opts; }

std::vector<std::string> server::user_ids() const {
  std::vector<std::string> ids;
  for (auto const& u : impl_->core->data.users()) ids.push_back(u.id);
  return ids;
}

std::vector<user_summary> server::user_summaries() const {
  auto const now = std::chrono::system_clock::now();
  std::vector<user_summary> out;
  for (auto const& u : impl_->core->data.users()) {
    user_summary s;
    s.user_id = u.id;
    s.heavy = u.heavy;
    s.end = u.end;
    s.deleted = impl_->core->jobs.is_deleted(u.id, now);
    if (!s.deleted) {
      s.comments = u.counts[0];
      s.reactions = u.counts[1];
      s.recordings = u.counts[2];
      s.notifications = u.counts[3];
      s.pages = u.pages();
      s.empty_page = u.empty_page;
    }
    out.push_back(std::move(s));
  }
  return out;
}

boost::json::object server::expected_export(std::string const& user_id) const {
  auto const& core = *impl_->core;
  auto const* u = core.data.find(user_id);
  if (u == nullptr || core.jobs.is_deleted(user_id, std::chrono::system_clock::now())) return core.data.empty_data();
  return core.data.export_data(*u);
}

std::size_t server::expected_pages(std::string const& user_id) const {
  auto const& core = *impl_->core;
  auto const* u = core.data.find(user_id);
  if (u == nullptr || core.jobs.is_deleted(user_id, std::chrono::system_clock::now())) return 1;
  return u->pages();
}

void server::write_expected_export(std::filesystem::path const& file) const {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot open " + file.string());
  std::string chunk = "{\"organizationId\":";
  detail::write_json_string(chunk, organization_id());
  chunk += ",\"users\":{";
  bool first = true;
  for (auto const& id : user_ids()) {
    if (!first) chunk += ',';
    first = false;
    detail::write_json_string(chunk, id);
    chunk += ':';
    detail::write_json(chunk, expected_export(id));
    out << chunk;
    chunk.clear();
  }
  out << "}}\n";
  out.close();
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::string server::page_body(std::string const& user_id, std::size_t page) const {
  auto& core = *impl_->core;
  auto const* u = core.data.find(user_id);
  if (u == nullptr) {
    if (page != 0) throw std::out_of_range("page index beyond the user's export");
    return *core.pages.empty_page(core.data.unknown_user_end());
  }
  if (core.jobs.is_deleted(user_id, std::chrono::system_clock::now())) {
    if (page != 0) throw std::out_of_range("page index beyond the user's export");
    return *core.pages.empty_page(u->end);
  }
  if (page >= u->pages()) throw std::out_of_range("page index beyond the user's export");
  return *core.pages.page(*u, page);
}

void server::add_fault(fault f) { impl_->core->faults.add(std::move(f)); }
void server::clear_faults() { impl_->core->faults.clear(); }
void server::set_latency(std::chrono::milliseconds fixed, std::chrono::milliseconds jitter) {
  impl_->core->faults.set_latency(fixed, jitter);
}

server_stats server::stats() const { return impl_->core->stats.snapshot(); }

void server::reset_stats() {
  impl_->core->stats.reset();
  impl_->core->recorder.clear();
  impl_->core->media.clear();
  impl_->core->request_counter = 0;
}

std::vector<media_request> server::media_requests() const { return impl_->core->media.snapshot(); }

std::vector<recorded_request> server::recent_requests() const { return impl_->core->recorder.snapshot(); }

}  // namespace velt::mock
