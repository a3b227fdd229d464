// SPDX-License-Identifier: BSL-1.0
// <velt/version.hpp>: the header's numbers, the library's string and the project version
// (project(velt VERSION ...), passed in by test/unit/CMakeLists.txt) all agree.
#include <velt/version.hpp>

#include <gtest/gtest.h>

#include <string>

#ifndef VELT_TEST_PROJECT_VERSION
#error "VELT_TEST_PROJECT_VERSION must be the project version"
#endif

namespace {

TEST(Version, HeaderLibraryAndProjectAgree) {
  std::string const expected = std::to_string(VELT_VERSION_MAJOR) + "." + std::to_string(VELT_VERSION_MINOR) +
                               "." + std::to_string(VELT_VERSION_PATCH);
  EXPECT_EQ(expected, VELT_TEST_PROJECT_VERSION);
  EXPECT_EQ(std::string(VELT_VERSION_STRING), VELT_TEST_PROJECT_VERSION);
  EXPECT_EQ(std::string(velt::version()), VELT_TEST_PROJECT_VERSION);
}

TEST(Version, IntegerIsLikeBoostVersion) {
  EXPECT_EQ(VELT_VERSION, VELT_VERSION_MAJOR * 100000 + VELT_VERSION_MINOR * 100 + VELT_VERSION_PATCH);
  static_assert(VELT_VERSION_MINOR < 1000 && VELT_VERSION_PATCH < 100, "VELT_VERSION's fields overlap");
#if VELT_VERSION < 100
#error "VELT_VERSION is usable in #if and is at least 0.1.0"
#endif
}

}  // namespace
