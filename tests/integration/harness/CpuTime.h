// On-CPU time of another process, in nanoseconds, summed over its threads (from
// /proc/PID/task/*/schedstat): ProcStats' clock ticks are 10 ms, too coarse to compare
// the cost of a few hundred requests.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace portico::it {

// -1 if unreadable.
int64_t ReadCpuNs(pid_t pid);

}  // namespace portico::it
