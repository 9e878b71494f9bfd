// ChunkReader: reads a file or stdin in large chunks of whole records.
//
// A chunk ends at a record boundary chosen by the caller's BoundaryFn (the
// decoder knows what a record is; the reader only moves bytes), so chunks can
// be decoded independently and in parallel. Each chunk is followed by
// kChunkPadding readable zero bytes, which lets the JSON parser read past the
// end without a copy.
//
// Memory is bounded: a chunk holds at most `chunk_bytes` plus one record of at
// most `max_record_bytes`. A "record" longer than that is cut at the limit;
// the decoder then rejects the pieces as malformed, and reading goes on.
//
// Not thread-safe: one thread calls Next(); chunks may be handed to others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace flowlake {

inline constexpr size_t kChunkPadding = 64;  // >= SIMDJSON_PADDING

struct ChunkReaderConfig {
  size_t chunk_bytes = 1 << 20;
  size_t max_record_bytes = 16 << 20;
  Status Validate() const;
};

struct Chunk {
  std::vector<char> buffer;  // at least size + kChunkPadding bytes; the padding is zero
  size_t size = 0;
  uint64_t first_line = 1;   // 1-based line number of the first byte
  uint64_t base_offset = 0;  // byte offset of the first byte in the source
  const char* data() const { return buffer.data(); }
  size_t capacity() const { return buffer.size(); }
};

// Returns the length of the longest prefix of [data, data+size) that ends at
// a record boundary, or 0 if there is none.
using BoundaryFn = size_t (*)(const char* data, size_t size);

struct ChunkReaderStats {
  uint64_t bytes = 0;
  uint64_t chunks = 0;
  uint64_t lines = 0;
};

// Number of '\n' bytes in [data, data + size).
uint64_t CountNewlines(const char* data, size_t size);

class ChunkReader {
 public:
  // Opens `path` ("-" means stdin). Errors name the path.
  static Result<std::unique_ptr<ChunkReader>> Open(const std::string& path, BoundaryFn boundary,
                                                   ChunkReaderConfig config = {});
  ~ChunkReader();
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;

  // Fills `chunk` (reusing its buffer) with the next whole records.
  // Returns false at end of input, an IoError if a read fails.
  Result<bool> Next(Chunk& chunk);

  const std::string& source_name() const { return name_; }
  const ChunkReaderStats& stats() const { return stats_; }

 private:
  ChunkReader(int fd, bool owns_fd, std::string name, BoundaryFn boundary, ChunkReaderConfig config);
  // Reads into buf[*have, want) until full or EOF; *have grows.
  Status ReadInto(char* buf, size_t* have, size_t want);

  int fd_;
  bool owns_fd_;
  std::string name_;
  BoundaryFn boundary_;
  ChunkReaderConfig config_;
  std::vector<char> carry_;  // bytes read after the last boundary, not yet handed out
  bool eof_ = false;
  uint64_t next_line_ = 1;
  uint64_t next_offset_ = 0;
  ChunkReaderStats stats_;
};

}  // namespace flowlake
