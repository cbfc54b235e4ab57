#include "harness/RedisServer.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "harness/Command.h"
#include "harness/Ports.h"
#include "harness/Socket.h"

namespace portico::it {

namespace {

// Reads from `fd` into *buf until it holds one whole reply of the kinds Command() parses,
// and returns that reply's text.
std::string ReadReply(int fd, std::string* buf, Deadline deadline) {
  while (true) {
    size_t eol = buf->find("\r\n");
    if (eol != std::string::npos && !buf->empty()) {
      char kind = (*buf)[0];
      std::string line = buf->substr(1, eol - 1);
      if (kind == '+' || kind == ':') return line;
      if (kind == '-') return "-" + line;
      if (kind == '$') {
        long len = std::strtol(line.c_str(), nullptr, 10);
        if (len < 0) return "(nil)";
        size_t need = eol + 2 + size_t(len) + 2;
        if (buf->size() >= need) return buf->substr(eol + 2, size_t(len));
      } else {
        return "";  // arrays and the rest: not needed by the tests
      }
    }
    if (RecvSome(fd, buf, 65536, deadline) != IoStatus::kOk) return "";
  }
}

}  // namespace

std::string RedisServerProgram() {
  if (const char* env = std::getenv("REDIS_SERVER"); env && *env) return env;
  return FindOnPath("redis-server");
}

RedisServer::RedisServer() : port_(FreePort()) {}

bool RedisServer::Start(std::string* error, Ms timeout) {
  SpawnOptions spawn;
  spawn.program = RedisServerProgram();
  if (spawn.program.empty()) {
    *error = "redis-server not found on PATH (or set REDIS_SERVER)";
    return false;
  }
  spawn.args = {
      "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save",   "", "--appendonly",
      "no",     "--daemonize",         "no",     "--dir",     dir_.path()};
  spawn.stdout_path = dir_.File("redis.out");
  spawn.stderr_path = dir_.File("redis.err");
  if (!child_.Spawn(spawn, error)) return false;

  Deadline deadline(timeout);
  while (true) {
    if (!child_.Running()) {
      *error = "redis-server exited: " + DescribeStatus(*child_.status()) + "\n" +
               ReadFile(dir_.File("redis.out")) + ReadFile(dir_.File("redis.err"));
      return false;
    }
    Fd fd = ConnectLoopback(port_, Deadline(Ms{200}));
    if (fd && SendAll(fd.get(), "PING\r\n", Deadline(Ms{500})) == IoStatus::kOk) {
      std::string buf;
      if (ReadReply(fd.get(), &buf, Deadline(Ms{500})) == "PONG") return true;
    }
    if (deadline.Expired()) {
      *error = "redis-server not answering on 127.0.0.1:" + std::to_string(port_) + "\n" +
               ReadFile(dir_.File("redis.out"));
      return false;
    }
    // Retry soon; returns early if the process exits meanwhile.
    child_.WaitForExitEvent(Ms{5});
  }
}

void RedisServer::Kill() {
  child_.Kill();
}

bool RedisServer::Pause() {
  return child_.Signal(SIGSTOP);
}

bool RedisServer::Resume() {
  return child_.Signal(SIGCONT);
}

std::string RedisServer::Command(std::initializer_list<std::string_view> argv, Ms timeout) {
  Deadline deadline(timeout);
  Fd fd = ConnectLoopback(port_, deadline);
  if (!fd) return "";
  std::string request = "*" + std::to_string(argv.size()) + "\r\n";
  for (std::string_view a : argv) {
    request += "$" + std::to_string(a.size()) + "\r\n";
    request.append(a);
    request += "\r\n";
  }
  if (SendAll(fd.get(), request, deadline) != IoStatus::kOk) return "";
  std::string buf;
  return ReadReply(fd.get(), &buf, deadline);
}

}  // namespace portico::it
