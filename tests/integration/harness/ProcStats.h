// Resource readings of another process from /proc.
#pragma once

#include <sys/types.h>

namespace portico::it {

long ReadRssKb(pid_t pid);     // VmRSS in KiB, -1 if unreadable
long ReadCpuTicks(pid_t pid);  // utime + stime in clock ticks, -1 if unreadable
long CountOpenFds(pid_t pid);  // entries in /proc/PID/fd, -1 if unreadable
long ClockTicksPerSecond();

}  // namespace portico::it
