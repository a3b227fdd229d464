// SPDX-License-Identifier: BSL-1.0
// file_name.hpp: the file name of a user's export, safe for any user id.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace velt::gdpr {

/// Encoded ids longer than this are shortened (see `encode_user_id`).
inline constexpr std::size_t max_encoded_id_bytes = 200;

/// The id as a file-name stem. Keeps the bytes `A-Z a-z 0-9 . _ -` and writes every other
/// byte of the (UTF-8) id as `%XX` (upper-case hex); a leading `.` is written `%2E`, so no
/// name is hidden, `.` or `..`, and none contains `/`. The mapping is one-to-one.
///
/// Encodings longer than `max_encoded_id_bytes` are cut to at most that many bytes (never
/// inside a `%XX`) and get `~` plus the first 32 hex digits of the SHA-256 of the id:
/// names stay under the usual 255-byte limit, and since `~` is itself always encoded
/// (`%7E`), a shortened name never equals the name of a short id. Throws
/// std::invalid_argument for an empty id.
std::string encode_user_id(std::string_view user_id);

/// `encode_user_id(user_id) + ".json"`.
std::string export_file_name(std::string_view user_id);

}  // namespace velt::gdpr
