#include "lake/dead_letter.h"

#include "core/json_string.h"

#include <cstdio>

#include <simdjson.h>

namespace flowlake {

Status DeadLetterConfig::Validate() const {
  if (root.empty()) return Status::InvalidArgument("dead letter: root directory is empty");
  if (max_record_bytes < 64) {
    return Status::InvalidArgument("dead letter: max_record_bytes must be at least 64");
  }
  return Status::Ok();
}


namespace {

void AppendBase64(std::string& out, std::string_view s) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.push_back('"');
  size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(s[i])) << 16) | (uint32_t(uint8_t(s[i + 1])) << 8) |
                 uint32_t(uint8_t(s[i + 2]));
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (i < s.size()) {
    uint32_t v = uint32_t(uint8_t(s[i])) << 16;
    if (i + 1 < s.size()) v |= uint32_t(uint8_t(s[i + 1])) << 8;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  out.push_back('"');
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

DeadLetterWriter::DeadLetterWriter(DeadLetterConfig config, std::string name)
    : config_(std::move(config)), name_(std::move(name)) {}

DeadLetterWriter::~DeadLetterWriter() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_) (void)CommitLocked();
}

void DeadLetterWriter::Reject(const SourcePosition& pos, std::string_view reason,
                              std::string_view record) {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_;
  if (!error_.ok()) return;

  const bool truncated = record.size() > config_.max_record_bytes;
  const bool utf8 = simdjson::validate_utf8(record.data(), record.size());
  std::string_view kept = utf8 ? TruncateUtf8(record, config_.max_record_bytes)
                               : record.substr(0, config_.max_record_bytes);
  line_.clear();
  line_ += "{\"source\":";
  AppendJsonString(line_, simdjson::validate_utf8(pos.source.data(), pos.source.size())
                              ? pos.source
                              : std::string_view("<non-UTF-8 name>"));
  line_ += ",\"line\":" + std::to_string(pos.line);
  line_ += ",\"offset\":" + std::to_string(pos.offset);
  line_ += ",\"array_index\":" + std::to_string(pos.array_index);
  line_ += ",\"reason\":";
  AppendJsonString(line_, simdjson::validate_utf8(reason.data(), reason.size())
                              ? reason
                              : std::string_view("<reason not UTF-8>"));
  if (utf8) {
    line_ += ",\"record\":";
    AppendJsonString(line_, kept);
  } else {
    line_ += ",\"record_base64\":";
    AppendBase64(line_, kept);
  }
  if (truncated) line_ += ",\"truncated\":true";
  line_ += "}\n";

  if (!file_) {
    const std::string work = config_.staging_dir.empty() ? "_tmp" : config_.staging_dir;
    Status st = CreateDirectories(config_.root + "/" + work);
    if (st.ok() && config_.staging_dir.empty()) st = CreateDirectories(config_.root + "/_rejected");
    char seq[24];
    std::snprintf(seq, sizeof seq, "%04llu", static_cast<unsigned long long>(++seq_));
    tmp_path_ = config_.root + "/" + work + "/" + name_ + "-" + seq + ".ndjson";
    records_in_file_ = 0;
    if (st.ok()) {
      auto f = NewPosixWritableFile(tmp_path_);
      if (f.ok()) file_ = std::move(f).value(); else st = f.status();
    }
    if (!st.ok()) {
      error_ = st;
      return;
    }
  }
  Status st = file_->Append(line_);
  ++records_in_file_;
  if (st.ok() && file_->Size() >= config_.max_file_bytes) st = CommitLocked();
  if (!st.ok()) error_ = st;
}

Status DeadLetterWriter::CommitLocked() {
  std::unique_ptr<WritableFile> f = std::move(file_);
  FLOWLAKE_RETURN_IF_ERROR(f->Sync());
  FLOWLAKE_RETURN_IF_ERROR(f->Close());
  const std::string base = tmp_path_.substr(tmp_path_.rfind('/') + 1);
  if (!config_.staging_dir.empty()) {
    staged_.push_back({config_.staging_dir + "/" + base, "_rejected/" + base, records_in_file_,
                       f->Size()});
    return Status::Ok();
  }
  FLOWLAKE_RETURN_IF_ERROR(RenameFile(tmp_path_, config_.root + "/_rejected/" + base));
  files_.push_back("_rejected/" + base);
  return SyncDirectory(config_.root + "/_rejected");
}

Status DeadLetterWriter::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok() && file_) error_ = CommitLocked();
  return error_;
}

Result<std::vector<StagedFile>> DeadLetterWriter::TakeStaged() {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok() && file_) error_ = CommitLocked();
  if (!error_.ok()) return error_;
  std::vector<StagedFile> out;
  out.swap(staged_);
  return out;
}

void DeadLetterWriter::DiscardAll() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_) {
    file_.reset();
    std::remove(tmp_path_.c_str());
  }
  for (const StagedFile& f : staged_) std::remove((config_.root + "/" + f.staging_path).c_str());
  staged_.clear();
  error_ = Status::Ok();
}

uint64_t DeadLetterWriter::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

std::vector<std::string> DeadLetterWriter::files() const {
  std::lock_guard<std::mutex> lock(mu_);
  return files_;
}

}  // namespace flowlake
