// CrashPoint: named places where a test can make the process die.
//
// `FLOWLAKE_CRASH_AT=name[:n]` in the environment makes the n-th (default
// first) call to CrashPoint("name") kill the process with SIGKILL, as
// `kill -9` would, so crash tests can hit one exact step of a protocol (for
// instance between writing a commit record and publishing its files).
// Without the variable a call costs one relaxed atomic load. Never set it
// outside tests.
//
// Thread-safety: any thread may call CrashPoint().
#pragma once

namespace flowlake {

void CrashPoint(const char* name);

}  // namespace flowlake
