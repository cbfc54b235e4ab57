// Runs the portico binary to completion with given arguments (for --version, --validate ...).
#pragma once

#include <string>
#include <vector>

#include "harness/Command.h"
#include "harness/Deadline.h"

namespace portico::it {

using CliResult = CommandResult;

CliResult RunPortico(const std::vector<std::string>& args, Ms timeout = Ms{10000});

}  // namespace portico::it
