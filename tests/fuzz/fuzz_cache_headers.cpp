// The cache's parsing of header values and the decisions made from them: Cache-Control,
// Pragma, HTTP-dates, entity tags and conditionals, Location keys, Vary, storability and
// reuse, then the head a hit is answered with.
//
// Input: a first line "STATUS METHOD" (both optional), then header lines "name: value",
// split at '\n'. Lines whose name is a token and whose value llhttp would accept make the
// request and response heads (the same lines are used for both, as a client and an
// upstream could send them); every value also goes to the value parsers as it is.
//
// Invariants: an HTTP-date that parses formats to a date that parses to the same time;
// entity-tag comparison is symmetric and strong implies weak; a stored response matches
// the request it was stored for (unless Vary: *); ages are never negative; a cached head
// re-parses with llhttp with the stored status.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cache/CacheControl.h"
#include "cache/CacheKey.h"
#include "cache/CachePolicy.h"
#include "cache/CachedHead.h"
#include "cache/CachedResponse.h"
#include "cache/HttpDate.h"
#include "cache/Validators.h"
#include "http/HeadCollector.h"
#include "http/MessageParser.h"
#include "tests/fuzz/FuzzCheck.h"

using namespace portico;

namespace {

using fuzz::check;

// What llhttp (strict) lets through as a field value: no CR, LF or NUL, nor other
// controls except HTAB; no leading or trailing whitespace (HeadCollector trims it).
bool head_value(std::string_view v) {
  for (unsigned char c : v)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return v.empty() || (!http::is_ows(v.front()) && !http::is_ows(v.back()));
}

void check_date(std::string_view value) {
  std::optional<int64_t> t = cache::parse_http_date(value);
  if (!t) return;
  cache::HttpDateText text;
  cache::format_http_date(*t, text);
  std::optional<int64_t> again = cache::parse_http_date({text.data(), text.size()});
  check(again.has_value(), "a formatted HTTP-date does not parse");
  // Formatting clamps to years 0000-9999.
  if (*t >= -62167219200 && *t <= 253402300799)
    check(*again == *t, "an HTTP-date does not round-trip");
}

void check_etags(std::string_view a, std::string_view b) {
  check(cache::strong_match(a, b) == cache::strong_match(b, a), "strong_match is not symmetric");
  check(cache::weak_match(a, b) == cache::weak_match(b, a), "weak_match is not symmetric");
  if (cache::strong_match(a, b)) check(cache::weak_match(a, b), "strong match but not weak");
  if (cache::valid_etag(a)) check(cache::weak_match(a, a), "an entity-tag does not match itself");
  (void)cache::none_match(a, b);
  (void)cache::none_match(b, a);
}

void reparse_cached_head(const std::string& out, int status) {
  std::string copy = out;
  http::MessageParser parser(HTTP_RESPONSE, nullptr);
  http::HeadCollector head;
  parser.start_message(&head);
  auto [stop, used] = parser.execute(copy.data(), 0, uint32_t(copy.size()));
  (void)used;
  if (stop != http::MessageParser::Stop::Head) {
    std::fprintf(stderr, "cached head does not parse: %s\n%s\n", parser.error_reason(),
                 out.c_str());
    std::abort();
  }
  check(parser.raw().status_code == status, "cached head has another status");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t eol = text.find('\n');
  std::string_view first = text.substr(0, eol);
  text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);

  int status = 200;
  std::string_view method = "GET";
  {
    size_t sp = first.find(' ');
    std::string_view digits = first.substr(0, sp);
    if (digits.size() == 3 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      status = std::stoi(std::string(digits));
    if (status < 200) status = 200;  // interim responses are never stored
    if (sp != std::string_view::npos && http::is_token(first.substr(sp + 1)))
      method = first.substr(sp + 1);
  }

  std::vector<http::Header> all;   // every line, as it is
  std::vector<http::Header> head;  // the lines a parsed head could have
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    http::Header h{line.substr(0, colon), http::trim_ows(line.substr(colon + 1))};
    all.push_back(h);
    if (http::is_token(h.name) && head_value(h.value)) head.push_back(h);
    if (all.size() > 64) break;
  }

  // Value parsers, on every value as it is.
  std::string key;
  for (size_t i = 0; i < all.size(); ++i) {
    const http::Header& h = all[i];
    check_date(h.value);
    check_etags(h.value, all[(i + 1) % all.size()].value);
    key.clear();
    (void)cache::key_of_reference(key, h.value, "example.com", "/a/b/c?q=1");
    key.clear();
    (void)cache::key_of_reference(key, h.value, h.name, "/");
    key.clear();
    cache::append_key(key, h.name, h.value);
  }
  cache::CacheControl all_cc = cache::parse_cache_control(all);
  check(all_cc.max_age >= cache::CacheControl::kAbsent, "negative max-age");
  check(all_cc.s_maxage >= cache::CacheControl::kAbsent, "negative s-maxage");
  check(all_cc.max_stale >= cache::CacheControl::kAbsent, "negative max-stale");
  check(all_cc.min_fresh >= cache::CacheControl::kAbsent, "negative min-fresh");
  (void)cache::pragma_no_cache(all);

  // A request and a response made of the well-formed lines.
  const int64_t now_ms = 1'700'000'000'000;
  cache::RequestFacts facts = cache::request_facts(method, head);
  cache::CacheControl response_cc = cache::parse_cache_control(head);
  (void)cache::why_not_storable(facts, status, head, response_cc, {});
  const http::Header* inm = http::find_header(head, "if-none-match");
  const http::Header* ims = http::find_header(head, "if-modified-since");

  cache::ResponseToStore in;
  in.status = status;
  in.reason = "Fuzz";
  in.headers = head;
  in.request_headers = head;
  in.times = {now_ms - 1500, now_ms - 1000};
  in.body = std::make_shared<const std::string>("body");
  std::shared_ptr<const cache::CachedResponse> stored = cache::build_cached_response(in);
  check(stored != nullptr, "no stored response");
  check(stored->lifetime >= 0, "negative freshness lifetime");
  if (!stored->vary_any)
    check(cache::vary_matches(*stored, head), "a response does not match its own request");
  check(cache::same_variant(*stored, *stored), "a response is not its own variant");
  for (int64_t later : {now_ms, now_ms + 5'000, now_ms + int64_t(86'400'000) * 400}) {
    check(cache::current_age(*stored, later) >= 0, "negative age");
    cache::ReuseDecision d = cache::decide_reuse(*stored, facts, later);
    check(d.age >= 0, "negative age in a reuse decision");
    (void)cache::stale_if_error_allows(*stored, facts, later);
  }
  cache::Precondition pre =
      cache::evaluate_conditional(inm ? std::optional<std::string_view>(inm->value) : std::nullopt,
                                  ims ? std::optional<std::string_view>(ims->value) : std::nullopt,
                                  {stored->etag, stored->last_modified, stored->date});

  std::shared_ptr<const cache::CachedResponse> refreshed =
      cache::refreshed_by_304(*stored, head, {now_ms, now_ms + 10}, {});
  check(refreshed != nullptr, "no refreshed response");
  check(refreshed->body == stored->body, "a 304 copied the body");

  std::string out;
  cache::CachedHead ch{.stored = refreshed.get(),
                       .not_modified = pre == cache::Precondition::NotModified,
                       .age = cache::current_age(*refreshed, now_ms + 20),
                       .added_lines = "X-Cache: HIT\r\n"};
  cache::write_cached_head(out, ch);
  reparse_cached_head(out, ch.not_modified ? 304 : refreshed->status);
  return 0;
}
