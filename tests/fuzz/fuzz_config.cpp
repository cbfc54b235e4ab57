// The config loader from YAML text (config::load_config_string, what `portico --validate`,
// startup and every reload run), then, for a config it accepts, Runtime::build: what the
// loader lets through must compile (routers, regexes, balancers, filters, cache zones).
//
// Invariants: a config is returned exactly when there are no errors; every error has a
// message and a position inside the text; an accepted config without TLS compiles.
//
// The loader resolves upstream host names; DNS answers would make runs slow and
// irreproducible, so getaddrinfo below answers numeric hosts only (as with no network).
#include <dlfcn.h>
#include <netdb.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "config/ConfigLoader.h"
#include "core/Runtime.h"
#include "tests/fuzz/FuzzCheck.h"

using namespace portico;

extern "C" int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                           struct addrinfo** res) {
  using Fn = int (*)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "getaddrinfo"));
  struct addrinfo numeric {};
  if (hints) numeric = *hints;
  numeric.ai_flags |= AI_NUMERICHOST;
  return real(node, service, &numeric, res);
}

namespace {

using fuzz::check;

bool uses_tls(const config::Config& c) {
  return std::any_of(c.listeners.begin(), c.listeners.end(),
                     [](const config::Listener& l) { return l.tls.enabled; }) ||
         std::any_of(c.upstreams.begin(), c.upstreams.end(),
                     [](const config::Upstream& u) { return u.tls.enabled; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  config::LoadResult r = config::load_config_string(text, "fuzz.yaml");
  check(r.config.has_value() == r.errors.empty(), "a config comes back exactly without errors");
  const int lines = int(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const config::ConfigError& e : r.errors) {
    check(!e.message.empty(), "an error without a message");
    check(e.line >= 0 && e.line <= lines + 1, "an error's line is outside the text");
    check(e.line > 0 || e.column == 0, "a column without a line");
    (void)e.to_string();
  }
  for (const config::ConfigError& w : r.warnings) (void)w.to_string();
  if (!r.config) return 0;
  const bool tls = uses_tls(*r.config);
  try {
    (void)core::Runtime::build(std::move(*r.config));
  } catch (const std::invalid_argument& e) {
    // TLS files may be missing or not what they claim; anything else the loader should
    // have refused with a position.
    if (!tls) {
      std::fprintf(stderr, "accepted config does not compile: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
