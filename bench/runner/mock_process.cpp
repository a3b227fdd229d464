#include "runner/mock_process.hpp"

#include "runner/process.hpp"

#include <boost/json/parse.hpp>

#include <curl/curl.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace velt::bench {

namespace json = boost::json;

mock_process::mock_process(std::filesystem::path const& exe, std::vector<std::string> const& flags,
                           std::filesystem::path const& log_file, std::chrono::seconds ready_limit) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  int const log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  std::vector<std::string> argv{exe.string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  try {
    pid_ = spawn(argv, environment_with({}), pipe_fds[1], log < 0 ? 2 : log);
  } catch (...) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    if (log >= 0) ::close(log);
    throw;
  }
  ::close(pipe_fds[1]);
  if (log >= 0) ::close(log);

  // The ready line.
  std::string line;
  auto const deadline = std::chrono::steady_clock::now() + ready_limit;
  while (line.find('\n') == std::string::npos) {
    auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{pipe_fds[0], POLLIN, 0};
    int const n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0) continue;
    char buf[4096];
    ssize_t const got = ::read(pipe_fds[0], buf, sizeof buf);
    if (got <= 0) break;
    line.append(buf, static_cast<std::size_t>(got));
  }
  ::close(pipe_fds[0]);  // nothing else comes on stdout
  if (line.find('\n') == std::string::npos) {
    stop();
    throw std::runtime_error("velt-mock-server did not start (see " + log_file.string() + ")");
  }
  auto const ready = json::parse(line.substr(0, line.find('\n'))).as_object();
  url = ready.at("url").as_string().c_str();
  ca_file = ready.at("ca_file").as_string().c_str();
  api_key = ready.at("api_key").as_string().c_str();
  auth_token = ready.at("auth_token").as_string().c_str();
  organization_id = ready.at("organization_id").as_string().c_str();
}

mock_process::~mock_process() { stop(); }

void mock_process::stop() {
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

double mock_process::cpu_seconds() const { return process_cpu_seconds(pid_); }

namespace {
std::size_t append_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}
}  // namespace

json::object mock_process::stats() const {
  CURL* easy = curl_easy_init();
  std::string body;
  std::string const stats_url = url + "/_mock/stats";
  curl_easy_setopt(easy, CURLOPT_URL, stats_url.c_str());
  curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  CURLcode const rc = curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  if (rc != CURLE_OK) throw std::runtime_error(std::string("GET /_mock/stats: ") + curl_easy_strerror(rc));
  return json::parse(body).as_object();
}

std::uint64_t counter(json::object const& stats, char const* name) {
  auto const* v = stats.if_contains(name);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64()) return static_cast<std::uint64_t>(v->get_int64());
  if (v->is_double()) return static_cast<std::uint64_t>(v->get_double());
  return 0;
}

}  // namespace velt::bench
