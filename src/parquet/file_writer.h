// FileWriter: writes ColumnBatches as one Parquet file, one row group per
// WriteRowGroup() call.
//
// Layout: "PAR1", column chunks row group by row group, the Thrift
// FileMetaData footer, its 4-byte little-endian length, "PAR1". See
// docs/parquet-writer.md for the encodings and statistics written.
//
// Usage:
//   auto w = FileWriter::Create(std::move(file), FlowSchema(), options);
//   if (!w.ok()) ...;
//   FLOWLAKE_RETURN_IF_ERROR((*w)->WriteRowGroup(batch));   // repeatedly
//   FLOWLAKE_ASSIGN_OR_RETURN(FileSummary s, (*w)->Finish());
//
// Contract: the writer owns the file; `schema` is borrowed and must outlive
// the writer. After an error the writer is unusable (every later call
// returns that error) and the partial file should be discarded; the same
// holds for a writer destroyed before Finish(). Not thread-safe: use one
// writer per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/column_batch.h"
#include "core/status.h"
#include "core/writable_file.h"
#include "parquet/column_chunk_writer.h"
#include "parquet/file_metadata.h"
#include "parquet/writer_options.h"

namespace flowlake::parquet {

struct FileSummary {
  uint64_t rows = 0;
  uint64_t row_groups = 0;
  uint64_t bytes = 0;  // file size, footer included
};

class FileWriter {
  struct CreateTag {
    explicit CreateTag() = default;
  };

 public:
  // Validates `options` and `schema` (at least one field, non-empty unique
  // names). Writes nothing yet. Errors: kInvalidArgument.
  static Result<std::unique_ptr<FileWriter>> Create(std::unique_ptr<WritableFile> file,
                                                    const Schema& schema, WriterOptions options);

  // Use Create(); public only for std::make_unique (the tag is private).
  FileWriter(CreateTag, std::unique_ptr<WritableFile> file, const Schema& schema,
             WriterOptions options);
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();

  // Encodes all rows of `batch` as one row group and appends it. An empty
  // batch is a no-op. Errors: kInvalidArgument if `batch` is not built on
  // the writer's Schema object, has columns of unequal length or more than
  // 2^31-1 rows, or a page would exceed 2 GiB; kIoError from the file.
  Status WriteRowGroup(const ColumnBatch& batch);

  // Writes the footer, syncs (if options.sync_on_finish) and closes the
  // file. Call once: the writer is unusable afterwards. Errors: kIoError;
  // kInvalidArgument when called twice or after a failure.
  Result<FileSummary> Finish();

  uint64_t bytes_written() const;
  uint64_t rows_written() const { return rows_; }

 private:
  Status WriteMagicOnce();
  Status CheckUsable() const;
  Status Fail(Status st);

  enum class State : unsigned char { kOpen, kFailed, kFinished };

  std::unique_ptr<WritableFile> file_;
  const Schema& schema_;
  const WriterOptions options_;
  ColumnChunkWriter chunk_writer_;
  std::vector<RowGroupMeta> row_groups_;
  std::string footer_;
  uint64_t rows_ = 0;
  bool magic_written_ = false;
  State state_ = State::kOpen;
  Status failure_;
};

}  // namespace flowlake::parquet
