// velt/model.hpp: the typed requests and responses of Velt's three GDPR endpoints.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
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

/// One page of a user's data, kept losslessly: the page's whole `data` object with every
/// feature array, known or not, and every item exactly as the server sent it.
class user_data_page {
 public:
  user_data_page() = default;
  /// Takes the page's `data` object as is. An empty `next_page_token` is stored as
  /// `std::nullopt` (the API's "no more pages"), so `is_last()` is the single test.
  user_data_page(boost::json::object data, std::optional<std::string> next_page_token,
                 std::size_t index = 0);

  /// The page's whole `data` object: every feature array, known or unknown.
  boost::json::object const& data() const noexcept { return data_; }
  /// Moves the `data` object out (the page is left with an empty one).
  boost::json::object release_data() noexcept;

  /// The known features; an empty array when the page does not carry the key.
  boost::json::array const& comments() const noexcept { return feature("comments"); }
  boost::json::array const& reactions() const noexcept { return feature("reactions"); }
  boost::json::array const& recordings() const noexcept { return feature("recordings"); }
  boost::json::array const& notifications() const noexcept { return feature("notifications"); }
  /// Any feature by name; an empty array when missing (or, for a page built by hand, when
  /// the member is not an array). The decoder refuses pages whose features are not arrays.
  boost::json::array const& feature(std::string_view name) const noexcept;

  /// The token for the next page; `std::nullopt` on the last page (the server sent the
  /// key absent, `null` or `""`).
  std::optional<std::string> const& next_page_token() const noexcept { return next_; }
  bool is_last() const noexcept { return !next_.has_value(); }

  /// 0-based position of this page in its user's stream.
  std::size_t index() const noexcept { return index_; }
  void set_index(std::size_t i) noexcept { index_ = i; }

  /// Items on this page: the sizes of all array members of `data()` added up (known and
  /// unknown features alike).
  std::size_t item_count() const noexcept;

 private:
  boost::json::object data_;
  std::optional<std::string> next_;
  std::size_t index_ = 0;
};

/// A queued deletion job. Both documented success envelopes decode to this.
struct delete_job {
  std::string job_id;
  std::optional<std::int64_t> tasks_count;  ///< present in one of the two envelopes
  std::string message;                      ///< the server's message, when given
};

/// Progress of a deletion job.
struct delete_status {
  bool is_delete_completed = false;
  std::int64_t tasks_left = 0;
  std::optional<std::int64_t> last_task_completed_time;  ///< epoch milliseconds
};

}  // namespace velt
