// SPDX-License-Identifier: BSL-1.0
// VELT_EMITTED_DECL: how lib/asio/*_src.cpp declare Asio's and Beast's functions in place of
// BOOST_ASIO_DECL / BOOST_BEAST_DECL (see CMakeLists.txt here).
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
// Inline, as in Asio's header-only mode, and emitted although nothing here calls them:
// weak definitions in COMDAT groups, vtables too, function-local statics unique.
#define VELT_EMITTED_DECL inline __attribute__((used))
#else
// clang 14 emits a `used` inline constructor or destructor only in its base-object variant
// (C2/D2), not the complete-object one (C1/D1) that callers name. Plain weak definitions
// instead: a program that defines them itself still links and wins, but their statics are
// local and the vtables of classes whose key function is here are strong, so a header-only
// consumer may hold a second copy of an error category (the installed package is built
// with g++; the test of the installed package says when it skips these checks).
#define VELT_EMITTED_DECL __attribute__((weak))
#endif
