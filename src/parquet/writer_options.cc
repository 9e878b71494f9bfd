#include "parquet/writer_options.h"

#include <zstd.h>

namespace flowlake::parquet {

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kZstd:
      return "zstd";
  }
  return "?";
}

Result<Compression> ParseCompression(std::string_view name) {
  if (name == "zstd") return Compression::kZstd;
  if (name == "snappy") return Compression::kSnappy;
  if (name == "none") return Compression::kNone;
  return Status::InvalidArgument("unknown parquet compression '" + std::string(name) +
                                 "' (expected zstd, snappy or none)");
}

Status WriterOptions::Validate() const {
  constexpr size_t kGiB = size_t{1} << 30;
  if (zstd_level == 0 || zstd_level < ZSTD_minCLevel() || zstd_level > ZSTD_maxCLevel()) {
    return Status::InvalidArgument("parquet zstd_level " + std::to_string(zstd_level) +
                                   " is out of range [" + std::to_string(ZSTD_minCLevel()) + ", " +
                                   std::to_string(ZSTD_maxCLevel()) + "] or 0");
  }
  if (page_target_bytes < 64 || page_target_bytes > kGiB) {
    return Status::InvalidArgument("parquet page_target_bytes " +
                                   std::to_string(page_target_bytes) +
                                   " is out of range [64, 1073741824]");
  }
  if (dictionary_max_bytes > kGiB) {
    return Status::InvalidArgument("parquet dictionary_max_bytes " +
                                   std::to_string(dictionary_max_bytes) + " is above 1073741824");
  }
  for (const auto& [key, value] : key_value_metadata) {
    if (key.empty()) {
      return Status::InvalidArgument("parquet key_value_metadata has an empty key (value '" +
                                     value + "')");
    }
  }
  return Status::Ok();
}

}  // namespace flowlake::parquet
