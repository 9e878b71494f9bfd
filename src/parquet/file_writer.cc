#include "parquet/file_writer.h"

#include <cstring>
#include <limits>
#include <set>
#include <string_view>

namespace flowlake::parquet {
namespace {

constexpr std::string_view kMagic = "PAR1";

}  // namespace

Result<std::unique_ptr<FileWriter>> FileWriter::Create(std::unique_ptr<WritableFile> file,
                                                       const Schema& schema,
                                                       WriterOptions options) {
  if (file == nullptr) return Status::InvalidArgument("parquet writer: no file");
  FLOWLAKE_RETURN_IF_ERROR(options.Validate());
  if (schema.size() == 0) return Status::InvalidArgument("parquet writer: schema has no fields");
  std::set<std::string_view> names;
  for (const Field& f : schema.fields()) {
    if (f.name.empty()) return Status::InvalidArgument("parquet writer: a field has no name");
    if (!names.insert(f.name).second) {
      return Status::InvalidArgument("parquet writer: duplicate field name '" +
                                     std::string(f.name) + "'");
    }
  }
  return std::make_unique<FileWriter>(CreateTag(), std::move(file), schema, std::move(options));
}

FileWriter::FileWriter(CreateTag, std::unique_ptr<WritableFile> file, const Schema& schema,
                       WriterOptions options)
    : file_(std::move(file)),
      schema_(schema),
      options_(std::move(options)),
      chunk_writer_(options_) {}

FileWriter::~FileWriter() = default;

uint64_t FileWriter::bytes_written() const { return file_->Size(); }

Status FileWriter::CheckUsable() const {
  switch (state_) {
    case State::kOpen:
      return Status::Ok();
    case State::kFinished:
      return Status::InvalidArgument("parquet writer: already finished");
    case State::kFailed:
      return Status(failure_.code(), "parquet writer failed earlier: " + failure_.message());
  }
  return Status::Internal("parquet writer: bad state");
}

Status FileWriter::Fail(Status st) {
  state_ = State::kFailed;
  failure_ = st;
  return st;
}

Status FileWriter::WriteMagicOnce() {
  if (magic_written_) return Status::Ok();
  FLOWLAKE_RETURN_IF_ERROR(file_->Append(kMagic));
  magic_written_ = true;
  return Status::Ok();
}

Status FileWriter::WriteRowGroup(const ColumnBatch& batch) {
  FLOWLAKE_RETURN_IF_ERROR(CheckUsable());
  // Caller errors leave the writer usable: nothing was written.
  if (&batch.schema() != &schema_) {
    return Status::InvalidArgument("parquet writer: batch is not built on the writer's schema");
  }
  const size_t rows = batch.num_rows();
  if (rows == 0) return Status::Ok();
  if (rows > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument("parquet writer: a row group of " + std::to_string(rows) +
                                   " rows exceeds 2147483647");
  }
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    if (batch.column(c).size() != rows) {
      return Status::InvalidArgument(
          "parquet writer: column '" + std::string(schema_.field(c).name) + "' has " +
          std::to_string(batch.column(c).size()) + " rows, expected " + std::to_string(rows));
    }
  }

  if (Status st = WriteMagicOnce(); !st.ok()) return Fail(std::move(st));
  RowGroupMeta rg;
  rg.num_rows = static_cast<int64_t>(rows);
  rg.file_offset = static_cast<int64_t>(file_->Size());
  rg.columns.resize(batch.num_columns());
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    ColumnChunkMeta& meta = rg.columns[c];
    Status st = chunk_writer_.Write(batch.column(c), schema_.field(c).name, file_.get(), &meta);
    if (!st.ok()) return Fail(std::move(st));
    rg.total_byte_size += meta.total_uncompressed_size;
    rg.total_compressed_size += meta.total_compressed_size;
  }
  row_groups_.push_back(std::move(rg));
  rows_ += rows;
  return Status::Ok();
}

Result<FileSummary> FileWriter::Finish() {
  FLOWLAKE_RETURN_IF_ERROR(CheckUsable());
  if (Status st = WriteMagicOnce(); !st.ok()) return Fail(std::move(st));
  footer_.clear();
  AppendFileMetaData(schema_, row_groups_, options_, &footer_);
  const auto footer_length = static_cast<uint32_t>(footer_.size());
  char trailer[8];
  std::memcpy(trailer, &footer_length, 4);  // little-endian host (see rle_encoder.cc)
  std::memcpy(trailer + 4, kMagic.data(), 4);
  footer_.append(trailer, sizeof(trailer));
  Status st = file_->Append(footer_);
  if (st.ok() && options_.sync_on_finish) st = file_->Sync();
  const uint64_t size = file_->Size();
  if (Status close = file_->Close(); st.ok()) st = std::move(close);
  if (!st.ok()) return Fail(std::move(st));
  state_ = State::kFinished;
  return FileSummary{rows_, row_groups_.size(), size};
}

}  // namespace flowlake::parquet
