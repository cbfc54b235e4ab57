#include "upstream/ResponseHead.h"

namespace portico::upstream {

const char* read_response_head(http::HeadCollector& head, char* base, const llhttp_t& parser,
                               bool head_request, ResponseHead& out) {
  head.unfold(base);
  head.finish(base);
  for (const http::Header& h : head.headers())
    if (!http::is_token(h.name)) return "invalid header name";
  out.status = parser.status_code;
  out.reason = head.status_text(base);
  out.headers = head.headers();
  out.chunked = (parser.flags & F_CHUNKED) != 0;
  out.has_content_length = (parser.flags & F_CONTENT_LENGTH) != 0;
  out.has_body = !(head_request || out.status == 204 || out.status == 304);
  return nullptr;
}

}  // namespace portico::upstream
