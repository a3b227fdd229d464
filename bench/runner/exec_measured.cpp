// SPDX-License-Identifier: BSL-1.0
// velt-bench-exec: runs one program and reports its own resource usage.
//
//   velt-bench-exec RESULT_FILE LIMIT_SECONDS PROGRAM [ARGS...]
//
// Why a separate, tiny process: Linux records the *old* address space's high-water RSS into
// the new program's ru_maxrss at exec time, and with posix_spawn (vfork semantics) the old
// address space is the spawner's. Spawned straight from the runner (which holds a data set
// in memory), every client would report at least the runner's peak. Spawned from this
// small program (libc only, no allocations of note), the floor is about a megabyte.
//
// Stdin, stdout and stderr are passed through. The program is killed (SIGKILL) after
// LIMIT_SECONDS, or when this process gets SIGTERM or SIGINT. RESULT_FILE receives one line:
//   <wait status> <timed out 0|1> <wall s> <user s> <sys s> <maxrss KiB>
// Exit status: 0 when the result was written, 3 otherwise.
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char** environ;

namespace {
double seconds(timespec const& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9; }
double seconds(timeval const& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fputs("usage: velt-bench-exec RESULT_FILE LIMIT_SECONDS PROGRAM [ARGS...]\n", stderr);
    return 3;
  }
  char const* result_file = argv[1];
  long const limit = strtol(argv[2], nullptr, 10);

  // SIGCHLD wakes the wait below; SIGTERM and SIGINT are passed on to the child (as SIGKILL),
  // so that stopping the runner stops the client too.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigaddset(&chld, SIGTERM);
  sigaddset(&chld, SIGINT);
  sigprocmask(SIG_BLOCK, &chld, nullptr);

  timespec start{}, end{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t pid = 0;
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  int const rc = posix_spawn(&pid, argv[3], nullptr, &attr, argv + 3, environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    fprintf(stderr, "velt-bench-exec: cannot start %s: errno %d\n", argv[3], rc);
    return 3;
  }

  bool timed_out = false;
  timespec const deadline{start.tv_sec + limit, start.tv_nsec};
  int status = 0;
  rusage ru{};
  for (;;) {
    pid_t const w = wait4(pid, &status, WNOHANG, &ru);
    if (w == pid) break;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    double const left = seconds(deadline) - seconds(now);
    if (left <= 0 && !timed_out) {
      timed_out = true;
      kill(pid, SIGKILL);
      continue;
    }
    double const wait_s = left > 0 ? (left < 1.0 ? left : 1.0) : 1.0;
    timespec const wait{static_cast<time_t>(wait_s), static_cast<long>((wait_s - static_cast<double>(static_cast<time_t>(wait_s))) * 1e9)};
    int const sig = sigtimedwait(&chld, nullptr, &wait);  // SIGCHLD, or once a second at most
    if (sig == SIGTERM || sig == SIGINT) kill(pid, SIGKILL);
  }
  clock_gettime(CLOCK_MONOTONIC, &end);

  FILE* f = fopen(result_file, "w");
  if (f == nullptr) return 3;
  fprintf(f, "%d %d %.6f %.6f %.6f %ld\n", status, timed_out ? 1 : 0, seconds(end) - seconds(start),
          seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss);
  return fclose(f) == 0 ? 0 : 3;
}
