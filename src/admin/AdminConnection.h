// One client of the admin API: reads requests with llhttp, checks the token, calls the
// server's handler and writes its answers in order. Owned by its socket handle: created
// on accept, freed in the handle's close callback (libuv may call back until then), so a
// server that goes away first only detaches from it.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/IntrusiveList.h"
#include "core/TcpTransport.h"
#include "http/HeadCollector.h"
#include "http/MessageParser.h"

namespace portico::admin {

class AdminServer;

class AdminConnection final : public core::TransportEvents,
                              public http::MessageParser::BodySink,
                              public core::ListHook<AdminConnection> {
 public:
  // Accepts the next pending connection of `listener`. On success the connection is in
  // the server's list and owns itself.
  static void accept(AdminServer& server, uv_stream_t* listener);

  explicit AdminConnection(AdminServer& server);
  ~AdminConnection();
  AdminConnection(const AdminConnection&) = delete;
  AdminConnection& operator=(const AdminConnection&) = delete;

  // The server is closing: forget it, and close now.
  void detach_and_close();

 private:
  enum class Pause : uint8_t { None, Head, Message };

  // core::TransportEvents
  uv_buf_t on_alloc() override;
  void on_read(size_t n) override;
  void on_read_end(int status) override;
  void on_write_done(int status) override;
  void on_closed() override;
  // http::MessageParser::BodySink
  bool on_body_data(const char* at, size_t n) override;

  void pump();
  bool parse_step();  // false: stop pumping
  void begin_request();
  void on_head();
  void on_message();
  void reject(int status, const char* why);
  void send(std::string bytes, bool last);
  void after_write();
  void start_lingering();
  void compact();
  void update_reading();
  void arm_timer(uint64_t ms);
  void on_timeout();
  void close();

  AdminServer* server_;
  std::unique_ptr<core::TcpTransport> transport_;
  std::unique_ptr<uv_timer_t> timer_;
  std::string peer_;  // "ADDRESS:PORT", for logs

  http::MessageParser parser_;
  http::HeadCollector head_;
  std::vector<char> in_;  // bytes read; a head in progress starts at 0
  uint32_t parsed_ = 0;
  uint32_t end_ = 0;
  Pause pause_ = Pause::None;
  int parse_error_status_ = 0;  // set when the body sink fails the message

  // The request being read.
  bool in_request_ = false;
  bool head_done_ = false;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_request_ = false;
  std::string head_bytes_;  // the head, copied once complete; the request's views point here
  std::string body_;

  std::string out_;          // the response being written (one at a time)
  bool last_write_ = false;  // the connection closes once out_ is sent
  bool lingering_ = false;   // answered and shut down; reading until the client closes
  bool peer_done_ = false;   // the client closed its side
  bool closing_ = false;
};

}  // namespace portico::admin
