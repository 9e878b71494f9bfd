#include "detect/blocklist.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace flowlake {
namespace {

Status Errno(std::string_view what, const std::string& path) {
  return Status::IoError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

Status BlocklistConfig::Validate() const {
  if (path.empty()) return Status::InvalidArgument("blocklist: path is empty");
  if (check_interval_ms < 0) {
    return Status::InvalidArgument("blocklist: check_interval_ms is negative (" +
                                   std::to_string(check_interval_ms) + ")");
  }
  return Status::Ok();
}

Blocklist::Blocklist(BlocklistConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock), current_(std::make_shared<const IpSet>()) {}

std::shared_ptr<const IpSet> Blocklist::current() const {
  std::lock_guard lock(current_mu_);
  return current_;
}

BlocklistCounters Blocklist::counters() const {
  return {reloads_.load(std::memory_order_relaxed), reload_errors_.load(std::memory_order_relaxed),
          entries_.load(std::memory_order_relaxed)};
}

Status Blocklist::MaybeReload() {
  const int64_t now_ms = clock_.MonotonicMs();
  if (checked_ && now_ms - last_check_ms_ < config_.check_interval_ms) return Status::Ok();
  return Reload();
}

Status Blocklist::Reload() {
  checked_ = true;
  last_check_ms_ = clock_.MonotonicMs();
  return CheckAndLoad();
}

Status Blocklist::CountError(Status status) {
  reload_errors_.fetch_add(1, std::memory_order_relaxed);
  return status;
}

Status Blocklist::CheckAndLoad() {
  // A stat(2) by path first: the common case, nothing changed, opens nothing.
  struct stat st;
  if (::stat(config_.path.c_str(), &st) != 0) return CountError(Errno("stat", config_.path));
  auto identity_of = [](const struct stat& s) {
    return FileIdentity{s.st_dev, s.st_ino, static_cast<int64_t>(s.st_size),
                        static_cast<int64_t>(s.st_mtim.tv_sec) * 1'000'000'000 + s.st_mtim.tv_nsec};
  };
  if (identity_of(st) == attempted_) return Status::Ok();

  const int fd = ::open(config_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CountError(Errno("open", config_.path));
  FdCloser closer(fd);
  // The identity recorded is the opened file's, taken before reading: a
  // write that lands during the read moves the mtime on, so the next check
  // loads again rather than keeping a torn read.
  if (::fstat(fd, &st) != 0) return CountError(Errno("fstat", config_.path));
  const FileIdentity identity = identity_of(st);
  std::string text;
  text.reserve(static_cast<size_t>(st.st_size));
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return CountError(Errno("read", config_.path));
    }
    text.append(buf, static_cast<size_t>(n));
  }
  attempted_ = identity;

  Result<IpSet> parsed = IpSet::Parse(text, config_.path);
  if (!parsed.ok()) return CountError(parsed.status());
  auto set = std::make_shared<const IpSet>(std::move(parsed).value());
  entries_.store(set->stats().entries, std::memory_order_relaxed);
  {
    std::lock_guard lock(current_mu_);
    current_.swap(set);
  }
  // The old set (now in `set`) is freed here, outside the lock, unless a
  // reader still holds it.
  reloads_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

}  // namespace flowlake
