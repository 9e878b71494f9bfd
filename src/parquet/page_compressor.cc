#include "parquet/page_compressor.h"

#include <snappy.h>
#include <zstd.h>

#include <string>

namespace flowlake::parquet {

struct PageCompressor::ZstdContext {
  ZSTD_CCtx* cctx = nullptr;
  ~ZstdContext() { ZSTD_freeCCtx(cctx); }
};

PageCompressor::PageCompressor(Compression compression, int zstd_level)
    : compression_(compression), zstd_level_(zstd_level) {}

PageCompressor::~PageCompressor() = default;

format::CompressionCodec PageCompressor::codec() const {
  switch (compression_) {
    case Compression::kNone:
      return format::CompressionCodec::kUncompressed;
    case Compression::kSnappy:
      return format::CompressionCodec::kSnappy;
    case Compression::kZstd:
      return format::CompressionCodec::kZstd;
  }
  return format::CompressionCodec::kUncompressed;
}

Result<std::string_view> PageCompressor::Compress(std::string_view input) {
  switch (compression_) {
    case Compression::kNone:
      return input;
    case Compression::kSnappy: {
      out_.Reserve(snappy::MaxCompressedLength(input.size()));
      size_t n = 0;
      snappy::RawCompress(input.data(), input.size(), reinterpret_cast<char*>(out_.data()), &n);
      out_.SetSize(n);
      return out_.view();
    }
    case Compression::kZstd: {
      if (zstd_ == nullptr) {
        // One context per writer: creating one costs more than compressing
        // a small page, and its tables are reused from page to page.
        auto ctx = std::make_unique<ZstdContext>();
        ctx->cctx = ZSTD_createCCtx();
        if (ctx->cctx == nullptr) return Status::ResourceExhausted("ZSTD_createCCtx failed");
        zstd_ = std::move(ctx);
      }
      out_.Reserve(ZSTD_compressBound(input.size()));
      const size_t n = ZSTD_compressCCtx(zstd_->cctx, out_.data(), out_.capacity(), input.data(),
                                         input.size(), zstd_level_);
      if (ZSTD_isError(n)) {
        return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      }
      out_.SetSize(n);
      return out_.view();
    }
  }
  return Status::Internal("unknown compression");
}

}  // namespace flowlake::parquet
