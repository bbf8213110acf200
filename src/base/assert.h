// Assertions that stay on in every build. A failed assertion is a bug: it prints where and why,
// then aborts. Expected failures (not leader, timeout, corruption) are values, never asserts.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace synod::detail {
[[noreturn]] inline void AssertFail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "assertion failed: %s (%s) at %s:%d\n", expr, msg, file, line);
  std::fflush(stderr);
  std::abort();
}
}  // namespace synod::detail

#define SYNOD_ASSERT(cond, msg)                                         \
  do {                                                                  \
    if (!(cond)) [[unlikely]]                                           \
      ::synod::detail::AssertFail(#cond, __FILE__, __LINE__, (msg));    \
  } while (0)

#define SYNOD_UNREACHABLE(msg) ::synod::detail::AssertFail("unreachable", __FILE__, __LINE__, (msg))
