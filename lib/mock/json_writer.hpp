// SPDX-License-Identifier: BSL-1.0
// Writes JSON the way a JavaScript server does (JSON.stringify): UTF-8 text as is, only `"`,
// `\` and control characters escaped, doubles in their shortest round-trip form ("0.4375",
// "123.456789012345", "1e+21"), integers as integers. Boost.JSON's serializer writes
// "4.375E-1" instead, which is valid but unlike the real API.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace velt::mock::detail {

/// Appends the JSON text of `v` to `out`.
void write_json(std::string& out, boost::json::value const& v);
/// Appends a JSON string literal (with quotes).
void write_json_string(std::string& out, std::string_view s);
/// The JSON text of `v`.
std::string to_json(boost::json::value const& v);

/// A double as a JSON value: an integral value that fits int64 becomes an int64, because
/// its shortest text ("2") reads back as an integer.
boost::json::value json_number(double d);

}  // namespace velt::mock::detail
