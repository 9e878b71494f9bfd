// The Parquet metadata this writer produces, and its Thrift serialization:
// page headers (written before each page) and the FileMetaData footer.
//
// The structs hold only what flowlake writes; field numbers and meanings are
// parquet-format's parquet.thrift (docs/parquet-writer.md lists the choices).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/column_batch.h"
#include "parquet/parquet_format.h"
#include "parquet/statistics.h"
#include "parquet/writer_options.h"

namespace flowlake::parquet {

// The physical type a flowlake column type is stored as.
format::Type PhysicalType(ColumnType type);

struct ColumnChunkMeta {
  format::Type type = format::Type::kInt32;
  format::CompressionCodec codec = format::CompressionCodec::kUncompressed;
  // true: one dictionary page (PLAIN) then RLE_DICTIONARY data pages;
  // false: PLAIN data pages only.
  bool dictionary = false;
  int32_t data_pages = 0;
  int64_t num_values = 0;               // rows, nulls included
  int64_t total_uncompressed_size = 0;  // page headers included
  int64_t total_compressed_size = 0;    // page headers included
  int64_t data_page_offset = 0;
  int64_t dictionary_page_offset = -1;  // -1: no dictionary page
  ChunkStatistics stats;

  // Offset of the chunk's first page.
  int64_t start_offset() const { return dictionary ? dictionary_page_offset : data_page_offset; }
};

struct RowGroupMeta {
  std::vector<ColumnChunkMeta> columns;  // in schema order
  int64_t num_rows = 0;
  int64_t file_offset = 0;            // first page of the first column
  int64_t total_byte_size = 0;        // sum of the columns' uncompressed sizes
  int64_t total_compressed_size = 0;  // sum of the columns' compressed sizes
};

// Appends a PageHeader for a DATA_PAGE (v1) whose values use `encoding` and
// whose definition levels (and absent repetition levels) use RLE.
void AppendDataPageHeader(int32_t uncompressed_size, int32_t compressed_size, int32_t num_values,
                          format::Encoding encoding, std::string* out);

// Appends a PageHeader for a DICTIONARY_PAGE of `num_values` PLAIN entries.
void AppendDictionaryPageHeader(int32_t uncompressed_size, int32_t compressed_size,
                                int32_t num_values, std::string* out);

// Appends the FileMetaData struct (version 1, flat schema of OPTIONAL
// columns under a root named "schema", TypeDefinedOrder for every column).
void AppendFileMetaData(const Schema& schema, std::span<const RowGroupMeta> row_groups,
                        const WriterOptions& options, std::string* out);

}  // namespace flowlake::parquet
