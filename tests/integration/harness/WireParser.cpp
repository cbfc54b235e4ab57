#include "harness/WireParser.h"

namespace portico::it {

std::string WireMessage::Describe() const {
  std::string out = status ? std::to_string(status) + " " + reason : method + " " + target;
  out += "\n";
  for (const auto& [n, v] : headers) out += n + ": " + v + "\n";
  out += "[body " + std::to_string(body.size()) + " bytes" + (chunked ? ", chunked" : "") + "]\n";
  for (const auto& [n, v] : trailers) out += "(trailer) " + n + ": " + v + "\n";
  return out;
}

WireParser::WireParser(Kind kind) : kind_(kind) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = OnMessageBegin;
  settings_.on_method = OnMethod;
  settings_.on_url = OnUrl;
  settings_.on_status = OnStatus;
  settings_.on_header_field = OnHeaderField;
  settings_.on_header_value = OnHeaderValue;
  settings_.on_header_value_complete = OnHeaderValueComplete;
  settings_.on_headers_complete = OnHeadersComplete;
  settings_.on_body = OnBody;
  settings_.on_message_complete = OnMessageComplete;
  llhttp_init(&parser_, kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

int WireParser::OnMessageBegin(llhttp_t* p) {
  auto& self = Self(p);
  self.started_ = true;
  self.in_trailers_ = false;
  self.current_ = WireMessage{};
  return 0;
}

int WireParser::OnMethod(llhttp_t* p, const char* at, size_t len) {
  Self(p).current_.method.append(at, len);
  return 0;
}

int WireParser::OnUrl(llhttp_t* p, const char* at, size_t len) {
  Self(p).current_.target.append(at, len);
  return 0;
}

int WireParser::OnStatus(llhttp_t* p, const char* at, size_t len) {
  Self(p).current_.reason.append(at, len);
  return 0;
}

int WireParser::OnHeaderField(llhttp_t* p, const char* at, size_t len) {
  Self(p).field_.append(at, len);
  return 0;
}

int WireParser::OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
  Self(p).value_.append(at, len);
  return 0;
}

int WireParser::OnHeaderValueComplete(llhttp_t* p) {
  auto& self = Self(p);
  auto& list = self.in_trailers_ ? self.current_.trailers : self.current_.headers;
  list.emplace_back(std::move(self.field_), std::move(self.value_));
  self.field_.clear();
  self.value_.clear();
  return 0;
}

int WireParser::OnHeadersComplete(llhttp_t* p) {
  auto& self = Self(p);
  self.in_trailers_ = true;
  self.current_.http_major = p->http_major;
  self.current_.http_minor = p->http_minor;
  self.current_.chunked = (p->flags & F_CHUNKED) != 0;
  if (self.kind_ == Kind::kRequest) {
    // Not every llhttp version reports the method's bytes; its code is enough.
    if (self.current_.method.empty())
      self.current_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
    return 0;
  }
  self.current_.status = p->status_code;
  if (self.current_.status < 200) return 0;  // interim: the final response follows
  bool head = false;
  if (!self.head_requests_.empty()) {
    head = self.head_requests_.front();
    self.head_requests_.pop_front();
  }
  // 1: no body follows, whatever Content-Length says (RFC 9112 §6.3); llhttp leaves that
  // to its caller.
  return head || self.current_.status == 204 || self.current_.status == 304 ? 1 : 0;
}

int WireParser::OnBody(llhttp_t* p, const char* at, size_t len) {
  Self(p).current_.body.append(at, len);
  return 0;
}

int WireParser::OnMessageComplete(llhttp_t* p) {
  auto& self = Self(p);
  self.current_.keep_alive = llhttp_should_keep_alive(p) != 0;
  self.complete_.push_back(std::move(self.current_));
  self.current_ = WireMessage{};
  self.started_ = false;
  return 0;
}

bool WireParser::Feed(std::string_view data) {
  if (!error_.empty()) return false;
  llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  if (err == HPE_OK) return true;
  error_ = std::string(llhttp_errno_name(err)) + ": " + llhttp_get_error_reason(&parser_);
  return false;
}

bool WireParser::FinishAtEof() {
  if (!error_.empty()) return false;
  bool was_started = started_;
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (err != HPE_OK) {
    error_ = std::string("closed mid-message: ") + llhttp_errno_name(err);
    return false;
  }
  if (was_started && !complete_.empty()) complete_.back().ended_by_close = true;
  return !started_;
}

std::vector<WireMessage> WireParser::TakeComplete() {
  std::vector<WireMessage> out;
  out.swap(complete_);
  return out;
}

}  // namespace portico::it
