// SPDX-License-Identifier: BSL-1.0
#include "core/eraser.hpp"

#include "core/atomic_file.hpp"
#include "core/audit_args.hpp"
#include "core/audit_trail.hpp"
#include "core/erase_audit.hpp"
#include "core/exit_code.hpp"
#include "core/report.hpp"
#include "core/run_controls.hpp"
#include "core/time_format.hpp"

#include <velt/batch_erase.hpp>
#include <velt/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <atomic>
#include <map>
#include <memory>

namespace velt::gdpr {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::steady_clock;

namespace {

json::object error_json(velt::error_details const& d) {
  json::object e{{"status", velt::to_string(d.status)},
                 {"httpStatus", d.http_status},
                 {"message", printable_id(d.message)},
                 {"attempts", d.attempts}};
  if (!d.proxy.empty()) e["proxy"] = d.proxy;  // host:port of the HTTP proxy that failed
  return e;
}

json::array ids_json(std::vector<std::string> const& ids) {
  json::array a;
  for (auto const& id : ids) a.push_back(json::string(printable_id(id)));
  return a;
}

void print(std::FILE* out, json::object const& line) {
  std::string text = json::serialize(line);
  text += '\n';
  std::fputs(text.c_str(), out);
  std::fflush(out);
}

/// The users file as a velt::user_source. Ids that cannot be used are reported on the
/// first pass (and counted with the failed batches), skipped silently on the second.
class erase_users final : public velt::user_source {
 public:
  erase_users(std::unique_ptr<users_source> src, console* con, std::atomic<std::uint64_t>* bad, erase_audit* audit)
      : src_(std::move(src)), con_(con), bad_(bad), audit_(audit) {}
  asio::awaitable<std::vector<std::string>> async_pull(std::size_t max) override {
    std::vector<std::string> out;
    while (out.size() < max) {
      auto entry = src_->next();
      if (!entry) break;
      if (entry->problem) {
        if (bad_) {
          con_->error("skipping a user id: " + *entry->problem);
          ++*bad_;
          if (audit_) audit_->refused_id(entry->id);
        }
        continue;
      }
      out.push_back(std::move(entry->id));
    }
    co_return out;
  }

 private:
  std::unique_ptr<users_source> src_;
  console* con_;
  std::atomic<std::uint64_t>* bad_;
  erase_audit* audit_;
};

/// Prints each event of the run as a JSON line on `out`, and failures on the console.
class erase_printer final : public velt::erase_observer {
 public:
  erase_printer(std::FILE* out, console& con, std::atomic<bool> const& stopping)
      : out_(out), con_(con), stopping_(stopping) {}

  void on_queued(std::vector<std::string> const& users, velt::delete_job const& job) override {
    json::object line{{"event", "queued"}, {"jobId", job.job_id}};
    if (job.tasks_count) line["tasksCount"] = *job.tasks_count;
    line["users"] = users.size();
    line["userIds"] = ids_json(users);
    print(out_, line);
  }
  void on_not_queued(std::vector<std::string> const& users, velt::error_details const& d) override {
    bool const maybe_queued = velt::may_have_taken_effect(d);
    json::object error = error_json(d);
    error["maybeQueued"] = maybe_queued;
    print(out_, json::object{{"event", "failed"}, {"users", users.size()}, {"userIds", ids_json(users)},
                             {"error", std::move(error)}});
    if (!stopping_) {
      con_.error(fmt::format("a deletion request for {} users failed: {}{}", users.size(), d.to_string(),
                             maybe_queued ? " (it may have been queued: check before retrying)" : ""));
    }
  }
  void on_completed(std::string const& job_id, velt::delete_status const& status) override {
    json::object line{{"event", "completed"}, {"jobId", job_id}, {"tasksLeft", status.tasks_left}};
    if (status.last_task_completed_time) line["lastTaskCompletedTime"] = *status.last_task_completed_time;
    print(out_, line);
  }
  void on_unfinished(std::string const& job_id, velt::error_details const& d) override {
    print(out_, json::object{{"event", "unfinished"}, {"jobId", job_id}, {"error", error_json(d)}});
    if (!stopping_) con_.error(fmt::format("job {}: {}", job_id, d.to_string()));
  }
  void on_remaining(std::string const& user, std::map<std::string, std::uint64_t> const& left) override {
    json::object items;
    for (auto const& [k, n] : left) items[k] = n;
    print(out_, json::object{{"event", "remaining"}, {"userId", printable_id(user)}, {"items", std::move(items)}});
  }
  void on_unverified(std::string const& user, velt::error_details const& d) override {
    print(out_, json::object{{"event", "unverified"}, {"userId", printable_id(user)}, {"error", error_json(d)}});
  }

 private:
  std::FILE* out_;
  console& con_;
  std::atomic<bool> const& stopping_;
};

/// One erase run: the users file, the JSON lines, the console and signals around a
/// velt::batch_eraser.
class eraser {
 public:
  eraser(erase_settings s, console& con, std::FILE* out);
  erase_result run();

 private:
  static asio::awaitable<void> flow(eraser* e);
  std::string progress_line() const;
  void stop();
  void audit_failed(std::string const& what);
  void finish_audit(erase_result& result);

  erase_settings settings_;
  console& con_;
  std::FILE* out_;
  asio::io_context io_;
  std::optional<velt::client> client_;
  std::optional<velt::batch_eraser> batch_;
  std::unique_ptr<users_source> first_users_;
  std::atomic<std::uint64_t> bad_ids_{0};
  std::atomic<bool> stopping_{false};
  std::optional<stop_signals> signals_;
  std::optional<progress_ticker> progress_;
  velt::erase_result outcome_;
  steady_clock::time_point started_ = steady_clock::now();
  std::atomic<bool> audit_failed_{false};
  std::unique_ptr<audit_trail> trail_;
  std::optional<erase_audit> audit_;  // after trail_: destroyed (receipts joined) first
};

eraser::eraser(erase_settings s, console& con, std::FILE* out)
    : settings_(std::move(s)), con_(con), out_(out) {
  if (settings_.organization_id.empty()) throw erase_setup_error("--org is empty");
  if (settings_.batch_size == 0) throw erase_setup_error("--batch-size must be at least 1");
  if (settings_.verify) settings_.wait = true;
  if (settings_.receipts_dir && !(settings_.verify && settings_.signing_key)) {
    throw erase_setup_error("--receipts needs --verify and --signing-key");
  }
  std::optional<audit::signing_key> key;
  if (settings_.signing_key) {
    try {
      key = audit::signing_key::load(*settings_.signing_key);
    } catch (audit::error const& e) {
      throw erase_setup_error(std::string("--signing-key: ") + e.what());
    }
  }
  if (settings_.receipts_dir) {
    try {
      make_private_directories(*settings_.receipts_dir);
    } catch (std::exception const& e) {
      throw erase_setup_error(std::string("--receipts: ") + e.what());
    }
  }
  if (settings_.audit_log.empty()) throw erase_setup_error("erase needs --audit-log FILE");
  try {
    trail_ = std::make_unique<audit_trail>(settings_.audit_log, std::move(key),
                                           std::vector<std::string>{settings_.client.api_key, settings_.client.auth_token},
                                           audit_policy{}, settings_.audit_options);
  } catch (audit::error const& e) {
    throw erase_setup_error(describe_open_failure(e));
  }
  velt::client_options opts = settings_.client;
  console* c = &con_;
  opts.log = [c](velt::log_level level, std::string_view line) { c->log(level, line); };
  try {
    client_.emplace(io_.get_executor(), std::move(opts));
    batch_.emplace(*client_, velt::erase_options{.organization_id = settings_.organization_id,
                                                 .batch_size = settings_.batch_size,
                                                 .concurrency = std::max<std::size_t>(1, settings_.concurrency),
                                                 .wait = settings_.wait,
                                                 .verify = settings_.verify,
                                                 .poll_interval = settings_.poll_interval,
                                                 .timeout = settings_.timeout,
                                                 .max_stall = settings_.max_stall,
                                                 .request_extra = settings_.request_fields});
  } catch (velt::error const& e) {
    throw erase_setup_error(e.details().message.empty() ? e.what() : e.details().message);
  }
  if (settings_.verify && settings_.users.file == "-") {
    throw erase_setup_error("--verify reads the users twice: give a --users-file that is a file, not -");
  }
  try {
    first_users_ = std::make_unique<users_source>(settings_.users);
  } catch (users_file_error const& e) {
    throw erase_setup_error(e.what());
  }
}

void eraser::stop() {
  stopping_ = true;
  batch_->stop();
}

void eraser::audit_failed(std::string const& what) {
  // From the audit thread or a receipt's: nothing may proceed unrecorded (design note §5).
  if (audit_failed_.exchange(true)) return;
  con_.error(what + "; stopping");
  stop();
}

std::string eraser::progress_line() const {
  auto const elapsed = std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - started_);
  auto const s = batch_->stats();
  using phase = velt::erase_stats::phase;
  switch (s.at) {
    case phase::queue:
      return fmt::format("queueing: {} jobs for {} users | {}", s.jobs_queued, s.users, format_clock(elapsed));
    case phase::wait:
      return fmt::format("waiting: {}/{} jobs complete | tasks left {}{} | {}", s.jobs_completed, s.jobs_queued,
                         s.tasks_left, s.tasks_left_known ? "" : "+", format_clock(elapsed));
    case phase::verify:
      return fmt::format("verifying: {} users checked, {} with data left | {}",
                         s.users_verified + s.users_unverified, s.users_with_data, format_clock(elapsed));
    case phase::done: break;
  }
  return {};
}

asio::awaitable<void> eraser::flow(eraser* e) {
  bool first = true;
  auto users = [e, &first]() -> std::unique_ptr<velt::user_source> {
    if (first) {
      first = false;
      return std::make_unique<erase_users>(std::move(e->first_users_), &e->con_, &e->bad_ids_, &*e->audit_);
    }
    return std::make_unique<erase_users>(std::make_unique<users_source>(e->settings_.users), &e->con_, nullptr,
                                         nullptr);
  };
  e->outcome_ = co_await e->batch_->async_run(users, *e->audit_, asio::use_awaitable);
  using end = velt::erase_result::end;
  if (e->outcome_.how == end::credentials_refused && !e->outcome_.error.proxy.empty()) {
    e->con_.error(fmt::format("the HTTP proxy {} refused the tunnel ({}); check the proxy and its credentials "
                              "(HTTPS_PROXY / https_proxy, --proxy, NO_PROXY); stopping",
                              e->outcome_.error.proxy, e->outcome_.error.to_string()));
  } else if (e->outcome_.how == end::credentials_refused) {
    e->con_.error(fmt::format("the server refused the credentials ({}); check VELT_API_KEY / "
                              "--api-key-file and VELT_AUTH_TOKEN / --auth-token-file; stopping",
                              e->outcome_.error.to_string()));
  } else if (e->outcome_.how == end::source_failed) {
    e->con_.error(e->outcome_.error.message);
  }
  if (e->outcome_.how == end::stalled) {
    e->con_.error(fmt::format("the verification made no progress for {} (--max-stall), waiting out: {}; "
                              "the users it had not finished are unverified, those after them were not checked",
                              format_seconds(e->settings_.max_stall), e->outcome_.error.to_string()));
  }
  if ((e->outcome_.how == end::complete || e->outcome_.how == end::stalled) && e->settings_.verify) {
    auto const& s = e->outcome_.stats;
    print(e->out_, json::object{{"event", "verified"},
                                {"users", s.users_verified},
                                {"usersWithData", s.users_with_data},
                                {"usersUnverified", s.users_unverified}});
  }
  e->progress_->stop(/*final_line=*/false);
  if (e->signals_) e->signals_->cancel();
  e->client_->close_idle_connections();
}

erase_result eraser::run() {
  erase_printer printer(out_, con_, stopping_);
  std::optional<receipt_settings> receipts;
  if (settings_.receipts_dir) receipts = receipt_settings{*settings_.receipts_dir, settings_.organization_id};
  trail_->on_failure([this](std::string const& what) { audit_failed(what); });
  audit_.emplace(printer, *trail_, std::move(receipts), con_, [this](std::string const& what) { audit_failed(what); });
  try {
    trail_->begin(make_run_info("erase", settings_.organization_id, settings_.client.base_url, std::nullopt,
                                settings_.command_args, {settings_.client.api_key, settings_.client.auth_token}));
  } catch (audit::error const& e) {
    throw erase_setup_error(describe_open_failure(e));
  }
  progress_.emplace(io_.get_executor(), con_, [this] { return progress_line(); });
  if (settings_.handle_signals) {
    signals_.emplace(io_.get_executor(), [this](int sig) {
      con_.note(fmt::format("velt-gdpr: {}: stopping (a second signal exits at once)",
                            sig == SIGINT ? "SIGINT" : "SIGTERM"));
      stop();
    });
  }
  std::exception_ptr failure;
  asio::co_spawn(io_, flow(this), [&failure](std::exception_ptr ep) { failure = ep; });
  io_.run();
  audit_->finish_receipts();  // each waits for its `verified` line to be durable
  con_.end_progress();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (std::exception const& ex) {
      con_.error(std::string("internal error: ") + ex.what());
    }
  }
  auto const& s = outcome_.stats;
  using end = velt::erase_result::end;
  bool const credentials_refused = outcome_.how == end::credentials_refused;
  erase_result result;
  result.users = s.users;
  result.jobs_queued = s.jobs_queued;
  result.batches_failed = s.batches_failed + bad_ids_;
  result.jobs_completed = s.jobs_completed;
  result.jobs_unfinished = s.jobs_unfinished;
  result.users_verified = s.users_verified;
  result.users_with_data = s.users_with_data;
  result.users_unverified = s.users_unverified;
  int const signal = signals_ ? signals_->received() : 0;
  result.signal = signal;
  result.credentials_refused = credentials_refused;
  if (signal) {
    result.exit_code = exit_code::interrupted_base + signal;
  } else if (credentials_refused && s.jobs_queued == 0) {
    result.exit_code = exit_code::usage;
  } else if (failure || !outcome_.clean() || bad_ids_ > 0 || audit_failed_) {
    result.exit_code = exit_code::failures;
  } else {
    result.exit_code = exit_code::ok;
  }
  finish_audit(result);
  return result;
}

void eraser::finish_audit(erase_result& result) {
  using end = velt::erase_result::end;
  char const* const state = result.signal ? "interrupted"
                            : (outcome_.how != end::complete || audit_failed_) ? "stopped"
                                                                               : "complete";
  result.receipts = audit_->receipts();
  result.audit_file = std::filesystem::absolute(trail_->file());
  result.audit_head = trail_->end(state, result.exit_code,
                                  json::object{{"users", result.users},
                                               {"failed", result.batches_failed},
                                               {"jobs", result.jobs_queued},
                                               {"usersWithData", result.users_with_data},
                                               {"usersUnverified", result.users_unverified}});
  if (result.audit_head) return;
  con_.error(trail_->failure().value_or("cannot write the audit log") + "; the end of the run is not recorded");
  if (!result.signal) result.exit_code = exit_code::failures;
}

// ---- erase-status ---------------------------------------------------------------------------

asio::awaitable<int> print_statuses(velt::client client, std::vector<std::string> job_ids, std::FILE* out) {
  int rc = exit_code::ok;
  for (auto const& id : job_ids) {
    velt::delete_status_request request{.job_id = id};
    velt::error_details details;
    auto [ec, status] = co_await client.async_get_delete_user_data_status(std::move(request), details,
                                                                         asio::as_tuple(asio::use_awaitable));
    json::object line{{"jobId", id}};
    if (ec) {
      if (!details.code) details = velt::make_error_details(ec, ec.message());
      line["error"] = error_json(details);
      rc = exit_code::failures;
    } else {
      line["isDeleteCompleted"] = status.is_delete_completed;
      line["tasksLeft"] = status.tasks_left;
      if (status.last_task_completed_time) {
        line["lastTaskCompletedTime"] = *status.last_task_completed_time;
      } else {
        line["lastTaskCompletedTime"] = nullptr;
      }
    }
    std::string text = json::serialize(line);
    text += '\n';
    std::fputs(text.c_str(), out);
    std::fflush(out);
  }
  co_return rc;
}

}  // namespace

erase_result run_erase(erase_settings settings, console& con, std::FILE* out) {
  eraser e(std::move(settings), con, out);
  return e.run();
}

int run_erase_status(velt::client_options client, std::vector<std::string> const& job_ids,
                     console& con, std::FILE* out) {
  asio::io_context io;
  console* c = &con;
  client.log = [c](velt::log_level level, std::string_view line) { c->log(level, line); };
  std::optional<velt::client> cl;
  try {
    cl.emplace(io.get_executor(), std::move(client));
  } catch (velt::error const& e) {
    throw erase_setup_error(e.details().message.empty() ? e.what() : e.details().message);
  }
  int rc = exit_code::failures;
  std::exception_ptr failure;
  asio::co_spawn(io, print_statuses(*cl, job_ids, out), [&](std::exception_ptr ep, int r) {
    failure = ep;
    rc = r;
  });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (std::exception const& ex) {
      con.error(std::string("internal error: ") + ex.what());
    }
    return exit_code::failures;
  }
  return rc;
}

}  // namespace velt::gdpr
