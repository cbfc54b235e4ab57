// An upstream response without sockets: bytes are parsed the way UpstreamConn::process
// parses them (MessageParser stopping after the head, interim 1xx skipped, the input
// arriving in pieces whose size the first byte chooses), the head is read with
// read_response_head, and the client's response head is built as DownstreamConn builds it
// (write_client_response_head). A chunked body also goes through the cache's
// ChunkedDecoder, which must agree with llhttp.
//
// Invariants: the client head re-parses as one complete response head with the same status
// and framing (Transfer-Encoding gone only when de-chunking); the decoded body is never
// larger than the bytes it came from; llhttp and ChunkedDecoder decode a chunked body to
// the same payload and agree on where it ends.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/ChunkedDecoder.h"
#include "http/ConnectionTokens.h"
#include "http/HeadCollector.h"
#include "http/HeadWriter.h"
#include "http/MessageParser.h"
#include "tests/fuzz/FuzzCheck.h"
#include "upstream/ResponseHead.h"

using namespace portico;

namespace {

using fuzz::check;

class BodyCollector final : public http::MessageParser::BodySink {
 public:
  bool on_body_data(const char* at, size_t n) override {
    decoded.append(at, n);
    return true;
  }
  std::string decoded;
};

void reparse_client_head(const std::string& out, const upstream::ResponseHead& r, bool dechunk,
                         bool head_request) {
  std::string copy = out;
  http::MessageParser parser(HTTP_RESPONSE, nullptr);
  http::HeadCollector head;
  parser.start_message(&head);
  auto [stop, used] = parser.execute(copy.data(), 0, uint32_t(copy.size()));
  if (r.status < 200) return;  // never relayed: MessageParser skips interim responses
  if (stop != http::MessageParser::Stop::Head) {
    std::fprintf(stderr, "client head does not parse: %s\n%s\n", parser.error_reason(),
                 out.c_str());
    std::abort();
  }
  head.unfold(copy.data());
  head.finish(copy.data());
  check(!head.folded(), "client head has an obs-fold line");
  const llhttp_t& p = parser.raw();
  check(p.status_code == r.status, "client status differs");
  check(((p.flags & F_CHUNKED) != 0) == (r.chunked && !dechunk), "client chunked framing differs");
  check(((p.flags & F_CONTENT_LENGTH) != 0) == r.has_content_length,
        "client Content-Length presence differs");
  parser.continue_after_head(head_request);
  auto [stop2, used2] = parser.execute(copy.data(), used, uint32_t(copy.size()));
  (void)stop2;
  check(used + used2 == copy.size(), "client head has bytes after its end");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > (1u << 20)) return 0;
  // First byte: bytes per read (low 5 bits, 0: all at once), a HEAD request (bit 5), an
  // HTTP/1.0 client that gets the body de-chunked (bit 6), Connection: close (bit 7).
  const uint32_t step = data[0] & 31;
  const bool head_request = data[0] & 32;
  const bool http10 = data[0] & 64;
  const bool close_after = data[0] & 128;
  std::vector<char> buf(data + 1, data + size);
  const uint32_t total = uint32_t(buf.size());

  BodyCollector body;
  http::MessageParser parser(HTTP_RESPONSE, &body);
  http::HeadCollector head;
  parser.start_message(&head);
  upstream::ResponseHead response;
  std::string client_head;
  std::string raw_body;  // the body bytes as relayed (chunk framing included)
  uint32_t parsed = 0, arrived = step ? std::min(step, total) : total;
  bool head_done = false, complete = false;
  for (int rounds = 0; rounds < 1'000'000 && !complete; ++rounds) {
    if (parsed == arrived && !parser.must_run()) {
      if (arrived == total) break;
      arrived = step ? std::min(arrived + step, total) : total;
      continue;
    }
    bool in_body = head_done;
    auto [stop, used] = parser.execute(buf.data(), parsed, arrived);
    check(used <= arrived - parsed, "the parser used bytes it was not given");
    if (in_body) raw_body.append(buf.data() + parsed, used);
    parsed += used;
    if (stop == http::MessageParser::Stop::Error) return 0;
    if (stop == http::MessageParser::Stop::Head) {
      if (upstream::read_response_head(head, buf.data(), parser.raw(), head_request, response))
        return 0;  // 502
      for (const http::Header& h : response.headers)
        check(h.name.find_first_of("\r\n") == std::string_view::npos &&
                  h.value.find_first_of("\r\n") == std::string_view::npos,
              "CR or LF in a header view");
      parser.continue_after_head(head_request);
      head_done = true;
      // DownstreamConn::on_upstream_response's head.
      bool close = close_after;
      bool dechunk = false;
      if (response.has_body && !response.chunked && !response.has_content_length) close = true;
      if (response.has_body && response.chunked && http10) dechunk = close = true;
      http::ConnectionTokens tokens;
      tokens.parse(response.headers);
      if (tokens.too_many()) return 0;  // 502
      http::ClientResponse r{response.status,  response.reason, close,
                             http10 && !close, dechunk,         "X-Cache: MISS\r\n"};
      http::write_client_response_head(client_head, r, response.headers, tokens);
      reparse_client_head(client_head, response, dechunk, head_request);
    } else if (stop == http::MessageParser::Stop::Message) {
      complete = true;
    }
  }
  check(body.decoded.size() <= raw_body.size(), "more body bytes decoded than received");
  if (!head_done || !response.chunked || head_request || !response.has_body) return 0;
  // The cache de-chunks what is relayed with its own decoder: it must read the same payload
  // out of it, and end where llhttp ended.
  http::ChunkedDecoder decoder;
  std::string decoded;
  bool ok = decoder.feed(raw_body, decoded);
  if (complete) {
    check(ok, "ChunkedDecoder refuses a chunked body llhttp accepted");
    check(decoder.done(), "ChunkedDecoder did not see the end llhttp saw");
    check(decoded == body.decoded, "ChunkedDecoder and llhttp decode different payloads");
  } else if (ok) {
    check(!decoder.done(), "ChunkedDecoder saw an end llhttp did not");
    check(decoded == body.decoded, "ChunkedDecoder and llhttp decode different payloads");
  }
  return 0;
}
