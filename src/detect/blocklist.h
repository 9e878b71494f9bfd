// Blocklist: the IpSet of one file, reloaded when the file changes.
//
// The owner calls MaybeReload() now and then (e.g. once per batch); at most
// every check_interval_ms it stat(2)s the file and, when its identity
// (device, inode, size, mtime to the nanosecond) differs from the loaded
// one, reads and parses it and publishes the new set. Lookups go through a
// snapshot:
//
//   std::shared_ptr<const IpSet> set = blocklist.current();
//   if (set->Contains(flow.src_ip)) ...
//
// A snapshot stays valid and unchanged for as long as it is held, whatever
// reloads happen meanwhile; a reload never waits for readers.
//
// Updating the file: write a new file and rename(2) it over the old one. An
// in-place rewrite works too, but a check that lands mid-write may load a
// truncated list; the write's later mtime makes the next check load the
// whole one.
//
// Thread contract: MaybeReload() and Reload() from one thread at a time (the
// owner). current() and counters() from any thread, concurrently with a
// reload; current() holds a mutex only to copy the pointer, never while
// reading or parsing a file.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "detect/ip_set.h"

namespace flowlake {

struct BlocklistConfig {
  std::string path;                  // the list, in the IpSet::Parse format
  int64_t check_interval_ms = 5000;  // minimum time between two stat(2)s

  // InvalidArgument if path is empty or check_interval_ms is negative.
  Status Validate() const;
};

struct BlocklistCounters {
  uint64_t reloads = 0;        // sets published (the first load included)
  uint64_t reload_errors = 0;  // failed checks or loads; the old set was kept
  uint64_t entries = 0;        // entries in the current set
};

class Blocklist {
 public:
  // No I/O: current() is the empty set until the first successful load.
  // `clock` must outlive the Blocklist. `config` must have passed Validate().
  Blocklist(BlocklistConfig config, const Clock& clock);

  Blocklist(const Blocklist&) = delete;
  Blocklist& operator=(const Blocklist&) = delete;

  // If check_interval_ms has passed since the last check (or there was
  // none), check the file and load it if it changed. OK when nothing was due
  // or nothing changed. On error the previous set stays current:
  //   IoError          the file cannot be stat(2)ed, opened or read (e.g.
  //                    deleted); returned at every due check until fixed
  //   InvalidArgument  no line of the file is a valid entry (IpSet::Parse);
  //                    returned once per version of the file
  // Bad lines in an otherwise valid file are not errors: see
  // current()->stats() and errors().
  Status MaybeReload();

  // Check and load now, whatever the interval (e.g. at start-up, to fail
  // fast on a missing file). Same errors as MaybeReload().
  Status Reload();

  // The current set; never null.
  std::shared_ptr<const IpSet> current() const;

  BlocklistCounters counters() const;
  const BlocklistConfig& config() const { return config_; }

 private:
  struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    int64_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };

  Status CheckAndLoad();
  Status CountError(Status status);

  const BlocklistConfig config_;
  const Clock& clock_;

  // Owner thread only.
  bool checked_ = false;
  int64_t last_check_ms_ = 0;
  FileIdentity attempted_;  // the version last read, loaded or not

  mutable std::mutex current_mu_;  // guards current_ (the pointer, not the set)
  std::shared_ptr<const IpSet> current_;

  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> reload_errors_{0};
  std::atomic<uint64_t> entries_{0};
};

}  // namespace flowlake
