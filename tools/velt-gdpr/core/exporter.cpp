// SPDX-License-Identifier: BSL-1.0
#include "core/exporter.hpp"

#include "core/atomic_file.hpp"
#include "core/audit_args.hpp"
#include "core/export_audit.hpp"
#include "core/dir_lock.hpp"
#include "core/export_dir.hpp"
#include "core/exit_code.hpp"
#include "core/file_name.hpp"
#include "core/progress.hpp"
#include "core/run_controls.hpp"
#include "core/export_sink.hpp"
#include "core/time_format.hpp"

#include <velt/batch_export.hpp>
#include <velt/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <algorithm>
#include <thread>
#include <vector>

namespace velt::gdpr {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using std::chrono::steady_clock;

namespace {

char const* signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

/// One export run: the files, report, console, signals and progress of the tool around a
/// velt::batch_exporter, which runs the users (pacing, resume, the credential stop).
class export_engine {
 public:
  export_engine(export_settings s, console& con);

  export_result run();

 private:
  void page_received(std::size_t items, std::size_t bytes) {
    pages_ += 1;
    items_ += items;
    bytes_ += bytes;
  }
  void local_failure(std::string const& user, std::string const& what);
  void audit_failed(std::string const& what);
  void open_audit();
  void finish_audit(run_state state, export_result& result);
  void slowed_down(velt::slow_down_event const& ev);
  void outage(velt::outage_event const& ev);
  void refused_credentials(velt::batch_result const& r);
  void all_done();
  progress_snapshot snapshot() const;
  void write_report();

  static asio::awaitable<void> run_batch(export_engine* e);
  static asio::awaitable<void> tick_report(export_engine* e);
  static asio::awaitable<void> count_users(export_engine* e);
  std::optional<std::uint64_t> known_total() const;

  export_settings settings_;
  console& con_;
  export_paths paths_;
  asio::io_context io_;
  asio::thread_pool files_;
  asio::thread_pool decode_;  // validates large pages off the event loop (declared before client_)
  asio::strand<asio::io_context::executor_type> control_{asio::make_strand(io_)};
  // The report ticker's timer lives on this strand, so that the end of the run can cancel
  // it instead of waiting for its next tick.
  asio::strand<asio::thread_pool::executor_type> report_strand_{asio::make_strand(files_)};
  asio::steady_timer* report_timer_ = nullptr;  // on report_strand_ only
  held_bytes_budget held_budget_;
  run_report report_;
  std::optional<velt::client> client_;
  std::optional<velt::batch_exporter> exporter_;
  export_files files_context_;
  std::unique_ptr<users_source> users_;
  std::optional<progress_ticker> progress_;
  std::optional<stop_signals> signals_;
  velt::batch_result batch_;

  steady_clock::time_point started_ = steady_clock::now();
  std::atomic<bool> fatal_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> stop_report_ticker_{false};
  std::atomic<std::uint64_t> pages_{0}, items_{0}, bytes_{0};
  std::atomic<std::uint64_t> total_users_{0};
  std::atomic<bool> total_known_{false};
  std::atomic<bool> users_cancel_{false};
  std::atomic<bool> count_cancel_{false};  // a stopped run does not wait for the count
  std::mutex report_write_mutex_;
  bool report_write_warned_ = false;
  std::optional<audit::signing_key> key_;  // until open_audit hands it to the trail
  std::unique_ptr<seen_ids> logged_;       // users the log shows exported into out_dir
  std::unique_ptr<audit_trail> audit_;     // last: its thread stops first
};

// ---- the engine -----------------------------------------------------------------------------

unsigned decode_threads_for(unsigned wanted) {
  if (wanted > 0) return wanted;
  unsigned const cores = std::thread::hardware_concurrency();
  return std::clamp(cores > 1 ? cores - 1 : 1u, 1u, 4u);
}

export_engine::export_engine(export_settings s, console& con)
    : settings_(std::move(s)),
      con_(con),
      paths_(settings_.out_dir),
      files_(std::max(1u, settings_.file_threads)),
      decode_(decode_threads_for(settings_.decode_threads)),
      held_budget_(settings_.held_bytes),
      report_(settings_.organization_id, std::chrono::system_clock::now()),
      files_context_(paths_) {
  if (settings_.organization_id.empty()) throw export_setup_error("--org is empty");
  if (settings_.signing_key) {
    try {
      key_ = audit::signing_key::load(*settings_.signing_key);
    } catch (audit::error const& e) {
      throw export_setup_error(std::string("--signing-key: ") + e.what());
    }
  }
  velt::client_options opts = settings_.client;
  opts.decode_executor = decode_.get_executor();
  console* c = &con_;
  opts.log = [c](velt::log_level level, std::string_view line) { c->log(level, line); };
  try {
    client_.emplace(io_.get_executor(), std::move(opts));
    exporter_.emplace(*client_,
                      velt::batch_options{
                          .organization_id = settings_.organization_id,
                          .concurrency = std::max<std::size_t>(1, settings_.concurrency),
                          .format = velt::page_format::raw,
                          .request_extra = settings_.request_fields,
                          .max_rate = settings_.rate,
                          .max_stall = settings_.max_stall,
                          .on_slow_down = [this](velt::slow_down_event const& ev) { slowed_down(ev); },
                          .on_outage = [this](velt::outage_event const& ev) { outage(ev); }});
  } catch (velt::error const& e) {
    throw export_setup_error(e.details().message.empty() ? e.what() : e.details().message);
  }
  try {
    users_ = std::make_unique<users_source>(settings_.users);
  } catch (users_file_error const& e) {
    throw export_setup_error(e.what());
  }
  users_->set_cancel_flag(&users_cancel_);
  if (settings_.users.shard.count > 1) report_.set_shard(settings_.users.shard.to_string());

  files_context_.organization_id = settings_.organization_id;
  files_context_.spill_bytes = settings_.spill_bytes;
  files_context_.held = &held_budget_;
  files_context_.checkpoint_interval = settings_.checkpoint_interval;
  files_context_.file_executor = files_.get_executor();
  files_context_.out = &con_;
  files_context_.report = &report_;
  files_context_.exported_at = [this] {
    return settings_.exported_at ? *settings_.exported_at : format_utc(std::chrono::system_clock::now());
  };
  files_context_.on_page = [this](std::size_t items, std::size_t bytes) { page_received(items, bytes); };
  files_context_.local_failure = [this](std::string const& user, std::string const& what) {
    local_failure(user, what);
  };
}

void export_engine::slowed_down(velt::slow_down_event const& ev) {
  std::string line = fmt::format("the server is throttling ({}): pacing requests to {:.1f}/s",
                                 ev.error.to_string(), ev.rate_after);
  if (ev.rate_before) line += fmt::format(" (was {:.1f}/s)", *ev.rate_before);
  if (ev.pause.count() > 0) line += ", pausing for " + format_seconds(ev.pause) + " as asked";
  con_.log(velt::log_level::info, line);
}

void export_engine::outage(velt::outage_event const& ev) {
  if (ev.began) {
    con_.log(velt::log_level::warning,
             fmt::format("the server is unavailable ({}): pausing new requests, probing until it "
                         "answers; nothing fails while it lasts (--max-stall {})",
                         ev.error ? ev.error->to_string() : std::string("no answer"),
                         format_seconds(settings_.max_stall)));
  } else {
    con_.log(velt::log_level::info,
             fmt::format("the server answers again after {}: resuming", format_seconds(ev.paused_for)));
  }
}

void export_engine::refused_credentials(velt::batch_result const& r) {
  if (!r.error.proxy.empty()) {  // the proxy's refusal (407, 403), not the API's
    std::string const explanation = "the HTTP proxy " + r.error.proxy + " refused the tunnel";
    report_.set_error(r.error, explanation);
    con_.error(fmt::format("{} ({}); check the proxy and its credentials (HTTPS_PROXY / https_proxy, "
                           "--proxy, NO_PROXY); stopping the run",
                           explanation, r.error.to_string()));
    return;
  }
  std::string const explanation =
      r.credentials_worked_before ? "the credentials stopped working during the run"
                                  : "the server refused the credentials on the first requests";
  report_.set_error(r.error, explanation);
  con_.error(fmt::format("{} ({}); check VELT_API_KEY / --api-key-file and VELT_AUTH_TOKEN / "
                         "--auth-token-file; stopping the run",
                         explanation, r.error.to_string()));
}

void export_engine::local_failure(std::string const& user, std::string const& what) {
  report_.add_failure(user_failure{user, velt::status::internal, 0, what, 0});
  if (audit_) audit_->record("export_failed", export_failed_members(user, velt::status::internal, 0, 0));
  if (!fatal_.exchange(true)) {
    con_.error("cannot write the export: " + what + "; stopping the run");
    count_cancel_ = true;
    exporter_->stop();
  }
}

void export_engine::audit_failed(std::string const& what) {
  // On the audit thread. Nothing may proceed unrecorded (design note §5): stop.
  if (!fatal_.exchange(true)) {
    con_.error(what + "; stopping the run");
    count_cancel_ = true;
    users_cancel_ = true;
    exporter_->stop();
  }
}

void export_engine::open_audit() {
  export_audit_setup a;
  a.log = settings_.audit_log.empty() ? settings_.out_dir / "audit.jsonl" : settings_.audit_log;
  a.key = std::move(key_);
  a.secrets = {settings_.client.api_key, settings_.client.auth_token};
  a.info = make_run_info(settings_.command, settings_.organization_id, settings_.client.base_url,
                         fs::canonical(settings_.out_dir), settings_.command_args,
                         {settings_.client.api_key, settings_.client.auth_token});
  a.options = settings_.audit_options;
  a.on_failure = [this](std::string const& what) { audit_failed(what); };
  try {
    audit_ = start_export_audit(std::move(a), paths_.users_dir, logged_);
  } catch (audit::error const& e) {
    throw export_setup_error(describe_open_failure(e));
  }
  files_context_.audit = audit_.get();
  files_context_.logged_as_exported = logged_.get();
}

void export_engine::finish_audit(run_state state, export_result& result) {
  auto const t = report_.totals();
  result.audit_file = fs::absolute(audit_->file());
  result.audit_head = audit_->end(to_string(state), result.exit_code,
                                  boost::json::object{{"users", t.ok}, {"failed", t.failed}, {"skipped", t.skipped}});
  if (result.audit_head) {
    report_.set_audit(result.audit_file.string(), result.audit_head->seq, result.audit_head->h);
    return;
  }
  con_.error(audit_->failure().value_or("cannot write the audit log") + "; the end of the run is not recorded");
  if (!result.signal) result.exit_code = exit_code::failures;
}

std::optional<std::uint64_t> export_engine::known_total() const {
  if (!total_known_) return std::nullopt;
  // The count includes duplicate ids; the reader skips each one as it meets it, so the
  // total is exact once the reader has reached the end of the file.
  std::uint64_t const ids = total_users_.load();
  std::uint64_t const dups = users_->duplicates_met();
  return ids > dups ? ids - dups : 0;
}

progress_snapshot export_engine::snapshot() const {
  progress_snapshot s;
  auto const t = report_.totals();
  s.ok = t.ok;
  s.failed = t.failed;
  s.skipped = t.skipped;
  s.total = known_total();
  s.pages = pages_;
  s.items = items_;
  s.bytes = bytes_;
  s.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started_);
  auto const bs = exporter_->stats();
  s.retries = bs.retries;
  s.rate = bs.rate;
  switch (bs.paused) {
    case velt::batch_stats::pause::none: s.paused = progress_snapshot::pause::none; break;
    case velt::batch_stats::pause::throttled: s.paused = progress_snapshot::pause::throttled; break;
    case velt::batch_stats::pause::outage: s.paused = progress_snapshot::pause::outage; break;
  }
  s.paused_for = bs.paused_for;
  return s;
}

void export_engine::write_report() {
  std::lock_guard lock(report_write_mutex_);
  try {
    write_file_atomically(settings_.out_dir / "report.json", to_json_text(report_));
  } catch (std::exception const& ex) {
    if (!report_write_warned_) {
      report_write_warned_ = true;
      con_.log(velt::log_level::warning, std::string("cannot write report.json: ") + ex.what());
    }
  }
}

asio::awaitable<void> export_engine::run_batch(export_engine* e) {
  auto sinks = [f = &e->files_context_](std::string const& user) { return make_file_sink(*f, user); };
  e->batch_ = co_await e->exporter_->async_run(make_file_users(e->files_context_, *e->users_),
                                               std::move(sinks), asio::use_awaitable);
  using end = velt::batch_result::end;
  if (e->batch_.how == end::credentials_refused) e->refused_credentials(e->batch_);
  if (e->batch_.how == end::source_failed) e->con_.error(e->batch_.error.message);
  if (e->batch_.how == end::stalled) {
    e->report_.set_error(e->batch_.error, "no progress for " + format_seconds(e->settings_.max_stall));
    e->con_.error(fmt::format("no progress for {} (--max-stall), waiting out: {}; stopping the run; "
                              "the users not done are resumed by a rerun",
                              format_seconds(e->settings_.max_stall), e->batch_.error.to_string()));
  }
  if (e->batch_.how != end::complete) e->count_cancel_ = true;
  e->all_done();
}

asio::awaitable<void> export_engine::tick_report(export_engine* e) {
  // Runs on report_strand_: the end of the run cancels the timer there.
  asio::steady_timer timer(co_await asio::this_coro::executor);
  e->report_timer_ = &timer;
  while (!e->stop_report_ticker_) {
    timer.expires_after(std::chrono::seconds(1));
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!e->stop_report_ticker_ && e->report_.take_dirty()) e->write_report();
  }
  e->report_timer_ = nullptr;
}

asio::awaitable<void> export_engine::count_users(export_engine* e) {
  try {
    if (auto n = users_source::count(e->settings_.users, &e->count_cancel_)) {
      e->total_users_ = *n;
      e->total_known_ = true;
    }
  } catch (std::exception const&) {
    // The real reader reports the problem.
  }
  co_return;
}

void export_engine::all_done() {
  finished_ = true;
  progress_->stop();  // draws the final state
  if (signals_) signals_->cancel();
  users_cancel_ = true;  // a source blocked on a pipe gives up within 200 ms
  client_->close_idle_connections();
  // Nothing else is pending now: the event loop runs out of work and run() returns.
}

export_result export_engine::run() {
  try {
    make_private_directories(settings_.out_dir);
  } catch (fs::filesystem_error const& e) {
    throw export_setup_error(std::string("--out: ") + e.what());
  }
  std::unique_ptr<dir_lock> lock;  // against a second run in the same directory
  try {
    lock = std::make_unique<dir_lock>(settings_.out_dir);
  } catch (std::exception const& e) {
    throw export_setup_error(std::string("--out: ") + e.what());
  }
  try {
    prepare_export_directory(settings_.out_dir, settings_.organization_id, paths_);
  } catch (export_dir_error const& e) {
    throw export_setup_error(e.what());
  }
  open_audit();  // before any request: a log that cannot be written stops here (exit 2)

  write_report();
  started_ = steady_clock::now();

  progress_.emplace(control_, con_, [this] { return format_progress(snapshot()); });
  if (settings_.handle_signals) {
    signals_.emplace(control_, [this](int sig) {
      con_.note(fmt::format("velt-gdpr: {}: starting no more users, stopping the {} in flight "
                            "(a second signal exits at once)",
                            signal_name(sig), exporter_->stats().in_flight));
      users_cancel_ = true;
      count_cancel_ = true;
      exporter_->stop();
    });
  }
  asio::co_spawn(report_strand_, tick_report(this), asio::detached);
  asio::co_spawn(files_, count_users(this), asio::detached);
  std::exception_ptr engine_error;
  asio::co_spawn(control_, run_batch(this), [&engine_error](std::exception_ptr ep) { engine_error = ep; });

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < std::max(1u, settings_.threads); ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : threads) t.join();
  // Stop the report ticker now rather than at its next tick (every run used to end up to
  // 100 ms later than its work). A count still reading a long users file is waited for
  // (the final total needs it), unless the run was stopped.
  stop_report_ticker_ = true;
  asio::post(report_strand_, [this] {
    if (report_timer_) report_timer_->cancel();
  });
  files_.join();

  using end = velt::batch_result::end;
  bool const credentials_refused = batch_.how == end::credentials_refused;
  bool const stalled = batch_.how == end::stalled;
  export_result result;
  result.signal = signals_ ? signals_->received() : 0;
  result.credentials_refused = credentials_refused;
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started_);
  if (engine_error) {
    try {
      std::rethrow_exception(engine_error);
    } catch (std::exception const& ex) {
      con_.error(std::string("internal error: ") + ex.what());
    }
  }
  run_state const state = result.signal ? run_state::interrupted
                          : (credentials_refused || stalled || fatal_) ? run_state::stopped
                                                            : run_state::complete;
  ::rmdir(paths_.partial_root.c_str());  // only when no unfinished user is left in it

  result.totals = report_.totals();
  result.total_users = known_total();
  result.pages_received = pages_;
  result.items_received = items_;
  result.client = client_->stats();
  result.batch = exporter_->stats();
  result.stalled = stalled;
  if (stalled) result.stall_error = batch_.error;
  result.users_dir = paths_.users_dir;
  result.report_file = settings_.out_dir / "report.json";
  if (result.signal) {
    result.exit_code = exit_code::interrupted_base + result.signal;
  } else if (credentials_refused && !batch_.credentials_worked_before && pages_ == 0) {
    result.exit_code = exit_code::usage;
  } else if (result.totals.failed > 0 || credentials_refused || stalled || fatal_ || batch_.how == end::source_failed ||
             engine_error) {
    result.exit_code = exit_code::failures;
  } else {
    result.exit_code = exit_code::ok;
  }
  finish_audit(state, result);  // run_end carries the exit status; report.json its head
  report_.finish(state, std::chrono::system_clock::now());
  write_report();
  return result;
}

}  // namespace

export_result run_export(export_settings settings, console& out) {
  export_engine engine(std::move(settings), out);
  return engine.run();
}

}  // namespace velt::gdpr
