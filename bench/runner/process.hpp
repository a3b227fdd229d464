// SPDX-License-Identifier: BSL-1.0
// Child processes for the benchmark runner: posix_spawn with redirected output, wait4 for
// the child's own resource usage (user + sys CPU, peak RSS), a watchdog that kills a child
// running past its time limit, and per-process CPU time from /proc/PID/stat.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace velt::bench {

/// The environment of this process plus `extra` ("NAME=value", replacing same names).
std::vector<std::string> environment_with(std::vector<std::string> const& extra);

/// Starts `argv[0]` (a path) with stdin from /dev/null, stdout to `out_fd` and stderr to
/// `err_fd`. Throws std::system_error.
pid_t spawn(std::vector<std::string> const& argv, std::vector<std::string> const& env, int out_fd,
            int err_fd);

/// How a child ended.
struct child_result {
  int status = 0;          ///< as from wait4
  bool timed_out = false;  ///< killed by the watchdog
  double wall_s = 0;       ///< spawn to exit
  double user_s = 0, sys_s = 0;
  long maxrss_kb = 0;  ///< ru_maxrss
  bool ok() const;     ///< exited normally with status 0
  std::string describe() const;
};

/// Runs a child to completion, stdout and stderr to the given files; kills it (SIGKILL)
/// after `limit`. With `exec_helper` (velt-bench-exec), the child is started by that small
/// program, which measures it: then ru_maxrss is the child's own peak, not at least the
/// runner's (see exec_measured.cpp). Without it, wall time and rusage come from here.
child_result run_child(std::vector<std::string> const& argv, std::vector<std::string> const& env,
                       std::filesystem::path const& out_file, std::filesystem::path const& err_file,
                       std::chrono::seconds limit, std::filesystem::path const& exec_helper = {});

/// The child `run_child` is waiting for (0 when none), for a signal handler to stop it.
pid_t running_child() noexcept;

/// User and system CPU seconds of a running process (all its threads), from /proc/PID/stat.
struct cpu_times {
  double user_s = 0, sys_s = 0;
};
cpu_times process_cpu_times(pid_t pid);
/// User + system CPU seconds of a running process (all its threads).
double process_cpu_seconds(pid_t pid);

/// Peak resident set of a running process (VmHWM of /proc/PID/status), in KiB; 0 if unknown.
long process_peak_rss_kb(pid_t pid);

/// A long-running child (a server): stdin from /dev/null, stderr to `log_file`, stdout on a
/// pipe until it has printed its first line (`ready_line`, without the newline); the pipe is
/// then closed. Throws std::runtime_error when no line comes within `ready_limit`. stop()
/// (and the destructor) sends SIGTERM and, after 10 s, SIGKILL.
class server_child {
 public:
  server_child(std::vector<std::string> const& argv, std::vector<std::string> const& env,
               std::filesystem::path const& log_file, std::chrono::seconds ready_limit);
  ~server_child();
  server_child(server_child const&) = delete;
  server_child& operator=(server_child const&) = delete;

  std::string ready_line;
  pid_t pid() const { return pid_; }
  void stop();

 private:
  pid_t pid_ = -1;
};

}  // namespace velt::bench
