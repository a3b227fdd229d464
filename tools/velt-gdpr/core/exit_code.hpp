// SPDX-License-Identifier: BSL-1.0
// exit_code.hpp: velt-gdpr's exit statuses.
#pragma once

namespace velt::gdpr::exit_code {

inline constexpr int ok = 0;           ///< every user exported (erased, verified)
inline constexpr int usage = 2;        ///< usage or configuration error; nothing was done
inline constexpr int failures = 3;     ///< at least one user (batch, job) failed; the rest were done
inline constexpr int interrupted_base = 128;  ///< + signal number: 130 (SIGINT), 143 (SIGTERM)

}  // namespace velt::gdpr::exit_code
