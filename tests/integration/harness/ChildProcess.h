// fork+exec of a program with stdout/stderr sent to files and an optional RLIMIT_NOFILE.
// Exit is awaited on a pidfd (poll with a deadline), so nothing sleeps to wait for it.
// The destructor SIGKILLs a child still running and reaps it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/Deadline.h"
#include "harness/Socket.h"

namespace portico::it {

struct SpawnOptions {
  std::string program;
  std::vector<std::string> args;  // without argv[0]
  std::string stdout_path;
  std::string stderr_path;
  std::optional<uint64_t> nofile;  // RLIMIT_NOFILE (soft and hard) in the child
  // Environment changes: "NAME=value" replaces NAME; "NAME+=text" appends to it (":" joined).
  std::vector<std::string> env;
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // false with *error set if the program cannot be started (exec failure shows as exit 127).
  bool Spawn(const SpawnOptions& options, std::string* error);

  pid_t pid() const { return pid_; }
  bool Running();                       // not exited yet (reaps if it has)
  bool Signal(int sig);                 // false if it is not running
  std::optional<int> Wait(Ms timeout);  // raw wait status, nullopt on timeout
  // Waits at most `timeout` for the process to exit; true if it did (for use as a pause that
  // ends early when the child dies).
  bool WaitForExitEvent(Ms timeout);
  std::optional<int> status() const { return status_; }
  void Kill();  // SIGKILL and reap

 private:
  bool TryReap();

  pid_t pid_ = -1;
  Fd pidfd_;
  std::optional<int> status_;
};

// "exit 0", "killed by signal 9 (Killed)", ...
std::string DescribeStatus(int wait_status);
// Exit code, or -1 when the process did not exit normally.
int ExitCode(int wait_status);

}  // namespace portico::it
