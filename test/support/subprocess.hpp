// A child process for tests of the programs: argv (no shell), extra environment, stdout
// captured through a pipe, bounded waits. Header-only, POSIX.
#pragma once

#include "spawn.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace velt::test {

class subprocess {
 public:
  /// Starts `argv[0]` with `argv`, the current environment plus `env` ("NAME=value"), and
  /// stdout (and stderr when `merge_stderr`) on a pipe.
  subprocess(std::vector<std::string> argv, std::vector<std::string> env = {},
             bool merge_stderr = false) {
    int fds[2];
    make_pipe(fds);
    try {
      pid_ = spawn_child(std::move(argv), env, fds[1], merge_stderr ? fds[1] : -1, inherit_env::all,
                         /*null_stdin=*/false);
    } catch (...) {
      close(fds[0]);
      close(fds[1]);
      throw;
    }
    close(fds[1]);
    out_ = fds[0];
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
  }

  /// One line of stdout (without the newline), or nullopt at EOF or after `limit`.
  std::optional<std::string> read_line(std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    auto const end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (!fill(end)) return std::nullopt;
    }
  }

  /// Everything left on stdout until EOF (bounded by `limit`).
  std::string read_all(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    auto const end = std::chrono::steady_clock::now() + limit;
    while (fill(end)) {
    }
    return std::exchange(buffer_, {});
  }

  void signal(int sig) { kill(pid_, sig); }

  /// The exit code (128 + signal when killed), or nullopt if still running after `limit`.
  std::optional<int> wait(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    if (status_) return status_;
    auto const end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int st = 0;
      pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
      }
      if (std::chrono::steady_clock::now() > end) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  pid_t pid() const { return pid_; }

 private:
  bool fill(std::chrono::steady_clock::time_point end) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r <= 0) return false;
    char buf[65536];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

}  // namespace velt::test
