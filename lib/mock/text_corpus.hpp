// SPDX-License-Identifier: BSL-1.0
// Text for the mock's generated items: arbitrary Unicode (many scripts, RTL, combining marks,
// emoji sequences, supplementary planes, control characters, markup), people's names and
// ids. Deterministic for a given generator state.
#pragma once

#include "rng.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace velt::mock::detail {

/// Text of roughly `target_bytes` UTF-8 bytes (at least one phrase), phrases joined by spaces.
std::string make_text(rng& r, std::size_t target_bytes);
/// One short phrase (a title or a name of a place).
std::string_view make_phrase(rng& r);
/// A person's name, chosen by a hash (so a user id always has the same name).
std::string_view person_name(std::uint64_t h);
/// An emoji (possibly a multi-code-point sequence).
std::string_view make_emoji(rng& r);
/// A Firestore-like id: `length` characters of [A-Za-z0-9] (letters only if `letters_only`).
std::string make_id(std::uint64_t h, std::size_t length = 20, bool letters_only = false);
/// `text` with `<`, `>`, `&`, `"` replaced by HTML entities.
std::string html_escape(std::string_view text);
/// The ISO-8601 UTC form of epoch milliseconds, e.g. "2025-06-03T17:35:06.739Z".
std::string iso8601(std::int64_t epoch_ms);
/// A `#rrggbb` colour from a hash.
std::string make_color(std::uint64_t h);

}  // namespace velt::mock::detail

namespace velt::mock::detail {
/// The longest prefix of UTF-8 `s` of at most `max_code_points` code points (never splits one).
std::string_view utf8_prefix(std::string_view s, std::size_t max_code_points);
}  // namespace velt::mock::detail
