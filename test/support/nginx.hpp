// SPDX-License-Identifier: BSL-1.0
// nginx.hpp: a real nginx (/usr/sbin/nginx, Debian package nginx-light) as a TLS reverse proxy
// on 127.0.0.1 and an ephemeral port, in front of a plain-HTTP upstream on 127.0.0.1 (the
// local server started with `tls = false`). The test owns the process: `daemon off;
// master_process off;`, run as the current user, every file it writes (configuration,
// certificate, pid, logs, temp paths) in a directory of its own, removed at the end; no access
// to /var/log, /var/lib/nginx or /run. The certificate is a throw-away one signed by a
// throw-away CA (lib/mock/certificates.hpp) for 127.0.0.1: trust ca_file().
//
// What it models: a standard deployment in front of an API, optionally with `limit_req`
// (refusals answered with HTTP 429 and no Retry-After, as nginx does) and keep-alive closed
// every `keepalive_requests` requests; when the upstream is down nginx answers 502 with its
// HTML page. Header-only, POSIX; needs ${PROJECT_SOURCE_DIR}/lib on the include path.
#pragma once

#include "loopback.hpp"
#include "subprocess.hpp"

#include "mock/certificates.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace velt::test {

/// Where the tests expect nginx: the Debian package nginx-light installs it there.
inline constexpr char const* nginx_binary = "/usr/sbin/nginx";

/// Empty when nginx_binary can be run; else what is wrong and how to fix it, for the test's
/// failure message (the tests fail, never skip, without nginx).
inline std::string nginx_missing() {
  if (::access(nginx_binary, X_OK) == 0) return {};
  return std::string(nginx_binary) +
         " is missing: the nginx tests need the Debian package nginx-light (run scripts/install-deps as root)";
}

/// nginx's `limit_req` on every request (one zone keyed by the client address; all the
/// tests' requests come from 127.0.0.1, so it is one limit for the whole run).
struct nginx_rate_limit {
  unsigned per_second = 100;  ///< `rate=Nr/s`
  unsigned burst = 10;        ///< `burst=N`: excess requests nginx queues (delays) before refusing
  bool nodelay = false;       ///< `nodelay`: the burst is served at once instead of paced
  unsigned status = 429;      ///< `limit_req_status` (nginx's default would be 503)
};

struct nginx_options {
  std::uint16_t upstream_port = 0;  ///< plain HTTP on 127.0.0.1
  std::optional<nginx_rate_limit> rate{};  ///< no limit_req when empty
  unsigned keepalive_requests = 50;  ///< client connections closed after this many requests
  unsigned upstream_keepalive = 16;  ///< idle keep-alive connections nginx keeps to the upstream
};

/// A running nginx; stopped (SIGTERM, then SIGKILL) and its directory removed on destruction;
/// killed when the test process dies.
class nginx_proxy {
 public:
  /// Writes the configuration and the certificate, starts nginx on a free port and returns
  /// once it accepts connections. Throws std::runtime_error with nginx's own words when it
  /// cannot start (or nginx_missing() when it is not installed).
  explicit nginx_proxy(nginx_options o) : options_(o) {
    if (auto why = nginx_missing(); !why.empty()) throw std::runtime_error(why);
    if (o.upstream_port == 0) throw std::invalid_argument("nginx_proxy: upstream_port is 0");
    std::string templ = (std::filesystem::temp_directory_path() / "velt-nginx-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("nginx_proxy: mkdtemp failed");
    dir_ = templ;
    try {
      auto const certs = mock::detail::generate_certificates({"127.0.0.1"}, false);
      write(dir_ / "ca.pem", certs.ca_pem);
      write(dir_ / "cert.pem", certs.cert_pem);
      write(dir_ / "key.pem", certs.key_pem);
      for (char const* sub : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
        std::filesystem::create_directory(dir_ / sub);
      start();
    } catch (...) {
      cleanup();
      throw;
    }
  }
  nginx_proxy(nginx_proxy const&) = delete;
  nginx_proxy& operator=(nginx_proxy const&) = delete;
  ~nginx_proxy() { cleanup(); }

  /// "https://127.0.0.1:PORT".
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port() const noexcept { return port_; }
  /// The CA that signed nginx's certificate (for `--ca-file`).
  std::filesystem::path ca_file() const { return dir_ / "ca.pem"; }
  std::filesystem::path const& dir() const noexcept { return dir_; }
  /// The access log, one line per request: "STATUS UPSTREAM_STATUS REQUEST_TIME"
  /// (UPSTREAM_STATUS "-" when nginx answered itself, e.g. a 429 of limit_req). Nothing else
  /// is logged: no URI, no header, no secret.
  std::string access_log() const { return read(dir_ / "access.log"); }
  /// nginx's error log ("limiting requests", "connect() failed", "upstream prematurely closed").
  std::string error_log() const { return read(dir_ / "error.log"); }
  /// Requests per HTTP status that nginx answered, from the access log.
  std::map<unsigned, std::size_t> statuses() const {
    std::map<unsigned, std::size_t> counts;
    std::istringstream in(access_log());
    unsigned status = 0;
    std::string rest;
    while (in >> status && std::getline(in, rest)) ++counts[status];
    return counts;
  }

 private:
  static void write(std::filesystem::path const& p, std::string const& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("nginx_proxy: cannot write " + p.string());
  }
  static std::string read(std::filesystem::path const& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string config() const {
    auto const d = dir_.string();
    std::ostringstream c;
    c << "# velt-gdpr test fixture (test/support/nginx.hpp)\n"
      << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
      << "pid " << d << "/nginx.pid;\n"
      << "error_log " << d << "/error.log info;\n"
      << "events { worker_connections 1024; }\n"
      << "http {\n"
      << "  log_format velt_test '$status $upstream_status $request_time';\n"
      << "  access_log " << d << "/access.log velt_test;\n"
      << "  client_body_temp_path " << d << "/client_body;\n"
      << "  proxy_temp_path " << d << "/proxy;\n"
      << "  fastcgi_temp_path " << d << "/fastcgi;\n"
      << "  uwsgi_temp_path " << d << "/uwsgi;\n"
      << "  scgi_temp_path " << d << "/scgi;\n"
      << "  server_tokens off;\n";
    if (options_.rate) {
      c << "  limit_req_zone $binary_remote_addr zone=velt_api:1m rate=" << options_.rate->per_second << "r/s;\n"
        << "  limit_req_status " << options_.rate->status << ";\n";
    }
    c << "  upstream velt_upstream {\n"
      << "    server 127.0.0.1:" << options_.upstream_port << ";\n"
      << "    keepalive " << options_.upstream_keepalive << ";\n"
      << "  }\n"
      << "  server {\n"
      << "    listen 127.0.0.1:" << port_ << " ssl;\n"
      << "    ssl_certificate " << d << "/cert.pem;\n"
      << "    ssl_certificate_key " << d << "/key.pem;\n"
      << "    keepalive_requests " << options_.keepalive_requests << ";\n"
      << "    client_max_body_size 1m;\n"
      << "    location / {\n";
    if (options_.rate) {
      c << "      limit_req zone=velt_api burst=" << options_.rate->burst << (options_.rate->nodelay ? " nodelay" : "")
        << ";\n";
    }
    c << "      proxy_pass http://velt_upstream;\n"
      << "      proxy_http_version 1.1;\n"
      << "      proxy_set_header Connection \"\";\n"
      << "    }\n"
      << "  }\n"
      << "}\n";
    return c.str();
  }

  /// Picks a free port, starts nginx on it and waits until it accepts; a port taken in the
  /// meantime by someone else ("Address already in use") is retried with another one.
  void start() {
    std::string last_error;
    for (int attempt = 0; attempt < 5; ++attempt) {
      int const fd = bind_loopback(port_, 0);
      if (fd < 0) throw std::runtime_error("nginx_proxy: no free port on 127.0.0.1");
      ::close(fd);
      write(dir_ / "nginx.conf", config());
      std::error_code ec;
      std::filesystem::remove(dir_ / "error.log", ec);
      // setpriv (util-linux) --pdeathsig: nginx is killed with the test process, even when
      // ctest's timeout kills that, instead of listening on forever. -p: the prefix (nginx's
      // relative paths); -e: the error log before the configuration is read (the package's
      // default is stderr, which is captured here too).
      std::vector<std::string> argv;
      if (::access(setpriv, X_OK) == 0) argv = {setpriv, "--pdeathsig", "KILL"};
      argv.insert(argv.end(), {nginx_binary, "-p", dir_.string() + "/", "-e", (dir_ / "error.log").string(), "-c",
                               (dir_ / "nginx.conf").string()});
      process_.emplace(std::move(argv), std::vector<std::string>{},
                       subprocess_options{.err = stderr_mode::merged, .null_stdin = true});
      if (wait_until_listening()) return;
      auto const code = process_->wait(std::chrono::seconds(2));
      last_error = process_->out() + error_log();
      process_.reset();
      if (!code || last_error.find("Address already in use") == std::string::npos) break;
    }
    throw std::runtime_error("nginx did not start on 127.0.0.1:" + std::to_string(port_) + ":\n" + last_error);
  }

  /// Connects to the port every 10 ms for up to 10 s; false as soon as nginx has exited.
  bool wait_until_listening() {
    return wait_until_accepting(port_, [this] { return process_->wait(std::chrono::milliseconds(0)).has_value(); });
  }

  void cleanup() noexcept {
    if (process_) {
      process_->signal(SIGTERM);  // fast shutdown; the destructor sends SIGKILL if it hangs
      process_->wait(std::chrono::seconds(5));
      process_.reset();
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  static constexpr char const* setpriv = "/usr/bin/setpriv";

  nginx_options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::optional<subprocess> process_;
};

}  // namespace velt::test
