// Runs the portico binary to completion with given arguments (for --version, --validate ...).
#pragma once

#include <string>
#include <vector>

#include "harness/Deadline.h"

namespace portico::it {

struct CliResult {
  bool timed_out = false;
  int exit_code = -1;  // -1 when killed by a signal or timed out
  std::string status;  // DescribeStatus text
  std::string out;
  std::string err;
};

CliResult RunPortico(const std::vector<std::string>& args, Ms timeout = Ms{10000});

}  // namespace portico::it
