// An upstream that gets out of step (sends bytes after a complete response, before the
// request body has even finished arriving) must never have those bytes served to another
// client: its connection is not reused.
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <future>
#include <thread>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/Socket.h"

namespace portico::it {
namespace {

// Waits until `s` holds `needle`, reading from fd; false on deadline or close.
bool ReadUntil(int fd, std::string& s, std::string_view needle, Deadline d) {
  while (s.find(needle) == std::string::npos)
    if (RecvSome(fd, &s, 1 << 16, d) != IoStatus::kOk) return false;
  return true;
}

TEST(UpstreamDesync, BytesAfterAnEarlyResponseAreNeverServedToTheNextClient) {
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener.get(), 8), 0);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
  uint16_t up_port = ntohs(a.sin_port);

  std::promise<void> send_stray, stray_delivered;
  std::atomic<int> connections{0};
  std::thread upstream([&] {
    Deadline d(Ms{8000});
    for (int n = 0; n < 2 && !d.Expired(); ++n) {
      if (!WaitReadable(listener.get(), d)) return;
      Fd c(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return;
      SetNonBlocking(c.get());
      int index = connections++;
      std::string in;
      if (!ReadUntil(c.get(), in, "\r\n\r\n", d)) continue;
      if (index == 0) {
        // Answer before the body, then, on cue, send a second, unsolicited response.
        SendAll(c.get(), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst", d);
        send_stray.get_future().wait_for(std::chrono::seconds(5));
        SendAll(c.get(), "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nSTRAY!", d);
        int unsent = 1;
        while (unsent > 0 && !d.Expired()) ::ioctl(c.get(), SIOCOUTQ, &unsent);
        stray_delivered.set_value();
        // Keep reading (the body, and anything the proxy might still send) until closed.
        while (RecvSome(c.get(), &in, 1 << 16, d) == IoStatus::kOk) {
          if (in.find("GET /private") != std::string::npos)
            SendAll(c.get(), "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nREUSED", d);
        }
      } else {
        SendAll(c.get(), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh", d);
        std::string rest;
        RecvSome(c.get(), &rest, 1 << 16, Deadline(Ms{500}));
      }
    }
  });

  ProxyConfig cfg;
  cfg.endpoints = {"127.0.0.1:" + std::to_string(up_port)};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());

  HttpClient client_a;
  ASSERT_TRUE(client_a.Connect(cfg.port));
  ASSERT_TRUE(client_a.Send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"));
  auto first = client_a.ReadResponse();
  ASSERT_TRUE(first) << client_a.error();
  EXPECT_EQ(first->body, "first");
  send_stray.set_value();
  ASSERT_EQ(stray_delivered.get_future().wait_for(std::chrono::seconds(5)),
            std::future_status::ready);
  ASSERT_TRUE(client_a.Send("0123456789"));

  auto second = Fetch(cfg.port, Get("/private"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "fresh") << "another client's request got: " << second->Describe();
  listener.reset();
  upstream.join();
}

}  // namespace
}  // namespace portico::it
