// Runs a program to completion (curl, openssl s_client, portico --validate) and returns
// what it printed. stdin is /dev/null; the program is killed when it outlives `timeout`.
#pragma once

#include <string>
#include <vector>

#include "harness/Deadline.h"

namespace portico::it {

struct CommandResult {
  bool timed_out = false;
  int exit_code = -1;  // -1 when killed by a signal, timed out or not started
  std::string status;  // DescribeStatus text
  std::string out;
  std::string err;
  std::string Describe() const;  // status and both outputs, for assertion messages
};

// The first executable `name` in a directory of $PATH, or "".
std::string FindOnPath(const std::string& name);

// `program`: a path, or a name looked up on $PATH.
CommandResult RunCommand(const std::string& program, const std::vector<std::string>& args,
                         Ms timeout = Ms{10000});

}  // namespace portico::it
