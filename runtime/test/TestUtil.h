//===- TestUtil.h - Minimal checks for the runtime's unit tests -*- C++ -*-===//
//
// The runtime's tests must build where only the runtime builds, so they use
// these few macros instead of a test framework. A failed check prints where
// and what, counts the failure and continues; main returns testResult().
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_TEST_TESTUTIL_H
#define TP_RUNTIME_TEST_TESTUTIL_H

#include <cstdio>
#include <string>

namespace tp::test {

inline int &failureCount() {
  static int count = 0;
  return count;
}

inline std::string &context() {
  static std::string text;
  return text;
}

inline void reportFailure(const char *file, int line, const std::string &what) {
  ++failureCount();
  std::fprintf(stderr, "%s:%d: FAILED: %s%s%s\n", file, line, what.c_str(),
               context().empty() ? "" : "  [",
               context().empty() ? "" : (context() + "]").c_str());
}

inline int testResult(const char *name) {
  if (failureCount())
    std::fprintf(stderr, "%s: %d check(s) failed\n", name, failureCount());
  else
    std::printf("%s: all checks passed\n", name);
  return failureCount() ? 1 : 0;
}

inline bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

} // namespace tp::test

#define TP_CHECK(cond)                                                         \
  do {                                                                         \
    if (!(cond))                                                               \
      ::tp::test::reportFailure(__FILE__, __LINE__, #cond);                    \
  } while (0)

#define TP_CHECK_MSG(cond, message)                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      ::tp::test::reportFailure(__FILE__, __LINE__,                            \
                                std::string(#cond) + ": " + (message));        \
  } while (0)

/// `text` must contain `part`.
#define TP_CHECK_CONTAINS(text, part)                                          \
  TP_CHECK_MSG(::tp::test::contains((text), (part)),                           \
               "\"" + std::string(text) + "\" lacks \"" + std::string(part) +  \
                   "\"")

#endif // TP_RUNTIME_TEST_TESTUTIL_H
