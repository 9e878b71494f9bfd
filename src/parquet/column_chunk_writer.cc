#include "parquet/column_chunk_writer.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "parquet/rle_encoder.h"
#include "parquet/statistics.h"

namespace flowlake::parquet {
namespace {

// Dictionary keep/drop rule. A dictionary is kept when its PLAIN size plus
// the bit-packed indices is smaller than the PLAIN values, and at most this
// fraction of the values is distinct: above that, the indices are close to
// random and compress worse under zstd than the PLAIN values they replace.
// Integers get the lower bar: PLAIN counters and timestamps have long runs of
// zero high bytes that zstd squeezes well. On the benchmark's synthetic
// flows, 0.25 gave the smallest files (39.7 B/row; 0.5: 40.3, 0.1: 40.0).
constexpr double kMaxDistinctFractionString = 0.5;
constexpr double kMaxDistinctFractionInt = 0.25;
// Give up after this many values if nearly all of them were distinct: a
// unique-per-flow column then costs 4096 hash inserts, not a whole chunk.
constexpr size_t kProbeValues = 4096;
constexpr double kProbeDistinctFraction = 0.9;

constexpr size_t kMaxPageBytes = std::numeric_limits<int32_t>::max();

std::span<const uint8_t> ValidOrEmpty(const Column& column) {
  if (column.null_count() == 0) return {};
  return column.validity();
}

size_t CountValid(std::span<const uint8_t> valid, size_t begin, size_t end) {
  size_t n = 0;
  for (size_t i = begin; i < end; ++i) n += valid[i];
  return n;
}

DictionaryLimits LimitsFor(size_t valid_values, double max_distinct_fraction,
                           const WriterOptions& options) {
  DictionaryLimits limits;
  limits.max_entries =
      static_cast<size_t>(static_cast<double>(valid_values) * max_distinct_fraction) + 1;
  limits.max_bytes = options.dictionary_max_bytes;
  limits.probe_values = valid_values > 4 * kProbeValues ? kProbeValues : 0;
  limits.probe_fraction = kProbeDistinctFraction;
  return limits;
}

int IndexBitWidth(size_t distinct) {
  return std::max(1, BitWidth(distinct > 0 ? distinct - 1 : 0));
}

bool DictionaryPays(size_t distinct, size_t valid_values, size_t dictionary_bytes,
                    size_t plain_bytes, double max_distinct_fraction) {
  if (static_cast<double>(distinct) >
      static_cast<double>(valid_values) * max_distinct_fraction + 1) {
    return false;
  }
  const size_t index_bytes = (valid_values * static_cast<size_t>(IndexBitWidth(distinct)) + 7) / 8;
  return dictionary_bytes + index_bytes < plain_bytes;
}

// Appends the valid values of rows [r0, r1) PLAIN-encoded. With nulls, the
// gather is branch-free: every value is stored and the cursor advances only
// over valid ones (hence the one-value slack).
template <typename T>
void AppendPlainFixed(std::span<const T> values, std::span<const uint8_t> valid, size_t r0,
                      size_t r1, size_t valid_count, ByteBuffer* out) {
  if (valid_count == r1 - r0) {
    out->Append(values.data() + r0, valid_count * sizeof(T));
    return;
  }
  const size_t start = out->size();
  uint8_t* p = out->Extend((valid_count + 1) * sizeof(T));
  for (size_t r = r0; r < r1; ++r) {
    std::memcpy(p, &values[r], sizeof(T));
    p += sizeof(T) * valid[r];
  }
  out->SetSize(start + valid_count * sizeof(T));
}

void PutLength(uint32_t n, uint8_t* p) { std::memcpy(p, &n, 4); }

}  // namespace

struct ColumnChunkWriter::ChunkContext {
  std::string_view name;
  WritableFile* file;
  ColumnChunkMeta* meta;
};

ColumnChunkWriter::ColumnChunkWriter(const WriterOptions& options)
    : options_(options), compressor_(options.compression, options.zstd_level) {}

Status ColumnChunkWriter::Write(const Column& column, std::string_view name, WritableFile* file,
                                ColumnChunkMeta* meta) {
  *meta = ColumnChunkMeta{};
  meta->type = PhysicalType(column.type());
  meta->codec = compressor_.codec();
  meta->num_values = static_cast<int64_t>(column.size());
  meta->stats.null_count = static_cast<int64_t>(column.null_count());
  ChunkContext ctx{name, file, meta};
  switch (column.type()) {
    case ColumnType::kString:
      return WriteString(column, &ctx);
    case ColumnType::kInt32:
      return WriteInt<int32_t>(column, column.int32_values(), &ctx);
    case ColumnType::kInt64:
    case ColumnType::kTimestampMs:
      return WriteInt<int64_t>(column, column.int64_values(), &ctx);
    case ColumnType::kDouble:
      return WriteDouble(column, &ctx);
    case ColumnType::kBool:
      return WriteBool(column, &ctx);
  }
  return Status::Internal("unknown column type");
}

template <typename T>
Status ColumnChunkWriter::WriteInt(const Column& column, std::span<const T> values,
                                   ChunkContext* ctx) {
  const std::span<const uint8_t> valid = ValidOrEmpty(column);
  const size_t valid_values = column.size() - column.null_count();
  const MinMax<T> range = ComputeMinMax(values, valid);
  SetMinMax(range, &ctx->meta->stats);

  IntDictionary<T>* dict;
  if constexpr (sizeof(T) == 4) {
    dict = &dict32_;
  } else {
    dict = &dict64_;
  }
  bool use_dictionary = false;
  if (options_.dictionary && range.any) {
    if (indices_.size() < valid_values) indices_.resize(valid_values);
    use_dictionary =
        dict->Build(values, valid, range.min, range.max,
                    LimitsFor(valid_values, kMaxDistinctFractionInt, options_), indices_.data()) &&
        DictionaryPays(dict->size(), valid_values, dict->size() * sizeof(T),
                       valid_values * sizeof(T), kMaxDistinctFractionInt);
  }

  if (use_dictionary) {
    const size_t distinct = dict->size();
    ctx->meta->stats.distinct_count = static_cast<int64_t>(distinct);
    page_.clear();
    page_.Append(dict->entries().data(), distinct * sizeof(T));
    FLOWLAKE_RETURN_IF_ERROR(WriteDictionaryPage(static_cast<int32_t>(distinct), ctx));
    return WriteDictionaryIndexPages(column, distinct, ctx);
  }
  const std::span<const uint8_t> validity = column.validity();
  return WriteDataPages(
      column, options_.page_target_bytes / sizeof(T), nullptr, format::Encoding::kPlain,
      [&](size_t r0, size_t r1, size_t, size_t count) {
        AppendPlainFixed(values, validity, r0, r1, count, &page_);
      },
      ctx);
}

Status ColumnChunkWriter::WriteDouble(const Column& column, ChunkContext* ctx) {
  const std::span<const double> values = column.double_values();
  int64_t nan_count = 0;
  SetMinMax(ComputeMinMax(values, ValidOrEmpty(column), &nan_count), &ctx->meta->stats);
  ctx->meta->stats.nan_count = nan_count;
  const std::span<const uint8_t> validity = column.validity();
  return WriteDataPages(
      column, options_.page_target_bytes / sizeof(double), nullptr, format::Encoding::kPlain,
      [&](size_t r0, size_t r1, size_t, size_t count) {
        AppendPlainFixed(values, validity, r0, r1, count, &page_);
      },
      ctx);
}

// PLAIN BOOLEAN: the valid values bit-packed, the first in the lowest bit.
// No dictionary: a bit is already smaller than any index. A page holds one
// row per target byte, so an eighth of the target in value bytes: boolean
// chunks are small, and this still splits them into pages as other
// columns' chunks are split.
Status ColumnChunkWriter::WriteBool(const Column& column, ChunkContext* ctx) {
  const std::span<const int32_t> values = column.int32_values();
  SetBoolMinMax(ComputeMinMax(values, ValidOrEmpty(column)), &ctx->meta->stats);
  const std::span<const uint8_t> validity = column.validity();
  return WriteDataPages(
      column, options_.page_target_bytes, nullptr, format::Encoding::kPlain,
      [&](size_t r0, size_t r1, size_t, size_t count) {
        uint8_t* bits = page_.Extend((count + 7) / 8);
        std::memset(bits, 0, (count + 7) / 8);
        size_t k = 0;
        for (size_t r = r0; r < r1; ++r) {
          if (validity[r] == 0) continue;
          bits[k >> 3] |= static_cast<uint8_t>((values[r] != 0 ? 1u : 0u) << (k & 7));
          ++k;
        }
      },
      ctx);
}

Status ColumnChunkWriter::WriteString(const Column& column, ChunkContext* ctx) {
  const std::span<const StringRef> refs = column.string_refs();
  const std::span<const uint8_t> validity = column.validity();
  const bool all_valid = column.null_count() == 0;
  const size_t n = column.size();
  const size_t valid_values = n - column.null_count();
  const char* arena = column.arena();
  auto value = [&](size_t r) { return std::string_view(arena + refs[r].offset, refs[r].size); };

  // Null slots have size 0, so this is the PLAIN size of the valid values.
  size_t plain_bytes = 4 * valid_values;
  for (const StringRef& ref : refs) plain_bytes += ref.size;

  bool use_dictionary = false;
  if (options_.dictionary && valid_values > 0) {
    if (indices_.size() < valid_values) indices_.resize(valid_values);
    use_dictionary =
        dict_str_.Build(column, LimitsFor(valid_values, kMaxDistinctFractionString, options_),
                        indices_.data()) &&
        DictionaryPays(dict_str_.size(), valid_values, dict_str_.plain_bytes(), plain_bytes,
                       kMaxDistinctFractionString);
  }

  ChunkStatistics& stats = ctx->meta->stats;
  if (use_dictionary) {
    // Min/max over the distinct values only.
    const std::span<const std::string_view> entries = dict_str_.entries();
    std::string_view min = entries[0], max = entries[0];
    for (std::string_view e : entries) {
      if (e < min) min = e;
      if (max < e) max = e;
    }
    SetStringMinMax(min, max, &stats);
    stats.distinct_count = static_cast<int64_t>(entries.size());

    page_.clear();
    uint8_t* p = page_.Extend(dict_str_.plain_bytes());
    for (std::string_view e : entries) {
      PutLength(static_cast<uint32_t>(e.size()), p);
      // "" may have a null data() (an empty arena): memcpy(_, nullptr, 0) is UB.
      if (!e.empty()) std::memcpy(p + 4, e.data(), e.size());
      p += 4 + e.size();
    }
    FLOWLAKE_RETURN_IF_ERROR(WriteDictionaryPage(static_cast<int32_t>(entries.size()), ctx));
    return WriteDictionaryIndexPages(column, entries.size(), ctx);
  }

  if (valid_values > 0) {
    size_t first = 0;
    while (!all_valid && validity[first] == 0) ++first;
    std::string_view min = value(first), max = min;
    for (size_t r = first + 1; r < n; ++r) {
      if (!all_valid && validity[r] == 0) continue;
      const std::string_view v = value(r);
      if (v < min) min = v;
      if (max < v) max = v;
    }
    SetStringMinMax(min, max, &stats);
  }

  // Pages are cut where the PLAIN bytes reach the target.
  page_ends_.clear();
  page_bytes_.clear();
  size_t bytes = 0;
  for (size_t r = 0; r < n; ++r) {
    bytes += (all_valid || validity[r] != 0) ? 4 + refs[r].size : 0;
    if (bytes >= options_.page_target_bytes) {
      page_ends_.push_back(r + 1);
      page_bytes_.push_back(bytes);
      bytes = 0;
    }
  }
  if (page_ends_.empty() || page_ends_.back() != n) {
    page_ends_.push_back(n);
    page_bytes_.push_back(bytes);
  }
  size_t page_index = 0;
  return WriteDataPages(
      column, 0, &page_ends_, format::Encoding::kPlain,
      [&](size_t r0, size_t r1, size_t, size_t) {
        uint8_t* p = page_.Extend(page_bytes_[page_index++]);
        for (size_t r = r0; r < r1; ++r) {
          if (!all_valid && validity[r] == 0) continue;
          PutLength(refs[r].size, p);
          // The arena is null when every string is "": no memcpy from it.
          if (refs[r].size != 0) std::memcpy(p + 4, arena + refs[r].offset, refs[r].size);
          p += 4 + refs[r].size;
        }
      },
      ctx);
}

Status ColumnChunkWriter::WriteDictionaryIndexPages(const Column& column, size_t distinct,
                                                    ChunkContext* ctx) {
  const int width = IndexBitWidth(distinct);
  const size_t rows_per_page = options_.page_target_bytes * 8 / static_cast<size_t>(width);
  return WriteDataPages(
      column, rows_per_page, nullptr, format::Encoding::kRleDictionary,
      [&](size_t, size_t, size_t v0, size_t count) {
        page_.PushByte(static_cast<uint8_t>(width));
        if (distinct == 1) {
          if (count > 0) AppendRleRun(0, count, width, &page_);
        } else {
          AppendRleHybrid({indices_.data() + v0, count}, width, &page_);
        }
      },
      ctx);
}

Status ColumnChunkWriter::WriteDictionaryPage(int32_t num_entries, ChunkContext* ctx) {
  return EmitPage(true, num_entries, format::Encoding::kPlain, ctx);
}

template <typename EncodeValues>
Status ColumnChunkWriter::WriteDataPages(const Column& column, size_t rows_per_page,
                                         const std::vector<size_t>* page_ends,
                                         format::Encoding encoding, EncodeValues&& encode_values,
                                         ChunkContext* ctx) {
  const size_t n = column.size();
  const std::span<const uint8_t> validity = column.validity();
  const bool all_valid = column.null_count() == 0;
  rows_per_page = std::max<size_t>(rows_per_page, 1);
  size_t r0 = 0, v0 = 0, page = 0;
  while (r0 < n) {
    const size_t r1 = page_ends != nullptr ? (*page_ends)[page] : std::min(n, r0 + rows_per_page);
    const size_t valid_count = all_valid ? r1 - r0 : CountValid(validity, r0, r1);
    page_.clear();
    AppendDefinitionLevels(validity.subspan(r0, r1 - r0), valid_count);
    encode_values(r0, r1, v0, valid_count);
    FLOWLAKE_RETURN_IF_ERROR(EmitPage(false, static_cast<int32_t>(r1 - r0), encoding, ctx));
    v0 += valid_count;
    r0 = r1;
    ++page;
  }
  return Status::Ok();
}

void ColumnChunkWriter::AppendDefinitionLevels(std::span<const uint8_t> valid, size_t valid_count) {
  const size_t length_at = page_.size();
  page_.Extend(4);
  if (valid_count == valid.size()) {
    AppendRleRun(1, valid.size(), 1, &page_);
  } else if (valid_count == 0) {
    AppendRleRun(0, valid.size(), 1, &page_);
  } else {
    AppendRleHybridBits(valid, &page_);
  }
  PutLength(static_cast<uint32_t>(page_.size() - length_at - 4), page_.data() + length_at);
}

Status ColumnChunkWriter::EmitPage(bool dictionary_page, int32_t num_values,
                                   format::Encoding encoding, ChunkContext* ctx) {
  if (page_.size() > kMaxPageBytes) {
    return Status::InvalidArgument("column '" + std::string(ctx->name) + "': a page of " +
                                   std::to_string(page_.size()) +
                                   " bytes exceeds Parquet's 2 GiB page limit");
  }
  FLOWLAKE_ASSIGN_OR_RETURN(const std::string_view body, compressor_.Compress(page_.view()));
  if (body.size() > kMaxPageBytes) {
    return Status::InvalidArgument("column '" + std::string(ctx->name) +
                                   "': a compressed page exceeds Parquet's 2 GiB page limit");
  }
  header_.clear();
  const auto uncompressed = static_cast<int32_t>(page_.size());
  const auto compressed = static_cast<int32_t>(body.size());
  if (dictionary_page) {
    AppendDictionaryPageHeader(uncompressed, compressed, num_values, &header_);
  } else {
    AppendDataPageHeader(uncompressed, compressed, num_values, encoding, &header_);
  }
  ColumnChunkMeta* meta = ctx->meta;
  const auto offset = static_cast<int64_t>(ctx->file->Size());
  if (dictionary_page) {
    meta->dictionary = true;
    meta->dictionary_page_offset = offset;
  } else {
    if (meta->data_pages == 0) meta->data_page_offset = offset;
    ++meta->data_pages;
  }
  FLOWLAKE_RETURN_IF_ERROR(ctx->file->Append(header_));
  FLOWLAKE_RETURN_IF_ERROR(ctx->file->Append(body));
  meta->total_uncompressed_size += static_cast<int64_t>(header_.size() + page_.size());
  meta->total_compressed_size += static_cast<int64_t>(header_.size() + body.size());
  return Status::Ok();
}

}  // namespace flowlake::parquet
