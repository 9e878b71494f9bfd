// WritableFile: the sink every on-disk writer uses (LevelDB's Env idea).
//
// Writers never call the OS directly; they write to a WritableFile so tests
// can inject faults and later components can swap in object storage.
//
// Contract: Append() buffers; Sync() makes everything appended durable;
// Close() flushes and releases the descriptor (it does not Sync). After any
// error the file is unusable and the caller discards it. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace flowlake {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // Bytes appended so far.
  virtual uint64_t Size() const = 0;
};

// Creates (truncating) a regular file at `path`, buffered in user space.
Result<std::unique_ptr<WritableFile>> NewPosixWritableFile(const std::string& path);

// Wraps `base` so that appends go no faster than `bytes_per_s` (it sleeps).
// Test-only: it lets tests make the lake slower than its input.
std::unique_ptr<WritableFile> NewThrottledWritableFile(std::unique_ptr<WritableFile> base,
                                                       uint64_t bytes_per_s);

// fsync() on a directory, so a rename inside it survives a crash.
Status SyncDirectory(const std::string& dir);

// mkdir -p.
Status CreateDirectories(const std::string& dir);

// rename(2); atomic within one file system.
Status RenameFile(const std::string& from, const std::string& to);

}  // namespace flowlake
