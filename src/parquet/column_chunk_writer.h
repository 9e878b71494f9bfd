// ColumnChunkWriter: encodes one Column of a row group as a Parquet column
// chunk (an optional dictionary page, then data pages) and appends it to the
// file.
//
// One instance serves every column of every row group of a file, so its
// scratch buffers (page body, dictionary tables, index arrays, the zstd
// context) are allocated once and reused. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/column.h"
#include "core/status.h"
#include "core/writable_file.h"
#include "parquet/byte_buffer.h"
#include "parquet/dictionary.h"
#include "parquet/file_metadata.h"
#include "parquet/page_compressor.h"
#include "parquet/writer_options.h"

namespace flowlake::parquet {

class ColumnChunkWriter {
 public:
  // `options` must be valid and outlive the writer.
  explicit ColumnChunkWriter(const WriterOptions& options);

  // Appends the chunk for `column` (named `name`, for error messages) to
  // `file`; page offsets in `meta` are relative to the file start, taken from
  // file->Size(). Errors: kInvalidArgument if a page would exceed 2 GiB (the
  // format's int32 sizes), kIoError from the file, codec errors.
  Status Write(const Column& column, std::string_view name, WritableFile* file,
               ColumnChunkMeta* meta);

 private:
  struct ChunkContext;  // per-call state, see .cc

  template <typename T>
  Status WriteInt(const Column& column, std::span<const T> values, ChunkContext* ctx);
  Status WriteDouble(const Column& column, ChunkContext* ctx);
  Status WriteBool(const Column& column, ChunkContext* ctx);
  Status WriteString(const Column& column, ChunkContext* ctx);

  // Page emission shared by all types.
  Status WriteDictionaryPage(int32_t num_entries, ChunkContext* ctx);
  // Data pages of RLE_DICTIONARY indices (indices_) into `distinct` entries.
  Status WriteDictionaryIndexPages(const Column& column, size_t distinct, ChunkContext* ctx);
  template <typename EncodeValues>
  Status WriteDataPages(const Column& column, size_t rows_per_page_hint,
                        const std::vector<size_t>* page_ends, format::Encoding encoding,
                        EncodeValues&& encode_values, ChunkContext* ctx);
  void AppendDefinitionLevels(std::span<const uint8_t> valid, size_t valid_count);
  Status EmitPage(bool dictionary_page, int32_t num_values, format::Encoding encoding,
                  ChunkContext* ctx);

  const WriterOptions& options_;
  PageCompressor compressor_;
  ByteBuffer page_;
  std::string header_;
  std::vector<uint32_t> indices_;
  std::vector<size_t> page_ends_;   // PLAIN string pages: end row of each
  std::vector<size_t> page_bytes_;  // and its value bytes
  IntDictionary<int32_t> dict32_;
  IntDictionary<int64_t> dict64_;
  StringDictionary dict_str_;
};

}  // namespace flowlake::parquet
