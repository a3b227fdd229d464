// SPDX-License-Identifier: BSL-1.0
#include "core/export_sink.hpp"

#include "core/export_audit.hpp"
#include "core/file_name.hpp"

#include <atomic>
#include <mutex>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

namespace velt::gdpr {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

/// Runs `task` (blocking file work) on `ex` and waits for it. The work is short and must
/// not be torn, so cancellation is not forwarded to it; that also avoids Boost 1.81's
/// co_spawn epilogue, which throws (and terminates the thread pool) when a child that
/// never suspended is cancelled.
template <class T>
asio::awaitable<T> run_blocking(asio::any_io_executor ex, asio::awaitable<T> task) {
  co_return co_await asio::co_spawn(ex, std::move(task),
                                    asio::bind_cancellation_slot(asio::cancellation_slot(), asio::use_awaitable));
}

asio::awaitable<void> checkpoint_on_pool(export_writer* w) {
  co_await asio::this_coro::throw_if_cancelled(false);
  w->checkpoint();
}

asio::awaitable<std::uint64_t> finish_on_pool(export_writer* w, std::string exported_at) {
  co_await asio::this_coro::throw_if_cancelled(false);
  co_return w->finish(exported_at);
}

class file_sink final : public velt::user_sink {
 public:
  file_sink(export_files const& f, std::string user) : f_(f), user_(std::move(user)) {}

  asio::awaitable<velt::resume_point> async_start() override {
    w_ = make_writer();
    last_checkpoint_ = steady_clock::now();
    velt::resume_point from;
    from.page_token = w_->resume();
    from.pages = w_->pages();
    if (from.page_token) {
      f_.out->log(velt::log_level::info,
                  fmt::format("resuming user {} after page {}", printable_id(user_), w_->pages()));
    }
    co_return from;
  }

  asio::awaitable<void> async_restart(velt::error_details const& why) override {
    f_.out->log(velt::log_level::warning,
                fmt::format("user {}: the saved page token was refused ({}); starting the user again",
                            printable_id(user_), why.to_string()));
    w_->discard();
    w_ = make_writer();
    co_return;
  }

  asio::awaitable<void> async_page(velt::user_data_page page) override {
    std::size_t const items = page.item_count();
    bool const last = page.is_last();
    std::size_t const bytes = w_->add_page(std::move(page));
    f_.on_page(items, bytes);
    // A checkpoint is made only between pages (a next page must exist): the writer's rule.
    if (!last && steady_clock::now() - last_checkpoint_ >= f_.checkpoint_interval) {
      co_await run_blocking(f_.file_executor, checkpoint_on_pool(w_.get()));
      last_checkpoint_ = steady_clock::now();
    }
  }

  asio::awaitable<void> async_finish(velt::user_outcome const& outcome) override {
    std::string local_error;
    try {
      co_await finish(outcome);
    } catch (std::exception const& ex) {
      local_error = ex.what();
    }
    if (!local_error.empty()) f_.local_failure(user_, local_error);
  }

 private:
  std::unique_ptr<export_writer> make_writer() const {
    return std::make_unique<export_writer>(f_.paths, f_.organization_id, user_, f_.spill_bytes, f_.held);
  }

  asio::awaitable<void> finish(velt::user_outcome const& outcome) {
    using state = velt::user_outcome::state;
    switch (outcome.what) {
      case state::complete: {
        std::uint64_t const bytes =
            co_await run_blocking(f_.file_executor, finish_on_pool(w_.get(), f_.exported_at()));
        f_.report->add_ok(w_->pages(), w_->items(), bytes);
        // After publishing (design note §2.2): a kill in between is repaired by the next run.
        if (f_.audit) f_.audit->record("exported", exported_members(user_, w_->pages(), w_->items(), bytes, w_->sha256()));
        f_.out->log(velt::log_level::debug, fmt::format("exported user {}: {} pages, {} items",
                                                        printable_id(user_), w_->pages(), w_->items()));
        co_return;
      }
      case state::skipped: f_.report->add_skipped(); co_return;
      case state::failed:
        if (outcome.sink_failed) {
          f_.local_failure(user_, outcome.error.message);
          co_return;
        }
        f_.report->add_failure(user_failure{user_, outcome.error.status, outcome.error.http_status,
                                            outcome.error.message, outcome.error.attempts});
        if (f_.audit) {
          f_.audit->record("export_failed", export_failed_members(user_, outcome.error.status,
                                                                  outcome.error.http_status, outcome.error.attempts));
        }
        f_.out->log(velt::log_level::warning,
                    fmt::format("user {} failed: {}", printable_id(user_), outcome.error.to_string()));
        break;
      case state::stopped: break;
    }
    // Failed or stopped: keep the pages received so far for the next run.
    if (w_ && w_->unsaved_pages() > 0) co_await run_blocking(f_.file_executor, checkpoint_on_pool(w_.get()));
  }

  export_files const& f_;
  std::string user_;
  std::unique_ptr<export_writer> w_;
  steady_clock::time_point last_checkpoint_;
};

class file_users final : public velt::user_source {
 public:
  file_users(export_files const& f, users_source& source) : f_(f), source_(source) {}

  std::optional<std::string> exported_before() const override {
    std::lock_guard lock(exported_before_mutex_);
    return exported_before_;
  }

  asio::awaitable<std::vector<std::string>> async_pull(std::size_t max) override {
    std::size_t const n = source_.never_waits() ? max : 1;
    co_return co_await asio::co_spawn(f_.file_executor, pull(this, n), asio::use_awaitable);
  }

 private:
  // Up to `n` users in one trip to the file executor: one hand-off per batch, not per user,
  // so that all free slots fill at once.
  static asio::awaitable<std::vector<std::string>> pull(file_users* self, std::size_t n) {
    co_await asio::this_coro::throw_if_cancelled(false);
    std::vector<std::string> out;
    out.reserve(n);
    while (out.size() < n) {
      std::optional<std::string> user = self->next();
      if (!user) break;
      out.push_back(std::move(*user));
    }
    co_return out;
  }

  std::optional<std::string> next() {
    for (;;) {
      std::optional<user_entry> entry = source_.next();
      if (!entry) return std::nullopt;
      if (entry->problem) {
        f_.report->add_failure(user_failure{entry->id, velt::status::invalid_argument, 0, *entry->problem, 0});
        if (f_.audit) f_.audit->record("export_failed", export_failed_members(entry->id, velt::status::invalid_argument, 0, 0));
        f_.out->log(velt::log_level::warning, "skipping a user id: " + *entry->problem);
        continue;
      }
      struct stat st {};
      if (::stat((f_.paths.users_dir / export_file_name(entry->id)).c_str(), &st) == 0) {
        f_.report->add_skipped();
        if (f_.audit && f_.logged_as_exported && !f_.logged_as_exported->contains(entry->id)) recover(entry->id);
        if (!has_exported_before_.load(std::memory_order_acquire)) {
          std::lock_guard lock(exported_before_mutex_);
          exported_before_ = entry->id;
          has_exported_before_.store(true, std::memory_order_release);
        }
        continue;
      }
      return std::move(entry->id);
    }
  }

  // A published file without its `exported` line: hashed and logged now (on the file
  // executor, like the rest of the reading).
  void recover(std::string const& user) {
    try {
      f_.audit->record("exported", recovered_members(f_.paths.users_dir, user));
      f_.out->log(velt::log_level::info, "audit log: recorded the export of " + printable_id(user) +
                                             " that an interrupted run had published without its line");
    } catch (std::exception const& e) {
      f_.local_failure(user, std::string("cannot read back an earlier export for the audit log: ") + e.what());
    }
  }

  export_files const& f_;
  users_source& source_;
  // A user complete in this directory: the run's probe when a refusal needs judging.
  mutable std::mutex exported_before_mutex_;
  std::optional<std::string> exported_before_;
  std::atomic<bool> has_exported_before_{false};
};

}  // namespace

std::unique_ptr<velt::user_sink> make_file_sink(export_files const& files, std::string const& user) {
  return std::make_unique<file_sink>(files, user);
}

std::unique_ptr<velt::user_source> make_file_users(export_files const& files, users_source& source) {
  return std::make_unique<file_users>(files, source);
}

}  // namespace velt::gdpr
