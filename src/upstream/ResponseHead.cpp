#include "upstream/ResponseHead.h"

namespace portico::upstream {

const char* read_response_head(http::HeadCollector& head, char* base, const llhttp_t& parser,
                               bool head_request, ResponseHead& out) {
  head.unfold(base);
  head.finish(base);
  for (const http::Header& h : head.headers())
    if (!http::is_token(h.name)) return "invalid header name";
  // A Transfer-Encoding llhttp did not read as chunked ("chunked" with trailing tabs, say)
  // frames the body by the close for Portico, but goes to the client cleaned up as plain
  // "chunked": two framings, a desync. nginx answers such a response 502 too. Found by
  // fuzz_response.
  if (!(parser.flags & F_CHUNKED) && ((parser.flags & F_TRANSFER_ENCODING) ||
                                      http::find_header(head.headers(), "transfer-encoding")))
    return "Transfer-Encoding that does not end in chunked";
  out.status = parser.status_code;
  out.reason = head.status_text(base);
  out.headers = head.headers();
  out.chunked = (parser.flags & F_CHUNKED) != 0;
  out.has_content_length = (parser.flags & F_CONTENT_LENGTH) != 0;
  out.has_body = !(head_request || out.status == 204 || out.status == 304);
  out.connection.parse(out.headers);
  return nullptr;
}

}  // namespace portico::upstream
