// SPDX-License-Identifier: BSL-1.0
// velt-gdpr export under crashes (issue 7): kill -9 at random moments of an export,
// resuming after each kill, until at least 20 kills have landed mid-run.
//
// At every kill (the process is dead, so this is what it left):
//   - every file in DIR/users is a complete export: parseable and byte-identical to the
//     file of an uninterrupted run; DIR/users holds no other name (no temporaries);
//   - files never disappear or change once published; journals and report.json are whole;
// throughout every run (inotify on DIR/users, so also between kills): a file's name
// appears only when it is complete and is never written to afterwards; no other name
// appears;
// for every run (the server's per-user, per-page request counters):
//   - a user whose file existed when the run started gets no request at all, and a user
//     resumed from a journal of P pages gets no request for its pages 0 .. P-1;
// and when a run completes, DIR/users is byte-identical to the uninterrupted run's (same
// names, same bytes: --exported-at fixes the timestamps) and nothing partial is left.
//
// Kill delays come from std::mt19937 seeded from VELT_CRASH_SEED (decimal or 0x...; by
// default a random seed), printed at the start and with every failure; VELT_CRASH_VERBOSE
// prints one line per run. They are spread over the expected rest of the export, so kills
// land at start-up, in page streams, in checkpoints, while files are published, at exit.
#include "cli_support.hpp"

#include "core/export_journal.hpp"

#include <fcntl.h>
#include <sys/inotify.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>

namespace velt::test::cli {
namespace {

constexpr char const* fixed_time = "2026-11-26T10:00:00Z";
constexpr std::size_t regular_users = 300;
constexpr std::size_t heavy_users = 6;  // ~11 pages each, slower pages
constexpr std::size_t kills_wanted = 20;
constexpr std::size_t max_runs = 200;  // bound on the loop (completed runs included)
// Every request waits base_latency + up to base_jitter; a heavy user's pages wait another
// heavy_latency + up to heavy_jitter, so that long users stay in flight for a while.
constexpr std::chrono::milliseconds base_latency{4}, base_jitter{8}, heavy_latency{60}, heavy_jitter{40};
// Rough time of one page of a user (latency and the client's work), for the kill delays.
constexpr std::chrono::milliseconds light_page = base_latency + base_jitter / 2 + std::chrono::milliseconds(15);
constexpr std::chrono::milliseconds heavy_page = light_page + heavy_latency + heavy_jitter / 2;

std::uint32_t crash_seed() {
  if (char const* s = std::getenv("VELT_CRASH_SEED"); s != nullptr && *s != '\0') {
    return static_cast<std::uint32_t>(std::stoul(s, nullptr, 0));
  }
  return std::random_device{}();
}

/// Whether the file system of `dir` has O_TMPFILE. Where it lacks it, the program writes
/// hidden `.tmp-*` files and renames them (atomic_file.hpp), and a kill may leave one behind.
bool has_o_tmpfile(fs::path const& dir) {
  int const fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool is_temporary(std::string const& name) { return name.rfind(".tmp-", 0) == 0; }

/// `dir` and `dir`/users, mode 0700, so that users/ can be watched from the start.
void make_output_dir(fs::path const& dir) {
  fs::create_directories(dir / "users");
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(dir / "users", fs::perms::owner_all, fs::perm_options::replace);
}

/// Watches DIR/users (inotify) through every run into one output directory: a name of the
/// export may appear once (created, or renamed into place) and is then never written to,
/// replaced, renamed or removed; no other name appears (hidden `.tmp-*` files only where
/// the file system lacks O_TMPFILE). Unlike the checks at the kills, this sees every moment
/// of the runs: a file that is visible while it is being written is caught even when no
/// kill lands in the microseconds it takes. Writes to an unnamed O_TMPFILE are reported as
/// "#<inode>" and are fine. `check()` reads the queued events (a run makes a few thousand,
/// well below the kernel's queue bound).
class users_dir_watch {
 public:
  users_dir_watch(fs::path const& users_dir, std::set<std::string> expected, bool temporaries_allowed)
      : expected_(std::move(expected)), temporaries_allowed_(temporaries_allowed) {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error("inotify_init1 failed");
    if (::inotify_add_watch(fd_, users_dir.c_str(),
                            IN_CREATE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF |
                                IN_MOVE_SELF) < 0) {
      ::close(fd_);
      throw std::runtime_error("inotify_add_watch " + users_dir.string() + " failed");
    }
  }
  ~users_dir_watch() { ::close(fd_); }
  users_dir_watch(users_dir_watch const&) = delete;
  users_dir_watch& operator=(users_dir_watch const&) = delete;

  /// Reads the events so far (call when no writer runs, so that all of them are queued);
  /// what broke the rules, if anything.
  std::vector<std::string> check() {
    std::vector<std::string> problems;
    alignas(inotify_event) char buf[64 * 1024];
    for (;;) {
      ssize_t const n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;  // EAGAIN: nothing more
      for (char const* p = buf; p < buf + n;) {
        inotify_event ev;
        std::memcpy(&ev, p, sizeof ev);
        std::string const name = ev.len > 0 ? std::string(p + sizeof ev) : std::string();
        p += sizeof ev + ev.len;
        ++events_;
        on_event(ev.mask, name, problems);
      }
    }
    return problems;
  }
  std::size_t appeared() const { return visible_.size(); }
  std::uint64_t events() const { return events_; }

 private:
  void on_event(std::uint32_t mask, std::string const& name, std::vector<std::string>& problems) {
    if (mask & IN_Q_OVERFLOW) {
      problems.push_back("inotify queue overflow: events were lost");
      return;
    }
    if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
      problems.push_back("users/ itself was removed or moved");
      return;
    }
    if (name.empty() || name[0] == '#') return;  // an unnamed O_TMPFILE
    if (temporaries_allowed_ && is_temporary(name)) return;
    bool const expected = expected_.count(name) > 0;
    if (mask & (IN_CREATE | IN_MOVED_TO)) {
      if (!expected) {
        problems.push_back("an unexpected name appeared in users/: " + name);
      } else if (!visible_.insert(name).second) {
        problems.push_back(name + " was replaced after it had appeared");
      }
    } else if ((mask & IN_MODIFY) && expected) {
      problems.push_back(name + " was written to after it had appeared (visible while incomplete)");
    } else if ((mask & (IN_DELETE | IN_MOVED_FROM)) && expected) {
      problems.push_back(name + " was removed or renamed after it had appeared");
    }
  }

  int fd_ = -1;
  std::set<std::string> expected_;
  bool temporaries_allowed_;
  std::set<std::string> visible_;
  std::uint64_t events_ = 0;
};

void expect_watch_clean(users_dir_watch& watch) {
  auto const problems = watch.check();
  if (problems.empty()) return;
  std::string list;
  for (std::size_t i = 0; i < problems.size() && i < 10; ++i) list += "\n  " + problems[i];
  ADD_FAILURE() << problems.size() << " problems seen in users/ while the program ran:" << list
                << (problems.size() > 10 ? "\n  ..." : "");
}

/// What an output directory holds at one moment (no writer running).
struct disk_state {
  std::map<std::string, std::string> files;             ///< DIR/users: name -> content
  std::map<std::string, std::uint64_t> journal_pages;  ///< user id -> pages of its valid journal
};

/// Reads the state of `out` and checks that nothing partial is visible: the files of
/// DIR/users are exactly reference files (parseable), no other names (but hidden
/// temporaries when allowed), the files of `previous` are still there unchanged, journals
/// and report.json parse.
disk_state inspect(fs::path const& out, std::map<std::string, std::string> const& reference,
                   disk_state const& previous, bool temporaries_allowed) {
  disk_state now;
  now.files = files_in(out / "users");
  if (temporaries_allowed) std::erase_if(now.files, [](auto const& e) { return is_temporary(e.first); });
  for (auto const& [name, content] : now.files) {
    auto const ref = reference.find(name);
    if (ref == reference.end()) {
      ADD_FAILURE() << "unexpected entry in users/: " << name;
      continue;
    }
    auto const before = previous.files.find(name);
    if (before != previous.files.end() && before->second == content) continue;  // checked before
    EXPECT_FALSE(parse_export(out / "users" / name).empty()) << name << " is not a parseable export";
    EXPECT_EQ(content, ref->second) << name << " is not the complete export (" << content.size() << " bytes vs "
                                    << ref->second.size() << ")";
  }
  for (auto const& [name, content] : previous.files) {
    auto const it = now.files.find(name);
    if (it == now.files.end()) {
      ADD_FAILURE() << name << " disappeared";
    } else {
      EXPECT_EQ(it->second, content) << name << " changed after it was published";
    }
  }
  std::error_code ec;
  for (auto it = fs::directory_iterator(out / ".partial", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    fs::path const journal = it->path() / "journal.json";
    if (!fs::exists(journal)) continue;  // a user that spooled before its first checkpoint
    auto const j = velt::gdpr::parse_journal(read_text(journal));
    if (!j) {
      ADD_FAILURE() << journal << " is not a whole journal: " << read_text(journal);
      continue;
    }
    EXPECT_EQ(velt::gdpr::encode_user_id(j->user_id), it->path().filename().string());
    now.journal_pages[j->user_id] = j->pages;
  }
  if (fs::exists(out / "report.json")) {
    EXPECT_FALSE(report_of(out).empty()) << "report.json is not whole JSON: " << read_text(out / "report.json");
  }
  return now;
}

/// The server saw no request, during the run that started from `before`, for a user whose
/// file existed then, nor for a page that a journal had already saved.
void expect_no_refetch(mock::server_stats const& st, disk_state const& before,
                       std::map<std::string, std::string> const& user_of_file) {
  std::vector<std::string> refetched;
  for (auto const& [name, content] : before.files) {
    auto const& user = user_of_file.at(name);
    if (auto const n = st.requests_for_user(user); n > 0) {
      refetched.push_back(user + " (complete before the run): " + std::to_string(n) + " requests");
    }
  }
  for (auto const& [user, pages] : before.journal_pages) {
    for (std::size_t page = 0; page < pages; ++page) {
      if (auto const n = st.requests_for(user, page); n > 0) {
        refetched.push_back(user + " (resumed from a journal of " + std::to_string(pages) + " pages): page " +
                            std::to_string(page) + " requested " + std::to_string(n) + " times");
      }
    }
  }
  if (refetched.empty()) return;
  std::string list;
  for (std::size_t i = 0; i < refetched.size() && i < 10; ++i) list += "\n  " + refetched[i];
  ADD_FAILURE() << refetched.size() << " durable users or pages were fetched again:" << list
                << (refetched.size() > 10 ? "\n  ..." : "");
}

/// No connection of the previous (killed) process is still being handled by the
/// server, so that its counters can be reset for the next run.
void wait_for_quiet_server(mock::server const& srv) {
  ASSERT_TRUE(eventually([&] { return srv.stats().active_connections == 0; }, 10s))
      << "the server still holds connections of a dead process";
}

/// The users file order: the heavy users spread over the light ones, so long users are in
/// flight through most of a run.
std::vector<std::string> user_order(mock::server const& srv) {
  std::vector<std::string> light, heavy;
  for (auto const& u : srv.user_summaries()) (u.heavy ? heavy : light).push_back(u.user_id);
  std::vector<std::string> order;
  std::size_t const stride = light.size() / (heavy.size() + 1);
  for (std::size_t i = 0; i < light.size(); ++i) {
    if (stride > 0 && i % stride == stride / 2 && i / stride < heavy.size()) order.push_back(heavy[i / stride]);
    order.push_back(light[i]);
  }
  for (std::size_t i = order.size() - light.size(); i < heavy.size(); ++i) order.push_back(heavy[i]);
  return order;
}

TEST(CliCrash, KillNineAtRandomMomentsNeverShowsPartialFilesNorRefetches) {
  auto const test_started = std::chrono::steady_clock::now();
  std::uint32_t const seed = crash_seed();
  std::cout << "[ crash    ] VELT_CRASH_SEED=" << seed << "\n";
  SCOPED_TRACE("VELT_CRASH_SEED=" + std::to_string(seed));
  std::mt19937 rng(seed);

  auto so = small_server(regular_users);
  so.data.min_items = 10;
  so.data.max_items = 100;
  so.data.page_size = 40;  // 1 to 3 pages for light users
  so.data.heavy_users = heavy_users;
  so.data.heavy_items = 400;  // about 11 pages
  mock::server srv(so);
  srv.set_latency(base_latency, base_jitter);
  std::vector<std::string> const users = srv.user_ids();
  std::map<std::string, std::string> user_of_file;
  std::uint64_t total_pages = 0;
  for (auto const& u : srv.user_summaries()) {
    user_of_file[velt::gdpr::export_file_name(u.user_id)] = u.user_id;
    total_pages += u.pages;
    if (u.heavy) {
      mock::fault slow;
      slow.kind = mock::fault_kind::latency;
      slow.user_id = u.user_id;
      slow.latency = heavy_latency;
      slow.jitter = heavy_jitter;
      srv.add_fault(slow);
      ASSERT_GE(u.pages, 8u);
    }
  }
  ASSERT_EQ(user_of_file.size(), users.size());
  std::set<std::string> expected_names;
  for (auto const& [name, user] : user_of_file) expected_names.insert(name);

  temp_dir dir;
  bool const temporaries_allowed = !has_o_tmpfile(dir.path());
  if (temporaries_allowed) {
    std::cout << "[ crash    ] " << dir.path() << " has no O_TMPFILE: hidden .tmp-* files are allowed in users/\n";
  }
  auto const file = users_file(dir, user_order(srv));
  std::vector<std::string> const extra = {"--users-file", file.string(), "--exported-at", fixed_time,
                                          "--checkpoint", "0", "--concurrency", "8"};

  // The uninterrupted run, and a rerun of it that has nothing left to do (its time is the
  // fixed cost of a run).
  make_output_dir(dir / "reference");
  users_dir_watch ref_watch(dir / "reference" / "users", expected_names, temporaries_allowed);
  auto const ref_started = std::chrono::steady_clock::now();
  auto const ref = run(export_command(srv, dir / "reference", extra), credentials_env(srv));
  auto const ref_time = std::chrono::steady_clock::now() - ref_started;
  ASSERT_EQ(ref.code, 0) << ref.err;
  auto const reference = files_in(dir / "reference" / "users");
  ASSERT_EQ(reference.size(), users.size());
  expect_exact_export(srv, dir / "reference", users);
  expect_watch_clean(ref_watch);
  EXPECT_EQ(ref_watch.appeared(), users.size());
  ASSERT_NO_FATAL_FAILURE(wait_for_quiet_server(srv));
  srv.reset_stats();
  auto const noop_started = std::chrono::steady_clock::now();
  auto const noop = run(export_command(srv, dir / "reference", extra), credentials_env(srv));
  auto const noop_time = std::chrono::steady_clock::now() - noop_started;
  ASSERT_EQ(noop.code, 0) << noop.err;
  EXPECT_EQ(users_count(report_of(dir / "reference"), "skipped"), users.size());
  EXPECT_EQ(srv.stats().page_requests.size(), 0u);
  expect_watch_clean(ref_watch);
  ASSERT_FALSE(HasFailure());
  using ms = std::chrono::milliseconds;
  auto const fixed_cost = std::max(ms(100), std::chrono::duration_cast<ms>(noop_time));
  auto const work = std::max(ms(200), std::chrono::duration_cast<ms>(ref_time) - fixed_cost);
  std::cout << "[ crash    ] uninterrupted run " << std::chrono::duration_cast<ms>(ref_time).count()
            << " ms, of which fixed " << fixed_cost.count() << " ms; " << total_pages << " pages\n";

  std::size_t kills = 0, completions = 0, runs = 0, cycle = 0;
  std::size_t kills_at_start = 0, kills_after_last_file = 0, journaled_starts = 0;
  std::string history;  // one line per run, for failure messages
  fs::path out;
  disk_state state;
  std::optional<users_dir_watch> watch;
  auto const new_cycle = [&] {
    watch.reset();
    if (!out.empty()) fs::remove_all(out);
    out = dir / ("out-" + std::to_string(cycle++));
    make_output_dir(out);
    watch.emplace(out / "users", expected_names, temporaries_allowed);
    state = disk_state{};
  };
  new_cycle();

  // Until enough kills have landed; then the last output directory is completed by a run
  // that is not killed. Each completed output directory is compared with the reference
  // and replaced by a new one.
  for (;;) {
    ASSERT_LT(runs, max_runs) << "too few kills landed mid-run\n" << history;
    ++runs;
    // The expected rest of the run: the fixed cost plus the longer of the share of the
    // pages not yet durable and the slowest user's chain of pages.
    std::uint64_t remaining_pages = 0;
    ms longest_chain{0};
    for (auto const& u : srv.user_summaries()) {
      if (state.files.count(velt::gdpr::export_file_name(u.user_id))) continue;
      auto const j = state.journal_pages.find(u.user_id);
      std::uint64_t const left =
          u.pages - (j == state.journal_pages.end() ? 0 : std::min<std::uint64_t>(j->second, u.pages));
      remaining_pages += left;
      longest_chain = std::max(longest_chain, static_cast<ms::rep>(left) * (u.heavy ? heavy_page : light_page));
    }
    journaled_starts += state.journal_pages.size();  // users this run resumes from a journal
    double const share = static_cast<double>(remaining_pages) / static_cast<double>(total_pages);
    auto const rest = std::max(ms(static_cast<ms::rep>(share * static_cast<double>(work.count()))), longest_chain);
    // At most an eighth of a whole run's work per kill, so that one output directory takes
    // about fifteen kills and the kills land all over the export, from its start to its
    // last users; a run with nothing left to do is not killed (it would only be a startup).
    auto const span = fixed_cost + std::min(rest + rest / 10, work / 8);
    bool const kill_it = kills < kills_wanted && remaining_pages > 0;
    auto const delay = ms(std::uniform_int_distribution<ms::rep>(0, span.count())(rng));

    ASSERT_NO_FATAL_FAILURE(wait_for_quiet_server(srv));
    srv.reset_stats();
    process p(export_command(srv, out, extra), credentials_env(srv));
    if (kill_it) {
      p.pump(delay);  // returns early when the run ends by itself
      p.signal(SIGKILL);
    }
    auto const code = p.wait(60s);
    ASSERT_TRUE(code.has_value()) << "velt-gdpr did not end; stderr:\n" << p.err();
    ASSERT_NO_FATAL_FAILURE(wait_for_quiet_server(srv));
    auto const stats = srv.stats();

    std::ostringstream line;
    line << "run " << runs << " (out-" << cycle - 1 << "): ";
    if (!kill_it) {
      line << "not killed, ";
    } else {
      line << "kill after " << delay.count() << " ms of " << span.count() << ", ";
    }
    line << "started with " << state.files.size() << " files, "
         << state.journal_pages.size() << " journals; ";
    if (*code == 128 + SIGKILL) {
      ++kills;
      auto const before = state;
      state = inspect(out, reference, before, temporaries_allowed);
      expect_watch_clean(*watch);
      expect_no_refetch(stats, before, user_of_file);
      line << "killed with " << state.files.size() << " files, " << state.journal_pages.size() << " journals, "
           << stats.requests << " requests\n";
      if (state.files.size() == before.files.size() && stats.requests == 0) ++kills_at_start;
      if (state.files.size() == users.size()) ++kills_after_last_file;
    } else {
      ASSERT_EQ(*code, 0) << "run " << runs << " failed\nstdout:\n" << p.out() << "stderr:\n" << p.err();
      ++completions;
      auto const before = state;
      state = inspect(out, reference, before, temporaries_allowed);
      expect_watch_clean(*watch);
      expect_no_refetch(stats, before, user_of_file);
      line << "completed, " << stats.requests << " requests\n";
      // Byte-identical to the uninterrupted run: the same names, the same bytes.
      auto const final_files = files_in(out / "users");
      EXPECT_EQ(final_files.size(), reference.size());
      EXPECT_TRUE(final_files == reference) << "the resumed export differs from the uninterrupted one";
      EXPECT_EQ(watch->appeared(), users.size()) << "not every file was seen appearing once";
      EXPECT_FALSE(fs::exists(out / ".partial")) << "partial state left after a complete run";
      for (auto const& e : fs::directory_iterator(out)) {
        EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << "temporary left: " << e.path();
      }
      if (auto const report = report_of(out); report.empty()) {
        ADD_FAILURE() << "no report.json after a complete run";
      } else {
        EXPECT_EQ(report.at("state"), "complete");
        EXPECT_EQ(users_count(report, "skipped"), before.files.size());  // complete users were skipped
        EXPECT_EQ(users_count(report, "ok") + users_count(report, "skipped"), users.size());
        EXPECT_EQ(users_count(report, "failed"), 0u);
      }
    }
    history += line.str();
    if (HasFailure()) {
      ADD_FAILURE() << "runs so far:\n" << history << "stderr of the last run:\n" << p.err();
      return;
    }
    if (*code == 0) {
      if (kills >= kills_wanted) break;
      new_cycle();
    }
  }
  auto const elapsed = std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - test_started);
  std::cout << "[ crash    ] " << kills << " kills (" << kills_at_start << " before any request, "
            << kills_after_last_file << " after the last file), " << completions << " completed runs, "
            << journaled_starts << " journaled users at run starts, " << cycle << " output directories, "
            << elapsed.count() << " ms\n";
  if (std::getenv("VELT_CRASH_VERBOSE") != nullptr) std::cout << history;
  EXPECT_GE(kills, kills_wanted) << history;
  EXPECT_GT(journaled_starts, 0u) << "no kill left a journal to resume from\n" << history;
}

}  // namespace
}  // namespace velt::test::cli
