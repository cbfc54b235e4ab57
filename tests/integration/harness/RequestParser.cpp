#include "harness/RequestParser.h"

#include <algorithm>

namespace portico::it {

std::string HttpRequest::Describe() const {
  std::string out = method + " " + target + " HTTP/" + std::to_string(http_major) + "." +
                    std::to_string(http_minor) + "\n" + headers.ToString();
  out += "[body " + std::to_string(body_size) + " bytes]";
  return out;
}

RequestParser::RequestParser(size_t max_stored_body) : max_stored_body_(max_stored_body) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = OnMessageBegin;
  settings_.on_url = OnUrl;
  settings_.on_header_field = OnHeaderField;
  settings_.on_header_value = OnHeaderValue;
  settings_.on_header_value_complete = OnHeaderValueComplete;
  settings_.on_headers_complete = OnHeadersComplete;
  settings_.on_body = OnBody;
  settings_.on_message_complete = OnMessageComplete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

int RequestParser::OnMessageBegin(llhttp_t* p) {
  auto& self = Self(p);
  self.started_ = true;
  self.current_ = HttpRequest{};
  self.checksum_ = Checksum{};
  return 0;
}

int RequestParser::OnUrl(llhttp_t* p, const char* at, size_t len) {
  Self(p).current_.target.append(at, len);
  return 0;
}

int RequestParser::OnHeaderField(llhttp_t* p, const char* at, size_t len) {
  Self(p).field_.append(at, len);
  return 0;
}

int RequestParser::OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
  Self(p).value_.append(at, len);
  return 0;
}

int RequestParser::OnHeaderValueComplete(llhttp_t* p) {
  auto& self = Self(p);
  self.current_.headers.Add(std::move(self.field_), std::move(self.value_));
  self.field_.clear();
  self.value_.clear();
  return 0;
}

int RequestParser::OnHeadersComplete(llhttp_t* p) {
  auto& self = Self(p);
  self.current_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  self.current_.http_major = p->http_major;
  self.current_.http_minor = p->http_minor;
  self.current_.chunked = (p->flags & F_CHUNKED) != 0;
  if (self.on_head_) self.on_head_(self.current_);
  return 0;
}

int RequestParser::OnBody(llhttp_t* p, const char* at, size_t len) {
  auto& self = Self(p);
  std::string_view data(at, len);
  self.checksum_.Update(data);
  self.current_.body_size += len;
  size_t room = self.max_stored_body_ - std::min(self.max_stored_body_, self.current_.body.size());
  self.current_.body.append(at, std::min(room, len));
  return 0;
}

int RequestParser::OnMessageComplete(llhttp_t* p) {
  auto& self = Self(p);
  self.current_.keep_alive = llhttp_should_keep_alive(p) != 0;
  self.current_.body_checksum = self.checksum_.value();
  self.complete_.push_back(std::move(self.current_));
  self.current_ = HttpRequest{};
  self.started_ = false;
  return 0;
}

bool RequestParser::Feed(std::string_view data) {
  if (!error_.empty()) return false;
  llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  if (err == HPE_OK) return true;
  if (err == HPE_PAUSED_UPGRADE) return true;  // we do not speak upgrades; stop parsing quietly
  error_ = std::string(llhttp_errno_name(err)) + ": " + llhttp_get_error_reason(&parser_);
  return false;
}

bool RequestParser::FinishAtEof() {
  llhttp_finish(&parser_);
  return !started_;
}

std::vector<HttpRequest> RequestParser::TakeComplete() {
  std::vector<HttpRequest> out;
  out.swap(complete_);
  return out;
}

}  // namespace portico::it
