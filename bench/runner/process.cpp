// SPDX-License-Identifier: BSL-1.0
#include "runner/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <sstream>
#include <system_error>
#include <thread>

extern char** environ;

namespace velt::bench {

namespace {
std::atomic<pid_t> current_child{0};
}  // namespace

pid_t running_child() noexcept { return current_child.load(); }

std::vector<std::string> environment_with(std::vector<std::string> const& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string const entry = *e;
    auto const name = entry.substr(0, entry.find('=') + 1);
    bool replaced = false;
    for (auto const& x : extra) replaced = replaced || x.compare(0, name.size(), name) == 0;
    if (!replaced) out.push_back(entry);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

pid_t spawn(std::vector<std::string> const& argv, std::vector<std::string> const& env, int out_fd,
            int err_fd) {
  std::vector<char*> av, ev;
  for (auto const& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  for (auto const& e : env) ev.push_back(const_cast<char*>(e.c_str()));
  ev.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  pid_t pid = 0;
  int const rc = posix_spawn(&pid, av[0], &fa, nullptr, av.data(), ev.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn " + argv[0]);
  return pid;
}

bool child_result::ok() const { return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string child_result::describe() const {
  if (timed_out) return "killed after the time limit";
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended oddly";
}

child_result run_child(std::vector<std::string> const& argv, std::vector<std::string> const& env,
                       std::filesystem::path const& out_file, std::filesystem::path const& err_file,
                       std::chrono::seconds limit, std::filesystem::path const& exec_helper) {
  if (!exec_helper.empty()) {
    auto const result_file = out_file.string() + ".rusage";
    std::vector<std::string> wrapped{exec_helper.string(), result_file, std::to_string(limit.count())};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    // The helper enforces `limit`; this watchdog only guards against the helper itself.
    child_result const helper = run_child(wrapped, env, out_file, err_file, limit + std::chrono::seconds(30));
    child_result r;
    std::ifstream in(result_file);
    int timed_out = 0;
    if (!helper.ok() || !(in >> r.status >> timed_out >> r.wall_s >> r.user_s >> r.sys_s >> r.maxrss_kb)) {
      r = helper;
      r.status = helper.ok() ? (3 << 8) : helper.status;
      return r;
    }
    r.timed_out = timed_out != 0;
    std::error_code ec;
    std::filesystem::remove(result_file, ec);
    return r;
  }
  int const out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int const err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0 || err < 0) throw std::system_error(errno, std::generic_category(), "open output files");
  auto const started = std::chrono::steady_clock::now();
  pid_t const pid = spawn(argv, env, out, err);
  current_child = pid;
  ::close(out);
  ::close(err);

  std::mutex m;
  std::condition_variable cv;
  bool done = false, killed = false;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, limit, [&] { return done; })) {
      killed = true;
      ::kill(pid, SIGKILL);
    }
  });

  child_result r;
  rusage ru{};
  pid_t w;
  do {
    w = ::wait4(pid, &r.status, 0, &ru);
  } while (w < 0 && errno == EINTR);
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  current_child = 0;
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  r.timed_out = killed;
  r.user_s = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  r.sys_s = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
  r.maxrss_kb = ru.ru_maxrss;
  return r;
}

cpu_times process_cpu_times(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto const close = text.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  double const tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return {static_cast<double>(utime) / tick, static_cast<double>(stime) / tick};
}

double process_cpu_seconds(pid_t pid) {
  auto const t = process_cpu_times(pid);
  return t.user_s + t.sys_s;
}

long process_peak_rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

server_child::server_child(std::vector<std::string> const& argv, std::vector<std::string> const& env,
                           std::filesystem::path const& log_file, std::chrono::seconds ready_limit) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  int const log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  try {
    pid_ = spawn(argv, env, pipe_fds[1], log < 0 ? 2 : log);
  } catch (...) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    if (log >= 0) ::close(log);
    throw;
  }
  ::close(pipe_fds[1]);
  if (log >= 0) ::close(log);

  std::string text;
  auto const deadline = std::chrono::steady_clock::now() + ready_limit;
  while (text.find('\n') == std::string::npos) {
    auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{pipe_fds[0], POLLIN, 0};
    int const n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0) continue;
    char buf[4096];
    ssize_t const got = ::read(pipe_fds[0], buf, sizeof buf);
    if (got <= 0) break;
    text.append(buf, static_cast<std::size_t>(got));
  }
  ::close(pipe_fds[0]);  // nothing else comes on stdout
  if (text.find('\n') == std::string::npos) {
    stop();
    throw std::runtime_error(argv[0] + " did not start (see " + log_file.string() + ")");
  }
  ready_line = text.substr(0, text.find('\n'));
}

server_child::~server_child() { stop(); }

void server_child::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 500; ++i) {  // up to 10 s, then SIGKILL
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    ::usleep(20000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace velt::bench
