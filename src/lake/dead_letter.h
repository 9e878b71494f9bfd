// DeadLetterWriter: keeps every rejected record, with its reason and source
// position, in <lake>/_rejected/<name>.ndjson (one JSON object per line):
//
//   {"source":"flows.json","line":2,"offset":171,"array_index":-1,
//    "reason":"invalid JSON: ...","record":"<raw text>"}
//
// A record that is not valid UTF-8 is kept byte-exact as "record_base64"
// instead of "record". Records longer than `max_record_bytes` are truncated
// and flagged "truncated":true. The file is written under _tmp/ and renamed
// into _rejected/ by Close() (and when it reaches `max_file_bytes`), so
// readers only ever see complete files. Nothing is created if nothing is
// rejected.
//
// Thread-safety: Reject() may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/reject_sink.h"
#include "core/status.h"
#include "core/writable_file.h"
#include "lake/commit_log.h"

namespace flowlake {

struct DeadLetterConfig {
  std::string root;  // the lake directory
  uint64_t max_record_bytes = 1 << 20;
  uint64_t max_file_bytes = 256ULL << 20;
  // Relative to root. Set: files are written there and handed out by
  // TakeStaged() for a CommitLog to publish (the service's exactly-once
  // mode), instead of being renamed into _rejected/ on close.
  std::string staging_dir;
  Status Validate() const;
};

class DeadLetterWriter final : public RejectSink {
 public:
  // `name` must be unique to this writer (e.g. the run id).
  DeadLetterWriter(DeadLetterConfig config, std::string name);
  ~DeadLetterWriter() override;

  void Reject(const SourcePosition& pos, std::string_view reason,
              std::string_view record) override;

  // Commits the current file. The first I/O error is kept and returned here.
  Status Close();

  // Staged mode: closes the current file and returns every file completed
  // since the last call (first I/O error instead, if any).
  Result<std::vector<StagedFile>> TakeStaged();
  // Staged mode, after a fenced commit: deletes the current and untaken
  // files (their records will be consumed and rejected again).
  void DiscardAll();

  uint64_t rejected() const;
  // Paths (relative to the lake root) of committed dead-letter files.
  std::vector<std::string> files() const;

 private:
  Status CommitLocked();

  DeadLetterConfig config_;
  std::string name_;
  mutable std::mutex mu_;
  std::unique_ptr<WritableFile> file_;
  std::string tmp_path_;
  std::string line_;  // scratch
  uint64_t seq_ = 0;
  uint64_t rejected_ = 0;
  uint64_t records_in_file_ = 0;
  std::vector<StagedFile> staged_;
  Status error_;
  std::vector<std::string> files_;
};

}  // namespace flowlake
