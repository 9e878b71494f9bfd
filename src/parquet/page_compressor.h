// PageCompressor: compresses page bodies with the file's codec, reusing one
// zstd context and one output buffer for every page of the file.
//
// Parquet's SNAPPY is the raw snappy block format (no framing); ZSTD is a
// standard zstd frame. Not thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "core/status.h"
#include "parquet/byte_buffer.h"
#include "parquet/parquet_format.h"
#include "parquet/writer_options.h"

namespace flowlake::parquet {

class PageCompressor {
 public:
  // No allocation until the first Compress().
  PageCompressor(Compression compression, int zstd_level);
  ~PageCompressor();
  PageCompressor(const PageCompressor&) = delete;
  PageCompressor& operator=(const PageCompressor&) = delete;

  format::CompressionCodec codec() const;

  // Returns the compressed form of `input`: a view of an internal buffer
  // valid until the next call, or `input` itself for kNone. Errors:
  // kResourceExhausted if a codec context cannot be allocated, kInternal if
  // the codec fails.
  Result<std::string_view> Compress(std::string_view input);

 private:
  struct ZstdContext;
  Compression compression_;
  int zstd_level_;
  std::unique_ptr<ZstdContext> zstd_;
  ByteBuffer out_;
};

}  // namespace flowlake::parquet
