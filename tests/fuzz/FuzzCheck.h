// The fuzz targets' invariant check: a broken invariant aborts, which libFuzzer reports as a
// crash with the input that did it, and fuzz.sh's summary greps for "invariant broken".
#pragma once

#include <cstdio>
#include <cstdlib>

namespace portico::fuzz {

inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

}  // namespace portico::fuzz
