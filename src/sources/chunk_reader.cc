#include "sources/chunk_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

Status ChunkReader::ReadInto(char* buf, size_t* have, size_t want) {
  while (!eof_ && *have < want) {
    ssize_t n = ::read(fd_, buf + *have, want - *have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("read " + name_ + ": " + std::strerror(errno));
    }
    if (n == 0) eof_ = true;
    *have += static_cast<size_t>(n);
    stats_.bytes += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

#if defined(__x86_64__) && defined(__GNUC__)
namespace {
// CountNewlines 32 bytes per step, for CPUs with AVX2 (chosen at run time:
// the build targets baseline x86-64): a compare, its bit mask, a popcount.
__attribute__((target("avx2,popcnt"))) uint64_t CountNewlinesAvx2(const char* data,
                                                                 size_t size) {
  const __m256i nl = _mm256_set1_epi8('\n');
  uint64_t n = 0;
  size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i));
    n += static_cast<uint64_t>(
        __builtin_popcount(static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nl)))));
  }
  for (; i < size; ++i) n += data[i] == '\n';
  return n;
}
}  // namespace
#endif

uint64_t CountNewlines(const char* data, size_t size) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return CountNewlinesAvx2(data, size);
#endif
  uint64_t n = 0;
  size_t i = 0;
#if defined(__SSE2__)
  // 16 bytes per step, counting in byte lanes (cmpeq gives -1 per match) and
  // folding them with SAD every 255 steps, before a lane can overflow.
  // std::count stays a byte loop at -O2, and this runs on the reader thread,
  // which shares the cores with the decoders.
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  while (i + 16 <= size) {
    __m128i lanes = zero;
    const size_t steps = std::min<size_t>(255, (size - i) / 16);
    for (size_t k = 0; k < steps; ++k, i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(v, nl));
    }
    const __m128i sums = _mm_sad_epu8(lanes, zero);
    n += static_cast<uint64_t>(_mm_cvtsi128_si64(sums)) +
         static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; i < size; ++i) n += data[i] == '\n';
  return n;
}

Result<bool> ChunkReader::Next(Chunk& chunk) {
  // Bytes go from read() straight into the chunk: only the short tail after
  // the last record boundary is copied, into the next chunk.
  size_t want = config_.chunk_bytes;
  if (chunk.buffer.size() < want + kChunkPadding) chunk.buffer.resize(want + kChunkPadding);
  size_t have = carry_.size();
  if (have > want) {
    want = have;
    chunk.buffer.resize(want + kChunkPadding);
  }
  if (have > 0) std::memcpy(chunk.buffer.data(), carry_.data(), have);
  carry_.clear();
  FLOWLAKE_RETURN_IF_ERROR(ReadInto(chunk.buffer.data(), &have, want));
  if (have == 0) return false;

  size_t cut = have;
  if (!eof_) {
    cut = boundary_(chunk.buffer.data(), have);
    // No boundary in a full chunk: one record is longer than a chunk. Read on
    // (up to the record limit) until its end shows up.
    const size_t limit = config_.chunk_bytes + config_.max_record_bytes;
    while (cut == 0 && !eof_ && have < limit) {
      want = std::min(limit, have * 2);
      chunk.buffer.resize(want + kChunkPadding);
      FLOWLAKE_RETURN_IF_ERROR(ReadInto(chunk.buffer.data(), &have, want));
      cut = eof_ ? have : boundary_(chunk.buffer.data(), have);
    }
    if (cut == 0) cut = have;  // over the limit: hand it out, the decoder rejects it
  }
  carry_.assign(chunk.buffer.data() + cut, chunk.buffer.data() + have);
  std::memset(chunk.buffer.data() + cut, 0, kChunkPadding);

  chunk.size = cut;
  chunk.first_line = next_line_;
  chunk.base_offset = next_offset_;
  const uint64_t newlines = CountNewlines(chunk.buffer.data(), cut);
  next_line_ += newlines;
  next_offset_ += cut;
  stats_.lines += newlines;
  stats_.chunks += 1;
  return true;
}

}  // namespace flowlake
