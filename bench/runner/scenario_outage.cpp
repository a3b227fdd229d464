// SPDX-License-Identifier: BSL-1.0
// Scenario 7, "outage": the upstream goes down for 4 s during a run of `velt-gdpr export` at
// its default settings. The same run without an outage gives the wall time to compare with
// and the full speed to come back to; velt-mock-server's counters, sampled every 100 ms
// (stats_poller), show when pages flow again after the upstream's return.
#include "runner/scenario_limits.hpp"
#include "runner/stats_poller.hpp"

#include <boost/json/value_from.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace velt::bench {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr auto poll_interval = std::chrono::milliseconds(100);
constexpr double window_s = 0.5;      // speeds are measured over half-second windows
constexpr double full_speed = 0.9;    // "full speed": at least 90 % of the run without an outage

struct outage_case {
  std::string name, mode;  // mode: "" (no outage), refuse, html503
  double start_s = 0, duration_s = 0;
};

/// One run with its server's counters over time (times from the server's ready line).
struct timed_run {
  cli_run run;
  std::vector<stats_sample> samples;
  double ready_after_s = 0;  // spawn of the server to its ready line: the outage may start up to this much earlier
  double client_start_s = 0;
  std::uint64_t samples_missed = 0;  // /_mock/stats requests the server did not answer
};

std::string outage_flag(double start_s, double duration_s) {
  return fmt_num(start_s * 1000, 0) + "ms+" + fmt_num(duration_s * 1000, 0) + "ms";
}

/// Median of the half-second speeds between the first and the last page served.
double steady_speed(std::vector<stats_sample> const& s) {
  if (s.size() < 2) return NAN;
  double first = NAN, last = NAN;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i].pages_served == s[i - 1].pages_served) continue;
    if (std::isnan(first)) first = s[i - 1].t_s;
    last = s[i].t_s;
  }
  std::vector<double> speeds;
  for (double t = first; t + window_s <= last; t += 0.1) speeds.push_back(pages_per_s_between(s, t, t + window_s));
  if (speeds.empty()) return NAN;
  std::nth_element(speeds.begin(), speeds.begin() + static_cast<std::ptrdiff_t>(speeds.size() / 2), speeds.end());
  return speeds[speeds.size() / 2];
}

/// After the outage's end: when the first page was served, and when the run was back at full
/// speed (the start of the first half-second at >= 90 % of `reference`). NaN: never.
std::pair<double, double> recovery(std::vector<stats_sample> const& s, double end_s, double reference) {
  double first_page = NAN, back = NAN;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i].t_s > end_s && s[i].pages_served > s[i - 1].pages_served) {
      first_page = std::max(s[i - 1].t_s, end_s) - end_s;  // pages came in (s[i-1], s[i]]
      break;
    }
  }
  for (double t = end_s; !s.empty() && t + window_s <= s.back().t_s; t += 0.05) {
    if (pages_per_s_between(s, t, t + window_s) >= full_speed * reference) {
      back = t - end_s;
      break;
    }
  }
  return {first_page, back};
}

timed_run run_with_server(limits_settings const& s, std::string const& tag, std::size_t users,
                          std::vector<std::string> const& outage_flags, std::vector<std::string> const& extra,
                          fs::path const& out_dir, bool poll, std::optional<double> rerun_after_s = std::nullopt,
                          cli_run* rerun = nullptr) {
  auto flags = small_pages_flags(users);
  for (auto const* f : {"--latency", "80,40"}) flags.emplace_back(f);
  flags.insert(flags.end(), outage_flags.begin(), outage_flags.end());
  auto const spawned = std::chrono::steady_clock::now();
  mock_process mock(s.mock_exe, flags, s.work_dir / ("outage-" + tag + "-server.log"), std::chrono::seconds(120));
  auto const ready = std::chrono::steady_clock::now();
  auto const users_file = write_users_file(s.work_dir, "outage-" + tag, users);
  timed_run tr;
  tr.ready_after_s = std::chrono::duration<double>(ready - spawned).count();
  std::optional<stats_poller> poller;
  if (poll) poller.emplace(mock.url, mock.ca_file, poll_interval, ready);
  tr.client_start_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - ready).count();
  tr.run = run_cli(s, mock, users_file, users, out_dir, "outage-" + tag, extra, std::chrono::seconds(240));
  if (poller) {
    tr.samples = poller->stop();
    tr.samples_missed = poller->failures();
  }
  if (rerun_after_s && rerun) {
    // The rerun starts once the upstream is back (the outage's nominal end, plus a margin).
    std::this_thread::sleep_until(ready + std::chrono::duration<double>(*rerun_after_s));
    s.check_stop();
    *rerun = run_cli(s, mock, users_file, users, out_dir, "outage-" + tag + "-rerun", extra, std::chrono::seconds(240));
  }
  mock.stop();
  return tr;
}

json::array series_json(std::vector<stats_sample> const& samples) {
  json::array a;
  for (auto const& x : samples)
    a.push_back(json::array{std::round(x.t_s * 1000) / 1000, x.pages_served, x.requests, x.refused_outage});
  return a;
}

}  // namespace

limits_report run_outage(limits_settings const& s) {
  limits_report rep;
  rep.json["id"] = "outage";
  rep.json["title"] = "7. Outage";
  std::size_t const users = s.quick ? 1000 : 2000;
  double const start_s = s.quick ? 1.5 : 3.0, duration_s = 4.0;
  std::ostringstream md;
  md << "### 7. Outage\n\n`velt-gdpr export` at its default settings, " << users << " users × "
     << limits_pages_per_user
     << " small pages, velt-mock-server answering after 80–120 ms (`--latency 80,40`). The upstream is down for "
     << fmt_num(duration_s, 0) << " s from " << fmt_num(start_s, 1)
     << " s after the server's start (`--outage`): `refuse` resets new connections and requests on open ones, "
        "`html503` answers every request with nginx's 503 page. Cost = wall time − the same run's without an "
        "outage. The server's counters are sampled every 100 ms on a kept-alive connection (it reports totals, "
        "not per-second counts); full speed is the median half-second speed of the run without an outage; "
        "\"back to full speed\" is the start of the first half-second after the outage's end served at ≥ 90 % of "
        "it, and \"first page\" the first 100 ms sample after the end with more pages served. Times count from "
        "the end as the server's ready line dates it (the server's clock starts a little earlier, by at most its "
        "start-up time, so both may be that much too short).\n\n";
  limits_target t10{"T10", "Outage (issue 13): a 4 s outage costs ≤ 5 s of wall time and no user (both modes)",
                    "not run", std::nullopt};
  limits_target t11{"T11", "Outage longer than --max-stall: the run stops cleanly (exit 3) and its rerun completes",
                    "not run", std::nullopt};
  if (!s.cli_available) {
    md << "Not run: velt-gdpr is not available.\n\n";
    rep.markdown = md.str();
    rep.targets = {t10, t11};
    return rep;
  }

  json::array cases;
  md << "| case | outage | wall s | cost s | exit | users failed | pages served | requests | refused (outage) | first "
        "page after the return s | back to full speed s | target |\n"
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n";
  double reference_wall = NAN, reference_speed = NAN;
  bool all_met = true;
  std::string measured;
  std::vector<outage_case> const plan{{"no-outage", "", 0, 0},
                                      {"refuse", "refuse", start_s, duration_s},
                                      {"html503", "html503", start_s, duration_s}};
  for (auto const& c : plan) {
    s.check_stop();
    std::vector<std::string> oflags;
    if (!c.mode.empty()) oflags = {"--outage", outage_flag(c.start_s, c.duration_s), "--outage-mode", c.mode};
    std::fprintf(stderr, "== outage %s: %zu users, velt-mock-server %s\n", c.name.c_str(), users,
                 c.mode.empty() ? "without an outage" : (oflags[1] + " " + c.mode).c_str());
    auto const out_dir = s.work_dir / ("out-outage-" + c.name);
    auto const tr = run_with_server(s, c.name, users, oflags, {}, out_dir, true);
    std::error_code ec;
    fs::remove_all(out_dir, ec);
    auto const& r = tr.run;
    if (!r.expected_exit()) rep.failed = true;

    json::object o;
    o["case"] = c.name;
    o["server_flags"] = json::value_from(oflags);
    o["run"] = r.to_json();
    o["server_ready_after_s"] = tr.ready_after_s;
    o["client_started_at_s"] = tr.client_start_s;
    o["stats_samples_missed"] = tr.samples_missed;
    o["series_columns"] = json::array{"t_s", "pages_served", "requests", "refused_outage"};
    o["series"] = series_json(tr.samples);
    std::string line = "| " + c.name + " | " + (c.mode.empty() ? "none" : oflags[1] + ", " + c.mode) + " | " +
                       fmt_num(r.proc.wall_s) + " | ";
    if (c.mode.empty()) {
      reference_wall = r.proc.wall_s;
      reference_speed = steady_speed(tr.samples);
      o["full_speed_pages_per_s"] = reference_speed;
      line += "– | " + exit_text(r) + " | " + std::to_string(r.users_failed) + " | " + std::to_string(r.pages) +
              " | " + std::to_string(r.requests) + " | – | – | full speed " + fmt_num(reference_speed, 0) +
              " pages/s | – |";
      std::fprintf(stderr, "   exit %s in %.2f s, %llu users failed, full speed %.0f pages/s\n", exit_text(r).c_str(),
                   r.proc.wall_s, static_cast<unsigned long long>(r.users_failed), reference_speed);
    } else {
      double const end_s = c.start_s + c.duration_s;
      double const cost = r.proc.wall_s - reference_wall;
      double const client_end_s = tr.client_start_s + r.proc.wall_s;
      auto const [first_page, back] = recovery(tr.samples, end_s, reference_speed);
      bool const stopped_early = client_end_s < end_s;
      bool const completed = r.exit_code == 0;
      bool const met = completed && r.users_failed == 0 && cost <= 5.0;
      all_met = all_met && met;
      o["completed"] = completed;
      o["cost_s"] = cost;
      o["outage_end_s"] = end_s;
      o["client_ended_at_s"] = client_end_s;
      o["first_page_after_return_s"] = std::isfinite(first_page) ? json::value(first_page) : json::value(nullptr);
      o["full_speed_after_return_s"] = std::isfinite(back) ? json::value(back) : json::value(nullptr);
      o["target_met"] = met;
      std::string const never =
          stopped_early ? "never: the run stopped at " + fmt_num(client_end_s, 1) + " s, during the outage" : "never";
      // A run that stopped has no cost to compare: it did not do the work.
      std::string const cost_text = completed ? fmt_num(cost) : "– (exit " + exit_text(r) + ")";
      line += cost_text + " | " + exit_text(r) + " | " + std::to_string(r.users_failed) + " | " +
              std::to_string(r.pages) + " | " + std::to_string(r.requests) + " | " + std::to_string(r.refused_outage) +
              " | " + (std::isfinite(first_page) ? fmt_num(first_page) : never) + " | " +
              (std::isfinite(back) ? fmt_num(back) : never) + " | " + (met ? "met" : "**missed**") + " |";
      measured += (measured.empty() ? "" : "; ") + c.name + ": " +
                  (completed ? "cost " + fmt_num(cost) + " s, " : std::string()) + std::to_string(r.users_failed) +
                  " of " + std::to_string(users) + " users failed, exit " + exit_text(r) + ", back to full speed " +
                  (std::isfinite(back) ? fmt_num(back) + " s after the return" : never);
      std::fprintf(stderr, "   exit %s in %.2f s (cost %.2f s), %llu users failed, first page %s s and full speed %s s "
                           "after the return%s\n",
                   exit_text(r).c_str(), r.proc.wall_s, cost, static_cast<unsigned long long>(r.users_failed),
                   fmt_num(first_page).c_str(), fmt_num(back).c_str(),
                   r.first_failure.empty() ? "" : ("; first failure: " + r.first_failure).c_str());
    }
    if (!r.stderr_tail.empty()) std::fprintf(stderr, "   stderr of velt-gdpr:\n%s\n", r.stderr_tail.c_str());
    md << line << "\n";
    cases.push_back(std::move(o));
  }
  md << "\n";
  t10.measured = measured;
  t10.met = all_met;

  // An outage longer than the CLI's patience: the run must stop by itself (exit 3, the users
  // not done reported as such) and a rerun after the upstream's return must complete.
  s.check_stop();
  std::string const help_file = (s.work_dir / "outage-cli-help.txt").string();
  auto const h = run_child({s.cli_exe.string(), "export", "--help"}, environment_with({}), help_file,
                           s.work_dir / "outage-cli-help.err", std::chrono::seconds(20));
  std::string help;
  {
    std::ifstream in(help_file);
    help.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto const at = help.find("--max-stall");
  md << "**Outage longer than `--max-stall`.** ";
  if (!h.ok() || at == std::string::npos) {
    md << "Not run: the CLI has no `--max-stall`.\n\n";
    t11.measured = "not run: the CLI has no --max-stall";
    rep.json["max_stall"] = "not run: the CLI has no --max-stall";
  } else {
    double const stall_s = s.quick ? 3 : 5, ms_start = 1, ms_duration = stall_s + (s.quick ? 5 : 7);
    // The help shows the default as a bare number of seconds or with a unit.
    auto const line_end = help.find('\n', at);
    std::string const line = help.substr(at, line_end - at);
    auto const eq = line.find('=');
    std::string const shown = eq == std::string::npos ? "" : line.substr(eq + 1, line.find(' ', eq + 1) - eq - 1);
    bool const bare = !shown.empty() && shown.find_first_not_of("0123456789.") == std::string::npos;
    std::string const value = fmt_num(stall_s, 0) + (bare ? "" : "s");
    std::vector<std::string> const oflags{"--outage", outage_flag(ms_start, ms_duration), "--outage-mode", "refuse"};
    std::fprintf(stderr, "== outage max-stall: --max-stall %s, velt-mock-server --outage %s refuse\n", value.c_str(),
                 oflags[1].c_str());
    auto const out_dir = s.work_dir / "out-outage-max-stall";
    cli_run rerun;
    auto const tr = run_with_server(s, "max-stall", users, oflags, {"--max-stall", value}, out_dir, false,
                                    ms_start + ms_duration + 0.5, &rerun);
    std::error_code ec;
    fs::remove_all(out_dir, ec);
    auto const& r = tr.run;
    if (!r.expected_exit() || !rerun.expected_exit()) rep.failed = true;
    double const stopped_at = tr.client_start_s + r.proc.wall_s;
    // Stopped by its patience: not before --max-stall without progress (0.5 s of slack: the
    // last pages come in just after the outage's start), before the upstream's return, and
    // with no user failed (unfinished users are "not done", for the rerun).
    bool const met = r.exit_code == 3 && r.users_failed == 0 && stopped_at >= ms_start + stall_s - 0.5 &&
                     stopped_at < ms_start + ms_duration && rerun.exit_code == 0 && rerun.users_failed == 0 &&
                     rerun.files == users;
    md << "`--max-stall " << value << "`, `--outage " << oflags[1] << "` (refuse); the rerun starts 0.5 s after the "
       << "outage's end, in the same output directory. Met when the first run stops with exit 3 and no user failed "
       << "between " << fmt_num(ms_start + stall_s - 0.5, 1) << " s (the outage's start + --max-stall − 0.5 s) and "
       << "the outage's end, and the rerun exports every user.\n\n"
       << "| run | wall s | exit | users ok | users failed | user files | pages served | target |\n"
       << "|---|--:|--:|--:|--:|--:|--:|---|\n"
       << "| first (stopped at " << fmt_num(stopped_at, 1) << " s) | " << fmt_num(r.proc.wall_s) << " | "
       << exit_text(r) << " | " << r.users_ok << " | " << r.users_failed << " | " << r.files << " | " << r.pages
       << " | " << (met ? "met" : "**missed**") << " |\n"
       << "| rerun | " << fmt_num(rerun.proc.wall_s) << " | " << exit_text(rerun) << " | " << rerun.users_ok << " | "
       << rerun.users_failed << " | " << rerun.files << " | " << rerun.pages << " | |\n\n";
    t11.measured = "first run exit " + exit_text(r) + " at " + fmt_num(stopped_at, 1) + " s (outage until " +
                   fmt_num(ms_start + ms_duration, 1) + " s); rerun exit " + exit_text(rerun) + ", " +
                   std::to_string(rerun.files) + "/" + std::to_string(users) + " user files";
    t11.met = met;
    json::object o;
    o["max_stall"] = value;
    o["server_flags"] = json::value_from(oflags);
    o["stopped_at_s"] = stopped_at;
    o["run"] = r.to_json();
    o["rerun"] = rerun.to_json();
    o["target_met"] = met;
    rep.json["max_stall"] = std::move(o);
    std::fprintf(stderr, "   first run exit %s at %.1f s; rerun exit %s, %zu/%zu files\n", exit_text(r).c_str(),
                 stopped_at, exit_text(rerun).c_str(), rerun.files, users);
  }
  rep.json["users"] = users;
  rep.json["pages_per_user"] = limits_pages_per_user;
  rep.json["full_speed_pages_per_s"] = reference_speed;
  rep.json["cases"] = std::move(cases);
  rep.markdown = md.str();
  rep.targets = {t10, t11};
  return rep;
}

}  // namespace velt::bench
