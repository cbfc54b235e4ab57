#include "harness/PorticoProcess.h"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "harness/ProcStats.h"
#include "harness/Socket.h"
#include "harness/TempDir.h"

#ifndef PORTICO_BINARY
#define PORTICO_BINARY "/work/main/build/portico"
#endif

namespace portico::it {

std::string PorticoBinary() {
  const char* env = std::getenv("PORTICO_BIN");
  if (env && *env) return env;
  return PORTICO_BINARY;
}

PorticoProcess::PorticoProcess(PorticoOptions options) : options_(std::move(options)) {
  config_path_ = options_.config_path.empty() ? dir_.Write("portico.yaml", options_.config)
                                              : options_.config_path;
  stdout_path_ = dir_.File("stdout.log");
  stderr_path_ = dir_.File("stderr.log");
}

PorticoProcess::~PorticoProcess() {
  if (!started_) return;
  if (!child_.Running()) {
    if (!exit_expected_) {
      ADD_FAILURE() << "portico (pid " << child_.pid()
                    << ") exited during the test: " << DescribeStatus(*child_.status()) << "\n"
                    << DiagnosticTail();
    }
    return;
  }
  // Stop it the graceful way; a crash or a non-zero exit then (e.g. a sanitizer report at exit)
  // is a failure of this test. One still draining after the deadline is just killed.
  child_.Signal(SIGTERM);
  auto signalled = Clock::now();
  auto st = child_.Wait(Ms{1500});
  if (!st) {
    std::fprintf(stderr, "[ info ] portico still draining %.0f ms after SIGTERM: killed\n",
                 MsSince(signalled));
    child_.Kill();
  } else if (ExitCode(*st) != 0) {
    ADD_FAILURE() << "portico did not exit cleanly on SIGTERM at the end of the test: "
                  << DescribeStatus(*st) << "\n"
                  << DiagnosticTail();
  }
}

::testing::AssertionResult PorticoProcess::Start() {
  SpawnOptions spawn;
  spawn.program = PorticoBinary();
  spawn.args = {"--config", config_path_};
  spawn.stdout_path = stdout_path_;
  spawn.stderr_path = stderr_path_;
  spawn.nofile = options_.nofile;
  spawn.env = options_.env;
  if (::access(spawn.program.c_str(), X_OK) != 0) {
    return ::testing::AssertionFailure()
           << "portico binary not found: " << spawn.program << " (set PORTICO_BIN)";
  }
  std::string error;
  if (!child_.Spawn(spawn, &error)) return ::testing::AssertionFailure() << error;
  started_ = true;

  Deadline deadline(options_.ready_timeout);
  for (uint16_t port : options_.ready_ports) {
    while (true) {
      if (!child_.Running()) {
        exit_expected_ = true;  // reported here, not again by the destructor
        return ::testing::AssertionFailure() << "portico exited before listening on " << port
                                             << ": " << DescribeStatus(*child_.status()) << "\n"
                                             << DiagnosticTail() << "\nconfig:\n"
                                             << options_.config;
      }
      Fd probe = ConnectLoopback(port, Deadline(Ms{200}));
      if (probe) break;
      if (deadline.Expired()) {
        return ::testing::AssertionFailure()
               << "portico not accepting on 127.0.0.1:" << port << " after "
               << options_.ready_timeout.count() << " ms\n"
               << DiagnosticTail();
      }
      // Retry soon; returns early if the process exits meanwhile.
      child_.WaitForExitEvent(Ms{10});
    }
  }
  return ::testing::AssertionSuccess();
}

bool PorticoProcess::Signal(int sig) {
  if (sig == SIGTERM || sig == SIGINT || sig == SIGKILL || sig == SIGQUIT) exit_expected_ = true;
  return child_.Signal(sig);
}

::testing::AssertionResult PorticoProcess::Reload(const std::string& config, int generation) {
  ReplaceFile(config_path_, config);
  if (!Signal(SIGHUP)) return ::testing::AssertionFailure() << "portico is not running";
  if (!WaitForStderr("config generation " + std::to_string(generation) + " (", Ms{5000}))
    return ::testing::AssertionFailure() << "config generation " << generation << " did not apply\n"
                                         << DiagnosticTail();
  return ::testing::AssertionSuccess();
}

std::optional<int> PorticoProcess::WaitExit(Ms timeout) {
  exit_expected_ = true;
  return child_.Wait(timeout);
}

long PorticoProcess::RssKb() const {
  return ReadRssKb(child_.pid());
}
long PorticoProcess::CpuTicks() const {
  return ReadCpuTicks(child_.pid());
}
long PorticoProcess::OpenFds() const {
  return CountOpenFds(child_.pid());
}

std::vector<std::string> PorticoProcess::StdoutLines() const {
  std::vector<std::string> lines;
  std::istringstream in(Stdout());
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

bool PorticoProcess::WaitForStderr(std::string_view text, Ms timeout) {
  Deadline deadline(timeout);
  FileWatch watch(stderr_path_);
  while (true) {
    if (Stderr().find(text) != std::string::npos) return true;
    if (deadline.Expired()) return false;
    watch.Wait(deadline.Remaining());
  }
}

PorticoProcess::FileWatch::FileWatch(const std::string& path)
    : fd_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
  if (fd_ && ::inotify_add_watch(fd_.get(), path.c_str(), IN_MODIFY) < 0) fd_ = Fd();
}

void PorticoProcess::FileWatch::Wait(Ms timeout) {
  // Without inotify, a short poll; with it, the wait ends at the write (the cap only
  // bounds a wait whose write came from elsewhere).
  if (!fd_) {
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, static_cast<int>(std::min<long long>(timeout.count(), 20)));
    return;
  }
  pollfd p{fd_.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::min<long long>(timeout.count(), 200))) <= 0) return;
  char events[4096];
  while (::read(fd_.get(), events, sizeof events) > 0) {
  }
}

std::string PorticoProcess::DiagnosticTail() const {
  std::string err = Stderr();
  constexpr size_t kTail = 4000;
  if (err.size() > kTail) err = "..." + err.substr(err.size() - kTail);
  return "--- portico stderr (" + stderr_path_ + ") ---\n" + err + "\n--- end stderr ---";
}

}  // namespace portico::it
