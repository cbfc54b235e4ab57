#include "harness/Ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>

namespace portico::it {

namespace {

// Binds 127.0.0.1:port (0: any); returns the socket (empty on failure) and the bound port.
Fd BindLoopback(uint16_t port, uint16_t* bound) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
  *bound = ntohs(addr.sin_port);
  return fd;
}

// [low, high) of ports outside the ephemeral range.
std::pair<unsigned, unsigned> CandidateRange() {
  unsigned eph_low = 32768;
  unsigned eph_high = 60999;
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  in >> eph_low >> eph_high;
  if (eph_low >= 12000) return {10000, eph_low};
  if (eph_high <= 63000) return {eph_high + 1, 65536};
  return {10000, 30000};  // the ephemeral range covers everything: take our chances
}

}  // namespace

uint16_t FreePort() {
  static std::mutex mu;
  static std::set<uint16_t> handed_out;
  static const auto [low, high] = CandidateRange();
  static unsigned next = static_cast<unsigned>(::getpid()) * 211u;
  std::lock_guard lock(mu);
  unsigned span = high - low;
  for (int attempt = 0; attempt < 2000; ++attempt) {
    uint16_t port = static_cast<uint16_t>(low + next++ % span);
    if (handed_out.count(port)) continue;
    uint16_t bound = 0;
    if (BindLoopback(port, &bound)) {
      handed_out.insert(port);
      return port;
    }
  }
  throw std::runtime_error("no free loopback port after 2000 attempts");
}

ClosedPort::ClosedPort() {
  fd_ = BindLoopback(0, &port_);
  if (!fd_) throw std::runtime_error("cannot bind a loopback port");
}

}  // namespace portico::it
