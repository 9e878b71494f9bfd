#include "core/crash_point.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace flowlake {
namespace {

struct Armed {
  std::string name;  // empty: disarmed
  long remaining = 1;
};

// Read once: crash points are armed for the life of the process.
const Armed& GetArmed() {
  static const Armed armed = [] {
    Armed a;
    const char* env = std::getenv("FLOWLAKE_CRASH_AT");
    if (env == nullptr || *env == '\0') return a;
    std::string spec(env);
    const size_t colon = spec.rfind(':');
    if (colon != std::string::npos) {
      a.remaining = std::strtol(spec.c_str() + colon + 1, nullptr, 10);
      if (a.remaining < 1) a.remaining = 1;
      spec.resize(colon);
    }
    a.name = spec;
    return a;
  }();
  return armed;
}

std::atomic<long> g_hits{0};

}  // namespace

void CrashPoint(const char* name) {
  const Armed& armed = GetArmed();
  if (armed.name.empty() || armed.name != name) return;
  if (g_hits.fetch_add(1) + 1 >= armed.remaining) {
    std::raise(SIGKILL);
  }
}

}  // namespace flowlake
