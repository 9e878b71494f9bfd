#include "core/writable_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace flowlake {
namespace {

std::string ErrnoMessage(std::string_view what, const std::string& path, int err) {
  std::string m(what);
  m += " ";
  m += path;
  m += ": ";
  m += std::strerror(err);
  return m;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
    buffer_.reserve(kBufferSize);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    size_ += data.size();
    // Large appends (compressed pages) bypass the buffer: one copy less.
    if (buffer_.size() + data.size() > kBufferSize) {
      FLOWLAKE_RETURN_IF_ERROR(FlushBuffer());
      if (data.size() >= kBufferSize) return WriteAll(data.data(), data.size());
    }
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    return Status::Ok();
  }

  Status Sync() override {
    FLOWLAKE_RETURN_IF_ERROR(FlushBuffer());
    if (::fdatasync(fd_) != 0) return Status::IoError(ErrnoMessage("fdatasync", path_, errno));
    return Status::Ok();
  }

  Status Close() override {
    Status st = FlushBuffer();
    if (fd_ >= 0 && ::close(fd_) != 0 && st.ok()) {
      st = Status::IoError(ErrnoMessage("close", path_, errno));
    }
    fd_ = -1;
    return st;
  }

  uint64_t Size() const override { return size_; }

 private:
  static constexpr size_t kBufferSize = 1 << 20;

  Status FlushBuffer() {
    if (buffer_.empty()) return Status::Ok();
    Status st = WriteAll(buffer_.data(), buffer_.size());
    buffer_.clear();
    return st;
  }

  Status WriteAll(const char* p, size_t n) {
    if (fd_ < 0) return Status::IoError("write " + path_ + ": file is closed");
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::IoError(ErrnoMessage("write", path_, errno));
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::Ok();
  }

  std::string path_;
  int fd_;
  uint64_t size_ = 0;
  std::vector<char> buffer_;
};

class ThrottledWritableFile final : public WritableFile {
 public:
  ThrottledWritableFile(std::unique_ptr<WritableFile> base, uint64_t bytes_per_s)
      : base_(std::move(base)), bytes_per_s_(bytes_per_s),
        start_(std::chrono::steady_clock::now()) {}
  Status Append(std::string_view data) override {
    FLOWLAKE_RETURN_IF_ERROR(base_->Append(data));
    // Sleep until the average rate since creation is back under the limit.
    const double due_s = static_cast<double>(base_->Size()) / static_cast<double>(bytes_per_s_);
    const auto due = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(due_s));
    std::this_thread::sleep_until(due);
    return Status::Ok();
  }
  Status Sync() override { return base_->Sync(); }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }

 private:
  std::unique_ptr<WritableFile> base_;
  uint64_t bytes_per_s_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

std::unique_ptr<WritableFile> NewThrottledWritableFile(std::unique_ptr<WritableFile> base,
                                                       uint64_t bytes_per_s) {
  return std::make_unique<ThrottledWritableFile>(std::move(base), bytes_per_s == 0 ? 1 : bytes_per_s);
}

Result<std::unique_ptr<WritableFile>> NewPosixWritableFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(ErrnoMessage("open", path, errno));
  return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IoError(ErrnoMessage("open", dir, errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError(ErrnoMessage("fsync", dir, err));
  return Status::Ok();
}

Status CreateDirectories(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  std::string partial;
  partial.reserve(dir.size());
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      partial.assign(dir, 0, i);
      if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::IoError(ErrnoMessage("mkdir", partial, errno));
      }
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::IoError("mkdir " + dir + ": exists and is not a directory");
  }
  return Status::Ok();
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return Status::IoError(ErrnoMessage("rename " + from + " to", to, errno));
  }
  return Status::Ok();
}

}  // namespace flowlake
