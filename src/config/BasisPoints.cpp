#include "config/BasisPoints.h"

#include <string>

#include "config/YamlReader.h"

namespace portico::config {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

ParseResult<uint32_t> parse_basis_points(std::string_view text) {
  using R = ParseResult<uint32_t>;
  auto invalid = [&](const std::string& why) {
    return R::fail(quoted(text) + " is not a valid percentage: " + why);
  };
  if (text.empty()) return R::fail("empty percentage (expected e.g. '10%' or '2.5')");
  std::string_view number = text;
  if (number.back() == '%') number.remove_suffix(1);
  if (!number.empty() && number.front() == '-') return invalid("percentages cannot be negative");
  const size_t dot = number.find('.');
  std::string_view whole = number.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
  const bool digits_only = [&] {
    for (char c : whole)
      if (!is_digit(c)) return false;
    for (char c : fraction)
      if (!is_digit(c)) return false;
    return true;
  }();
  if (whole.empty() || !digits_only || (dot != std::string_view::npos && fraction.empty()))
    return invalid("expected a number from 0 to 100, e.g. '10%' or '2.5'");
  if (fraction.size() > 2) return invalid("at most two decimals (0.01% steps)");
  // Leading zeros are harmless; only the magnitude matters for the range check.
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  if (whole.size() > 3) return invalid("must be at most 100%");
  uint32_t bp = 0;
  for (char c : whole) bp = bp * 10 + uint32_t(c - '0');
  bp *= 100;
  if (fraction.size() >= 1) bp += uint32_t(fraction[0] - '0') * 10;
  if (fraction.size() == 2) bp += uint32_t(fraction[1] - '0');
  if (bp > Flag::kFullBasisPoints) return invalid("must be at most 100%");
  return R::ok(bp);
}

std::string basis_points_text(uint32_t bp) {
  std::string out = std::to_string(bp / 100);
  const uint32_t cents = bp % 100;
  if (cents != 0) {
    out += '.';
    out += char('0' + cents / 10);
    if (cents % 10 != 0) out += char('0' + cents % 10);
  }
  return out;
}

}  // namespace portico::config
