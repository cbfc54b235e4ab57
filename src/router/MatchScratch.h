// Per-thread scratch space for route matching. Matching runs on every request, so
// everything it needs that would otherwise be allocated per call (PCRE2 match data,
// the JIT stack, a buffer for percent-decoded query values) is created once here and
// reused. A MatchScratch is not thread-safe: each worker thread owns its own.
#pragma once

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace portico::router {

class MatchScratch {
 public:
  // Longest percent-decoded query value a regex condition can look at; a longer one
  // counts as not matching (see Router.h).
  static constexpr size_t kDecodeBufferSize = 4096;

  // Backtracking budget per regex match. A route regex runs against attacker-chosen
  // input, so a pathological pattern must not be able to burn unbounded CPU; past the
  // budget the regex counts as not matching. 250k steps is about a millisecond with
  // the JIT and far more than any sane routing regex needs on a path or header value.
  static constexpr uint32_t kDefaultMatchLimit = 250'000;

  explicit MatchScratch(uint32_t match_limit = kDefaultMatchLimit);
  ~MatchScratch();
  MatchScratch(const MatchScratch&) = delete;
  MatchScratch& operator=(const MatchScratch&) = delete;

  pcre2_match_data* match_data() const { return match_data_.get(); }
  pcre2_match_context* match_context() const { return match_context_.get(); }
  std::span<char> decode_buffer() { return decode_buffer_; }

  // Matches that ended in an error (match limit, JIT stack exhausted, ...) rather than
  // a plain "no match". They count as not matching; this lets stats expose them.
  uint64_t regex_errors() const { return regex_errors_; }
  void count_regex_error() { ++regex_errors_; }

 private:
  struct Deleter {
    void operator()(pcre2_match_data* p) const;
    void operator()(pcre2_match_context* p) const;
    void operator()(pcre2_jit_stack* p) const;
  };

  std::unique_ptr<pcre2_match_data, Deleter> match_data_;
  std::unique_ptr<pcre2_jit_stack, Deleter> jit_stack_;
  std::unique_ptr<pcre2_match_context, Deleter> match_context_;
  uint64_t regex_errors_ = 0;
  char decode_buffer_[kDecodeBufferSize];
};

}  // namespace portico::router
