// SPDX-License-Identifier: BSL-1.0
// UTF-8 validation shared by request validation and error-body excerpts (internal).
#pragma once

#include <cstddef>
#include <string_view>

namespace velt::wire::detail {

/// Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
/// nothing above U+10FFFF) at the start of `s`, or 0 when it does not start with one.
std::size_t utf8_sequence_length(std::string_view s) noexcept;

/// Whether `s` is entirely well-formed UTF-8.
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace velt::wire::detail
