// SPDX-License-Identifier: BSL-1.0
// Sans-I/O masking of secrets (the API key, the auth token) in text a server sent back: a
// hostile or buggy server could echo them in an error message, a header or a body excerpt,
// whole, re-encoded (JSON or HTML escapes) or cut short by an excerpt.
#pragma once

#include <string>
#include <string_view>

namespace velt::detail {

/// What replaces a secret.
inline constexpr std::string_view redaction_mask = "[redacted]";

/// Replaces in `text` every whole occurrence of `secret` with `redaction_mask`; then, for a
/// secret of at least 8 bytes, anything that starts with its first 8 bytes (which do not
/// occur in messages by chance): the mask covers what matches the secret, byte for byte or
/// re-encoded (JSON `\"` `\\` `\/` `\uXXXX`; HTML `&quot;` `&apos;` `&lt;` `&gt;` `&amp;`
/// `&#NN;` `&#xHH;`). When that is not the whole secret (an excerpt cut it, or the server
/// altered it), the mask goes on to the next delimiter (space, tab, CR, LF, `"`, `'`, `<`,
/// `>`) and, for a secret that itself contains a delimiter, over at least the secret's
/// length first, so that no tail of it is left. An empty secret changes nothing.
void redact(std::string& text, std::string_view secret);

}  // namespace velt::detail
