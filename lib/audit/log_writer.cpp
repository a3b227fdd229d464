// SPDX-License-Identifier: BSL-1.0
// log_writer: appends hash-chained lines to one log shared by processes (design note §5):
// O_APPEND, flock(LOCK_EX) per batch, torn tails cut and recorded, a bad tail refused.
#include "audit/crypto.hpp"
#include "audit/file_io.hpp"
#include "audit/key.hpp"
#include "audit/line.hpp"

#include <velt/audit.hpp>
#include <velt/version.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace velt::audit {

namespace json = boost::json;

namespace detail {

class writer_state {
 public:
  std::filesystem::path file;
  writer_options options;
  unique_fd fd;
  std::string run_id;
  std::mutex mutex;
  std::vector<std::string> secrets;  // raw and JSON-escaped forms
  std::shared_ptr<detail::key const> signer_key;
  bool begun = false;
  bool ended = false;
  std::uint64_t lines_written = 0;
  // The chain's tail as this writer last left it; re-read when the file's size differs.
  std::optional<std::uint64_t> known_end;
  std::uint64_t tail_seq = 0;
  std::string tail_h = std::string(zero_hash);
  line_ref last_written;

  // Appends `events` (already checked) as one batch; `signer` signs the last one.
  line_ref append(std::vector<event> const& events, line_signer const* signer);

 private:
  std::optional<event> repair_tail(std::uint64_t size);
  std::string build(std::vector<event> const& events, line_signer const* signer, line_ref& last) const;
};

namespace {

struct unlock_on_exit {
  int fd;
  ~unlock_on_exit() { unlock_file(fd); }
};

std::string escaped(std::string_view s) {
  std::string out = json::serialize(json::string(s));
  return out.substr(1, out.size() - 2);
}

}  // namespace

// Under the lock: finds the chain's tail. Bytes after the last newline are a torn write:
// cut off (made durable before anything is chained on) and described by the returned `cut`
// event. A last complete line that fails its own checks is refused.
std::optional<event> writer_state::repair_tail(std::uint64_t size) {
  std::uint64_t complete_end = 0;  // just after the last newline
  for (std::uint64_t pos = size; pos > 0;) {
    std::uint64_t const n = std::min<std::uint64_t>(max_line_bytes, pos);
    std::string const chunk = pread_exact(fd.get(), pos - n, static_cast<std::size_t>(n), file);
    auto const nl = chunk.rfind('\n');
    if (nl != std::string::npos) {
      complete_end = pos - n + nl + 1;
      break;
    }
    pos -= n;
  }
  std::optional<event> cut;
  if (complete_end < size) {
    std::string const torn = pread_exact(fd.get(), complete_end, static_cast<std::size_t>(size - complete_end), file);
    if (::ftruncate(fd.get(), static_cast<off_t>(complete_end)) != 0) throw_io("cannot cut the torn tail of", file, errno);
    if (::fdatasync(fd.get()) != 0) throw_io("cannot sync", file, errno);
    json::object m;
    m.emplace("offset", complete_end);
    m.emplace("bytes", size - complete_end);
    m.emplace("sha256", sha256_hex(torn));
    m.emplace("reason", "no newline");
    cut = event{"cut", std::move(m)};
  }
  tail_seq = 0;
  tail_h = std::string(zero_hash);
  if (complete_end > 0) {
    std::uint64_t const start = complete_end - 1 > max_line_bytes ? complete_end - 1 - max_line_bytes : 0;
    std::string const before = pread_exact(fd.get(), start, static_cast<std::size_t>(complete_end - 1 - start), file);
    auto const nl = before.rfind('\n');
    auto const refuse = [&](std::string const& why) {
      // A rare path: count the lines to name the bad one as the verifier will.
      std::uint64_t lines = 0;
      for (std::uint64_t at = 0; at < complete_end; at += max_line_bytes) {
        auto const chunk = pread_exact(fd.get(), at, static_cast<std::size_t>(std::min<std::uint64_t>(max_line_bytes, complete_end - at)), file);
        lines += static_cast<std::uint64_t>(std::count(chunk.begin(), chunk.end(), '\n'));
      }
      throw error(error_kind::tampered_tail, "audit log " + file.string() + ": line " + std::to_string(lines) +
                                                 " does not verify (" + why + "); see velt-gdpr audit verify");
    };
    if (nl == std::string::npos && start > 0) refuse("longer than 64 KiB");
    std::string_view const text = nl == std::string::npos ? std::string_view(before) : std::string_view(before).substr(nl + 1);
    auto const checked = check_line(text);
    if (!checked.line) refuse(checked.reason);
    tail_seq = checked.line->seq;
    tail_h = checked.line->h;
  }
  known_end = complete_end;
  return cut;
}

std::string writer_state::build(std::vector<event> const& events, line_signer const* signer, line_ref& last) const {
  std::string const at = format_utc_ms(std::chrono::system_clock::now());
  std::string out;
  std::uint64_t seq = tail_seq;
  std::string prev = tail_h;
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto const& e = events[i];
    bool const signed_line = signer != nullptr && i + 1 == events.size();
    auto line = build_line(envelope{seq + 1, prev, run_id, at}, e.name, e.members, signed_line ? signer : nullptr);
    std::string_view const text = std::string_view(line.text).substr(0, line.text.size() - 1);
    if (line.text.size() > max_line_bytes) {
      throw error(error_kind::invalid_argument, "audit event " + e.name + ": its line would be longer than 64 KiB");
    }
    for (auto const& secret : secrets) {
      if (text.find(secret) != std::string_view::npos) {
        throw error(error_kind::secret_in_line, "audit event " + e.name + " would write a forbidden string (a secret)");
      }
    }
    // What is written must verify: this catches what the members cannot express (bytes
    // that are not UTF-8 in a string, say) before it reaches the file.
    auto const checked = check_line(text);
    if (!checked.line) {
      throw error(error_kind::invalid_argument, "audit event " + e.name + " cannot be written: " + checked.reason);
    }
    ++seq;
    prev = line.h;
    out += line.text;
  }
  last = line_ref{seq, prev};
  return out;
}

line_ref writer_state::append(std::vector<event> const& events, line_signer const* signer) {
  lock_file(fd.get(), LOCK_EX, options.lock_timeout, file);
  unlock_on_exit unlock{fd.get()};
  std::uint64_t const size = file_size(fd.get(), file);
  std::vector<event> batch;
  if (!known_end || *known_end != size) {
    known_end.reset();
    if (auto cut = repair_tail(size)) batch.push_back(std::move(*cut));
  }
  bool const had_cut = !batch.empty();
  batch.insert(batch.end(), events.begin(), events.end());
  // run_end (only end_run writes one, always alone) counts this run's lines, itself and a
  // cut written just before it in this batch included.
  if (!batch.empty() && batch.back().name == "run_end") batch.back().members["lines"] = lines_written + batch.size();
  line_ref last;
  std::string bytes;
  try {
    bytes = build(batch, signer, last);
  } catch (error const&) {
    if (had_cut) {  // the cut happened: record it even though this batch is refused
      line_ref cut_ref;
      std::string const cut_line = build({batch.front()}, nullptr, cut_ref);
      known_end.reset();
      write_all(fd.get(), cut_line, file);
      known_end = size + cut_line.size();
      tail_seq = cut_ref.seq;
      tail_h = cut_ref.h;
      ++lines_written;
      last_written = cut_ref;
    }
    throw;
  }
  known_end.reset();  // a failed or short write leaves an unknown tail
  write_all(fd.get(), bytes, file);
  known_end = size + bytes.size();
  tail_seq = last.seq;
  tail_h = last.h;
  lines_written += batch.size();
  if (!batch.empty()) last_written = last;
  if (had_cut && ::fdatasync(fd.get()) != 0) throw_io("cannot sync", file, errno);
  return last;
}

}  // namespace detail

log_writer::log_writer(std::unique_ptr<detail::writer_state> state) : state_(std::move(state)) {}
log_writer::log_writer(log_writer&&) noexcept = default;
log_writer& log_writer::operator=(log_writer&&) noexcept = default;
log_writer::~log_writer() = default;

log_writer log_writer::open(std::filesystem::path const& file, writer_options options) {
  auto s = std::make_unique<detail::writer_state>();
  s->file = file;
  s->options = options;
  if (file.has_parent_path()) detail::make_private_directories(file.parent_path());
  int const flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
  detail::unique_fd fd(::open(file.c_str(), flags | O_CREAT | O_EXCL, 0600));
  if (fd.get() >= 0) {
    if (::fchmod(fd.get(), 0600) != 0) detail::throw_io("cannot chmod", file, errno);  // against umask
  } else if (errno == EEXIST) {
    fd = detail::unique_fd(::open(file.c_str(), flags));
    if (fd.get() < 0) detail::throw_io("cannot open", file, errno);
  } else {
    detail::throw_io("cannot create", file, errno);
  }
  s->fd = std::move(fd);
  s->run_id = detail::random_hex(16);
  s->append({}, nullptr);  // checks the tail now: a torn one is cut, a bad one refused
  return log_writer(std::move(s));
}

std::string const& log_writer::run_id() const noexcept { return state_->run_id; }
std::filesystem::path const& log_writer::file() const noexcept { return state_->file; }

void log_writer::forbid(std::vector<std::string> secrets) {
  std::lock_guard lock(state_->mutex);
  for (auto& s : secrets) {
    if (s.empty()) continue;
    std::string esc = detail::escaped(s);
    if (esc != s) state_->secrets.push_back(std::move(esc));
    state_->secrets.push_back(std::move(s));
  }
}

line_ref log_writer::begin_run(run_info const& info, signing_key const* key) {
  std::lock_guard lock(state_->mutex);
  auto& s = *state_;
  if (s.begun) throw error(error_kind::invalid_argument, "audit log " + s.file.string() + ": run already begun");
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  json::object m;
  m.emplace("tool", info.tool);
  m.emplace("toolVersion", info.tool_version.empty() ? std::string(VELT_VERSION_STRING) : info.tool_version);
  m.emplace("command", info.command);
  m.emplace("host", std::string_view(host));
  m.emplace("pid", static_cast<std::int64_t>(::getpid()));
  m.emplace("organizationId", info.organization_id);
  m.emplace("baseUrl", info.base_url);
  if (info.dir) m.emplace("dir", info.dir->string());
  json::array args;
  for (auto const& a : info.args) args.emplace_back(a);
  m.emplace("args", std::move(args));
  if (info.args_omitted > 0) m.emplace("argsOmitted", info.args_omitted);
  if (key != nullptr) m.emplace("keySha256", key->key_->fingerprint);
  auto const ref = s.append({event{"run_start", std::move(m)}}, nullptr);
  s.begun = true;
  if (key != nullptr) s.signer_key = key->key_;
  return ref;
}

line_ref log_writer::append(std::span<event const> events) {
  for (auto const& e : events) {
    detail::check_event(e.name, e.members);
    if (e.name == "run_start" || e.name == "run_end" || e.name == "cut") {
      throw error(error_kind::invalid_argument, "audit event " + e.name + " is the writer's (begin_run, end_run, open)");
    }
  }
  std::lock_guard lock(state_->mutex);
  auto& s = *state_;
  if (!s.begun || s.ended) {
    throw error(error_kind::invalid_argument,
                "audit log " + s.file.string() + ": events are appended between begin_run and end_run");
  }
  if (events.empty()) return s.last_written;
  return s.append(std::vector<event>(events.begin(), events.end()), nullptr);
}

line_ref log_writer::append(event const& e) { return append(std::span<event const>(&e, 1)); }

void log_writer::sync() {
  std::lock_guard lock(state_->mutex);
  if (::fdatasync(state_->fd.get()) != 0) detail::throw_io("cannot sync", state_->file, errno);
}

line_ref log_writer::end_run(std::string_view state, int exit_status, json::object const& counts) {
  detail::check_event("run_end", counts);
  std::lock_guard lock(state_->mutex);
  auto& s = *state_;
  if (!s.begun || s.ended) throw error(error_kind::invalid_argument, "audit log " + s.file.string() + ": no run to end");
  for (std::string_view reserved : {"state", "exitStatus", "lines"}) {
    if (counts.contains(reserved)) {
      throw error(error_kind::invalid_argument, "audit event run_end: member \"" + std::string(reserved) + "\" is the writer's");
    }
  }
  json::object m;
  m.emplace("state", state);
  m.emplace("exitStatus", exit_status);
  m.emplace("lines", 0);  // set under the lock, when the batch is known

  for (auto const& c : counts) m.emplace(c.key(), c.value());
  std::optional<detail::line_signer> signer;
  if (s.signer_key) {
    auto key = s.signer_key;
    signer = detail::line_signer{key->fingerprint, [key](std::string_view message) {
                                   return signing_key(key).sign(message);
                                 }};
  }
  auto const ref = s.append({event{"run_end", std::move(m)}}, signer ? &*signer : nullptr);
  s.ended = true;
  if (::fdatasync(s.fd.get()) != 0) detail::throw_io("cannot sync", s.file, errno);
  return ref;
}

line_ref log_writer::head() const {
  std::lock_guard lock(state_->mutex);
  return state_->last_written;
}

}  // namespace velt::audit
