// SPDX-License-Identifier: BSL-1.0
// request_fields.hpp: `--request-field KEY=JSON`, more members of the `data` object of every
// Get All User Data request (velt::user_data_request::extra). Sans-I/O.
#pragma once

#include <boost/json/object.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace velt::gdpr {

/// A `--request-field` value that cannot be used. The message names the flag and quotes the
/// offending value.
class request_field_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The `--request-field` values, in order, as one object: each is `KEY=JSON`, split at the
/// first `=`; KEY non-empty, JSON any JSON value (`veltAllOrganizations=true`,
/// `veltUserIds=["a","b"]`, `uniqueId="x"`; numbers kept exactly). Throws
/// request_field_error for a value without `=`, an empty key, a value that is not JSON, a
/// key the tool sets itself (`organizationId`, `userId`, `pageToken`), a key given twice
/// (refused rather than letting one silently win), or a key that is not valid UTF-8.
boost::json::object parse_request_fields(std::vector<std::string> const& specs);

}  // namespace velt::gdpr
