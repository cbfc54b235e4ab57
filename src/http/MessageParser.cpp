#include "http/MessageParser.h"

namespace portico::http {

const llhttp_settings_t& MessageParser::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t v;
    llhttp_settings_init(&v);
    v.on_method = [](llhttp_t* p, const char* at, size_t n) {
      self(p).head_->add_method(self(p).offset(at), uint32_t(n));
      return 0;
    };
    v.on_url = [](llhttp_t* p, const char* at, size_t n) {
      self(p).head_->add_target(self(p).offset(at), uint32_t(n));
      return 0;
    };
    v.on_status = [](llhttp_t* p, const char* at, size_t n) {
      self(p).head_->add_status(self(p).offset(at), uint32_t(n));
      return 0;
    };
    v.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
      MessageParser& m = self(p);
      if (m.in_body_) return 0;  // a trailer field: counted as framing, not recorded
      m.head_->add_field(m.offset(at), uint32_t(n));
      if (m.max_headers_ && m.head_->header_count() > m.max_headers_) {
        // Stopped at the first field too many: a head of thousands of tiny fields costs
        // no more than this.
        m.too_many_headers_ = true;
        llhttp_set_error_reason(p, "too many header fields");
        return -1;
      }
      return 0;
    };
    v.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
      MessageParser& m = self(p);
      if (!m.in_body_) m.head_->add_value(m.offset(at), uint32_t(n));
      return 0;
    };
    v.on_headers_complete = [](llhttp_t* p) {
      MessageParser& m = self(p);
      // llhttp takes any three digits; below 100 is no status at all (RFC 9110 §15), and
      // taking it for an interim response would swallow the message (found by fuzzing).
      if (m.type_ == HTTP_RESPONSE && p->status_code < 100) {
        llhttp_set_error_reason(p, "invalid status code");
        return -1;
      }
      if (m.type_ == HTTP_RESPONSE && p->status_code < 200) {
        // An interim response: it has no body (RFC 9110 §15.2) whatever its fields say
        // (1: llhttp skips it; a Content-Length here was read as body, found by fuzzing);
        // record the next head afresh.
        m.head_->reset();
        return 1;
      }
      // Upgrades (WebSocket) are not relayed yet: the message is handled as an ordinary
      // one (Upgrade is hop-by-hop and is not forwarded).
      p->upgrade = 0;
      m.in_body_ = true;
      m.framing_ = 0;
      m.pending_ = Stop::Head;
      return int(HPE_PAUSED);
    };
    v.on_body = [](llhttp_t* p, const char* at, size_t n) {
      MessageParser& m = self(p);
      if (!m.count_framing(at)) return -1;  // what came between the last piece and this one
      m.framing_ = 0;
      m.mark_ = at + n;
      return m.sink_ && !m.sink_->on_body_data(at, n) ? -1 : 0;
    };
    v.on_message_complete = [](llhttp_t* p) {
      MessageParser& m = self(p);
      if (m.type_ == HTTP_RESPONSE && p->status_code < 200) return 0;
      m.in_body_ = false;
      m.pending_ = Stop::Message;
      return int(HPE_PAUSED);
    };
    return v;
  }();
  return s;
}

MessageParser::MessageParser(llhttp_type_t type, BodySink* sink) : type_(type), sink_(sink) {
  reset();
}

void MessageParser::reset() {
  llhttp_init(&parser_, type_, &settings());
  parser_.data = this;
  pending_ = Stop::NeedMore;
  must_run_ = false;
  in_body_ = false;
  too_many_headers_ = false;
  framing_ = 0;
}

bool MessageParser::count_framing(const char* to) {
  framing_ += uint32_t(to - mark_);
  mark_ = to;
  if (framing_ <= kMaxChunkFramingBytes) return true;
  // Past the first piece of data, framing is a chunk's CRLF and the next size line; after
  // the last chunk it is the trailer section.
  llhttp_set_error_reason(&parser_, (parser_.flags & F_TRAILING)
                                        ? "trailer section larger than 16 KiB"
                                        : "chunk-size line longer than 16 KiB");
  return false;
}

MessageParser::Step MessageParser::execute(char* base, uint32_t from, uint32_t to) {
  base_ = base;
  must_run_ = false;
  const char* start = base ? base + from : "";
  size_t avail = to - from;
  mark_ = start;
  llhttp_errno_t err = llhttp_execute(&parser_, start, avail);
  if (err == HPE_OK) {
    // Still in a body: what followed its last piece of data is framing. (A head ends
    // with a pause, so these bytes are all the body's.)
    if (in_body_ && !count_framing(start + avail)) return {Stop::Error, uint32_t(avail)};
    return {Stop::NeedMore, uint32_t(avail)};
  }
  uint32_t used = uint32_t(llhttp_get_error_pos(&parser_) - start);
  if (err == HPE_PAUSED) {
    Stop s = pending_;
    pending_ = Stop::NeedMore;
    return {s, used};
  }
  return {Stop::Error, used};
}

void MessageParser::continue_after_head(bool skip_body) {
  // A response to HEAD, and any 204 or 304, ends with its head whatever Content-Length
  // says (RFC 9112 §6.3): a 304 commonly carries the length of the body a GET would get.
  // llhttp leaves that rule to its caller; without it such a length is read as a body.
  bool bodiless =
      type_ == HTTP_RESPONSE && (parser_.status_code == 204 || parser_.status_code == 304);
  if (skip_body || bodiless) parser_.flags |= F_SKIPBODY;
  llhttp_resume(&parser_);
  must_run_ = true;
}

void MessageParser::continue_after_message() {
  llhttp_resume(&parser_);
}

}  // namespace portico::http
