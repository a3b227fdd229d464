// SPDX-License-Identifier: BSL-1.0
#include "core/erase_audit.hpp"

#include "core/report.hpp"

#include <velt/audit.hpp>
#include <velt/version.hpp>

#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <exception>

namespace velt::gdpr {

namespace json = boost::json;
using std::chrono::system_clock;

erase_audit::erase_audit(velt::erase_observer& printer, audit_trail& trail, std::optional<receipt_settings> receipts,
                         console& con, std::function<void(std::string const&)> on_failure)
    : printer_(printer), trail_(trail), receipts_(std::move(receipts)), con_(con), on_failure_(std::move(on_failure)) {
  if (receipts_) files_.emplace(2);
}

erase_audit::~erase_audit() { finish_receipts(); }

erase_audit::job* erase_audit::find_job(std::string const& id) {
  auto const it = job_index_.find(id);
  return it == job_index_.end() ? nullptr : &jobs_[it->second];
}

void erase_audit::on_queued(std::vector<std::string> const& users, velt::delete_job const& queued) {
  printer_.on_queued(users, queued);
  std::size_t const index = jobs_.size();
  jobs_.push_back(job{queued.job_id, users.size(), system_clock::now(), std::nullopt, std::nullopt});
  job_index_.emplace(queued.job_id, index);
  for (auto const& u : users) {
    trail_.record("deletion_requested", json::object{{"userId", printable_id(u)}, {"jobId", queued.job_id}});
    if (receipts_) user_job_[digest_of(u)] = static_cast<std::uint32_t>(index);
  }
}

void erase_audit::on_not_queued(std::vector<std::string> const& users, velt::error_details const& error) {
  printer_.on_not_queued(users, error);
  bool const maybe_queued = velt::may_have_taken_effect(error);
  for (auto const& u : users) {
    trail_.record("deletion_failed", json::object{{"userId", printable_id(u)},
                                                  {"status", velt::to_string(error.status)},
                                                  {"httpStatus", error.http_status},
                                                  {"maybeQueued", maybe_queued}});
  }
}

void erase_audit::refused_id(std::string const& user) {
  trail_.record("deletion_failed", json::object{{"userId", printable_id(user)},
                                                {"status", velt::to_string(velt::status::invalid_argument)},
                                                {"httpStatus", 0},
                                                {"maybeQueued", false}});
}

void erase_audit::on_completed(std::string const& job_id, velt::delete_status const& status) {
  printer_.on_completed(job_id, status);
  job* j = find_job(job_id);
  json::object m{{"jobId", job_id}, {"users", j ? j->users : 0}, {"tasksLeft", status.tasks_left}};
  if (status.last_task_completed_time) m["lastTaskCompletedTime"] = *status.last_task_completed_time;
  trail_.record("deletion_completed", std::move(m));
  if (j) {
    j->completed_at = system_clock::now();
    j->last_task_completed_time = status.last_task_completed_time;
  }
}

void erase_audit::on_unfinished(std::string const& job_id, velt::error_details const& error) {
  printer_.on_unfinished(job_id, error);
  job const* j = find_job(job_id);
  trail_.record("deletion_unfinished", json::object{{"jobId", job_id},
                                                    {"users", j ? j->users : 0},
                                                    {"status", velt::to_string(error.status)}});
}

void erase_audit::on_verified(std::string const& user, velt::user_verification const& v) {
  printer_.on_verified(user, v);
  json::object m{{"userId", printable_id(user)}, {"pages", v.pages}, {"items", v.items}};
  if (v.items > 0) {
    json::object by_feature;
    for (auto const& [name, n] : v.items_by_feature) by_feature[name] = n;
    m["itemsByFeature"] = std::move(by_feature);
  }
  std::uint64_t const ticket = trail_.record("verified", std::move(m));
  if (!receipts_ || v.items > 0 || ticket == 0) return;  // data left: no receipt (§6)
  auto const it = user_job_.find(digest_of(user));
  job const* j = it == user_job_.end() ? nullptr : &jobs_[it->second];
  if (!j || !j->completed_at) {
    con_.log(velt::log_level::warning,
             fmt::format("no receipt for {}: its deletion job was not seen complete", printable_id(user)));
    return;
  }
  write_receipt_later(user, *j, v.pages, ticket);
}

void erase_audit::write_receipt_later(std::string const& user, job const& j, std::uint64_t pages,
                                      std::uint64_t ticket) {
  audit::erasure_receipt r;
  r.user_id = user;
  r.organization_ids = {receipts_->organization_id};
  r.job_id = j.id;
  r.requested_at = j.requested_at;
  r.completed_at = *j.completed_at;
  r.last_task_completed_time = j.last_task_completed_time;
  r.verified_at = system_clock::now();
  r.pages = pages;
  r.run = trail_.run_id();
  r.tool_version = velt::version();
  boost::asio::post(*files_, [this, r = std::move(r), ticket] {
    try {
      // The receipt attests what the log records: its `verified` line is durable first.
      if (!trail_.wait_durable(ticket)) return;
      audit::write_receipt(receipts_->dir, r.user_id, audit::sign_receipt(r, *trail_.key()));
      ++receipts_written_;
    } catch (std::exception const& e) {
      if (on_failure_) on_failure_(std::string("cannot write the receipt of ") + printable_id(r.user_id) + ": " + e.what());
    }
  });
}

void erase_audit::on_remaining(std::string const& user, std::map<std::string, std::uint64_t> const& items) {
  printer_.on_remaining(user, items);  // the `verified` line has the counts
}

void erase_audit::on_unverified(std::string const& user, velt::error_details const& error) {
  printer_.on_unverified(user, error);
  trail_.record("unverified", json::object{{"userId", printable_id(user)}, {"status", velt::to_string(error.status)}});
}

void erase_audit::finish_receipts() {
  if (files_) files_->join();
}

}  // namespace velt::gdpr
