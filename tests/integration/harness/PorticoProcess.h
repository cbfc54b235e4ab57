// The proxy under test: writes its YAML config to a private temp dir, starts the binary with
// --config, captures stdout (the access log) and stderr to files, and waits until every listener
// accepts TCP connections. The destructor stops it (SIGTERM, SIGKILL after a deadline) and
// reports a crash that the test did not ask for.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/ChildProcess.h"
#include "harness/Deadline.h"
#include "harness/Socket.h"
#include "harness/TempDir.h"

namespace portico::it {

// $PORTICO_BIN if set, else the build's PORTICO_BINARY.
std::string PorticoBinary();

struct PorticoOptions {
  std::string config;                 // YAML text, written to <dir>/portico.yaml
  std::vector<uint16_t> ready_ports;  // listener ports that must accept before Start() returns
  std::optional<uint64_t> nofile;     // RLIMIT_NOFILE for the proxy
  std::vector<std::string> env;       // environment changes (see SpawnOptions::env)
  Ms ready_timeout{10000};
  // Non-empty: the proxy gets --config config_path, laid out by the test itself (e.g. as a
  // Kubernetes ConfigMap volume: a symlink through ..data), and `config` is not written
  // anywhere (it is still shown when the proxy fails to start).
  std::string config_path;
};

class PorticoProcess {
 public:
  explicit PorticoProcess(PorticoOptions options);
  ~PorticoProcess();
  PorticoProcess(const PorticoProcess&) = delete;
  PorticoProcess& operator=(const PorticoProcess&) = delete;

  // Starts the proxy and waits for its listeners. Fails with the proxy's stderr when it exits
  // or does not listen in time.
  ::testing::AssertionResult Start();

  pid_t pid() const { return child_.pid(); }
  bool Running() { return child_.Running(); }
  bool Signal(int sig);
  // Writes `config` over the running file, sends SIGHUP and waits (5 s at most) for the log
  // line saying that config generation `generation` runs on every worker.
  ::testing::AssertionResult Reload(const std::string& config, int generation);
  // Raw wait status once exited, nullopt if still running after `timeout`.
  std::optional<int> WaitExit(Ms timeout);
  // Lets `duration` pass, returning early (false) if the proxy exits meanwhile. This is how tests
  // pause (e.g. a client that stops reading) while still noticing a crash at once.
  bool PauseWhileRunning(Ms duration) { return !child_.WaitForExitEvent(duration); }

  std::string Stdout() const { return ReadFile(stdout_path_); }
  std::string Stderr() const { return ReadFile(stderr_path_); }
  const std::string& config_path() const { return config_path_; }
  const TempDir& dir() const { return dir_; }

  long RssKb() const;
  long CpuTicks() const;
  long OpenFds() const;

  // Lines of stdout (the access log when it goes to stdout).
  std::vector<std::string> StdoutLines() const;
  // Waits until stdout has a line for which pred(line) is true.
  template <typename Pred>
  bool WaitForStdoutLine(Pred pred, Ms timeout);

  // Waits until the error log (stderr) contains `text`.
  bool WaitForStderr(std::string_view text, Ms timeout);

  std::string DiagnosticTail() const;  // last part of stderr, for failure messages

 private:
  // Watches a file for writes. Made before the file is read, so a write between the read
  // and the wait still wakes the wait.
  class FileWatch {
   public:
    explicit FileWatch(const std::string& path);
    // Waits for a write since the last call (or construction), at most `timeout`.
    void Wait(Ms timeout);

   private:
    Fd fd_;
  };

  PorticoOptions options_;
  TempDir dir_;
  std::string config_path_;
  std::string stdout_path_;
  std::string stderr_path_;
  ChildProcess child_;
  bool started_ = false;
  bool exit_expected_ = false;
};

template <typename Pred>
bool PorticoProcess::WaitForStdoutLine(Pred pred, Ms timeout) {
  Deadline deadline(timeout);
  FileWatch watch(stdout_path_);
  while (true) {
    for (const auto& line : StdoutLines()) {
      if (pred(line)) return true;
    }
    if (deadline.Expired()) return false;
    watch.Wait(deadline.Remaining());
  }
}

}  // namespace portico::it
