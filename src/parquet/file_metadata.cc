#include "parquet/file_metadata.h"

#include "parquet/thrift_compact.h"

namespace flowlake::parquet {
namespace {

using thrift::CompactWriter;
using thrift::ElemType;

int32_t E(auto v) { return static_cast<int32_t>(v); }

void AppendStatistics(const ChunkStatistics& s, CompactWriter* w) {
  if (s.legacy_min_max && s.max_value) w->BinaryField(1, *s.max_value);
  if (s.legacy_min_max && s.min_value) w->BinaryField(2, *s.min_value);
  w->I64Field(3, s.null_count);
  if (s.distinct_count) w->I64Field(4, *s.distinct_count);
  if (s.max_value) w->BinaryField(5, *s.max_value);
  if (s.min_value) w->BinaryField(6, *s.min_value);
  if (s.max_value) w->BoolField(7, s.max_exact);
  if (s.min_value) w->BoolField(8, s.min_exact);
  if (s.nan_count) w->I64Field(9, *s.nan_count);
}

void AppendSchemaElement(const Field& field, CompactWriter* w) {
  w->BeginStruct();
  w->I32Field(1, E(PhysicalType(field.type)));
  w->I32Field(3, E(format::FieldRepetitionType::kOptional));
  w->BinaryField(4, field.name);
  switch (field.type) {
    case ColumnType::kString:
      w->I32Field(6, E(format::ConvertedType::kUtf8));
      w->BeginStructField(10);  // logicalType
      w->EmptyStructField(1);   // STRING
      w->EndStruct();
      break;
    case ColumnType::kTimestampMs:
      w->I32Field(6, E(format::ConvertedType::kTimestampMillis));
      w->BeginStructField(10);  // logicalType
      w->BeginStructField(8);   // TIMESTAMP
      w->BoolField(1, true);    // isAdjustedToUTC
      w->BeginStructField(2);   // unit
      w->EmptyStructField(1);   // MILLIS
      w->EndStruct();
      w->EndStruct();
      w->EndStruct();
      break;
    case ColumnType::kBool:
    case ColumnType::kInt32:
    case ColumnType::kInt64:
    case ColumnType::kDouble:
      break;
  }
  w->EndStruct();
}

void AppendColumnChunk(const Field& field, const ColumnChunkMeta& c, CompactWriter* w) {
  w->BeginStruct();
  // Deprecated; 0 because no ColumnMetaData is written outside the footer.
  w->I64Field(2, 0);
  w->BeginStructField(3);  // meta_data
  w->I32Field(1, E(c.type));
  if (c.dictionary) {
    w->ListField(2, ElemType::kI32, 3);
    w->I32Elem(E(format::Encoding::kPlain));  // dictionary page
    w->I32Elem(E(format::Encoding::kRle));    // definition levels
    w->I32Elem(E(format::Encoding::kRleDictionary));
  } else {
    w->ListField(2, ElemType::kI32, 2);
    w->I32Elem(E(format::Encoding::kPlain));
    w->I32Elem(E(format::Encoding::kRle));
  }
  w->ListField(3, ElemType::kBinary, 1);
  w->BinaryElem(field.name);
  w->I32Field(4, E(c.codec));
  w->I64Field(5, c.num_values);
  w->I64Field(6, c.total_uncompressed_size);
  w->I64Field(7, c.total_compressed_size);
  w->I64Field(9, c.data_page_offset);
  if (c.dictionary) w->I64Field(11, c.dictionary_page_offset);
  w->BeginStructField(12);
  AppendStatistics(c.stats, w);
  w->EndStruct();
  // encoding_stats: lets readers see that every data page is dictionary
  // encoded (and decode straight into dictionary arrays).
  w->ListField(13, ElemType::kStruct, c.dictionary ? 2 : 1);
  if (c.dictionary) {
    w->BeginStruct();
    w->I32Field(1, E(format::PageType::kDictionaryPage));
    w->I32Field(2, E(format::Encoding::kPlain));
    w->I32Field(3, 1);
    w->EndStruct();
  }
  w->BeginStruct();
  w->I32Field(1, E(format::PageType::kDataPage));
  w->I32Field(2, E(c.dictionary ? format::Encoding::kRleDictionary : format::Encoding::kPlain));
  w->I32Field(3, c.data_pages);
  w->EndStruct();
  w->EndStruct();  // meta_data
  w->EndStruct();  // ColumnChunk
}

}  // namespace

format::Type PhysicalType(ColumnType type) {
  switch (type) {
    case ColumnType::kString:
      return format::Type::kByteArray;
    case ColumnType::kBool:
      return format::Type::kBoolean;
    case ColumnType::kInt32:
      return format::Type::kInt32;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMs:
      return format::Type::kInt64;
    case ColumnType::kDouble:
      return format::Type::kDouble;
  }
  return format::Type::kByteArray;
}

void AppendDataPageHeader(int32_t uncompressed_size, int32_t compressed_size, int32_t num_values,
                          format::Encoding encoding, std::string* out) {
  CompactWriter w(out);
  w.BeginStruct();
  w.I32Field(1, E(format::PageType::kDataPage));
  w.I32Field(2, uncompressed_size);
  w.I32Field(3, compressed_size);
  w.BeginStructField(5);
  w.I32Field(1, num_values);
  w.I32Field(2, E(encoding));
  w.I32Field(3, E(format::Encoding::kRle));
  w.I32Field(4, E(format::Encoding::kRle));
  w.EndStruct();
  w.EndStruct();
}

void AppendDictionaryPageHeader(int32_t uncompressed_size, int32_t compressed_size,
                                int32_t num_values, std::string* out) {
  CompactWriter w(out);
  w.BeginStruct();
  w.I32Field(1, E(format::PageType::kDictionaryPage));
  w.I32Field(2, uncompressed_size);
  w.I32Field(3, compressed_size);
  w.BeginStructField(7);
  w.I32Field(1, num_values);
  w.I32Field(2, E(format::Encoding::kPlain));
  w.EndStruct();
  w.EndStruct();
}

void AppendFileMetaData(const Schema& schema, std::span<const RowGroupMeta> row_groups,
                        const WriterOptions& options, std::string* out) {
  CompactWriter w(out);
  w.BeginStruct();
  w.I32Field(1, 1);  // version

  const auto num_fields = static_cast<uint32_t>(schema.size());
  w.ListField(2, ElemType::kStruct, num_fields + 1);
  w.BeginStruct();  // root: a group, so no type and no repetition
  w.BinaryField(4, "schema");
  w.I32Field(5, static_cast<int32_t>(num_fields));
  w.EndStruct();
  for (const Field& f : schema.fields()) AppendSchemaElement(f, &w);

  int64_t num_rows = 0;
  for (const RowGroupMeta& rg : row_groups) num_rows += rg.num_rows;
  w.I64Field(3, num_rows);

  w.ListField(4, ElemType::kStruct, static_cast<uint32_t>(row_groups.size()));
  for (size_t g = 0; g < row_groups.size(); ++g) {
    const RowGroupMeta& rg = row_groups[g];
    w.BeginStruct();
    w.ListField(1, ElemType::kStruct, static_cast<uint32_t>(rg.columns.size()));
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      AppendColumnChunk(schema.field(c), rg.columns[c], &w);
    }
    w.I64Field(2, rg.total_byte_size);
    w.I64Field(3, rg.num_rows);
    w.I64Field(5, rg.file_offset);
    w.I64Field(6, rg.total_compressed_size);
    // ordinal is an i16; files with more row groups simply omit it.
    if (g <= 32767) w.I16Field(7, static_cast<int16_t>(g));
    w.EndStruct();
  }

  if (!options.key_value_metadata.empty()) {
    w.ListField(5, ElemType::kStruct, static_cast<uint32_t>(options.key_value_metadata.size()));
    for (const auto& [key, value] : options.key_value_metadata) {
      w.BeginStruct();
      w.BinaryField(1, key);
      w.BinaryField(2, value);
      w.EndStruct();
    }
  }
  if (!options.created_by.empty()) w.BinaryField(6, options.created_by);

  w.ListField(7, ElemType::kStruct, num_fields);
  for (uint32_t i = 0; i < num_fields; ++i) {
    w.BeginStruct();
    w.EmptyStructField(1);  // TYPE_ORDER
    w.EndStruct();
  }
  w.EndStruct();
}

}  // namespace flowlake::parquet
