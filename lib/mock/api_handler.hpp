// SPDX-License-Identifier: BSL-1.0
// The Velt GDPR API as the mock implements it: routing (v1 and v2 paths), credentials,
// request-body validation, page tokens, the three endpoints' answers and the error
// envelopes. Sans-I/O: it sees a request's method, target, credentials and body and returns
// status, headers and body; the HTTP session does the rest.
#pragma once

#include "data_set.hpp"
#include "delete_jobs.hpp"
#include "page_cache.hpp"
#include "page_token.hpp"

#include <velt/mock/options.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace velt::mock::detail {

/// What the handler needs of an HTTP request.
struct http_request_view {
  std::string_view method;                  ///< "POST", "GET", ...
  std::string_view target;                  ///< path, optionally with a query (ignored)
  std::optional<std::string_view> api_key;  ///< x-velt-api-key, when present
  std::optional<std::string_view> auth_token;
  std::string_view body;
};

/// A response before it is put on the wire.
struct api_response {
  unsigned status = 200;
  std::string_view content_type = "application/json; charset=utf-8";
  shared_body body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< besides Content-Type/Length
  bool is_page = false;                                      ///< a get-user-data success
};

enum class route_kind { api, stats, unknown };

/// A request after routing, authentication and validation.
struct parsed_request {
  route_kind route = route_kind::unknown;
  std::optional<wire::endpoint> endpoint;
  std::optional<api_response> rejection;  ///< set when the request is refused
  std::string organization_id;            ///< get-user-data
  std::vector<std::string> users;         ///< userId (get) or userIds (delete)
  std::vector<std::string> organization_ids;  ///< delete
  std::optional<std::size_t> page;        ///< get-user-data: 0 without a token, else the token's
  std::string job_id;                     ///< delete status
  /// The body's `data` object, every member (server_options::recorded_requests); empty
  /// when the body was not read or had none.
  boost::json::object data;
};

/// A JSON error envelope `{"error":{"message","status","code"}}`.
api_response error_response(unsigned http_status, std::string_view status, std::string_view message,
                            int code);

class api_handler {
 public:
  struct config {
    std::string api_key, auth_token;
    delete_envelope delete_shape = delete_envelope::result;
    bool mismatched_error_codes = false;
  };

  api_handler(config cfg, data_set const& data, page_token_signer const& signer, page_cache& pages,
              delete_registry& jobs);

  /// Routes, authenticates and validates (including the page token).
  parsed_request parse(http_request_view const& r) const;
  /// The answer to a parsed request (its rejection when it has one). Queues deletions.
  api_response respond(parsed_request const& r, std::chrono::system_clock::time_point now);

 private:
  api_response invalid_argument(std::string_view message) const;
  void parse_body(http_request_view const& r, parsed_request& out) const;
  api_response get_user_data(parsed_request const& r, std::chrono::system_clock::time_point now);

  config cfg_;
  data_set const& data_;
  page_token_signer const& signer_;
  page_cache& pages_;
  delete_registry& jobs_;
};

/// The endpoint and version of an API path, e.g. "/v1/users/data/delete/status".
std::optional<std::pair<wire::endpoint, api_version>> match_api_path(std::string_view path) noexcept;

}  // namespace velt::mock::detail
