#include "app/analysis_stage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "synth/decoded_traffic.h"

namespace flowlake {
namespace {

namespace fs = std::filesystem;

// Synthetic traffic with labelled attacks, decoded into batches of
// `batch_rows` (the last one shorter).
std::vector<FlowBatch> Traffic(size_t batch_rows) {
  synth::TrafficConfig traffic;
  traffic.seed = 3;
  traffic.attacks = true;
  traffic.flows = 20000;
  traffic.span_ms = 5 * 60000;
  synth::TrafficGenerator generator(traffic);
  synth::DecodedTraffic decoded = synth::DecodeTraffic(generator, batch_rows);
  EXPECT_EQ(decoded.rejected, 0u);
  return std::move(decoded.batches);
}

// Every line of every file under `dir` whose name ends in `suffix`, sorted.
std::vector<std::string> Lines(const fs::path& dir, const std::string& suffix) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || !e.path().string().ends_with(suffix)) continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Events without "detected_at" (wall time), sorted.
std::vector<std::string> EventsWithoutClock(const fs::path& lake) {
  std::vector<std::string> out;
  for (std::string line : Lines(lake / "events", ".json")) {
    const size_t at = line.find(",\"detected_at\":");
    const size_t end = line.find(',', at + 1);
    out.push_back(line.erase(at, end - at));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Submits copies of batches [from, to) to `stage` in order, as seqs
// *seq, *seq + 1, ...; advances *seq.
void SubmitInOrder(AnalysisStage& stage, const std::vector<FlowBatch>& batches, size_t from,
                   size_t to, uint64_t* seq) {
  for (size_t i = from; i < to; ++i) {
    std::unique_ptr<FlowBatch> b = stage.NewBatch();
    b->Clear();
    b->AppendAll(batches[i]);
    stage.Submit((*seq)++, std::move(b));
  }
}

class AnalysisStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::path(::testing::TempDir()) /
            ("analysis_stage_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(base_);
  }

  // A writer config for the lake at `lake` (no fsync: tests).
  static AnalysisWriterConfig WriterConfig(const fs::path& lake) {
    AnalysisWriterConfig wc;
    wc.root = lake.string();
    wc.sync = false;
    return wc;
  }

  // Runs `batches` through a stage: submitted by `threads` threads, each
  // taking every threads-th batch, so they arrive out of order.
  fs::path Analyse(const std::string& name, const std::vector<FlowBatch>& batches,
                   unsigned threads,
                   AnalysisStage::Threading where = AnalysisStage::Threading::kOwnThread) {
    const fs::path lake = base_ / name;
    AnalysisWriter writer(WriterConfig(lake), "analysis-test");
    ManualClock clock(1'800'000'000'000);
    AnalysisConfig config;
    config.max_pending_batches = 4;
    AnalysisStage stage(config, clock, writer, nullptr, where);
    EXPECT_TRUE(stage.Start().ok());
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        std::mt19937 rng(t);
        std::unique_ptr<FlowBatch> reuse;  // as a worker does: Submit()'s batch, if any
        for (size_t i = threads - 1 - t; i < batches.size(); i += threads) {
          std::unique_ptr<FlowBatch> batch = reuse ? std::move(reuse) : stage.NewBatch();
          EXPECT_EQ(batch->num_rows(), 0u);
          batch->AppendAll(batches[i]);
          std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
          reuse = stage.Submit(i, std::move(batch));
        }
      });
    }
    for (std::thread& w : workers) w.join();
    EXPECT_TRUE(stage.Finish(batches.size()).ok());
    EXPECT_GT(stage.stats().events, 0u);
    EXPECT_EQ(stage.stats().rollup_records, Lines(lake / "rollups" / "host_1m", ".json").size());
    return lake;
  }

  fs::path base_;
};

// kSubmitter: the Submit() of the batch due next analyses it, and every
// batch that was waiting behind it, before it returns; a batch that is not
// due waits.
TEST_F(AnalysisStageTest, SubmitOfTheDueBatchAnalysesTheReadyRunBeforeReturning) {
  const std::vector<FlowBatch> batches = Traffic(1000);
  ASSERT_GE(batches.size(), 4u);
  AnalysisWriter writer(WriterConfig(base_ / "lake"), "analysis-test");
  ManualClock clock(1'800'000'000'000);
  AnalysisStage stage(AnalysisConfig{}, clock, writer, nullptr,
                      AnalysisStage::Threading::kSubmitter);
  ASSERT_TRUE(stage.Start().ok());
  const auto copy = [&](size_t i) {
    std::unique_ptr<FlowBatch> b = stage.NewBatch();
    b->Clear();
    b->AppendAll(batches[i]);
    return b;
  };
  EXPECT_EQ(stage.Submit(2, copy(2)), nullptr);
  EXPECT_EQ(stage.Submit(1, copy(1)), nullptr);
  EXPECT_EQ(stage.stats().batches, 0u);
  std::unique_ptr<FlowBatch> back = stage.Submit(0, copy(0));
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->num_rows(), 0u);  // cleared, to decode into
  const AnalysisStats after = stage.stats();
  EXPECT_EQ(after.batches, 3u);
  EXPECT_EQ(after.flows,
            batches[0].num_rows() + batches[1].num_rows() + batches[2].num_rows());
  // Seq 3 is due: analysed at once, its batch comes back.
  back->AppendAll(batches[3]);
  back = stage.Submit(3, std::move(back));
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(stage.stats().batches, 4u);
  EXPECT_TRUE(stage.Finish(4).ok());
}

TEST_F(AnalysisStageTest, ResultsDoNotDependOnThreadsOrBatchSizes) {
  const std::vector<FlowBatch> big = Traffic(1000);
  const std::vector<FlowBatch> small = Traffic(37);
  using enum AnalysisStage::Threading;
  const fs::path one = Analyse("one", big, 1);
  const std::vector<std::string> rollups = Lines(one / "rollups" / "host_1m", ".json");
  ASSERT_GT(rollups.size(), 100u);
  const std::vector<std::string> events = EventsWithoutClock(one);
  ASSERT_GE(events.size(), 9u);
  // On the stage's thread and on the submitting workers alike.
  for (const AnalysisStage::Threading where : {kOwnThread, kSubmitter}) {
    const std::string mode = where == kOwnThread ? "own" : "submitter";
    SCOPED_TRACE(mode);
    const fs::path three = Analyse("three_" + mode, big, 3, where);
    const fs::path small_batches = Analyse("small_" + mode, small, 2, where);
    EXPECT_EQ(Lines(three / "rollups" / "host_1m", ".json"), rollups);
    EXPECT_EQ(Lines(small_batches / "rollups" / "host_1m", ".json"), rollups);
    EXPECT_EQ(EventsWithoutClock(three), events);
    EXPECT_EQ(EventsWithoutClock(small_batches), events);
  }
}

TEST_F(AnalysisStageTest, StateSavedAtADrainContinuesInAnotherStage) {
  const std::vector<FlowBatch> batches = Traffic(500);
  const fs::path whole = Analyse("whole", batches, 1);

  // First half in one stage; its state, taken inside Drain(), merged into a
  // second stage that analyses the rest. Together: the same events, and
  // rollups whose per-host sums are the same.
  const fs::path lake = base_ / "split";
  const AnalysisWriterConfig wc = WriterConfig(lake);
  ManualClock clock(1'800'000'000'000);
  AnalysisConfig config;
  const size_t half = batches.size() / 2;
  std::string state;
  {
    AnalysisWriter writer(wc, "first");
    AnalysisStage stage(config, clock, writer, nullptr);
    ASSERT_TRUE(stage.Start().ok());
    uint64_t seq = 0;
    SubmitInOrder(stage, batches, 0, half, &seq);
    ASSERT_TRUE(stage.Drain(half, [&]() -> Status {
      state = stage.SaveState();
      return writer.Flush();
    }).ok());
  }  // dies without Finish(): its open windows live on only in `state`
  AnalysisWriter writer(wc, "second");
  AnalysisStage stage(config, clock, writer, nullptr);
  ASSERT_TRUE(stage.MergeState(state).ok());
  ASSERT_TRUE(stage.Start().ok());
  uint64_t seq = 0;
  SubmitInOrder(stage, batches, half, batches.size(), &seq);
  ASSERT_TRUE(stage.Finish(seq).ok());
  EXPECT_EQ(Lines(lake / "rollups" / "host_1m", ".json"),
            Lines(whole / "rollups" / "host_1m", ".json"));
  EXPECT_EQ(EventsWithoutClock(lake), EventsWithoutClock(whole));
}

// What `flowlake run` does when a commit is fenced: the outputs since the
// last commit are dropped, the state goes back to that commit's snapshot,
// and the flows since are analysed again. Nothing may count twice.
TEST_F(AnalysisStageTest, RestoreStateAfterAFencedCommitCountsEveryFlowOnce) {
  const std::vector<FlowBatch> batches = Traffic(500);
  const fs::path whole = Analyse("whole", batches, 1);

  const fs::path lake = base_ / "fenced";
  AnalysisWriterConfig wc = WriterConfig(lake);
  wc.staging_dir = "_staging";
  AnalysisWriter writer(wc, "member");
  ManualClock clock(1'800'000'000'000);
  AnalysisStage stage(AnalysisConfig{}, clock, writer, nullptr);
  ASSERT_TRUE(stage.Start().ok());
  uint64_t seq = 0;
  const auto submit = [&](size_t from, size_t to) { SubmitInOrder(stage, batches, from, to, &seq); };
  // A commit: the staged files are published, the state is kept.
  const auto publish = [&] {
    for (const StagedFile& f : writer.TakeStaged()) {
      fs::create_directories((lake / f.final_path).parent_path());
      fs::rename(lake / f.staging_path, lake / f.final_path);
    }
  };
  const size_t committed = batches.size() / 3;
  const size_t fenced = 2 * batches.size() / 3;
  std::string state;
  submit(0, committed);
  ASSERT_TRUE(stage.Drain(seq, [&]() -> Status {
    FLOWLAKE_RETURN_IF_ERROR(writer.Flush());
    publish();
    state = stage.SaveState();
    return Status::Ok();
  }).ok());
  const uint64_t events_committed = stage.stats().events;

  submit(committed, fenced);
  // A bad snapshot is refused and changes nothing, even after a good one.
  std::string before, after;
  ASSERT_EQ(stage.Drain(seq, [&] {
    before = stage.SaveState();
    const Status st = stage.RestoreState({state, "not a snapshot"});
    after = stage.SaveState();
    return st;
  }).code(), StatusCode::kCorruption);
  EXPECT_EQ(after, before);
  EXPECT_NE(before, state);
  ASSERT_GT(stage.stats().events, events_committed) << "events fired in the fenced part";
  ASSERT_TRUE(stage.Drain(seq, [&]() -> Status {
    writer.DiscardAll();
    return stage.RestoreState({state});
  }).ok());
  // Read again from the committed offsets.
  submit(committed, batches.size());
  ASSERT_TRUE(stage.Finish(seq).ok());
  publish();
  EXPECT_EQ(Lines(lake / "rollups" / "host_1m", ".json"),
            Lines(whole / "rollups" / "host_1m", ".json"));
  EXPECT_EQ(EventsWithoutClock(lake), EventsWithoutClock(whole));
}

// The idle tick closes the windows of a stream that stopped, but not of one
// whose flows are still on their way (SetInputInFlight: a slow lake holds
// them in the workers): closing them would make those flows late.
TEST_F(AnalysisStageTest, NoIdleCloseWhileInputIsInFlight) {
  const std::vector<FlowBatch> batches = Traffic(4096);
  AnalysisWriter writer(WriterConfig(base_ / "lake"), "analysis-test");
  ManualClock clock(1'800'000'000'000);
  AnalysisConfig config;
  config.tick_interval_ms = 5;
  AnalysisStage stage(config, clock, writer, nullptr);
  ASSERT_TRUE(stage.Start().ok());
  uint64_t seq = 0;
  SubmitInOrder(stage, batches, 0, 1, &seq);
  ASSERT_TRUE(stage.Drain(seq, [] { return Status::Ok(); }).ok());
  const uint64_t before = stage.outputs();
  const auto wait_ticks = [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); };

  stage.SetInputInFlight(true);
  clock.AdvanceMs(config.rollups.idle_timeout_ms + config.rollups.lateness_ms + 10 * 60000);
  wait_ticks();
  EXPECT_EQ(stage.outputs(), before) << "no window closed while flows are in flight";
  EXPECT_EQ(stage.stats().rollup_records, 0u);

  stage.SetInputInFlight(false);
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    wait_ticks();
    closed = stage.stats().rollup_records > 0;
  }
  EXPECT_TRUE(closed) << "the idle stream's windows close once nothing is in flight";
  EXPECT_TRUE(stage.Finish(seq).ok());
}

TEST_F(AnalysisStageTest, BadStateIsCorruption) {
  AnalysisWriterConfig wc;
  wc.root = (base_ / "bad").string();
  AnalysisWriter writer(wc, "bad");
  ManualClock clock(0);
  AnalysisStage stage(AnalysisConfig{}, clock, writer, nullptr);
  EXPECT_EQ(stage.MergeState("not a snapshot").code(), StatusCode::kCorruption);
  std::string truncated = "flowlake-analysis-1\n";
  truncated += std::string(3, '\0');
  EXPECT_EQ(stage.MergeState(truncated).code(), StatusCode::kCorruption);
}

TEST(AnalysisConfigTest, ValidateNamesTheField) {
  AnalysisConfig c;
  EXPECT_TRUE(c.Validate().ok());
  c.rollups.lateness_ms = -1;
  EXPECT_NE(c.Validate().message().find("lateness_ms"), std::string::npos) << c.Validate().message();
  c = AnalysisConfig{};
  c.detect.local_networks = {"10.0.0.0/99"};
  EXPECT_NE(c.Validate().message().find("local_networks"), std::string::npos);
  c = AnalysisConfig{};
  c.max_pending_batches = 0;
  EXPECT_FALSE(c.Validate().ok());
}

}  // namespace
}  // namespace flowlake
