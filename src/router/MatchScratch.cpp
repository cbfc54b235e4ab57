#include "router/MatchScratch.h"

#include <new>

namespace portico::router {

namespace {

// The JIT's default stack (32 KiB on the machine stack) is small for patterns with
// nested repeats; a dedicated one avoids spurious JIT_STACKLIMIT failures and is
// allocated once per thread, not per match.
constexpr size_t kJitStackStart = 32 * 1024;
constexpr size_t kJitStackMax = 512 * 1024;

// The interpreter (used when the JIT is unavailable) keeps its backtracking frames on
// the heap; the default cap is effectively unlimited, so bound it too.
constexpr uint32_t kHeapLimitKiB = 8 * 1024;

template <typename T>
T* check(T* p) {
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void MatchScratch::Deleter::operator()(pcre2_match_data* p) const {
  pcre2_match_data_free(p);
}
void MatchScratch::Deleter::operator()(pcre2_match_context* p) const {
  pcre2_match_context_free(p);
}
void MatchScratch::Deleter::operator()(pcre2_jit_stack* p) const {
  pcre2_jit_stack_free(p);
}

MatchScratch::MatchScratch(uint32_t match_limit)
    // Routing only asks "does it match", never for captures; one ovector pair suffices
    // for any pattern (PCRE2 returns 0 instead of the capture count when it is short).
    : match_data_(check(pcre2_match_data_create(1, nullptr))),
      jit_stack_(check(pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr))),
      match_context_(check(pcre2_match_context_create(nullptr))) {
  pcre2_jit_stack_assign(match_context_.get(), nullptr, jit_stack_.get());
  pcre2_set_match_limit(match_context_.get(), match_limit);
  pcre2_set_heap_limit(match_context_.get(), kHeapLimitKiB);
}

MatchScratch::~MatchScratch() = default;

}  // namespace portico::router
