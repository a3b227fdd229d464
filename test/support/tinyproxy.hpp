// SPDX-License-Identifier: BSL-1.0
// tinyproxy.hpp: a real HTTP proxy (/usr/bin/tinyproxy, Debian package tinyproxy) on 127.0.0.1
// and an ephemeral port, for the tests of HTTPS through a CONNECT tunnel. The test owns the
// process: foreground (`-d`), run as the current user, its configuration, log and pid file
// in a directory of its own, removed at the end; killed with the test process (setpriv
// --pdeathsig). Optionally with Basic credentials (`BasicAuth`) and a `ConnectPort` list
// (CONNECT to any other port is refused with 403). Header-only, POSIX.
#pragma once

#include "loopback.hpp"
#include "subprocess.hpp"

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
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace velt::test {

/// Where the tests expect tinyproxy: the Debian package tinyproxy installs it there. The
/// tests that need it are only registered with ctest when it is installed.
inline constexpr char const* tinyproxy_binary = "/usr/bin/tinyproxy";

struct tinyproxy_options {
  /// `BasicAuth user password` (tinyproxy takes letters, digits and `-._` only).
  std::optional<std::pair<std::string, std::string>> basic_auth{};
  /// `ConnectPort` lines: CONNECT only to these ports (403 for others); empty: any port.
  std::vector<std::uint16_t> connect_ports{};
};

/// A running tinyproxy; stopped (SIGTERM, then SIGKILL) and its directory removed on
/// destruction.
class tinyproxy {
 public:
  explicit tinyproxy(tinyproxy_options o = {}) : options_(std::move(o)) {
    if (::access(tinyproxy_binary, X_OK) != 0)
      throw std::runtime_error(std::string(tinyproxy_binary) +
                               " is missing: install the Debian package tinyproxy (scripts/install-deps)");
    std::string templ = (std::filesystem::temp_directory_path() / "velt-tinyproxy-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("tinyproxy: mkdtemp failed");
    dir_ = templ;
    try {
      start();
    } catch (...) {
      cleanup();
      throw;
    }
  }
  tinyproxy(tinyproxy const&) = delete;
  tinyproxy& operator=(tinyproxy const&) = delete;
  ~tinyproxy() { cleanup(); }

  std::uint16_t port() const noexcept { return port_; }
  /// "127.0.0.1:PORT", as the client's messages name it.
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
  /// "http://127.0.0.1:PORT", or with `user:password@` when given.
  std::string url(std::string const& userinfo = {}) const {
    return "http://" + (userinfo.empty() ? std::string() : userinfo + "@") + authority();
  }
  /// tinyproxy's log ("Request (file descriptor N): CONNECT 127.0.0.1:PORT HTTP/1.1", ...).
  std::string log() const {
    std::ifstream in(dir_ / "tinyproxy.log", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  /// How many CONNECT requests tinyproxy logged.
  std::size_t connects() const {
    std::string const text = log();
    std::size_t n = 0;
    for (auto pos = text.find("): CONNECT "); pos != std::string::npos; pos = text.find("): CONNECT ", pos + 1)) ++n;
    return n;
  }

 private:
  std::string config() const {
    auto const d = dir_.string();
    std::ostringstream c;
    c << "# velt-gdpr test fixture (test/support/tinyproxy.hpp)\n"
      << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 60\nAllow 127.0.0.1\n"
      << "LogFile \"" << d << "/tinyproxy.log\"\nLogLevel Connect\n"
      << "PidFile \"" << d << "/tinyproxy.pid\"\nMaxClients 200\nDisableViaHeader Yes\n";
    if (options_.basic_auth) c << "BasicAuth " << options_.basic_auth->first << " " << options_.basic_auth->second << "\n";
    for (auto p : options_.connect_ports) c << "ConnectPort " << p << "\n";
    return c.str();
  }

  void start() {
    std::string last_error;
    for (int attempt = 0; attempt < 5; ++attempt) {
      int const fd = bind_loopback(port_, 0);
      if (fd < 0) throw std::runtime_error("tinyproxy: no free port on 127.0.0.1");
      ::close(fd);
      {
        std::ofstream out(dir_ / "tinyproxy.conf");
        out << config();
      }
      std::vector<std::string> argv;
      if (::access(setpriv, X_OK) == 0) argv = {setpriv, "--pdeathsig", "KILL"};
      argv.insert(argv.end(), {tinyproxy_binary, "-d", "-c", (dir_ / "tinyproxy.conf").string()});
      process_.emplace(std::move(argv), std::vector<std::string>{},
                       subprocess_options{.err = stderr_mode::merged, .null_stdin = true});
      if (wait_until_listening()) return;
      auto const code = process_->wait(std::chrono::seconds(2));
      last_error = process_->out() + log();
      process_.reset();
      if (!code || last_error.find("in use") == std::string::npos) break;
    }
    throw std::runtime_error("tinyproxy did not start on 127.0.0.1:" + std::to_string(port_) + ":\n" + last_error);
  }

  bool wait_until_listening() {
    return wait_until_accepting(port_, [this] { return process_->wait(std::chrono::milliseconds(0)).has_value(); });
  }

  void cleanup() noexcept {
    if (process_) {
      process_->signal(SIGTERM);
      process_->wait(std::chrono::seconds(5));
      process_.reset();
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  static constexpr char const* setpriv = "/usr/bin/setpriv";

  tinyproxy_options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::optional<subprocess> process_;
};

}  // namespace velt::test
