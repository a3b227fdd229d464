// SPDX-License-Identifier: BSL-1.0
// subprocess.hpp: a child process for the tests of the programs (velt-gdpr, velt-mock-server,
// the examples): argv (no shell), an environment built from the current one, stdout on a
// pipe, stderr inherited, merged into stdout or on a pipe of its own, bounded waits.
// Header-only, POSIX.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace velt::test {

/// Which variables of the current environment a child inherits.
enum class inherit_env {
  all,
  all_but_velt,  ///< none named VELT_*: the test says exactly which credentials it passes
};

/// Where a child's stderr goes.
enum class stderr_mode {
  inherited,  ///< this process's stderr
  merged,     ///< the stdout pipe: read_line, read_all and out() see both
  captured,   ///< a pipe of its own: err()
};

struct subprocess_options {
  stderr_mode err = stderr_mode::inherited;
  inherit_env environment = inherit_env::all;
  bool null_stdin = false;  ///< stdin /dev/null, else this process's
};

class subprocess {
 public:
  /// Starts `argv[0]` with `argv` and the current environment (filtered by
  /// `o.environment`) plus `env` ("NAME=value"). Throws std::runtime_error naming the program.
  subprocess(std::vector<std::string> argv, std::vector<std::string> env = {}, subprocess_options o = {}) {
    int out[2];
    int err[2] = {-1, -1};
    make_pipe(out);
    try {
      if (o.err == stderr_mode::captured) make_pipe(err);
      int const err_fd = o.err == stderr_mode::merged ? out[1] : err[1];
      pid_ = spawn(std::move(argv), env, out[1], err_fd, o);
    } catch (...) {
      for (int fd : {out[0], out[1], err[0], err[1]})
        if (fd >= 0) close(fd);
      throw;
    }
    close(out[1]);
    if (err[1] >= 0) close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  subprocess(subprocess const&) = delete;
  subprocess& operator=(subprocess const&) = delete;
  ~subprocess() {
    if (pid_ > 0 && !status_) {
      kill(pid_, SIGKILL);
      int st;
      waitpid(pid_, &st, 0);
    }
    if (out_ >= 0) close(out_);
    if (err_ >= 0) close(err_);
  }

  void signal(int sig) { kill(pid_, sig); }
  pid_t pid() const { return pid_; }

  /// One line of stdout (without the newline), or nullopt at EOF or after `limit`.
  std::optional<std::string> read_line(std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    auto const end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (auto nl = out_text_.find('\n'); nl != std::string::npos) {
        std::string line = out_text_.substr(0, nl);
        out_text_.erase(0, nl + 1);
        return line;
      }
      if (out_ < 0 || !read_some(end)) return std::nullopt;
    }
  }

  /// Everything left on stdout until EOF (bounded by `limit`); out() is empty afterwards.
  std::string read_all(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    auto const end = std::chrono::steady_clock::now() + limit;
    while (out_ >= 0 && read_some(end)) {
    }
    return std::exchange(out_text_, {});
  }

  /// Reads what is available on stdout and stderr for up to `limit` (returns early at EOF
  /// of both).
  void pump(std::chrono::milliseconds limit) {
    auto const end = std::chrono::steady_clock::now() + limit;
    while ((out_ >= 0 || err_ >= 0) && read_some(end)) {
    }
  }

  /// Waits for the exit (128 + signal when killed), reading the pipes meanwhile; nullopt if
  /// still running after `limit`.
  std::optional<int> wait(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    if (status_) return status_;
    auto const end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (out_ >= 0 || err_ >= 0) {
        pump(std::chrono::milliseconds(5));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        pump(std::chrono::milliseconds(200));
        return status_;
      }
      if (std::chrono::steady_clock::now() > end) return std::nullopt;
    }
  }

  /// Stdout read so far and not yet taken by read_line or read_all.
  std::string const& out() const { return out_text_; }
  /// Stderr read so far (stderr_mode::captured).
  std::string const& err() const { return err_text_; }

 private:
  /// A pipe whose two ends close on exec (the child gets only what it is given with dup2).
  static void make_pipe(int (&fds)[2]) {
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }

  static pid_t spawn(std::vector<std::string> argv, std::vector<std::string> const& env, int out_fd, int err_fd,
                     subprocess_options const& o) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    if (err_fd >= 0) posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    if (o.null_stdin) posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
      if (o.environment == inherit_env::all || std::strncmp(*e, "VELT_", 5) != 0) envs.emplace_back(*e);
    }
    envs.insert(envs.end(), env.begin(), env.end());
    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& e : envs) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    pid_t pid = -1;
    int const rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
    return pid;
  }

  /// Waits until `end` for either pipe to be readable and reads what it can from each;
  /// false after `end`, on a failed poll, or when both pipes are at EOF.
  bool read_some(std::chrono::steady_clock::time_point end) {
    auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};  // poll skips a negative fd
    if (poll(p, 2, static_cast<int>(left.count())) <= 0) return false;
    drain(p[0], out_, out_text_);
    drain(p[1], err_, err_text_);
    return out_ >= 0 || err_ >= 0;
  }

  static void drain(pollfd const& p, int& fd, std::string& into) {
    if (fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) return;
    char buf[65536];
    ssize_t const n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
    } else {
      close(fd);
      fd = -1;
    }
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_text_, err_text_;
  std::optional<int> status_;
};

}  // namespace velt::test
