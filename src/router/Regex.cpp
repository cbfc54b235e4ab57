#include "router/Regex.h"

#include <array>

namespace portico::router {

RegexError::RegexError(std::string message, size_t offset)
    : std::invalid_argument(message + " at offset " + std::to_string(offset)),
      message_(std::move(message)),
      offset_(offset) {}

void Regex::Deleter::operator()(pcre2_code* p) const {
  pcre2_code_free(p);
}

Regex::Regex(std::string_view pattern, Mode mode) : pattern_(pattern), mode_(mode) {
  const uint32_t options = mode == Mode::FullMatch ? PCRE2_ANCHORED | PCRE2_ENDANCHORED : 0;
  int error = 0;
  PCRE2_SIZE offset = 0;
  code_.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                            &error, &offset, nullptr));
  if (!code_) {
    std::array<PCRE2_UCHAR, 256> text{};
    const int n = pcre2_get_error_message(error, text.data(), text.size());
    std::string message = n > 0 ? std::string(reinterpret_cast<const char*>(text.data()), n)
                                : "error " + std::to_string(error);
    throw RegexError(std::move(message), offset);
  }
  // Without JIT support (some platforms, or JIT disabled at PCRE2 build time) the
  // interpreter still gives correct answers, only slower; not worth failing over.
  jit_ = pcre2_jit_compile(code_.get(), PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

bool Regex::matches(std::string_view subject, MatchScratch& scratch) const {
  // PCRE2 before 10.43 rejects a null subject even with length 0, and an empty view
  // from a default-constructed string_view has a null data pointer.
  if (subject.data() == nullptr) subject = std::string_view("", 0);
  const auto* data = reinterpret_cast<PCRE2_SPTR>(subject.data());
  const int rc = jit_ ? pcre2_jit_match(code_.get(), data, subject.size(), 0, 0,
                                        scratch.match_data(), scratch.match_context())
                      : pcre2_match(code_.get(), data, subject.size(), 0, 0, scratch.match_data(),
                                    scratch.match_context());
  // rc == 0 is a match whose captures did not fit the one-pair match data: still a match.
  if (rc >= 0) return true;
  if (rc != PCRE2_ERROR_NOMATCH) scratch.count_regex_error();
  return false;
}

}  // namespace portico::router
