// SPDX-License-Identifier: BSL-1.0
// Scenario 6, "rate-limited", and what scenarios 6 and 7 share: the data set, one CLI run
// against a server with limits, and reading the server's counters around it.
#include "runner/scenario_limits.hpp"

#include <velt/mock/server.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value_from.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace velt::bench {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string fmt_num(double v, int decimals) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string exit_text(cli_run const& r) {
  return r.exit_code >= 0 ? std::to_string(r.exit_code) : r.proc.describe();
}

std::vector<std::string> small_pages_flags(std::size_t users) {
  return {"--seed",           "1", "--users",        std::to_string(users), "--items", "6..6", "--page-size", "2",
          "--empty-fraction", "0", "--heavy-users", "0",                   "--no-empty-pages"};
}

fs::path write_users_file(fs::path const& dir, std::string const& name, std::size_t users) {
  auto const p = dir / (name + ".users");
  std::ofstream f(p);
  for (std::size_t i = 1; i <= users; ++i) f << velt::mock::user_id(i) << '\n';
  return p;
}

namespace {

std::string read_all(fs::path const& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// GET /_mock/stats, retried for up to 30 s: during an outage in refuse mode the server resets
/// new connections, the runner's own too. Each reset counts in the server's refused_outage;
/// `resets` says how many of them were the runner's.
json::object stats_when_answered(mock_process const& mock, std::uint64_t& resets) {
  auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      return mock.stats();
    } catch (std::runtime_error const&) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      ++resets;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

}  // namespace

json::object cli_run::to_json() const {
  json::object o;
  o["exit"] = exit_code >= 0 ? json::value(exit_code) : json::value(proc.describe());
  o["wall_s"] = proc.wall_s;
  o["cpu_s"] = proc.user_s + proc.sys_s;
  o["peak_rss_mib"] = static_cast<double>(proc.maxrss_kb) / 1024.0;
  o["users"] = users;
  o["users_ok"] = users_ok;
  o["users_failed"] = users_failed;
  o["users_skipped"] = users_skipped;
  o["files"] = files;
  if (!users_report.empty()) o["report_users"] = users_report;
  o["requests"] = requests;
  o["pages_served"] = pages;
  o["goodput_pages_per_s"] = goodput();
  o["refused_rate"] = refused_rate;
  o["refused_quota"] = refused_quota;
  o["refused_concurrency"] = refused_concurrency;
  o["refused_outage"] = refused_outage;
  o["refused_share"] = refused_share();
  o["connections_opened"] = connections;
  if (!first_failure.empty()) o["first_failure"] = first_failure;
  if (!note.empty()) o["note"] = note;
  return o;
}

cli_run run_cli(limits_settings const& s, mock_process& mock, fs::path const& users_file, std::size_t users,
                fs::path const& out_dir, std::string const& tag, std::vector<std::string> const& extra,
                std::chrono::seconds limit) {
  std::vector<std::string> argv{s.cli_exe.string(), "export",      "--base-url",         mock.url,
                                "--ca-file",        mock.ca_file,  "--org",              mock.organization_id,
                                "--users-file",     users_file.string(), "--out",        out_dir.string(),
                                "--progress",       "never"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto const env = environment_with({"VELT_API_KEY=" + mock.api_key, "VELT_AUTH_TOKEN=" + mock.auth_token});

  cli_run r;
  r.users = users;
  std::uint64_t own_resets = 0;
  auto const before = stats_when_answered(mock, own_resets);
  own_resets = 0;
  auto const err_file = s.work_dir / (tag + ".err");
  r.proc = run_child(argv, env, s.work_dir / (tag + ".out"), err_file, limit, s.exec_helper);
  auto const after = stats_when_answered(mock, own_resets);
  auto delta = [&](char const* name) { return counter(after, name) - counter(before, name); };
  r.requests = delta("requests");
  r.pages = delta("pages_served");
  r.refused_rate = delta("refused_rate");
  r.refused_quota = delta("refused_quota");
  r.refused_concurrency = delta("refused_concurrency");
  r.refused_outage = delta("refused_outage");
  r.refused_outage -= std::min(r.refused_outage, own_resets);
  r.connections = delta("connections_accepted");
  r.connections -= std::min<std::uint64_t>(r.connections, 1);  // the runner's GET /_mock/stats after
  if (!r.proc.timed_out && WIFEXITED(r.proc.status)) r.exit_code = WEXITSTATUS(r.proc.status);

  try {
    auto const report = json::parse(read_all(out_dir / "report.json")).as_object();
    auto const& u = report.at("users").as_object();
    r.users_report = u;
    r.users_ok = u.at("ok").to_number<std::uint64_t>();
    r.users_failed = u.at("failed").to_number<std::uint64_t>();
    if (auto const* sk = u.if_contains("skipped")) r.users_skipped = sk->to_number<std::uint64_t>();
    if (auto const* f = report.if_contains("failures"); f && f->is_array() && !f->as_array().empty()) {
      auto const& first = f->as_array().front().as_object();
      if (auto const* m = first.if_contains("message"); m && m->is_string()) r.first_failure = m->as_string().c_str();
    }
  } catch (std::exception const& e) {
    r.note = std::string("no usable report.json: ") + e.what();
  }
  std::error_code ec;
  for (auto it = fs::directory_iterator(out_dir / "users", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    auto const name = it->path().filename().string();
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0 && name[0] != '.') ++r.files;
  }
  if (!r.expected_exit()) {
    auto const err = read_all(err_file);
    r.stderr_tail = err.substr(err.size() > 2000 ? err.size() - 2000 : 0);
  }
  return r;
}

// ---- scenario 6: rate-limited ------------------------------------------------------------

namespace {

struct limit_case {
  std::string name;    // rate-20, quota, ...
  std::string label;   // for the table
  double rate = 0;     // token bucket: requests per second (0: none)
  std::size_t burst = 10;
  std::string answer = "plain";
  std::uint64_t quota = 0;  // fixed window: requests per window (0: none)
  std::uint64_t window_s = 60;
  bool in_target = true;
  std::size_t users = 0;

  double limit_per_s() const { return rate > 0 ? rate : static_cast<double>(quota) / static_cast<double>(window_s); }
  double at_limit_s() const { return static_cast<double>(users * limits_pages_per_user) / limit_per_s(); }
  std::vector<std::string> flags() const {
    std::vector<std::string> f;
    if (rate > 0) {
      f = {"--rate-limit", fmt_num(rate, 0) + "," + std::to_string(burst), "--rate-limit-answer", answer};
    }
    if (quota > 0) {
      f.push_back("--quota");
      f.push_back(std::to_string(quota) + "/" + std::to_string(window_s));
    }
    return f;
  }
};

std::vector<limit_case> rate_cases(bool quick) {
  // Rate limits: sized to take ~15 s (quick: ~5 s) at the limit.
  double const seconds = quick ? 5 : 15;
  auto sized = [&](limit_case c) {
    c.users = static_cast<std::size_t>(std::ceil(c.limit_per_s() * seconds / static_cast<double>(limits_pages_per_user)));
    return c;
  };
  std::vector<limit_case> out;
  for (double r : {20.0, 100.0, 500.0}) {
    limit_case c;
    c.name = "rate-" + fmt_num(r, 0);
    c.label = fmt_num(r, 0) + "/s, 429 without Retry-After";
    c.rate = r;
    out.push_back(sized(c));
  }
  limit_case ra;
  ra.name = "rate-100-retry-after";
  ra.label = "100/s, 429 with Retry-After (not in the target)";
  ra.rate = 100;
  ra.answer = "retry-after";
  ra.in_target = false;
  out.push_back(sized(ra));
  // The quota: 1.5 windows' worth of requests, so the run has to wait for a second window.
  // 90 s at the average rate in a full run; quick runs use a 10 s window instead of a minute.
  limit_case q;
  q.name = "quota";
  q.quota = quick ? 100 : 600;
  q.window_s = quick ? 10 : 60;
  q.label = std::to_string(q.quota) + " per " + (quick ? std::string("10 s") : std::string("minute")) +
            " (fixed window, RESOURCE_EXHAUSTED)";
  q.users = static_cast<std::size_t>(q.quota * 3 / 2 / limits_pages_per_user);
  out.push_back(q);
  return out;
}

}  // namespace

limits_report run_rate_limited(limits_settings const& s) {
  limits_report rep;
  rep.json["id"] = "rate-limited";
  rep.json["title"] = "6. Rate-limited export";
  std::ostringstream md;
  md << "### 6. Rate-limited export\n\n"
        "`velt-gdpr export` at its default settings (no throughput flags) against velt-mock-server's limits: a "
        "token bucket (`--rate-limit R,10`: 10 tokens, refilled at R per second; a request without a token is "
        "refused at once with HTTP 429, no `Retry-After`, as nginx's `limit_req` answers) and a fixed-window "
        "quota (`--quota N/S`: HTTP 429 RESOURCE_EXHAUSTED, \"Try again after 1 minute.\"). "
     << limits_pages_per_user
     << " small pages per user; each case sized to take ~" << (s.quick ? 5 : 15)
     << " s at the limit, the quota 1.5 windows. Goodput = pages served ÷ wall time; refused = refusals ÷ "
        "all API requests the server read. One fresh server per case.\n\n";
  limits_target t{"T9", "Rate-limited (issue 13): goodput ≥ 0.9 × the limit with ≤ 5 % of requests refused, at every "
                        "limit (and no user failed)",
                  "not run", std::nullopt};
  json::array cases;
  if (!s.cli_available) {
    md << "Not run: velt-gdpr is not available.\n\n";
    rep.markdown = md.str();
    rep.targets.push_back(t);
    return rep;
  }
  md << "| case | limit | users × pages | at the limit s | wall s | exit | users failed | pages served / all | goodput "
        "pages/s | goodput / limit | requests | refused | target |\n"
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n";
  bool all_met = true;
  std::string measured;
  for (auto const& c : rate_cases(s.quick)) {
    s.check_stop();
    std::fprintf(stderr, "== rate-limited %s: velt-mock-server %s, %zu users × %zu pages\n", c.name.c_str(),
                 c.label.c_str(), c.users, limits_pages_per_user);
    auto flags = small_pages_flags(c.users);
    auto const extra = c.flags();
    flags.insert(flags.end(), extra.begin(), extra.end());
    mock_process mock(s.mock_exe, flags, s.work_dir / ("rate-limited-" + c.name + "-server.log"),
                      std::chrono::seconds(120));
    auto const users_file = write_users_file(s.work_dir, "rate-limited-" + c.name, c.users);
    auto const out_dir = s.work_dir / ("out-rate-limited-" + c.name);
    auto const limit = std::chrono::seconds(static_cast<long>(c.at_limit_s() * 4) + 120);
    auto const r = run_cli(s, mock, users_file, c.users, out_dir, "rate-limited-" + c.name, {}, limit);
    mock.stop();
    std::error_code ec;
    fs::remove_all(out_dir, ec);
    s.check_stop();

    double const fraction = r.goodput() / c.limit_per_s();
    bool const met = fraction >= 0.9 && r.refused_share() <= 0.05 && r.users_failed == 0 && r.exit_code == 0;
    if (!r.expected_exit()) rep.failed = true;
    std::fprintf(stderr, "   exit %s in %.2f s: %llu pages served, %.1f pages/s = %.2f of the limit, %.1f %% refused, "
                         "%llu of %zu users failed%s\n",
                 exit_text(r).c_str(), r.proc.wall_s, static_cast<unsigned long long>(r.pages), r.goodput(), fraction,
                 100 * r.refused_share(), static_cast<unsigned long long>(r.users_failed), c.users,
                 r.first_failure.empty() ? "" : ("; first failure: " + r.first_failure).c_str());
    if (!r.stderr_tail.empty()) std::fprintf(stderr, "   stderr of velt-gdpr:\n%s\n", r.stderr_tail.c_str());

    md << "| " << c.name << " | " << c.label << " | " << c.users << " × " << limits_pages_per_user << " | "
       << fmt_num(c.at_limit_s(), 1) << " | " << fmt_num(r.proc.wall_s) << " | " << exit_text(r) << " | "
       << r.users_failed << " | " << r.pages << " / " << c.users * limits_pages_per_user << " | "
       << fmt_num(r.goodput(), 1) << " | " << (r.exit_code == 0 ? fmt_num(fraction) : "(" + fmt_num(fraction) + ")")
       << " | " << r.requests << " | " << fmt_num(100 * r.refused_share(), 1) << " % | "
       << (c.in_target ? (met ? "met" : "**missed**") : (met ? "(met)" : "(missed)")) << " |\n";

    json::object o;
    o["case"] = c.name;
    o["limit"] = c.label;
    o["server_flags"] = json::value_from(extra);
    o["limit_per_s"] = c.limit_per_s();
    o["users"] = c.users;
    o["pages_per_user"] = limits_pages_per_user;
    o["at_limit_s"] = c.at_limit_s();
    o["goodput_fraction_of_limit"] = fraction;
    o["in_target"] = c.in_target;
    o["target_met"] = met;
    o["run"] = r.to_json();
    cases.push_back(std::move(o));
    if (c.in_target) {
      all_met = all_met && met;
      measured += (measured.empty() ? "" : "; ") + c.name + ": " + fmt_num(fraction) + " of the limit, " +
                  fmt_num(100 * r.refused_share(), 1) + " % refused, " + std::to_string(r.users_failed) + " of " +
                  std::to_string(c.users) + " users failed, exit " + exit_text(r);
    }
  }
  md << "\n";
  if (s.quick)
    md << "Quick mode: the quota is 100 per 10 s instead of 600 per minute (same average rate; the refusals say "
          "\"Try again after 10 seconds.\").\n\n";
  md << "Goodput is over the run's wall time. A run that stops early (users failed) can show a high goodput "
        "for the few pages it fetched (the bucket's first 10 tokens, the quota's first window): its ratio is in "
        "parentheses and says little. "
        "A fixed window allows bursts: a client that spends each window's quota at once can finish in less time "
        "than \"at the limit s\", so goodput / limit above 1 is possible for the quota.\n\n";
  rep.markdown = md.str();
  rep.json["cases"] = std::move(cases);
  t.measured = measured;
  t.met = all_met;
  rep.targets.push_back(t);
  return rep;
}

}  // namespace velt::bench
