#include "sources/chunk_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace flowlake {

Status ChunkReaderConfig::Validate() const {
  if (chunk_bytes < 4096) return Status::InvalidArgument("chunk_bytes must be at least 4096");
  if (max_record_bytes < 1024) {
    return Status::InvalidArgument("max_record_bytes must be at least 1024");
  }
  return Status::Ok();
}

Result<std::unique_ptr<ChunkReader>> ChunkReader::Open(const std::string& path, BoundaryFn boundary,
                                                       ChunkReaderConfig config) {
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  if (path == "-") {
    return std::unique_ptr<ChunkReader>(new ChunkReader(0, false, "stdin", boundary, config));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path + ": " + std::strerror(errno));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<ChunkReader>(new ChunkReader(fd, true, path, boundary, config));
}

ChunkReader::ChunkReader(int fd, bool owns_fd, std::string name, BoundaryFn boundary,
                         ChunkReaderConfig config)
    : fd_(fd), owns_fd_(owns_fd), name_(std::move(name)), boundary_(boundary), config_(config) {}

ChunkReader::~ChunkReader() {
  if (owns_fd_) ::close(fd_);
}

Status ChunkReader::Fill(size_t want) {
  while (!eof_ && carry_.size() < want) {
    size_t old = carry_.size();
    carry_.resize(want);
    ssize_t n = ::read(fd_, carry_.data() + old, want - old);
    if (n < 0) {
      carry_.resize(old);
      if (errno == EINTR) continue;
      return Status::IoError("read " + name_ + ": " + std::strerror(errno));
    }
    carry_.resize(old + static_cast<size_t>(n));
    if (n == 0) eof_ = true;
    stats_.bytes += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Result<bool> ChunkReader::Next(Chunk& chunk) {
  FLOWLAKE_RETURN_IF_ERROR(Fill(config_.chunk_bytes));
  if (carry_.empty()) return false;

  size_t cut = carry_.size();
  if (!eof_) {
    cut = boundary_(carry_.data(), carry_.size());
    // No boundary in a full chunk: one record is longer than a chunk. Read on
    // (up to the record limit) until its end shows up.
    size_t limit = config_.chunk_bytes + config_.max_record_bytes;
    while (cut == 0 && !eof_ && carry_.size() < limit) {
      FLOWLAKE_RETURN_IF_ERROR(Fill(std::min(limit, carry_.size() * 2)));
      cut = eof_ ? carry_.size() : boundary_(carry_.data(), carry_.size());
    }
    if (cut == 0) cut = carry_.size();  // over the limit: hand it out, the decoder rejects it
  }

  chunk.buffer.resize(cut + kChunkPadding);
  std::memcpy(chunk.buffer.data(), carry_.data(), cut);
  std::memset(chunk.buffer.data() + cut, 0, kChunkPadding);
  chunk.size = cut;
  chunk.first_line = next_line_;
  chunk.base_offset = next_offset_;

  uint64_t newlines = static_cast<uint64_t>(std::count(carry_.data(), carry_.data() + cut, '\n'));
  next_line_ += newlines;
  next_offset_ += cut;
  stats_.lines += newlines;
  stats_.chunks += 1;

  carry_.erase(carry_.begin(), carry_.begin() + static_cast<std::ptrdiff_t>(cut));
  return true;
}

}  // namespace flowlake
