// SPDX-License-Identifier: BSL-1.0
// velt::version(): the library's own version, compiled in from the generated header.
#include <velt/version.hpp>

namespace velt {

char const* version() noexcept { return VELT_VERSION_STRING; }

}  // namespace velt
