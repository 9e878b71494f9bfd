#include "lake/commit_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>

#include <simdjson.h>

#include "core/crash_point.h"
#include "core/writable_file.h"
#include "core/json_string.h"

namespace flowlake {
namespace {

using OffsetMap = std::map<TopicPartition, int64_t>;

constexpr std::string_view kLogDir = "_flowlake/log";
constexpr std::string_view kStagingRoot = "_flowlake/staging";
constexpr std::string_view kStateRoot = "_flowlake/state";
constexpr std::string_view kStateSuffix = ".state";
constexpr std::string_view kRecordSuffix = ".json";
constexpr std::string_view kCheckpointSuffix = ".checkpoint.json";
constexpr std::string_view kLockSuffix = ".lock";
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr size_t kSeqDigits = 20;  // UINT64_MAX has 20 digits

// A lost race costs one listing; a hundred in a row means something is
// spinning, better reported than retried forever.
constexpr int kMaxCommitAttempts = 100;
// Listing and reading the log are not one atomic step: a concurrent
// compaction can delete a file between the two. Each retry sees a newer log.
constexpr int kMaxLoadAttempts = 50;
// Opening our own lock file races only with a Recover() deleting it.
constexpr int kMaxLockAttempts = 10;

Status PosixError(std::string_view what, const std::string& path, int err) {
  std::string m = "commit log: ";
  m += what;
  m += " ";
  m += path;
  m += ": ";
  m += std::strerror(err);
  return Status::IoError(std::move(m));
}

std::string SeqFileName(uint64_t seq, std::string_view suffix) {
  char digits[kSeqDigits + 1];
  std::snprintf(digits, sizeof digits, "%020" PRIu64, seq);
  std::string name(digits);
  name += suffix;
  return name;
}

// The seq of "<20 digits><suffix>", or nullopt for any other name.
std::optional<uint64_t> ParseSeqFileName(std::string_view name, std::string_view suffix) {
  if (name.size() != kSeqDigits + suffix.size() || name.substr(kSeqDigits) != suffix) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  for (size_t i = 0; i < kSeqDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (seq > (UINT64_MAX - d) / 10) return std::nullopt;
    seq = seq * 10 + d;
  }
  return seq;
}

// Temp files are ".<final name>.<writer id>.tmp": hidden from listings of
// records, and attributable to their writer so Recover() can clean them.
std::string TmpFileName(const std::string& final_name, const std::string& writer_id) {
  return "." + final_name + "." + writer_id + std::string(kTmpSuffix);
}

// The writer id in a temp file name, or nullopt if `name` is not one.
std::optional<std::string> TmpFileWriter(std::string_view name) {
  if (name.size() < 1 + kSeqDigits || name[0] != '.' || !name.ends_with(kTmpSuffix)) {
    return std::nullopt;
  }
  name.remove_prefix(1);
  name.remove_suffix(kTmpSuffix.size());
  for (std::string_view suffix : {kCheckpointSuffix, kRecordSuffix}) {
    if (!ParseSeqFileName(name.substr(0, kSeqDigits + suffix.size()), suffix)) continue;
    std::string_view rest = name.substr(kSeqDigits + suffix.size());
    if (rest.size() > 1 && rest[0] == '.') return std::string(rest.substr(1));
  }
  return std::nullopt;
}

bool IsValidWriterId(std::string_view id) {
  if (id.empty() || id.size() > 200 || id[0] == '.' || id.ends_with(kLockSuffix)) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

// A relative path that stays below the directory it is relative to: no
// leading '/', no empty, "." or ".." components, valid UTF-8 (it goes into
// JSON).
bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  if (!simdjson::validate_utf8(path.data(), path.size())) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

bool IsStatePath(std::string_view path) {
  return path.starts_with(std::string(kStateRoot) + "/");
}

// Data files go anywhere but _flowlake/; state snapshots into _flowlake/state/.
bool IsSafeFinalPath(std::string_view path) {
  return IsSafeRelativePath(path) && path != "_flowlake" &&
         (!path.starts_with("_flowlake/") || IsStatePath(path));
}

std::string ParentDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// Names in `dir` other than "." and "..". A missing directory is kNotFound.
Result<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("commit log: no directory " + dir);
    return PosixError("opendir", dir, err);
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    const std::string_view name(e->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return PosixError("readdir", dir, err);
  return names;
}

// The whole file. A missing file is kNotFound: for log files that means a
// concurrent compaction deleted it after we listed it.
Result<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("commit log: " + path + " vanished");
    return PosixError("open", path, err);
  }
  std::string data;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return PosixError("read", path, err);
    }
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

// Writes `data` to a new file at `path`, synced if `sync`. On error the
// file is removed.
Status WriteNewFile(const std::string& path, std::string_view data, bool sync) {
  FLOWLAKE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, NewPosixWritableFile(path));
  Status st = f->Append(data);
  if (st.ok() && sync) st = f->Sync();
  const Status closed = f->Close();
  if (st.ok()) st = closed;
  if (!st.ok()) ::unlink(path.c_str());
  return st;
}

bool SameFile(int fd, const std::string& path) {
  struct stat by_fd;
  struct stat by_path;
  return ::fstat(fd, &by_fd) == 0 && ::stat(path.c_str(), &by_path) == 0 &&
         by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Deletes `dir` and everything below it; adds the number of files deleted
// to *files. A missing `dir` is fine.
Status RemoveTree(const std::string& dir, uint64_t* files) {
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) {
    return names.status().code() == StatusCode::kNotFound ? Status::Ok() : names.status();
  }
  for (const std::string& name : *names) {
    const std::string path = dir + "/" + name;
    if (IsDirectory(path)) {
      FLOWLAKE_RETURN_IF_ERROR(RemoveTree(path, files));
    } else if (::unlink(path.c_str()) == 0) {
      ++*files;
    } else if (errno != ENOENT) {
      return PosixError("unlink", path, errno);
    }
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return PosixError("rmdir", dir, errno);
  return Status::Ok();
}

// An flock(2) held on a lock file for the life of the object.
class FileLock {
 public:
  enum class Outcome {
    kAcquired,
    kHeld,  // a live process holds it
    kGone,  // the file was unlinked or replaced while we opened it
  };

  FileLock() = default;
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)) {}
  FileLock& operator=(FileLock&& o) noexcept {
    if (this != &o) {
      Release();
      fd_ = std::exchange(o.fd_, -1);
      path_ = std::move(o.path_);
    }
    return *this;
  }
  ~FileLock() { Release(); }

  // Tries to lock `path` (creating it if missing) without blocking.
  static Result<Outcome> TryAcquire(const std::string& path, FileLock* lock) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      // O_EXCL: if someone else creates it first, we would otherwise lock a
      // file that a concurrent Recover() is about to unlink.
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0 && errno == EEXIST) return Outcome::kGone;
    }
    if (fd < 0) return PosixError("open", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return Outcome::kHeld;
      return PosixError("flock", path, err);
    }
    // Recover() unlinks a dead writer's lock file while holding it; whoever
    // opened the old file meanwhile holds a lock on nothing.
    if (!SameFile(fd, path)) {
      ::close(fd);
      return Outcome::kGone;
    }
    lock->Release();
    lock->fd_ = fd;
    lock->path_ = path;
    return Outcome::kAcquired;
  }

  bool held() const { return fd_ >= 0; }

  // Unlinks the lock file while still holding the lock, then releases it.
  void UnlinkAndRelease() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());
    Release();
  }

 private:
  void Release() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
    fd_ = -1;
  }

  int fd_ = -1;
  std::string path_;
};

// ---- JSON ----------------------------------------------------------------

void AppendTopicPartition(std::string& out, const TopicPartition& tp) {
  out += "\"topic\":";
  AppendJsonString(out, tp.topic);
  out += ",\"partition\":";
  out += std::to_string(tp.partition);
}

std::string SerializeRecord(const CommitRecord& r) {
  std::string out = "{\"seq\":" + std::to_string(r.seq) + ",\"writer\":";
  AppendJsonString(out, r.writer_id);
  out += ",\"committed_at_ms\":" + std::to_string(r.committed_at_ms) + ",\"ranges\":[";
  for (size_t i = 0; i < r.ranges.size(); ++i) {
    const OffsetRange& range = r.ranges[i];
    out += i == 0 ? "{" : ",{";
    AppendTopicPartition(out, range.tp);
    out += ",\"first\":" + std::to_string(range.first);
    out += ",\"next\":" + std::to_string(range.next) + "}";
  }
  out += "],\"files\":[";
  for (size_t i = 0; i < r.files.size(); ++i) {
    const StagedFile& f = r.files[i];
    out += i == 0 ? "{\"staging\":" : ",{\"staging\":";
    AppendJsonString(out, f.staging_path);
    out += ",\"final\":";
    AppendJsonString(out, f.final_path);
    out += ",\"rows\":" + std::to_string(f.rows);
    out += ",\"bytes\":" + std::to_string(f.bytes) + "}";
  }
  out += "]}\n";
  return out;
}

std::string SerializeCheckpoint(uint64_t seq, const OffsetMap& offsets) {
  std::string out = "{\"seq\":" + std::to_string(seq) + ",\"offsets\":[";
  bool first = true;
  for (const auto& [tp, next] : offsets) {
    out += first ? "{" : ",{";
    first = false;
    AppendTopicPartition(out, tp);
    out += ",\"next\":" + std::to_string(next) + "}";
  }
  out += "]}\n";
  return out;
}

// Reads one log file's JSON; every failure is kCorruption naming the file.
class JsonFile {
 public:
  explicit JsonFile(std::string path) : path_(std::move(path)) {}

  // Parses `text` into *root and checks that its "seq" is the one in the
  // file's name.
  Status Parse(simdjson::dom::parser& parser, const std::string& text, uint64_t name_seq,
               simdjson::dom::object* root) const {
    if (auto err = parser.parse(text).get(*root)) {
      return Corrupt(std::string("not a JSON object: ") + simdjson::error_message(err));
    }
    uint64_t seq = 0;
    FLOWLAKE_RETURN_IF_ERROR(Get(*root, "seq", &seq));
    if (seq != name_seq) {
      return Corrupt("holds seq " + std::to_string(seq) + ", its name says " +
                     std::to_string(name_seq));
    }
    return Status::Ok();
  }

  template <typename T>
  Status Get(simdjson::dom::object o, std::string_view key, T* out) const {
    if (o[key].get(*out) != simdjson::SUCCESS) {
      return Corrupt("missing or invalid \"" + std::string(key) + "\"");
    }
    return Status::Ok();
  }

  Status GetString(simdjson::dom::object o, std::string_view key, std::string* out) const {
    std::string_view v;
    FLOWLAKE_RETURN_IF_ERROR(Get(o, key, &v));
    out->assign(v);
    return Status::Ok();
  }

  Status GetTopicPartition(simdjson::dom::object o, TopicPartition* tp) const {
    int64_t partition = 0;
    FLOWLAKE_RETURN_IF_ERROR(GetString(o, "topic", &tp->topic));
    FLOWLAKE_RETURN_IF_ERROR(Get(o, "partition", &partition));
    if (tp->topic.empty() || partition < 0 || partition > INT32_MAX) {
      return Corrupt("invalid topic-partition " + tp->topic + "/" + std::to_string(partition));
    }
    tp->partition = static_cast<int32_t>(partition);
    return Status::Ok();
  }

  // Calls `fn` with each element of the array `key`, all of which must be
  // objects.
  template <typename Fn>
  Status ForEachObject(simdjson::dom::object o, std::string_view key, Fn fn) const {
    simdjson::dom::array array;
    FLOWLAKE_RETURN_IF_ERROR(Get(o, key, &array));
    for (simdjson::dom::element e : array) {
      simdjson::dom::object item;
      if (e.get(item) != simdjson::SUCCESS) {
        return Corrupt("an element of \"" + std::string(key) + "\" is not an object");
      }
      FLOWLAKE_RETURN_IF_ERROR(fn(item));
    }
    return Status::Ok();
  }

  Status Corrupt(const std::string& what) const {
    return Status::Corruption("commit log: " + path_ + ": " + what);
  }

 private:
  std::string path_;
};

Result<CommitRecord> ParseRecord(simdjson::dom::parser& parser, const std::string& path,
                                 const std::string& text, uint64_t seq) {
  const JsonFile file(path);
  simdjson::dom::object root;
  FLOWLAKE_RETURN_IF_ERROR(file.Parse(parser, text, seq, &root));
  CommitRecord r;
  r.seq = seq;
  FLOWLAKE_RETURN_IF_ERROR(file.GetString(root, "writer", &r.writer_id));
  FLOWLAKE_RETURN_IF_ERROR(file.Get(root, "committed_at_ms", &r.committed_at_ms));
  FLOWLAKE_RETURN_IF_ERROR(file.ForEachObject(root, "ranges", [&](simdjson::dom::object o) {
    OffsetRange range;
    FLOWLAKE_RETURN_IF_ERROR(file.GetTopicPartition(o, &range.tp));
    FLOWLAKE_RETURN_IF_ERROR(file.Get(o, "first", &range.first));
    FLOWLAKE_RETURN_IF_ERROR(file.Get(o, "next", &range.next));
    if (range.first < 0 || range.first > range.next) {
      return file.Corrupt("invalid range [" + std::to_string(range.first) + ", " +
                          std::to_string(range.next) + ") for " + range.tp.ToString());
    }
    r.ranges.push_back(std::move(range));
    return Status::Ok();
  }));
  FLOWLAKE_RETURN_IF_ERROR(file.ForEachObject(root, "files", [&](simdjson::dom::object o) {
    StagedFile f;
    FLOWLAKE_RETURN_IF_ERROR(file.GetString(o, "staging", &f.staging_path));
    FLOWLAKE_RETURN_IF_ERROR(file.GetString(o, "final", &f.final_path));
    FLOWLAKE_RETURN_IF_ERROR(file.Get(o, "rows", &f.rows));
    FLOWLAKE_RETURN_IF_ERROR(file.Get(o, "bytes", &f.bytes));
    // Recover() renames what a record names: never outside the lake.
    if (!f.staging_path.starts_with(std::string(kStagingRoot) + "/") ||
        !IsSafeRelativePath(f.staging_path) || !IsSafeFinalPath(f.final_path)) {
      return file.Corrupt("unsafe file paths \"" + f.staging_path + "\" -> \"" +
                          f.final_path + "\"");
    }
    r.files.push_back(std::move(f));
    return Status::Ok();
  }));
  return r;
}

Result<OffsetMap> ParseCheckpoint(simdjson::dom::parser& parser, const std::string& path,
                                  const std::string& text, uint64_t seq) {
  const JsonFile file(path);
  simdjson::dom::object root;
  FLOWLAKE_RETURN_IF_ERROR(file.Parse(parser, text, seq, &root));
  OffsetMap out;
  FLOWLAKE_RETURN_IF_ERROR(file.ForEachObject(root, "offsets", [&](simdjson::dom::object o) {
    TopicPartition tp;
    int64_t next = 0;
    FLOWLAKE_RETURN_IF_ERROR(file.GetTopicPartition(o, &tp));
    FLOWLAKE_RETURN_IF_ERROR(file.Get(o, "next", &next));
    out[std::move(tp)] = next;
    return Status::Ok();
  }));
  return out;
}

// What the log says at one moment: the latest checkpoint and the records
// after it, contiguous.
struct LogSnapshot {
  uint64_t checkpoint_seq = 0;  // 0: no checkpoint yet
  OffsetMap checkpoint_offsets;
  std::vector<CommitRecord> records;

  uint64_t last_seq() const { return records.empty() ? checkpoint_seq : records.back().seq; }

  // Offsets as of record `seq` (the checkpoint plus records up to it).
  OffsetMap StateAt(uint64_t seq) const {
    OffsetMap state = checkpoint_offsets;
    for (const CommitRecord& r : records) {
      if (r.seq > seq) break;
      for (const OffsetRange& range : r.ranges) state[range.tp] = range.next;
    }
    return state;
  }
};

// The log directory's entries, by kind.
struct LogListing {
  std::vector<uint64_t> records;      // sorted
  std::vector<uint64_t> checkpoints;  // sorted
  std::vector<std::string> temps;
};

Result<LogListing> ListLog(const std::string& log_dir) {
  FLOWLAKE_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(log_dir));
  LogListing listing;
  for (const std::string& name : names) {
    if (auto seq = ParseSeqFileName(name, kRecordSuffix)) {
      listing.records.push_back(*seq);
    } else if (auto cp = ParseSeqFileName(name, kCheckpointSuffix)) {
      listing.checkpoints.push_back(*cp);
    } else if (TmpFileWriter(name)) {
      listing.temps.push_back(name);
    }
  }
  std::sort(listing.records.begin(), listing.records.end());
  std::sort(listing.checkpoints.begin(), listing.checkpoints.end());
  return listing;
}

}  // namespace

Status CommitLogConfig::Validate() const {
  if (root.empty()) return Status::InvalidArgument("commit log: root directory is empty");
  if (checkpoint_every < 1) {
    return Status::InvalidArgument("commit log: checkpoint_every must be at least 1");
  }
  return Status::Ok();
}

class CommitLog::Impl {
 public:
  Impl(CommitLogConfig config, std::string writer_id, const Clock& clock)
      : config_(std::move(config)),
        writer_id_(std::move(writer_id)),
        clock_(&clock),
        log_dir_(config_.root + "/" + std::string(kLogDir)),
        staging_root_(config_.root + "/" + std::string(kStagingRoot)),
        staging_dir_(std::string(kStagingRoot) + "/" + writer_id_) {}

  ~Impl() {
    // A clean exit leaves nothing behind for Recover(); a non-empty staging
    // directory keeps its lock file until Recover() deletes both.
    if (lock_.held() && ::rmdir(Abs(staging_dir_).c_str()) == 0) lock_.UnlinkAndRelease();
  }

  Status Open() {
    FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(log_dir_));
    FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(staging_root_));
    if (config_.sync) {
      for (const std::string& dir : {staging_root_, ParentDir(log_dir_), config_.root}) {
        FLOWLAKE_RETURN_IF_ERROR(SyncDirectory(dir));
      }
    }
    // Lock before creating the staging directory: a directory without a
    // held lock is fair game for another process's Recover().
    const std::string lock_path = LockPath(writer_id_);
    for (int attempt = 0; !lock_.held(); ++attempt) {
      if (attempt == kMaxLockAttempts) {
        return Status::IoError("commit log: " + lock_path + " keeps being replaced");
      }
      FLOWLAKE_ASSIGN_OR_RETURN(FileLock::Outcome outcome,
                                FileLock::TryAcquire(lock_path, &lock_));
      if (outcome == FileLock::Outcome::kHeld) {
        return Status::Aborted("commit log: writer id '" + writer_id_ +
                               "' is in use by a live process (" + lock_path + " is locked)");
      }
    }
    return CreateDirectories(Abs(staging_dir_));
  }

  const std::string& staging_dir() const { return staging_dir_; }
  const CommitLogStats& stats() const { return stats_; }

  Result<OffsetMap> State() {
    FLOWLAKE_ASSIGN_OR_RETURN(LogSnapshot snap, LoadLog());
    return snap.StateAt(snap.last_seq());
  }

  Result<std::vector<CommitRecord>> ReadRecords() {
    FLOWLAKE_ASSIGN_OR_RETURN(LogSnapshot snap, LoadLog());
    return std::move(snap.records);
  }

  Result<uint64_t> Commit(const std::vector<OffsetRange>& ranges,
                          const std::vector<StagedFile>& files) {
    FLOWLAKE_RETURN_IF_ERROR(ValidateCommit(ranges, files));
    CommitRecord record;
    record.writer_id = writer_id_;
    record.files = files;
    for (const OffsetRange& r : ranges) {
      if (r.first != r.next) record.ranges.push_back(r);
    }
    if (record.ranges.empty() && record.files.empty()) {
      FLOWLAKE_ASSIGN_OR_RETURN(LogSnapshot snap, LoadLog());
      return snap.last_seq();
    }

    for (int attempt = 0;; ++attempt) {
      if (attempt == kMaxCommitAttempts) {
        ++stats_.aborted;
        return Status::Aborted("commit log: lost the race for a sequence number " +
                               std::to_string(kMaxCommitAttempts) + " times in a row");
      }
      FLOWLAKE_ASSIGN_OR_RETURN(LogSnapshot snap, LoadLog());
      if (Status st = CheckFencing(snap, record.ranges); !st.ok()) {
        ++stats_.aborted;
        return st;
      }
      record.seq = snap.last_seq() + 1;
      record.committed_at_ms = clock_->WallMs();
      FLOWLAKE_ASSIGN_OR_RETURN(bool won, PutRecord(record));
      if (won) break;
      ++stats_.races_lost;
    }
    ++stats_.commits;
    CrashPoint("commit.after_record");

    const std::string stands = "commit log: record " + std::to_string(record.seq) +
                               " is committed (Recover() will finish it), but ";
    uint64_t published = 0;
    Status st = Publish(record.files, /*own_commit=*/true, &published);
    stats_.files_published += published;
    if (!st.ok()) return Status::IoError(stands + "publishing failed: " + st.message());
    if (record.seq % config_.checkpoint_every == 0) {
      st = Checkpoint(record.seq);
      if (!st.ok()) return Status::IoError(stands + "its checkpoint failed: " + st.message());
    }
    return record.seq;
  }

  Status DiscardStaged(const std::vector<StagedFile>& files) {
    for (const StagedFile& f : files) FLOWLAKE_RETURN_IF_ERROR(CheckStagingPath(f));
    for (const StagedFile& f : files) {
      const std::string path = Abs(f.staging_path);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return PosixError("unlink", path, errno);
    }
    return Status::Ok();
  }

  Status Recover() {
    // 1. Lock every other writer whose lock is free. From here on such a
    //    writer cannot commit again, so every record that names its staged
    //    files is already in the log. Writers are found by their staging
    //    directories and temp files, which exist only while they hold their
    //    lock or after they died; a lock file alone may belong to a writer
    //    between creating and locking it, and is left alone.
    FLOWLAKE_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(staging_root_));
    std::set<std::string> ids;
    for (const std::string& name : names) {
      if (IsDirectory(staging_root_ + "/" + name)) ids.insert(name);
    }
    FLOWLAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(log_dir_));
    for (const std::string& tmp : listing.temps) ids.insert(*TmpFileWriter(tmp));
    ids.erase(writer_id_);
    std::vector<std::pair<std::string, FileLock>> dead;
    for (const std::string& id : ids) {
      if (!IsValidWriterId(id)) continue;  // not ours to delete
      FileLock lock;
      FLOWLAKE_ASSIGN_OR_RETURN(FileLock::Outcome outcome,
                                FileLock::TryAcquire(LockPath(id), &lock));
      if (outcome == FileLock::Outcome::kAcquired) dead.emplace_back(id, std::move(lock));
    }

    // 2. Roll forward every committed record (records up to the latest
    //    checkpoint were published before it was written).
    FLOWLAKE_ASSIGN_OR_RETURN(LogSnapshot snap, LoadLog());
    for (const CommitRecord& r : snap.records) {
      uint64_t moved = 0;
      FLOWLAKE_RETURN_IF_ERROR(Publish(r.files, /*own_commit=*/false, &moved));
      stats_.rolled_forward += moved;
    }

    // 3. What dead writers left in staging now belongs to no record, and
    //    their temp files in the log to no commit.
    FLOWLAKE_ASSIGN_OR_RETURN(listing, ListLog(log_dir_));
    for (auto& [id, lock] : dead) {
      FLOWLAKE_RETURN_IF_ERROR(RemoveTree(staging_root_ + "/" + id, &stats_.orphans_deleted));
      for (const std::string& tmp : listing.temps) {
        if (*TmpFileWriter(tmp) == id) ::unlink((log_dir_ + "/" + tmp).c_str());
      }
      lock.UnlinkAndRelease();
    }
    return Status::Ok();
  }

  Result<StagedFile> StageState(std::string_view payload) {
    const std::string own = Abs(OwnStateDir());
    FLOWLAKE_ASSIGN_OR_RETURN(std::vector<std::string> superseded, StateFilesUnder(own));
    const std::string name =
        writer_id_ + "-" + SeqFileName(++state_counter_, kStateSuffix);
    std::string header = "{\"snapshot\":";
    AppendJsonString(header, name);
    header += ",\"supersedes\":[";
    for (size_t i = 0; i < superseded.size(); ++i) {
      if (i > 0) header += ',';
      AppendJsonString(header, BaseName(superseded[i]));
    }
    header += "]}\n";
    StagedFile f;
    f.staging_path = staging_dir_ + "/" + name;
    f.final_path = OwnStateDir() + "/" + name;
    std::string data = std::move(header);
    data.append(payload);
    FLOWLAKE_RETURN_IF_ERROR(WriteNewFile(Abs(f.staging_path), data, config_.sync));
    f.bytes = data.size();
    return f;
  }

  Status PruneState(const StagedFile& committed) {
    const std::string own = Abs(OwnStateDir());
    const std::string keep = Abs(committed.final_path);
    FLOWLAKE_ASSIGN_OR_RETURN(std::vector<std::string> files, StateFilesUnder(own));
    for (const std::string& f : files) {
      if (f != keep && ::unlink(f.c_str()) != 0 && errno != ENOENT) {
        return PosixError("unlink", f, errno);
      }
    }
    uint64_t ignored = 0;
    return RemoveTree(own + "/adopted", &ignored);
  }

  Result<std::vector<std::string>> AdoptState() {
    const std::string state_root = Abs(kStateRoot);
    Result<std::vector<std::string>> names = ListDir(state_root);
    if (!names.ok() && names.status().code() != StatusCode::kNotFound) return names.status();
    const std::string own = Abs(OwnStateDir());
    if (names.ok()) {
      for (const std::string& id : *names) {
        if (id == writer_id_ || !IsValidWriterId(id) || !IsDirectory(state_root + "/" + id)) {
          continue;
        }
        FileLock lock;
        FLOWLAKE_ASSIGN_OR_RETURN(FileLock::Outcome outcome,
                                  FileLock::TryAcquire(LockPath(id), &lock));
        if (outcome != FileLock::Outcome::kAcquired) continue;  // alive, or being adopted
        FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(own + "/adopted"));
        const std::string from = state_root + "/" + id;
        const std::string to = own + "/adopted/" + id;
        if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
          return PosixError("rename " + from + " to", to, errno);
        }
        if (config_.sync) FLOWLAKE_RETURN_IF_ERROR(SyncDirectory(state_root));
        lock.UnlinkAndRelease();
        ++stats_.states_adopted;
      }
    }
    return CommittedState();
  }

  Result<std::vector<std::string>> CommittedState() {
    // Every snapshot under our directory, minus those another one supersedes.
    const std::string own = Abs(OwnStateDir());
    FLOWLAKE_ASSIGN_OR_RETURN(std::vector<std::string> files, StateFilesUnder(own));
    std::map<std::string, std::string> payloads;  // by snapshot name
    std::set<std::string> superseded;
    for (const std::string& path : files) {
      FLOWLAKE_ASSIGN_OR_RETURN(std::string data, ReadWholeFile(path));
      const size_t eol = data.find('\n');
      if (eol == std::string::npos) {
        return Status::Corruption("commit log: state snapshot " + path + " has no header");
      }
      simdjson::dom::element header;
      simdjson::dom::array list;
      if (parser_.parse(data.data(), eol).get(header) != simdjson::SUCCESS ||
          header["supersedes"].get_array().get(list) != simdjson::SUCCESS) {
        return Status::Corruption("commit log: state snapshot " + path + " has a bad header");
      }
      for (simdjson::dom::element e : list) {
        std::string_view name;
        if (e.get_string().get(name) == simdjson::SUCCESS) superseded.emplace(name);
      }
      payloads[BaseName(path)] = data.substr(eol + 1);
    }
    std::vector<std::string> out;
    for (auto& [name, payload] : payloads) {
      if (!superseded.contains(name)) out.push_back(std::move(payload));
    }
    return out;
  }

 private:
  std::string Abs(std::string_view rel) const { return config_.root + "/" + std::string(rel); }
  std::string OwnStateDir() const { return std::string(kStateRoot) + "/" + writer_id_; }
  static std::string BaseName(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
  }
  // Absolute paths of the *.state files below `dir` (recursively), sorted;
  // none if `dir` does not exist.
  Result<std::vector<std::string>> StateFilesUnder(const std::string& dir) {
    std::vector<std::string> out;
    Result<std::vector<std::string>> names = ListDir(dir);
    if (!names.ok()) {
      if (names.status().code() == StatusCode::kNotFound) return out;
      return names.status();
    }
    for (const std::string& name : *names) {
      const std::string path = dir + "/" + name;
      if (IsDirectory(path)) {
        FLOWLAKE_ASSIGN_OR_RETURN(std::vector<std::string> below, StateFilesUnder(path));
        out.insert(out.end(), below.begin(), below.end());
      } else if (name.ends_with(kStateSuffix)) {
        out.push_back(path);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string LockPath(const std::string& id) const {
    return staging_root_ + "/" + id + std::string(kLockSuffix);
  }

  Status CheckStagingPath(const StagedFile& f) const {
    if (!f.staging_path.starts_with(staging_dir_ + "/") || !IsSafeRelativePath(f.staging_path)) {
      return Status::InvalidArgument("commit log: staged file \"" + f.staging_path +
                                     "\" is not under " + staging_dir_);
    }
    return Status::Ok();
  }

  Status ValidateCommit(const std::vector<OffsetRange>& ranges,
                        const std::vector<StagedFile>& files) const {
    std::set<TopicPartition> seen;
    for (const OffsetRange& r : ranges) {
      if (r.tp.topic.empty() || r.tp.partition < 0 ||
          !simdjson::validate_utf8(r.tp.topic.data(), r.tp.topic.size())) {
        return Status::InvalidArgument("commit log: invalid topic-partition " + r.tp.ToString());
      }
      if (r.first < 0 || r.first > r.next) {
        return Status::InvalidArgument("commit log: invalid range [" + std::to_string(r.first) +
                                       ", " + std::to_string(r.next) + ") for " + r.tp.ToString());
      }
      if (!seen.insert(r.tp).second) {
        return Status::InvalidArgument("commit log: " + r.tp.ToString() + " appears twice");
      }
    }
    std::set<std::string_view> finals;
    for (const StagedFile& f : files) {
      FLOWLAKE_RETURN_IF_ERROR(CheckStagingPath(f));
      if (!IsSafeFinalPath(f.final_path)) {
        return Status::InvalidArgument("commit log: unsafe final path \"" + f.final_path + "\"");
      }
      if (!finals.insert(f.final_path).second) {
        return Status::InvalidArgument("commit log: two files publish to " + f.final_path);
      }
      // A record must never name a file that is not there: Recover() would
      // have nothing to roll forward.
      if (!Exists(Abs(f.staging_path))) {
        return Status::InvalidArgument("commit log: staged file " + Abs(f.staging_path) +
                                       " does not exist");
      }
    }
    return Status::Ok();
  }

  // kAborted unless every range starts where the log says its partition
  // ends. A partition the log has never seen may start anywhere.
  static Status CheckFencing(const LogSnapshot& snap, const std::vector<OffsetRange>& ranges) {
    const OffsetMap state = snap.StateAt(snap.last_seq());
    for (const OffsetRange& r : ranges) {
      auto it = state.find(r.tp);
      if (it == state.end() || it->second == r.first) continue;
      return Status::Aborted("commit log: fenced: " + r.tp.ToString() + " range starts at " +
                             std::to_string(r.first) + " but the log (seq " +
                             std::to_string(snap.last_seq()) + ") has it at " +
                             std::to_string(it->second) +
                             "; another writer committed this partition, seek to State()");
    }
    return Status::Ok();
  }

  // Loads the latest checkpoint and every record after it.
  Result<LogSnapshot> LoadLog() {
    Status last;
    for (int attempt = 0; attempt < kMaxLoadAttempts; ++attempt) {
      Result<LogSnapshot> snap = TryLoadLog();
      if (snap.ok() || snap.status().code() != StatusCode::kNotFound) return snap;
      last = snap.status();  // moved on under us: list again
    }
    return Status::Corruption("commit log: " + log_dir_ + " is inconsistent after " +
                              std::to_string(kMaxLoadAttempts) + " reads: " + last.message());
  }

  // kNotFound means "list again": a file vanished or the listing has a hole,
  // both what a concurrent compaction does to a reader.
  Result<LogSnapshot> TryLoadLog() {
    FLOWLAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(log_dir_));
    LogSnapshot snap;
    if (!listing.checkpoints.empty()) {
      snap.checkpoint_seq = listing.checkpoints.back();
      const std::string path = log_dir_ + "/" + SeqFileName(snap.checkpoint_seq, kCheckpointSuffix);
      FLOWLAKE_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
      FLOWLAKE_ASSIGN_OR_RETURN(snap.checkpoint_offsets,
                                ParseCheckpoint(parser_, path, text, snap.checkpoint_seq));
    }
    // Records at or below the checkpoint are history (or a zombie's
    // withdrawn record): ignored.
    const auto& seqs = listing.records;
    auto it = std::upper_bound(seqs.begin(), seqs.end(), snap.checkpoint_seq);
    for (uint64_t expected = snap.checkpoint_seq + 1; it != seqs.end(); ++it, ++expected) {
      if (*it != expected) {
        return Status::NotFound("record " + std::to_string(expected) + " missing before record " +
                                std::to_string(*it) + " (checkpoint " +
                                std::to_string(snap.checkpoint_seq) + ")");
      }
      const std::string path = log_dir_ + "/" + SeqFileName(*it, kRecordSuffix);
      FLOWLAKE_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
      FLOWLAKE_ASSIGN_OR_RETURN(CommitRecord r, ParseRecord(parser_, path, text, *it));
      snap.records.push_back(std::move(r));
    }
    return snap;
  }

  // Put-if-absent of `r` as record r.seq. false: another writer has it.
  Result<bool> PutRecord(const CommitRecord& r) {
    const std::string name = SeqFileName(r.seq, kRecordSuffix);
    const std::string path = log_dir_ + "/" + name;
    const std::string tmp = log_dir_ + "/" + TmpFileName(name, writer_id_);
    FLOWLAKE_RETURN_IF_ERROR(WriteNewFile(tmp, SerializeRecord(r), config_.sync));
    CrashPoint("commit.before_record");
    // link(2), unlike rename(2), fails if the name exists: the commit point.
    const int rc = ::link(tmp.c_str(), path.c_str());
    const int err = errno;
    ::unlink(tmp.c_str());  // a linked record keeps its own name; a leftover is harmless
    if (rc != 0) {
      if (err == EEXIST) return false;
      return PosixError("link " + tmp + " to", path, err);
    }
    // A writer that paused between reading the log and linking can find its
    // seq free again because compaction deleted the record that had it; a
    // checkpoint at or past our seq then already exists, and every reader
    // ignores records at or below the latest checkpoint. The same checkpoint
    // appears if we paused just after a good link and others checkpointed
    // past us, but then its writer published our files first. So: files
    // still staged (or none to tell by) -> withdraw the record and retry,
    // which fences us or commits again at a fresh seq.
    FLOWLAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(log_dir_));
    if (!listing.checkpoints.empty() && listing.checkpoints.back() >= r.seq) {
      const bool published_by_checkpoint =
          !r.files.empty() && !Exists(Abs(r.files.front().staging_path));
      if (!published_by_checkpoint) {
        ::unlink(path.c_str());
        return false;
      }
    }
    if (config_.sync) FLOWLAKE_RETURN_IF_ERROR(SyncDirectory(log_dir_));
    return true;
  }

  // Renames each file from staging to its final path, creating directories
  // as needed, then syncs each touched directory once. Idempotent: a file
  // already gone from staging but present at its final path was published
  // by someone else. A file in neither place is an error for our own commit
  // (we checked it existed), and counted for records of others. Adds the
  // files this call moved to *moved.
  Status Publish(const std::vector<StagedFile>& files, bool own_commit, uint64_t* moved) {
    std::set<std::string> to_sync;
    for (const StagedFile& f : files) {
      const std::string from = Abs(f.staging_path);
      const std::string to = Abs(f.final_path);
      FLOWLAKE_RETURN_IF_ERROR(MakeFinalDir(ParentDir(to), &to_sync));
      if (::rename(from.c_str(), to.c_str()) == 0) {
        ++*moved;
        if (own_commit && *moved == 1) CrashPoint("commit.mid_publish");
        continue;
      }
      const int err = errno;
      if (err != ENOENT) return PosixError("rename " + from + " to", to, err);
      if (Exists(to)) continue;
      if (own_commit) return PosixError("rename " + from + " to", to, err);
      // Snapshots are superseded and pruned (or adopted) after publication.
      if (!IsStatePath(f.final_path)) ++stats_.files_missing;
    }
    if (config_.sync) {
      for (const std::string& dir : to_sync) FLOWLAKE_RETURN_IF_ERROR(SyncDirectory(dir));
    }
    return Status::Ok();
  }

  // Creates `dir` (absolute, under the root). `dir` and the parent of every
  // directory created go into *to_sync, so new entries survive a crash.
  Status MakeFinalDir(const std::string& dir, std::set<std::string>* to_sync) {
    to_sync->insert(dir);
    if (IsDirectory(dir)) return Status::Ok();
    for (std::string d = dir; d.size() > config_.root.size() && !IsDirectory(d); d = ParentDir(d)) {
      to_sync->insert(ParentDir(d));
    }
    return CreateDirectories(dir);
  }

  // Writes the checkpoint at `seq` (once every record up to it is
  // published), then deletes what the previous checkpoint made redundant.
  Status Checkpoint(uint64_t seq) {
    FLOWLAKE_ASSIGN_OR_RETURN(LogSnapshot snap, LoadLog());
    if (snap.checkpoint_seq >= seq) return Status::Ok();  // others got further meanwhile
    if (snap.last_seq() < seq) {
      return Status::Internal("commit log: record " + std::to_string(seq) +
                              " is not in the log it was just committed to");
    }
    for (const CommitRecord& r : snap.records) {
      if (r.seq > seq) break;
      uint64_t moved = 0;
      FLOWLAKE_RETURN_IF_ERROR(Publish(r.files, /*own_commit=*/false, &moved));
      stats_.rolled_forward += moved;
    }
    const std::string name = SeqFileName(seq, kCheckpointSuffix);
    const std::string tmp = log_dir_ + "/" + TmpFileName(name, writer_id_);
    FLOWLAKE_RETURN_IF_ERROR(WriteNewFile(tmp, SerializeCheckpoint(seq, snap.StateAt(seq)),
                                          config_.sync));
    FLOWLAKE_RETURN_IF_ERROR(RenameFile(tmp, log_dir_ + "/" + name));
    if (config_.sync) FLOWLAKE_RETURN_IF_ERROR(SyncDirectory(log_dir_));
    ++stats_.checkpoints;
    CrashPoint("checkpoint.written");
    return Compact(seq);
  }

  // Deletes records up to the checkpoint before `seq`, and older
  // checkpoints. A reader that listed the log before checkpoint `seq`
  // appeared still finds the previous checkpoint and every record after it;
  // one that listed even earlier gets ENOENT and lists again.
  Status Compact(uint64_t seq) {
    FLOWLAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(log_dir_));
    auto prev = std::lower_bound(listing.checkpoints.begin(), listing.checkpoints.end(), seq);
    if (prev == listing.checkpoints.begin()) return Status::Ok();
    const uint64_t keep_from = *--prev;
    std::vector<std::string> doomed;
    for (uint64_t r : listing.records) {
      if (r <= keep_from) doomed.push_back(SeqFileName(r, kRecordSuffix));
    }
    for (uint64_t c : listing.checkpoints) {
      if (c < keep_from) doomed.push_back(SeqFileName(c, kCheckpointSuffix));
    }
    for (const std::string& name : doomed) {
      const std::string path = log_dir_ + "/" + name;
      if (::unlink(path.c_str()) == 0) {
        ++stats_.records_deleted;
      } else if (errno != ENOENT) {  // ENOENT: another writer compacted it
        return PosixError("unlink", path, errno);
      }
    }
    return Status::Ok();
  }

  CommitLogConfig config_;
  std::string writer_id_;
  const Clock* clock_;
  std::string log_dir_;       // absolute
  std::string staging_root_;  // absolute
  std::string staging_dir_;   // relative to the root
  FileLock lock_;
  simdjson::dom::parser parser_;
  CommitLogStats stats_;
  uint64_t state_counter_ = 0;  // snapshots staged by this writer
};

Result<std::unique_ptr<CommitLog>> CommitLog::Open(CommitLogConfig config, std::string writer_id,
                                                   const Clock& clock) {
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  if (!IsValidWriterId(writer_id)) {
    return Status::InvalidArgument("commit log: invalid writer id '" + writer_id +
                                   "' (want [A-Za-z0-9._-], not starting with '.')");
  }
  auto impl = std::make_unique<Impl>(std::move(config), std::move(writer_id), clock);
  FLOWLAKE_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<CommitLog>(new CommitLog(std::move(impl)));
}

CommitLog::CommitLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CommitLog::~CommitLog() = default;

const std::string& CommitLog::staging_dir() const { return impl_->staging_dir(); }
Status CommitLog::Recover() { return impl_->Recover(); }
Result<std::map<TopicPartition, int64_t>> CommitLog::State() { return impl_->State(); }
Result<uint64_t> CommitLog::Commit(const std::vector<OffsetRange>& ranges,
                                   const std::vector<StagedFile>& files) {
  return impl_->Commit(ranges, files);
}
Status CommitLog::DiscardStaged(const std::vector<StagedFile>& files) {
  return impl_->DiscardStaged(files);
}
const CommitLogStats& CommitLog::stats() const { return impl_->stats(); }
Result<std::vector<CommitRecord>> CommitLog::ReadRecords() { return impl_->ReadRecords(); }
Result<StagedFile> CommitLog::StageState(std::string_view payload) {
  return impl_->StageState(payload);
}
Status CommitLog::PruneState(const StagedFile& committed) { return impl_->PruneState(committed); }
Result<std::vector<std::string>> CommitLog::AdoptState() { return impl_->AdoptState(); }
Result<std::vector<std::string>> CommitLog::CommittedState() { return impl_->CommittedState(); }

}  // namespace flowlake
