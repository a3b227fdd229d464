// A child process for the CLI tests: argv (no shell), an environment built from the
// current one without any VELT_* variable plus the given entries, stdout and stderr each on
// its own pipe, bounded waits. (test/support/subprocess.hpp, with stderr kept apart; both
// start children with test/support/spawn.hpp.)
#pragma once

#include "../support/spawn.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace velt::test::cli {

class process {
 public:
  process(std::vector<std::string> argv, std::vector<std::string> env) {
    int out[2], err[2];
    make_pipe(out);
    try {
      make_pipe(err);
    } catch (...) {
      close(out[0]);
      close(out[1]);
      throw;
    }
    try {
      pid_ = spawn_child(std::move(argv), env, out[1], err[1], inherit_env::all_but_velt, /*null_stdin=*/true);
    } catch (...) {
      for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
      throw;
    }
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  process(process const&) = delete;
  process& operator=(process const&) = delete;
  ~process() {
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

  /// Reads what is available on stdout and stderr for up to `limit` (returns early at EOF
  /// of both).
  void pump(std::chrono::milliseconds limit) {
    auto const end = std::chrono::steady_clock::now() + limit;
    while (out_ >= 0 || err_ >= 0) {
      auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
      int const r = poll(p, 2, static_cast<int>(left.count()));
      if (r <= 0) return;
      drain(p[0], out_, out_text_);
      drain(p[1], err_, err_text_);
    }
  }

  /// Waits for the exit (128 + signal when killed), reading the pipes meanwhile.
  std::optional<int> wait(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    if (status_) return status_;
    auto const end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      pump(std::chrono::milliseconds(5));
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        pump(std::chrono::milliseconds(200));
        return status_;
      }
      if (std::chrono::steady_clock::now() > end) return std::nullopt;
    }
  }

  std::string const& out() const { return out_text_; }
  std::string const& err() const { return err_text_; }

 private:
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

}  // namespace velt::test::cli
