// Reading query parameters straight from the raw query string, without building a
// map: routing looks at a few names per request, so scanning the bytes is cheaper
// than allocating a container for every parameter.
//
// Syntax is application/x-www-form-urlencoded as browsers send it: parameters are
// separated by '&' (';' is not a separator), the name ends at the first '=', a
// parameter without '=' has an empty value, and empty segments ("a=1&&b=2", a
// trailing '&') are skipped. Decoding turns '+' into a space and "%XY" (two hex
// digits, either case) into that byte; a '%' not followed by two hex digits is kept
// literally, as the WHATWG URL standard does, so "%zz" decodes to "%zz".
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

namespace portico::router {

// One parameter as sent, still percent-encoded.
struct QueryParam {
  std::string_view name;
  std::string_view value;  // empty when the parameter has no '='
};

// Iterates the parameters of a query string (the part after '?', without it) in order:
//   for (QueryParam p : QueryParams(query)) ...
// Views point into the query string, which must outlive the iteration.
class QueryParams {
 public:
  class iterator {
   public:
    using value_type = QueryParam;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    explicit iterator(std::string_view rest) : rest_(rest) { advance(); }

    const QueryParam& operator*() const { return current_; }
    const QueryParam* operator->() const { return &current_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      advance();
      return before;
    }
    bool operator==(std::default_sentinel_t) const { return done_; }

   private:
    void advance();

    std::string_view rest_;
    QueryParam current_;
    bool done_ = false;
  };

  explicit QueryParams(std::string_view query) : query_(query) {}
  iterator begin() const { return iterator(query_); }
  std::default_sentinel_t end() const { return {}; }

 private:
  std::string_view query_;
};

// Decodes a raw name or value into `out`. Returns `raw` itself when it contains
// nothing to decode (no copy), otherwise a view into `out`; std::nullopt when the
// decoded text does not fit in `out`.
std::optional<std::string_view> percent_decode(std::string_view raw, std::span<char> out);

// Whether `raw`, once decoded, equals `expected` byte for byte. Decodes on the fly, so
// it needs no buffer and has no length limit.
bool decoded_equals(std::string_view raw, std::string_view expected);

}  // namespace portico::router
