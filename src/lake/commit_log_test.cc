#include "lake/commit_log.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

extern char** environ;

namespace flowlake {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDec1 = 1764547200000;  // 2025-12-01T00:00:00Z
const TopicPartition kTp{"netflows", 3};
constexpr char kHour[] = "flows/date=2025-12-01/hour=9";

// Each test works in its own directory, named after the process (another
// build tree may run these tests at the same time) and removed if it passes.
class CommitLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::path(::testing::TempDir()) /
            ("commit_log_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(base_);
  }

  // An empty lake directory.
  std::string FreshDir(const std::string& name) {
    const fs::path p = base_ / name;
    fs::remove_all(p);
    fs::create_directories(p);
    return p.string();
  }

 private:
  fs::path base_;
};

std::unique_ptr<CommitLog> MustOpen(const std::string& root, const std::string& id,
                                    uint32_t checkpoint_every = 64,
                                    const Clock& clock = SystemClock::Default()) {
  auto log = CommitLog::Open({.root = root, .sync = false, .checkpoint_every = checkpoint_every},
                             id, clock);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(log).value() : nullptr;
}

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes a file into `log`'s staging directory, to be published under kHour.
StagedFile Stage(const std::string& root, const CommitLog& log, const std::string& name,
                 const std::string& content = "PAR1") {
  StagedFile f{log.staging_dir() + "/" + name, std::string(kHour) + "/" + name, 1,
               content.size()};
  WriteText(root + "/" + f.staging_path, content);
  return f;
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

size_t CountFiles(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

std::string LogDir(const std::string& root) { return root + "/_flowlake/log"; }
std::string StagingRoot(const std::string& root) { return root + "/_flowlake/staging"; }

using State = std::map<TopicPartition, int64_t>;

State MustState(CommitLog& log) {
  auto s = log.State();
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? s.value() : State{};
}

TEST_F(CommitLogTest, FirstCommitWritesOneRecordAndPublishes) {
  const std::string root = FreshDir("first");
  ManualClock clock(kDec1);
  auto log = MustOpen(root, "w1", 64, clock);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->staging_dir(), "_flowlake/staging/w1");
  EXPECT_TRUE(MustState(*log).empty());

  StagedFile a = Stage(root, *log, "a.parquet", "aaaaa");
  a.rows = 10;
  StagedFile b = Stage(root, *log, "b.parquet");
  auto seq = log->Commit({{kTp, 100, 250}}, {a, b});
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(seq.value(), 1u);

  EXPECT_EQ(MustState(*log), (State{{kTp, 250}}));
  EXPECT_EQ(Names(LogDir(root)), std::vector<std::string>{"00000000000000000001.json"});
  EXPECT_EQ(ReadText(LogDir(root) + "/00000000000000000001.json"),
            "{\"seq\":1,\"writer\":\"w1\",\"committed_at_ms\":1764547200000,"
            "\"ranges\":[{\"topic\":\"netflows\",\"partition\":3,\"first\":100,\"next\":250}],"
            "\"files\":[{\"staging\":\"_flowlake/staging/w1/a.parquet\","
            "\"final\":\"flows/date=2025-12-01/hour=9/a.parquet\",\"rows\":10,\"bytes\":5},"
            "{\"staging\":\"_flowlake/staging/w1/b.parquet\","
            "\"final\":\"flows/date=2025-12-01/hour=9/b.parquet\",\"rows\":1,\"bytes\":4}]}\n");
  EXPECT_EQ(ReadText(root + "/" + a.final_path), "aaaaa");
  EXPECT_TRUE(fs::exists(root + "/" + b.final_path));
  EXPECT_TRUE(Names(root + "/" + log->staging_dir()).empty());
  EXPECT_EQ(log->stats().commits, 1u);
  EXPECT_EQ(log->stats().files_published, 2u);

  auto records = log->ReadRecords();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  const CommitRecord& r = records->front();
  EXPECT_EQ(r.seq, 1u);
  EXPECT_EQ(r.writer_id, "w1");
  EXPECT_EQ(r.committed_at_ms, kDec1);
  ASSERT_EQ(r.ranges.size(), 1u);
  EXPECT_EQ(r.ranges[0].tp, kTp);
  EXPECT_EQ(r.ranges[0].first, 100);
  EXPECT_EQ(r.ranges[0].next, 250);
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].final_path, a.final_path);
  EXPECT_EQ(r.files[0].rows, 10u);
  EXPECT_EQ(r.files[0].bytes, 5u);

  // Another process sees the same state.
  auto other = MustOpen(root, "w2");
  EXPECT_EQ(MustState(*other), (State{{kTp, 250}}));
}

TEST_F(CommitLogTest, StaleFirstOffsetIsFencedAndWritesNothing) {
  const std::string root = FreshDir("fenced");
  auto a = MustOpen(root, "a");
  auto b = MustOpen(root, "b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Commit({{kTp, 100, 250}}, {Stage(root, *a, "a1.parquet")}).ok());

  // b started from 100 too (a rebalance gave it the partition mid-batch).
  StagedFile staged = Stage(root, *b, "b1.parquet");
  auto seq = b->Commit({{kTp, 100, 300}}, {staged});
  ASSERT_FALSE(seq.ok());
  EXPECT_EQ(seq.status().code(), StatusCode::kAborted);
  EXPECT_EQ(seq.status().message(),
            "commit log: fenced: netflows/3 range starts at 100 but the log (seq 1) has it at "
            "250; another writer committed this partition, seek to State()");
  EXPECT_EQ(b->stats().aborted, 1u);
  EXPECT_EQ(Names(LogDir(root)), std::vector<std::string>{"00000000000000000001.json"});
  EXPECT_FALSE(fs::exists(root + "/" + staged.final_path));
  EXPECT_EQ(MustState(*b), (State{{kTp, 250}}));

  ASSERT_TRUE(b->DiscardStaged({staged}).ok());
  EXPECT_FALSE(fs::exists(root + "/" + staged.staging_path));
  EXPECT_TRUE(b->DiscardStaged({staged}).ok());  // already gone is fine

  // Seeking to State() and continuing from there is accepted.
  auto again = b->Commit({{kTp, 250, 300}}, {Stage(root, *b, "b2.parquet")});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again.value(), 2u);
  EXPECT_EQ(MustState(*a), (State{{kTp, 300}}));
}

TEST_F(CommitLogTest, TwoWritersRacingForOnePartitionExactlyOneWins) {
  for (int round = 0; round < 20; ++round) {
    const std::string root = FreshDir("race");
    auto a = MustOpen(root, "a");
    auto b = MustOpen(root, "b");
    ASSERT_TRUE(a && b);
    const StagedFile fa = Stage(root, *a, "a.parquet");
    const StagedFile fb = Stage(root, *b, "b.parquet");
    std::latch start(2);
    Result<uint64_t> ra = Status::Internal("not run");
    Result<uint64_t> rb = Status::Internal("not run");
    std::thread ta([&] {
      start.arrive_and_wait();
      ra = a->Commit({{kTp, 0, 10}}, {fa});
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      rb = b->Commit({{kTp, 0, 20}}, {fb});
    });
    ta.join();
    tb.join();
    ASSERT_NE(ra.ok(), rb.ok()) << ra.status().ToString() << " / " << rb.status().ToString();
    const Status& lost = ra.ok() ? rb.status() : ra.status();
    EXPECT_EQ(lost.code(), StatusCode::kAborted) << lost.ToString();
    EXPECT_EQ(MustState(*a), (State{{kTp, ra.ok() ? 10 : 20}}));
    EXPECT_EQ(Names(LogDir(root)), std::vector<std::string>{"00000000000000000001.json"});
    EXPECT_EQ(CountFiles(root + "/flows"), 1u);
  }
}

TEST_F(CommitLogTest, ConcurrentWritersOnOwnPartitionsAllCommitWithDistinctSeqs) {
  const std::string root = FreshDir("concurrent");
  constexpr int kWriters = 4;
  constexpr int kCommits = 25;
  constexpr uint32_t kEvery = 8;
  std::vector<std::unique_ptr<CommitLog>> logs;
  for (int w = 0; w < kWriters; ++w) {
    logs.push_back(MustOpen(root, "w" + std::to_string(w), kEvery));
    ASSERT_NE(logs.back(), nullptr);
  }
  std::vector<std::vector<uint64_t>> seqs(kWriters);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  // A reader meanwhile: State() never goes backwards, whatever compaction does.
  std::thread reader([&] {
    auto log = MustOpen(root, "reader", kEvery);
    State last;
    while (!done.load()) {
      auto s = log->State();
      if (!s.ok()) {
        ADD_FAILURE() << s.status().ToString();
        ++failures;
        return;
      }
      for (const auto& [tp, next] : last) {
        auto it = s->find(tp);
        if (it == s->end() || it->second < next) ++failures;
      }
      last = s.value();
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      const TopicPartition tp{"netflows", w};
      for (int i = 0; i < kCommits; ++i) {
        const StagedFile f = Stage(root, *logs[w], "w" + std::to_string(w) + "-" +
                                                       std::to_string(i) + ".parquet");
        auto seq = logs[w]->Commit({{tp, 10 * i, 10 * i + 10}}, {f});
        if (!seq.ok()) {
          ADD_FAILURE() << seq.status().ToString();
          ++failures;
          return;
        }
        seqs[w].push_back(seq.value());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0);

  std::set<uint64_t> all;
  for (const auto& s : seqs) all.insert(s.begin(), s.end());
  EXPECT_EQ(all.size(), size_t{kWriters * kCommits});
  EXPECT_EQ(*all.rbegin(), uint64_t{kWriters * kCommits});
  State expected;
  for (int w = 0; w < kWriters; ++w) expected[{"netflows", w}] = 10 * kCommits;
  EXPECT_EQ(MustState(*logs[0]), expected);
  EXPECT_EQ(CountFiles(root + "/flows"), size_t{kWriters * kCommits});
  for (const auto& log : logs) EXPECT_TRUE(Names(root + "/" + log->staging_dir()).empty());
  EXPECT_LE(Names(LogDir(root)).size(), 3 * kEvery);
}

TEST_F(CommitLogTest, MultiPartitionRangesAndEmptyRanges) {
  const std::string root = FreshDir("multi");
  auto log = MustOpen(root, "w");
  ASSERT_NE(log, nullptr);
  const TopicPartition p0{"netflows", 0};
  const TopicPartition p1{"netflows", 1};
  const TopicPartition other{"sflow", 0};
  // p1 had nothing new: allowed, not recorded.
  auto seq = log->Commit({{p0, 5, 9}, {p1, 7, 7}, {other, 0, 3}}, {Stage(root, *log, "x.parquet")});
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(MustState(*log), (State{{p0, 9}, {other, 3}}));
  auto records = log->ReadRecords();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().ranges.size(), 2u);

  // Offsets may have gaps: p0 continues at 9 even if its next message is 12.
  ASSERT_TRUE(log->Commit({{p0, 9, 13}, {p1, 40, 41}}, {}).ok());
  EXPECT_EQ(MustState(*log), (State{{p0, 13}, {p1, 41}, {other, 3}}));

  // One fenced range aborts the whole commit.
  seq = log->Commit({{p0, 13, 20}, {other, 2, 5}}, {});
  EXPECT_EQ(seq.status().code(), StatusCode::kAborted);
  EXPECT_NE(seq.status().message().find("sflow/0 range starts at 2"), std::string::npos)
      << seq.status().message();
  EXPECT_EQ(MustState(*log), (State{{p0, 13}, {p1, 41}, {other, 3}}));
}

TEST_F(CommitLogTest, CommitWithNothingToRecordWritesNothing) {
  const std::string root = FreshDir("empty");
  auto log = MustOpen(root, "w");
  ASSERT_NE(log, nullptr);
  auto seq = log->Commit({}, {});
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(seq.value(), 0u);
  ASSERT_TRUE(log->Commit({{kTp, 0, 10}}, {}).ok());
  seq = log->Commit({{kTp, 10, 10}}, {});
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(seq.value(), 1u);
  // Even a stale empty range is not checked: it claims nothing.
  seq = log->Commit({{kTp, 3, 3}}, {});
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(Names(LogDir(root)).size(), 1u);
  EXPECT_EQ(log->stats().commits, 1u);
}

TEST_F(CommitLogTest, RejectsInvalidArguments) {
  const std::string root = FreshDir("invalid");
  auto log = MustOpen(root, "w");
  ASSERT_NE(log, nullptr);
  const StagedFile ok = Stage(root, *log, "ok.parquet");
  StagedFile outside = ok;
  outside.staging_path = "_flowlake/staging/other/ok.parquet";
  StagedFile escape = ok;
  escape.final_path = "flows/../../etc/x.parquet";
  StagedFile into_log = ok;
  into_log.final_path = "_flowlake/log/00000000000000000009.json";
  StagedFile missing = Stage(root, *log, "gone.parquet");
  fs::remove(root + "/" + missing.staging_path);
  const struct {
    std::vector<OffsetRange> ranges;
    std::vector<StagedFile> files;
    std::string message;
  } cases[] = {
      {{{kTp, 10, 5}}, {}, "commit log: invalid range [10, 5) for netflows/3"},
      {{{kTp, -1, 5}}, {}, "commit log: invalid range [-1, 5) for netflows/3"},
      {{{kTp, 0, 5}, {kTp, 5, 6}}, {}, "commit log: netflows/3 appears twice"},
      {{{{"", 0}, 0, 5}}, {}, "commit log: invalid topic-partition /0"},
      {{}, {outside}, "commit log: staged file \"_flowlake/staging/other/ok.parquet\" is not under "
                      "_flowlake/staging/w"},
      {{}, {escape}, "commit log: unsafe final path \"flows/../../etc/x.parquet\""},
      {{}, {into_log}, "commit log: unsafe final path \"_flowlake/log/00000000000000000009.json\""},
      {{}, {ok, ok}, "commit log: two files publish to flows/date=2025-12-01/hour=9/ok.parquet"},
      {{}, {missing}, "commit log: staged file " + root + "/" + missing.staging_path +
                          " does not exist"},
  };
  for (const auto& c : cases) {
    auto seq = log->Commit(c.ranges, c.files);
    EXPECT_EQ(seq.status().code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(seq.status().message(), c.message);
  }
  EXPECT_TRUE(Names(LogDir(root)).empty());

  for (const char* id : {"", ".hidden", "a/b", "x.lock", "sp ace"}) {
    auto bad = CommitLog::Open({.root = root}, id);
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << id;
  }
  auto bad = CommitLog::Open({.root = root, .checkpoint_every = 0}, "w9");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CommitLogTest, WriterLockIsExclusiveAndCleanedUpOnCleanExit) {
  const std::string root = FreshDir("lock");
  auto a = MustOpen(root, "same");
  ASSERT_NE(a, nullptr);
  // flock locks belong to the open file description: a second object in the
  // same process conflicts like another process would.
  auto b = CommitLog::Open({.root = root, .sync = false}, "same");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kAborted);
  EXPECT_NE(b.status().message().find("is in use by a live process"), std::string::npos);
  EXPECT_EQ(Names(StagingRoot(root)), (std::vector<std::string>{"same", "same.lock"}));
  a.reset();
  EXPECT_TRUE(Names(StagingRoot(root)).empty());

  // A non-empty staging directory survives (with its lock file) for Recover().
  a = MustOpen(root, "same");
  ASSERT_NE(a, nullptr);
  Stage(root, *a, "left.parquet");
  a.reset();
  EXPECT_EQ(Names(StagingRoot(root)), (std::vector<std::string>{"same", "same.lock"}));
  a = MustOpen(root, "same");  // the lock is free again
  EXPECT_NE(a, nullptr);
}

// A record written by a writer that died before publishing: its files are
// still staged under its own id.
void WriteDeadWritersRecord(const std::string& root, uint64_t seq, int64_t first, int64_t next,
                            const std::vector<std::string>& names) {
  std::string files;
  for (const std::string& n : names) {
    WriteText(StagingRoot(root) + "/dead/" + n, "PAR1");
    if (!files.empty()) files += ",";
    files += "{\"staging\":\"_flowlake/staging/dead/" + n + "\",\"final\":\"" + kHour + "/" + n +
             "\",\"rows\":1,\"bytes\":4}";
  }
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.json", static_cast<unsigned long long>(seq));
  WriteText(LogDir(root) + "/" + name,
            "{\"seq\":" + std::to_string(seq) +
                ",\"writer\":\"dead\",\"committed_at_ms\":1,\"ranges\":[{\"topic\":\"netflows\","
                "\"partition\":3,\"first\":" +
                std::to_string(first) + ",\"next\":" + std::to_string(next) + "}],\"files\":[" +
                files + "]}");
}

TEST_F(CommitLogTest, RecoverRollsForwardCommittedFilesAndDeletesDeadOrphans) {
  const std::string root = FreshDir("rollforward");
  fs::create_directories(LogDir(root));
  WriteDeadWritersRecord(root, 1, 0, 50, {"d1.parquet", "d2.parquet"});
  // d3 was staged but never committed: an orphan. d2 was already published.
  WriteText(StagingRoot(root) + "/dead/d3.parquet", "PAR1");
  WriteText(root + "/" + kHour + "/d2.parquet", "PAR1");
  fs::remove(StagingRoot(root) + "/dead/d2.parquet");
  WriteText(LogDir(root) + "/.00000000000000000002.json.dead.tmp", "{");

  auto log = MustOpen(root, "w");
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Recover().ok());
  EXPECT_TRUE(fs::exists(root + "/" + kHour + "/d1.parquet"));
  EXPECT_TRUE(fs::exists(root + "/" + kHour + "/d2.parquet"));
  EXPECT_FALSE(fs::exists(root + "/" + kHour + "/d3.parquet"));
  EXPECT_EQ(Names(StagingRoot(root)), (std::vector<std::string>{"w", "w.lock"}));
  EXPECT_EQ(Names(LogDir(root)), std::vector<std::string>{"00000000000000000001.json"});
  EXPECT_EQ(log->stats().rolled_forward, 1u);
  EXPECT_EQ(log->stats().orphans_deleted, 1u);
  EXPECT_EQ(MustState(*log), (State{{kTp, 50}}));

  // Idempotent.
  ASSERT_TRUE(log->Recover().ok());
  EXPECT_EQ(log->stats().rolled_forward, 1u);
  EXPECT_EQ(log->stats().files_missing, 0u);
  ASSERT_TRUE(log->Commit({{kTp, 50, 60}}, {}).ok());
}

TEST_F(CommitLogTest, RecoverCountsCommittedFilesDeletedByHand) {
  const std::string root = FreshDir("missing");
  fs::create_directories(LogDir(root));
  WriteDeadWritersRecord(root, 1, 0, 50, {"kept.parquet", "deleted.parquet"});
  fs::remove(StagingRoot(root) + "/dead/deleted.parquet");
  auto log = MustOpen(root, "w");
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Recover().ok());
  EXPECT_EQ(log->stats().rolled_forward, 1u);
  EXPECT_EQ(log->stats().files_missing, 1u);
  EXPECT_TRUE(fs::exists(root + "/" + kHour + "/kept.parquet"));
  EXPECT_EQ(MustState(*log), (State{{kTp, 50}}));
}

TEST_F(CommitLogTest, RecoverNeverTouchesALiveWritersStaging) {
  const std::string root = FreshDir("live");
  auto live = MustOpen(root, "live");
  ASSERT_NE(live, nullptr);
  const StagedFile mine = Stage(root, *live, "in-progress.parquet");
  // A crashed writer: its lock file exists but nobody holds it.
  {
    auto crashed = MustOpen(root, "crashed");
    ASSERT_NE(crashed, nullptr);
    Stage(root, *crashed, "c1.parquet");
    Stage(root, *crashed, "c2.parquet");
  }
  // An older crash left a directory without a lock file.
  WriteText(StagingRoot(root) + "/nolock/n1.parquet", "PAR1");

  auto recoverer = MustOpen(root, "recoverer");
  ASSERT_NE(recoverer, nullptr);
  ASSERT_TRUE(recoverer->Recover().ok());
  EXPECT_TRUE(fs::exists(root + "/" + mine.staging_path));
  EXPECT_EQ(recoverer->stats().orphans_deleted, 3u);
  EXPECT_EQ(Names(StagingRoot(root)),
            (std::vector<std::string>{"live", "live.lock", "recoverer", "recoverer.lock"}));

  // The live writer can still commit what it staged.
  ASSERT_TRUE(live->Commit({{kTp, 0, 1}}, {mine}).ok());
  EXPECT_TRUE(fs::exists(root + "/" + mine.final_path));
}

TEST_F(CommitLogTest, CheckpointsKeepTheLogBoundedAndStateExact) {
  const std::string root = FreshDir("checkpoint");
  constexpr uint32_t kEvery = 4;
  auto log = MustOpen(root, "w", kEvery);
  ASSERT_NE(log, nullptr);
  const TopicPartition p0{"netflows", 0};
  for (int i = 0; i < 3 * static_cast<int>(kEvery); ++i) {
    auto seq = log->Commit({{i % 2 ? p0 : kTp, 100 * (i / 2), 100 * (i / 2 + 1)}},
                           {Stage(root, *log, "f" + std::to_string(i) + ".parquet")});
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    EXPECT_LE(Names(LogDir(root)).size(), 2 * kEvery + 2) << "after seq " << seq.value();
  }
  // Checkpoints at 4, 8, 12; the one at 12 deleted records up to 8 (the
  // previous checkpoint) and the checkpoint at 4.
  EXPECT_EQ(Names(LogDir(root)),
            (std::vector<std::string>{
                "00000000000000000008.checkpoint.json", "00000000000000000009.json",
                "00000000000000000010.json", "00000000000000000011.json",
                "00000000000000000012.checkpoint.json", "00000000000000000012.json"}));
  EXPECT_EQ(ReadText(LogDir(root) + "/00000000000000000012.checkpoint.json"),
            "{\"seq\":12,\"offsets\":[{\"topic\":\"netflows\",\"partition\":0,\"next\":600},"
            "{\"topic\":\"netflows\",\"partition\":3,\"next\":600}]}\n");
  EXPECT_EQ(log->stats().checkpoints, 3u);
  EXPECT_EQ(log->stats().records_deleted, 8u + 1u);
  const State expected{{p0, 600}, {kTp, 600}};
  EXPECT_EQ(MustState(*log), expected);
  auto fresh = MustOpen(root, "fresh", kEvery);
  EXPECT_EQ(MustState(*fresh), expected);
  EXPECT_EQ(CountFiles(root + "/flows"), 3 * kEvery);

  ASSERT_TRUE(log->Commit({{kTp, 600, 700}}, {}).ok());
  auto records = log->ReadRecords();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().seq, 13u);
  EXPECT_EQ(MustState(*fresh), (State{{p0, 600}, {kTp, 700}}));
}

TEST_F(CommitLogTest, CheckpointRollsForwardOtherWritersUnpublishedRecords) {
  const std::string root = FreshDir("checkpoint_rollforward");
  fs::create_directories(LogDir(root));
  WriteDeadWritersRecord(root, 1, 0, 10, {"d1.parquet"});
  auto log = MustOpen(root, "w", 2);
  ASSERT_NE(log, nullptr);
  // No Recover(): the checkpoint at 2 must still publish record 1's file.
  ASSERT_TRUE(log->Commit({{kTp, 10, 20}}, {}).ok());
  EXPECT_TRUE(fs::exists(root + "/" + kHour + "/d1.parquet"));
  EXPECT_EQ(log->stats().rolled_forward, 1u);
  EXPECT_EQ(log->stats().checkpoints, 1u);
}

TEST_F(CommitLogTest, RecordsAtOrBelowTheLatestCheckpointAreIgnored) {
  // What a writer that paused past two checkpoints leaves behind if it dies
  // before withdrawing its stale record.
  const std::string root = FreshDir("stale_record");
  auto log = MustOpen(root, "w", 2);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(log->Commit({{kTp, i, i + 1}}, {}).ok());
  ASSERT_FALSE(fs::exists(LogDir(root) + "/00000000000000000003.json"));
  WriteDeadWritersRecord(root, 3, 2, 1000, {"zombie.parquet"});
  EXPECT_EQ(MustState(*log), (State{{kTp, 6}}));
  ASSERT_TRUE(log->Recover().ok());
  EXPECT_FALSE(fs::exists(root + "/" + kHour + "/zombie.parquet"));
  auto seq = log->Commit({{kTp, 6, 7}}, {});
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(seq.value(), 7u);
}

// A clock that runs `pause` the first time a commit reads it, which is
// between reading the log and linking the record: a writer frozen there.
class PausingClock final : public Clock {
 public:
  explicit PausingClock(std::function<void()> pause) : pause_(std::move(pause)) {}
  int64_t WallMs() const override {
    if (auto pause = std::exchange(pause_, nullptr)) pause();
    return kDec1;
  }
  int64_t MonotonicMs() const override { return 0; }

 private:
  mutable std::function<void()> pause_;
};

TEST_F(CommitLogTest, ZombieWhoseSeqWasCompactedAwayWithdrawsItsRecord) {
  const TopicPartition quiet{"netflows", 9};
  for (const bool fenced : {true, false}) {
    SCOPED_TRACE(fenced ? "fenced" : "partition still free");
    const std::string root = FreshDir(fenced ? "zombie_fenced" : "zombie_free");
    auto other = MustOpen(root, "other", 2);
    ASSERT_NE(other, nullptr);
    // While the zombie is frozen, the other writer commits past two
    // checkpoints, so compaction deletes record 1: the zombie's link of
    // seq 1 succeeds.
    PausingClock clock([&] {
      for (int i = 0; i < 5; ++i) ASSERT_TRUE(other->Commit({{kTp, 10 * i, 10 * i + 10}}, {}).ok());
      ASSERT_FALSE(fs::exists(LogDir(root) + "/00000000000000000001.json"));
    });
    auto zombie = MustOpen(root, "zombie", 2, clock);
    ASSERT_NE(zombie, nullptr);
    const StagedFile f = Stage(root, *zombie, "z.parquet");
    auto seq = zombie->Commit({{fenced ? kTp : quiet, 0, 7}}, {f});
    EXPECT_EQ(zombie->stats().races_lost, 1u);
    if (fenced) {
      EXPECT_EQ(seq.status().code(), StatusCode::kAborted) << seq.status().ToString();
      EXPECT_EQ(MustState(*other), (State{{kTp, 50}}));
      EXPECT_FALSE(fs::exists(root + "/" + f.final_path));
    } else {
      ASSERT_TRUE(seq.ok()) << seq.status().ToString();
      EXPECT_EQ(seq.value(), 6u);
      EXPECT_EQ(MustState(*other), (State{{kTp, 50}, {quiet, 7}}));
      EXPECT_TRUE(fs::exists(root + "/" + f.final_path));
    }
    EXPECT_FALSE(fs::exists(LogDir(root) + "/00000000000000000001.json"));
  }
}

TEST_F(CommitLogTest, CorruptRecordIsCorruption) {
  const std::string root = FreshDir("corrupt");
  auto log = MustOpen(root, "w");
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Commit({{kTp, 0, 10}}, {}).ok());
  const std::string path = LogDir(root) + "/00000000000000000002.json";
  const struct {
    std::string text;
    std::string what;
  } cases[] = {
      {"{\"seq\":2,", "not a JSON object: "},
      {"[1,2]", "not a JSON object: "},
      {"{\"seq\":3,\"writer\":\"x\",\"committed_at_ms\":1,\"ranges\":[],\"files\":[]}",
       "holds seq 3, its name says 2"},
      {"{\"seq\":2,\"writer\":\"x\",\"committed_at_ms\":1,\"ranges\":[{\"topic\":\"t\","
       "\"partition\":0,\"first\":\"0\",\"next\":5}],\"files\":[]}",
       "missing or invalid \"first\""},
      {"{\"seq\":2,\"writer\":\"x\",\"committed_at_ms\":1,\"ranges\":[],\"files\":[{\"staging\":"
       "\"_flowlake/staging/x/a\",\"final\":\"../a\",\"rows\":1,\"bytes\":1}]}",
       "unsafe file paths \"_flowlake/staging/x/a\" -> \"../a\""},
  };
  for (const auto& c : cases) {
    WriteText(path, c.text);
    auto state = log->State();
    ASSERT_FALSE(state.ok()) << c.text;
    EXPECT_EQ(state.status().code(), StatusCode::kCorruption);
    EXPECT_TRUE(state.status().message().starts_with("commit log: " + path + ": " + c.what))
        << state.status().message();
    EXPECT_EQ(log->Commit({{kTp, 10, 20}}, {}).status().code(), StatusCode::kCorruption);
  }
}

TEST_F(CommitLogTest, MissingRecordIsCorruption) {
  const std::string root = FreshDir("gap");
  auto log = MustOpen(root, "w");
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Commit({{kTp, i, i + 1}}, {}).ok());
  fs::remove(LogDir(root) + "/00000000000000000002.json");
  auto state = log->State();
  EXPECT_EQ(state.status().code(), StatusCode::kCorruption);
  EXPECT_NE(state.status().message().find("record 2 missing before record 3 (checkpoint 0)"),
            std::string::npos)
      << state.status().message();
}

// ---- crash tests: a child process dies at one crash point ------------------

constexpr char kCrashRootEnv[] = "FLOWLAKE_COMMIT_LOG_CRASH_ROOT";
constexpr int kCrashCommits = 4;

// Run only as the child of RecoverAfterACrashAtEveryStepGivesAnExactLake: four commits of two files
// each, a checkpoint every two, unless FLOWLAKE_CRASH_AT kills it first.
// Commits `payload` as `log`'s state snapshot (with one range, so the
// record is a real one); returns the snapshot file.
StagedFile CommitState(CommitLog& log, const std::string& payload, int64_t first, int64_t next,
                       const TopicPartition& tp, bool prune = true) {
  Result<StagedFile> f = log.StageState(payload);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  Result<uint64_t> seq = log.Commit({{tp, first, next}}, {*f});
  EXPECT_TRUE(seq.ok()) << seq.status().ToString();
  if (prune) {
    EXPECT_TRUE(log.PruneState(*f).ok());
  }
  return *f;
}

std::vector<std::string> StateFiles(const std::string& root) {
  std::vector<std::string> out;
  const fs::path dir = fs::path(root) / "_flowlake" / "state";
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(CommitLogTest, StateSnapshotsArePublishedWithTheRecordAndPruned) {
  const std::string root = FreshDir("lake");
  auto log = MustOpen(root, "w1");
  const StagedFile s1 = CommitState(*log, "one", 0, 10, kTp);
  EXPECT_EQ(s1.final_path, "_flowlake/state/w1/w1-00000000000000000001.state");
  const StagedFile s2 = CommitState(*log, "two", 10, 20, kTp);
  EXPECT_EQ(StateFiles(root), std::vector<std::string>{s2.final_path});
  // The snapshot is named in the record like any file.
  auto records = log->ReadRecords();
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->back().files.at(0).final_path, s2.final_path);
  // A live writer's state is never adopted.
  auto other = MustOpen(root, "w2");
  ASSERT_TRUE(other->Recover().ok());
  auto adopted = other->AdoptState();
  ASSERT_TRUE(adopted.ok()) << adopted.status().ToString();
  EXPECT_TRUE(adopted->empty());
  EXPECT_EQ(StateFiles(root), std::vector<std::string>{s2.final_path});
}

TEST_F(CommitLogTest, ADeadWritersLatestStateIsAdoptedExactlyOnce) {
  const std::string root = FreshDir("lake");
  {
    auto dead = MustOpen(root, "dead");
    CommitState(*dead, "d1", 0, 10, kTp);
    // Crashed before pruning: both snapshots are on disk.
    CommitState(*dead, "d2", 10, 20, kTp, /*prune=*/false);
    EXPECT_EQ(StateFiles(root).size(), 2u);
  }  // the lock is released: "dead" is dead
  auto a = MustOpen(root, "a");
  auto b = MustOpen(root, "b");
  ASSERT_TRUE(a->Recover().ok());
  auto got_a = a->AdoptState();
  ASSERT_TRUE(got_a.ok()) << got_a.status().ToString();
  EXPECT_EQ(*got_a, std::vector<std::string>{"d2"}) << "only the latest: d2 supersedes d1";
  EXPECT_EQ(a->stats().states_adopted, 1u);
  auto got_b = b->AdoptState();
  ASSERT_TRUE(got_b.ok());
  EXPECT_TRUE(got_b->empty()) << "a has it: adoption is exclusive";

  // a dies after adopting and committing its merged state, before pruning:
  // the next adopter must take a's snapshot only, not d2 again.
  CommitState(*a, "a+d2", 0, 5, TopicPartition{"netflows", 4}, /*prune=*/false);
  a.reset();
  auto c = MustOpen(root, "c");
  ASSERT_TRUE(c->Recover().ok());
  auto got_c = c->AdoptState();
  ASSERT_TRUE(got_c.ok()) << got_c.status().ToString();
  EXPECT_EQ(*got_c, std::vector<std::string>{"a+d2"});
  // c commits its state; pruning leaves only c's snapshot.
  const StagedFile sc = CommitState(*c, "c", 5, 9, TopicPartition{"netflows", 4});
  EXPECT_EQ(StateFiles(root), std::vector<std::string>{sc.final_path});
}

TEST_F(CommitLogTest, AWriterThatDiesAfterAdoptingBeforeCommittingHandsItOn) {
  const std::string root = FreshDir("lake");
  {
    auto dead = MustOpen(root, "dead");
    CommitState(*dead, "d1", 0, 10, kTp);
  }
  {
    auto a = MustOpen(root, "a");
    auto got = a->AdoptState();
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, std::vector<std::string>{"d1"});
  }  // a dies before its first commit
  auto b = MustOpen(root, "b");
  ASSERT_TRUE(b->Recover().ok());
  auto got = b->AdoptState();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, std::vector<std::string>{"d1"});
}

TEST_F(CommitLogTest, CommittedStateIsWhatTheLastCommitRecorded) {
  const std::string root = FreshDir("lake");
  {
    auto dead = MustOpen(root, "dead");
    CommitState(*dead, "d1", 0, 10, kTp);
  }
  auto a = MustOpen(root, "a");
  ASSERT_TRUE(a->Recover().ok());
  ASSERT_TRUE(a->AdoptState().ok());
  auto got = a->CommittedState();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, std::vector<std::string>{"d1"}) << "before a commit: what was adopted";
  // Not pruned: a1 supersedes d1, which is still on disk.
  CommitState(*a, "a1", 10, 20, kTp, /*prune=*/false);
  got = a->CommittedState();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::vector<std::string>{"a1"});
  EXPECT_EQ(a->stats().states_adopted, 1u) << "reading adopts nothing";

  // Another writer moves the partition on; a's next commit is fenced, and
  // its snapshot with it.
  auto b = MustOpen(root, "b");
  CommitState(*b, "b1", 20, 30, kTp);
  Result<StagedFile> a2 = a->StageState("a2");
  ASSERT_TRUE(a2.ok());
  Result<uint64_t> fenced = a->Commit({{kTp, 20, 25}}, {*a2});
  ASSERT_EQ(fenced.status().code(), StatusCode::kAborted) << fenced.status().ToString();
  ASSERT_TRUE(a->DiscardStaged({*a2}).ok());
  got = a->CommittedState();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::vector<std::string>{"a1"});
}

TEST(CommitLogCrashChild, CommitsUntilKilled) {
  const char* root = std::getenv(kCrashRootEnv);
  if (root == nullptr) GTEST_SKIP() << "run by RecoverAfterACrashAtEveryStepGivesAnExactLake";
  auto log = CommitLog::Open({.root = root, .sync = true, .checkpoint_every = 2}, "crashing");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  for (int i = 0; i < kCrashCommits; ++i) {
    std::vector<StagedFile> files;
    for (const char* part : {"a", "b"}) {
      files.push_back(Stage(root, **log, std::to_string(i) + part + ".parquet"));
    }
    auto seq = (*log)->Commit({{kTp, 10 * i, 10 * i + 10}}, files);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  }
}

// Runs CommitsUntilKilled in a child process with FLOWLAKE_CRASH_AT=`point`
// and returns its wait status.
int RunCrashingChild(const std::string& root, const std::string& point) {
  std::vector<std::string> env_strings = {"FLOWLAKE_CRASH_AT=" + point,
                                          std::string(kCrashRootEnv) + "=" + root};
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("FLOWLAKE_CRASH_AT=")) envp.push_back(*e);
  }
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  char arg0[] = "lake_test";
  char filter[] = "--gtest_filter=CommitLogCrashChild.CommitsUntilKilled";
  char* argv[] = {arg0, filter, nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::execve("/proc/self/exe", argv, envp.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST_F(CommitLogTest, RecoverAfterACrashAtEveryStepGivesAnExactLake) {
  const struct {
    const char* point;  // "" runs to completion
    int committed;      // records that survive the crash
  } cases[] = {
      {"commit.before_record", 0},  {"commit.after_record", 1}, {"commit.mid_publish", 1},
      {"commit.before_record:3", 2}, {"commit.mid_publish:3", 3}, {"checkpoint.written", 2},
      {"checkpoint.written:2", 4},   {"", 4},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.point);
    const std::string root = FreshDir("crash");
    const int status = RunCrashingChild(root, c.point);
    if (*c.point == '\0') {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    } else {
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    }
    auto log = MustOpen(root, "restarted", 2);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Recover().ok());
    const State expected =
        c.committed == 0 ? State{} : State{{kTp, 10 * static_cast<int64_t>(c.committed)}};
    EXPECT_EQ(MustState(*log), expected);
    EXPECT_EQ(CountFiles(root + "/flows"), 2u * c.committed);
    EXPECT_EQ(Names(StagingRoot(root)), (std::vector<std::string>{"restarted", "restarted.lock"}));
    for (const std::string& name : Names(LogDir(root))) EXPECT_NE(name[0], '.') << name;
    // The lake goes on from there.
    auto seq = log->Commit({{kTp, 10 * c.committed, 10 * c.committed + 10}}, {});
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    EXPECT_EQ(seq.value(), static_cast<uint64_t>(c.committed) + 1);
  }
}

}  // namespace
}  // namespace flowlake
