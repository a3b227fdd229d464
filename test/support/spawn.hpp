// spawn.hpp: starting a test's child process: argv (no shell), an environment built from the
// current one, stdout and stderr on given pipe ends. Shared by subprocess.hpp and the CLI
// tests' process. Header-only, POSIX.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace velt::test {

/// Which variables of the current environment a child inherits.
enum class inherit_env {
  all,
  all_but_velt,  ///< none named VELT_*: the test says exactly which credentials it passes
};

/// A pipe whose two ends close on exec (the child gets only what it is given with dup2).
inline void make_pipe(int (&fds)[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
}

/// Starts `argv[0]` with `argv` and the current environment (filtered by `inherit`) plus
/// `env` ("NAME=value"). stdout goes to `out_fd`, stderr to `err_fd` (-1: this process's),
/// stdin is /dev/null when `null_stdin`. Throws std::runtime_error naming the program.
inline pid_t spawn_child(std::vector<std::string> argv, std::vector<std::string> const& env, int out_fd,
                         int err_fd, inherit_env inherit, bool null_stdin) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  if (null_stdin) posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    if (inherit == inherit_env::all || std::strncmp(*e, "VELT_", 5) != 0) envs.emplace_back(*e);
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

}  // namespace velt::test
