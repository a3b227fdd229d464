// SPDX-License-Identifier: BSL-1.0
// velt/model.hpp: the typed requests and responses of Velt's three GDPR endpoints.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace velt {

/// Which API version's paths to use (`/v2/users/data/...` or `/v1/users/data/...`);
/// the bodies are the same.
enum class api_version { v1, v2 };

/// `POST /v2/users/data/get`: one page of one user's data.
struct user_data_request {
  std::string organization_id{};            ///< required, non-empty
  std::string user_id{};                    ///< required, non-empty
  std::optional<std::string> page_token{};  ///< omitted on the first page; sent back verbatim
  /// More members of the request's `data` object, sent as given after the fields above:
  /// for what newer Velt SDKs send (`veltUserIds`, `veltAllOrganizations`, `uniqueId`),
  /// which this library passes through without interpreting. A stream sends them with
  /// every page request. Keys the fields above own (`organizationId`, `userId`,
  /// `pageToken`; `wire::reserved_user_data_keys`) are refused before any I/O.
  boost::json::object extra{};
};

/// `POST /v2/users/data/delete`: queue deletion of users' data.
struct delete_user_data_request {
  std::vector<std::string> user_ids{};          ///< required, at least one, each non-empty
  std::vector<std::string> organization_ids{};  ///< optional (makes the job faster)
};

/// `POST /v2/users/data/delete/status`: progress of a deletion job.
struct delete_status_request {
  std::string job_id{};  ///< required, non-empty
};

/// The four features the API documents. A page may carry others; they are kept too.
inline constexpr char const* known_features[] = {"comments", "reactions", "recordings",
                                                 "notifications"};

/// How a page's items are delivered (see `client::async_fetch_all_user_data`).
enum class page_format {
  /// Boost.JSON values: `data()` holds the page's whole `data` object. The default.
  parsed,
  /// The items' JSON text as the server sent it, validated but never turned into values:
  /// `raw_features()`. Several times cheaper; meant for code that stores or forwards items.
  raw,
};

/// One feature of a `page_format::raw` page: its name, and the JSON text of each item in
/// server order. The views point into the page's own copy of the response body and stay
/// valid as long as the page (or a copy of it) lives.
struct raw_feature {
  /// The feature's key in the page's `data` object.
  std::string name{};
  /// The JSON text of each item, in server order.
  std::vector<std::string_view> items{};
  /// The array's content between its brackets, as sent: the items and what separates them.
  /// On a page with `raw_items_compact()`, exactly the items joined by commas.
  std::string_view text{};
};

/// One page of a user's data, kept losslessly: the page's whole `data` object with every
/// feature array, known or not, and every item exactly as the server sent it.
///
/// A page is in one of two formats (`format()`): `parsed` pages carry `data()`; `raw`
/// pages carry `raw_features()` and an empty `data()`. `item_count()`, `next_page_token()`
/// and `index()` work for both.
class user_data_page {
 public:
  user_data_page() = default;
  /// Takes the page's `data` object as is. An empty `next_page_token` is stored as
  /// `std::nullopt` (the API's "no more pages"), so `is_last()` is the single test.
  user_data_page(boost::json::object data, std::optional<std::string> next_page_token,
                 std::size_t index = 0);

  /// The page's whole `data` object: every feature array, known or unknown, as the server
  /// sent it; also a `null` feature (no items on this page) and a string `nextPageToken`
  /// found inside `data` (not used for paging).
  boost::json::object const& data() const noexcept { return data_; }
  /// Moves the `data` object out (the page is left with an empty one).
  boost::json::object release_data() noexcept;

  /// The known features; an empty array when the page does not carry the key.
  boost::json::array const& comments() const noexcept { return feature("comments"); }
  /// `feature("reactions")`.
  boost::json::array const& reactions() const noexcept { return feature("reactions"); }
  /// `feature("recordings")`.
  boost::json::array const& recordings() const noexcept { return feature("recordings"); }
  /// `feature("notifications")`.
  boost::json::array const& notifications() const noexcept { return feature("notifications"); }
  /// Any feature by name; an empty array when missing or not an array (`null`). The
  /// decoder refuses pages with other non-array members of `data`.
  boost::json::array const& feature(std::string_view name) const noexcept;

  /// The token for the next page; `std::nullopt` on the last page (the server sent the
  /// key absent, `null` or `""`).
  std::optional<std::string> const& next_page_token() const noexcept { return next_; }
  /// True on the last page: `next_page_token()` is `std::nullopt`.
  bool is_last() const noexcept { return !next_.has_value(); }

  /// 0-based position of this page in its user's stream.
  std::size_t index() const noexcept { return index_; }
  /// Sets `index()`. A stream numbers the pages it delivers; code that continues a user's
  /// export from a saved token renumbers them (`velt::batch_exporter` does).
  void set_index(std::size_t i) noexcept { index_ = i; }

  /// Items on this page: the sizes of all feature arrays added up (known and unknown
  /// features alike).
  std::size_t item_count() const noexcept;

  /// A `page_format::raw` page. `body` holds the JSON text the views of `features` point
  /// into; `compact` says that no feature array holds whitespace outside its strings.
  static user_data_page from_raw(std::shared_ptr<std::string const> body,
                                 std::vector<raw_feature> features,
                                 std::optional<std::string> next_page_token, bool compact,
                                 std::size_t index = 0);

  /// Whether the page carries `data()` (`parsed`) or `raw_features()` (`raw`).
  page_format format() const noexcept { return format_; }
  /// The features of a `raw` page in server order, each item the exact JSON text the
  /// server sent (valid JSON, valid UTF-8; numbers spelled as sent). Empty for a `parsed`
  /// page. A `null` member of `data` (a feature with no items here) and a string
  /// `nextPageToken` member are not listed (`parsed` pages keep them inside `data()`).
  std::span<raw_feature const> raw_features() const noexcept { return raw_; }
  /// True when no feature array of this raw page holds whitespace outside its strings (the
  /// server sent compact JSON): items, and each feature's `text`, can be copied as they
  /// are into compact output.
  bool raw_items_compact() const noexcept { return raw_compact_; }

 private:
  boost::json::object data_;
  std::optional<std::string> next_;
  std::size_t index_ = 0;
  page_format format_ = page_format::parsed;
  bool raw_compact_ = true;
  std::shared_ptr<std::string const> raw_body_;
  std::vector<raw_feature> raw_;
};

/// A queued deletion job. Both documented success envelopes decode to this.
struct delete_job {
  /// The job's id (non-empty), for `delete_status_request::job_id` or
  /// `wait_for_deletion_request::job_id`.
  std::string job_id;
  /// Present in one of the two envelopes; left out when not a non-negative integer (it is
  /// informational, and the job is queued either way).
  std::optional<std::int64_t> tasks_count;
  std::string message;                      ///< the server's message, when given
};

/// Progress of a deletion job.
struct delete_status {
  /// Whether the job has finished deleting (`isDeleteCompleted`).
  bool is_delete_completed = false;
  /// Tasks of the job not done yet (`tasksLeft`); 0 for a completed job whose answer left it
  /// out.
  std::int64_t tasks_left = 0;
  /// Epoch milliseconds; left out when absent or not an integer (informational).
  std::optional<std::int64_t> last_task_completed_time;
};

}  // namespace velt
