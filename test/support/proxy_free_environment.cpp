// SPDX-License-Identifier: BSL-1.0
// Linked into every test executable (test/CMakeLists.txt): the tests talk to servers on
// 127.0.0.1, and a proxy from the machine's environment (a CI runner's HTTPS_PROXY) must not
// come between them, nor reach the programs and examples they start. The variables are
// removed before main(); tests of proxying set the ones they test themselves.
#include <stdlib.h>

namespace {
[[maybe_unused]] bool const proxy_variables_removed = [] {
  for (char const* name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy",
                           "NO_PROXY", "all_proxy", "ALL_PROXY"})
    ::unsetenv(name);
  return true;
}();
}  // namespace
